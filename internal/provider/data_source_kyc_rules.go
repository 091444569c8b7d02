package provider

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/faceki/terraform-provider-faceki/internal/faceki"
)

var _ datasource.DataSourceWithConfigure = (*kycRulesDataSource)(nil)

// NewKYCRulesDataSource is the faceki_kyc_rules data source.
func NewKYCRulesDataSource() datasource.DataSource {
	return &kycRulesDataSource{}
}

type kycRulesDataSource struct {
	data *providerData
}

type kycRulesModel struct {
	ID                          types.String `tfsdk:"id"`
	CompanyID                   types.String `tfsdk:"company_id"`
	LivenessCheckType           types.String `tfsdk:"liveness_check_type"`
	AllowedKYCDocuments         types.List   `tfsdk:"allowed_kyc_documents"`
	AllowedCountries            types.List   `tfsdk:"allowed_countries"`
	AllowedNationalities        types.List   `tfsdk:"allowed_nationalities"`
	InvalidDocuments            types.List   `tfsdk:"invalid_documents"`
	ValidAge                    types.Int64  `tfsdk:"valid_age"`
	Status                      types.String `tfsdk:"status"`
	DataStorageTime             types.String `tfsdk:"data_storage_time"`
	MultiKYCEnabled             types.Bool   `tfsdk:"multi_kyc_enabled"`
	IsRecapturedDocumentInvalid types.Bool   `tfsdk:"is_recaptured_document_invalid"`
	Link                        types.String `tfsdk:"link"`
	Success                     types.Object `tfsdk:"success"`
	Declined                    types.Object `tfsdk:"declined"`
	Invalid                     types.Object `tfsdk:"invalid"`
}

var outcomeAttrTypes = map[string]attr.Type{"redirect_url": types.StringType, "message": types.StringType}

func (d *kycRulesDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_kyc_rules"
}

func (d *kycRulesDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	str := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{Computed: true, MarkdownDescription: desc}
	}
	list := func(desc string) schema.ListAttribute {
		return schema.ListAttribute{Computed: true, ElementType: types.StringType, MarkdownDescription: desc}
	}
	outcome := func(field, when string) schema.SingleNestedAttribute {
		return schema.SingleNestedAttribute{
			Computed:            true,
			MarkdownDescription: "What FACEKI does when a verification " + when + " (FACEKI's `" + field + "`).",
			Attributes: map[string]schema.Attribute{
				"redirect_url": str("Where the user is sent (FACEKI's `redirect_url`)."),
				"message":      str("The message shown to the user (FACEKI's `message`)."),
			},
		}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "The KYC rules of the FACEKI company the provider's credentials belong to, as FACEKI's " +
			"`GET /kycrules/api/kycrules` returns them: which documents, countries and nationalities are accepted, " +
			"the minimum age, the liveness check level and where users are sent afterwards. Use it in a `check` " +
			"block, or in a `postcondition` of the data source, to make sure the account is set up as the configuration expects.\n\n" +
			"The request uses the provider's shared access token (the one `faceki_access_token` ephemeral resources " +
			"share), so reading the rules costs no token request of its own when a token is already at hand. Nothing " +
			"secret is stored in state: a value that repeats the client secret or a token is withheld whole. If FACEKI refuses a token it issued (HTTP 401 or 403), the provider fetches a " +
			"new one once and retries once. A company without rules (FACEKI's responseCode 7001 " +
			"`NO_RULES_FOR_COMPANY`) is an error.\n\n" +
			"Attributes FACEKI does not return are null; fields it adds are ignored.",
		Attributes: map[string]schema.Attribute{
			"id":                    str("The rules document's ID (FACEKI's `_id`)."),
			"company_id":            str("The FACEKI company the rules belong to (FACEKI's `companyId`)."),
			"liveness_check_type":   str("How strict the selfie liveness check is, for example `MODERATE` (FACEKI's `livenessCheckType`)."),
			"allowed_kyc_documents": list("Document types a user may verify with, for example `Passport` (FACEKI's `allowedKycDocuments`)."),
			"allowed_countries":     list("Countries whose documents are accepted (FACEKI's `allowedCountries`)."),
			"allowed_nationalities": list("Nationalities that are accepted (FACEKI's `allowedNationalities`)."),
			"invalid_documents":     list("Document types that are refused (FACEKI's `invalidDocuments`)."),
			"valid_age": schema.Int64Attribute{
				Computed:            true,
				MarkdownDescription: "The minimum age, in years, of a user who may pass verification (FACEKI's `validAge`).",
			},
			"status":            str("Whether the rules are in force, for example `ACTIVE` (FACEKI's `status`)."),
			"data_storage_time": str("How long FACEKI keeps verification data, for example `FOREVER` (FACEKI's `dataStorageTime`)."),
			"multi_kyc_enabled": schema.BoolAttribute{
				Computed:            true,
				MarkdownDescription: "Whether a user may verify with several documents at once (FACEKI's `multiKYCEnabled`).",
			},
			"is_recaptured_document_invalid": schema.BoolAttribute{
				Computed:            true,
				MarkdownDescription: "Whether a photographed copy of a document (a recapture) is refused (FACEKI's `isRecapturedDocumentInvalid`).",
			},
			"link":     str("The company's KYC verification link (FACEKI's `link`)."),
			"success":  outcome("success", "succeeds"),
			"declined": outcome("declined", "is declined"),
			"invalid":  outcome("invalid", "is found invalid"),
		},
	}
}

