// Command bare is the yardstick of `make bench`: the least a plugin-framework
// provider can be while serving the benchmark's configuration. It has the
// faceki provider's address and an ephemeral faceki_access_token whose Open
// returns a constant, and nothing else: no provider attributes, no client,
// no cache, no redactor. What the real provider takes beyond it is the
// provider's own cost per process and per open, or the CLI's for what the
// provider hands it. Never released.
//
// BENCH_BARE, a comma-separated list, adds what the real provider shows the
// CLI, one part at a time, to tell the CLI's share of the difference from
// the provider's:
//
//	token    the constant is as long as a FACEKI token (a 624-byte JWT, as the emulator issues)
//	attrs    the result has the real resource's other attributes: min_validity, token_type,
//	         expires_in, expires_at
//	renew    Open sets RenewAt and private data, as the real resource does
package main

import (
	"context"
	"encoding/json"
	"log"
	"os"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	eschema "github.com/hashicorp/terraform-plugin-framework/ephemeral/schema"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

type options struct{ token, attrs, renew bool }

func main() {
	var o options
	for _, s := range strings.Split(os.Getenv("BENCH_BARE"), ",") {
		switch strings.TrimSpace(s) {
		case "token":
			o.token = true
		case "attrs":
			o.attrs = true
		case "renew":
			o.renew = true
		case "":
		default:
			log.Fatalf("BENCH_BARE: unknown part %q (token, attrs, renew)", s)
		}
	}
	err := providerserver.Serve(context.Background(), func() provider.Provider { return bareProvider{o} },
		providerserver.ServeOpts{Address: "registry.terraform.io/faceki/faceki"})
	if err != nil {
		log.Fatal(err.Error())
	}
}

type bareProvider struct{ o options }

var _ provider.ProviderWithEphemeralResources = bareProvider{}

func (bareProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "faceki"
	resp.Version = "bare"
}

func (bareProvider) Schema(context.Context, provider.SchemaRequest, *provider.SchemaResponse) {}

func (bareProvider) Configure(context.Context, provider.ConfigureRequest, *provider.ConfigureResponse) {
}

func (bareProvider) Resources(context.Context) []func() resource.Resource { return nil }

func (bareProvider) DataSources(context.Context) []func() datasource.DataSource { return nil }

func (p bareProvider) EphemeralResources(context.Context) []func() ephemeral.EphemeralResource {
	return []func() ephemeral.EphemeralResource{func() ephemeral.EphemeralResource { return constToken{p.o} }}
}

// constToken is faceki_access_token reduced to its one attribute the
// benchmark reads, sensitive as the real one.
type constToken struct{ o options }

type constModel struct {
	AccessToken types.String `tfsdk:"access_token"`
}

type fullModel struct {
	MinValidity types.String `tfsdk:"min_validity"`
	AccessToken types.String `tfsdk:"access_token"`
	TokenType   types.String `tfsdk:"token_type"`
	ExpiresIn   types.Int64  `tfsdk:"expires_in"`
	ExpiresAt   types.String `tfsdk:"expires_at"`
}

func (constToken) Metadata(_ context.Context, req ephemeral.MetadataRequest, resp *ephemeral.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_access_token"
}

func (r constToken) Schema(_ context.Context, _ ephemeral.SchemaRequest, resp *ephemeral.SchemaResponse) {
	attrs := map[string]eschema.Attribute{
		"access_token": eschema.StringAttribute{Computed: true, Sensitive: true},
	}
	if r.o.attrs {
		attrs["min_validity"] = eschema.StringAttribute{Optional: true}
		attrs["token_type"] = eschema.StringAttribute{Computed: true}
		attrs["expires_in"] = eschema.Int64Attribute{Computed: true}
		attrs["expires_at"] = eschema.StringAttribute{Computed: true}
	}
	resp.Schema = eschema.Schema{Attributes: attrs}
}

// jwtSized is a constant as long as the emulator's tokens: three Base64url
// parts, 624 bytes in all.
var jwtSized = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." + strings.Repeat("QmVuY2ggYmFyZSB0b2tlbi", 25)[:543] + "." +
	strings.Repeat("c2ln", 11)[:43]

func (r constToken) Open(ctx context.Context, _ ephemeral.OpenRequest, resp *ephemeral.OpenResponse) {
	token := "bare-constant-token"
	if r.o.token {
		token = jwtSized
	}
	if !r.o.attrs {
		resp.Diagnostics.Append(resp.Result.Set(ctx, constModel{AccessToken: types.StringValue(token)})...)
	} else {
		exp := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
		resp.Diagnostics.Append(resp.Result.Set(ctx, fullModel{
			MinValidity: types.StringNull(), AccessToken: types.StringValue(token), TokenType: types.StringValue("Bearer"),
			ExpiresIn: types.Int64Value(3600), ExpiresAt: types.StringValue(exp.Format(time.RFC3339)),
		})...)
	}
	if r.o.renew {
		exp := time.Now().Add(time.Hour)
		resp.RenewAt = exp.Add(-time.Minute)
		b, _ := json.Marshal(map[string]string{"expires_at": exp.UTC().Format(time.RFC3339)})
		resp.Diagnostics.Append(resp.Private.SetKey(ctx, "expiry", b)...)
	}
}
