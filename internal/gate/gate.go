// Package gate is the one way text from outside the provider leaves it.
//
// Outside text is anything the provider did not write itself: what a server
// answered (a message, an error page, a header), what a library or the
// operating system says in an error, a value from the configuration or the
// environment. Such text may repeat a client secret or an access token,
// because the secret travels in a URL's query and a token in a header, and
// whatever handles a request may echo it.
//
// What it promises: a text that repeats a registered secret or token is
// withheld whole, never shown in part. "Repeats" means that, with the
// characters that do not render removed and up to Layers layers of standard
// escapes decoded (percent-encoding, HTML character references, and the
// JSON and JavaScript string escapes \uXXXX, \xXX, \" and the like), and in
// any letter case, the text holds 8 consecutive characters of a secret or
// of its Base64 or Base64url form, or 16 of a token's secret part, that the
// public text (a client ID) does not also hold. A text longer than MaxLen is
// withheld unread. Each check is a fixed number of linear passes.
//
// Against whom: an honest party that echoes a request by accident, such as
// a proxy, a web application firewall or an API quoting what it was sent,
// possibly upper-cased, cut short or encoded once or twice on the way.
//
// What it does not attempt: to find a secret written by someone who set out
// to hide it (in an encoding not listed above, spelled backwards, split
// across fields). Only a party that already holds the secret can write it
// that way.
package gate

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"slices"
	"sync"
	"unicode/utf8"
)

const (
	// SecretRun and TokenRun are the shortest runs that count as a repeat:
	// a secret shorter than SecretRun counts only whole.
	SecretRun = 8
	TokenRun  = 16
	// MaxLen is the longest text read: the most the client reads of an
	// answer.
	MaxLen = 1 << 20
	// MaxQuote is the most of a text Quote shows, in characters.
	MaxQuote = 200
	// Layers is how many layers of escapes are decoded.
	Layers = 4
)

// kind is what a run belongs to, as the withheld note names it.
type kind uint8

const (
	none kind = iota
	secret
	token
)

func (k kind) String() string {
	return [...]string{none: "nothing", secret: "the client secret", token: "an access token"}[k]
}

// Gate holds the secrets, tokens and public text of one process. It is safe
// for concurrent use.
type Gate struct {
	mu      sync.RWMutex // held to read m, and to add
	secrets []string
	tokens  []string
	public  []string
	m       *matcher
}

// New returns a gate that knows nothing yet: it lets every text through.
func New() *Gate { return &Gate{m: build(nil, nil, nil)} }

// AddSecret registers a secret, such as a client secret.
func (g *Gate) AddSecret(s string) { g.add(&g.secrets, s) }

// AddToken registers the secret part of an access token: the caller knows
// which part that is (a JWT's header is the same for every token, so it is
// not). It costs the length of the part, however many tokens came before.
func (g *Gate) AddToken(part string) { g.add(&g.tokens, part) }

// AddPublic registers text that anyone may read, such as a client ID: a run
// of a secret that it also holds is no repeat. Text that holds a whole
// secret is not public.
func (g *Gate) AddPublic(s string) { g.add(&g.public, s) }

