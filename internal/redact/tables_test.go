package redact

import (
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// TestNamedRefsComplete holds namedRefs to the standard library's table of
// HTML5 references (its source, in GOROOT): every name it has for a
// character a run can hold or one that does not render is in namedRefs,
// with that character, and each of ours decodes to it; no two names differ
// only in letter case but not in value.
func TestNamedRefsComplete(t *testing.T) {
	t.Parallel()
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Skipf("no go command to find the standard library's source: %v", err)
	}
	src, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(goroot)), "src", "html", "entity.go"))
	if err != nil {
		t.Skipf("the standard library's source is not here: %v", err)
	}
	entry := regexp.MustCompile(`"([A-Za-z0-9]+);":\s+'\\U([0-9A-F]{8})'`)
	found := 0
	for _, m := range entry.FindAllStringSubmatch(string(src), -1) {
		v, _ := strconv.ParseUint(m[2], 16, 32)
		r := rune(v)
		if canHold := r >= ' ' && r < 0x7f || r == '\t' || r == '\n' || ignorable(r); !canHold {
			continue
		}
		found++
		if got, ok := namedRefs[m[1]]; !ok || got != r {
			t.Errorf("&%s; (%U): namedRefs has %U, %v", m[1], r, got, ok)
		}
	}
	if found != len(namedRefs) {
		t.Errorf("the standard library has %d such names, namedRefs %d", found, len(namedRefs))
	}
	for name, r := range namedRefs {
		if got := html.UnescapeString("&" + name + ";"); got != string(r) {
			t.Errorf("&%s; decodes to %q, namedRefs says %q", name, got, string(r))
		}
		if folded := namedRefsFolded[strings.ToLower(name)]; folded != r {
			t.Errorf("&%s; and another name in another case differ: %U, %U", name, r, folded)
		}
	}
}

// TestIgnorableSet: ignorable holds every Default_Ignorable_Code_Point and
// format character, the C0 and C1 controls but tab and newline, and nothing
// else, over the whole of Unicode.
func TestIgnorableSet(t *testing.T) {
	t.Parallel()
	for r := rune(0); r <= unicode.MaxRune; r++ {
		want := r < 0x20 && r != '\t' && r != '\n' || r >= 0x7f && r <= 0x9f ||
			unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r) || unicode.Is(unicode.Variation_Selector, r)
		if ignorable(r) != want {
			t.Fatalf("ignorable(%U) = %v", r, !want)
		}
	}
	for _, r := range []rune{0xad, 0x34f, 0x61c, 0x115f, 0x17b4, 0x180e, 0x200b, 0x200e, 0x2062, 0x2066, 0x3164, 0xfe0f, 0xfeff, 0xffa0, 0x1d173, 0xe0001, 0xe01ef} {
		if !ignorable(r) {
			t.Errorf("%U is a default-ignorable character", r)
		}
	}
}
