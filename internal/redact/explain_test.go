package redact

import (
	"os"
	"strings"
	"testing"
)

// TestExplain prints each reading of the text in the file named by
// FACEKI_REDACT_EXPLAIN (first line: the secret), for debugging.
func TestExplain(t *testing.T) {
	f := os.Getenv("FACEKI_REDACT_EXPLAIN")
	if f == "" {
		t.Skip("FACEKI_REDACT_EXPLAIN names no file")
	}
	data, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	secret, text, _ := strings.Cut(string(data), "\n")
	rd := New()
	rd.AddSecret(secret)
	t.Logf("decoded runs: %q", decodedRuns(secret, secretMinRun))
	var cur, next reading
	readRaw(text, &cur)
	for layer := 0; layer <= Layers; layer++ {
		var skips windows
		skips.reset(16)
		cur.markSkips(0, len(cur.b), &skips)
		var sv []byte
		for i := range cur.b {
			if !cur.skipped(i) {
				sv = append(sv, cur.b[i])
			}
		}
		t.Logf("layer %d: %s", layer, clip(string(cur.b)))
		if cur.skips {
			t.Logf("  skip view: %s", clip(string(sv)))
		}
		var ch windows
		ch.reset(16)
		if !cur.pass(&next, allEscapes, false, &ch, nil) {
			break
		}
		cur, next = next, cur
	}
	t.Logf("out: %s", clip(rd.Redact(text)))
}
