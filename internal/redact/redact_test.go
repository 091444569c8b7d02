package redact

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/faceki/terraform-provider-faceki/internal/leakcheck"
)

// testSecret has every character that needs escaping in a query string or JSON.
const testSecret = `Tf9+k/Qz=8&Lm%2F w4 Rx`

// assertNoSecret fails when text holds a run of a secret in any encoding.
func assertNoSecret(t testing.TB, text string, secrets ...string) {
	t.Helper()
	for i, s := range secrets {
		if found := leakcheck.FindSecret(text, s); len(found) > 0 {
			t.Errorf("text leaks value #%d: %v\n%s", i, found, text)
		}
	}
}

// richSecret has a character of every class that encodes differently in a
// query, a path, HTML and JSON.
const richSecret = `a"b\c<d>&e+f/g=h%2fi j#k?l'm`

// The property test's budget in `make test`; FACEKI_REDACT_CASES raises it,
// and `go test -fuzz FuzzRedact` runs the same property for as long as asked.
const propertyCases = 2000

// encoder is one layer of encoding the property test composes.
type encoder struct {
	name  string
	enc   func(string) string
	depth int // layers of escaping it adds
}

// layers are the encodings a server, a gateway or a log may wrap a secret
// in; leakcheck's single encodings, plus mixed-case percent escapes and
// named HTML references.
var layers = func() []encoder {
	var out []encoder
	for _, e := range leakcheck.Encodings[1:] { // not "raw"
		depth := 1
		if e.Name == "query, twice" || e.Name == "HTML decimal references of the query" {
			depth = 2
		}
		out = append(out, encoder{e.Name, e.Encode, depth})
	}
	return append(out,
		encoder{"percent, mixed-case hex", func(s string) string {
			var b strings.Builder
			for i := 0; i < len(s); i++ {
				h := fmt.Sprintf("%02X", s[i])
				if i%2 == 1 {
					h = strings.ToLower(h)
				}
				b.WriteString("%" + h)
			}
			return b.String()
		}, 1},
		encoder{"HTML named references", func(s string) string {
			named := map[rune]string{'&': "&amp;", '<': "&lt;", '>': "&gt;", '"': "&quot;", '\'': "&apos;", '+': "&plus;",
				'/': "&sol;", '=': "&equals;", '%': "&percnt;", '#': "&num;", '?': "&quest;", '\\': "&bsol;", ' ': "&#32;"}
			var b strings.Builder
			for _, r := range s {
				if n, ok := named[r]; ok {
					b.WriteString(n)
				} else {
					b.WriteRune(r)
				}
			}
			return b.String()
		}, 1},
	)
}()

// printable is the secret alphabet: all of printable ASCII.
func randomPrintable(rng *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(' ' + rng.IntN(95))
	}
	return string(b)
}

// compose wraps s in up to three random layers; with withBase64, half the
// time the first is Base64 (at a random alignment, inside other bytes), as a
// Basic credential or a blob would carry it. A third of the time characters
// that do not render are inserted first (raw or escaped: the layers after
// encode them in turn), and any layer may instead change letter case at
// random: what a reader sees through without decoding anything.
//
// depth is how many layers of escaping a reader must see through, for the
// secret or for an escaped character inserted in it.
func compose(rng *rand.Rand, s string, withBase64 bool) (enc string, names []string, depth int) {
	if withBase64 && rng.IntN(2) == 0 {
		enc := base64.StdEncoding
		if rng.IntN(2) == 0 {
			enc = base64.URLEncoding
		}
		prefix := randomPrintable(rng, rng.IntN(3))
		s = enc.EncodeToString([]byte(prefix + s + randomPrintable(rng, rng.IntN(3))))
		names = append(names, fmt.Sprintf("base64 after %d bytes", len(prefix)))
	}
	if rng.IntN(8) == 0 {
		s = utf16ish(s)
		names = append(names, "UTF-16 (a NUL after each ASCII byte)")
	}
	if rng.IntN(3) == 0 {
		var escaped bool
		s, escaped = insertInvisible(rng, s)
		names = append(names, "characters that do not render inserted")
		if escaped {
			depth++
		}
	}
	// Up to every layer promised and one more, while the text stays small
	// enough to run thousands of cases (each percent layer triples it).
	for n := rng.IntN(Layers + 2); n > 0 && len(s) < 4<<10; n-- {
		if rng.IntN(len(layers)+1) == 0 {
			s = changeCase(rng, s)
			names = append(names, "letter case changed")
			continue
		}
		l := layers[rng.IntN(len(layers))]
		s = l.enc(s)
		names = append(names, l.name)
		depth += l.depth
	}
	return s, names, depth
}

