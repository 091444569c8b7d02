package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/echoprovider"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"

	"github.com/faceki/terraform-provider-faceki/internal/emulator"
	"github.com/faceki/terraform-provider-faceki/internal/faceki"
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

// dataSourceReader configures ds with data, as the framework would, and
// returns a function that reads it once with an empty configuration.
func dataSourceReader(t *testing.T, ds datasource.DataSourceWithConfigure, data *providerData) func() datasource.ReadResponse {
	t.Helper()
	ctx := context.Background()
	ds.Configure(ctx, datasource.ConfigureRequest{ProviderData: data}, &datasource.ConfigureResponse{})
	var sch datasource.SchemaResponse
	ds.Schema(ctx, datasource.SchemaRequest{}, &sch)
	return func() datasource.ReadResponse {
		resp := datasource.ReadResponse{State: tfsdk.State{Schema: sch.Schema, Raw: tftypes.NewValue(sch.Schema.Type().TerraformType(ctx), nil)}}
		ds.Read(ctx, datasource.ReadRequest{Config: tfsdk.Config{Schema: sch.Schema, Raw: nullObject(t, ctx, sch.Schema.Type())}}, &resp)
		return resp
	}
}

// TestGatePerProcess: one provider process has one gate, fed by the secret
// of every provider configuration and every token any of them fetched.
// Configuration B talks to a server that quotes configuration A's secret
// and token back: B's diagnostic withholds the quote whole.
func TestGatePerProcess(t *testing.T) {
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

	for name, quote := range map[string]string{"A's secret": url.QueryEscape(secretA), "A's token": "Bearer " + tokA.AccessToken} {
		emuB := startEmulator(t, emulator.Options{ClientSecret: testSecret})
		message := "seen before: " + quote
		emuB.Faults(emulator.Fault{Name: "quotes A", Status: http.StatusBadRequest, Reflect: func(http.Header, *http.Request, string) string {
			b, _ := json.Marshal(map[string]any{"status": false, "statusCode": 400, "message": message})
			return string(b)
		}})
		b := configure()
		if a.gate != b.gate {
			t.Fatal("the two configurations have gates of their own")
		}
		_, err = b.client.AccessToken(ctx)
		if err == nil {
			t.Fatal("configuration B got a token, want the quoting server's 400")
		}
		var diags diag.Diagnostics
		addError(&diags, err)
		text := fmt.Sprint(diags)
		what := "the client secret"
		if strings.HasPrefix(quote, "Bearer") {
			what = "an access token"
		}
		if want := fmt.Sprintf(`message "[withheld: %d bytes that repeat %s]"`, len(message), what); !strings.Contains(text, want) {
			t.Errorf("%s: the diagnostic does not withhold the quote (%s): %s", name, want, text)
		}
		if leaks := findLeaks(map[string]string{"diagnostic": text}, secretA, testSecret, tokA.AccessToken); len(leaks) > 0 {
			t.Errorf("%s: leaked: %v", name, leaks)
		}
	}
}

// configureWith calls p's Configure with attrs set in the provider block
// (the rest from the environment) and returns its diagnostics and data.
func configureWith(t *testing.T, p *FacekiProvider, attrs map[string]string) (diag.Diagnostics, *providerData) {
	t.Helper()
	var resp provider.ConfigureResponse
	p.Configure(context.Background(), provider.ConfigureRequest{Config: providerConfig(t, p, attrs)}, &resp)
	data, _ := resp.DataSourceData.(*providerData)
	return resp.Diagnostics, data
}

