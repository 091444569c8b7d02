package faceki

import (
	"encoding/json"
	"html"
	"net/url"
	"sort"
	"strings"
	"sync"
)

// Redacted replaces every secret the client knows of.
const Redacted = "[REDACTED]"

// redactor removes secrets from text in every form they can take on the way
// out: raw, query-encoded (as in the token URL), path-encoded, JSON-escaped.
// Tokens are added as they are issued. Adding is cheap (a set insert); the
// replacer is rebuilt only when text is next redacted, which is on error
// paths, so a client that fetches many tokens does not pay per fetch.
type redactor struct {
	mu      sync.Mutex
	secrets map[string]struct{}
	r       *strings.Replacer // nil when secrets changed since it was built
}

func newRedactor(secrets ...string) *redactor {
	rd := &redactor{secrets: map[string]struct{}{}}
	rd.add(secrets...)
	return rd
}

// add registers secrets; empty strings are ignored.
func (rd *redactor) add(secrets ...string) {
	rd.mu.Lock()
	defer rd.mu.Unlock()
	for _, s := range secrets {
		for _, form := range Forms(s) {
			if _, ok := rd.secrets[form]; !ok {
				rd.secrets[form] = struct{}{}
				rd.r = nil
			}
		}
	}
}

func (rd *redactor) redact(s string) string {
	rd.mu.Lock()
	if rd.r == nil && len(rd.secrets) > 0 {
		forms := make([]string, 0, len(rd.secrets))
		for f := range rd.secrets {
			forms = append(forms, f)
		}
		// Longest first, so that an encoded form is replaced whole rather
		// than leaving the tail of a longer match behind.
		sort.Slice(forms, func(i, j int) bool { return len(forms[i]) > len(forms[j]) })
		pairs := make([]string, 0, 2*len(forms))
		for _, f := range forms {
			pairs = append(pairs, f, Redacted)
		}
		rd.r = strings.NewReplacer(pairs...)
	}
	r := rd.r
	rd.mu.Unlock()
	if r == nil {
		return s
	}
	return r.Replace(s)
}

// Forms returns the encodings under which s may appear in a URL, a log line
// or a JSON document. Callers that mask logs elsewhere (the provider's tflog
// masks) use the same list.
func Forms(s string) []string {
	if s == "" {
		return nil
	}
	// QueryEscape with %20 for spaces is JavaScript's encodeURIComponent.
	forms := []string{s, url.QueryEscape(s), url.PathEscape(s), strings.ReplaceAll(url.QueryEscape(s), "+", "%20")}
	if j, err := json.Marshal(s); err == nil { // HTML-escaping form: \u0026 for &
		forms = append(forms, string(j[1:len(j)-1]))
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if enc.Encode(s) == nil {
		j := strings.TrimSpace(b.String())
		forms = append(forms, j[1:len(j)-1])
	}
	// HTML-escaped, as an error page quoting the secret has it (&amp; for &).
	forms = append(forms, html.EscapeString(s))
	// Lower-case percent escapes, as some servers and proxies echo them.
	forms = append(forms, lowerEscapes(url.QueryEscape(s)), lowerEscapes(url.PathEscape(s)))
	out := forms[:0]
	seen := map[string]bool{}
	for _, f := range forms {
		if f != "" && !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out
}

// RedactAll removes every form of the given secrets from text, for callers
// that must quote input before a client exists (e.g. an invalid base_url).
func RedactAll(text string, secrets ...string) string {
	return newRedactor(secrets...).redact(text)
}

func lowerEscapes(s string) string {
	b := []byte(s)
	for i := 0; i+2 < len(b); i++ {
		if b[i] == '%' {
			b[i+1] = toLowerHex(b[i+1])
			b[i+2] = toLowerHex(b[i+2])
		}
	}
	return string(b)
}

func toLowerHex(c byte) byte {
	if c >= 'A' && c <= 'F' {
		return c + ('a' - 'A')
	}
	return c
}

// redactURL renders u without user info, query or fragment, so that no
// caller can print the secret by printing the URL.
func redactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	c.User, c.RawQuery, c.ForceQuery, c.Fragment, c.RawFragment = nil, "", false, "", ""
	return c.String()
}
