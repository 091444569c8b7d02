package leakcheck

import (
	"net/url"
	"strings"
	"testing"
)

// TestFindSecret: the oracle itself finds a run in each encoding and in the
// forms a reader sees through, and nothing in text without it.
func TestFindSecret(t *testing.T) {
	const secret = "00nl0cuq780ur007spqspa94kq6rkn1f"
	found := map[string]string{
		"raw":                   "x " + secret[3:14] + " y",
		"upper case":            "CLIENTSECRET=" + strings.ToUpper(secret),
		"query, upper case":     strings.ToUpper(url.QueryEscape("a=" + secret)),
		"soft hyphens, raw":     secret[:4] + "\u00ad" + secret[4:9] + "\u00ad",
		"&shy; and zero-width":  secret[:3] + "&shy;" + secret[3:6] + "&ZeroWidthSpace;" + secret[6:12],
		"BOM in a query":        url.QueryEscape(secret[:5] + "\ufeff" + secret[5:12]),
		`\x escapes`:            encoding(t, `C/JavaScript \x escapes`)(secret[:9]),
		"%u escapes":            encoding(t, "JavaScript escape() %u escapes")(secret[:9]),
		"leading-zero refs":     encoding(t, "HTML decimal references with leading zeros")(secret[:9]),
		"upper-cased refs, BOM": strings.ToUpper(encoding(t, "HTML hex references")(secret[:4]) + "&#xfeff;" + encoding(t, "HTML hex references")(secret[4:9])),
		"LRM and LRI, raw":      secret[:3] + "\u200e" + secret[3:6] + "\u2066" + secret[6:10],
		"UTF-16 (NULs)":         strings.Join(strings.Split(secret[:9], ""), "\x00"),
		"ANSI colour inside":    secret[:4] + "\x1b[1;31m" + secret[4:9] + "\x1b[0m",
		`\u200e in JSON`:        encoding(t, "JSON")(secret[:4] + "\u200e" + secret[4:9]),
		"octal escapes":         encoding(t, "C octal escapes")(secret[:9]),
		`\u{…} escapes`:         encoding(t, `ES6 \u{…} escapes`)(secret[:9]),
		`\U escapes`:            encoding(t, `Python \U escapes`)(secret[:9]),
	}
	for name, text := range found {
		if got := FindSecret(text, secret); len(got) == 0 {
			t.Errorf("%s: not found in %q", name, text)
		}
	}
	for _, text := range []string{
		"", "nothing here", secret[:7] + " " + secret[7:14], strings.ToUpper(secret[:7]) + "\u00ad-" + secret[7:13],
	} {
		if got := FindSecret(text, secret); len(got) > 0 {
			t.Errorf("found %v in %q", got, text)
		}
	}
}

func encoding(t *testing.T, name string) func(string) string {
	t.Helper()
	for _, e := range Encodings {
		if e.Name == name {
			return e.Encode
		}
	}
	t.Fatalf("no encoding %q", name)
	return nil
}
