package redact

import (
	"math/bits"
	"unicode/utf16"
)

// reading is the input as read through some layers of escapes: its bytes,
// and for each the offset in the input where the encoding it came from
// starts. Bytes decoded from one escape share an offset; a byte's encoding
// ends where the next byte's begins, so a run of bytes maps back to one
// span of the input, whatever was decoded or dropped inside it.
type reading struct {
	b    []byte
	at   []int32  // nil: b is the input itself
	skip []uint64 // escapes of characters that do not render; see markSkips
	keep []uint64 // skipped bytes the second skip view reads (see jsonNULBefore)
	// skips and keeps say whether any bit of skip or keep is set.
	skips, keeps bool
}

// reset empties r for a text of n bytes, keeping its memory.
func (r *reading) reset(n int) {
	r.b, r.at = r.b[:0], r.at[:0]
	r.clearSkips(n)
}

// clearSkips clears r's skip marks, with room for n bytes.
func (r *reading) clearSkips(n int) {
	words := (n + 63) / 64
	if cap(r.skip) < words {
		r.skip, r.keep = make([]uint64, words), make([]uint64, words)
	}
	r.skip, r.keep = r.skip[:words], r.keep[:words]
	clear(r.skip)
	clear(r.keep)
	r.skips, r.keeps = false, false
}

// markSkips marks every escape in r.b[from:to] that stands for characters
// that do not render (%C2%AD, &shy;, \u200b, \x1b[0m), wherever it starts,
// and notes in win the parts of r whose skip view differs from r. Reading r
// without them (the skip view) finds a secret with such escapes inserted
// whose own characters look like escapes too, and so are decoded with them at
// the next layer, or swallow their first byte (a secret's "\" before an
// inserted "\u200b" reads as "\\" then "u200b"). Each escape is decoded from
// its own first byte, so the scan costs what the next layer's does.
//
// An escape that reads two ways, both invisible but one with four digits
// after it (see jsonNULBefore), is skipped whole in the skip view; its
// digits are marked for the second skip view to read.
//
// Only a layer's changes need scanning: an escape in r away from them was
// in the layer before too, whose pass decoded it.
func (r *reading) markSkips(from, to int, win *windows) {
	b := r.b
	for p := from; p < to; p++ {
		if byteClass[b[p]] != escapeStart || p+1 < len(b) && !mayBeInvisible(b[p], b[p+1]) {
			continue
		}
		if end := invisibleAt(b, p); end > p {
			for i := p; i < end; i++ {
				r.skip[i>>6] |= 1 << (i & 63)
			}
			r.skips = true
			win.add(p, end)
			if jsonNULBefore(b, p, end) {
				for i := p + 6; i < end; i++ {
					r.keep[i>>6] |= 1 << (i & 63)
				}
				r.keeps = true
			}
			p = end - 1
		}
	}
}

// mayBeInvisible tells, from an escape's first two bytes, whether it can
// stand for a character that does not render: most escapes are ruled out
// without decoding them (a run of "\\" has one at every byte).
func mayBeInvisible(intro, second byte) bool {
	switch intro {
	case '\\':
		return invisibleBackslash[second]
	case '&':
		return second == '#' || isAlnum(second)
	}
	return isHex(second) || second|0x20 == 'u'
}

// invisibleBackslash are the bytes after a backslash that start an escape
// of a character that does not render: a code point, a byte, a control.
var invisibleBackslash = func() (t [256]bool) {
	for _, c := range "uUxX01234567abvfreABVFRE" {
		t[c] = true
	}
	return t
}()

// keeping reports a byte from..to that the second skip view reads and the
// first does not: a word of marks at a time.
func (r *reading) keeping(from, to int) bool {
	for w := from >> 6; w <= (to-1)>>6 && from < to; w++ {
		if r.keep[w] != 0 {
			lo, hi := max(from, w<<6), min(to, w<<6+64)
			if r.keep[w]>>(lo&63)&(1<<(hi-lo)-1) != 0 {
				return true
			}
		}
	}
	return false
}

// skippedIn reports whether view v leaves out r.b[i].
func (r *reading) skippedIn(v view, i int) bool {
	switch v {
	case skipView:
		return r.skip[i>>6]&(1<<(i&63)) != 0
	case secondSkipView:
		return r.skip[i>>6]&^r.keep[i>>6]&(1<<(i&63)) != 0
	}
	return false
}

// view is how a walk reads a reading.
type view uint8

