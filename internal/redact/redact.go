// Package redact removes secrets and tokens from text before it leaves a
// process: errors, diagnostics, log lines, values written to state.
//
// It decodes rather than lists encodings. A span of text is replaced whole
// when, read through up to four layers of percent-encoding (either case, "+"
// as a space), HTML character references (named, decimal, hex) and JSON
// string escapes, in any mixture, it holds a run of a registered secret
// (8 characters, or the whole secret when shorter) or token (16
// characters). A secret's Base64 and Base64url forms are matched too.
//
// Work is bounded per byte of text; text too costly to check is withheld
// whole (it fails closed). It knows nothing of what it protects: which parts
// of a token are secret, or that a URL's query carries a credential, is the
// caller's to say.
package redact

import (
	"encoding/base64"
	"slices"
	"strings"
	"sync"
)

// Redacted replaces every span of text that decodes to a secret or a token.
const Redacted = "[REDACTED]"

// Withheld replaces a whole text that was too costly to check (pathological
// nesting of escapes): the redactor fails closed.
const Withheld = "[REDACTED: text withheld, too costly to check for secrets]"

// Shortest runs that count as a leak: a truncated echo is still a leak.
const (
	secretMinRun = 8  // characters of a client secret
	tokenMinRun  = 16 // characters of a token's JWT payload or signature
)

// Redactor removes registered secrets and tokens from text (see the package
// comment for what it reads through).
//
// One Redactor is meant to serve a whole process: every client adds its
// secret and every token it fetches, so that any of them recognises them
// all. It is safe for concurrent use; adding is cheap, and the matcher is
// rebuilt only when text is next redacted.
type Redactor struct {
	mu       sync.Mutex
	patterns map[string]int // pattern text → shortest leaking run
	a        *automaton     // every pattern so far
	m        *matcher       // a's snapshot; nil when a changed since
	budget   int            // decoding work per byte of text (decodeBudget; tests lower it)
}

// New returns a redactor that knows no secret yet.
func New() *Redactor {
	return &Redactor{patterns: map[string]int{}, a: newAutomaton(), budget: decodeBudget}
}

// AddSecret registers a client secret, and its Base64 and Base64url forms
// at every alignment (a Basic credential, a blob), unless it is too short
// for them to be told from words.
func (r *Redactor) AddSecret(secret string) {
	if secret == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.add(secret, min(secretMinRun, len(secret)))
	if len(secret) < secretMinRun {
		return
	}
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		for align := 0; align < 3; align++ {
			r.add(base64Core(enc, secret, align), base64Run(secretMinRun))
		}
	}
}

// AddToken registers the secret part of an access token: the caller decides
// which part that is (a JWT's header, the same for every token an issuer
// hands out, need not be). Runs of 16 characters of it are leaks. (Tokens
// are not matched in Base64: a process may fetch many, and each would add
// six patterns of a kilobyte to the matcher.)
func (r *Redactor) AddToken(token string) {
	if token == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.add(token, min(tokenMinRun, len(token)))
}

func (r *Redactor) add(text string, minRun int) {
	if old, ok := r.patterns[text]; ok && old <= minRun {
		return
	}
	r.patterns[text] = minRun
	r.a.add(pattern{text: text, minRun: minRun})
	r.m = nil
}

// Redact returns text with every span that decodes to a run of a registered
// secret or token replaced by Redacted, or Withheld when text is too costly
// to check.
func (r *Redactor) Redact(text string) string {
	if text == "" {
		return text
	}
	m := r.matcher()
	if m == nil {
		return text
	}
	spans, ok := m.leaks(text, r.budget)
	if !ok {
		return Withheld
	}
	if len(spans) == 0 {
		return text
	}
	var b strings.Builder
	last := 0
	for _, s := range spans {
		b.WriteString(text[last:s.start])
		b.WriteString(Redacted)
		last = s.end
	}
	b.WriteString(text[last:])
	return b.String()
}

