package provider

// CLI-level tests: the real CLI (TF_ACC_TERRAFORM_PATH) runs the provider
// binary built from this module, through dev_overrides, with TF_LOG=trace,
// against the in-process emulator. They prove what no unit test can: what a
// user sees on the terminal, in the trace log, in state and in saved plans.

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faceki/terraform-provider-faceki/internal/emulator"
	"github.com/faceki/terraform-provider-faceki/internal/faceki"
)

var (
	providerBinOnce sync.Once
	providerBinDir  string
	providerBinErr  error
)

// providerBinary builds the provider once per test process.
func providerBinary(t *testing.T) string {
	t.Helper()
	providerBinOnce.Do(func() {
		dir, err := os.MkdirTemp("", "faceki-provider-bin-")
		if err != nil {
			providerBinErr = err
			return
		}
		providerBinDir = dir
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "terraform-provider-faceki"), "../..")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			providerBinErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if providerBinErr != nil {
		t.Fatal(providerBinErr)
	}
	return providerBinDir
}

// cliPath returns the CLI under test, or skips when acceptance tests are off.
func cliPath(t *testing.T) string {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("CLI-level test: set TF_ACC=1 and TF_ACC_TERRAFORM_PATH (make test does)")
	}
	p := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if p == "" {
		t.Skip("CLI-level test: TF_ACC_TERRAFORM_PATH is not set")
	}
	skipCLIWithoutEphemeral(t, p) // every CLI-level test opens faceki_access_token
	return p
}

func isOpenTofu(t *testing.T, cli string) bool {
	out, err := exec.Command(cli, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("%s version: %v\n%s", cli, err, out)
	}
	return strings.Contains(string(out), "OpenTofu")
}

// workspace is a directory with a configuration, a CLI config that points
// the faceki provider at the freshly built binary, and a trace log.
type workspace struct {
	t     *testing.T
	cli   string
	dir   string
	env   []string
	trace string
}

func newWorkspace(t *testing.T, config string, env map[string]string) *workspace {
	t.Helper()
	cli := cliPath(t)
	bin := providerBinary(t)
	dir := t.TempDir()
	rc := fmt.Sprintf(`provider_installation {
  dev_overrides {
    "registry.opentofu.org/faceki/faceki" = %q
    "registry.terraform.io/faceki/faceki" = %q
  }
  direct {}
}
`, bin, bin)
	write(t, filepath.Join(dir, "cli.tfrc"), rc)
	write(t, filepath.Join(dir, "main.tf"), config)
	w := &workspace{t: t, cli: cli, dir: dir, trace: filepath.Join(dir, "trace.log")}
	w.env = append(os.Environ(),
		"TF_CLI_CONFIG_FILE="+filepath.Join(dir, "cli.tfrc"),
		"TF_LOG=trace", "TF_LOG_PATH="+w.trace,
		"TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1",
		"TF_ACC=", // the provider must not behave differently under test
	)
	for _, k := range []string{EnvClientID, EnvClientSecret, EnvBaseURL, EnvMaxRetries, EnvRequestTimeout, EnvTokenEndpoint} {
		w.env = append(w.env, k+"="+env[k])
	}
	return w
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// run runs the CLI; it returns combined output, duration and exit error.
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

// leaks lists which files or outputs contain a secret in any of its forms.
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
	var found []string
	for where, text := range sources {
		for i, s := range secrets {
			for _, form := range faceki.Forms(s) {
				if len(form) >= 8 && strings.Contains(text, form) {
					found = append(found, fmt.Sprintf("secret #%d (form %q…) in %s", i, form[:4], where))
				}
			}
		}
	}
	return found
}

// tokenConfig declares n token instances and hands each to a provisioner,
// as a pipeline step would.
func tokenConfig(n int, tokenArgs string) string {
	return fmt.Sprintf(`
terraform {
  required_providers {
    faceki = { source = "faceki/faceki" }
  }
}

provider "faceki" {}

ephemeral "faceki_access_token" "t" {
  count = %d
  %s
}

resource "terraform_data" "use" {
  count = %d
  input = count.index

  provisioner "local-exec" {
    command     = "test -n \"$T\" && test \"$TYPE\" = Bearer"
    environment = {
      T    = ephemeral.faceki_access_token.t[count.index].access_token
      TYPE = ephemeral.faceki_access_token.t[count.index].token_type
    }
  }
}
`, n, tokenArgs, n)
}

func emulatorEnv(srv *emulator.Server) map[string]string {
	id, secret := srv.Credentials()
	return map[string]string{EnvBaseURL: srv.URL, EnvClientID: id, EnvClientSecret: secret}
}

