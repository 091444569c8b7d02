package redact

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Bounds the redactor promises for any text up to MaxLen, as ratios to
// plain ASCII text of the same size, measured side by side.
const (
	maxTimeRatio  = 10 // time to redact, over the time for plain text
	maxAllocRatio = 16 // bytes allocated per byte of text
)

// family is a kind of hostile input: a unit repeated, or a generator.
type advFamily struct {
	name string
	gen  func(rng *rand.Rand, n int) string
}

func repeatTo(unit string, n int) string { return strings.Repeat(unit, n/len(unit)+1)[:n] }

func unitFamily(name, unit string) advFamily {
	return advFamily{name, func(_ *rand.Rand, n int) string { return repeatTo(unit, n) }}
}

// invisibleSamples are characters that do not render, one of each kind.
var invisibleSamples = map[string]string{
	"U+00AD soft hyphen": "\u00ad", "U+200B zero-width space": "\u200b", "U+200E LRM": "\u200e",
	"U+2062 invisible times": "\u2062", "U+034F CGJ": "\u034f", "U+180E Mongolian vowel separator": "\u180e",
	"U+2066 LRI": "\u2066", "U+FEFF BOM": "\ufeff", "U+E0001 tag": "\U000e0001", "NUL": "\x00",
	"U+0085 C1": "\u0085", "ANSI ESC[0m": "\x1b[0m",
}

// escapeForms writes a character in each escape the redactor reads.
var escapeForms = []struct {
	name string
	enc  func(r rune) string
}{
	{"%XX", func(r rune) string { return percentEach(string(r)) }},
	{"%uXXXX", func(r rune) string { return fmt.Sprintf("%%u%04X", r) }},
	{"&#D;", func(r rune) string { return fmt.Sprintf("&#%d;", r) }},
	{"&#xH;", func(r rune) string { return fmt.Sprintf("&#x%X;", r) }},
	{`\uXXXX`, func(r rune) string { return fmt.Sprintf(`\u%04x`, r) }},
	{`\u{X}`, func(r rune) string { return fmt.Sprintf(`\u{%x}`, r) }},
	{`\UXXXXXXXX`, func(r rune) string { return fmt.Sprintf(`\U%08x`, r) }},
	{`\xXX`, func(r rune) string { return xEach(string(r)) }},
	{`\NNN`, func(r rune) string { return octalEach(string(r)) }},
}

func percentEach(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		fmt.Fprintf(&b, "%%%02X", s[i])
	}
	return b.String()
}

func xEach(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		fmt.Fprintf(&b, `\x%02x`, s[i])
	}
	return b.String()
}

func octalEach(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		fmt.Fprintf(&b, `\%03o`, s[i])
	}
	return b.String()
}

