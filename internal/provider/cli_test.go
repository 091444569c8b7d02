package provider

// CLI-level tests: the real CLI (TF_ACC_TERRAFORM_PATH) runs the provider
// binary built from this module, through dev_overrides, with TF_LOG=trace,
// against the in-process emulator (harness in cli_harness_test.go). They
// prove what no unit test can: what a user sees on the terminal, in the trace
// log, in state and in saved plans.

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/faceki/terraform-provider-faceki/internal/emulator"
)

// tokenConfig declares n token instances and hands each to a provisioner
// that, as a pipeline step would, calls FACEKI's bearer-protected KYC rules
// endpoint with it (curl -f: only a token the emulator issued passes).
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
    command     = "test \"$TYPE\" = Bearer && curl -fsS -o /dev/null -H \"Authorization: Bearer $T\" \"$FACEKI_BASE_URL/kycrules/api/kycrules\""
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

// TestCLI_oneTokenPerWalk: N instances cost one token request per walk, every
// instance delivers a token the emulator issued, and neither the token nor the
// secret reaches state, a saved plan or the trace log.
func TestCLI_oneTokenPerWalk(t *testing.T) {
	srv := startEmulatorCLI(t, emulator.Options{})
	const n = 3
	w := newWorkspace(t, tokenConfig(n, ""), emulatorEnv(srv))

	out := w.mustRun("plan", "-out=tfplan")
	if got := srv.TokenRequests(); got != 1 {
		t.Errorf("plan of %d instances made %d token requests, want 1", n, got)
	}
	show := w.showPlan()

	out2 := w.mustRun("apply", "-auto-approve")
	if got := srv.TokenRequests(); got != 3 {
		t.Errorf("plan + apply of %d instances made %d token requests, want 1 + 2", n, got)
	}
	if !strings.Contains(out2, fmt.Sprintf("Resources: %d added", n)) {
		t.Errorf("apply did not create the %d resources that use the token:\n%s", n, out2)
	}
	// Each provisioner presented its instance's token to the emulator, which
	// answered 200 (curl -f); all share the apply walk's one token.
	bearers := srv.Bearers()
	if len(bearers) != n {
		t.Fatalf("the KYC rules endpoint saw %d bearer tokens, want %d", len(bearers), n)
	}
	for i, b := range bearers {
		if _, ok := srv.Issued(b); !ok {
			t.Errorf("bearer %d is not a token the emulator issued", i)
		}
		if b != bearers[0] {
			t.Errorf("bearer %d differs from bearer 0: the instances did not share one token", i)
		}
	}
	// With TF_LOG set the provider writes its own lines and the SDK's
	// (main's QuietUnlessShown turns them off only when no CLI shows them),
	// so the leak check below reads them too.
	trace := w.readFile("trace.log")
	for _, line := range []string{"FACEKI provider configured", "FACEKI access token served", "@module=sdk.proto"} {
		if !strings.Contains(trace, line) {
			t.Errorf("the trace log has no %q line", line)
		}
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

// startEmulatorCLI serves a FACEKI emulator on loopback for the test; the
// CLI-level tests hand its address to the CLI through emulatorEnv.
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
	cliPath(t)
	if !cliIsOpenTofu() {
		t.Skip("released Terraform (<= 1.16) discards Renew diagnostics; run with OpenTofu")
	}
	srv := startEmulatorCLI(t, emulator.Options{ExpiresIn: 4 * time.Second})
	config := strings.Replace(tokenConfig(1, `min_validity = "0s"`), `/kycrules/api/kycrules\"`, `/kycrules/api/kycrules\" && sleep 5`, 1)
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

// rulesConfig reads the KYC rules into state and a saved plan, beside a
// token handed to a provisioner.
const rulesConfig = `
terraform {
  required_providers {
    faceki = { source = "faceki/faceki" }
  }
}

provider "faceki" {}

data "faceki_kyc_rules" "r" {}

output "rules" {
  value = data.faceki_kyc_rules.r
}
`

// TestCLI_reflectingRulesService: a rules service that quotes the bearer
// token in every field (plain, percent-encoded, upper-cased, in references,
// with a soft hyphen) puts none of it in the CLI's output, the trace log,
// the state or the saved plan; the state holds those values withheld.
func TestCLI_reflectingRulesService(t *testing.T) {
	srv := startEmulatorCLI(t, emulator.Options{RulesFor: reflectingRules})
	w := newWorkspace(t, rulesConfig, emulatorEnv(srv))
	out := w.mustRun("plan", "-out=tfplan")
	show := w.showPlan()
	out += w.mustRun("apply", "tfplan")
	if len(srv.Bearers()) != 1 {
		t.Fatalf("the rules endpoint saw %d bearers, want 1 (the plan reads the rules; the saved plan's apply does not)", len(srv.Bearers()))
	}
	state := w.readFile("terraform.tfstate")
	if strings.Count(state, withheld) < 16 || !strings.Contains(state, `"status": "ACTIVE"`) {
		t.Errorf("the state does not hold the rules, withheld where they quote the token:\n%d withheld", strings.Count(state, withheld))
	}
	if !strings.Contains(show, withheld) {
		t.Error("the saved plan does not hold the rules, withheld where they quote the token")
	}
	if leaks := w.leaks(out+show, append([]string{testSecret}, srv.Bearers()...)...); len(leaks) > 0 {
		t.Errorf("leaked: %v", leaks)
	}
}

// TestCLI_clockOffsets: FACEKI's clock 2 h ahead of this machine's, and 2 h
// behind: the apply succeeds, every provisioner gets a token FACEKI takes,
// and the CLI shows the warning that names the offset.
func TestCLI_clockOffsets(t *testing.T) {
	for _, tc := range []struct {
		clock time.Duration
		want  string
	}{{2 * time.Hour, "this machine's clock is 2h0m behind FACEKI's"}, {-2 * time.Hour, "this machine's clock is 2h0m ahead of FACEKI's"}} {
		t.Run(tc.clock.String(), func(t *testing.T) {
			srv := startEmulatorCLI(t, emulator.Options{Clock: tc.clock})
			w := newWorkspace(t, tokenConfig(2, `min_validity = "30m"`), emulatorEnv(srv))
			out := w.mustRun("apply", "-auto-approve")
			if !match("Warning: "+sumClockOffset, tc.want, "never holds this machine's clock against a token's expiry").MatchString(out) {
				t.Errorf("no warning naming the offset:\n%s", out)
			}
			if got := len(srv.Bearers()); got != 2 {
				t.Errorf("the KYC rules endpoint saw %d bearers, want 2", got)
			}
			if leaks := w.leaks(out, append([]string{testSecret}, srv.IssuedTokens()...)...); len(leaks) > 0 {
				t.Errorf("leaked: %v", leaks)
			}
		})
	}
}
