// Command naive is the faceki provider without its shared token: the
// baseline of `make bench`, never released. It serves the production
// provider unchanged, except that every open of faceki_access_token goes to a
// freshly configured copy of the provider, with a token cache of its own, so
// that each open makes exactly one plain token request (as a provider without
// a cache would), through the production client and ephemeral resource.
// Each copy also has its own HTTP connection pool: one new loopback
// connection per open, on top of the token request.
package main

import (
	"context"
	"log"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	fwprovider "github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/faceki/terraform-provider-faceki/internal/provider"
)

const version = "naive"

func main() {
	provider.QuietUnlessShown() // as the real provider's main
	err := providerserver.Serve(context.Background(), func() fwprovider.Provider {
		return &naiveProvider{Provider: provider.New(version)()}
	}, providerserver.ServeOpts{Address: "registry.terraform.io/faceki/faceki"})
	if err != nil {
		log.Fatal(err.Error())
	}
}

type naiveProvider struct {
	fwprovider.Provider

	mu  sync.Mutex
	req fwprovider.ConfigureRequest
}

var (
	_ fwprovider.ProviderWithEphemeralResources = (*naiveProvider)(nil)
	_ fwprovider.ProviderWithValidateConfig     = (*naiveProvider)(nil)
)

func (p *naiveProvider) ValidateConfig(ctx context.Context, req fwprovider.ValidateConfigRequest, resp *fwprovider.ValidateConfigResponse) {
	if v, ok := p.Provider.(fwprovider.ProviderWithValidateConfig); ok {
		v.ValidateConfig(ctx, req, resp)
	}
}

// Configure configures the wrapped provider as usual and keeps the request,
// to configure a fresh copy for every open.
func (p *naiveProvider) Configure(ctx context.Context, req fwprovider.ConfigureRequest, resp *fwprovider.ConfigureResponse) {
	p.Provider.Configure(ctx, req, resp)
	p.mu.Lock()
	p.req = req
	p.mu.Unlock()
	resp.EphemeralResourceData = p
}

func (p *naiveProvider) EphemeralResources(ctx context.Context) []func() ephemeral.EphemeralResource {
	return []func() ephemeral.EphemeralResource{func() ephemeral.EphemeralResource {
		return &naiveToken{inner: newInner()}
	}}
}

// newInner is the production ephemeral resource, with the interfaces the
// wrapper forwards to.
func newInner() resourceAll {
	r, ok := provider.NewAccessTokenEphemeralResource().(resourceAll)
	if !ok {
		panic("faceki_access_token no longer implements Configure and Renew")
	}
	return r
}

type resourceAll interface {
	ephemeral.EphemeralResourceWithConfigure
	ephemeral.EphemeralResourceWithRenew
	ephemeral.EphemeralResourceWithValidateConfig
}

type naiveToken struct {
	inner resourceAll
	p     *naiveProvider
}

var _ resourceAll = (*naiveToken)(nil)

func (r *naiveToken) Metadata(ctx context.Context, req ephemeral.MetadataRequest, resp *ephemeral.MetadataResponse) {
	r.inner.Metadata(ctx, req, resp)
}

func (r *naiveToken) Schema(ctx context.Context, req ephemeral.SchemaRequest, resp *ephemeral.SchemaResponse) {
	r.inner.Schema(ctx, req, resp)
}

func (r *naiveToken) ValidateConfig(ctx context.Context, req ephemeral.ValidateConfigRequest, resp *ephemeral.ValidateConfigResponse) {
	r.inner.ValidateConfig(ctx, req, resp)
}

func (r *naiveToken) Configure(_ context.Context, req ephemeral.ConfigureRequest, _ *ephemeral.ConfigureResponse) {
	if p, ok := req.ProviderData.(*naiveProvider); ok {
		r.p = p
	}
}

func (r *naiveToken) Renew(ctx context.Context, req ephemeral.RenewRequest, resp *ephemeral.RenewResponse) {
	r.inner.Renew(ctx, req, resp)
}

// Open configures a new provider (new token cache, new client) from the
// saved request and opens the production resource with it.
func (r *naiveToken) Open(ctx context.Context, req ephemeral.OpenRequest, resp *ephemeral.OpenResponse) {
	if r.p == nil {
		resp.Diagnostics.AddError("naive provider not configured", "Open before Configure.")
		return
	}
	r.p.mu.Lock()
	creq := r.p.req
	r.p.mu.Unlock()
	var cresp fwprovider.ConfigureResponse
	provider.New(version)().Configure(ctx, creq, &cresp)
	resp.Diagnostics.Append(cresp.Diagnostics...)
	if resp.Diagnostics.HasError() {
		return
	}
	res := newInner()
	var rresp ephemeral.ConfigureResponse
	res.Configure(ctx, ephemeral.ConfigureRequest{ProviderData: cresp.EphemeralResourceData}, &rresp)
	resp.Diagnostics.Append(rresp.Diagnostics...)
	if resp.Diagnostics.HasError() {
		return
	}
	res.Open(ctx, req, resp)
}
