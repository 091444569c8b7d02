package redact

import (
	"html"
	"slices"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth is how many layers of escaping the redactor sees through: a
// gateway that percent-encodes a URL that was already percent-encoded, inside
// an HTML page, quoted in JSON, is three.
const maxDepth = 4

// unit is one character of decoded text: the bytes it decodes to and where
// its encoding ends in the original text.
type unit struct {
	end int
	n   uint8
	b   [8]byte // a raw byte, a percent-decoded byte, or a rune (or two) in UTF-8
}

// sym is the ASCII character u stands for, or 0: escapes are spelled with
// ASCII characters, so only those can be part of an outer escape.
func (u unit) sym() byte {
	if u.n == 1 && u.b[0] < utf8.RuneSelf {
		return u.b[0]
	}
	return 0
}

func byteUnit(b byte, end int) unit { return unit{end: end, n: 1, b: [8]byte{b}} }

func stringUnit(s string, end int) (unit, bool) {
	u := unit{end: end, n: uint8(len(s))}
	if len(s) == 0 || len(s) > len(u.b) {
		return unit{}, false
	}
	copy(u.b[:], s)
	return u, true
}

// decoder reads text as a tree of possible decodings: at each position, the
// raw byte, and every escape that starts there (percent-encoding in either
// case and %uXXXX, HTML character references, JSON and C string escapes,
// each in any letter case), whose own
// characters may in turn be escaped, up to maxDepth layers deep. It decodes
// lazily, only where a match is being tried, and remembers what it decoded.
type decoder struct {
	text   string
	index  []int32           // by position: 1 + the escape start's index in memo, 0 when none yet
	memo   []escapeMemo      // what is known of each escape start met
	names  map[string]string // named references looked up: their text, "" when unknown
	reach  int               // the furthest position read while decoding
	budget int               // decodings left before the text counts as too costly
}

// escapeMemo is what the decoder knows of an escape start.
type escapeMemo struct {
	units  [maxDepth + 1][]unit // by depth; nil until decoded
	stable bool                 // deeper layers add nothing to depth 1 (see units)
}

// decodeBudget bounds the work per byte of text: real text needs a few
// units of work per byte, pathological nesting (every character an escape
// of an escape) a dozen or two.
const decodeBudget = 64

func newDecoder(text string, perByte int) *decoder {
	return &decoder{text: text, budget: perByte*len(text) + 1<<16}
}

// isEscapeStart reports the bytes that begin an escape of any kind.
func isEscapeStart(b byte) bool { return b == '%' || b == '&' || b == '\\' }

// escapeUnits returns every decoding of the escape start at p within depth
// layers: the raw byte first.
func (d *decoder) escapeUnits(p, depth int) []unit {
	if d.index == nil {
		d.index = make([]int32, len(d.text))
		n := strings.Count(d.text, "%") + strings.Count(d.text, "&") + strings.Count(d.text, "\\")
		d.memo = make([]escapeMemo, 0, n)
	}
	if d.index[p] == 0 {
		d.memo = append(d.memo, escapeMemo{})
		d.index[p] = int32(len(d.memo))
	}
	i := d.index[p] - 1
	if d.memo[i].units[1] == nil {
		d.decode(p, 1, i)
	}
	if d.memo[i].stable {
		return d.memo[i].units[1]
	}
	if d.memo[i].units[depth] == nil {
		d.decode(p, depth, i)
	}
	return d.memo[i].units[depth]
}

// decode finds the units at escape start p, memo entry i, at depth.
func (d *decoder) decode(p, depth int, i int32) {
	outer := d.reach
	d.reach = p
	us := make([]unit, 1, 4)
	us[0] = byteUnit(d.text[p], p+1)
	add := func(u unit) {
		d.budget--
		if !slices.Contains(us, u) {
			us = append(us, u)
		}
	}
	// Whatever escape starts here, its first character may itself be
	// escaped in any of the three ways: try every kind.
	d.percent(p, depth, add)
	d.reference(p, depth, add)
	d.jsonEscape(p, depth, add)
	m := &d.memo[i] // not before: decoding may grow d.memo
	m.units[depth] = us
	if depth == 1 {
		// A deeper layer can decode more only through an escaped character
		// of an escape: one read after p (none starts an escape up to where
		// decoding read), or the first one, decoded from p itself. Most
		// escapes in real text have neither, and are decoded once, not once
		// per layer.
		m.stable = !strings.ContainsAny(d.text[p+1:min(d.reach+1, len(d.text))], "%&\\")
		for _, u := range us[1:] {
			m.stable = m.stable && !isEscapeStart(u.sym())
		}
	}
	d.reach = max(outer, d.reach)
}

// each calls f with every ASCII character the text at p decodes to within
// depth layers, and the position after it.
func (d *decoder) each(p, depth int, f func(c byte, end int)) {
	if p >= len(d.text) || d.budget <= 0 {
		return
	}
	d.reach = max(d.reach, p)
	if c := d.text[p]; depth == 0 || !isEscapeStart(c) {
		if c < utf8.RuneSelf {
			f(c, p+1)
		}
		return
	}
	for _, u := range d.escapeUnits(p, depth) {
		if c := u.sym(); c != 0 {
			f(c, u.end)
		}
	}
}

// percent: %XX in either case, and %uXXXX as JavaScript's escape() writes
// a character beyond Latin-1.
func (d *decoder) percent(p, depth int, add func(unit)) {
	d.each(p, depth-1, func(c byte, e1 int) {
		if c != '%' {
			return
		}
		d.each(e1, depth-1, func(h1 byte, e2 int) {
			if h1 == 'u' || h1 == 'U' {
				d.utf16Escape(e2, depth-1, '%', add)
				return
			}
			if !isHex(h1) {
				return
			}
			d.each(e2, depth-1, func(h2 byte, e3 int) {
				if isHex(h2) {
					add(byteUnit(unhex(h1)<<4|unhex(h2), e3))
				}
			})
		})
	})
}

// reference: HTML character references, &#99; &#x2B; &#X2b; (the ';' is
// optional, as browsers read them) and named ones such as &amp; or &plus;.
func (d *decoder) reference(p, depth int, add func(unit)) {
	d.each(p, depth-1, func(c byte, e1 int) {
		if c != '&' {
			return
		}
		d.each(e1, depth-1, func(c byte, e2 int) {
			switch {
			case c == '#':
				d.each(e2, depth-1, func(x byte, e3 int) {
					if x == 'x' || x == 'X' {
						d.number(e3, depth-1, 16, 0, 0, add)
					}
				})
				d.number(e2, depth-1, 10, 0, 0, add)
			case isAlnum(c):
				d.name(e2, depth-1, [maxName]byte{c}, 1, add)
			}
		})
	})
}

// number reads the digits of a numeric reference, then an optional ';'.
// Every way to end it is offered, not only the greedy one: a digit that
// follows may belong to another layer, and an extra decoding costs nothing
// but a branch the matcher soon drops. Leading zeros do not count
// (&#0000065; is "A", as a browser reads it); raw ones are read in a loop,
// so that any number of them costs no stack.
func (d *decoder) number(p, depth, base int, val rune, digits int, add func(unit)) {
	if val == 0 {
		for p < len(d.text) && d.text[p] == '0' && d.budget > 0 {
			p++
			d.budget--
		}
		d.reach = max(d.reach, p)
	}
	finish := func(end int) {
		if digits > 0 && val > 0 && val <= utf8.MaxRune && !utf16.IsSurrogate(val) {
			if u, ok := stringUnit(string(val), end); ok {
				add(u)
			}
		}
	}
	finish(p)
	d.each(p, depth, func(c byte, end int) {
		switch {
		case digits < 8 && (base == 10 && c >= '0' && c <= '9' || base == 16 && isHex(c)):
			d.number(end, depth, base, val*rune(base)+rune(unhex(c)), digits+1, add)
		case c == ';':
			finish(end)
		}
	})
}

// name reads a named reference up to its ';' and looks it up.
func (d *decoder) name(p, depth int, name [maxName]byte, n int, add func(unit)) {
	d.each(p, depth, func(c byte, end int) {
		switch {
		case c == ';':
			if s, ok := d.entity(name[:n]); ok {
				if u, ok := stringUnit(s, end); ok {
					add(u)
				}
			}
		case isAlnum(c) && n < maxName:
			name[n] = c
			d.name(end, depth, name, n+1, add)
		}
	})
}

// caseless names, by their lower case, the HTML references in mixed case
// that stand for a printable ASCII character or one that does not render:
// the only ones a run of a secret or token can hold.
var caseless = map[string]string{
	"diacriticalgrave": "DiacriticalGrave", "hat": "Hat", "underbar": "UnderBar", "verticalline": "VerticalLine",
	"negativemediumspace": "NegativeMediumSpace", "negativethickspace": "NegativeThickSpace",
	"negativethinspace": "NegativeThinSpace", "negativeverythinspace": "NegativeVeryThinSpace",
	"nobreak": "NoBreak", "zerowidthspace": "ZeroWidthSpace",
}

// maxName bounds a reference's name: the longest HTML5 names have 31 letters.
const maxName = 32

// entity looks a named reference up, remembering what it found: error
// pages repeat the same few (&amp;, &nbsp;). A name in the wrong case
// (&PLUS; from a gateway that upper-cases) is read as its lower-case self.
func (d *decoder) entity(name []byte) (string, bool) {
	if s, ok := d.names[string(name)]; ok {
		return s, s != ""
	}
	s := ""
	lower := strings.ToLower(string(name))
	for _, n := range []string{string(name), lower, caseless[lower]} {
		ref := "&" + n + ";"
		if u := html.UnescapeString(ref); u != ref {
			s = u
			break
		}
	}
	if d.names == nil {
		d.names = map[string]string{}
	}
	d.names[string(name)] = s
	return s, s != ""
}

// jsonEscape: \" \\ \/ \b \f \n \r \t and \uXXXX (with surrogate pairs) as
// JSON writes them, \xXX as C, JavaScript and Python do, and \U and \X from
// a gateway that upper-cases.
func (d *decoder) jsonEscape(p, depth int, add func(unit)) {
	d.each(p, depth-1, func(c byte, e1 int) {
		if c != '\\' {
			return
		}
		d.each(e1, depth-1, func(c byte, e2 int) {
			if r, ok := jsonSimpleEscape(c); ok {
				add(byteUnit(r, e2))
				return
			}
			switch c {
			case 'u', 'U':
				d.utf16Escape(e2, depth-1, '\\', add)
			case 'x', 'X':
				d.hexByte(e2, depth-1, add)
			}
		})
	})
}

// hexByte reads the two hex digits of \xXX: a byte (C, bash), and above
// 0x7f also the character U+00XX (JavaScript, Python strings).
func (d *decoder) hexByte(p, depth int, add func(unit)) {
	d.each(p, depth, func(h1 byte, e1 int) {
		if !isHex(h1) {
			return
		}
		d.each(e1, depth, func(h2 byte, e2 int) {
			if !isHex(h2) {
				return
			}
			b := unhex(h1)<<4 | unhex(h2)
			add(byteUnit(b, e2))
			if b >= utf8.RuneSelf {
				if u, ok := stringUnit(string(rune(b)), e2); ok {
					add(u)
				}
			}
		})
	})
}

// utf16Escape reads the four hex digits after \u or %u; a high surrogate
// counts only with the low one after it, written with the same intro.
func (d *decoder) utf16Escape(p, depth int, intro byte, add func(unit)) {
	d.hex4(p, depth, func(r rune, e3 int) {
		if !utf16.IsSurrogate(r) {
			if u, ok := stringUnit(string(r), e3); ok {
				add(u)
			}
			return
		}
		d.each(e3, depth, func(c byte, e4 int) {
			if c != intro {
				return
			}
			d.each(e4, depth, func(c byte, e5 int) {
				if c != 'u' && c != 'U' {
					return
				}
				d.hex4(e5, depth, func(r2 rune, e6 int) {
					if pair := utf16.DecodeRune(r, r2); pair != utf8.RuneError {
						if u, ok := stringUnit(string(pair), e6); ok {
							add(u)
						}
					}
				})
			})
		})
	})
}

// hex4 reads four hex digits.
func (d *decoder) hex4(p, depth int, f func(r rune, end int)) {
	var step func(p, n int, val rune)
	step = func(p, n int, val rune) {
		if n == 4 {
			f(val, p)
			return
		}
		d.each(p, depth, func(c byte, end int) {
			if isHex(c) {
				step(end, n+1, val<<4|rune(unhex(c)))
			}
		})
	}
	step(p, 0, 0)
}

func jsonSimpleEscape(c byte) (byte, bool) {
	switch c {
	case '"', '\\', '/':
		return c, true
	case 'b':
		return '\b', true
	case 'f':
		return '\f', true
	case 'n':
		return '\n', true
	case 'r':
		return '\r', true
	case 't':
		return '\t', true
	}
	return 0, false
}

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
