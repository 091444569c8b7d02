package provider

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/faceki/terraform-provider-faceki/internal/faceki"
)

// providerData is what Configure hands to ephemeral resources and data
// sources: a client, or the reason there is none yet.
type providerData struct {
	settings settings
	client   *faceki.Client
}

// providerDataFrom is the Configure step of every ephemeral resource and
// data source: nil before the provider is configured (validation).
func providerDataFrom(v any, diags *diag.Diagnostics) *providerData {
	if v == nil {
		return nil
	}
	data, ok := v.(*providerData)
	if !ok {
		diags.AddError("Unexpected provider data", fmt.Sprintf("Expected *providerData, got %T. Please report this bug.", v))
	}
	return data
}

// envFor maps an attribute to its environment variable.
var envFor = map[string]string{
	"client_id": EnvClientID, "client_secret": EnvClientSecret, "base_url": EnvBaseURL,
	"token_endpoint": EnvTokenEndpoint, "max_retries": EnvMaxRetries, "request_timeout": EnvRequestTimeout,
}

// clientFor returns the configured client, or an error diagnostic that names
// the missing attribute, its environment variable and the fix.
func clientFor(data *providerData, diags *diag.Diagnostics) *faceki.Client {
	if data == nil {
		diags.AddError("FACEKI provider not configured",
			"The faceki provider was not configured before it was used. This is a bug in the provider or the CLI; please report it.")
		return nil
	}
	if data.client != nil {
		return data.client
	}
	attr := data.settings.missing()
	if data.settings.unknown[attr] {
		diags.AddError(fmt.Sprintf("FACEKI provider attribute %s is not known yet", attr),
			fmt.Sprintf("A FACEKI token is needed now, but the provider's %s depends on a value that is known only after apply "+
				"(for example an attribute of a resource not yet created). The CLI opens ephemeral resources during plan "+
				"even so. Set %s from a value known at plan time: a variable, an ephemeral variable, another ephemeral "+
				"resource, a data source, or the %s environment variable.", attr, attr, envFor[attr]))
		return nil
	}
	diags.AddError(fmt.Sprintf("Missing FACEKI %s", attr),
		fmt.Sprintf("A FACEKI token is needed, but the provider has no %s. Set the %q argument in the provider \"faceki\" block "+
			"(from a variable or an ephemeral value), or export the %s environment variable. Both client_id and client_secret "+
			"come from the Integration Settings of FACEKI's dashboard.", attr, attr, envFor[attr]))
	return nil
}

// addError turns a client error into an actionable diagnostic: what
// happened, then what to check. Every text has already been redacted by the
// client; client.Redact runs once more for anything added here.
func addError(diags *diag.Diagnostics, client *faceki.Client, err error) {
	summary, detail, attr := describe(err)
	if client != nil {
		summary, detail = client.Redact(summary), client.Redact(detail)
	}
	if attr != "" {
		diags.AddAttributeError(path.Root(attr), summary, detail)
		return
	}
	diags.AddError(summary, detail)
}