// utf16ish writes each ASCII byte of s as UTF-16LE does: followed by a NUL.
func utf16ish(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteByte(s[i])
		if s[i] < utf8.RuneSelf {
			b.WriteByte(0)
		}
	}
	return b.String()
}

// changeCase swaps the case of each ASCII letter with probability 1/2.
func changeCase(rng *rand.Rand, s string) string {
	b := []byte(s)
	for i, c := range b {
		if rng.IntN(2) == 0 && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			b[i] = c ^ 0x20
		}
	}
	return string(b)
}

// invisibleForms are characters that do not render, as a page, a log or a
// program may write them.
var invisibleForms = func() []string {
	var forms []string
	for _, r := range leakcheck.Invisible { // raw
		forms = append(forms, string(r))
	}
	forms = append(forms, leakcheck.ANSI...)
	return append(forms,
		"&shy;", "&#173;", "&#x00AD;", "&#0008203;", "&ZeroWidthSpace;", "&zwj;", `\u200c`, `\u2060`, "%C2%AD", "%e2%80%8b", "%uFEFF", `\xc2\xad`,
		"&lrm;", "&#8206;", "&InvisibleTimes;", `\u2062`, "%CD%8F", `\u{180e}`, `\U00002066`, "%F3%A0%80%81", `\xad`, "%AD",
		`\000`, `\x00`, "%00", `\u0000`, "&#0;", `\u0085`, `\x1b[0m`, `\u001b[1;31m`, `\033[K`, `\e[0m`, "%1B%5B0m",
	)
}()

// insertInvisible puts one to four of them between characters of s (never
// inside one inserted before); escaped reports one that is not raw.
func insertInvisible(rng *rand.Rand, s string) (_ string, escaped bool) {
	if len(s) < 2 {
		return s, false
	}
	at := map[int]string{}
	for n := 1 + rng.IntN(4); n > 0; n-- {
		f := rng.IntN(len(invisibleForms))
		at[1+rng.IntN(len(s)-1)] += invisibleForms[f]
		escaped = escaped || f >= len(leakcheck.Invisible)+len(leakcheck.ANSI)
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteString(at[i])
		b.WriteByte(s[i])
	}
	return b.String(), escaped
}

// piece is the secret, or a run of it of at least 8 characters: a "hint"
// or a cut that still leaks.
func piece(rng *rand.Rand, secret string) string {
	if rng.IntN(3) == 0 || len(secret) <= leakcheck.SecretRun {
		return secret
	}
	n := leakcheck.SecretRun + rng.IntN(len(secret)-leakcheck.SecretRun+1)
	start := rng.IntN(len(secret) - n + 1)
	return secret[start : start+n]
}

// filler is ordinary text around the secret, with escapes of its own.
func filler(rng *rand.Rand) string {
	words := []string{"error", "%41", "&amp;", `\u0041`, "&#x2F;", "returnUrl=", "<p>", `\"`, "%2B", "token", "+", " ",
		`\x41`, "%u0041", "&#0000065;", "&shy;", "\u200b", "ERROR", "&AMP;"}
	var b strings.Builder
	for n := rng.IntN(8); n > 0; n-- {
		b.WriteString(words[rng.IntN(len(words))])
	}
	return b.String()
}

// checkRedacted is the property: whatever the encoding, no run of 8
// characters of the secret survives in any single encoding.
//
// Within the layers it promises to see through (depth), the redactor must
// also have redacted something: the oracle sees single encodings only, and a
// run missed in several layers would slip past it.
func checkRedacted(t *testing.T, rd *Redactor, secret, text, how string, depth int) {
	t.Helper()
	out := rd.Redact(text)
	if found := leakcheck.FindSecret(out, secret); len(found) > 0 {
		t.Fatalf("secret %q encoded as %s leaks (%v):\ninput  %s\noutput %s", secret, how, found, clip(text), clip(out))
	}
	if depth <= Layers && !strings.Contains(out, Redacted) && out != Withheld {
		t.Fatalf("secret %q encoded as %s: nothing redacted:\ninput  %s\noutput %s", secret, how, clip(text), clip(out))
	}
}

