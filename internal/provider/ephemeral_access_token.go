package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/faceki/terraform-provider-faceki/internal/faceki"
)

const (
	defaultMinValidity = 5 * time.Minute
	// renewMargin is how long before expiry the CLI is asked to call Renew,
	// which reports that the token is about to expire.
	renewMargin = time.Minute
	privateKey  = "expiry"
)

var (
	_ ephemeral.EphemeralResourceWithConfigure = (*accessTokenEphemeralResource)(nil)
	_ ephemeral.EphemeralResourceWithRenew     = (*accessTokenEphemeralResource)(nil)
)

// NewAccessTokenEphemeralResource is the faceki_access_token ephemeral resource.
func NewAccessTokenEphemeralResource() ephemeral.EphemeralResource {
	return &accessTokenEphemeralResource{}
}

type accessTokenEphemeralResource struct {
	data *providerData
}

type accessTokenModel struct {
	MinValidity types.String `tfsdk:"min_validity"`
	AccessToken types.String `tfsdk:"access_token"`
	TokenType   types.String `tfsdk:"token_type"`
	ExpiresIn   types.Int64  `tfsdk:"expires_in"`
	ExpiresAt   types.String `tfsdk:"expires_at"`
}

// privateExpiry is all that is kept in private data: no secret.
type privateExpiry struct {
	ExpiresAt string `json:"expires_at"`
}

func (r *accessTokenEphemeralResource) Metadata(_ context.Context, req ephemeral.MetadataRequest, resp *ephemeral.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_access_token"
}

func (r *accessTokenEphemeralResource) Schema(_ context.Context, _ ephemeral.SchemaRequest, resp *ephemeral.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A FACEKI bearer token, fetched from FACEKI's token endpoint with the provider's " +
			"credentials and handed to the rest of the configuration (another provider's configuration, " +
			"write-only attributes, provisioners) without ever being written to state or plan files.\n\n" +
			"The CLI opens ephemeral resources during `plan` and again during `apply`, each instance in each walk, and " +
			"starts a provider process per walk (one for `plan`, two for `apply`). FACEKI asks that tokens be regenerated " +
			"only once they expire, so within one provider process every instance shares one token for as long as it has " +
			"at least `min_validity` of life left (see `expires_at` for what a token's life is): concurrent opens make a " +
			"single request, a failed request is never remembered, and the token is kept per base URL, client ID and " +
			"secret. A token FACEKI issues with neither `expires_in` nor a JWT `exp` claim is not shared and its expiry " +
			"attributes are null. With the provider's default `token_cache = \"memory\"`, expect one token request per " +
			"provider configuration per walk; with `token_cache = \"file\"` the walks of a run, and later runs on the " +
			"machine, share the token through an encrypted file while it has `min_validity` left.\n\n" +
			"An open never takes longer than `" + faceki.Bound + "`, waiting for another process's lock on the token " +
			"file included.\n\n" +
			"FACEKI tokens cannot be extended. A value already handed on keeps the token it was given; if a run may " +
			"outlast it, raise `min_validity`. Shortly before the token expires the CLI calls the provider's renew " +
			"hook, which reports the expiry as a warning (shown by OpenTofu and Terraform 1.17 and later).\n\n" +
			"Requires Terraform 1.10 or later, or OpenTofu 1.11 or later.",
		Attributes: map[string]schema.Attribute{
			"min_validity": schema.StringAttribute{
				Optional:   true,
				Validators: []validator.String{minValidityRule},
				MarkdownDescription: "How much life the token must have left when it is handed out, as a Go duration " +
					"such as `\"10m\"` or `\"1h\"`. Defaults to `\"5m\"`. A shared token with less left is replaced by a " +
					"fresh one; if even a fresh token lives shorter, opening fails with an error naming both durations and " +
					"the life FACEKI gives its tokens, and later opens in the same provider process that ask as much fail " +
					"at once, without another request. FACEKI's tokens live an hour at most, so `\"1h\"` or more gets a " +
					"warning at validation.",
			},
			"access_token": schema.StringAttribute{
				Computed:            true,
				Sensitive:           true,
				MarkdownDescription: "The bearer token, for an `Authorization: Bearer <access_token>` header.",
			},
			"token_type": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "The token type FACEKI reports, `Bearer`.",
			},
			"expires_in": schema.Int64Attribute{
				Computed: true,
				MarkdownDescription: "Whole seconds of life the token has left when it is handed out. Null when FACEKI " +
					"reports no expiry.",
			},
			"expires_at": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: expiresAtDescription + " `min_validity` and sharing count from it. Null when FACEKI gives neither.",
			},
		},
	}
}