const (
	asRead         view = iota
	skipView            // without the escapes markSkips marked
	secondSkipView      // the same, but for the digits it marked to keep
)

// start is the offset in the input where the encoding of r.b[i] starts.
func (r *reading) start(i int) int {
	if r.at == nil {
		return i
	}
	return int(r.at[i])
}

// end is the offset in the input where the encoding of r.b[i] ends.
func (r *reading) end(i int, inputLen int) int {
	if r.at == nil {
		return i + 1
	}
	for j := i + 1; j < len(r.at); j++ {
		if r.at[j] != r.at[i] {
			return int(r.at[j])
		}
	}
	return inputLen
}

// byteClass sorts bytes for the loops that copy plain text in bulk.
var byteClass = func() (t [256]uint8) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = plain
	}
	t['\t'], t['\n'] = plain, plain
	t['%'], t['&'], t['\\'] = escapeStart, escapeStart, escapeStart
	return t
}()

const (
	special     = iota // a control, or a byte of a multi-byte character: the filter decides
	plain              // printable ASCII, tab, newline
	escapeStart        // % & \
)

// readRaw makes the first layer: the input itself, without the characters
// that do not render. It reports whether that is the input unchanged.
func readRaw(text string, out *reading) (same bool) {
	out.reset(len(text))
	f := filter{out: out}
	for p := 0; p < len(text); {
		if f.np == 0 && f.ansi == ansiNone {
			q := p
			for q < len(text) && byteClass[text[q]] != special {
				q++
			}
			out.b = append(out.b, text[p:q]...)
			for i := p; i < q; i++ {
				out.at = append(out.at, int32(i))
			}
			if p = q; p == len(text) {
				break
			}
		}
		f.byteIn(text[p], int32(p), false)
		p++
	}
	f.end()
	return !f.changed
}

// pass reads r through one more layer of escapes into out, and reports whether out differs from r: when it does not, no
// later layer would either. out may be r itself: a pass never writes
// further than it has read, since no escape decodes to more bytes than it
// has. skipView reads r without the bytes markSkips marked: the escapes of
// characters that do not render are dropped before the others are decoded.
// pick, when not nil, chooses the escapes decoded by where they start.
//
// One pass, left to right: an escape is decoded from the bytes of r alone,
// never from bytes it decoded itself (that is the next layer's work), and
// the body of an escape never holds a byte that starts another one (a
// failed escape's body is read again only as text), so the pass is linear.
//
// parse, when not nil, are the only windows of r where an escape can start
// (see chain.advance): elsewhere r's bytes are copied as they are.
func (r *reading) pass(out *reading, skipView bool, win *windows, pick func(p int) bool, parse []span) (changed bool) {
	b, at, skip := r.b, r.at, r.skip
	out.b, out.at = out.b[:0], out.at[:0]
	f := filter{out: out, win: win}
	next := 0 // parse[next] is the first window that does not end before p
	for p := 0; p < len(b); {
		if parse != nil && f.np == 0 && f.ansi == ansiNone {
			for next < len(parse) && int(parse[next].to) <= p {
				next++
			}
			// Up to the next window (or the next skipped byte): as it is.
			q := len(b)
			if next < len(parse) {
				q = max(int(parse[next].from)-maxEscape, p)
			}
			if skipView {
				q = min(q, nextSkipped(skip, p, q))
			}
			if q > p {
				out.b = append(out.b, b[p:q]...)
				out.at = append(out.at, at[p:q]...)
				p = q
				continue
			}
		}
		if skipView && skip[p>>6]&(1<<(p&63)) != 0 {
			q := p + 1
			for q < len(b) && skip[q>>6]&(1<<(q&63)) != 0 {
				q++
			}
			f.runeIn(0, at[p]) // stands for what was dropped: a character that does not render
			p = q
			continue
		}
		if byteClass[b[p]] == escapeStart && (pick == nil || pick(p)) {
			if e, end := escapeAt(b, p); end > p {
				switch {
				case e.isByte && byteClass[e.byteVal] != special && f.np == 0 && f.ansi == ansiNone:
					// Most escapes decode to printable ASCII: no filtering.
					f.changedAt(len(out.b), len(out.b)+1)
					out.b, out.at = append(out.b, e.byteVal), append(out.at, at[p])
				case e.isByte:
					f.byteIn(e.byteVal, at[p], true)
				default:
					f.runeIn(e.r[0], at[p])
					if e.r[1] != 0 {
						f.runeIn(e.r[1], at[p])
					}
				}
				p = end
				continue
			}
		}
		if f.np == 0 && f.ansi == ansiNone && byteClass[b[p]] != special {
			q := p + 1
			for q < len(b) && byteClass[b[q]] == plain {
				q++
			}
			out.b = append(out.b, b[p:q]...)
			out.at = append(out.at, at[p:q]...)
			p = q
			continue
		}
		f.byteIn(b[p], at[p], false)
		p++
	}
	f.end()
	out.clearSkips(len(b))
	return f.changed
}