// TestTokenCacheDirPaths: "~/" is the home directory, for the attribute and
// its environment variable alike; a relative path is an error naming the
// attribute (or the variable), since the cache would move with the working
// directory.
func TestTokenCacheDirPaths(t *testing.T) {
	startEmulator(t, emulator.Options{})
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv(EnvTokenCache, "file")
	for _, tc := range []struct {
		attr, env, want, wantErr string
	}{
		{attr: "~/.cache/faceki", want: filepath.Join(home, ".cache", "faceki")},
		{env: "~/.cache/faceki-env", want: filepath.Join(home, ".cache", "faceki-env")},
		{attr: "~", want: home},
		{attr: filepath.Join(home, "abs"), want: filepath.Join(home, "abs")},
		{attr: "relative/cache", wantErr: `token_cache_dir must be an absolute path, or start with ~/`},
		{env: "./cache", wantErr: `The environment variable FACEKI_TOKEN_CACHE_DIR is "./cache": it must be an absolute path`},
		{attr: "~other/cache", wantErr: `token_cache_dir must be an absolute path, or start with ~/ for the home directory`},
	} {
		t.Setenv(EnvTokenCacheDir, tc.env)
		attrs := map[string]string{}
		if tc.attr != "" {
			attrs["token_cache_dir"] = tc.attr
		}
		p := as[*FacekiProvider](t, New("test")())
		diags := validateWith(t, p, attrs)
		data := (*providerData)(nil)
		if !diags.HasError() {
			diags, data = configureWith(t, p, attrs)
		}
		if tc.wantErr != "" {
			if !diags.HasError() || diags[0].Summary() != "Invalid token_cache_dir" || !strings.Contains(diags[0].Detail(), tc.wantErr) {
				t.Errorf("%q/%q: %v, want an error with %q", tc.attr, tc.env, diags, tc.wantErr)
			}
			continue
		}
		if diags.HasError() {
			t.Errorf("%q/%q: %v", tc.attr, tc.env, diags)
			continue
		}
		if data.settings.tokenCacheDir != tc.want {
			t.Errorf("%q/%q: token cache directory %q, want %q", tc.attr, tc.env, data.settings.tokenCacheDir, tc.want)
		}
		if fi, err := os.Stat(tc.want); err != nil || !fi.IsDir() {
			t.Errorf("%q/%q: %s was not created: %v", tc.attr, tc.env, tc.want, err)
		}
	}
	if _, err := os.Stat("~"); err == nil {
		t.Error(`a directory named "~" was created in the working directory`)
	}
}

// TestTokenCacheDirOnlyForTheFileCache: token_cache_dir matters only when
// tokens go to a file. A relative FACEKI_TOKEN_CACHE_DIR (or a "~/" one
// without a home directory) left in the environment fails neither
// validation nor Configure when tokens stay in memory, and creates nothing;
// with token_cache = "file" it is the error it was. (A relative
// token_cache_dir written in the configuration is an error at validation
// whatever token_cache says: a validator reads one attribute.)
func TestTokenCacheDirOnlyForTheFileCache(t *testing.T) {
	emu := startEmulator(t, emulator.Options{})
	t.Chdir(t.TempDir()) // where a relative directory would be made
	t.Setenv("HOME", "")
	for _, dir := range []string{"relative/cache", "~/.cache/faceki"} {
		for _, tc := range []struct {
			name, env string
			attrs     map[string]string
			wantErr   string
		}{
			{name: "default"},
			{name: "memory by environment", env: tokenCacheMemory},
			{name: "memory by attribute", attrs: map[string]string{"token_cache": tokenCacheMemory}},
			{name: "memory by attribute, directory by attribute", attrs: map[string]string{"token_cache": tokenCacheMemory, "token_cache_dir": "~/.cache/faceki"}},
			{name: "file", attrs: map[string]string{"token_cache": tokenCacheFile}, wantErr: "Invalid token_cache_dir"},
		} {
			t.Setenv(EnvTokenCache, tc.env)
			t.Setenv(EnvTokenCacheDir, dir)
			what := fmt.Sprintf("%s, %q", tc.name, dir)
			p := as[*FacekiProvider](t, New("test")())
			if diags := validateWith(t, p, tc.attrs); len(diags) != 0 {
				t.Errorf("%s: validation: %v", what, diags)
			}
			diags, data := configureWith(t, p, tc.attrs)
			if tc.wantErr != "" {
				if !diags.HasError() || diags[0].Summary() != tc.wantErr {
					t.Errorf("%s: %v, want %q", what, diags, tc.wantErr)
				}
				continue
			}
			if len(diags) != 0 {
				t.Errorf("%s: %v, want no diagnostic", what, diags)
				continue
			}
			if err := data.client.TokenCacheError(); err != nil {
				t.Errorf("%s: TokenCacheError = %v", what, err)
			}
			if _, err := data.client.SharedToken(context.Background(), time.Minute); err != nil {
				t.Errorf("%s: %v", what, err)
			}
		}
	}
	if diags := validateWith(t, as[*FacekiProvider](t, New("test")()), map[string]string{"token_cache": tokenCacheMemory, "token_cache_dir": "relative/cache"}); !diags.HasError() {
		t.Error("validation accepted a relative token_cache_dir")
	}
	if entries, _ := os.ReadDir("."); len(entries) != 0 {
		t.Errorf("the working directory holds %d entries, want none", len(entries))
	}
	if got := emu.TokenRequests(); got != 4*2 {
		t.Errorf("emulator saw %d token requests, want 8 (one per configuration in memory)", got)
	}
}