func (r *accessTokenEphemeralResource) Configure(_ context.Context, req ephemeral.ConfigureRequest, resp *ephemeral.ConfigureResponse) {
	r.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

// startTokenRequest is the common start of Open and the data source's Read:
// the configuration, its min_validity, and the configured client. The client
// is nil when any of it failed.
func startTokenRequest(ctx context.Context, config tfsdk.Config, data *providerData, diags *diag.Diagnostics) (*accessTokenModel, time.Duration, *faceki.Client) {
	// min_validity is all a configuration sets: read alone, it costs the
	// framework no reflection over the model.
	var m accessTokenModel
	if diags.Append(config.GetAttribute(ctx, path.Root("min_validity"), &m.MinValidity)...); diags.HasError() {
		return nil, 0, nil
	}
	minValidity := defaultMinValidity
	if !m.MinValidity.IsNull() {
		minValidity, _ = time.ParseDuration(m.MinValidity.ValueString()) // validated: minValidityRule
	}
	client := clientFor(data, diags)
	if client == nil {
		return nil, 0, nil
	}
	return &m, minValidity, client
}

// expiresAtDescription is what expires_at is, for the ephemeral resource
// and the data source alike.
const expiresAtDescription = "When the token expires, in RFC 3339 format, UTC: the time the token request was sent, plus " +
	"the least of FACEKI's `expires_in`, the JWT's `exp` − `iat`, and the JWT's `exp` less FACEKI's clock (the `Date` of " +
	"its answer plus its `Age`), each less the time a cache in front of FACEKI kept the answer (its `Age`). This " +
	"machine's clock is never held against `exp`, so a machine whose clock is off still gets the token's real life."

// minValidityRule checks min_validity, and warns when it asks for as much
// as FACEKI's tokens ever live (an hour).
var minValidityRule = minValidityValidator{ruleValidator{"a duration", func(v string) error {
	if d, err := time.ParseDuration(v); err != nil || d < 0 {
		return fmt.Errorf("must be a duration such as \"5m\", \"90s\" or \"1h\", zero or more")
	}
	return nil
}}}

type minValidityValidator struct{ ruleValidator }

func (v minValidityValidator) ValidateString(ctx context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	v.ruleValidator.ValidateString(ctx, req, resp)
	if d, err := time.ParseDuration(req.ConfigValue.ValueString()); err == nil && d >= time.Hour && !resp.Diagnostics.HasError() {
		resp.Diagnostics.AddAttributeWarning(req.Path, sumLongValidity, fmt.Sprintf("min_validity is %s, but FACEKI issues "+
			"tokens for an hour at most (expires_in 3600): no token can have that much life left, so opening will fail. Ask "+
			"for at most the token lifetime minus the time a run needs, e.g. 50m.", d))
	}
}

// setToken fills the token attributes of m from tok, as seen at now, and
// reports the life it has left (known false when FACEKI gave no expiry).
func (m *accessTokenModel) setToken(tok faceki.Token, now time.Time) (left time.Duration, known bool) {
	m.AccessToken = types.StringValue(tok.AccessToken)
	m.TokenType = types.StringValue(tok.TokenType)
	m.ExpiresIn, m.ExpiresAt = types.Int64Null(), types.StringNull()
	left, known = tok.Remaining(now)
	if known {
		m.ExpiresIn = types.Int64Value(int64(left / time.Second))
		m.ExpiresAt = types.StringValue(tok.ExpiresAt.UTC().Format(time.RFC3339))
	}
	return left, known
}

func (r *accessTokenEphemeralResource) Open(ctx context.Context, req ephemeral.OpenRequest, resp *ephemeral.OpenResponse) {
	m, minValidity, client := startTokenRequest(ctx, req.Config, r.data, &resp.Diagnostics)
	if client == nil {
		return
	}
	tok, err := client.SharedToken(ctx, minValidity)
	r.data.warnClock(&resp.Diagnostics)
	if err != nil {
		addError(&resp.Diagnostics, err)
		return
	}

	if left, known := m.setToken(tok, time.Now()); known {
		resp.RenewAt = tok.ExpiresAt.Add(-min(renewMargin, left/2))
		b, _ := json.Marshal(privateExpiry{ExpiresAt: m.ExpiresAt.ValueString()})
		resp.Diagnostics.Append(resp.Private.SetKey(ctx, privateKey, b)...)
	}
	resp.Diagnostics.Append(resp.Result.Set(ctx, m)...)
}

// Renew cannot hand out a new token (the framework's Renew returns no
// result), so it says when the token expires. Released Terraform up to 1.16
// discards the warning; OpenTofu and Terraform 1.17 show it.
func (r *accessTokenEphemeralResource) Renew(ctx context.Context, req ephemeral.RenewRequest, resp *ephemeral.RenewResponse) {
	b, diags := req.Private.GetKey(ctx, privateKey)
	resp.Diagnostics.Append(diags...)
	var p privateExpiry
	if len(b) == 0 || json.Unmarshal(b, &p) != nil {
		return
	}
	resp.Diagnostics.AddWarning(sumExpiring,
		fmt.Sprintf("The token from faceki_access_token expires at %s and FACEKI tokens cannot be renewed. "+
			"Anything configured with it keeps the old token; if this run needs it longer, raise min_validity "+
			"(FACEKI issues tokens for up to an hour) or split the run.", p.ExpiresAt))
}
