package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	ephemeralschema "github.com/hashicorp/terraform-plugin-framework/ephemeral/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
)

var _ datasource.DataSourceWithConfigure = (*accessTokenDataSource)(nil)

// NewAccessTokenDataSource is the faceki_access_token data source, for CLIs
// without ephemeral resources. It has the ephemeral resource's attributes,
// but gets a token of its own on every read and keeps it in state.
func NewAccessTokenDataSource() datasource.DataSource {
	return &accessTokenDataSource{}
}

type accessTokenDataSource struct {
	data *providerData
}

func (d *accessTokenDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_access_token"
}

func (d *accessTokenDataSource) Schema(ctx context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	// The attributes are the ephemeral resource's, so that switching between
	// `data` and `ephemeral` changes no reference.
	var eph ephemeral.SchemaResponse
	(&accessTokenEphemeralResource{}).Schema(ctx, ephemeral.SchemaRequest{}, &eph)
	attrs := make(map[string]schema.Attribute, len(eph.Schema.Attributes))
	for name, a := range eph.Schema.Attributes {
		switch a := a.(type) {
		case ephemeralschema.StringAttribute:
			attrs[name] = schema.StringAttribute{Optional: a.Optional, Computed: a.Computed, Sensitive: a.Sensitive, MarkdownDescription: a.MarkdownDescription, Validators: a.Validators}
		case ephemeralschema.Int64Attribute:
			attrs[name] = schema.Int64Attribute{Optional: a.Optional, Computed: a.Computed, Sensitive: a.Sensitive, MarkdownDescription: a.MarkdownDescription}
		default:
			resp.Diagnostics.AddError(sumProviderBug, fmt.Sprintf("faceki_access_token attribute %s has type %T, which the data source cannot mirror. Please report this bug.", name, a))
			return
		}
	}
	// The data source never shares its token.
	attrs["expires_at"] = schema.StringAttribute{Computed: true, MarkdownDescription: expiresAtDescription + " `min_validity` counts from it. Null when FACEKI gives neither."}
	attrs["min_validity"] = schema.StringAttribute{
		Optional:   true,
		Validators: []validator.String{minValidityRule},
		MarkdownDescription: "How much life the token must have left when it is read, as a Go duration such as `\"10m\"` " +
			"or `\"1h\"`. Defaults to `\"5m\"`. The data source always gets a fresh token; if even that lives shorter, " +
			"reading fails with an error naming both durations.",
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "A FACEKI bearer token, for CLIs without ephemeral resources (Terraform before 1.10, " +
			"OpenTofu before 1.11).\n\n" +
			"~> **The token is stored in state.** Like every data source attribute, `access_token` is written in plain " +
			"text to the state and to saved plan files (marking it sensitive only hides it from CLI output): anyone who " +
			"can read them can use the token until it expires. Where your CLI supports ephemeral resources, use the " +
			"`faceki_access_token` **ephemeral resource** instead: it has the same attributes and never writes the token " +
			"to state or plan files.\n\n" +
			"Every read (each `plan`, `apply` without a saved plan, and `refresh`) requests a new token from FACEKI " +
			"with the provider's credentials. This token is the data source's own: it is not the one the ephemeral " +
			"resource and `faceki_kyc_rules` share, so the token in state is never the one they use. The token in state " +
			"goes stale after `expires_at`; a run that needs it reads it anew.",
		Attributes: attrs,
	}
}

func (d *accessTokenDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *accessTokenDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	m, minValidity, client := startTokenRequest(ctx, req.Config, d.data, &resp.Diagnostics)
	if client == nil {
		return
	}
	// Its own token, never the shared one: this one goes to state.
	tok, err := client.AccessToken(ctx)
	d.data.warnClock(&resp.Diagnostics)
	if err == nil {
		now := time.Now()
		m.setToken(tok, now)
		err = tok.CheckValidity(now, minValidity)
	}
	if err != nil {
		addError(&resp.Diagnostics, err)
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
}
