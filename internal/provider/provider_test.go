package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/echoprovider"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"

	"github.com/faceki/terraform-provider-faceki/internal/emulator"
	"github.com/faceki/terraform-provider-faceki/internal/redact"
)

// testAccProviders builds a fresh provider for every CLI command, as the real
// CLI starts a fresh provider process: no token cache survives between them.
var testAccProviders = map[string]func() (tfprotov6.ProviderServer, error){
	"faceki": func() (tfprotov6.ProviderServer, error) {
		return providerserver.NewProtocol6WithError(New("test")())()
	},
	"echo": echoprovider.NewProviderServer(),
}

// testSecret has every character that needs escaping in a query string or JSON.
const testSecret = `s3cr+t/with=&%25 and "quotes" <tags>`

// startEmulator serves a FACEKI emulator on loopback for the test, and points
// the provider's environment variables at it.
func startEmulator(t *testing.T, opts emulator.Options) *emulator.Server {
	t.Helper()
	if opts.ClientID == "" {
		opts.ClientID = "test-client-id"
	}
	srv := startEmulatorCLI(t, opts)
	t.Setenv(EnvBaseURL, srv.URL)
	id, secret := srv.Credentials()
	t.Setenv(EnvClientID, id)
	t.Setenv(EnvClientSecret, secret)
	for _, env := range []string{EnvMaxRetries, EnvRequestTimeout, EnvTokenEndpoint, EnvTokenCache, EnvTokenCacheDir} {
		t.Setenv(env, "")
	}
	return srv
}

// clearEnv unsets the provider's environment variables for the test.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, env := range []string{EnvBaseURL, EnvClientID, EnvClientSecret, EnvMaxRetries, EnvRequestTimeout, EnvTokenEndpoint, EnvTokenCache, EnvTokenCacheDir} {
		t.Setenv(env, "")
		_ = os.Unsetenv(env)
	}
}

// issuedToken checks an echoed faceki_access_token object against the
// emulator: the token must be one the emulator issued (tokens are random, so
// only the emulator can tell), with its type and expiry. Its messages never
// quote the token.
type issuedToken struct {
	emu *emulator.Emulator
	// wantExpiry false expects null expiry attributes.
	wantExpiry bool
	lifetime   time.Duration
}

var _ knownvalue.Check = issuedToken{}

func (c issuedToken) String() string {
	return fmt.Sprintf("a faceki_access_token object holding a token the emulator issued (expiry %v)", c.wantExpiry)
}

func (c issuedToken) CheckValue(v any) error {
	obj, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("expected an object, got %T", v)
	}
	tok, _ := obj["access_token"].(string)
	if tok == "" {
		return fmt.Errorf("access_token is empty or missing")
	}
	expiry, issued := c.emu.Issued(tok)
	if !issued {
		return fmt.Errorf("access_token (%d characters) is not a token the emulator issued (it issued %d)", len(tok), len(c.emu.IssuedTokens()))
	}
	if obj["token_type"] != "Bearer" {
		return fmt.Errorf("token_type = %v, want Bearer", obj["token_type"])
	}
	if !c.wantExpiry {
		if obj["expires_at"] != nil || obj["expires_in"] != nil {
			return fmt.Errorf("expires_at/expires_in = %v/%v, want null", obj["expires_at"], obj["expires_in"])
		}
		return nil
	}
	at, _ := obj["expires_at"].(string)
	got, err := time.Parse(time.RFC3339, at)
	if err != nil {
		return fmt.Errorf("expires_at %q is not RFC 3339: %v", at, err)
	}
	if !strings.HasSuffix(at, "Z") {
		return fmt.Errorf("expires_at %q is not in UTC", at)
	}
	if d := got.Sub(expiry); math.Abs(d.Seconds()) > 1 {
		return fmt.Errorf("expires_at %s is %s away from the emulator's expiry %s", at, d, expiry.UTC().Format(time.RFC3339))
	}
	in, err := numberOf(obj["expires_in"])
	if err != nil {
		return fmt.Errorf("expires_in: %v", err)
	}
	// Opened at most a minute ago (the CLI may reuse a token opened at plan).
	if life := c.lifetime.Seconds(); in > life || in < life-60 {
		return fmt.Errorf("expires_in = %v, want within a minute below %v", in, life)
	}
	return nil
}