// validateWith validates a provider block with attrs as the CLI has the
// framework do before Configure, and returns the diagnostics.
func validateWith(t *testing.T, p *FacekiProvider, attrs map[string]string) diag.Diagnostics {
	t.Helper()
	config := providerConfig(t, p, attrs)
	srv := providerserver.NewProtocol6(p)()
	resp, err := srv.ValidateProviderConfig(context.Background(), &tfprotov6.ValidateProviderConfigRequest{Config: dynamic(t, config.Raw)})
	if err != nil {
		t.Fatal(err)
	}
	return fromProto(resp.Diagnostics)
}

// dynamic is v as the protocol carries it.
func dynamic(t *testing.T, v tftypes.Value) *tfprotov6.DynamicValue {
	t.Helper()
	dv, err := tfprotov6.NewDynamicValue(v.Type(), v)
	if err != nil {
		t.Fatal(err)
	}
	return &dv
}

// fromProto turns the protocol's diagnostics back into the framework's.
func fromProto(in []*tfprotov6.Diagnostic) diag.Diagnostics {
	var out diag.Diagnostics
	for _, d := range in {
		if d.Severity == tfprotov6.DiagnosticSeverityError {
			out.AddError(d.Summary, d.Detail)
		} else {
			out.AddWarning(d.Summary, d.Detail)
		}
	}
	return out
}

// providerConfig is a provider block with attrs set, the rest null.
func providerConfig(t *testing.T, p *FacekiProvider, attrs map[string]string) tfsdk.Config {
	t.Helper()
	ctx := context.Background()
	var schemaResp provider.SchemaResponse
	p.Schema(ctx, provider.SchemaRequest{}, &schemaResp)
	obj := as[tftypes.Object](t, schemaResp.Schema.Type().TerraformType(ctx))
	vals := map[string]tftypes.Value{}
	for name, at := range obj.AttributeTypes {
		vals[name] = tftypes.NewValue(at, nil)
		if v, ok := attrs[name]; ok {
			vals[name] = tftypes.NewValue(tftypes.String, v)
		}
	}
	return tfsdk.Config{Schema: schemaResp.Schema, Raw: tftypes.NewValue(obj, vals)}
}

// TestBaseURLPathWarning: a base_url with a path is kept (a gateway may need
// it), with a warning naming the URL requests go to; one without gets none.
func TestBaseURLPathWarning(t *testing.T) {
	emu := startEmulator(t, emulator.Options{})
	diags, data := configureWith(t, as[*FacekiProvider](t, New("test")()), map[string]string{"base_url": emu.URL + "/api"})
	if diags.HasError() || len(diags) != 1 || diags[0].Summary() != sumBaseURLPath {
		t.Fatalf("diagnostics = %v, want the one warning %q", diags, sumBaseURLPath)
	}
	wantContains(t, diags[0].Detail(), `with the path "/api"`, "FACEKI's API sits at the host's root ("+emu.URL+")",
		"requests go to "+emu.URL+"/api/auth/api/access-token", "if FACEKI answers 404, remove it")
	// The path is kept: the 404 that follows names the URL it tried.
	_, err := data.client.SharedToken(context.Background(), time.Minute)
	summary, detail, _ := describe(err)
	if summary != sumRequestFailed || !strings.Contains(detail, "HTTP 404") || !strings.Contains(detail, "(URL: "+emu.URL+"/api/auth/api/access-token)") {
		t.Errorf("error = %s: %s", summary, detail)
	}
	if strings.Contains(detail, "clientSecret") || strings.Contains(detail, "?") {
		t.Errorf("the URL in the error has its query: %s", detail)
	}
	if diags, _ := configureWith(t, as[*FacekiProvider](t, New("test")()), map[string]string{"base_url": emu.URL + "/"}); len(diags) != 0 {
		t.Errorf("base_url with a trailing slash: %v, want no diagnostic", diags)
	}
}

