package redact

import "strings"

// invisibles are the UTF-8 encodings of the characters that do not render:
// soft hyphen, zero-width space, non-joiner and joiner, word joiner, and the
// byte order mark (zero-width no-break space). A reader does not see them,
// so they do not break a run of a secret, whether raw or escaped (&shy;,
// &#8203;, \u200d, %C2%AD).
var invisibles = [...]string{"\u00ad", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"}

// isInvisibleLead reports the bytes their encodings start with.
func isInvisibleLead(b byte) bool { return b == 0xc2 || b == 0xe2 || b == 0xef }

// invisible reports whether u is exactly one character that does not
// render. (Byte by byte: it runs for many decoded characters.)
func (u *unit) invisible() bool {
	switch u.n {
	case 2:
		return u.b[0] == 0xc2 && u.b[1] == 0xad
	case 3:
		switch u.b[0] {
		case 0xe2:
			return u.b[1] == 0x80 && u.b[2] >= 0x8b && u.b[2] <= 0x8d || u.b[1] == 0x81 && u.b[2] == 0xa0
		case 0xef:
			return u.b[1] == 0xbb && u.b[2] == 0xbf
		}
	}
	return false
}

// rawInvisible returns the length of the character that does not render at
// text[q], written raw, or 0; tail reports one whose first bytes are raw and
// whose next one is escaped.
func rawInvisible(text string, q int) (k int, tail bool) {
	for _, inv := range invisibles {
		i := 0
		for i < len(inv) && q+i < len(text) && text[q+i] == inv[i] {
			i++
		}
		if i == len(inv) {
			return i, false
		}
		if i > 0 && q+i < len(text) && isEscapeStart(text[q+i]) {
			tail = true
		}
	}
	return 0, tail
}

// stripInvisible removes the characters that do not render from a pattern:
// they are skipped in the text it is matched against.
func stripInvisible(s string) string {
	if !strings.ContainsAny(s, "\u00ad\u200b\u200c\u200d\u2060\ufeff") {
		return s
	}
	for _, inv := range invisibles {
		s = strings.ReplaceAll(s, inv, "")
	}
	return s
}

// invisibleTail appends to ends the end of every character that does not
// render whose encoding starts with the byte lead, already read, and goes on
// at p, each further byte raw or escaped (%E2%80%8B, or \xe2\x80\x8b).
func (d *decoder) invisibleTail(lead byte, p int, ends []int) []int {
	for _, inv := range invisibles {
		if inv[0] == lead {
			ends = d.bytesAt(p, inv[1:], ends)
		}
	}
	return ends
}

// bytesAt appends to ends the end of want read at p, byte by byte.
func (d *decoder) bytesAt(p int, want string, ends []int) []int {
	if want == "" {
		return append(ends, p)
	}
	if p >= len(d.text) || d.budget <= 0 {
		return ends
	}
	d.budget--
	if c := d.text[p]; !isEscapeStart(c) {
		if c == want[0] {
			ends = d.bytesAt(p+1, want[1:], ends)
		}
		return ends
	}
	for _, u := range d.escapeUnits(p, maxDepth) {
		if u.n == 1 && u.b[0] == want[0] {
			ends = d.bytesAt(u.end, want[1:], ends)
		}
	}
	return ends
}