// clip quotes text for a failure message, its middle left out when long.
func clip(text string) string {
	if len(text) <= 600 {
		return strconv.Quote(text)
	}
	return strconv.Quote(text[:300]) + fmt.Sprintf(" …%d bytes… ", len(text)-600) + strconv.Quote(text[len(text)-300:])
}

func propertySeed(t *testing.T) uint64 {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("FACEKI_REDACT_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("FACEKI_REDACT_SEED=%d reproduces this run", seed)
	return seed
}

func TestRedactProperty(t *testing.T) {
	t.Parallel()
	cases := propertyCases
	if s := os.Getenv("FACEKI_REDACT_CASES"); s != "" {
		cases, _ = strconv.Atoi(s)
	}
	rng := rand.New(rand.NewPCG(propertySeed(t), 0))
	start := time.Now()
	for i := 0; i < cases; i++ {
		secret := randomPrintable(rng, 8+rng.IntN(57))
		rd := New()
		rd.AddSecret(secret)
		p := piece(rng, secret)
		enc, names, depth := compose(rng, p, true)
		text := filler(rng) + " " + enc + " " + filler(rng)
		checkRedacted(t, rd, secret, text, fmt.Sprintf("%d characters of it, %v", len(p), names), depth)

		// Text without the secret comes out unchanged.
		plain := filler(rng) + " " + randomPrintable(rng, rng.IntN(200)) + " " + filler(rng)
		if out := rd.Redact(plain); out != plain {
			t.Fatalf("secret %q: text without it changed:\ninput  %q\noutput %q", secret, plain, out)
		}
	}
	t.Logf("%d cases (secret, encoding, text without the secret) in %s", cases, time.Since(start).Round(time.Millisecond))
}

func TestRedactPropertyTokens(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(propertySeed(t), 1))
	for i := 0; i < propertyCases/5; i++ {
		tok := randomJWT(rng)
		rd := New()
		rd.AddToken(leakcheck.TokenSecret(tok)) // as a client registers it
		p := tok
		if rng.IntN(2) == 0 { // a run of 16 or more of the payload or signature
			sec := leakcheck.TokenSecret(tok)
			n := leakcheck.TokenRun + rng.IntN(len(sec)-leakcheck.TokenRun)
			start := rng.IntN(len(sec) - n + 1)
			p = sec[start : start+n]
		}
		enc, names, depth := compose(rng, p, false)
		out := rd.Redact(filler(rng) + " Bearer " + enc + " " + filler(rng))
		if found := leakcheck.FindToken(out, tok); len(found) > 0 {
			t.Fatalf("token encoded as %v leaks (%v): %s", names, found, clip(out))
		}
		if depth <= Layers && !strings.Contains(out, Redacted) && out != Withheld {
			t.Fatalf("token encoded as %v: nothing redacted: %s", names, clip(out))
		}
	}
}

