// Package redact removes secrets and tokens from text before it leaves a
// process: errors, diagnostics, log lines, values written to state.
//
// It decodes rather than lists encodings, and ignores what a reader would
// ignore. A span of text is replaced whole when, read through up to Layers
// layers of escapes, it holds a window of a registered secret (8 characters,
// or the whole secret when shorter) or token (16 characters) that no public
// text (a client ID) holds, whatever the letter case, and whatever
// characters that do not render are inserted in it, raw or escaped. The
// escapes are percent-encoding (%XX, %uXXXX), HTML character references
// (numeric with up to 32 leading zeros, and the named ones a secret or an
// invisible character can be), and the string escapes of JSON, C,
// JavaScript, Python and Go (\uXXXX, \u{X}, \UXXXXXXXX, \xXX, octal, \n,
// \"), in any mixture. The characters that do not render are every Unicode
// default-ignorable and format character, the C0 and C1 controls but tab
// and newline, and ANSI escape sequences. A secret's Base64 and Base64url
// forms are matched too.
//
// The cost is linear in the text, by construction. Each layer is one pass
// that decodes every escape it can from the layer before and keeps, for
// each byte, where its encoding starts in the input; a suffix automaton of
// every secret and token reads the first layer whole and each later one
// only where its pass changed something, and so each layer's skip view
// (its escapes of invisible characters skipped; where such an escape reads
// two ways, "\u00000600", a second skip view reads the other) and a second
// chain of layers that drops those escapes before decoding; a window found
// in any of them redacts the span of the input it came from. Layers stop at
// a fixed point. Memory is a small multiple of the text (under 14 bytes a byte),
// and text longer than MaxLen is withheld whole, not read. The package
// knows nothing of what it protects: which parts of a token are secret, or
// that a URL's query carries a credential, is the caller's to say.
package redact

import (
	"encoding/base64"
	"strings"
	"sync"
)

// Redacted replaces every span of text that decodes to a secret or a token.
const Redacted = "[REDACTED]"

// Withheld replaces a whole text longer than MaxLen: it is not read.
const Withheld = "[REDACTED: text withheld, longer than the 1 MiB checked for secrets]"

// MaxLen is the longest text Redact reads: the most a client reads of an
// answer (1 MiB).
const MaxLen = 1 << 20

// Layers is how many layers of escapes the redactor reads through: a
// gateway that percent-encodes a URL that was already percent-encoded,
// inside an HTML page, quoted in JSON, logged as a Go string, is five.
const Layers = 8

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
	patterns map[string]int  // pattern text → shortest leaking run
	public   map[string]bool // public text → its runs are no leak (false: it holds a secret)
	secrets  []string        // each secret as matched, folded
	a        *automaton      // every pattern so far
	m        *matcher        // a's snapshot; nil when a changed since
}

// New returns a redactor that knows no secret yet.
func New() *Redactor {
	return &Redactor{patterns: map[string]int{}, public: map[string]bool{}, a: newAutomaton()}
}

