package provider

// CLI-level tests of what the user-facing pages promise: the README's first
// configuration runs as written, and the provider page's table of token
// requests per command is what the CLI does.

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/faceki/terraform-provider-faceki/internal/emulator"
)

// readmeMarker precedes, in README.md, the hcl block of the first
// configuration.
const readmeMarker = "<!-- internal/provider/cli_readme_test.go applies the hcl block below"

// TestCLI_readmeFirstConfiguration: the README's first configuration,
// taken from README.md, applies against the emulator twice in a row, and on
// each apply its provisioner calls the KYC rules endpoint with a token the
// emulator issued.
func TestCLI_readmeFirstConfiguration(t *testing.T) {
	cliPath(t) // skip before reading anything
	config := markedBlocks(t, "README.md", readmeMarker, "hcl")[0]
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

// tokenTableHeader starts the table of token requests per command in
// docs/index.md (from templates/index.md.tmpl).
const tokenTableHeader = "| Command | `token_cache = \"memory\"` (default) |"

// Columns of that table.
const (
	colMemory = iota
	colFileCold
	colFileWarm
)

// tokenTable reads the table: command (first cell) → expected token
// requests per column, for this CLI. A cell is a number, or "N on OpenTofu,
// M on Terraform".
func tokenTable(t *testing.T) map[string][3]int {
	t.Helper()
	text := repoFile(t, "docs/index.md")
	i := strings.Index(text, tokenTableHeader)
	if i < 0 {
		t.Fatalf("docs/index.md has no table starting with %q", tokenTableHeader)
	}
	perCLI := regexp.MustCompile(`^(\d+) on OpenTofu, (\d+) on Terraform$`)
	cell := func(row, c string) int {
		if m := perCLI.FindStringSubmatch(c); m != nil {
			if cliIsOpenTofu() {
				c = m[1]
			} else {
				c = m[2]
			}
		}
		n, err := strconv.Atoi(c)
		if err != nil {
			t.Fatalf("docs/index.md, token table, row %s: cell %q is neither a number nor \"N on OpenTofu, M on Terraform\"", row, c)
		}
		return n
	}
	table := map[string][3]int{}
	lines := strings.Split(text[i:], "\n")
	for _, line := range lines[2:] { // after the header and the |---| line
		if !strings.HasPrefix(line, "|") {
			break
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) != 4 {
			t.Fatalf("docs/index.md, token table: %d cells in %q, want 4", len(cells), line)
		}
		for k := range cells {
			cells[k] = strings.TrimSpace(cells[k])
		}
		table[cells[0]] = [3]int{cell(cells[0], cells[1]), cell(cells[0], cells[2]), cell(cells[0], cells[3])}
	}
	return table
}

// TestCLI_docsTokenRequests runs each command of the provider page's table of
// token requests per command, with token_cache = "memory" and "file" (with
// and without a usable token in the file), and compares the emulator's count
// with the table.
func TestCLI_docsTokenRequests(t *testing.T) {
	cliPath(t) // skip before reading anything
	want := tokenTable(t)
	srv := startEmulatorCLI(t, emulator.Options{})
	const n = 3
	dir := cacheDir(t)
	memory := newWorkspace(t, cachedConfig(n, ""), emulatorEnv(srv))
	file := newWorkspace(t, cachedConfig(n, ""), fileCacheEnv(srv, dir))

	type step struct {
		w     *workspace
		empty bool // remove the token file first
		row   string
		col   int
		args  []string
		// bearers the provisioners present: n when the apply replaces the n
		// resources, 0 when it has nothing to do.
		bearers int
	}
	const (
		plan, planOut, applyPlan, apply, applyNoChange = "`plan`", "`plan -out=tfplan`", "`apply tfplan`", "`apply`", "`apply` with nothing to change"
	)
	steps := []step{
		{memory, false, plan, colMemory, []string{"plan"}, 0},
		{memory, false, planOut, colMemory, []string{"plan", "-out=tfplan"}, 0},
		{memory, false, applyPlan, colMemory, []string{"apply", "tfplan"}, n},
		{memory, false, apply, colMemory, []string{"apply", "-auto-approve", "-var=run=2"}, n},
		{memory, false, applyNoChange, colMemory, []string{"apply", "-auto-approve", "-var=run=2"}, 0},

		{file, true, plan, colFileCold, []string{"plan"}, 0},
		{file, false, plan, colFileWarm, []string{"plan"}, 0},
		{file, true, planOut, colFileCold, []string{"plan", "-out=tfplan"}, 0},
		{file, false, applyPlan, colFileWarm, []string{"apply", "tfplan"}, n},
		{file, false, planOut, colFileWarm, []string{"plan", "-out=tfplan", "-var=run=2"}, 0},
		{file, true, applyPlan, colFileCold, []string{"apply", "tfplan"}, n},
		{file, true, apply, colFileCold, []string{"apply", "-auto-approve", "-var=run=3"}, n},
		{file, false, apply, colFileWarm, []string{"apply", "-auto-approve", "-var=run=4"}, n},
		{file, false, applyNoChange, colFileWarm, []string{"apply", "-auto-approve", "-var=run=4"}, 0},
		{file, true, applyNoChange, colFileCold, []string{"apply", "-auto-approve", "-var=run=4"}, 0},
	}
	measured := map[string]bool{}
	outs := map[*workspace]string{}
	for _, s := range steps {
		measured[s.row] = true
		row, ok := want[s.row]
		if !ok {
			t.Fatalf("docs/index.md's token table has no row %s", s.row)
		}
		if s.empty {
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
					t.Fatal(err)
				}
			}
		}
		tokens, bearers := srv.TokenRequests(), len(srv.Bearers())
		outs[s.w] += s.w.mustRun(s.args...)
		what := fmt.Sprintf("%s (column %d, %s)", strings.Join(s.args, " "), s.col+2, map[bool]string{true: "file mode", false: "memory mode"}[s.w == file])
		if got := srv.TokenRequests() - tokens; got != row[s.col] {
			t.Errorf("%s made %d token requests; docs/index.md says %d", what, got, row[s.col])
		}
		if got := len(srv.Bearers()) - bearers; got != s.bearers {
			t.Errorf("%s: the provisioners presented %d bearer tokens, want %d", what, got, s.bearers)
		}
	}
	for r := range want {
		if !measured[r] {
			t.Errorf("docs/index.md's token table has a row %s that this test does not run", r)
		}
	}
	for i, b := range srv.Bearers() {
		if _, ok := srv.Issued(b); !ok {
			t.Errorf("bearer %d is not a token the emulator issued", i)
		}
	}
	_, secret := srv.Credentials()
	secrets := append([]string{secret}, srv.IssuedTokens()...)
	for w, out := range outs {
		if leaks := w.leaks(out, secrets...); len(leaks) > 0 {
			t.Errorf("leaked: %v", leaks)
		}
	}
	checkCacheFiles(t, dir, secrets...)
}
