package provider

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"
)

// skipWithoutEphemeral skips a test on a CLI without ephemeral resources:
// Terraform below 1.10, OpenTofu below 1.11. tfversion.SkipBelow(1.10.0)
// alone is not enough: OpenTofu 1.10.x reports version 1.10.x, which that
// check lets through, yet OpenTofu added ephemeral resources only in 1.11.
type skipWithoutEphemeral struct{}

var _ tfversion.TerraformVersionCheck = skipWithoutEphemeral{}

func (skipWithoutEphemeral) CheckTerraformVersion(_ context.Context, req tfversion.CheckTerraformVersionRequest, resp *tfversion.CheckTerraformVersionResponse) {
	if req.TerraformVersion == nil {
		return
	}
	resp.Skip = ephemeralSkipReason(cliIsOpenTofu(), req.TerraformVersion)
}

// ephemeralSkipReason says why a CLI has no ephemeral resources, or is "".
// As tfversion.SkipBelow, a prerelease counts as its release.
func ephemeralSkipReason(openTofu bool, v *version.Version) string {
	cli, minimum := "Terraform", tfversion.Version1_10_0
	if openTofu {
		cli, minimum = "OpenTofu", tfversion.Version1_11_0
	}
	if v.Core().LessThan(minimum) {
		return fmt.Sprintf("%s %s has no ephemeral resources (they need %s %s or later): skipping test", cli, v, cli, minimum)
	}
	return ""
}

// cliIsOpenTofu tells whether the acceptance tests' CLI is OpenTofu:
// TF_ACC_PROVIDER_HOST=registry.opentofu.org (which tools/with-cli.sh sets
// only for OpenTofu, and without which OpenTofu cannot init the provider),
// else the first line of the CLI's `version` output.
var cliIsOpenTofu = sync.OnceValue(func() bool {
	if os.Getenv("TF_ACC_PROVIDER_HOST") == "registry.opentofu.org" {
		return true
	}
	bin := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if bin == "" {
		bin, _ = exec.LookPath("terraform")
	}
	if bin == "" {
		return false
	}
	out, err := cliVersionOutput(bin)
	if err != nil {
		return false
	}
	first, _ := bufio.NewReader(bytes.NewReader(out)).ReadString('\n')
	return strings.Contains(first, "OpenTofu")
})

func cliVersionOutput(cli string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, cli, "version")
	cmd.Env = append(os.Environ(), "CHECKPOINT_DISABLE=1")
	return cmd.Output()
}

var cliVersionLine = regexp.MustCompile(`(?m)^(OpenTofu|Terraform) v(\S+)`)

// skipCLIWithoutEphemeral is skipWithoutEphemeral for tests that run the
// CLI at cli themselves rather than through resource.Test.
func skipCLIWithoutEphemeral(t *testing.T, cli string) {
	t.Helper()
	out, err := cliVersionOutput(cli)
	if err != nil {
		t.Fatalf("%s version: %v", cli, err)
	}
	m := cliVersionLine.FindSubmatch(out)
	if m == nil {
		t.Fatalf("%s version: no \"OpenTofu vX.Y.Z\" or \"Terraform vX.Y.Z\" line in %q", cli, out)
	}
	v, err := version.NewVersion(string(m[2]))
	if err != nil {
		t.Fatalf("%s version: %v", cli, err)
	}
	if reason := ephemeralSkipReason(string(m[1]) == "OpenTofu", v); reason != "" {
		t.Skip(reason)
	}
}
