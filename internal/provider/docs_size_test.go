package provider

import (
	"os"
	"strings"
	"testing"
)

// TestPagesStayReadable: the pages a newcomer reads first stay short enough
// to be read to the end (issue 21). Details belong in the guides, DESIGN.md,
// DEVELOPMENT.md or BENCHMARKS.md, linked from these pages.
func TestPagesStayReadable(t *testing.T) {
	t.Parallel()
	for path, limit := range map[string]int{
		"../../README.md":     15000,
		"../../docs/index.md": 10000,
		"../../docs/ephemeral-resources/access_token.md": 10000,
	} {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) >= limit {
			t.Errorf("%s has %d bytes, want fewer than %d: move details to a linked page", path[len("../../"):], len(b), limit)
		}
	}
	// DESIGN.md states promises and their bounds; mechanism is in the code.
	if words := len(strings.Fields(repoFile(t, "DESIGN.md"))); words >= 900 {
		t.Errorf("DESIGN.md has %d words, want fewer than 900: state what is promised, not how", words)
	}
}
