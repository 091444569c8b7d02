package provider

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/faceki/terraform-provider-faceki/internal/emulator"
)

const kycRulesConfig = `
provider "faceki" {}

data "faceki_kyc_rules" "test" {}
`

// rulesAttributes maps each faceki_kyc_rules attribute to FACEKI's field.
var rulesAttributes = map[string]string{
	"id":                             "_id",
	"company_id":                     "companyId",
	"liveness_check_type":            "livenessCheckType",
	"allowed_kyc_documents":          "allowedKycDocuments",
	"allowed_countries":              "allowedCountries",
	"allowed_nationalities":          "allowedNationalities",
	"invalid_documents":              "invalidDocuments",
	"valid_age":                      "validAge",
	"status":                         "status",
	"data_storage_time":              "dataStorageTime",
	"multi_kyc_enabled":              "multiKYCEnabled",
	"is_recaptured_document_invalid": "isRecapturedDocumentInvalid",
	"link":                           "link",
	"success":                        "success",
	"declined":                       "declined",
	"invalid":                        "invalid",
}

// expectRules checks every attribute of data.faceki_kyc_rules.test against
// the rules document the emulator serves; attributes whose field is absent
// must be null.
func expectRules(t *testing.T, rules map[string]any) []statecheck.StateCheck {
	t.Helper()
	names := make([]string, 0, len(rulesAttributes))
	for name := range rulesAttributes {
		names = append(names, name)
	}
	sort.Strings(names)
	var checks []statecheck.StateCheck
	for _, name := range names {
		var want knownvalue.Check = knownvalue.Null()
		if v, ok := rules[rulesAttributes[name]]; ok {
			want = expectJSON(t, v)
		}
		checks = append(checks, statecheck.ExpectKnownValue("data.faceki_kyc_rules.test", tfjsonpath.New(name), want))
	}
	return checks
}

// expectJSON is the check for a value of the emulator's rules document.
func expectJSON(t *testing.T, v any) knownvalue.Check {
	t.Helper()
	switch v := v.(type) {
	case nil:
		return knownvalue.Null()
	case string:
		return knownvalue.StringExact(v)
	case bool:
		return knownvalue.Bool(v)
	case int:
		return knownvalue.Int64Exact(int64(v))
	case []string:
		items := make([]knownvalue.Check, len(v))
		for i, s := range v {
			items[i] = knownvalue.StringExact(s)
		}
		return knownvalue.ListExact(items)
	case map[string]any:
		attrs := map[string]knownvalue.Check{"redirect_url": knownvalue.Null(), "message": knownvalue.Null()}
		for k, x := range v {
			if _, ok := attrs[k]; ok {
				attrs[k] = expectJSON(t, x)
			}
		}
		return knownvalue.ObjectExact(attrs)
	default:
		t.Fatalf("no check for %T in the rules document", v)
		return nil
	}
}

func TestAccKYCRules_defaultRules(t *testing.T) {
	emu := startEmulator(t, emulator.Options{})
	id, _ := emu.Credentials()
	rules := emulator.DefaultRules(id)
	mapped := map[string]bool{}
	for _, field := range rulesAttributes {
		mapped[field] = true
		if _, ok := rules[field]; !ok {
			t.Fatalf("the emulator's DefaultRules has no %s: the test would check nothing", field)
		}
	}
	for field := range rules {
		if !mapped[field] {
			t.Logf("DefaultRules field %s has no attribute (ignored, as the provider ignores it)", field)
		}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{
			Config:            kycRulesConfig,
			ConfigStateChecks: expectRules(t, rules),
		}},
	})
	checkBearersIssued(t, emu.Emulator)
}

// checkBearersIssued proves the rules were read with tokens the emulator issued.
func checkBearersIssued(t *testing.T, emu *emulator.Emulator) {
	t.Helper()
	bearers := emu.Bearers()
	if len(bearers) == 0 {
		t.Fatal("the emulator saw no KYC rules request")
	}
	for i, b := range bearers {
		if _, ok := emu.Issued(b); !ok {
			t.Errorf("rules request %d presented a bearer the emulator never issued", i+1)
		}
	}
}