// nextSkipped is the first byte from p to q that skip marks, or q.
func nextSkipped(skip []uint64, p, q int) int {
	for p < q {
		if w := skip[p>>6] >> (p & 63); w != 0 {
			return min(p+bits.TrailingZeros64(w), q)
		}
		p = (p | 63) + 1
	}
	return q
}

// family is a set of kinds of escapes (decodedRuns picks escapes by kind).
type family uint8

const (
	percentEscapes family = 1 << iota
	htmlReferences
	stringEscapes
	allEscapes = percentEscapes | htmlReferences | stringEscapes
)

// escaped is what an escape decodes to: a byte (percent-encoding, \xXX,
// octal), or one or two characters.
type escaped struct {
	isByte  bool
	byteVal byte
	r       [2]rune // r[1] is 0 but for named references of two characters
}

// escapeAt decodes the escape that starts at b[p] (one of % & \) and
// returns it with the offset after it; end is p when none starts there.
//
// It reads what servers, gateways, browsers and languages write:
// percent-encoding (%XX in either case, and %uXXXX as JavaScript's escape()
// writes characters beyond Latin-1); HTML character references (decimal and
// hexadecimal, up to 32 leading zeros, the ';' optional as browsers
// read them; named ones in any letter case, see namedRef); and string
// escapes of JSON, C, JavaScript, Python, Go and shells: \uXXXX (with
// surrogate pairs), \u{X…}, \UXXXXXXXX, \xXX, octal \NNN, \n and the other
// letters, and a backslash before punctuation or a space. \U and \X with
// four and two digits are read too: a gateway that upper-cases what it
// quotes turns \u into \U.
func escapeAt(b []byte, p int) (e escaped, end int) {
	switch {
	case b[p] == '%':
		if h, ok := hexAt(b, p+1, 2); ok {
			return escaped{isByte: true, byteVal: byte(h)}, p + 3
		}
		if p+1 < len(b) && b[p+1]|0x20 == 'u' {
			return utf16At(b, p, 2)
		}
	case b[p] == '&':
		if p+1 < len(b) && b[p+1] == '#' {
			return numericRef(b, p)
		}
		return namedRefAt(b, p)
	case b[p] == '\\' && p+1 < len(b):
		return backslash(b, p)
	}
	return escaped{}, p
}

// backslash decodes a string escape at b[p] == '\\'.
func backslash(b []byte, p int) (escaped, int) {
	c := b[p+1]
	switch {
	case c|0x20 == 'u' && p+2 < len(b) && b[p+2] == '{':
		q, v := p+3, rune(0)
		for ; q < len(b) && q < p+9 && isHex(b[q]); q++ {
			v = v<<4 | rune(unhex(b[q]))
		}
		if q > p+3 && q < len(b) && b[q] == '}' && validRune(v) {
			return escaped{r: [2]rune{v}}, q + 1
		}
	case c|0x20 == 'u':
		if v, ok := hexAt(b, p+2, 8); ok && validRune(rune(v)) && (v > 0x9f || python8(b, p-10) || python8(b, p+10)) {
			return escaped{r: [2]rune{rune(v)}}, p + 10
		}
		return utf16At(b, p, 2)
	case c|0x20 == 'x':
		if h, ok := hexAt(b, p+2, 2); ok {
			return escaped{isByte: true, byteVal: byte(h)}, p + 4
		}
	case c >= '0' && c <= '7':
		q, v := p+1, 0
		for ; q < len(b) && q < p+4 && b[q] >= '0' && b[q] <= '7'; q++ {
			v = v<<3 | int(b[q]-'0')
		}
		if v <= 0xff {
			return escaped{isByte: true, byteVal: byte(v)}, q
		}
	case simpleEscapes[c] != 0:
		return escaped{isByte: true, byteVal: simpleEscapes[c]}, p + 2
	}
	return escaped{}, p
}

