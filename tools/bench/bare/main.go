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
//	token         the constant is as long as a FACEKI token (a 624-byte JWT, as the emulator issues)
//	attrs         the result has the real resource's other attributes: min_validity, token_type,
//	              expires_in, expires_at (or name them one by one)
//	renew         Open sets RenewAt and private data, as the real resource does
package main

import (
	"context"
	"encoding/json"
	"log"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	eschema "github.com/hashicorp/terraform-plugin-framework/ephemeral/schema"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// otherAttrs are the real result's attributes besides access_token.
var otherAttrs = []string{"min_validity", "token_type", "expires_in", "expires_at"}

type options struct {
	token, renew bool
	attrs        []string // of otherAttrs
}

func main() {
	var o options
	for _, s := range strings.Split(os.Getenv("BENCH_BARE"), ",") {
		switch s = strings.TrimSpace(s); {
		case s == "token":
			o.token = true
		case s == "renew":
			o.renew = true
		case s == "attrs":
			o.attrs = otherAttrs
		case slices.Contains(otherAttrs, s):
			o.attrs = append(o.attrs, s)
		case s == "":
		default:
			log.Fatalf("BENCH_BARE: unknown part %q (token, attrs or %s, renew)", s, strings.Join(otherAttrs, ", "))
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
	return []func() ephemeral.EphemeralResource{func() ephemeral.EphemeralResource { return constToken(p) }}
}

// constToken is faceki_access_token reduced to its one attribute the
// benchmark reads, sensitive as the real one.
type constToken struct{ o options }

func (constToken) Metadata(_ context.Context, req ephemeral.MetadataRequest, resp *ephemeral.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_access_token"
}

func (r constToken) Schema(_ context.Context, _ ephemeral.SchemaRequest, resp *ephemeral.SchemaResponse) {
	attrs := map[string]eschema.Attribute{
		"access_token": eschema.StringAttribute{Computed: true, Sensitive: true},
	}
	for _, name := range r.o.attrs {
		switch name {
		case "min_validity":
			attrs[name] = eschema.StringAttribute{Optional: true}
		case "expires_in":
			attrs[name] = eschema.Int64Attribute{Computed: true}
		default:
			attrs[name] = eschema.StringAttribute{Computed: true}
		}
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
	exp := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	vals := map[string]tftypes.Value{"access_token": tftypes.NewValue(tftypes.String, token)}
	for _, name := range r.o.attrs {
		switch name {
		case "min_validity":
			vals[name] = tftypes.NewValue(tftypes.String, nil)
		case "token_type":
			vals[name] = tftypes.NewValue(tftypes.String, "Bearer")
		case "expires_in":
			vals[name] = tftypes.NewValue(tftypes.Number, 3600)
		case "expires_at":
			vals[name] = tftypes.NewValue(tftypes.String, exp.Format(time.RFC3339))
		}
	}
	resp.Result.Raw = tftypes.NewValue(resp.Result.Raw.Type(), vals)
	if r.o.renew {
		resp.RenewAt = exp.Add(-time.Minute)
		b, _ := json.Marshal(map[string]string{"expires_at": exp.Format(time.RFC3339)})
		resp.Diagnostics.Append(resp.Private.SetKey(ctx, "expiry", b)...)
	}
}
