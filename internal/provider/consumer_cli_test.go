package provider

// Helpers for consumer tests: they run the real CLI (OpenTofu or Terraform)
// as a user would, outside terraform-plugin-testing, because a third-party
// provider must be installed by `init` and plugin-testing's ExternalProviders
// would download it from a registry. Nothing here touches the network: the
// tests' CLI configurations install providers from a local filesystem mirror.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"
)

// consumerCLI is the real CLI, run in a work directory of its own with a CLI
// configuration of its own.
type consumerCLI struct {
	t        *testing.T
	path     string
	dir      string
	rc       string
	openTofu bool
	version  *version.Version
}

// consumerRepoRoot is the module root (go test runs in the package's
// directory).
func consumerRepoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found from %s: %v", root, err)
	}
	return root
}

// consumerCLIPath is TF_ACC_TERRAFORM_PATH, else bin/tofu (`make tofu`).
func consumerCLIPath(t *testing.T) string {
	t.Helper()
	p := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if p == "" {
		p = filepath.Join(consumerRepoRoot(t), "bin", "tofu")
	}
	if fi, err := os.Stat(p); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		t.Fatalf("no CLI at %s: run 'make tofu' or set TF_ACC_TERRAFORM_PATH", p)
	}
	return p
}

// newConsumerCLI prepares the CLI in a fresh work directory with an empty
// CLI configuration of its own (see useCLIConfig and environ).
func newConsumerCLI(t *testing.T) *consumerCLI {
	t.Helper()
	dir := t.TempDir()
	rc := filepath.Join(dir, "cli.tfrc")
	if err := os.WriteFile(rc, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	work := filepath.Join(dir, "work")
	if err := os.Mkdir(work, 0o700); err != nil {
		t.Fatal(err)
	}
	c := &consumerCLI{t: t, path: consumerCLIPath(t), dir: work, rc: rc}

	first, _, _ := c.run("version")
	c.openTofu = strings.HasPrefix(strings.TrimSpace(first), "OpenTofu")
	out, stderr, code := c.run("version", "-json")
	var v struct {
		Version string `json:"terraform_version"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &v) != nil {
		t.Fatalf("%s version -json (exit %d): %s%s", c.path, code, out, stderr)
	}
	var err error
	if c.version, err = version.NewVersion(v.Version); err != nil {
		t.Fatalf("%s reports version %q: %v", c.path, v.Version, err)
	}
	return c
}

// skipWithoutEphemeralProviderConfig applies the ephemeral tests' version
// gate (ephemeralVersions: Terraform >= 1.10) and OpenTofu's (>= 1.11):
// ephemeral values in provider configuration need them.
func (c *consumerCLI) skipWithoutEphemeralProviderConfig() {
	c.t.Helper()
	checks := ephemeralVersions
	if c.openTofu {
		checks = append(append([]tfversion.TerraformVersionCheck(nil), checks...), tfversion.SkipBelow(version.Must(version.NewVersion("1.11.0"))))
	}
	for _, check := range checks {
		var resp tfversion.CheckTerraformVersionResponse
		check.CheckTerraformVersion(context.Background(), tfversion.CheckTerraformVersionRequest{TerraformVersion: c.version}, &resp)
		if resp.Error != nil {
			c.t.Fatal(resp.Error)
		}
		if resp.Skip != "" {
			c.t.Skipf("%s %s: %s", c.name(), c.version, resp.Skip)
		}
	}
}

func (c *consumerCLI) name() string {
	if c.openTofu {
		return "OpenTofu"
	}
	return "Terraform"
}

// useCLIConfig replaces the CLI configuration (provider_installation).
func (c *consumerCLI) useCLIConfig(hcl string) {
	c.t.Helper()
	if err := os.WriteFile(c.rc, []byte(hcl), 0o600); err != nil {
		c.t.Fatal(err)
	}
}

// writeConfig writes main.tf into the work directory.
func (c *consumerCLI) writeConfig(hcl string) {
	c.t.Helper()
	if err := os.WriteFile(filepath.Join(c.dir, "main.tf"), []byte(hcl), 0o600); err != nil {
		c.t.Fatal(err)
	}
}

// environ is the test's environment now (the FACEKI_* variables reach our
// provider that way), minus every TF_* variable that could change what the
// CLI installs or where, plus the CLI configuration.
func (c *consumerCLI) environ() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "TF_") && !strings.HasPrefix(kv, "TF_ACC") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "TF_CLI_CONFIG_FILE="+c.rc, "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1")
}

// run runs the CLI with args in the work directory, without colour or input.
func (c *consumerCLI) run(args ...string) (stdout, stderr string, exitCode int) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.path, args...)
	cmd.Dir = c.dir
	cmd.Env = c.environ()
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		exitCode = exit.ExitCode()
	default:
		c.t.Fatalf("%s %s: %v", c.path, strings.Join(args, " "), err)
	}
	return o.String(), e.String(), exitCode
}

// mustRun runs the CLI and fails the test unless it exits 0. It returns
// stdout and stderr together.
func (c *consumerCLI) mustRun(args ...string) string {
	c.t.Helper()
	start := time.Now()
	out, stderr, code := c.run(args...)
	c.t.Logf("%s %s: exit %d in %s", c.name(), strings.Join(args, " "), code, time.Since(start).Round(time.Millisecond))
	if code != 0 {
		c.t.Fatalf("%s %s failed (exit %d):\n%s\n%s", c.name(), strings.Join(args, " "), code, out, stderr)
	}
	return out + stderr
}

// readFile reads a file of the work directory.
func (c *consumerCLI) readFile(name string) string {
	c.t.Helper()
	b, err := os.ReadFile(filepath.Join(c.dir, name))
	if err != nil {
		c.t.Fatal(err)
	}
	return string(b)
}

// consumerBuildProvider builds this provider with `go build`, reporting
// version ver, into a fresh directory, named as a filesystem mirror expects.
func consumerBuildProvider(t *testing.T, ver string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "terraform-provider-faceki_v"+ver)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-ldflags", "-X main.version="+ver, "-o", bin, ".")
	cmd.Dir = consumerRepoRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build of the provider: %v\n%s", err, out)
	}
	return bin
}

// consumerMirrored is a provider binary to serve from a filesystem mirror.
type consumerMirrored struct {
	namespace, typ, version, binary string
}

// consumerMirror lays providers out as an unpacked filesystem mirror
// (HOSTNAME/NAMESPACE/TYPE/VERSION/OS_ARCH/binary) under both registry host
// names, OpenTofu's and Terraform's, and returns the mirror's root and the
// provider addresses it holds (for the mirror's include list).
func consumerMirror(t *testing.T, providers ...consumerMirrored) (root string, addresses []string) {
	t.Helper()
	root = t.TempDir()
	target := runtime.GOOS + "_" + runtime.GOARCH
	for _, host := range []string{"registry.opentofu.org", "registry.terraform.io"} {
		for _, p := range providers {
			dir := filepath.Join(root, host, p.namespace, p.typ, p.version, target)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(p.binary, filepath.Join(dir, filepath.Base(p.binary))); err != nil {
				t.Fatal(err)
			}
			addresses = append(addresses, host+"/"+p.namespace+"/"+p.typ)
		}
	}
	return root, addresses
}

// consumerHCLString quotes s as an HCL string literal (JSON escapes are
// valid HCL; template sequences are escaped).
func consumerHCLString(s string) string {
	b, _ := json.Marshal(s)
	q := strings.ReplaceAll(string(b), "${", "$${")
	return strings.ReplaceAll(q, "%{", "%%{")
}

// consumerMustNotContain fails when text contains any of secrets, without
// quoting them.
func consumerMustNotContain(t *testing.T, what, text string, secrets map[string][]string) {
	t.Helper()
	for kind, list := range secrets {
		for _, s := range list {
			if s != "" && strings.Contains(text, s) {
				t.Errorf("%s contains %s (%d characters)", what, kind, len(s))
			}
		}
	}
}
