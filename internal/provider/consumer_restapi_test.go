package provider

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/faceki/terraform-provider-faceki/internal/emulator"
)

// restapiBinary finds the pinned Mastercard/terraform-provider-restapi that
// `make restapi` builds into bin/ (tools/restapi), and its version.
func restapiBinary(t *testing.T) (path, ver string) {
	t.Helper()
	matches, _ := filepath.Glob(filepath.Join(consumerRepoRoot(t), "bin", "terraform-provider-restapi_v*"))
	if len(matches) == 0 {
		t.Skip("bin/terraform-provider-restapi_v* is missing: run 'make restapi' (make test builds it)")
	}
	path = matches[len(matches)-1]
	ver = strings.TrimPrefix(filepath.Base(path), "terraform-provider-restapi_v")
	return path, ver
}

// TestAccConsumer_restapiBearerHeader feeds the ephemeral token to a real
// third-party provider, Mastercard/restapi, through its provider block's
// `headers`, and makes restapi GET the bearer-protected KYC rules endpoint.
// The real CLI (TF_ACC_TERRAFORM_PATH, default bin/tofu) runs init, apply,
// plan and destroy with no network: restapi and this provider (built with
// `go build`) come from a local filesystem mirror.
func TestAccConsumer_restapiBearerHeader(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1 (tools/with-cli.sh and make test do) to run the real CLI")
	}
	restapi, restapiVersion := restapiBinary(t)
	cli := newConsumerCLI(t)
	cli.skipWithoutEphemeralProviderConfig()

	// A rules document in FACEKI's documented shape, with an _id unique to
	// this run: seeing it in an output proves the GET was answered 200.
	rulesID := consumerRandomHex(t, 12)
	rules := emulator.DefaultRules("test-client-id")
	rules["_id"] = rulesID
	emu := startEmulator(t, emulator.Options{Rules: rules})
	_, secret := emu.Credentials()

	// Both providers are installed by `init` from a local filesystem mirror,
	// the CLI's only installation method here: no registry, no network.
	// (With a dev_overrides entry for faceki, the `init` that restapi needs
	// still tries to install faceki, finds it nowhere, and fails offline.)
	facekiVersion := "0.0.1"
	mirror, addresses := consumerMirror(t,
		consumerMirrored{namespace: "faceki", typ: "faceki", version: facekiVersion, binary: consumerBuildProvider(t, facekiVersion)},
		consumerMirrored{namespace: "mastercard", typ: "restapi", version: restapiVersion, binary: restapi},
	)
	include, _ := json.Marshal(addresses)
	cli.useCLIConfig(fmt.Sprintf(`provider_installation {
  filesystem_mirror {
    path    = %s
    include = %s
  }
}
`, consumerHCLString(mirror), include))
	cli.writeConfig(fmt.Sprintf(`terraform {
  required_providers {
    faceki = {
      source  = "faceki/faceki"
      version = %[3]s
    }
    restapi = {
      source  = "mastercard/restapi"
      version = %[2]s
    }
  }
}

# Credentials and base URL come from FACEKI_* in the environment.
provider "faceki" {}

ephemeral "faceki_access_token" "t" {}

# restapi v1 has no bearer_token (v3 has): the token goes in a header. Provider
# configuration is never stored in state or plan.
provider "restapi" {
  uri                   = %[1]s
  create_returns_object = true
  id_attribute          = "data/_id"
  headers = {
    Authorization = "Bearer ${ephemeral.faceki_access_token.t.access_token}"
  }
}

# FACEKI's KYC rules are a read-only singleton: every operation is a GET of
# the rules, and destroying it only forgets it.
resource "restapi_object" "kyc_rules" {
  path           = "/kycrules/api/kycrules"
  create_method  = "GET"
  read_path      = "/kycrules/api/kycrules"
  destroy_method = "GET"
  destroy_path   = "/kycrules/api/kycrules"
  data           = "{}"
}

output "rules_id" {
  value = restapi_object.kyc_rules.id
}

output "response_code" {
  value = jsondecode(restapi_object.kyc_rules.api_response).responseCode
}

output "liveness_check_type" {
  value = jsondecode(restapi_object.kyc_rules.api_response).data.livenessCheckType
}
`, consumerHCLString(emu.URL), consumerHCLString(restapiVersion), consumerHCLString(facekiVersion)))

	var transcript strings.Builder
	transcript.WriteString(cli.mustRun("init", "-input=false", "-no-color"))
	lock := cli.readFile(".terraform.lock.hcl")
	for _, want := range []string{`/mastercard/restapi"`, `"` + restapiVersion + `"`, `/faceki/faceki"`, `"` + facekiVersion + `"`} {
		if !strings.Contains(lock, want) {
			t.Fatalf("init did not lock both providers from the mirror (%s missing):\n%s", want, lock)
		}
	}

	transcript.WriteString(cli.mustRun("apply", "-auto-approve", "-input=false", "-no-color"))
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
	out, stderr, code := cli.run("plan", "-detailed-exitcode", "-input=false", "-no-color")
	transcript.WriteString(out + stderr)
	if code != 0 {
		t.Fatalf("plan after apply: exit %d, want 0 (no changes):\n%s%s", code, out, stderr)
	}
	if emu.RulesRequests() == requests {
		t.Errorf("plan did not refresh restapi_object.kyc_rules through the emulator")
	}
	consumerCheckBearers(t, emu.Emulator, 2)

	transcript.WriteString(cli.mustRun("destroy", "-auto-approve", "-input=false", "-no-color"))
	consumerCheckBearers(t, emu.Emulator, 3)

	secrets := map[string][]string{"an issued token": emu.IssuedTokens(), "the client secret": {secret}}
	consumerMustNotContain(t, "terraform.tfstate after apply", state, secrets)
	consumerMustNotContain(t, "terraform.tfstate after destroy", cli.readFile("terraform.tfstate"), secrets)
	consumerMustNotContain(t, "the CLI's output", transcript.String(), secrets)
	if strings.Contains(state, "Bearer ") {
		t.Errorf("terraform.tfstate after apply contains an Authorization header value")
	}
	t.Logf("%s %s: %d tokens issued, %d requests to the KYC rules endpoint, each with an issued token",
		cli.name(), cli.version, len(emu.IssuedTokens()), len(emu.Bearers()))
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