// Fields FACEKI leaves out are null; fields it adds are ignored.
func TestAccKYCRules_lenient(t *testing.T) {
	rules := map[string]any{
		"_id":                 "rules-2",
		"companyId":           "test-client-id",
		"allowedKycDocuments": []string{"Passport"},
		"invalidDocuments":    []string{},
		"validAge":            21,
		"status":              "INACTIVE",
		"success":             map[string]any{"redirect_url": "https://example.com/ok"},
		// Fields some SDKs know and the provider does not expose.
		"allowSingle":           true,
		"verify_user_once":      false,
		"mandatory_geolocation": map[string]any{"enabled": true},
	}
	startEmulator(t, emulator.Options{Rules: rules})
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{
			Config:            kycRulesConfig,
			ConfigStateChecks: expectRules(t, rules),
		}},
	})
}

func TestAccKYCRules_noRules(t *testing.T) {
	emu := startEmulator(t, emulator.Options{NoRules: true})
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{
			Config:      kycRulesConfig,
			ExpectError: regexp.MustCompile(`(?s)FACEKI company has no KYC rules.*responseCode 7001\s+NO_RULES_FOR_COMPANY.*company\s+has\s+no\s+KYC\s+rules.*dashboard`),
		}},
	})
	if n := emu.TokenRequests(); n != 1 {
		t.Errorf("token requests = %d, want 1 (7001 is no reason to refetch the token)", n)
	}
}

func TestAccKYCRules_errors(t *testing.T) {
	emu := startEmulator(t, emulator.Options{})
	t.Setenv(EnvClientSecret, "not-the-secret")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{
			Config:      kycRulesConfig,
			ExpectError: regexp.MustCompile(`(?s)FACEKI rejected the client credentials.*HTTP 401`),
		}},
	})
	if n := emu.RulesRequests(); n != 0 {
		t.Errorf("rules requests = %d, want 0 without a token", n)
	}
	clearEnv(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{
			Config:      kycRulesConfig,
			ExpectError: regexp.MustCompile(`(?s)Missing FACEKI client_id.*FACEKI_CLIENT_ID`),
		}},
	})
}

// The documentation's example runs, its check block included.
func TestAccKYCRules_example(t *testing.T) {
	startEmulator(t, emulator.Options{})
	example, err := os.ReadFile(filepath.Join("..", "..", "examples", "data-sources", "faceki_kyc_rules", "data-source.tf"))
	if err != nil {
		t.Fatal(err)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{
			Config: fmt.Sprintf("provider \"faceki\" {}\n\n%s", example),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("data.faceki_kyc_rules.this", tfjsonpath.New("status"), knownvalue.StringExact("ACTIVE")),
			},
		}},
	})
}

// A token that lives shorter than faceki.RulesMinValidity fails clearly,
// without pointing at a min_validity this data source does not have.
func TestAccKYCRules_shortLivedToken(t *testing.T) {
	startEmulator(t, emulator.Options{ExpiresIn: 30 * time.Second})
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{
			Config:      kycRulesConfig,
			ExpectError: regexp.MustCompile(`(?s)FACEKI access token lives too short to read the KYC rules.*at\s+least\s+1m0s\s+left`),
		}},
	})
}

