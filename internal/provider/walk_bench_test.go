package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	eschema "github.com/hashicorp/terraform-plugin-framework/ephemeral/schema"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/faceki/terraform-provider-faceki/internal/emulator"
)

// BenchmarkWalk is the provider's share of one CLI walk, in process: what a
// provider process started for a walk does, from its first
// GetProviderSchema to the last CloseEphemeralResource of N instances of
// faceki_access_token, as the CLI calls it (validate, open, close each
// instance). Logging is off (no CLI is listening), and what this package
// keeps per process in package variables is paid once, not per iteration:
// `make bench` measures whole processes. "file" has a warm token file.
func BenchmarkWalk(b *testing.B) {
	srv, err := emulator.New(emulator.Options{ClientID: "bench-client-id", ClientSecret: testSecret}).Listen("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = srv.Close() })
	b.Setenv(EnvBaseURL, srv.URL)
	b.Setenv(EnvClientID, "bench-client-id")
	b.Setenv(EnvClientSecret, testSecret)
	for _, env := range []string{EnvMaxRetries, EnvRequestTimeout, EnvTokenEndpoint} {
		b.Setenv(env, "")
	}
	dir := b.TempDir()
	for _, cache := range []string{"memory", "file"} {
		b.Setenv(EnvTokenCache, cache)
		b.Setenv(EnvTokenCacheDir, dir)
		walk(b, 1) // the file warm, and what is paid once per process paid
		for _, n := range []int{1, 50} {
			b.Run(fmt.Sprintf("%s/N=%d", cache, n), func(b *testing.B) {
				b.ReportAllocs()
				before := srv.TokenRequests()
				for b.Loop() {
					walk(b, n)
				}
				if cache == "file" && srv.TokenRequests() != before {
					b.Fatalf("%d token requests with a warm token file", srv.TokenRequests()-before)
				}
			})
		}
	}
}

// walk serves one walk of n instances with a fresh provider.
func walk(b *testing.B, n int) { walkWith(b, n, New("bench")) }

func walkWith(b *testing.B, n int, newProvider func() provider.Provider) {
	ctx := context.Background()
	s, err := providerserver.NewProtocol6WithError(newProvider())()
	if err != nil {
		b.Fatal(err)
	}
	schema, err := s.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	if err != nil || len(schema.Diagnostics) > 0 {
		b.Fatal(err, schema.Diagnostics)
	}
	provCfg := nullConfig(b, schema.Provider)
	tokenType := schema.EphemeralResourceSchemas["faceki_access_token"]
	tokenCfg := nullConfig(b, tokenType)
	vr, err := s.ValidateProviderConfig(ctx, &tfprotov6.ValidateProviderConfigRequest{Config: provCfg})
	check(b, err, vr.Diagnostics)
	cr, err := s.ConfigureProvider(ctx, &tfprotov6.ConfigureProviderRequest{Config: provCfg, TerraformVersion: "1.12.6"})
	check(b, err, cr.Diagnostics)
	for range n {
		v, err := s.ValidateEphemeralResourceConfig(ctx, &tfprotov6.ValidateEphemeralResourceConfigRequest{TypeName: "faceki_access_token", Config: tokenCfg})
		check(b, err, v.Diagnostics)
	}
	privates := make([][]byte, n)
	for i := range n {
		o, err := s.OpenEphemeralResource(ctx, &tfprotov6.OpenEphemeralResourceRequest{TypeName: "faceki_access_token", Config: tokenCfg})
		check(b, err, o.Diagnostics)
		privates[i] = o.Private
	}
	for i := range n {
		c, err := s.CloseEphemeralResource(ctx, &tfprotov6.CloseEphemeralResourceRequest{TypeName: "faceki_access_token", Private: privates[i]})
		check(b, err, c.Diagnostics)
	}
}

// nullConfig is a configuration of schema with every attribute null.
func nullConfig(b *testing.B, schema *tfprotov6.Schema) *tfprotov6.DynamicValue {
	ty := schema.ValueType()
	obj, ok := ty.(tftypes.Object)
	if !ok {
		b.Fatalf("schema type %s", ty)
	}
	vals := map[string]tftypes.Value{}
	for name, at := range obj.AttributeTypes {
		vals[name] = tftypes.NewValue(at, nil)
	}
	dv, err := tfprotov6.NewDynamicValue(ty, tftypes.NewValue(ty, vals))
	if err != nil {
		b.Fatal(err)
	}
	return &dv
}

func check(b *testing.B, err error, diags []*tfprotov6.Diagnostic) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
	for _, d := range diags {
		if d.Severity == tfprotov6.DiagnosticSeverityError {
			b.Fatalf("%s: %s", d.Summary, d.Detail)
		}
	}
}

