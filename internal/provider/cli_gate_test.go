package provider

// CLI-level tests of the gate's own bounds (internal/gate): an answer built
// to be slow or big, a token reflected with invisible characters inside,
// and credentials that share runs.

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/faceki/terraform-provider-faceki/internal/emulator"
	"github.com/faceki/terraform-provider-faceki/internal/faceki"
	"github.com/faceki/terraform-provider-faceki/internal/leakcheck"
)

// TestCLI_hostileBodies: a FACEKI stand-in whose error body is the 1 MiB
// the provider reads, all of it characters that do not render (the kind of
// text that made the old redactor quadratic: minutes for 1 MiB), fails each
// open with FACEKI's error well within the documented bound per open, with
// TF_LOG=trace, and quotes nothing of the secret.
func TestCLI_hostileBodies(t *testing.T) {
	cliPath(t)
	const size = faceki.MaxResponseBytes
	shy := strings.Repeat("\u00ad", size/2)
	bom := `{"status":false,"statusCode":400,"message":"` + strings.Repeat("\ufeff", (size-64)/3) + `"}`
	mixed := strings.Repeat("%C2%AD&#8206;\\u200b\x1b[0m%25%32%35\\\\", size/64)
	for _, tc := range []struct {
		name, body, contentType string
		want                    string
	}{
		{"1 MiB of soft hyphens", shy, "text/plain", "HTTP 400: response is not JSON"},
		{"a 1 MiB JSON message of BOMs", bom, "application/json", "HTTP 400"},
		{"1 MiB of escaped invisible characters and nested escapes", mixed[:min(len(mixed), size)], "text/plain", "HTTP 400: response is not JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if len(tc.body) > size {
				t.Fatalf("body of %d bytes, more than the %d read", len(tc.body), size)
			}
			srv := startEmulatorCLI(t, emulator.Options{})
			srv.Faults(emulator.Fault{Name: "hostile", Status: http.StatusBadRequest, Header: map[string]string{"Content-Type": tc.contentType}, Body: tc.body})
			env := emulatorEnv(srv)
			env[EnvRequestTimeout] = hostileTimeout.String()
			env[EnvMaxRetries] = "3"
			w := newWorkspace(t, tokenConfig(1, ""), env)
			bound := time.Duration(hostileRetries+1)*hostileTimeout + time.Duration(hostileRetries)*faceki.MaxRetryAfter
			out, took, err := w.run(bound+cliSlack, "plan")
			t.Logf("%s: the open failed after %s (bound per open %s); the CLI said:\n%s", tc.name, took.Round(10*time.Millisecond), bound, errorLines(out))
			if err == nil || !match("FACEKI says the token request lacks a parameter", tc.want).MatchString(out) {
				t.Errorf("want FACEKI's 400 named, got (%v):\n%s", err, out)
			}
			// The bound per open is the documented worst case; the gate's
			// check of one answer costs milliseconds, so the run is a CLI
			// start or two.
			if took > cliSlack {
				t.Errorf("took %s: the gate's check of one answer should cost milliseconds (bound per open %s)", took, bound)
			}
			if srv.TokenRequests() != 1 {
				t.Errorf("emulator saw %d token requests, want 1 (a 400 is not retried)", srv.TokenRequests())
			}
			if leaks := w.leaks(out, testSecret); len(leaks) > 0 {
				t.Errorf("leaked: %v", leaks)
			}
		})
	}
}

