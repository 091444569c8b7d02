package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"

	"github.com/faceki/terraform-provider-faceki/internal/emulator"
)

// dataTokenConfig reads the data source. (No output of it: the token
// changes on every read, so an output would never settle.)
func dataTokenConfig(providerBlock, tokenBlock string) string {
	return providerBlock + `
data "faceki_access_token" "test" {
` + tokenBlock + `
}
`
}

func checkDataIssued(emu *emulator.Emulator, lifetime time.Duration, wantExpiry bool) statecheck.StateCheck {
	return expectObject{address: "data.faceki_access_token.test", check: issuedToken{emu: emu, lifetime: lifetime, wantExpiry: wantExpiry}}
}

// expectObject runs check on all the attributes of one resource or data
// source in state, as one object.
type expectObject struct {
	address string
	check   knownvalue.Check
}

func (e expectObject) CheckState(_ context.Context, req statecheck.CheckStateRequest, resp *statecheck.CheckStateResponse) {
	if req.State == nil || req.State.Values == nil || req.State.Values.RootModule == nil {
		resp.Error = fmt.Errorf("%s: no state", e.address)
		return
	}
	for _, r := range req.State.Values.RootModule.Resources {
		if r.Address == e.address {
			if err := e.check.CheckValue(r.AttributeValues); err != nil {
				resp.Error = fmt.Errorf("%s: %w", e.address, err)
			}
			return
		}
	}
	resp.Error = fmt.Errorf("%s is not in state", e.address)
}

func TestAccAccessTokenDataSource_basic(t *testing.T) {
	emu := startEmulator(t, emulator.Options{ExpiresIn: 20 * time.Minute})
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{
			Config:            dataTokenConfig(`provider "faceki" {}`, `min_validity = "15m"`),
			ConfigStateChecks: []statecheck.StateCheck{checkDataIssued(emu.Emulator, 20*time.Minute, true)},
		}},
	})
}

func TestAccAccessTokenDataSource_noExpiry(t *testing.T) {
	emu := startEmulator(t, emulator.Options{OmitExpiresIn: true, OmitJWTExp: true})
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{
			Config: dataTokenConfig(`provider "faceki" {}`, ""),
			ConfigStateChecks: []statecheck.StateCheck{
				checkDataIssued(emu.Emulator, 0, false),
			},
		}},
	})
}

func TestAccAccessTokenDataSource_errors(t *testing.T) {
	startEmulator(t, emulator.Options{ExpiresIn: 10 * time.Minute})
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				Config:      dataTokenConfig(`provider "faceki" {}`, `min_validity = "1h"`),
				ExpectError: regexp.MustCompile(`(?s)lives shorter than min_validity.*less than the 1h0m0s`),
			},
			{
				Config:      dataTokenConfig(`provider "faceki" {}`, `min_validity = "five minutes"`),
				ExpectError: regexp.MustCompile(`(?s)Invalid min_validity.*"five minutes"`),
			},
		},
	})
	t.Setenv(EnvClientSecret, "not-the-secret")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{
			Config:      dataTokenConfig(`provider "faceki" {}`, ""),
			ExpectError: regexp.MustCompile(`(?s)FACEKI rejected the client credentials.*HTTP 401`),
		}},
	})
}

// The data source gets a token of its own on every read, never the one the
// ephemeral resource and faceki_kyc_rules share (that one must stay out of
// state), and leaves the shared one in place. Called directly, in one
// provider process: with the CLI, reads and opens that could share a token
// happen in separate commands, so an acceptance test could not tell.
func TestAccessTokenDataSource_ownToken(t *testing.T) {
	emu := startEmulator(t, emulator.Options{})
	ctx := context.Background()
	p := as[*FacekiProvider](t, New("test")())
	data := configureEmpty(t, p)
	shared, err := data.client.SharedToken(ctx, time.Minute)
	if err != nil {
		t.Fatal(err)
	}

	read := dataSourceReader(t, as[*accessTokenDataSource](t, NewAccessTokenDataSource()), data)
	seen := map[string]bool{shared.AccessToken: true}
	for i := range 2 {
		resp := read()
		if resp.Diagnostics.HasError() {
			t.Fatal(resp.Diagnostics)
		}
		var m accessTokenModel
		if diags := resp.State.Get(ctx, &m); diags.HasError() {
			t.Fatal(diags)
		}
		tok := m.AccessToken.ValueString()
		if _, ok := emu.Issued(tok); !ok {
			t.Fatalf("read %d: not a token the emulator issued", i+1)
		}
		if seen[tok] {
			t.Errorf("read %d returned a token already handed out (the shared one, or an earlier read's)", i+1)
		}
		seen[tok] = true
	}
	if n := emu.TokenRequests(); n != 3 {
		t.Errorf("token requests = %d, want 3 (the shared token and one per read)", n)
	}
	again, err := data.client.SharedToken(ctx, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if again.AccessToken != shared.AccessToken {
		t.Error("reading the data source replaced the shared token")
	}
}

// nullObject is an object of type typ with every attribute null: a
// configuration that sets nothing.
func nullObject(t *testing.T, ctx context.Context, typ attr.Type) tftypes.Value {
	obj := as[tftypes.Object](t, typ.TerraformType(ctx))
	vals := map[string]tftypes.Value{}
	for name, at := range obj.AttributeTypes {
		vals[name] = tftypes.NewValue(at, nil)
	}
	return tftypes.NewValue(obj, vals)
}

// requestLog records the method and path of every request the emulator gets.
type requestLog struct {
	mu   sync.Mutex
	seen []string
}

func (l *requestLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.seen...)
}