func (d *kycRulesDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *kycRulesDataSource) Read(ctx context.Context, _ datasource.ReadRequest, resp *datasource.ReadResponse) {
	client := clientFor(d.data, &resp.Diagnostics)
	if client == nil {
		return
	}
	rules, err := client.KYCRules(ctx)
	d.data.warnClock(&resp.Diagnostics)
	var lifeErr *faceki.LifetimeError
	if errors.As(err, &lifeErr) {
		// This data source has no min_validity for the usual advice to name.
		resp.Diagnostics.AddError(sumRulesLifetime,
			fmt.Sprintf("%s. Reading the KYC rules needs a token with at least %s left; check the token "+
				"lifetime of your FACEKI account.", errText(err), faceki.RulesMinValidity))
		return
	}
	if err != nil {
		addError(&resp.Diagnostics, err)
		return
	}
	m := kycRulesModel{
		ID:                          types.StringPointerValue(rules.ID),
		CompanyID:                   types.StringPointerValue(rules.CompanyID),
		LivenessCheckType:           types.StringPointerValue(rules.LivenessCheckType),
		AllowedKYCDocuments:         stringList(rules.AllowedKYCDocuments, &resp.Diagnostics),
		AllowedCountries:            stringList(rules.AllowedCountries, &resp.Diagnostics),
		AllowedNationalities:        stringList(rules.AllowedNationalities, &resp.Diagnostics),
		InvalidDocuments:            stringList(rules.InvalidDocuments, &resp.Diagnostics),
		ValidAge:                    types.Int64PointerValue(rules.ValidAge),
		Status:                      types.StringPointerValue(rules.Status),
		DataStorageTime:             types.StringPointerValue(rules.DataStorageTime),
		MultiKYCEnabled:             types.BoolPointerValue(rules.MultiKYCEnabled),
		IsRecapturedDocumentInvalid: types.BoolPointerValue(rules.IsRecapturedDocumentInvalid),
		Link:                        types.StringPointerValue(rules.Link),
		Success:                     outcomeObject(rules.Success, &resp.Diagnostics),
		Declined:                    outcomeObject(rules.Declined, &resp.Diagnostics),
		Invalid:                     outcomeObject(rules.Invalid, &resp.Diagnostics),
	}
	if resp.Diagnostics.HasError() {
		return
	}
	// Every string in it passed the gate (faceki.Rules).
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// stringList is null for a list FACEKI did not return.
func stringList(items []string, diags *diag.Diagnostics) types.List {
	if items == nil {
		return types.ListNull(types.StringType)
	}
	v, d := types.ListValueFrom(context.Background(), types.StringType, items)
	diags.Append(d...)
	return v
}

func outcomeObject(o *faceki.Outcome, diags *diag.Diagnostics) types.Object {
	if o == nil {
		return types.ObjectNull(outcomeAttrTypes)
	}
	v, d := types.ObjectValue(outcomeAttrTypes, map[string]attr.Value{
		"redirect_url": types.StringPointerValue(o.RedirectURL),
		"message":      types.StringPointerValue(o.Message),
	})
	diags.Append(d...)
	return v
}