// AddSecret registers a client secret; what its runs look like when escapes
// in its own text are decoded with a layer around it (see decodedRuns); and
// its Base64 and Base64url forms at every alignment (a Basic credential, a
// blob), unless it is too short for them to be told from words.
func (r *Redactor) AddSecret(secret string) {
	if secret == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.addRun(secret, secretMinRun)
	r.secrets = append(r.secrets, fold(visible(secret)))
	for text, ok := range r.public {
		if ok && strings.Contains(fold(text), fold(visible(secret))) {
			r.public[text] = false
			r.rebuild()
		}
	}
	for _, run := range decodedRuns(secret, secretMinRun) {
		r.add(run, len(run))
	}
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

// AddPublic registers text that others may read, such as a client ID: a
// run of a secret that also occurs in it is not a leak. (A client ID and
// its secret often share a prefix; redacting it would cut the ID.)
//
// Text that holds a whole secret (a client ID set to the secret by mistake)
// is not public: the secret would never be redacted.
func (r *Redactor) AddPublic(text string) {
	text = visible(text)
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.public[text]; ok || text == "" {
		return
	}
	r.public[text] = true
	for _, s := range r.secrets {
		if strings.Contains(fold(text), s) {
			r.public[text] = false
			return
		}
	}
	r.a.add(pattern{text: text, public: true})
	r.m = nil
}

// rebuild makes the automaton anew from the patterns and the public text
// still public.
func (r *Redactor) rebuild() {
	r.a = newAutomaton()
	for text, minRun := range r.patterns {
		r.a.add(pattern{text: text, minRun: minRun})
	}
	for text, ok := range r.public {
		if ok {
			r.a.add(pattern{text: text, public: true})
		}
	}
	r.m = nil
}

// fold is text as the automaton compares it.
func fold(text string) string {
	b := []byte(text)
	for i, c := range b {
		b[i] = canon(c)
	}
	return string(b)
}

// addRun adds text as a reader sees it (the text it is matched against is
// read the same way), runs of minRun or all of it.
func (r *Redactor) addRun(text string, minRun int) {
	if text = visible(text); text != "" {
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

// visible is text without the characters that do not render.
func visible(text string) string {
	if isPlain(text) {
		return text
	}
	var rd reading
	if readRaw(text, &rd) {
		return text
	}
	return string(rd.b)
}

// Redact returns text with every span that decodes to a run of a registered
// secret or token replaced by Redacted, or Withheld when text is longer than
// MaxLen.
func (r *Redactor) Redact(text string) string {
	if text == "" {
		return text
	}
	m := r.matcher()
	if m == nil {
		return text
	}
	if len(text) > MaxLen {
		return Withheld
	}
	mk, found := m.find(text)
	if !found {
		return text
	}
	var b strings.Builder
	b.Grow(len(text))
	for i := 0; i < len(text); {
		j := i
		for j < len(text) && !mk.has(j) {
			j++
		}
		b.WriteString(text[i:j])
		if j == len(text) {
			break
		}
		b.WriteString(Redacted)
		for j < len(text) && mk.has(j) {
			j++
		}
		i = j
	}
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

// decodedRuns returns what the runs of minRun characters of a secret whose
// own text holds escapes ("%C9", "&amp;", "\\v") look like when a reading
// decodes some of those escapes together with a layer of encoding around the
// secret: a JSON string quoting it decodes its "%C9" in the layer that
// decodes the JSON's "\\u003c"; the skip view drops its "\\v" with an
// inserted "\\u200b". Each subset of its escapes decoded, and each of those
// again once (at most maxForms readings; for a secret with more than maxEach
// escapes, by kind of escape). A run decoded to fewer than minDecodedRun
// characters is left out: it would match too much. A secret without escapes
// (FACEKI's; tokens) has none.
func decodedRuns(secret string, minRun int) []string {
	if !strings.ContainsAny(secret, "%&\\") {
		return nil
	}
	var base reading
	readRaw(secret, &base)
	seen := map[string]bool{string(base.b): true}
	runs, plain := map[string]bool{}, map[string]bool{}
	for _, run := range windowRuns(&base, len(secret), minRun) {
		plain[run] = true // runs of the secret itself
	}
	level := []*reading{&base}
	forms := 0
	for depth := 0; depth < 2; depth++ {
		var next []*reading
		for _, r := range level {
			for _, pick := range escapeSubsets(r) {
				if forms == maxForms {
					break
				}
				form := &reading{}
				r.pass(form, false, nil, pick, nil)
				if seen[string(form.b)] {
					continue
				}
				seen[string(form.b)], forms = true, forms+1
				next = append(next, form)
				for _, run := range windowRuns(form, len(secret), minRun) {
					runs[run] = !plain[run]
				}
			}
		}
		level = next
	}
	var out []string
	for run, decoded := range runs {
		if decoded {
			out = append(out, run)
		}
	}
	return out
}

const (
	maxForms      = 64
	maxEach       = 6
	minDecodedRun = 3
)

// escapeSubsets returns a choice of escapes to decode in r for each subset
// of them (with more than maxEach of them, for each subset of their kinds).
func escapeSubsets(r *reading) []func(p int) bool {
	var starts []int
	kinds := map[int]family{}
	for p := 0; p < len(r.b); p++ {
		if byteClass[r.b[p]] != escapeStart {
			continue
		}
		if _, end := escapeAt(r.b, p); end > p {
			starts = append(starts, p)
			kinds[p] = map[byte]family{'%': percentEscapes, '&': htmlReferences, '\\': stringEscapes}[r.b[p]]
			p = end - 1
		}
	}
	var picks []func(p int) bool
	if len(starts) == 0 {
		return nil
	}
	if len(starts) <= maxEach {
		for set := 1; set < 1<<len(starts); set++ {
			chosen := map[int]bool{}
			for i, p := range starts {
				if set&(1<<i) != 0 {
					chosen[p] = true
				}
			}
			picks = append(picks, func(p int) bool { return chosen[p] })
		}
		return picks
	}
	for set := family(1); set <= allEscapes; set++ {
		picks = append(picks, func(p int) bool { return kinds[p]&set != 0 })
	}
	return picks
}

// windowRuns returns, for each run of minRun characters of the secret (of
// length n), the bytes of form decoded from escapes wholly inside it, when
// there are at least minDecodedRun of them. form's offsets are the secret's.
func windowRuns(form *reading, n, minRun int) []string {
	var runs []string
	for i := 0; i+minRun <= n || i == 0; i++ {
		var run []byte
		for j := range form.b {
			if int(form.at[j]) >= i && form.end(j, n) <= i+minRun {
				run = append(run, form.b[j])
			}
		}
		if len(run) >= minDecodedRun {
			runs = append(runs, string(run))
		}
	}
	return runs
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

// find marks the bytes of text that are part of a leak, layer by layer,
// in two chains of readings: each layer decoded from the one before, and,
// from the first layer with an escape of a character that does not render,
// each layer decoded from the one before without those escapes (a secret's
// "\\" before an inserted "\\u200c" is not read as an escaped backslash).
// The first reading is walked whole; each later one, and each skip view,
// only where it differs from the reading before it.
func (m *matcher) find(text string) (mk marks, found bool) {
	mk = newMarks(len(text))
	if isPlain(text) { // no escape, nothing to skip: one reading
		m.walk(&reading{b: []byte(text)}, span{0, int32(len(text)), int32(len(text))}, asRead, len(text), mk)
		return mk, mk.any()
	}
	// Windows are at least 2×maxRun+1 bytes apart: room for all of them
	// once, rather than growing as they come.
	most := len(text)/(2*m.maxRun+1) + 1
	main := newChain(len(text), most, false)
	readRaw(text, &main.r)
	main.changes.spans = append(main.changes.spans, span{0, int32(len(main.r.b)), int32(len(main.r.b))}) // all of it is new
	var skipFirst *chain
	for layer := 0; ; layer++ {
		for _, c := range []*chain{main, skipFirst} {
			if c != nil && !c.done {
				c.walk(m, mk, len(text))
			}
		}
		if layer == Layers {
			break
		}
		if skipFirst == nil && main.r.skips { // from here on, the second chain too
			skipFirst = newChain(len(text), most, true)
			skipFirst.done = !main.r.pass(&skipFirst.r, true, skipFirst.next.reset(m.maxRun), nil, main.parse())
			skipFirst.changes, skipFirst.next = skipFirst.next, skipFirst.changes
			skipFirst.first = false
		} else if skipFirst != nil && !skipFirst.done {
			skipFirst.advance(m.maxRun)
		}
		if !main.done {
			main.advance(m.maxRun)
		}
		if main.done && (skipFirst == nil || skipFirst.done) {
			break
		}
	}
	return mk, mk.any()
}

// chain is a sequence of readings, each one layer of escapes further than
// the one before, in one buffer: a pass writes behind where it reads.
type chain struct {
	r                    reading
	changes, next, skips windows // where r differs from the reading before; the next's; r's skip view from r
	skipFirst            bool    // each layer is read without the escapes of invisible characters of the one before
	done                 bool    // the last pass changed nothing
	first                bool    // r is the input's first reading: every escape in it is new
}

func newChain(n, most int, skipFirst bool) *chain {
	return &chain{r: reading{b: make([]byte, 0, n), at: make([]int32, 0, n)},
		changes: newWindows(most), next: newWindows(most), skips: newWindows(most), skipFirst: skipFirst, first: true}
}

// walk reads c's current reading where it changed, its skip view where
// that differs from it, and its second skip view in the skip view's windows
// that hold an escape it reads otherwise (a window reaches as far as a run
// can, skipped bytes included).
func (c *chain) walk(m *matcher, mk marks, inputLen int) {
	for _, w := range c.changes.spans {
		m.walk(&c.r, w, asRead, inputLen, mk)
	}
	c.skips.reset(m.maxRun)
	for _, w := range c.changes.spans {
		c.r.markSkips(max(int(w.from), c.skips.end()), min(int(w.to), len(c.r.b)), &c.skips)
	}
	for _, w := range c.skips.spans {
		m.walk(&c.r, w, skipView, inputLen, mk)
		if c.r.keeps && c.r.keeping(int(w.from), min(int(w.to), len(c.r.b))) {
			m.walk(&c.r, w, secondSkipView, inputLen, mk)
		}
	}
}

// advance decodes c's reading one layer further, in place.
func (c *chain) advance(margin int) {
	c.done = !c.r.pass(&c.r, c.skipFirst, c.next.reset(margin), nil, c.parse())
	c.changes, c.next = c.next, c.changes
	c.first = false
}

// parse is where the next pass must read escapes, nil for everywhere: an
// escape in a later reading holds a byte its pass changed (else it was in
// the reading before, whose pass decoded it), and starts at most maxEscape
// bytes before it.
func (c *chain) parse() []span {
	if c.first {
		return nil
	}
	return c.changes.spans
}

// isPlain reports text of printable ASCII, tabs and newlines, without a
// byte that starts an escape.
func isPlain(text string) bool {
	for i := 0; i < len(text); i++ {
		if byteClass[text[i]] != plain {
			return false
		}
	}
	return true
}