// TestClockOffsetWarnedOncePerProcess: FACEKI's clock 2 h ahead of this
// machine's, and 2 h behind: every read succeeds, with a token of FACEKI's
// full hour, and the process says once, in a warning, by how much its
// clock is off.
func TestClockOffsetWarnedOncePerProcess(t *testing.T) {
	for _, tc := range []struct {
		clock time.Duration
		want  string
	}{{2 * time.Hour, "this machine's clock is 2h0m behind FACEKI's"}, {-2 * time.Hour, "this machine's clock is 2h0m ahead of FACEKI's"}} {
		startEmulator(t, emulator.Options{Clock: tc.clock})
		ctx := context.Background()
		read := dataSourceReader(t, as[*accessTokenDataSource](t, NewAccessTokenDataSource()), configureEmpty(t, as[*FacekiProvider](t, New("test")())))
		var warnings []string
		for i := range 3 {
			resp := read()
			if resp.Diagnostics.HasError() {
				t.Fatalf("FACEKI's clock %s, read %d: %v", tc.clock, i+1, resp.Diagnostics)
			}
			for _, d := range resp.Diagnostics.Warnings() {
				warnings = append(warnings, d.Summary()+": "+d.Detail())
			}
			var m accessTokenModel
			resp.State.Get(ctx, &m)
			if left := m.ExpiresIn.ValueInt64(); left < 3590 || left > 3600 {
				t.Errorf("FACEKI's clock %s: expires_in %d, want FACEKI's hour", tc.clock, left)
			}
		}
		if len(warnings) != 1 || !strings.HasPrefix(warnings[0], sumClockOffset+": ") || !strings.Contains(warnings[0], tc.want) {
			t.Errorf("FACEKI's clock %s: warnings %q, want one saying %q", tc.clock, warnings, tc.want)
		}
	}
}

// TestDeadTokenDiagnostic: a token dead on arrival (a cache in front of
// FACEKI served a 2-hour-old answer) is an error naming the cache, with what
// to check, and no secret or token.
func TestDeadTokenDiagnostic(t *testing.T) {
	emu := startEmulator(t, emulator.Options{Clock: -2 * time.Hour, Age: 2 * time.Hour})
	diags, data := configureWith(t, as[*FacekiProvider](t, New("test")()), nil)
	if diags.HasError() {
		t.Fatal(diags)
	}
	_, err := data.client.SharedToken(context.Background(), time.Minute)
	summary, detail, attr := describe(err)
	if summary != sumBadResponse || attr != "" {
		t.Errorf("summary %q on %q, want %q", summary, attr, sumBadResponse)
	}
	wantContains(t, detail, "the answer has an Age header of 7200 s: a cache or proxy in front of FACEKI served a stored copy",
		"FACEKI's tokens live an hour, so a token dead on arrival was not FACEKI's fresh answer: check that base_url (FACEKI_BASE_URL) "+
			"is FACEKI's API (default https://sdk.faceki.com) and that nothing between here and it (a CDN, a caching proxy set by "+
			"HTTPS_PROXY) caches the token endpoint.")
	_, secret := emu.Credentials()
	for _, leak := range append(emu.IssuedTokens(), secret) {
		if strings.Contains(detail, leak) {
			t.Errorf("the diagnostic quotes a secret or token: %s", detail)
		}
	}
}

// TestMinValidityHints: a min_validity that no token can meet is an error
// naming the life FACEKI gives its tokens and what to ask for instead, and a
// literal one of an hour or more is a warning at validation.
func TestMinValidityHints(t *testing.T) {
	_, detail, attr := describe(&faceki.LifetimeError{Lifetime: 59 * time.Minute, MinValidity: 2 * time.Hour,
		ExpiresAt: time.Now().Add(59 * time.Minute), IssuedFor: time.Hour})
	wantContains(t, detail, "FACEKI issues tokens for 1h0m0s; ask for at most that minus the time a run needs, e.g. 50m.")
	if attr != "min_validity" {
		t.Errorf("attribute %q, want min_validity", attr)
	}
	_, detail, _ = describe(&faceki.LifetimeError{Lifetime: 3 * time.Minute, MinValidity: 5 * time.Minute, IssuedFor: 4 * time.Minute})
	wantContains(t, detail, "FACEKI issues tokens for 4m0s;", "e.g. 3m.")

	ctx := context.Background()
	r := as[*accessTokenEphemeralResource](t, NewAccessTokenEphemeralResource())
	var sch ephemeral.SchemaResponse
	r.Schema(ctx, ephemeral.SchemaRequest{}, &sch)
	srv := providerserver.NewProtocol6(New("test")())()
	for mv, want := range map[string]string{"59m": "", "1h": sumLongValidity, "2h": sumLongValidity, "5m": "", "-1m": "Invalid min_validity", "soon": "Invalid min_validity"} {
		obj := as[tftypes.Object](t, sch.Schema.Type().TerraformType(ctx))
		vals := map[string]tftypes.Value{}
		for name, at := range obj.AttributeTypes {
			vals[name] = tftypes.NewValue(at, nil)
		}
		vals["min_validity"] = tftypes.NewValue(tftypes.String, mv)
		resp, err := srv.ValidateEphemeralResourceConfig(ctx, &tfprotov6.ValidateEphemeralResourceConfigRequest{
			TypeName: "faceki_access_token", Config: dynamic(t, tftypes.NewValue(obj, vals))})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, d := range resp.Diagnostics {
			got = append(got, d.Summary)
		}
		if want == "" && len(got) != 0 || want != "" && (len(got) != 1 || got[0] != want) {
			t.Errorf("min_validity %s: %q, want %q", mv, got, want)
		}
	}
}

