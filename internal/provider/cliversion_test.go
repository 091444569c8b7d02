package provider

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

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
	cli, minimum := "Terraform", tfversion.Version1_10_0
	if cliIsOpenTofu() {
		cli, minimum = "OpenTofu", tfversion.Version1_11_0
	}
	// As tfversion.SkipBelow: a prerelease counts as its release.
	if req.TerraformVersion.Core().LessThan(minimum) {
		resp.Skip = fmt.Sprintf("%s %s has no ephemeral resources (they need %s %s or later): skipping test",
			cli, req.TerraformVersion, cli, minimum)
	}
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
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "version")
	cmd.Env = append(os.Environ(), "CHECKPOINT_DISABLE=1")
	out, err := cmd.Output()
	if err != nil {
		return false
	}
	first, _ := bufio.NewReader(bytes.NewReader(out)).ReadString('\n')
	return strings.Contains(first, "OpenTofu")
})
