// Package leakcheck finds secrets and tokens in text by encoding them
// forward, every run of them in every single encoding that a server, a
// proxy, a log or a CLI may use, also when a reader would see through what
// was done to it: letter case changed, or characters that do not render
// inserted (text and runs are both folded: lower case, without those
// characters in any of the encodings). It shares no code with the
// provider's gate (internal/gate, which decodes), so that tests can use it
// as an independent oracle.
package leakcheck

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"html"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
)

// Shortest runs that count as a leak, as the provider promises.
const (
	SecretRun = 8  // characters of a client secret
	TokenRun  = 16 // characters of a token's JWT payload or signature
)

// Encoding is one way a string may be written.
type Encoding struct {
	Name   string
	Encode func(string) string
}

// Encodings are the single encodings checked, each applied to a whole run.
// (Base64 is checked apart: its characters depend on the bytes around a run.)
var Encodings = []Encoding{
	{"raw", func(s string) string { return s }},
	{"query", url.QueryEscape},
	{"path", url.PathEscape},
	{"encodeURIComponent", func(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }},
	{"query, lower-case hex", func(s string) string { return lowerHex(url.QueryEscape(s)) }},
	{"path, lower-case hex", func(s string) string { return lowerHex(url.PathEscape(s)) }},
	{"percent, every byte", func(s string) string { return everyByte(s, "%%%02X") }},
	{"percent, every byte, lower-case hex", func(s string) string { return everyByte(s, "%%%02x") }},
	{"HTML escape", html.EscapeString},
	{"HTML decimal references", func(s string) string { return everyRune(s, "&#%d;") }},
	{"HTML hex references", func(s string) string { return everyRune(s, "&#x%x;") }},
	{"HTML hex references, upper case", func(s string) string { return everyRune(s, "&#X%X;") }},
	{"JSON", func(s string) string { b, _ := json.Marshal(s); return string(b[1 : len(b)-1]) }},
	{"JSON without HTML escaping", jsonNoHTML},
	{"JSON with escaped slashes", func(s string) string { return strings.ReplaceAll(jsonNoHTML(s), "/", `\/`) }},
	{`JSON \u escapes`, func(s string) string { return everyUTF16(s, `\u%04x`) }},
	{"Go quoted", func(s string) string { q := strconv.Quote(s); return q[1 : len(q)-1] }},
	// Two layers that servers are known to add: a gateway quoting a request
	// URI in a returnUrl, an error page quoting a query as references.
	{"query, twice", func(s string) string { return url.QueryEscape(url.QueryEscape(s)) }},
	{"HTML decimal references of the query", func(s string) string { return everyRune(url.QueryEscape(s), "&#%d;") }},
	// Escapes that languages and gateways write, and references padded as
	// some generators pad them.
	{`C/JavaScript \x escapes`, func(s string) string { return everyByte(s, `\x%02x`) }},
	{"JavaScript escape() %u escapes", func(s string) string { return everyUTF16(s, "%%u%04X") }},
	{"HTML decimal references with leading zeros", func(s string) string { return everyRune(s, "&#%07d;") }},
	// Escapes of C, shells, ES6 and Python.
	{`C octal escapes`, func(s string) string { return everyByte(s, `\%03o`) }},
	{`ES6 \u{…} escapes`, func(s string) string { return everyRune(s, `\u{%x}`) }},
	{`Python \U escapes`, func(s string) string { return everyRune(s, `\U%08x`) }},
}

// Invisible are characters that do not render: a run with them inserted is
// still the run to a reader. Soft hyphen, zero-width space, non-joiner and
// joiner, word joiner, BOM; the left-to-right mark, invisible times,
// combining grapheme joiner, Mongolian vowel separator, left-to-right
// isolate and a tag character; NUL (UTF-16 text has one after each ASCII
// character), a C1 control, and ESC (with ANSI, below).
var Invisible = []rune{'\u00ad', '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff',
	'\u200e', '\u2062', '\u034f', '\u180e', '\u2066', '\U000e0041', 0, '\u0085'}

// ANSI are escape sequences a terminal does not print: colour codes.
var ANSI = []string{"\x1b[0m", "\x1b[1;31m", "\x1b[K"}

// Standard are the encodings the provider promises to see through: all of
// Encodings but C's octal escapes.
var Standard = slices.DeleteFunc(slices.Clone(Encodings), func(e Encoding) bool { return e.Name == "C octal escapes" })