// adversarialFamilies are the hostile inputs the bounds hold for: runs of
// every kind of invisible character, raw and in every escape; runs of each
// escape's first bytes; nested and half-finished escapes; escapes nested to
// every layer amid plain text (every layer then costs nearly a full pass);
// and random mixes of all of them with runs of the secret.
func adversarialFamilies() []advFamily {
	var fams []advFamily
	for name, s := range invisibleSamples {
		fams = append(fams, unitFamily("raw "+name, s))
		r := []rune(s)[0]
		if len(r2s(s)) > 1 {
			continue // ANSI: its own escapes below
		}
		for _, e := range escapeForms {
			fams = append(fams, unitFamily(e.name+" "+name, e.enc(r)))
		}
	}
	fams = append(fams,
		unitFamily(`\u001b[0m`, `\u001b[0m`), unitFamily(`\x1b[1;31m`, `\x1b[1;31m`),
		unitFamily("%", "%"), unitFamily("&", "&"), unitFamily(`\`, `\`), unitFamily("&#", "&#"),
		advFamily{"&#0000…", func(_ *rand.Rand, n int) string { return "&#" + strings.Repeat("0", n-2) }},
		advFamily{"&#x0000…", func(_ *rand.Rand, n int) string { return "&#x" + strings.Repeat("0", n-3) }},
		unitFamily("%u", "%u"), unitFamily(`\u`, `\u`), unitFamily(`\u{`, `\u{`), unitFamily(`\x`, `\x`),
		unitFamily("%2", "%2"), unitFamily("%25", "%25"), unitFamily("%252", "%252"), unitFamily(`\\`, `\\`),
		unitFamily(`\u00`, `\u00`), unitFamily("&#x", "&#x"), unitFamily("&am", "&am"), unitFamily("&amp", "&amp"),
		unitFamily("&amp;", "&amp;"), unitFamily("&#37;", "&#37;"), unitFamily("&#37;25", "&#37;25"),
		unitFamily("%26amp%3B", "%26amp%3B"), unitFamily(`\u0025`, `\u0025`), unitFamily(`\uD83D`, `\uD83D`),
		unitFamily("nested %25, &#37;, \\u0025", `%25&#37;\u0025`),
		unitFamily(`\u0000 before four digits`, `\u00000600x`), // read two ways, in two skip views
		unitFamily("%E2%80", "%E2%80"), unitFamily(`\xe2\x80`, `\xe2\x80`), unitFamily("\u001b[", "\x1b["),
		advFamily{"every layer, every 32 bytes", func(_ *rand.Rand, n int) string {
			return repeatTo(nested(Layers, "Tf9+k/Qz")+"abcdefghijklmnop"[:32-len(nested(Layers, "T"))], n)
		}},
		advFamily{"every layer, every 64 bytes, all kinds", func(_ *rand.Rand, n int) string {
			return repeatTo(nestedMixed(Layers, "Tf9+k/Qz=8&Lm")+" plain text around it, as in a page", n)
		}},
		advFamily{"random mix with secret runs", randomMix},
	)
	return fams
}

func r2s(s string) []rune { return []rune(s) }

// nested percent-encodes the first character of s depth times.
func nested(depth int, s string) string {
	e := percentEach(s[:1])
	for i := 1; i < depth; i++ {
		e = strings.Replace(e, "%", "%25", 1)
	}
	return e + s[1:]
}

// nestedMixed encodes s depth times, cycling through kinds of escapes.
func nestedMixed(depth int, s string) string {
	for i := 0; i < depth; i++ {
		switch i % 3 {
		case 0:
			s = percentEach(s[:2]) + s[2:]
		case 1:
			s = fmt.Sprintf("&#%d;", s[0]) + s[1:]
		case 2:
			s = fmt.Sprintf(`\u%04x`, s[0]) + s[1:]
		}
	}
	return s
}

// randomMix interleaves runs of the secret, escapes, invisible characters
// and half-escapes, at random.
func randomMix(rng *rand.Rand, n int) string {
	const secret = "Tf9+k/Qz=8&Lm%2F w4 Rx"
	pieces := []string{"%", "&", `\`, "&#000", "%2", "%25", `\u00`, "&shy;", "\u00ad", "\u200e", "\x00", "\x1b[0m",
		`\u200b`, "%C2%AD", `\x1b[`, "&#8206;", `\124`, `\u{54}`, `\U00000054`, "%252525", "&amp;", `\\`, `\u00000600`}
	var b strings.Builder
	for b.Len() < n {
		switch rng.IntN(3) {
		case 0:
			i := rng.IntN(len(secret) - 4)
			b.WriteString(secret[i : i+4+rng.IntN(len(secret)-i-3)])
		default:
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
	}
	return b.String()[:n]
}

// measure returns the least time of runs redactions of text, and the bytes
// one allocates.
func measure(rd *Redactor, text string, runs int) (time.Duration, uint64) {
	best := time.Duration(1<<63 - 1)
	var before, after runtime.MemStats
	for i := 0; i < runs; i++ {
		runtime.ReadMemStats(&before)
		start := time.Now()
		rd.Redact(text)
		took := time.Since(start)
		runtime.ReadMemStats(&after)
		best = min(best, took)
	}
	return best, after.TotalAlloc - before.TotalAlloc
}

// benchRedactor knows a secret with every character that needs escaping,
// and two tokens, as a provider process that has fetched twice.
func benchRedactor() *Redactor {
	rd := New()
	rd.AddSecret("Tf9+k/Qz=8&Lm%2F w4 Rx")
	rd.AddPublic("emulator-client-id")
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2 {
		rd.AddToken(strings.SplitN(benchToken(rng), ".", 2)[1])
	}
	return rd
}

// TestRedactAdversarialFamilies: every family at MaxLen redacts within
// maxTimeRatio of the time plain ASCII of the same size takes, measured in
// the same test (the least of a few runs of each, alternated), and
// allocates at most maxAllocRatio bytes per byte. FACEKI_REDACT_FAMILIES=all
// prints every family's figures.
func TestRedactAdversarialFamilies(t *testing.T) {
	if testing.Short() {
		t.Skip("times 1 MiB texts")
	}
	if raceEnabled {
		t.Skip("times measured under the race detector are not the redactor's: make test runs this test without -race too")
	}
	rd := benchRedactor()
	rng := rand.New(rand.NewPCG(propertySeed(t), 5))
	plain := randomOver(rng, "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,:;-_=+/")(MaxLen)
	rd.Redact(plain) // the matcher is built outside the timings
	const runs = 5
	var plainTime time.Duration
	worst := 0.0
	for _, f := range adversarialFamilies() {
		text := f.gen(rng, MaxLen)
		if len(text) != MaxLen {
			t.Fatalf("%s: %d bytes", f.name, len(text))
		}
		var took time.Duration
		var alloc uint64
		plainTime, _ = measure(rd, plain, runs)
		took, alloc = measure(rd, text, runs)
		ratio := float64(took) / float64(plainTime)
		perByte := float64(alloc) / float64(len(text))
		worst = max(worst, ratio)
		if os.Getenv("FACEKI_REDACT_FAMILIES") != "" || ratio > maxTimeRatio || perByte > maxAllocRatio {
			t.Logf("%-45s %8s  %5.2fx plain  %5.2f B/B", f.name, took.Round(10*time.Microsecond), ratio, perByte)
		}
		if ratio > maxTimeRatio {
			t.Errorf("%s: %s, %.1fx the %s of plain text (bound %dx)", f.name, took, ratio, plainTime, maxTimeRatio)
		}
		if perByte > maxAllocRatio {
			t.Errorf("%s: %.1f bytes allocated per byte (bound %d)", f.name, perByte, maxAllocRatio)
		}
	}
	t.Logf("%d families; plain text %s; worst ratio %.2fx", len(adversarialFamilies()), plainTime, worst)
}

// FuzzRedactCost: whatever bytes the fuzzer chooses, repeated to 64 KiB,
// are redacted within maxTimeRatio (doubled for a busy fuzzing machine) of
// the time plain ASCII of the same size takes, and allocate at most
// maxAllocRatio bytes per byte: a cost that grows faster than the text shows
// as a ratio far beyond it. The text around a secret's runs is the
// fuzzer's too, so that what it finds is checked for leaks as well.
func FuzzRedactCost(f *testing.F) {
	for _, fam := range adversarialFamilies() {
		if text := fam.gen(rand.New(rand.NewPCG(1, 1)), 64); len(text) > 0 {
			f.Add([]byte(text[:min(len(text), 24)]))
		}
	}
	rd := benchRedactor()
	const size = 64 << 10
	plain := randomOver(rand.New(rand.NewPCG(3, 3)), "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,:;-_=+/")(size)
	rd.Redact(plain)
	f.Fuzz(func(t *testing.T, unit []byte) {
		if len(unit) == 0 {
			return
		}
		if raceEnabled {
			t.Skip("times measured under the race detector are not the redactor's")
		}
		text := repeatTo(string(unit), size)
		took, alloc := measure(rd, text, 3)
		base, _ := measure(rd, plain, 3)
		if ratio := float64(took) / float64(base); ratio > 2*maxTimeRatio {
			// Once more, in case the machine was busy.
			took, _ = measure(rd, text, 5)
			base, _ = measure(rd, plain, 5)
			if ratio = float64(took) / float64(base); ratio > 2*maxTimeRatio {
				t.Errorf("%q repeated to 64 KiB: %s, %.1fx plain text's %s", clip(string(unit)), took, ratio, base)
			}
		}
		if perByte := float64(alloc) / size; perByte > maxAllocRatio {
			t.Errorf("%q repeated to 64 KiB: %.1f bytes allocated per byte", clip(string(unit)), perByte)
		}
		if out := rd.Redact(text); strings.Contains(out, "Tf9+k/Qz=8&Lm%2F w4 Rx") {
			t.Errorf("the secret survived: %s", clip(out))
		}
	})
}
