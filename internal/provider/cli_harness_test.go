package provider

// The harness of the tests that run the real CLI themselves, outside
// terraform-plugin-testing: the CLI-level tests and the consumer tests.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faceki/terraform-provider-faceki/internal/leakcheck"
)

// testTempDir holds what outlives one test: the provider binary. TestMain
// creates and removes it.
var testTempDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "faceki-provider-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testTempDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// providerBinary builds the provider once per test process and returns the
// binary's path. Callers decide to skip first (cliPath): building takes ~15 s.
// Without the go command there is nothing to build with: the test skips.
var providerBinary = func() func(t *testing.T) string {
	var once sync.Once
	var bin string
	var buildErr error
	return func(t *testing.T) string {
		t.Helper()
		if _, err := exec.LookPath("go"); err != nil {
			t.Skip("CLI-level test: the go command is needed to build the provider binary")
		}
		once.Do(func() {
			bin = filepath.Join(testTempDir, "bin", "terraform-provider-faceki")
			cmd := exec.Command("go", "build", "-o", bin, "../..")
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("go build: %v\n%s", err, out)
			}
		})
		if buildErr != nil {
			t.Fatal(buildErr)
		}
		return bin
	}
}()

// cliPath returns the CLI under test, or skips when acceptance tests are off
// or the CLI has no ephemeral resources (every test here opens one).
func cliPath(t *testing.T) string {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("CLI-level test: set TF_ACC=1 and TF_ACC_TERRAFORM_PATH (make test does)")
	}
	p := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if p == "" {
		t.Skip("CLI-level test: TF_ACC_TERRAFORM_PATH is not set")
	}
	skipCLIWithoutEphemeral(t, p)
	return p
}

// workspace is a directory with a configuration, a CLI configuration of its
// own, and a trace log. The CLI's environment is the test's, minus TF_*
// settings that could change what it installs, plus the FACEKI_* values
// given.
type workspace struct {
	t     *testing.T
	cli   string
	dir   string
	env   []string
	trace string
}

// newWorkspace points the faceki provider at the freshly built binary
// through dev_overrides: no init needed.
func newWorkspace(t *testing.T, config string, env map[string]string) *workspace {
	t.Helper()
	cli := cliPath(t) // skip before building anything
	bin := filepath.Dir(providerBinary(t))
	return newWorkspaceRC(t, cli, config, env, fmt.Sprintf(`provider_installation {
  dev_overrides {
    "registry.opentofu.org/faceki/faceki" = %s
    "registry.terraform.io/faceki/faceki" = %s
  }
  direct {}
}
`, hclString(bin), hclString(bin)))
}

// mirrored is a provider binary served from a filesystem mirror.
type mirrored struct {
	namespace, typ, version, binary string
}

// newMirrorWorkspace installs providers with `init` from a local filesystem
// mirror (HOSTNAME/NAMESPACE/TYPE/VERSION/OS_ARCH/) under both registry host
// names, the CLI's only installation method: no registry, no network.
// (With dev_overrides for faceki, the `init` a third-party provider needs
// still tries to install faceki, finds it nowhere, and fails offline.)
func newMirrorWorkspace(t *testing.T, config string, env map[string]string, providers ...mirrored) *workspace {
	t.Helper()
	cli := cliPath(t)
	root := t.TempDir()
	target := runtime.GOOS + "_" + runtime.GOARCH
	var include []string
	for _, host := range []string{"registry.opentofu.org", "registry.terraform.io"} {
		for _, p := range providers {
			dir := filepath.Join(root, host, p.namespace, p.typ, p.version, target)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			name := "terraform-provider-" + p.typ + "_v" + p.version
			if err := os.Symlink(p.binary, filepath.Join(dir, name)); err != nil {
				t.Fatal(err)
			}
			include = append(include, host+"/"+p.namespace+"/"+p.typ)
		}
	}
	list, _ := json.Marshal(include)
	return newWorkspaceRC(t, cli, config, env, fmt.Sprintf(`provider_installation {
  filesystem_mirror {
    path    = %s
    include = %s
  }
}
`, hclString(root), list))
}

func newWorkspaceRC(t *testing.T, cli, config string, env map[string]string, rc string) *workspace {
	t.Helper()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "cli.tfrc"), rc)
	write(t, filepath.Join(dir, "main.tf"), config)
	w := &workspace{t: t, cli: cli, dir: dir, trace: filepath.Join(dir, "trace.log")}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TF_") && !strings.HasPrefix(kv, "FACEKI_") {
			w.env = append(w.env, kv)
		}
	}
	w.env = append(w.env,
		"TF_CLI_CONFIG_FILE="+filepath.Join(dir, "cli.tfrc"),
		"TF_LOG=trace", "TF_LOG_PATH="+w.trace,
		"TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1",
	)
	for k, v := range env {
		w.env = append(w.env, k+"="+v)
	}
	return w
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// hclString quotes s as an HCL string literal (JSON escapes are valid HCL;
// template sequences are escaped).
func hclString(s string) string {
	b, _ := json.Marshal(s)
	q := strings.ReplaceAll(string(b), "${", "$${")
	return strings.ReplaceAll(q, "%{", "%%{")
}

