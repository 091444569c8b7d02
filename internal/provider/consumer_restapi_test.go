package provider

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/faceki/terraform-provider-faceki/internal/emulator"
)

// restapiBinary finds the pinned Mastercard/terraform-provider-restapi that
// `make restapi` builds into bin/ (tools/restapi), and its version.
func restapiBinary(t *testing.T) (path, ver string) {
	t.Helper()
	matches, _ := filepath.Glob(filepath.Join("..", "..", "bin", "terraform-provider-restapi_v*"))
	if len(matches) == 0 {
		t.Skip("bin/terraform-provider-restapi_v* is missing: run 'make restapi' (make test builds it)")
	}
	path, err := filepath.Abs(matches[len(matches)-1])
	if err != nil {
		t.Fatal(err)
	}
	ver = strings.TrimPrefix(filepath.Base(path), "terraform-provider-restapi_v")
	return path, ver
}

// restapiExample is the consumer example this test applies as it is.
const restapiExample = "../../examples/consumers/restapi/main.tf"

// TestAccConsumer_restapiBearerHeader applies examples/consumers/restapi as
// it is: the ephemeral token goes to a real third-party provider,
// Mastercard/restapi (the pinned 1.20.0, which the example's constraint
// admits), through its provider block's `headers`, and restapi GETs the
// bearer-protected KYC rules endpoint. The real CLI (TF_ACC_TERRAFORM_PATH)
// runs init, apply, plan and destroy with no network: restapi and this
// provider come from a local filesystem mirror, and the example's
// faceki_base_url variable names the emulator. Ephemeral values in provider
// configuration need Terraform 1.10 or OpenTofu 1.11, as ephemeral resources
// do (cliPath skips below).
func TestAccConsumer_restapiBearerHeader(t *testing.T) {
	cliPath(t)
	restapi, restapiVersion := restapiBinary(t)
	example, err := os.ReadFile(restapiExample)
	if err != nil {
		t.Fatal(err)
	}
	// The example shows what this test runs: restapi's headers, and a
	// version constraint that admits the restapi the test runs.
	for _, want := range []string{
		`Authorization = "Bearer ${ephemeral.faceki_access_token.this.access_token}"`,
		`version = ">= 1.13.0"`,
		`uri                   = var.faceki_base_url`,
	} {
		if !strings.Contains(string(example), want) {
			t.Fatalf("%s no longer holds %s: keep the example and this test showing the same thing", restapiExample, want)
		}
	}

	// A rules document in FACEKI's documented shape, with an _id unique to
	// this run: seeing it in an output proves the GET was answered 200.
	rulesID := consumerRandomHex(t, 12)
	rules := emulator.DefaultRules("test-client-id")
	rules["_id"] = rulesID
	emu := startEmulatorCLI(t, emulator.Options{Rules: rules})
	_, secret := emu.Credentials()
	env := emulatorEnv(emu)
	env["TF_VAR_faceki_base_url"] = emu.URL

	facekiVersion := "0.0.1"
	cli := newMirrorWorkspace(t, string(example)+`
# Added by the test: what it asserts on.
output "rules_id" {
  value = restapi_object.kyc_rules.id
}

output "response_code" {
  value = jsondecode(restapi_object.kyc_rules.api_response).responseCode
}
`, env,
		mirrored{namespace: "faceki", typ: "faceki", version: facekiVersion, binary: providerBinary(t)},
		mirrored{namespace: "mastercard", typ: "restapi", version: restapiVersion, binary: restapi},
	)

	var transcript strings.Builder
	transcript.WriteString(cli.mustRun("init", "-input=false"))
	lock := cli.readFile(".terraform.lock.hcl")
	for _, want := range []string{`/mastercard/restapi"`, `"` + restapiVersion + `"`, `/faceki/faceki"`, `"` + facekiVersion + `"`} {
		if !strings.Contains(lock, want) {
			t.Fatalf("init did not lock both providers from the mirror (%s missing):\n%s", want, lock)
		}
	}

	transcript.WriteString(cli.mustRun("apply", "-auto-approve", "-input=false"))
	var outputs map[string]struct {
		Value any `json:"value"`
	}
	if err := json.Unmarshal([]byte(cli.mustRun("output", "-json")), &outputs); err != nil {
		t.Fatalf("output -json: %v", err)
	}
	if got := outputs["rules_id"].Value; got != rulesID {
		t.Errorf("rules_id = %v, want the emulator's rules _id %s", got, rulesID)
	}
	if got := outputs["response_code"].Value; got != float64(0) {
		t.Errorf("response_code = %v, want 0 (SUCCESS)", got)
	}
	if got := outputs["liveness_check_type"].Value; got != "MODERATE" {
		t.Errorf("liveness_check_type = %v, want MODERATE", got)
	}
	consumerCheckBearers(t, emu.Emulator, 1)
	state := cli.readFile("terraform.tfstate")
	if !strings.Contains(state, rulesID) {
		t.Errorf("terraform.tfstate does not hold the rules read by restapi")
	}

	// A second run refreshes the object with a new token: no drift.
	requests := emu.RulesRequests()
	out, _, err := cli.run(10*time.Minute, "plan", "-detailed-exitcode", "-input=false")
	transcript.WriteString(out)
	if code := exitCode(err); code != 0 {
		t.Fatalf("plan after apply: exit %d, want 0 (no changes):\n%s", code, out)
	}
	if emu.RulesRequests() == requests {
		t.Errorf("plan did not refresh restapi_object.kyc_rules through the emulator")
	}
	consumerCheckBearers(t, emu.Emulator, 2)

	transcript.WriteString(cli.mustRun("destroy", "-auto-approve", "-input=false"))
	consumerCheckBearers(t, emu.Emulator, 3)

	secrets := append([]string{secret}, emu.IssuedTokens()...)
	if leaks := append(cli.leaks(transcript.String(), secrets...), findLeaks(map[string]string{"terraform.tfstate after apply": state}, secrets...)...); len(leaks) > 0 {
		t.Errorf("leaked: %v", leaks)
	}
	if strings.Contains(state, "Bearer ") {
		t.Errorf("terraform.tfstate after apply contains an Authorization header value")
	}
	t.Logf("%d tokens issued, %d requests to the KYC rules endpoint, each with an issued token",
		len(emu.IssuedTokens()), len(emu.Bearers()))
}

// consumerCheckBearers asserts that the bearer-protected endpoint saw at
// least atLeast requests, every one with a bearer token, and every token one
// the emulator issued (restapi had no way to get it but the ephemeral
// resource).
func consumerCheckBearers(t *testing.T, emu *emulator.Emulator, atLeast int) {
	t.Helper()
	bearers := emu.Bearers()
	if len(bearers) < atLeast {
		t.Fatalf("the KYC rules endpoint saw %d bearer tokens, want at least %d", len(bearers), atLeast)
	}
	if n := emu.RulesRequests(); n != len(bearers) {
		t.Errorf("the KYC rules endpoint got %d requests but %d bearer tokens", n, len(bearers))
	}
	for i, b := range bearers {
		if _, ok := emu.Issued(b); !ok {
			t.Errorf("bearer %d (%d characters) presented to the KYC rules endpoint is not a token the emulator issued", i, len(b))
		}
	}
}

func consumerRandomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
