package redact

import "strings"

// namedRefs are the HTML named character references that stand for a
// character a run of a secret or a token can hold (printable ASCII, tab,
// newline) or for one that does not render: the others cannot be part of a
// leak. TestNamedRefsComplete holds the list to the standard library's
// table of HTML5 references.
var namedRefs = map[string]rune{
	"Tab": '\t', "NewLine": '\n',
	"excl": '!', "QUOT": '"', "quot": '"', "num": '#', "dollar": '$', "percnt": '%', "AMP": '&', "amp": '&',
	"apos": '\'', "lpar": '(', "rpar": ')', "ast": '*', "midast": '*', "plus": '+', "comma": ',', "period": '.',
	"sol": '/', "colon": ':', "semi": ';', "LT": '<', "lt": '<', "equals": '=', "GT": '>', "gt": '>',
	"quest": '?', "commat": '@', "lbrack": '[', "lsqb": '[', "bsol": '\\', "rbrack": ']', "rsqb": ']',
	"Hat": '^', "UnderBar": '_', "lowbar": '_', "DiacriticalGrave": '`', "grave": '`',
	"lbrace": '{', "lcub": '{', "VerticalLine": '|', "verbar": '|', "vert": '|', "rbrace": '}', "rcub": '}',
	"shy": '\u00ad', "NegativeMediumSpace": '\u200b', "NegativeThickSpace": '\u200b', "NegativeThinSpace": '\u200b',
	"NegativeVeryThinSpace": '\u200b', "ZeroWidthSpace": '\u200b', "zwnj": '\u200c', "zwj": '\u200d',
	"lrm": '\u200e', "rlm": '\u200f', "NoBreak": '\u2060', "ApplyFunction": '\u2061', "af": '\u2061',
	"InvisibleTimes": '\u2062', "it": '\u2062', "InvisibleComma": '\u2063', "ic": '\u2063',
}

// namedRefsFolded is namedRefs by lower-case name: a gateway that
// upper-cases what it quotes writes &PLUS; and &SHY;.
var namedRefsFolded = func() map[string]rune {
	m := make(map[string]rune, len(namedRefs))
	for name, r := range namedRefs {
		m[strings.ToLower(name)] = r
	}
	return m
}()

// maxName bounds a reference's name: the longest HTML5 names have 31 letters.
const maxName = 32

// namedRef looks up the name of a reference (without & and ;), in its own
// letter case first.
func namedRef(name []byte) (rune, bool) {
	if r, ok := namedRefs[string(name)]; ok {
		return r, true
	}
	var lower [maxName]byte
	for i, c := range name {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower[i] = c
	}
	r, ok := namedRefsFolded[string(lower[:len(name)])]
	return r, ok
}