func randomJWT(rng *rand.Rand) string {
	b64 := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`))
	return header + "." + b64(40+rng.IntN(200)) + "." + b64(64+rng.IntN(200))
}

// FuzzRedact runs the property on inputs the fuzzer chooses: a secret, the
// text around it, which layers wrap it and which run of it is quoted.
func FuzzRedact(f *testing.F) {
	f.Add(richSecret, "returnUrl=", " (hint)", uint64(0x1234), uint8(0), uint8(40))
	f.Add("Tf9+k/Qz=8&Lm%2F w4 Rx", "<p>", "</p>", uint64(0x77), uint8(3), uint8(12))
	f.Add(`%41%41%41%41&amp;\u0041`, `\\`, "%", uint64(0xffff), uint8(1), uint8(9))
	// Found by the fuzzer: a lone \u00000000 (or \U00000000) is JSON's NUL
	// before four of the secret's zeros, not Python's NUL.
	f.Add("00000001", "0", "0", uint64(4612), uint8(0), uint8('('))
	f.Add("00 00001", "0", "0", uint64(46), uint8('^'), uint8('\f')) // an upper-cased \u0000 before 0000
	// JSON's \u0000 inserted before "0600", which as Python's \u00000600 is
	// a format character: the second skip view reads it as JSON.
	f.Add("00060000", "0", "0", uint64(65614), uint8('\r'), uint8(0xa0))
	f.Add("00100000", "0", "0", uint64(65895), uint8(0xb8), uint8(0)) // and before "1000", a letter as Python's
	f.Fuzz(func(t *testing.T, secret, before, after string, ops uint64, start, length uint8) {
		for i := 0; i < len(secret); i++ {
			if secret[i] < ' ' || secret[i] > '~' {
				return // printable ASCII secrets, as FACEKI generates (and more)
			}
		}
		if len(secret) < leakcheck.SecretRun || len(secret) > 200 || len(before)+len(after) > 4096 {
			return
		}
		// ESC or CSI, raw or escaped, around the secret: an ANSI sequence
		// whose last byte is the secret's first, or whose parameters are the
		// secret's digits, which a terminal does not show. A known limit:
		// the redactor drops ANSI sequences whole, and reads what a terminal
		// shows.
		if mayStartANSI(before) || mayStartANSI(after) {
			return
		}
		// A secret whose own text holds escape syntax ("00%u0000", "\\070")
		// with escapes of invisible characters inserted in it reads two
		// ways: an inserted escape that splits or abuts one of its own, or
		// its own that looks inserted. The redactor reads one (a known
		// limit; TestRedactProperty measures how often it is the wrong one).
		ownEscapes := strings.ContainsAny(secret, "%&\\")
		if ownEscapes && ops&4 != 0 {
			return
		}
		rd := New()
		rd.AddSecret(secret)
		// The run quoted: from start, at least 8 characters.
		s := int(start) % (len(secret) - leakcheck.SecretRun + 1)
		n := leakcheck.SecretRun + int(length)%(len(secret)-s-leakcheck.SecretRun+1)
		p := secret[s : s+n]
		var names []string
		// Bits 2-3 of ops: characters that do not render inserted, letter
		// case changed, each at places the rest of ops chooses.
		rng := rand.New(rand.NewPCG(ops, 4))
		depth := 0
		if ops&4 != 0 {
			var escaped bool
			if p, escaped = insertInvisible(rng, p); escaped {
				depth++
			}
			names = append(names, "invisible")
		}
		for i := uint64(0); i < ops%4; i++ {
			l := layers[(ops>>(8+8*i))%uint64(len(layers))]
			p = l.enc(p)
			names = append(names, l.name)
			depth += l.depth
		}
		if ops&8 != 0 {
			p = changeCase(rng, p)
			names = append(names, "case")
		}
		checkRedacted(t, rd, secret, before+" "+p+" "+after, fmt.Sprint(names), depth)

		// Around the secret, text that cannot decode to it (no escapes, none
		// of its characters in either case, no "+" or space) comes out
		// unchanged.
		if !strings.ContainsAny(strings.ToLower(before), "%&\\+ "+strings.ToLower(secret)) {
			if out := rd.Redact(before); out != before {
				t.Fatalf("text without the secret changed: %q → %q", before, out)
			}
		}
	})
}

// mayStartANSI reports text that holds ESC or CSI, raw or in an escape.
func mayStartANSI(text string) bool {
	if strings.ContainsAny(text, "\x1b\u009b") || strings.Contains(text, "\x9b") {
		return true
	}
	var r reading // as the first layer reads it: "\\", a C1 control, "e" is "\\e"
	readRaw(text, &r)
	lower := strings.ToLower(string(r.b))
	for _, s := range []string{"1b", "9b", "033", "233", `\e`, "&#27", "&#155"} {
		if strings.Contains(lower, s) {
			return true
		}
	}
	return false
}

// TestRedactClasses names each form the issue found leaking, one by one.
func TestRedactClasses(t *testing.T) {
	t.Parallel()
	rd := New()
	rd.AddSecret(testSecret)
	q := url.QueryEscape(testSecret)
	requestURI := "/auth/api/access-token?clientId=acme&clientSecret=" + q
	cases := map[string]string{
		"raw":                         testSecret,
		"query":                       q,
		"query twice (returnUrl=)":    "https://login.example/?returnUrl=" + url.QueryEscape(requestURI),
		"query three times":           url.QueryEscape(url.QueryEscape(requestURI)),
		"mixed-case escapes":          "Tf9%2bk%2FQz%3d8%26Lm%252f+w4+Rx",
		"HTML decimal references":     leakcheck.Encodings[9].Encode(testSecret),
		"HTML hex references":         "&#x54;&#X66;&#x39;&#x2B;&#x6b;&#X2f;&#x51;&#x7a;&#x3D;&#x38;",
		"HTML references of a query":  leakcheck.Encodings[9].Encode(requestURI),
		"named references":            "Tf9&plus;k&sol;Qz&equals;8&amp;Lm&percnt;2F w4 Rx",
		"JSON \\u escapes":            `\u0054\u0066\u0039\u002b\u006b\u002f\u0051\u007a\u003d\u0038`,
		"JSON escaped slash":          `Tf9+k\/Qz=8&Lm%2F w4 Rx`,
		"hint: first dozen":           "the secret starts with " + testSecret[:12] + "…",
		"hint: 8 in the middle":       "…" + testSecret[6:14] + "…",
		"+ as a space, space as +":    strings.ReplaceAll(testSecret, " ", "+"),
		"Base64 (Basic credentials)":  "Basic " + base64.StdEncoding.EncodeToString([]byte("acme:"+testSecret)),
		"Base64url after one byte":    base64.RawURLEncoding.EncodeToString([]byte("x" + testSecret)),
		"Base64 of a hint":            base64.StdEncoding.EncodeToString([]byte(testSecret[:9])),
		"JSON inside HTML inside URL": url.QueryEscape(leakcheck.Encodings[8].Encode(`{"s":"` + testSecret + `"}`)),
		// What a reader undoes at a glance.
		"upper-cased":                       strings.ToUpper(testSecret),
		"upper-cased query":                 strings.ToUpper(q),
		"case flipped":                      "tF9+K/qZ=8&lM%2f W4 rX",
		`\x escapes`:                        `\x54\x66\x39\x2b\x6b\x2f\x51\x7a\x3d\x38`,
		`\X escapes`:                        `\X54\X66\X39\X2B\X6B\X2F\X51\X7A\X3D\X38`,
		"%u escapes":                        "%u0054%u0066%u0039%u002B%u006B%u002F%u0051%u007A%u003D%u0038",
		"references with leading zeros":     "&#0000084;&#00102;&#057;&#0000000043;&#x006b;&#X00002F;&#81;&#122;&#61;&#056;",
		`upper-cased \u and references`:     `\U0054\U0066\U0039&PLUS;K&SOL;QZ&EQUALS;8`,
		"soft hyphens":                      "Tf9\u00ad+k/Q\u00adz=8&Lm",
		"&shy; and zero-width space refs":   "Tf9&shy;+k/Qz&#8203;=8&Lm",
		"joiners, word joiner, BOM":         "T\u200cf9+\u200dk/\u2060Qz=\ufeff8&Lm",
		"escaped soft hyphen in a query":    "Tf9%C2%AD%2Bk%2FQz%3D8%26Lm",
		"named, mixed case":                 "Tf9&ZeroWidthSpace;+k/&zerowidthspace;Qz=&NOBREAK;8&Lm",
		`\u200b, %u, \x forms`:              `Tf9\u200b+k/%u200BQz=\xe2\x80\x8b8&Lm`,
		"upper-cased with a soft hyphen":    strings.ToUpper("tf9+k/qz") + "&SHY;=8&LM",
		"leading zeros of a zero-width ref": "Tf9+k&#x000000200B;/Qz=8",
		// Issue 20: every default-ignorable and format character, controls,
		// ANSI sequences, raw and escaped; more escapes; more layers.
		"LRM between characters":          secretWith("\u200e"),
		"invisible times":                 secretWith("\u2062"),
		"combining grapheme joiner":       secretWith("\u034f"),
		"Mongolian vowel separator":       secretWith("\u180e"),
		"left-to-right isolate":           secretWith("\u2066"),
		"&#8206; between characters":      secretWith("&#8206;"),
		"UTF-16 (a NUL after each byte)":  secretWith("\x00") + "\x00",
		"ANSI colour codes":               secretWith("\x1b[0m"),
		"ANSI in JSON":                    secretWith(`\u001b[1;31m`),
		"C1 controls":                     secretWith("\u0085"),
		"tag characters":                  secretWith("\U000e0041"),
		"variation selectors":             secretWith("\ufe0f"),
		`octal \124`:                      `\124\146\071\053\153\057\121\172\075\070`,
		`ES6 \u{54}`:                      `\u{54}\u{66}\u{39}\u{2b}\u{6b}\u{2f}\u{51}\u{7a}\u{3d}\u{38}`,
		`Python \U00000054`:               `\U00000054\U00000066\U00000039\U0000002b\U0000006b\U0000002f\U00000051\U0000007a`,
		`lower-cased Python \u00000054`:   `\u00000054\u00000066\u00000039\u0000002b\u0000006b\u0000002f\u00000051\u0000007a`,
		"five layers of percent-encoding": nestQuery(testSecret, 5),
		"eight layers":                    nestQuery(testSecret, Layers),
		`\ before an inserted \u200c`:     `Tf9+k/Qz=8&Lm%2F w4\\u200c Rx`,
	}
	for name, text := range cases {
		out := rd.Redact("before " + text + " after")
		if !strings.Contains(out, Redacted) || !strings.HasPrefix(out, "before ") || !strings.HasSuffix(out, " after") {
			t.Errorf("%s: %q → %q", name, text, out)
		}
		assertNoSecret(t, out, testSecret)
	}
}

// secretWith puts sep between the characters of testSecret.
func secretWith(sep string) string { return strings.Join(strings.Split(testSecret, ""), sep) }

// nestQuery query-escapes s n times.
func nestQuery(s string, n int) string {
	for range n {
		s = url.QueryEscape(s)
	}
	return s
}

// TestRedactLayers: a secret under Layers layers of escapes of every kind,
// one kind per layer in each order tried, is redacted; so is each layer's
// text on its own way out.
func TestRedactLayers(t *testing.T) {
	t.Parallel()
	rd := New()
	rd.AddSecret(testSecret)
	var kinds []encoder
	for _, l := range layers {
		switch l.name {
		case "query", "HTML escape", "JSON", `JSON \u escapes`, `C/JavaScript \x escapes`, "HTML decimal references", `C octal escapes`, "percent, mixed-case hex":
			kinds = append(kinds, l)
		}
	}
	if len(kinds) != 8 {
		t.Fatalf("%d kinds of layers found", len(kinds))
	}
	rng := rand.New(rand.NewPCG(propertySeed(t), 6))
	tested := 0
	for i := 0; i < 50; i++ {
		s, names, depth := testSecret, []string(nil), 0
		for tries := 0; depth < Layers && tries < 100; tries++ {
			k := kinds[rng.IntN(len(kinds))]
			if next := k.enc(s); depth+k.depth <= Layers && len(next) <= MaxLen/8 {
				s, names, depth = next, append(names, k.name), depth+k.depth
			}
		}
		if depth < Layers {
			continue // every layer more would pass MaxLen/8
		}
		if out := rd.Redact("x " + s + " y"); out != "x "+Redacted+" y" {
			t.Errorf("%d layers %v: %s", depth, names, clip(out))
		}
		tested++
	}
	if tested < 25 {
		t.Errorf("only %d of 50 cases reached %d layers", tested, Layers)
	}
}

// TestRedactPublicRuns: runs of a secret that also occur in public text (the
// client ID: the emulator's default ID and secret once shared a prefix) are
// no leak; the rest of the secret is; and public text that holds the whole
// secret is not public.
func TestRedactPublicRuns(t *testing.T) {
	t.Parallel()
	const id, secret = "emulator-client-id", "emulator-client-secret"
	rd := New()
	rd.AddSecret(secret)
	rd.AddPublic(id)
	cases := map[string]string{
		"company_id = " + id:                 "company_id = " + id,
		"link /kycverify/" + id + "?x=1":     "link /kycverify/" + id + "?x=1",
		"emulator-client- (16 shared)":       "emulator-client- (16 shared)",
		"secret " + secret:                   "secret emulator-" + Redacted,
		"hint client-s":                      "hint " + Redacted,
		"upper-cased " + strings.ToUpper(id): "upper-cased " + strings.ToUpper(id),
	}
	for in, want := range cases {
		if got := rd.Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
	for _, public := range []string{secret, "x" + secret + "y"} {
		rd := New()
		rd.AddPublic(public) // before or after the secret: neither makes it public
		rd.AddSecret(secret)
		rd.AddPublic("another-" + public)
		if got := rd.Redact(secret); got != Redacted {
			t.Errorf("public text %q holding the secret: Redact(secret) = %q", public, got)
		}
	}
}

// TestRedactLeavesReadersFormsAlone: text with the new forms but no secret
// in it comes out unchanged.
func TestRedactLeavesReadersFormsAlone(t *testing.T) {
	t.Parallel()
	rd := New()
	rd.AddSecret(testSecret)
	for _, text := range []string{
		"ERROR: TOKEN EXPIRED", `\x41\x42 %u0041 &#0000065; &SHY; so\u00adft hy\u00adphens`,
		"zero\u200bwidth\ufeff and &ZeroWidthSpace; &#x0000200B;", "Tf9+k/Q — seven, then \u00ad more: z=8&",
		strings.Repeat("0", 5000) + "&#" + strings.Repeat("0", 100000) + "65;",
	} {
		if out := rd.Redact(text); out != text {
			t.Errorf("Redact(%q) = %q", text[:min(len(text), 80)], out[:min(len(out), 80)])
		}
	}
}