// unseen removes every encoding in encs of an invisible character or ANSI
// sequence from folded text: each single encoding of each, and HTML names.
func unseen(encs []Encoding) *strings.Replacer {
	var pairs []string
	hidden := ANSI
	for _, r := range Invisible {
		hidden = append(hidden, string(r))
	}
	seen := map[string]bool{"": true}
	for _, h := range hidden {
		for _, e := range encs {
			if enc := strings.ToLower(e.Encode(h)); !seen[enc] {
				seen[enc] = true
				pairs = append(pairs, enc, "")
			}
		}
	}
	for _, name := range []string{"&shy;", "&zerowidthspace;", "&zwnj;", "&zwj;", "&nobreak;", "&lrm;", "&it;", "&invisibletimes;"} {
		pairs = append(pairs, name, "")
	}
	return strings.NewReplacer(pairs...)
}

// encodingSet is a list of encodings to look in, and its unseen replacer.
type encodingSet struct {
	list   []Encoding
	unseen *strings.Replacer
}

var allEncodings, standardEncodings = encodingSet{Encodings, unseen(Encodings)}, encodingSet{Standard, unseen(Standard)}

// fold is what a reader sees: ASCII lower case, without invisible characters
// in any encoding that unseen removes.
func fold(s string, unseen *strings.Replacer) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	// An escaped backslash is read first, as every reader of these escapes
	// reads it: in "\\\\u200b" nothing is invisible.
	s = strings.ReplaceAll(string(b), `\\`, "\ue000")
	s = unseen.Replace(s)
	return strings.ReplaceAll(s, "\ue000", `\\`)
}

func jsonNoHTML(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	j := strings.TrimSpace(b.String())
	return j[1 : len(j)-1]
}

func lowerHex(s string) string {
	b := []byte(s)
	for i := 0; i+2 < len(b); i++ {
		if b[i] == '%' {
			b[i+1], b[i+2] = lower(b[i+1]), lower(b[i+2])
		}
	}
	return string(b)
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'F' {
		return c + 'a' - 'A'
	}
	return c
}

func everyByte(s, format string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		fmt.Fprintf(&b, format, s[i])
	}
	return b.String()
}

func everyRune(s, format string) string {
	var b strings.Builder
	for _, r := range s {
		fmt.Fprintf(&b, format, r)
	}
	return b.String()
}

// everyUTF16 writes each UTF-16 code unit of s in format: a character
// beyond the BMP as a surrogate pair, as JSON and escape() do.
func everyUTF16(s, format string) string {
	var b strings.Builder
	for _, u := range utf16.Encode([]rune(s)) {
		fmt.Fprintf(&b, format, u)
	}
	return b.String()
}

// Base64Core is the part of the Base64 encoding of s that depends on s
// alone, when s starts align bytes into a 3-byte group.
func Base64Core(enc *base64.Encoding, s string, align int) string {
	buf := make([]byte, align+len(s))
	copy(buf[align:], s)
	full := enc.EncodeToString(buf)
	first := (8*align + 5) / 6
	last := 8 * (align + len(s)) / 6
	return full[first:last]
}

// TokenSecret is the part of a token that is secret: a JWT's payload and
// signature (its header is the same for every token), else all of it.
func TokenSecret(token string) string {
	if parts := strings.Split(token, "."); len(parts) == 3 && parts[0] != "" && parts[1] != "" {
		return parts[1] + "." + parts[2]
	}
	return token
}

// FindSecret reports where text holds a run of SecretRun characters of
// secret in any encoding, Base64 included, without quoting it.
func FindSecret(text, secret string) []string {
	return find(text, secret, SecretRun, true, nil, allEncodings)
}

// FindSecretBut is FindSecret for runs of the secret that no public text
// holds (a client ID may share a prefix with its secret, and is no secret).
func FindSecretBut(text, secret string, public ...string) []string {
	return find(text, secret, SecretRun, true, public, allEncodings)
}

// FindStandard is FindSecretBut in the Standard encodings only, and with
// the same rule for public text.
func FindStandard(text, secret string, public ...string) []string {
	return find(text, secret, SecretRun, true, public, standardEncodings)
}

