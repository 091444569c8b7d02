// Package redact removes secrets and tokens from text before it leaves a
// process: errors, diagnostics, log lines, values written to state.
//
// It decodes rather than lists encodings, and ignores what a reader would
// ignore. A span of text is replaced whole when, read through up to four
// layers of percent-encoding (%XX in either case, "+" as a space, %uXXXX),
// HTML character references (named, decimal and hex, with any number of
// leading zeros), and JSON and C string escapes (\uXXXX, \xXX), in any
// mixture and whatever the letter case, it holds a run of a registered
// secret (8 characters, or the whole secret when shorter) or token (16
// characters), even with characters that do not render inserted in it (soft
// hyphen, zero-width space and joiners, word joiner, BOM), raw or escaped. A
// secret's Base64 and Base64url forms are matched too.
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
	r.addRun(secret, secretMinRun)
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
	r.addRun(token, tokenMinRun)
}

// addRun adds text without the characters that do not render (the text
// they are skipped in is matched against it), runs of minRun or all of it.
func (r *Redactor) addRun(text string, minRun int) {
	text = stripInvisible(text)
	if text != "" {
		r.add(text, min(minRun, len(text)))
	}
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

// byteClass tells the bytes that stop the plain-text loop of from apart
// with one lookup.
var byteClass = [256]uint8{'%': escapeStart, '&': escapeStart, '\\': escapeStart, 0xc2: invisibleLead, 0xe2: invisibleLead, 0xef: invisibleLead}

const (
	escapeStart = 1 + iota
	invisibleLead
)

// walker searches the decodings of text for runs of the patterns.
type walker struct {
	m           *matcher
	d           *decoder
	stack, seen []node
	ends        []int // invisibleTail's
}

// node is a place in the search: a position in the text, the automaton's
// state there, and how many decoded bytes led to it.
type node struct{ pos, state, length int }

// from returns the furthest end of a leaking run that starts at p, or -1.
// Characters that do not render are skipped: they change neither the
// automaton's state nor the length of the run.
func (w *walker) from(p int) int {
	m, text := w.m, w.d.text
	// Plain text, the common case: follow raw bytes until an escape.
	s, end, q, n := int32(0), -1, p, 0
	for ; q < len(text); q++ {
		c := text[q]
		if class := byteClass[c]; class == escapeStart {
			break
		} else if class == invisibleLead {
			k, tail := rawInvisible(text, q)
			if k > 0 {
				q += k - 1
				continue
			}
			if tail {
				break // its last bytes are escaped: walk reads them
			}
		}
		if s = m.next(s, c); s < 0 {
			return end
		}
		if n++; n >= int(m.minRun[s]) {
			end = q + 1
			if n >= m.maxRun {
				return end
			}
		}
	}
	if q == len(text) {
		return end
	}
	return w.walk(node{q, int(s), n}, end)
}

// walk goes on from start through every decoding of the escapes met, and
// returns the furthest end of a leaking run, or end.
func (w *walker) walk(start node, end int) int {
	m, text := w.m, w.d.text
	w.stack, w.seen = append(w.stack[:0], start), w.seen[:0]
	for len(w.stack) > 0 && w.d.budget > 0 {
		n := w.stack[len(w.stack)-1]
		w.stack = w.stack[:len(w.stack)-1]
		w.d.budget--
		us := []unit{byteUnit(text[n.pos], n.pos+1)}
		if isEscapeStart(text[n.pos]) {
			us = w.d.escapeUnits(n.pos, maxDepth)
		}
		for _, u := range us {
			if u.b[0] >= 0xc2 { // a character that does not render, or its first byte
				if u.invisible() {
					w.push(node{u.end, n.state, n.length})
					continue
				}
				if u.n == 1 && isInvisibleLead(u.b[0]) {
					w.ends = w.d.invisibleTail(u.b[0], u.end, w.ends[:0])
					for _, e := range w.ends {
						w.push(node{e, n.state, n.length})
					}
				}
			}
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
			if next.length < m.maxRun {
				w.push(next)
			}
		}
	}
	return end
}

// push adds a place to search from, once.
func (w *walker) push(n node) {
	if n.pos >= len(w.d.text) || slices.Contains(w.seen, n) {
		return
	}
	w.seen = append(w.seen, n)
	w.stack = append(w.stack, n)
}