// TestRedactReplacesTheWholeSpan: an encoded secret is replaced from the
// first character of its encoding to the last, and nothing else is.
func TestRedactReplacesTheWholeSpan(t *testing.T) {
	t.Parallel()
	rd := New()
	rd.AddSecret("abcdefghij")
	cases := map[string]string{
		"x=abcdefghij&y=1":                                      "x=" + Redacted + "&y=1",
		"x=%61%62%63%64%65%66%67%68%69%6A;":                     "x=" + Redacted + ";",
		"<b>&#97;&#98;&#99;&#100;&#101;&#102;&#103;&#104;</b>":  "<b>" + Redacted + "</b>",
		`"\u0061bcdefgh" and abcdefg`:                           `"` + Redacted + `" and abcdefg`, // 7 characters are not a leak
		"abcdefghij abcdefghij":                                 Redacted + " " + Redacted,
		"%2561%2562%2563%2564%2565%2566%2567%2568 and the rest": Redacted + " and the rest",
		"x=ABC\u00adDEFGHIJ!":                                   "x=" + Redacted + "!",
		"x=&#00097;bcd&shy;efgh, ij":                            "x=" + Redacted + ", ij",
	}
	for in, want := range cases {
		if got := rd.Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestRedactShortSecret: a secret shorter than 8 characters is matched whole.
func TestRedactShortSecret(t *testing.T) {
	t.Parallel()
	rd := New()
	rd.AddSecret("p+ss")
	if got := rd.Redact("secret=p%2Bss, or p+s"); got != "secret="+Redacted+", or p+s" {
		t.Errorf("Redact = %q", got)
	}
}

// TestRedactorConcurrent: adding and redacting at once is safe and every
// token added before a redaction starts is matched.
func TestRedactorConcurrent(t *testing.T) {
	t.Parallel()
	rd := New()
	rd.AddSecret(testSecret)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 200 {
			rd.AddToken(fmt.Sprintf("opaque-token-%04d-0123456789", i))
		}
	}()
	for i := range 200 {
		out := rd.Redact("s=" + testSecret + fmt.Sprintf(" t=opaque-token-%04d-0123456789", i))
		if strings.Contains(out, testSecret) {
			t.Fatalf("secret survived: %q", out)
		}
	}
	<-done
	if got := rd.Redact("opaque-token-0199-0123456789"); got != Redacted {
		t.Errorf("last added token not redacted: %q", got)
	}
}

// TestRedactNestedEscapesBounded: text made of nothing but nested escapes
// is checked in bounded time, redacted where it decodes to the secret, and
// left alone where it does not.
func TestRedactNestedEscapesBounded(t *testing.T) {
	t.Parallel()
	nested := strings.Repeat(`%25&#37;\u0025&percnt;%2525`, 4000) // every character a '%', up to 3 layers deep
	cases := []struct {
		secret, want string
	}{
		{"%%%%%%%%%%%%%%%%", Redacted}, // it decodes to the secret everywhere: one span
		{"%%%%%%%X%%%%%%%Y", nested},   // every decoding almost matches, none has 8
	}
	for _, c := range cases {
		rd := New()
		rd.AddSecret(c.secret)
		start := time.Now()
		out := rd.Redact(nested)
		took := time.Since(start)
		t.Logf("secret %q: %d bytes of nested escapes → %q… in %s", c.secret, len(nested), out[:min(len(out), 30)], took.Round(time.Millisecond))
		if out != c.want {
			t.Errorf("secret %q: got %q…, want %q…", c.secret, out[:min(len(out), 60)], c.want[:min(len(c.want), 60)])
		}
		if took > 20*time.Second {
			t.Errorf("secret %q: took %s", c.secret, took)
		}
	}
}

// TestRedactWithholdsLongText: text longer than MaxLen is withheld whole,
// not read; text of MaxLen is read.
func TestRedactWithholdsLongText(t *testing.T) {
	t.Parallel()
	rd := New()
	rd.AddSecret(testSecret)
	long := strings.Repeat("%", MaxLen+1)
	if out := rd.Redact(long); out != Withheld {
		t.Errorf("got %q…, want %q", out[:min(len(out), 60)], Withheld)
	}
	atMax := strings.Repeat("x", MaxLen-len(testSecret)) + testSecret
	if out := rd.Redact(atMax); !strings.HasSuffix(out, "x"+Redacted) {
		t.Errorf("text of MaxLen not redacted: …%q", out[max(0, len(out)-40):])
	}
}

// TestAutomatonMatchesNaive: the matcher, built one pattern at a time (as
// tokens arrive), redacts exactly the bytes a brute-force search finds in
// runs of the patterns, on text without escapes.
func TestAutomatonMatchesNaive(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(propertySeed(t), 2))
	random := randomOver(rng, "abAB+ c") // few letters: many shared substrings, and the case and +/space folds
	fold := func(s string) string { return strings.ToLower(strings.ReplaceAll(s, " ", "+")) }
	for i := 0; i < 500; i++ {
		a := newAutomaton()
		var ps []pattern
		for n := 1 + rng.IntN(5); n > 0; n-- {
			text := random(3 + rng.IntN(10))
			p := pattern{text: text, minRun: 2 + rng.IntN(len(text)-1)}
			ps = append(ps, p)
			a.add(p)
		}
		text := random(rng.IntN(60))
		want := make([]bool, len(text))
		for i := range text {
			for j := i + 1; j <= len(text); j++ {
				for _, p := range ps {
					if j-i >= p.minRun && strings.Contains(fold(p.text), fold(text[i:j])) {
						for k := i; k < j; k++ {
							want[k] = true
						}
					}
				}
			}
		}
		if got := redactedBytes(t, a, text); !slices.Equal(got, want) {
			t.Fatalf("patterns %+v, text %q:\n got  %v\n want %v", ps, text, got, want)
		}
	}
}