func describe(err error) (summary, detail, attr string) {
	var (
		cfgErr  *faceki.ConfigError
		apiErr  *faceki.APIError
		netErr  *faceki.TransportError
		lifeErr *faceki.LifetimeError
	)
	switch {
	case errors.As(err, &cfgErr):
		env := ""
		if e, ok := envFor[cfgErr.Field]; ok {
			env = fmt.Sprintf(" (or the %s environment variable)", e)
		}
		return "Invalid FACEKI provider configuration", fmt.Sprintf("%s. Check %s%s.", errText(err), cfgErr.Field, env), cfgErr.Field
	case errors.As(err, &lifeErr):
		return "FACEKI access token lives shorter than min_validity",
			fmt.Sprintf("%s. Lower min_validity (for example to \"1m\"), or check the token lifetime of your FACEKI account.", errText(err)), "min_validity"
	case errors.As(err, &netErr):
		return "Cannot reach FACEKI", fmt.Sprintf("%s.\n\nCheck that base_url (%s) is right and reachable from here: DNS, "+
			"firewall, and HTTPS_PROXY / NO_PROXY if a proxy is needed. Slow networks may need a larger request_timeout (%s) "+
			"or max_retries (%s).", errText(err), EnvBaseURL, EnvRequestTimeout, EnvMaxRetries), ""
	case errors.As(err, &apiErr):
		switch apiErr.Kind {
		case faceki.KindCredentials:
			return "FACEKI rejected the client credentials", fmt.Sprintf("%s.\n\nCheck client_id and client_secret (or %s and %s): "+
				"copy both again from the Integration Settings of FACEKI's dashboard, and check that base_url points at the "+
				"FACEKI environment they belong to.", errText(err), EnvClientID, EnvClientSecret), ""
		case faceki.KindRateLimited:
			return "FACEKI is rate limiting requests", fmt.Sprintf("%s.\n\nWait and run again. Many instances of "+
				"faceki_access_token share one token per provider configuration, so more instances do not mean more requests.", errText(err)), ""
		case faceki.KindServer:
			return "FACEKI reported an error", fmt.Sprintf("%s.\n\nThis is on FACEKI's side: run again later, and contact "+
				"FACEKI support with the time and the code above if it persists.", errText(err)), ""
		case faceki.KindBadResponse:
			return "Unexpected response from FACEKI", fmt.Sprintf("%s.\n\nCheck that base_url points at FACEKI's API (default %s), "+
				"not at a web page or a proxy's error page.", errText(err), faceki.DefaultBaseURL), ""
		case faceki.KindUnauthorized:
			return "FACEKI rejected the access token", fmt.Sprintf("%s.\n\nThe token was refused even after a fresh one was "+
				"fetched. Check that client_id and client_secret belong to the company whose data is read.", errText(err)), ""
		case faceki.KindNoRules:
			return "FACEKI company has no KYC rules", fmt.Sprintf("%s.\n\nFACEKI answered 7001 NO_RULES_FOR_COMPANY: set up "+
				"verification rules in FACEKI's dashboard (Verification Settings) first.", errText(err)), ""
		default:
			return "FACEKI request failed", fmt.Sprintf("%s.\n\nCheck base_url (%s): the path FACEKI answered for does not "+
				"exist there, or a proxy is in the way.", errText(err), EnvBaseURL), ""
		}
	case errors.Is(err, context.Canceled):
		return "FACEKI request cancelled", "The run was interrupted before FACEKI answered.", ""
	case errors.Is(err, context.DeadlineExceeded):
		return "FACEKI request timed out", fmt.Sprintf("%s. Raise request_timeout or max_retries, or check the network.", errText(err)), ""
	default:
		return "FACEKI request failed", errText(err) + ".", ""
	}
}

// errText is err's message without a trailing period, for sentences.
func errText(err error) string {
	s := err.Error()
	for len(s) > 0 && s[len(s)-1] == '.' {
		s = s[:len(s)-1]
	}
	return s
}

// maskSecrets makes the provider's log lines mask every form of the given
// secrets, whatever a caller logs: defence in depth behind the client's own
// redaction.
func maskSecrets(ctx context.Context, secrets ...string) context.Context {
	var forms []string
	for _, s := range secrets {
		forms = append(forms, faceki.Forms(s)...)
	}
	if len(forms) == 0 {
		return ctx
	}
	ctx = tflog.MaskAllFieldValuesStrings(ctx, forms...)
	return tflog.MaskMessageStrings(ctx, forms...)
}

// tflogLogger sends the client's (already redacted) lines to the provider log.
type tflogLogger struct{}

func (tflogLogger) Debug(ctx context.Context, msg string, fields map[string]any) {
	tflog.Debug(ctx, msg, fields)
}

func (tflogLogger) Warn(ctx context.Context, msg string, fields map[string]any) {
	tflog.Warn(ctx, msg, fields)
}