// add registers s in list. A token's runs join the matcher; a secret or
// public text, which can change what counts as cover, rebuilds it.
func (g *Gate) add(list *[]string, s string) {
	if s == "" {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if slices.Contains(*list, s) {
		return
	}
	*list = append(*list, s)
	if list == &g.tokens {
		g.m.addRuns(s, TokenRun, token)
	} else {
		g.m = build(g.secrets, g.tokens, g.public)
	}
}

// Pass returns text when it repeats no registered secret or token, and
// otherwise a note that says how long it was and what it repeated. It is
// for values that are kept whole, such as those written to state.
func (g *Gate) Pass(text string) string {
	if len(text) > MaxLen {
		return fmt.Sprintf("[withheld: %d bytes, more than the %d read]", len(text), MaxLen)
	}
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.m.withhold(text, text)
}

// Quote is Pass for text shown in an error or a log line: at most MaxQuote
// characters of it, with "…" when it was cut. A cut can leave an escape half
// written, so the part shown is held to the rule too.
func (g *Gate) Quote(text string) string {
	end, n := 0, 0
	for ; end < len(text) && n < MaxQuote; n++ {
		_, size := utf8.DecodeRuneInString(text[end:])
		end += size
	}
	if end == len(text) || len(text) > MaxLen {
		return g.Pass(text)
	}
	g.mu.RLock()
	defer g.mu.RUnlock()
	if passed := g.m.withhold(text, text); passed != text {
		return passed
	}
	return g.m.withhold(text, text[:end]) + "…"
}

// Err is Quote of an error's text, "" for nil.
func (g *Gate) Err(err error) string {
	if err == nil {
		return ""
	}
	return g.Quote(err.Error())
}

// matcher holds every run to look for, folded (see fold): 8 bytes as one
// number, 16 as two, and texts shorter than their run whole; and the runs
// of public text, which are no repeat. A bit per hash of a run's first 8
// bytes spares most positions a map lookup.
type matcher struct {
	runs8    map[uint64]kind
	runs16   map[[2]uint64]kind
	whole    map[string]kind
	bits     []uint64
	public8  map[uint64]bool
	public16 map[[2]uint64]bool
}

const hashBits = 20

func build(secrets, tokens, public []string) *matcher {
	m := &matcher{runs8: map[uint64]kind{}, runs16: map[[2]uint64]kind{}, whole: map[string]kind{}, bits: make([]uint64, 1<<hashBits/64),
		public8: map[uint64]bool{}, public16: map[[2]uint64]bool{}}
	for _, p := range public {
		v := view(p)
		if slices.ContainsFunc(secrets, func(s string) bool { return bytes.Contains(v, view(s)) }) {
			continue // holds a whole secret: no cover
		}
		for i := 0; i+8 <= len(v); i++ {
			m.public8[le(v, i)] = true
			if i+16 <= len(v) {
				m.public16[[2]uint64{le(v, i), le(v, i+8)}] = true
			}
		}
	}
	for _, s := range secrets {
		m.addRuns(s, SecretRun, secret)
		if len(s) >= SecretRun {
			for _, f := range base64Forms(s) {
				m.addRuns(f, SecretRun, secret)
			}
		}
		// With its own escapes decoded: a layer that decodes an echo
		// decodes those too.
		for b, changed, layer := []byte(s), true, 0; changed && layer < Layers; layer++ {
			if b, changed = decode(visible(b)); changed {
				m.addRuns(string(b), SecretRun, secret)
			}
		}
	}
	for _, t := range tokens {
		m.addRuns(t, TokenRun, token)
	}
	return m
}

func (m *matcher) addRuns(s string, n int, k kind) {
	v := view(s)
	if len(v) < n {
		if len(v) > 0 {
			m.whole[string(v)] = k
		}
		return
	}
	for i := 0; i+n <= len(v); i++ {
		x := le(v, i)
		switch {
		case n == SecretRun && !m.public8[x]:
			m.runs8[x] = k
		case n == TokenRun && !m.public16[[2]uint64{x, le(v, i+8)}]:
			m.runs16[[2]uint64{x, le(v, i+8)}] = k
		default:
			continue
		}
		h := hash(x)
		m.bits[h/64] |= 1 << (h % 64)
	}
}

// withhold returns shown, or the note that withholds text when shown
// repeats a run: read as it is, then decoded layer by layer.
func (m *matcher) withhold(text, shown string) string {
	b := []byte(shown)
	v := make([]byte, 0, len(b))
	for layer := 0; len(m.runs8)+len(m.runs16)+len(m.whole) > 0; layer++ {
		b = visible(b)
		v = fold(v[:0], b)
		if k := m.scan(v); k != none {
			return fmt.Sprintf("[withheld: %d bytes that repeat %s]", len(text), k)
		}
		changed := false
		if layer == Layers {
			break
		}
		if b, changed = decode(b); !changed {
			break
		}
	}
	return shown
}

func (m *matcher) scan(v []byte) kind {
	for i := 0; i+8 <= len(v); i++ {
		x := le(v, i)
		if h := hash(x); m.bits[h/64]&(1<<(h%64)) == 0 {
			continue
		}
		if k := m.runs8[x]; k != none {
			return k
		}
		if i+16 <= len(v) {
			if k := m.runs16[[2]uint64{x, le(v, i+8)}]; k != none {
				return k
			}
		}
	}
	for w, k := range m.whole {
		if bytes.Contains(v, []byte(w)) {
			return k
		}
	}
	return none
}

// le reads 8 bytes of b from i as a number, and hash spreads it.
func le(b []byte, i int) uint64 { return binary.LittleEndian.Uint64(b[i:]) }
func hash(x uint64) uint64      { return x * 0x9e3779b97f4a7c15 >> (64 - hashBits) }

// view is s as runs are compared: what renders, folded.
func view(s string) []byte { return fold(nil, visible([]byte(s))) }

// fold appends b to dst with ASCII letters in lower case and a space read
// as "+", so that a run matches whatever the letter case, and a query's "+"
// matches the space it stands for.
func fold(dst, b []byte) []byte {
	for _, c := range b {
		switch {
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		case c == ' ':
			c = '+'
		}
		dst = append(dst, c)
	}
	return dst
}

// base64Forms is the part of a secret's Base64 and Base64url encodings that
// does not depend on the bytes around it, at each of the three positions
// it can start at in a 3-byte group.
func base64Forms(s string) []string {
	var forms []string
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		for align := 0; align < 3; align++ {
			e := enc.EncodeToString(append(make([]byte, align), s...))
			forms = append(forms, e[(8*align+5)/6:8*(align+len(s))/6])
		}
	}
	return forms
}