// randomOver returns random strings of the given length over alphabet.
func randomOver(rng *rand.Rand, alphabet string) func(n int) string {
	return func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(b)
	}
}

// redactedBytes marks the bytes of text, which has no escapes, that a's
// matcher redacts.
func redactedBytes(t *testing.T, a *automaton, text string) []bool {
	t.Helper()
	mk, _ := a.freeze().find(text)
	got := make([]bool, len(text))
	for k := range got {
		got[k] = mk != nil && mk.has(k)
	}
	return got
}

// TestAutomatonManyEdges is TestAutomatonMatchesNaive with a wide alphabet
// and many patterns, as in a process that fetched many tokens: states get
// enough edges for their transitions to move to tables, while the matcher
// must still redact exactly what a brute-force search finds.
func TestAutomatonManyEdges(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(propertySeed(t), 3))
	random := randomOver(rng, "abcdefghijklmnopqrstuvwxyz0123456789-_.+ ")
	fold := func(s string) string { return strings.ReplaceAll(s, " ", "+") }
	for i := 0; i < 20; i++ {
		a := newAutomaton()
		var ps []pattern
		for n := 40 + rng.IntN(40); n > 0; n-- {
			text := random(20 + rng.IntN(60))
			p := pattern{text: text, minRun: 4 + rng.IntN(8)}
			ps = append(ps, p)
			a.add(p)
		}
		if len(a.tables) == 0 {
			t.Fatal("no state has a table: the test does not reach them")
		}
		// Text made of pieces of the patterns and random runs.
		var b strings.Builder
		for b.Len() < 300 {
			if rng.IntN(2) == 0 {
				p := ps[rng.IntN(len(ps))].text
				i := rng.IntN(len(p))
				b.WriteString(p[i : i+rng.IntN(len(p)-i)+1])
			} else {
				b.WriteString(random(1 + rng.IntN(12)))
			}
		}
		text := b.String()
		// From each position, the longest run of each pattern (a longer
		// string contains the shorter ones), marked when it is long enough.
		want := make([]bool, len(text))
		folded := fold(text)
		for i := range text {
			for _, p := range ps {
				pt, l := fold(p.text), 0
				for i+l < len(text) && strings.Contains(pt, folded[i:i+l+1]) {
					l++
				}
				if l >= p.minRun {
					for k := i; k < i+l; k++ {
						want[k] = true
					}
				}
			}
		}
		if got := redactedBytes(t, a, text); !slices.Equal(got, want) {
			t.Fatalf("text %q:\n got  %v\n want %v", text, got, want)
		}
	}
}
