package redact

import (
	"unicode"
	"unicode/utf8"
)

// Characters a reader does not see: they never break a run of a secret,
// whether written raw or escaped. Every Unicode Default_Ignorable_Code_Point
// (soft hyphen, zero-width space and joiners, bidirectional marks and
// isolates, invisible operators, the combining grapheme joiner, variation
// selectors, Hangul fillers, tags), every format (Cf) character, and the
// C0 and C1 controls but tab and newline, so that UTF-16 text (a NUL after
// each ASCII byte) reads as its characters. ANSI escape sequences are
// skipped whole by the filter below.
var ignorableTables = []*unicode.RangeTable{unicode.Cf, unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector}

// ignorableBMP has a bit per character of the Basic Multilingual Plane: a
// lookup per character, whatever the text (a search of the tables for every
// character of a page in Chinese costs ten times a plain one).
// It is made from the tables' ranges, not by testing each of 65,536
// characters: a provider process pays for it at start.
var ignorableBMP = func() (set [1 << 16 / 64]uint64) {
	add := func(r rune) { set[r>>6] |= 1 << (r & 63) }
	for r := rune(0); r <= 0x9f; r++ {
		if r < 0x20 && r != '\t' && r != '\n' || r >= 0x7f {
			add(r)
		}
	}
	for _, t := range ignorableTables {
		for _, rg := range t.R16 {
			for r := rune(rg.Lo); r <= rune(rg.Hi); r += rune(rg.Stride) {
				add(r)
			}
		}
	}
	return set
}()

// ignorable reports whether a reader does not see r.
func ignorable(r rune) bool {
	if r < 1<<16 {
		return ignorableBMP[r>>6]&(1<<(r&63)) != 0
	}
	return unicode.In(r, ignorableTables...)
}

// char is one character met by a filter: the bytes that stand for it in the
// reading being built (a byte that is not valid UTF-8 stands alone, read as
// Latin-1), and where its encoding starts in the input.
type char struct {
	r       rune
	b       [utf8.UTFMax]byte
	n       uint8
	decoded bool // from an escape: the reading changes here
	at      int32
}

// ANSI escape sequences: ESC [ parameters intermediates final (CSI, also
// introduced by the C1 control U+009B), ESC intermediates final (nF), and
// ESC followed by one character (Fe, Fp, Fs). Longer ones are not ANSI's:
// their characters stay text.
const (
	ansiAbort = iota - 2 // not part of the sequence
	ansiDone             // ends the sequence
	ansiNone
	ansiEsc
	ansiCSI      // parameters, then intermediates
	ansiCSIInter // intermediates only
	ansiNF       // ESC's intermediates

	maxANSI = 24 // characters held for one sequence
)

// filter builds a reading out of characters: it drops the ones a reader
// does not see, and ANSI escape sequences, and assembles UTF-8 from bytes
// that arrive one at a time (raw, or decoded from %XX, \xXX, \NNN).
type filter struct {
	out     *reading
	changed bool     // out differs from the source: a character was decoded or dropped
	win     *windows // where out differs from the source, when not nil

	pending [utf8.UTFMax]char // the bytes of an incomplete UTF-8 sequence
	np      int
	need    int // bytes still missing from it

	ansi  int
	held  [maxANSI]char // the sequence so far, ESC first
	nheld int
}

// byteIn takes one byte: raw (decoded false) or decoded from an escape.
func (f *filter) byteIn(b byte, at int32, decoded bool) {
	c := char{r: rune(b), b: [utf8.UTFMax]byte{b}, n: 1, decoded: decoded, at: at}
	if f.np > 0 {
		if b&0xc0 == 0x80 {
			f.pending[f.np] = c
			f.np++
			if f.need--; f.need == 0 {
				f.complete()
			}
			return
		}
		f.flushLatin1()
	}
	if b < utf8.RuneSelf {
		f.emit(c)
		return
	}
	if n := utf8Len(b); n > 1 {
		f.pending[0], f.np, f.need = c, 1, n-1
		return
	}
	f.emit(c) // a stray continuation byte or a byte UTF-8 never uses: Latin-1
}

// runeIn takes a character decoded from an escape.
func (f *filter) runeIn(r rune, at int32) {
	f.flushLatin1()
	c := char{r: r, decoded: true, at: at}
	c.n = uint8(utf8.EncodeRune(c.b[:], r))
	f.emit(c)
}

// utf8Len is the length of the UTF-8 sequence that lead byte b starts, or 1.
func utf8Len(b byte) int {
	switch {
	case b >= 0xc2 && b <= 0xdf:
		return 2
	case b >= 0xe0 && b <= 0xef:
		return 3
	case b >= 0xf0 && b <= 0xf4:
		return 4
	}
	return 1
}