// recordRequests puts a recorder in front of the emulator and points the
// provider's base URL at it.
func recordRequests(t *testing.T, emu *emulator.Server) *requestLog {
	t.Helper()
	log := &requestLog{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.mu.Lock()
		log.seen = append(log.seen, r.Method+" "+r.URL.Path)
		log.mu.Unlock()
		emu.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	t.Setenv(EnvBaseURL, srv.URL)
	return log
}

// checkOnlyGenerateToken fails unless every token request was
// POST /auth/api/generate-token and there was at least one.
func checkOnlyGenerateToken(t *testing.T, log *requestLog) {
	t.Helper()
	tokens := 0
	for _, req := range log.all() {
		switch req {
		case "POST /auth/api/generate-token":
			tokens++
		case "GET /kycrules/api/kycrules":
		default:
			t.Errorf("with token_endpoint = \"generate-token\" the emulator saw %s", req)
		}
	}
	if tokens == 0 {
		t.Error("the emulator saw no POST /auth/api/generate-token")
	}
}

// token_endpoint = "generate-token" sends the credentials in a POST body:
// the token arrives, and the emulator never sees the query-string endpoint.
func TestAccTokenEndpoint_generateToken(t *testing.T) {
	emu := startEmulator(t, emulator.Options{})
	log := recordRequests(t, emu)
	id, _ := emu.Credentials()
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{
			Config: dataTokenConfig(`provider "faceki" {
  token_endpoint = "generate-token"
}`, "") + `
data "faceki_kyc_rules" "test" {}
`,
			ConfigStateChecks: append([]statecheck.StateCheck{checkDataIssued(emu.Emulator, time.Hour, true)},
				expectRules(t, emulator.DefaultRules(id))...),
		}},
	})
	checkOnlyGenerateToken(t, log)
	checkBearersIssued(t, emu.Emulator)
}

func TestAccTokenEndpoint_generateTokenEphemeral(t *testing.T) {
	emu := startEmulator(t, emulator.Options{})
	log := recordRequests(t, emu)
	t.Setenv(EnvTokenEndpoint, "generate-token")
	resource.Test(t, resource.TestCase{
		TerraformVersionChecks:   ephemeralVersions,
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{
			Config:            echoConfig(`provider "faceki" {}`, ""),
			ConfigStateChecks: []statecheck.StateCheck{checkIssued(emu.Emulator, time.Hour, true)},
		}},
	})
	checkOnlyGenerateToken(t, log)
}

// TestAccessTokenDataSource_tokenTypeWithheld: the token is the data
// source's point and goes to state as it is; everything else FACEKI says
// passes the gate, so a token_type quoting the client secret (upper-cased,
// as a gateway might) is withheld whole.
func TestAccessTokenDataSource_tokenTypeWithheld(t *testing.T) {
	emu := startEmulator(t, emulator.Options{ClientSecret: testSecret})
	const token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ0ZXN0LWNsaWVudCIsImV4cCI6MjAwMDAwMDAwMH0.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"
	emu.Faults(emulator.Fault{Name: "token type quoting the secret", Status: http.StatusOK,
		Reflect: func(_ http.Header, _ *http.Request, secret string) string {
			b, _ := json.Marshal(map[string]any{"responseCode": 0, "data": map[string]any{
				"access_token": token, "expires_in": 3600, "token_type": "BEARER " + strings.ToUpper(secret)}})
			return string(b)
		}})
	resp := dataSourceReader(t, as[*accessTokenDataSource](t, NewAccessTokenDataSource()), configureEmpty(t, as[*FacekiProvider](t, New("test")())))()
	if resp.Diagnostics.HasError() {
		t.Fatal(resp.Diagnostics)
	}
	var m accessTokenModel
	if diags := resp.State.Get(context.Background(), &m); diags.HasError() {
		t.Fatal(diags)
	}
	if m.AccessToken.ValueString() != token {
		t.Error("access_token is not the token FACEKI issued")
	}
	if got, want := m.TokenType.ValueString(), fmt.Sprintf("[withheld: %d bytes that repeat the client secret]", len("BEARER "+testSecret)); got != want {
		t.Errorf("token_type (%d characters) is not %q", len(got), want)
	}
	if leaks := findLeaks(map[string]string{"token_type": m.TokenType.ValueString()}, testSecret); len(leaks) > 0 {
		t.Errorf("the secret reached state: %v", leaks)
	}
}
