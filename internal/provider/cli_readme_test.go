package provider

// CLI-level tests of what the user-facing pages promise: the README's first
// configuration runs as written.

import (
	"os"
	"strings"
	"testing"

	"github.com/faceki/terraform-provider-faceki/internal/emulator"
)

// readmeMarker precedes, in README.md, the hcl block of the first
// configuration.
const readmeMarker = "<!-- internal/provider/cli_readme_test.go applies the hcl block below"

// readmeBlock returns the first ```hcl block after marker in README.md.
func readmeBlock(t *testing.T, marker string) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	i := strings.Index(text, marker)
	if i < 0 {
		t.Fatalf("README.md has no marker %q", marker)
	}
	rest := text[i:]
	start := strings.Index(rest, "\n```hcl\n")
	if start < 0 {
		t.Fatal("README.md has no ```hcl block after the marker")
	}
	rest = rest[start+len("\n```hcl\n"):]
	end := strings.Index(rest, "\n```\n")
	if end < 0 {
		t.Fatal("the README's hcl block after the marker is not closed")
	}
	return rest[:end+1]
}

// TestCLI_readmeFirstConfiguration: the README's first configuration,
// taken from README.md, applies against the emulator twice in a row, and on
// each apply its provisioner calls the KYC rules endpoint with a token the
// emulator issued.
func TestCLI_readmeFirstConfiguration(t *testing.T) {
	config := readmeBlock(t, readmeMarker)
	// plantimestamp() has whole seconds: two applies within one second would
	// share a timestamp, and the second would not run the provisioner. No
	// run of this test is fast enough to show it, so say it here.
	if strings.Contains(config, "plantimestamp()") {
		t.Error("the README's first configuration uses plantimestamp(): two applies in the same second would not both run the provisioner")
	}
	srv := startEmulatorCLI(t, emulator.Options{})
	w := newWorkspace(t, config, emulatorEnv(srv))

	var out string
	for apply := 1; apply <= 2; apply++ {
		before := srv.Bearers()
		o := w.mustRun("apply", "-auto-approve")
		out += o
		// Each apply presents two bearers: the data source's, read in the plan
		// walk, then the provisioner's, with the apply walk's token (a new
		// provider process, so a new token).
		got := srv.Bearers()[len(before):]
		if len(got) != 2 {
			t.Fatalf("apply %d: the KYC rules endpoint saw %d bearer tokens, want 2 (data source, provisioner)\n%s", apply, len(got), o)
		}
		for i, b := range got {
			if _, ok := srv.Issued(b); !ok {
				t.Errorf("apply %d: bearer %d is not a token the emulator issued", apply, i)
			}
		}
		if got[0] == got[1] {
			t.Errorf("apply %d: the provisioner presented the plan walk's token, not the apply walk's", apply)
		}
		if !strings.Contains(o, "terraform_data.call_faceki: Provisioning with 'local-exec'...") {
			t.Errorf("apply %d did not run the provisioner:\n%s", apply, o)
		}
		if strings.Contains(o, "Check block assertion failed") {
			t.Errorf("apply %d: the check block failed:\n%s", apply, o)
		}
	}
	if !strings.Contains(out, "Resources: 1 added, 0 changed, 1 destroyed") {
		t.Errorf("the second apply did not replace terraform_data.call_faceki:\n%s", out)
	}
	_, secret := srv.Credentials()
	if leaks := w.leaks(out, append([]string{secret}, srv.IssuedTokens()...)...); len(leaks) > 0 {
		t.Errorf("leaked: %v", leaks)
	}
}