// TestCLI_reflectedTokenWithInvisibleCharacters: a rules service that quotes
// the bearer with U+200E between its characters, as UTF-16 (a NUL after
// each), and with ANSI colour codes, leaves nothing of it in the CLI's
// output, the trace log, the state or the saved plan's JSON: the state holds
// those values withheld.
func TestCLI_reflectedTokenWithInvisibleCharacters(t *testing.T) {
	srv := startEmulatorCLI(t, emulator.Options{RulesFor: func(bearer string) map[string]any {
		rules := emulator.DefaultRules("cli-client-id")
		rules["allowedCountries"] = []string{"AE", between(bearer, "\u200e")}
		rules["allowedNationalities"] = []string{between(bearer, "\x00")}
		rules["livenessCheckType"] = "MODERATE " + between(bearer, "\x1b[1;31m")
		rules["link"] = "https://apps.faceki.com/kycverify/x?access_token=" + between(bearer, "&#8206;")
		return rules
	}})
	w := newWorkspace(t, rulesConfig, emulatorEnv(srv))
	out := w.mustRun("plan", "-out=tfplan")
	show := w.showPlan()
	out += w.mustRun("apply", "tfplan")
	bearers := srv.Bearers()
	if len(bearers) != 1 {
		t.Fatalf("the rules endpoint saw %d bearers, want 1", len(bearers))
	}
	var state struct {
		Outputs struct {
			Rules struct {
				Value struct {
					AllowedCountries     []string `json:"allowed_countries"`
					AllowedNationalities []string `json:"allowed_nationalities"`
					LivenessCheckType    string   `json:"liveness_check_type"`
					Link                 string   `json:"link"`
					Status               string   `json:"status"`
				} `json:"value"`
			} `json:"rules"`
		} `json:"outputs"`
	}
	if err := json.Unmarshal([]byte(w.readFile("terraform.tfstate")), &state); err != nil {
		t.Fatal(err)
	}
	v := state.Outputs.Rules.Value
	if v.Status != "ACTIVE" || len(v.AllowedCountries) != 2 || v.AllowedCountries[0] != "AE" {
		t.Fatalf("the state does not hold the rules: %+v", v)
	}
	for name, s := range map[string]string{"allowed_countries[1]": v.AllowedCountries[1], "allowed_nationalities[0]": v.AllowedNationalities[0],
		"liveness_check_type": v.LivenessCheckType, "link": v.Link} {
		if !strings.Contains(s, withheld) {
			t.Errorf("%s (%d bytes) is not withheld", name, len(s))
		}
	}
	if !strings.Contains(show, withheld) {
		t.Error("the saved plan does not hold the rules, withheld where they quote the token")
	}
	if leaks := w.leaks(out+show, testSecret, bearers[0]); len(leaks) > 0 {
		t.Errorf("leaked: %v", leaks)
	}
}

// between puts sep between the characters of s.
func between(s, sep string) string { return strings.Join(strings.Split(s, ""), sep) }

// TestCLI_credentialsSharingRuns: the KYC rules read with the emulator's
// default credentials, and with an ID and a secret that share a run of 8
// characters or more (as the old defaults did: emulator-client-id and
// emulator-client-secret), come out whole: no [REDACTED] in any attribute,
// the company ID in full. The ID is public: only runs of the secret that it
// does not hold are a leak.
func TestCLI_credentialsSharingRuns(t *testing.T) {
	cliPath(t)
	for _, c := range []struct{ name, id, secret string }{
		{"the emulator package's defaults", emulator.DefaultClientID, emulator.DefaultClientSecret},
		{"the emulator command's defaults", "demo-client-id", "demo-not-a-real-secret"},
		{"the package's old defaults", "emulator-client-id", "emulator-client-secret"},
		{"the command's old defaults", "demo-client-id", "demo-client-secret"},
	} {
		// The name never holds the secret: the workspace's path, in the
		// trace log, is made from it.
		t.Run(c.name, func(t *testing.T) {
			srv := startEmulatorCLI(t, emulator.Options{ClientID: c.id, ClientSecret: c.secret})
			w := newWorkspace(t, rulesConfig, emulatorEnv(srv))
			out := w.mustRun("apply", "-auto-approve")
			state := w.readFile("terraform.tfstate")
			if strings.Contains(state, withheld) || strings.Contains(out, withheld) {
				t.Errorf("the rules were withheld:\n%s", out)
			}
			if !strings.Contains(state, `"company_id": "`+c.id+`"`) {
				t.Errorf("the state does not hold company_id %q whole", c.id)
			}
			sources := map[string]string{"output": out, "state": state, "trace log": w.readFile("trace.log")}
			for where, text := range sources {
				if runs := leakcheck.FindSecretBut(text, c.secret, c.id); len(runs) > 0 {
					t.Errorf("the secret leaked in the %s: %v", where, runs)
				}
			}
		})
	}
}