// complete reads the pending bytes as one character, when they are valid UTF-8.
func (f *filter) complete() {
	var buf [utf8.UTFMax]byte
	for i := 0; i < f.np; i++ {
		buf[i] = f.pending[i].b[0]
	}
	r, size := utf8.DecodeRune(buf[:f.np])
	if size != f.np { // overlong, a surrogate, beyond U+10FFFF
		f.flushLatin1()
		return
	}
	c := char{r: r, b: buf, n: uint8(size), at: f.pending[0].at}
	for i := 0; i < f.np; i++ {
		c.decoded = c.decoded || f.pending[i].decoded
	}
	f.np, f.need = 0, 0
	f.emit(c)
}

// flushLatin1 gives up on the pending bytes: each is a character of its own.
func (f *filter) flushLatin1() {
	n := f.np
	f.np, f.need = 0, 0
	for i := 0; i < n; i++ {
		f.emit(f.pending[i])
	}
}

// end flushes what the filter still holds at the end of the source.
func (f *filter) end() {
	f.flushLatin1()
	if f.ansi != ansiNone {
		f.abortANSI()
	}
}

// emit passes one character through the ANSI recogniser, then keeps it
// when a reader sees it.
func (f *filter) emit(c char) {
	if f.ansi != ansiNone {
		if c.r != 0x1b && c.r != 0x9b && ignorable(c.r) { // a NUL of UTF-16 text
			f.dropped()
			return
		}
		switch next := ansiNext(f.ansi, c.r); {
		case next == ansiDone:
			f.ansi, f.nheld = ansiNone, 0
			f.dropped()
			return
		case next > ansiNone && f.nheld < maxANSI:
			f.held[f.nheld] = c
			f.nheld++
			f.ansi = next
			return
		default:
			f.abortANSI()
		}
	}
	switch {
	case c.r == 0x1b:
		f.ansi, f.held[0], f.nheld = ansiEsc, c, 1
	case c.r == 0x9b:
		f.ansi, f.held[0], f.nheld = ansiCSI, c, 1
	case ignorable(c.r):
		f.dropped()
	default:
		if c.decoded {
			f.changedAt(len(f.out.b), len(f.out.b)+int(c.n))
		}
		f.out.b = append(f.out.b, c.b[:c.n]...)
		for i := uint8(0); i < c.n; i++ {
			f.out.at = append(f.out.at, c.at)
		}
	}
}

// dropped notes a character or sequence left out: the bytes on either side
// now meet.
func (f *filter) dropped() { f.changedAt(len(f.out.b), len(f.out.b)) }

// changedAt notes that out's bytes from..to are new, or, when from == to,
// that the bytes on either side of from now meet.
func (f *filter) changedAt(from, to int) {
	f.changed = true
	if f.win != nil {
		f.win.add(from, to)
	}
}

// abortANSI ends a sequence that is not ANSI's: the control that began it
// is dropped, the characters after it are text.
func (f *filter) abortANSI() {
	held := f.nheld
	f.ansi, f.nheld = ansiNone, 0
	f.dropped()
	for i := 1; i < held; i++ {
		f.emit(f.held[i])
	}
}

// ansiNext is the state of an ANSI sequence after r, or ansiDone, or ansiAbort.
func ansiNext(state int, r rune) int {
	param, inter, final := r >= 0x30 && r <= 0x3f, r >= 0x20 && r <= 0x2f, r >= 0x40 && r <= 0x7e
	switch state {
	case ansiEsc:
		switch {
		case r == '[':
			return ansiCSI
		case inter:
			return ansiNF
		case r >= 0x30 && r <= 0x7e:
			return ansiDone
		}
	case ansiCSI:
		switch {
		case param:
			return ansiCSI
		case inter:
			return ansiCSIInter
		case final:
			return ansiDone
		}
	case ansiCSIInter:
		switch {
		case inter:
			return ansiCSIInter
		case final:
			return ansiDone
		}
	case ansiNF:
		switch {
		case inter:
			return ansiNF
		case r >= 0x30 && r <= 0x7e:
			return ansiDone
		}
	}
	return ansiAbort
}