// python8 reports Python's \UXXXXXXXX escape of a character at b[p], in
// either case. Text whose case changed turns \U into \u and \u into \U, so
// eight digits are Python's in a run of such escapes, or for a character
// beyond the controls, and alone, for a control, JSON's \u0000 (or \U0000)
// followed by digits.
func python8(b []byte, p int) bool {
	if p < 0 || p+10 > len(b) || b[p] != '\\' || b[p+1]|0x20 != 'u' {
		return false
	}
	v, ok := hexAt(b, p+2, 8)
	return ok && validRune(rune(v))
}

// simpleEscapes are the characters that follow a backslash for one
// character: quotes, backslash and slash (JSON, C, JavaScript, Python),
// and the letters of control characters. (A shell's backslash before any
// punctuation is not read: "\&" would swallow the "&" of an HTML reference
// after a backslash.)
var simpleEscapes = [256]byte{'"': '"', '\'': '\'', '\\': '\\', '/': '/', '?': '?',
	'a': 7, 'b': 8, 't': 9, 'n': 10, 'v': 11, 'f': 12, 'r': 13, 'e': 27,
	'A': 7, 'B': 8, 'T': 9, 'N': 10, 'V': 11, 'F': 12, 'R': 13, 'E': 27} // upper-cased by a gateway

// utf16At decodes the four hex digits after the two bytes at b[p] (%u, \u,
// \U); a high surrogate counts only with a low one after it, written with
// the same introducer.
func utf16At(b []byte, p, intro int) (escaped, int) {
	v, ok := hexAt(b, p+intro, 4)
	end := p + intro + 4
	if !ok {
		return escaped{}, p
	}
	r := rune(v)
	if !utf16.IsSurrogate(r) {
		return escaped{r: [2]rune{r}}, end
	}
	if end+intro+4 <= len(b) && b[end] == b[p] && b[end+1]|0x20 == 'u' {
		if v2, ok := hexAt(b, end+intro, 4); ok {
			if pair := utf16.DecodeRune(r, rune(v2)); pair != 0xfffd {
				return escaped{r: [2]rune{pair}}, end + intro + 4
			}
		}
	}
	return escaped{}, p
}

// numericRef decodes &#DDD; or &#xHHH; at b[p]: up to maxZeros leading
// zeros, up to seven significant digits, the ';' optional.
func numericRef(b []byte, p int) (escaped, int) {
	q, base := p+2, rune(10)
	if q < len(b) && b[q]|0x20 == 'x' {
		q, base = q+1, 16
	}
	start := q
	for q < len(b) && b[q] == '0' && q < start+maxZeros {
		q++
	}
	v, digits := rune(0), 0
	for ; q < len(b) && (base == 16 && isHex(b[q]) || base == 10 && b[q] >= '0' && b[q] <= '9'); q++ {
		if digits++; digits > 7 {
			return escaped{}, p
		}
		v = v*base + rune(unhex(b[q]))
	}
	if q == start || !validRune(v) { // &#0; reads as NUL, a control: skipped, as in UTF-16 text
		return escaped{}, p
	}
	if q < len(b) && b[q] == ';' {
		q++
	}
	return escaped{r: [2]rune{v}}, q
}

// namedRefAt decodes &name; at b[p].
func namedRefAt(b []byte, p int) (escaped, int) {
	q := p + 1
	for q < len(b) && q <= p+maxName && isAlnum(b[q]) {
		q++
	}
	if q == p+1 || q >= len(b) || b[q] != ';' {
		return escaped{}, p
	}
	if r, ok := namedRef(b[p+1 : q]); ok {
		return escaped{r: [2]rune{r}}, q + 1
	}
	return escaped{}, p
}

// Escapes are bounded, so that a pass can start reading anywhere a little
// before a change: maxZeros leading zeros of a reference (generators pad to
// a few; browsers read any number), and so at most maxEscape bytes.
const (
	maxZeros  = 32
	maxEscape = len("&#x;") + maxZeros + 6
)

// hexAt reads n hex digits at b[p].
func hexAt(b []byte, p, n int) (uint32, bool) {
	if p+n > len(b) {
		return 0, false
	}
	var v uint32
	for _, c := range b[p : p+n] {
		if !isHex(c) {
			return 0, false
		}
		v = v<<4 | uint32(unhex(c))
	}
	return v, true
}

func validRune(r rune) bool { return r >= 0 && r <= 0x10ffff && !utf16.IsSurrogate(r) }

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