// BenchmarkWalkBare is BenchmarkWalk's walk served by the bare framework
// provider of tools/bench/bare, reduced to what the walk needs: the floor
// ("constant": one attribute), and the same with the real resource's result
// (a token's length, the other attributes, RenewAt and private data), for
// the framework's share of handling that result.
func BenchmarkWalkBare(b *testing.B) {
	for _, result := range []bool{false, true} {
		for _, n := range []int{1, 50} {
			name := fmt.Sprintf("constant/N=%d", n)
			if result {
				name = fmt.Sprintf("result/N=%d", n)
			}
			b.Run(name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					walkWith(b, n, func() provider.Provider { return bareProvider{result} })
				}
			})
		}
	}
}

type bareProvider struct{ result bool }

func (bareProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "faceki"
}
func (bareProvider) Schema(context.Context, provider.SchemaRequest, *provider.SchemaResponse) {}
func (bareProvider) Configure(context.Context, provider.ConfigureRequest, *provider.ConfigureResponse) {
}
func (bareProvider) Resources(context.Context) []func() resource.Resource       { return nil }
func (bareProvider) DataSources(context.Context) []func() datasource.DataSource { return nil }
func (p bareProvider) EphemeralResources(context.Context) []func() ephemeral.EphemeralResource {
	return []func() ephemeral.EphemeralResource{func() ephemeral.EphemeralResource { return bareToken(p) }}
}

type bareToken struct{ result bool }

func (bareToken) Metadata(_ context.Context, req ephemeral.MetadataRequest, resp *ephemeral.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_access_token"
}

func (r bareToken) Schema(_ context.Context, _ ephemeral.SchemaRequest, resp *ephemeral.SchemaResponse) {
	attrs := map[string]eschema.Attribute{"access_token": eschema.StringAttribute{Computed: true, Sensitive: true}}
	if r.result {
		attrs["min_validity"] = eschema.StringAttribute{Optional: true}
		attrs["token_type"] = eschema.StringAttribute{Computed: true}
		attrs["expires_in"] = eschema.Int64Attribute{Computed: true}
		attrs["expires_at"] = eschema.StringAttribute{Computed: true}
	}
	resp.Schema = eschema.Schema{Attributes: attrs}
}

func (r bareToken) Open(ctx context.Context, _ ephemeral.OpenRequest, resp *ephemeral.OpenResponse) {
	if !r.result {
		resp.Result.Raw = tftypes.NewValue(resp.Result.Raw.Type(), map[string]tftypes.Value{
			"access_token": tftypes.NewValue(tftypes.String, "bare-constant-token")})
		return
	}
	exp := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	resp.Result.Raw = tftypes.NewValue(resp.Result.Raw.Type(), map[string]tftypes.Value{
		"access_token": tftypes.NewValue(tftypes.String, strings.Repeat("t", 624)),
		"min_validity": tftypes.NewValue(tftypes.String, nil),
		"token_type":   tftypes.NewValue(tftypes.String, "Bearer"),
		"expires_in":   tftypes.NewValue(tftypes.Number, 3600),
		"expires_at":   tftypes.NewValue(tftypes.String, exp.Format(time.RFC3339)),
	})
	resp.RenewAt = exp.Add(-time.Minute)
	private, _ := json.Marshal(map[string]string{"expires_at": exp.Format(time.RFC3339)})
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, "expiry", private)...)
}