func wantContains(t *testing.T, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%q\n  does not contain %q", s, sub)
		}
	}
}

// TestInvalidBaseURLSaysItOnce: the error names base_url once, as the
// attribute or the environment variable, not again in the client's words.
func TestInvalidBaseURLSaysItOnce(t *testing.T) {
	clearEnv(t)
	const plainHTTP = "uses plain http:// to a host that is not loopback; FACEKI requires https://"
	diags := validateWith(t, as[*FacekiProvider](t, New("test")()), map[string]string{"base_url": "http://sdk.faceki.com"})
	if !diags.HasError() || diags[0].Summary() != "Invalid base_url" {
		t.Fatalf("diagnostics = %v, want Invalid base_url", diags)
	}
	if d := diags[0].Detail(); !strings.HasPrefix(d, "base_url "+plainHTTP) || strings.Contains(d, "base_url: ") {
		t.Errorf("detail = %q", d)
	}
	t.Setenv(EnvBaseURL, "http://sdk.faceki.com")
	diags, _ = configureWith(t, as[*FacekiProvider](t, New("test")()), nil)
	if !diags.HasError() || diags[0].Summary() != "Invalid base_url" {
		t.Fatalf("diagnostics = %v, want Invalid base_url", diags)
	}
	want := `The environment variable FACEKI_BASE_URL is "http://sdk.faceki.com": it ` + plainHTTP
	if d := diags[0].Detail(); !strings.HasPrefix(d, want) || strings.Contains(d, "base_url: ") {
		t.Errorf("detail = %q\nwant it to start with %q", d, want)
	}
}

// TestEmulatorHint: an error from a loopback base_url speaks of the FACEKI
// emulator, where the real FACEKI never is; one from FACEKI does not.
func TestEmulatorHint(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&faceki.TransportError{Op: "token request", URL: "http://127.0.0.1:8808/auth/api/access-token", Msg: "connection refused"},
			"base_url is a loopback address (127.0.0.1:8808): if it is the FACEKI emulator, start it there first (faceki-emulator -listen 127.0.0.1:8808)."},
		{&faceki.APIError{Kind: faceki.KindCredentials, Op: "token request", HTTPStatus: 401, URL: "http://localhost:1/auth/api/access-token"},
			"its own FACEKI_CLIENT_ID and FACEKI_CLIENT_SECRET"},
		{&faceki.APIError{Kind: faceki.KindRequest, Op: "token request", HTTPStatus: 404, URL: "http://[::1]:1/x/auth/api/access-token"},
			"if it is the FACEKI emulator, its log says what it answered and why."},
		{&faceki.TransportError{Op: "token request", URL: "https://sdk.faceki.com/auth/api/access-token", Msg: "timeout"}, ""},
		{&faceki.APIError{Kind: faceki.KindCredentials, Op: "token request", HTTPStatus: 401, URL: "https://sdk.faceki.com/auth/api/access-token"}, ""},
	} {
		_, detail, _ := describe(tc.err)
		if tc.want == "" && strings.Contains(detail, "emulator") || !strings.Contains(detail, tc.want) {
			t.Errorf("%v:\n%s\nwant %q", tc.err, detail, tc.want)
		}
	}
}