// run runs the CLI with -no-color; it returns combined output, duration and
// exit error, and fails the test if the CLI outlives timeout.
func (w *workspace) run(timeout time.Duration, args ...string) (string, time.Duration, error) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, w.cli, append(args[:1:1], append([]string{"-no-color"}, args[1:]...)...)...)
	cmd.Dir, cmd.Env = w.dir, w.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if ctx.Err() != nil {
		w.t.Fatalf("%s %v did not end within %s\n%s", filepath.Base(w.cli), args, timeout, out.String())
	}
	return out.String(), d, err
}

// mustRun runs the CLI and fails the test unless it exits 0.
func (w *workspace) mustRun(args ...string) string {
	w.t.Helper()
	out, took, err := w.run(10*time.Minute, args...)
	w.t.Logf("%s %s: %v in %s", filepath.Base(w.cli), strings.Join(args, " "), err, took.Round(time.Millisecond))
	if err != nil {
		w.t.Fatalf("%s %s failed: %v\n%s", filepath.Base(w.cli), strings.Join(args, " "), err, out)
	}
	return out
}

// showPlan shows the saved plan tfplan as JSON and keeps it as plan.json,
// where leaks reads it; it returns what the CLI printed.
func (w *workspace) showPlan() string {
	w.t.Helper()
	show := w.mustRun("show", "-json", "tfplan")
	write(w.t, filepath.Join(w.dir, "plan.json"), show)
	return show
}

// exitCode is the CLI's exit status from run's error.
func exitCode(err error) int {
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// readFile reads a file of the workspace.
func (w *workspace) readFile(name string) string {
	w.t.Helper()
	b, err := os.ReadFile(filepath.Join(w.dir, name))
	if err != nil {
		w.t.Fatal(err)
	}
	return string(b)
}

// leaks lists where the output given, the trace log, state or a saved plan
// contain a secret or a token (leakcheck: 8 characters of a secret, 16 of a
// token's payload or signature, in any single encoding).
func (w *workspace) leaks(output string, secrets ...string) []string {
	w.t.Helper()
	sources := map[string]string{"CLI output": output}
	for _, name := range []string{"trace.log", "terraform.tfstate", "terraform.tfstate.backup", "plan.json", "tfplan"} {
		if b, err := os.ReadFile(filepath.Join(w.dir, name)); err == nil {
			sources[name] = string(b)
		}
	}
	if !strings.Contains(sources["trace.log"], "provider") {
		w.t.Errorf("trace log is missing or empty: the leak check would prove nothing")
	}
	return findLeaks(sources, secrets...)
}

// findLeaks names the sources that contain a secret, without quoting it. A
// value with two dots is taken for a token (a JWT).
func findLeaks(sources map[string]string, secrets ...string) []string {
	var found []string
	for where, text := range sources {
		for i, s := range secrets {
			runs := leakcheck.FindSecret(text, s)
			if strings.Count(s, ".") == 2 {
				runs = leakcheck.FindToken(text, s)
			}
			if len(runs) > 0 {
				found = append(found, fmt.Sprintf("value #%d (%d characters) in %s: %v", i, len(s), where, runs))
			}
		}
	}
	return found
}

// withheld starts what the gate puts in place of a text that repeats a
// secret or a token: the whole text, never a part of it.
const withheld = "[withheld: "

// markedBlocks returns, for each place the marker appears in file (a path
// from the repository's root), the body of the first ```lang block after it:
// how the tests run what README.md and the guides show, as written.
func markedBlocks(t *testing.T, file, marker, lang string) []string {
	t.Helper()
	fence := "\n```" + lang + "\n"
	var blocks []string
	for rest := repoFile(t, file); ; {
		i := strings.Index(rest, marker)
		if i < 0 {
			break
		}
		rest = rest[i+len(marker):]
		start := strings.Index(rest, fence)
		if start < 0 {
			t.Fatalf("%s has no ```%s block after %q", file, lang, marker)
		}
		rest = rest[start+len(fence):]
		end := strings.Index(rest, "\n```\n")
		if end < 0 {
			t.Fatalf("%s: the ```%s block after %q is not closed", file, lang, marker)
		}
		blocks = append(blocks, rest[:end+1])
		rest = rest[end:]
	}
	if len(blocks) == 0 {
		t.Fatalf("%s has no marker %q", file, marker)
	}
	return blocks
}

// repoFile reads a file of this repository, by its path from the root.
func repoFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", path))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