// TestCLI_oneTokenPerWalk: N instances cost one token request per walk, and
// neither the token nor the secret reaches state, a saved plan or the trace log.
func TestCLI_oneTokenPerWalk(t *testing.T) {
	srv := startEmulatorCLI(t, emulator.Options{})
	const n = 5
	w := newWorkspace(t, tokenConfig(n, ""), emulatorEnv(srv))

	out, _, err := w.run(3*time.Minute, "plan", "-out=tfplan")
	if err != nil {
		t.Fatalf("plan: %v\n%s", err, out)
	}
	if got := srv.TokenRequests(); got != 1 {
		t.Errorf("plan of %d instances made %d token requests, want 1", n, got)
	}
	show, _, err := w.run(time.Minute, "show", "-json", "tfplan")
	if err != nil {
		t.Fatalf("show: %v\n%s", err, show)
	}
	write(t, filepath.Join(w.dir, "plan.json"), show)

	out2, _, err := w.run(3*time.Minute, "apply", "-auto-approve")
	if err != nil {
		t.Fatalf("apply: %v\n%s", err, out2)
	}
	if got := srv.TokenRequests(); got != 3 {
		t.Errorf("plan + apply of %d instances made %d token requests, want 1 + 2", n, got)
	}
	if !strings.Contains(out2, fmt.Sprintf("Resources: %d added", n)) {
		t.Errorf("apply did not create the %d resources that check the token:\n%s", n, out2)
	}
	secrets := append([]string{testSecret}, srv.IssuedTokens()...)
	if leaks := w.leaks(out+show+out2, secrets...); len(leaks) > 0 {
		t.Errorf("leaked: %v", leaks)
	}
}

// TestCLI_validateWithoutCredentials: validate needs no credentials.
func TestCLI_validateWithoutCredentials(t *testing.T) {
	w := newWorkspace(t, tokenConfig(1, `min_validity = "10m"`), nil)
	if out, _, err := w.run(time.Minute, "validate"); err != nil {
		t.Fatalf("validate without credentials failed: %v\n%s", err, out)
	}
	w2 := newWorkspace(t, tokenConfig(1, `min_validity = "soon"`), nil)
	out, _, err := w2.run(time.Minute, "validate")
	if err == nil || !strings.Contains(out, "Invalid min_validity") {
		t.Fatalf("validate accepted min_validity = \"soon\": %v\n%s", err, out)
	}
}

func startEmulatorCLI(t *testing.T, opts emulator.Options) *emulator.Server {
	t.Helper()
	if opts.ClientID == "" {
		opts.ClientID = "cli-client-id"
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = testSecret
	}
	srv, err := emulator.New(opts).Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

// TestCLI_renewWarning: a token about to expire during a long apply is
// reported. OpenTofu (and Terraform 1.17+) show Renew's diagnostics when the
// instance closes; released Terraform up to 1.16 discards them.
func TestCLI_renewWarning(t *testing.T) {
	cli := cliPath(t)
	if !isOpenTofu(t, cli) {
		t.Skip("released Terraform (<= 1.16) discards Renew diagnostics; run with OpenTofu")
	}
	srv := startEmulatorCLI(t, emulator.Options{ExpiresIn: 4 * time.Second})
	config := strings.Replace(tokenConfig(1, `min_validity = "0s"`), `test -n \"$T\"`, `sleep 5 && test -n \"$T\"`, 1)
	w := newWorkspace(t, config, emulatorEnv(srv))
	out, _, err := w.run(3*time.Minute, "apply", "-auto-approve")
	if err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	if !regexp.MustCompile(`(?s)Warning: FACEKI access token is about to expire.*expires at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`).MatchString(out) {
		t.Errorf("no expiry warning from Renew:\n%s", out)
	}
	if leaks := w.leaks(out, append([]string{testSecret}, srv.IssuedTokens()...)...); len(leaks) > 0 {
		t.Errorf("leaked: %v", leaks)
	}
}

// TestCLI_leakCheckFindsLeaks proves the leak check itself: a value that is
// in the output must be reported.
func TestCLI_leakCheckFindsLeaks(t *testing.T) {
	w := newWorkspace(t, tokenConfig(1, ""), nil)
	out, _, _ := w.run(time.Minute, "validate")
	if leaks := w.leaks(out+" "+url.QueryEscape(testSecret), "terraform_data.use", testSecret); len(leaks) < 2 {
		t.Errorf("leak check missed planted values: %v\n%s", leaks, out)
	}
}