// reflectingRules is a rules answer that quotes the bearer token it was
// given in every string field, each in another form a reader undoes: plain,
// percent-encoded, upper-cased, in numeric character references, with a
// soft hyphen inside, or 16 characters of its signature. A rules service of
// a debug build, or a gateway that appends the credential to a link.
func reflectingRules(bearer string) map[string]any {
	refs := func(s string) string {
		var b strings.Builder
		for _, r := range s {
			fmt.Fprintf(&b, "&#%d;", r)
		}
		return b.String()
	}
	pct := func(s string) string {
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			fmt.Fprintf(&b, "%%%02X", s[i])
		}
		return b.String()
	}
	sig := bearer[strings.LastIndexByte(bearer, '.')+1:]
	half := len(bearer) / 2
	outcome := func(what string) map[string]any {
		return map[string]any{"redirect_url": "https://example.com/" + what + "?token=" + pct(bearer), "message": what + " for " + refs(bearer)}
	}
	return map[string]any{
		"_id":                         "id-" + bearer,
		"companyId":                   strings.ToUpper(bearer),
		"livenessCheckType":           "MODERATE " + sig[:16],
		"allowedKycDocuments":         []string{"Passport", bearer, strings.ToUpper(pct(bearer))},
		"allowedCountries":            []string{"AE", bearer[:half] + "\u00ad" + bearer[half:]},
		"allowedNationalities":        []string{refs(strings.ToUpper(bearer))},
		"invalidDocuments":            []string{"Bearer " + bearer},
		"dataStorageTime":             "FOREVER",
		"status":                      "ACTIVE",
		"validAge":                    18,
		"multiKYCEnabled":             false,
		"isRecapturedDocumentInvalid": true,
		"link":                        "https://apps.faceki.com/kycverify/x?access_token=" + bearer,
		"success":                     outcome("success"),
		"declined":                    outcome("declined"),
		"invalid":                     outcome("invalid"),
	}
}

// TestKYCRules_reflectedTokenNeverReachesState: every value the data source
// writes passes the gate, nested objects and lists included, so a
// rules answer that quotes the bearer token in every field (in every form
// of reflectingRules) leaves no run of it in the state it writes; the values
// that quote nothing are intact. Called directly, against the emulator.
func TestKYCRules_reflectedTokenNeverReachesState(t *testing.T) {
	emu := startEmulator(t, emulator.Options{RulesFor: reflectingRules})
	resp := dataSourceReader(t, as[*kycRulesDataSource](t, NewKYCRulesDataSource()), configureEmpty(t, as[*FacekiProvider](t, New("test")())))()
	if resp.Diagnostics.HasError() {
		t.Fatal(resp.Diagnostics)
	}
	bearers := emu.Bearers()
	if len(bearers) != 1 {
		t.Fatalf("the rules endpoint saw %d bearers, want 1", len(bearers))
	}
	strs := map[string]string{}
	_ = tftypes.Walk(resp.State.Raw, func(p *tftypes.AttributePath, v tftypes.Value) (bool, error) {
		var s string
		if v.Type().Is(tftypes.String) && v.IsKnown() && !v.IsNull() && v.As(&s) == nil {
			strs[p.String()] = s
		}
		return true, nil
	})
	if len(strs) < 16 {
		t.Fatalf("state holds %d strings, want every rules string: %v", len(strs), strs)
	}
	if leaks := findLeaks(strs, bearers[0]); len(leaks) > 0 {
		t.Errorf("the bearer token reached state: %v", leaks)
	}
	// The values that quote nothing: "ACTIVE", "FOREVER", "Passport", "AE".
	plain := map[string]bool{`AttributeName("status")`: true, `AttributeName("data_storage_time")`: true,
		`AttributeName("allowed_kyc_documents").ElementKeyInt(0)`: true, `AttributeName("allowed_countries").ElementKeyInt(0)`: true}
	for path, s := range strs {
		if quoted := !plain[path]; quoted != strings.Contains(s, withheld) {
			t.Errorf("%s (%d characters): withheld %v, want %v", path, len(s), !quoted, quoted) // never quote it
		}
	}
	if got := strs[`AttributeName("status")`]; got != "ACTIVE" {
		t.Errorf("status = %q, want ACTIVE", got)
	}
	if got, want := strs[`AttributeName("liveness_check_type")`], "[withheld: 25 bytes that repeat an access token]"; got != want {
		t.Errorf("liveness_check_type (%d characters) is not %q: the field is withheld whole", len(got), want)
	}
}