// FindToken reports where text holds a run of TokenRun characters of the
// token's secret part in any encoding but Base64 (the provider promises
// Base64 for secrets only), without quoting it.
func FindToken(text, token string) []string {
	return find(text, TokenSecret(token), TokenRun, false, nil, allEncodings)
}

// FindTokenStandard is FindToken in the Standard encodings only.
func FindTokenStandard(text, token string) []string {
	return find(text, TokenSecret(token), TokenRun, false, nil, standardEncodings)
}

// needle is one encoded run: run i of the secret in encoding enc (-1 for
// Base64 at alignment align). Its first 8 bytes index it.
type needle struct {
	text, name      string
	run, enc, align int
}

func (nd needle) String() string {
	if nd.enc < 0 {
		return fmt.Sprintf("run %d in Base64 at alignment %d", nd.run, nd.align)
	}
	return fmt.Sprintf("run %d in %s", nd.run, nd.name)
}

func find(text, secret string, n int, withBase64 bool, public []string, encs encodingSet) []string {
	if secret == "" {
		return nil
	}
	index := map[uint64][]needle{}
	var short []needle // needles under 8 bytes: a secret shorter than that
	add := func(nd needle) {
		if len(nd.text) < 8 {
			short = append(short, nd)
			return
		}
		k := binary.LittleEndian.Uint64([]byte(nd.text[:8]))
		index[k] = append(index[k], nd)
	}
	runes := []rune(secret)
	n = min(n, len(runes))
	for e, enc := range encs.list {
		// Every encoding here works character by character: encode each one
		// once, and take each run as a slice of the whole.
		var full strings.Builder
		offsets := make([]int, 0, len(runes)+1)
		for _, r := range runes {
			offsets = append(offsets, full.Len())
			full.WriteString(enc.Encode(string(r)))
		}
		offsets = append(offsets, full.Len())
		all := full.String()
		for i := 0; i+n <= len(runes); i++ {
			if !isPublic(string(runes[i:i+n]), public) {
				add(needle{text: all[offsets[i]:offsets[i+n]], name: enc.Name, run: i, enc: e})
			}
		}
	}
	if withBase64 && len(secret) >= SecretRun {
		for i := 0; i+n <= len(runes); i++ {
			run := string(runes[i : i+n])
			for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
				for align := 0; align < 3; align++ {
					add(needle{text: Base64Core(enc, run, align), run: i, enc: -1, align: align})
				}
			}
		}
	}
	// Every needle is looked for as it is in the text, and folded in the
	// folded text.
	// A needle that folding shortens (a secret whose own text encodes a
	// character that does not render, "%00") is looked for as it is only:
	// folded, it would match text that does not hold it.
	exact, exactShort := index, short
	index, short = map[uint64][]needle{}, nil
	foldIn := func(nd needle) {
		if folded := fold(nd.text, encs.unseen); folded == strings.ToLower(nd.text) {
			nd.text = folded
			add(nd)
		}
	}
	for _, nds := range exact {
		for _, nd := range nds {
			foldIn(nd)
		}
	}
	for _, nd := range exactShort {
		foldIn(nd)
	}
	folded, foldedShort := index, short

	seen := map[needle]bool{}
	var found []string
	report := func(nd needle) {
		nd.text = ""
		if !seen[nd] && len(seen) < maxReported {
			found = append(found, nd.String())
		}
		seen[nd] = true
	}
	search := func(text string, index map[uint64][]needle, short []needle) {
		for i := 0; i+8 <= len(text); i++ {
			for _, nd := range index[binary.LittleEndian.Uint64([]byte(text[i:i+8]))] {
				if strings.HasPrefix(text[i:], nd.text) {
					report(nd)
				}
			}
		}
		for _, nd := range short {
			if nd.text != "" && strings.Contains(text, nd.text) {
				report(nd)
			}
		}
	}
	search(text, exact, exactShort)
	search(fold(text, encs.unseen), folded, foldedShort)
	if len(seen) > len(found) {
		found = append(found, fmt.Sprintf("and %d more", len(seen)-len(found)))
	}
	return found
}

// isPublic reports a run that a public text holds, in any letter case.
func isPublic(run string, public []string) bool {
	for _, p := range public {
		if strings.Contains(strings.ToLower(p), strings.ToLower(run)) {
			return true
		}
	}
	return false
}

// maxReported keeps a report readable: a whole leaked token has hundreds of runs.
const maxReported = 5