// matcher returns a snapshot of the patterns to match with, nil when there
// are none. Snapshots are immutable, so redactions run outside the lock.
func (r *Redactor) matcher() *matcher {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil && len(r.patterns) > 0 {
		r.m = r.a.freeze()
	}
	return r.m
}

// base64Core is the part of the encoding of secret that does not depend on
// the bytes around it, when it starts align bytes into a 3-byte group: the
// characters whose 6 bits all come from the secret.
func base64Core(enc *base64.Encoding, secret string, align int) string {
	buf := make([]byte, align+len(secret))
	copy(buf[align:], secret)
	s := enc.EncodeToString(buf)
	first := (8*align + 5) / 6
	last := 8 * (align + len(secret)) / 6 // exclusive
	return s[first:last]
}

// base64Run is the shortest Base64 run that carries n bytes, whatever
// their alignment: the fewest characters whose 6 bits all come from them.
func base64Run(n int) int {
	run := n * 2
	for align := 0; align < 3; align++ {
		run = min(run, 8*(align+n)/6-(8*align+5)/6)
	}
	return run
}

type span struct{ start, end int }

// leaks returns the spans of text that decode to a leaking run, merged and
// in order. ok is false when the text is too costly to check.
//
// From every position it walks the tree of decodings (decoder) through the
// automaton until the run read is as long as the longest minimum, keeping
// the furthest end of a run that leaks. Overlapping windows then cover a
// longer run whole.
func (m *matcher) leaks(text string, budget int) (spans []span, ok bool) {
	w := walker{m: m, d: newDecoder(text, budget)}
	for p := 0; p < len(text); p++ {
		end := w.from(p)
		if w.d.budget <= 0 {
			return nil, false
		}
		switch {
		case end < 0:
		case len(spans) > 0 && p <= spans[len(spans)-1].end:
			spans[len(spans)-1].end = max(spans[len(spans)-1].end, end)
		default:
			spans = append(spans, span{p, end})
		}
	}
	return spans, true
}

// walker searches the decodings of text for runs of the patterns.
type walker struct {
	m           *matcher
	d           *decoder
	stack, seen []node
}

// node is a place in the search: a position in the text, the automaton's
// state there, and how many decoded bytes led to it.
type node struct{ pos, state, length int }

// from returns the furthest end of a leaking run that starts at p, or -1.
func (w *walker) from(p int) int {
	m, text := w.m, w.d.text
	// Plain text, the common case: follow raw bytes until an escape.
	s, end, q := int32(0), -1, p
	for ; q < len(text) && !isEscapeStart(text[q]); q++ {
		if s = m.next(s, text[q]); s < 0 {
			return end
		}
		if n := q + 1 - p; n >= int(m.minRun[s]) {
			end = q + 1
			if n >= m.maxRun {
				return end
			}
		}
	}
	if q == len(text) {
		return end
	}
	// Escapes: walk every decoding.
	w.stack, w.seen = append(w.stack[:0], node{q, int(s), q - p}), w.seen[:0]
	for len(w.stack) > 0 && w.d.budget > 0 {
		n := w.stack[len(w.stack)-1]
		w.stack = w.stack[:len(w.stack)-1]
		w.d.budget--
		us := []unit{byteUnit(text[n.pos], n.pos+1)}
		if isEscapeStart(text[n.pos]) {
			us = w.d.escapeUnits(n.pos, maxDepth)
		}
		for _, u := range us {
			s := int32(n.state)
			for i := 0; i < int(u.n) && s >= 0; i++ {
				s = m.next(s, u.b[i])
			}
			if s < 0 {
				continue
			}
			next := node{u.end, int(s), n.length + int(u.n)}
			if next.length >= int(m.minRun[s]) {
				end = max(end, u.end)
			}
			if next.length >= m.maxRun || u.end >= len(text) || slices.Contains(w.seen, next) {
				continue
			}
			w.seen = append(w.seen, next)
			w.stack = append(w.stack, next)
		}
	}
	return end
}
