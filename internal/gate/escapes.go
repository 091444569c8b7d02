package gate

import (
	"bytes"
	"html"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// visible drops, in place, what a reader does not see: control characters
// but tab, newline and carriage return; format characters and the other
// default-ignorable ones (soft hyphen, zero-width space, joiners, BOM,
// bidirectional marks, tags, variation selectors); and ANSI escape
// sequences (ESC [ … final byte). Bytes that are not UTF-8 stay.
func visible(b []byte) []byte {
	out := b[:0]
	for i := 0; i < len(b); {
		c := b[i]
		if c == 0x1b {
			i = afterANSI(b, i)
			continue
		}
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != 0x7f || c == '\t' || c == '\n' || c == '\r' {
				out = append(out, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 || !unicode.In(r, unicode.Cc, unicode.Cf,
			unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector) {
			out = append(out, b[i:i+n]...)
		}
		i += n
	}
	return out
}

// afterANSI returns where the escape sequence at b[i] (ESC) ends: after a
// CSI sequence's final byte, or after the ESC alone.
func afterANSI(b []byte, i int) int {
	for j := i + 2; i+1 < len(b) && b[i+1] == '[' && j < len(b) && j < i+32 && b[j] >= 0x20; j++ {
		if b[j] >= 0x40 && b[j] <= 0x7e {
			return j + 1
		}
	}
	return i + 1
}

// decode returns b with every escape in it decoded once, left to right, and
// whether there was one: %XX and %uXXXX; HTML references, numeric (&#65;
// &#x41;) and named (&amp;); and \uXXXX (a UTF-16 pair as one character),
// \u{X…}, \UXXXXXXXX, \xXX and the single-character escapes of JSON and
// JavaScript. Letters in escapes may be of either case, as in a text
// upper-cased on its way.
func decode(b []byte) ([]byte, bool) {
	if !bytes.ContainsAny(b, `%&\`) {
		return b, false
	}
	out := make([]byte, 0, len(b))
	changed := false
	for i := 0; i < len(b); {
		var n int
		switch b[i] {
		case '%':
			out, n = percent(out, b, i)
		case '&':
			out, n = reference(out, b, i)
		case '\\':
			out, n = backslash(out, b, i)
		}
		if n == 0 {
			out = append(out, b[i])
			n = 1
		} else {
			changed = true
		}
		i += n
	}
	return out, changed
}

// percent decodes %XX or %uXXXX at b[i]; n is 0 when there is none.
func percent(out, b []byte, i int) (_ []byte, n int) {
	if v, ok := hexAt(b, i+1, 2); ok {
		return append(out, byte(v)), 3
	}
	if i+1 < len(b) && b[i+1]|0x20 == 'u' {
		return utf16At(out, b, i, 2, "%u")
	}
	return out, 0
}

// backslash decodes \uXXXX, \xXX or a single-character escape at b[i].
func backslash(out, b []byte, i int) (_ []byte, n int) {
	if i+1 >= len(b) {
		return out, 0
	}
	switch b[i+1] | 0x20 {
	case 'u':
		return unicodeEscape(out, b, i)
	case 'x':
		if v, ok := hexAt(b, i+2, 2); ok {
			return append(out, byte(v)), 4
		}
		return out, 0
	}
	// \b and \f are controls, which the next reading drops.
	if k := strings.IndexByte(`"'\/ntrbf`, b[i+1]); k >= 0 {
		return append(out, "\"'\\/\n\t\r\x00\x00"[k]), 2
	}
	return out, 0
}

// unicodeEscape decodes \uXXXX, \u{X…} (JavaScript), or \UXXXXXXXX
// (Python, Go) at b[i]; \U with four digits is an upper-cased \u.
func unicodeEscape(out, b []byte, i int) (_ []byte, n int) {
	if i+2 < len(b) && b[i+2] == '{' {
		j := i + 3
		for j < len(b) && j-i < 10 && isHex(b[j]) {
			j++
		}
		if v, ok := hexAt(b, i+3, j-i-3); ok && j > i+3 && j < len(b) && b[j] == '}' && v <= utf8.MaxRune {
			return utf8.AppendRune(out, rune(v)), j + 1 - i
		}
		return out, 0
	}
	if v, ok := hexAt(b, i+2, 8); ok && b[i+1] == 'U' && v <= utf8.MaxRune {
		return utf8.AppendRune(out, rune(v)), 10
	}
	return utf16At(out, b, i, 2, `\u`)
}

// utf16At decodes a UTF-16 unit written as intro (2 bytes) and 4 hex digits
// at b[i], and the unit after it in the same form when the two make a pair.
func utf16At(out, b []byte, i, introLen int, intro string) (_ []byte, n int) {
	v, ok := hexAt(b, i+introLen, 4)
	if !ok {
		return out, 0
	}
	r, n := rune(v), introLen+4
	if utf16.IsSurrogate(r) {
		j := i + n
		if w, ok := hexAt(b, j+introLen, 4); ok && j+introLen <= len(b) && b[j] == intro[0] && b[j+1]|0x20 == intro[1] {
			if pair := utf16.DecodeRune(r, rune(w)); pair != utf8.RuneError {
				r, n = pair, n+introLen+4
			}
		}
	}
	return utf8.AppendRune(out, r), n
}

// reference decodes an HTML character reference at b[i] (&): numeric,
// with or without its ";", or named, with it. A name is read in any letter
// case when the exact one is unknown, as a text upper-cased on its way
// needs.
func reference(out, b []byte, i int) (_ []byte, n int) {
	if i+2 < len(b) && b[i+1] == '#' {
		base, j := uint32(10), i+2
		if b[j]|0x20 == 'x' {
			base, j = 16, j+1
		}
		var v uint32
		start := j
		for ; j < len(b) && j-start < 40 && (isHex(b[j]) && base == 16 || '0' <= b[j] && b[j] <= '9'); j++ {
			v = min(v*base+uint32(unhex(b[j])), utf8.MaxRune+1)
		}
		if j == start || v > utf8.MaxRune || utf16.IsSurrogate(rune(v)) {
			return out, 0
		}
		if j < len(b) && b[j] == ';' {
			j++
		}
		return utf8.AppendRune(out, rune(v)), j - i
	}
	j := i + 1
	for j < len(b) && j-i <= 32 && ('a' <= b[j]|0x20 && b[j]|0x20 <= 'z' || '0' <= b[j] && b[j] <= '9') {
		j++
	}
	if j == i+1 || j >= len(b) || b[j] != ';' {
		return out, 0
	}
	ref := string(b[i : j+1])
	if dec := html.UnescapeString(ref); dec != ref {
		return append(out, dec...), len(ref)
	}
	lower := strings.ToLower(ref)
	if invisibleNames[lower] {
		return out, len(ref)
	}
	if dec := html.UnescapeString(lower); dec != lower {
		return append(out, dec...), len(ref)
	}
	return out, 0
}

// invisibleNames are the named references of characters that do not
// render, in lower case: their mixed-case names upper-cased are no name.
var invisibleNames = map[string]bool{"&shy;": true, "&zerowidthspace;": true, "&zwnj;": true, "&zwj;": true,
	"&nobreak;": true, "&lrm;": true, "&rlm;": true, "&it;": true, "&invisibletimes;": true, "&ic;": true,
	"&invisiblecomma;": true, "&af;": true, "&applyfunction;": true}

// hexAt reads n hex digits at b[i].
func hexAt(b []byte, i, n int) (uint32, bool) {
	if i < 0 || i+n > len(b) {
		return 0, false
	}
	var v uint32
	for _, c := range b[i : i+n] {
		if !isHex(c) {
			return 0, false
		}
		v = v<<4 | uint32(unhex(c))
	}
	return v, true
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c|0x20 && c|0x20 <= 'f' }

func unhex(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return c | 0x20 - 'a' + 10
}