func numberOf(v any) (float64, error) {
	switch n := v.(type) {
	case float64:
		return n, nil
	case interface{ Float64() (float64, error) }:
		return n.Float64()
	case fmt.Stringer:
		var f float64
		_, err := fmt.Sscan(n.String(), &f)
		return f, err
	default:
		return 0, fmt.Errorf("not a number: %T %v", v, v)
	}
}

// as asserts v's type, failing the test rather than panicking.
func as[T any](t *testing.T, v any) T {
	t.Helper()
	x, ok := v.(T)
	if !ok {
		t.Fatalf("got %T, want %T", v, x)
	}
	return x
}

func TestUserAgent(t *testing.T) {
	for _, tc := range []struct{ version, cli, want string }{
		{"1.2.3", "1.12.6", "terraform-provider-faceki/1.2.3 (+https://registry.terraform.io/providers/faceki/faceki) Terraform/1.12.6"},
		{"dev", "", "terraform-provider-faceki/dev (+https://registry.terraform.io/providers/faceki/faceki) Terraform/unknown"},
	} {
		if got := userAgent(tc.version, tc.cli); got != tc.want {
			t.Errorf("userAgent(%q, %q) = %q, want %q", tc.version, tc.cli, got, tc.want)
		}
	}
}

// configureEmpty calls p's Configure directly with an empty provider block
// (the environment supplies the rest) and returns what it hands to
// ephemeral resources and data sources.
func configureEmpty(t *testing.T, p *FacekiProvider) *providerData {
	t.Helper()
	ctx := context.Background()
	var schemaResp provider.SchemaResponse
	p.Schema(ctx, provider.SchemaRequest{}, &schemaResp)
	var resp provider.ConfigureResponse
	p.Configure(ctx, provider.ConfigureRequest{Config: tfsdk.Config{Schema: schemaResp.Schema, Raw: nullObject(t, ctx, schemaResp.Schema.Type())}}, &resp)
	if resp.Diagnostics.HasError() {
		t.Fatal(resp.Diagnostics)
	}
	return as[*providerData](t, resp.DataSourceData)
}

// TestRedactorPerProcess: one provider process has one redactor, fed by the
// secret of every provider configuration and every token any of them
// fetched. Configuration B talks to a server that quotes configuration A's
// secret and token back: B's diagnostic and log lines hold neither.
func TestRedactorPerProcess(t *testing.T) {
	ctx := context.Background()
	p := as[*FacekiProvider](t, New("test")())
	configure := func() *providerData { return configureEmpty(t, p) }

	emuA := startEmulator(t, emulator.Options{ClientSecret: "secret-of-configuration-A"})
	a := configure()
	tokA, err := a.client.SharedToken(ctx, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	_, secretA := emuA.Credentials()

	emuB := startEmulator(t, emulator.Options{ClientSecret: testSecret})
	emuB.Faults(emulator.Fault{Name: "quotes A", Status: http.StatusBadRequest, Reflect: func(http.Header, *http.Request, string) string {
		b, _ := json.Marshal(map[string]any{"status": false, "statusCode": 400,
			"message": "seen before: " + url.QueryEscape(secretA) + " and Bearer " + tokA.AccessToken})
		return string(b)
	}})
	b := configure()
	if a.rd != b.rd {
		t.Fatal("the two configurations have redactors of their own")
	}
	_, err = b.client.AccessToken(ctx)
	if err == nil {
		t.Fatal("configuration B got a token, want the quoting server's 400")
	}
	var diags diag.Diagnostics
	addError(&diags, b.rd, err)
	text := fmt.Sprint(diags)
	if !strings.Contains(text, "seen before: "+redact.Redacted) {
		t.Errorf("diagnostic does not show the quote, redacted: %s", text)
	}
	if leaks := findLeaks(map[string]string{"diagnostic": text}, secretA, testSecret, tokA.AccessToken); len(leaks) > 0 {
		t.Errorf("leaked: %v", leaks)
	}
	fields := b.log.redactFields(map[string]any{"quote": err.Error() + " " + secretA, "n": 3})
	if leaks := findLeaks(map[string]string{"log fields": fmt.Sprint(fields)}, secretA, tokA.AccessToken); len(leaks) > 0 || fields["n"] != 3 {
		t.Errorf("log fields %v: leaked %v", fields, leaks)
	}
}