// invisibleAt returns the end of the escapes at b[p] that stand for
// characters a reader does not see, or p: one character in one escape, or
// in escapes of one byte each (%E2%80%8B), or an ANSI sequence begun by an
// escaped ESC (\u001b[0m, whose other characters may be escaped too).
func invisibleAt(b []byte, p int) int {
	// \u with eight digits is Python's \U lower-cased, or JSON's \u0000 (a
	// control) followed by digits: a layer reads one; either is skipped
	// here, the second in the second skip view (see jsonNULBefore).
	if b[p] == '\\' && p+1 < len(b) && b[p+1]|0x20 == 'u' {
		// Eight digits as a layer reads them (see python8): a lower-cased
		// \U00002066, but JSON's \u0000 then digits for a lone \u00000000.
		if v, ok := hexAt(b, p+2, 8); ok && validRune(rune(v)) && ignorable(rune(v)) &&
			(v > 0x9f || python8(b, p-10) || python8(b, p+10)) {
			return p + 10
		}
		if v, ok := hexAt(b, p+2, 4); ok && ignorable(rune(v)) && rune(v) != 0x1b {
			return p + 6
		}
	}
	return invisibleOnly(b, p)
}

// jsonNULBefore reports that the escape b[p:end], which invisibleAt read as
// Python's \U with eight digits, reads as JSON's \u0000 (or another control)
// before four digits too: a character that does not render either way, but
// in the second, four digits that may be a secret's ("\u0000" inserted
// before its "0600", which as Python's \u00000600 is a format character).
func jsonNULBefore(b []byte, p, end int) bool {
	if end != p+10 || b[p] != '\\' {
		return false
	}
	v, ok := hexAt(b, p+2, 4)
	return ok && ignorable(rune(v)) && rune(v) != 0x1b
}

// invisibleOnly is invisibleAt for the escape as a layer reads it.
func invisibleOnly(b []byte, p int) int {
	e, q := escapeAt(b, p)
	if q == p || shortOctal(b, p, q) {
		return p
	}
	r := e.r[0]
	switch {
	case !e.isByte && e.r[1] != 0:
		if ignorable(e.r[0]) && ignorable(e.r[1]) {
			return q
		}
		return p
	case e.isByte && utf8Len(e.byteVal) > 1:
		if end, ok := utf8Escapes(b, e.byteVal, q); ok {
			return end
		}
		r = rune(e.byteVal) // alone: Latin-1
	case e.isByte:
		r = rune(e.byteVal)
	}
	switch {
	case r == 0x1b:
		return ansiEnd(b, q, ansiEsc)
	case r == 0x9b:
		return ansiEnd(b, q, ansiCSI)
	case ignorable(r):
		return q
	}
	return p
}

// utf8Escapes reads the continuation bytes of a character whose first byte,
// lead, an escape decoded, each from an escape of its own at q: the end of
// the last one when the character does not render.
func utf8Escapes(b []byte, lead byte, q int) (int, bool) {
	buf := [utf8.UTFMax]byte{lead}
	n := utf8Len(lead)
	for i := 1; i < n; i++ {
		if q >= len(b) || byteClass[b[q]] != escapeStart {
			return 0, false
		}
		e, end := escapeAt(b, q)
		if end == q || !e.isByte || e.byteVal&0xc0 != 0x80 {
			return 0, false
		}
		buf[i], q = e.byteVal, end
	}
	r, size := utf8.DecodeRune(buf[:n])
	return q, size == n && ignorable(r)
}

// ansiEnd reads the rest of an ANSI sequence after its escaped introducer,
// each character raw or escaped, and returns where it ends; q alone (the
// introducer is a control) when it is not one.
func ansiEnd(b []byte, q, state int) int {
	p := q
	for n := 1; n < maxANSI && p < len(b); n++ {
		r, end := rune(b[p]), p+1
		if byteClass[b[p]] == escapeStart {
			if e, e2 := escapeAt(b, p); e2 > p {
				r, end = e.r[0], e2
				if e.isByte {
					r = rune(e.byteVal)
				}
			}
		}
		if r == 0x1b || r == 0x9b || !ignorable(r) {
			switch state = ansiNext(state, r); state {
			case ansiDone:
				return end
			case ansiAbort:
				return q
			}
		}
		p = end
	}
	return q
}

// shortOctal reports an octal escape b[p:q] of one or two digits but "\\0"
// alone: a secret's own "\\42" with a character inserted after its 4 reads
// "\\4", a control, though no writer of escapes inserts one that way (C
// writes "\\004", or "\\0" before anything but a digit).
func shortOctal(b []byte, p, q int) bool {
	if b[p] != '\\' || b[p+1] < '0' || b[p+1] > '7' || q-p == 4 {
		return false
	}
	zeroAlone := q-p == 2 && b[p+1] == '0' && (q == len(b) || b[q] < '0' || b[q] > '9')
	return !zeroAlone
}
