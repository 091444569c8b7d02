package provider

import (
	"fmt"
	"sync/atomic"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/faceki/terraform-provider-faceki/internal/faceki"
	"github.com/faceki/terraform-provider-faceki/internal/gate"
)

// providerData is what Configure hands to ephemeral resources and data
// sources: a client, or the settings that say why there is none yet, and
// the process's gate and once-per-process warnings.
type providerData struct {
	settings    settings
	client      *faceki.Client
	gate        *gate.Gate
	clockWarned *atomic.Bool // the process has said that its clock is off
}

// providerDataFrom is the Configure step of every ephemeral resource and
// data source: nil before the provider is configured (validation).
func providerDataFrom(v any, diags *diag.Diagnostics) *providerData {
	if v == nil {
		return nil
	}
	data, ok := v.(*providerData)
	if !ok {
		diags.AddError(sumProviderData, fmt.Sprintf("Expected *providerData, got %T. Please report this bug.", v))
	}
	return data
}

// clientFor returns the configured client, or an error diagnostic that names
// the missing attribute, its environment variable and the fix.
func clientFor(data *providerData, diags *diag.Diagnostics) *faceki.Client {
	if data == nil {
		diags.AddError(sumNotConfigured,
			"The faceki provider was not configured before it was used. This is a bug in the provider or the CLI; please report it.")
		return nil
	}
	if data.client != nil {
		return data.client
	}
	attr := data.settings.missing()
	if data.settings.unknown[attr] {
		diags.AddError(fmt.Sprintf(sumUnknown, attr),
			fmt.Sprintf("A FACEKI token is needed now, but the provider's %s depends on a value that is known only after apply "+
				"(for example an attribute of a resource not yet created). The CLI opens ephemeral resources during plan "+
				"even so. Set %s from a value known at plan time: a variable, an ephemeral variable, another ephemeral "+
				"resource, a data source, or the %s environment variable.", attr, attr, envOf[attr]))
		return nil
	}
	diags.AddError(fmt.Sprintf(sumMissing, attr),
		fmt.Sprintf("A FACEKI token is needed, but the provider has no %s. Set the %q argument in the provider \"faceki\" block "+
			"(from a variable or an ephemeral value), or export the %s environment variable. Both client_id and client_secret "+
			"come from the Integration Settings of FACEKI's dashboard.", attr, attr, envOf[attr]))
	return nil
}
