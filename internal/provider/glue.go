package provider

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/faceki/terraform-provider-faceki/internal/faceki"
	"github.com/faceki/terraform-provider-faceki/internal/redact"
)

// providerData is what Configure hands to ephemeral resources and data
// sources: a client, or the reason there is none yet, and the process's
// redactor, logger and once-per-process warnings.
type providerData struct {
	settings    settings
	client      *faceki.Client
	rd          *redact.Redactor
	log         logger
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

// envFor maps an attribute to its environment variable.
var envFor = map[string]string{
	"client_id": EnvClientID, "client_secret": EnvClientSecret, "base_url": EnvBaseURL,
	"token_endpoint": EnvTokenEndpoint, "max_retries": EnvMaxRetries, "request_timeout": EnvRequestTimeout,
	"token_cache": EnvTokenCache, "token_cache_dir": EnvTokenCacheDir,
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
				"resource, a data source, or the %s environment variable.", attr, attr, envFor[attr]))
		return nil
	}
	diags.AddError(fmt.Sprintf(sumMissing, attr),
		fmt.Sprintf("A FACEKI token is needed, but the provider has no %s. Set the %q argument in the provider \"faceki\" block "+
			"(from a variable or an ephemeral value), or export the %s environment variable. Both client_id and client_secret "+
			"come from the Integration Settings of FACEKI's dashboard.", attr, attr, envFor[attr]))
	return nil
}

// addError turns a client error into an actionable diagnostic: what
// happened, then what to check. The client redacted every text already; the
// process's redactor runs once more over everything added here.
func addError(diags *diag.Diagnostics, rd *redact.Redactor, err error) {
	summary, detail, attr := describe(err)
	summary, detail = rd.Redact(summary), rd.Redact(detail)
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
		return sumInvalidConfig, fmt.Sprintf("%s. Check %s%s.", errText(err), cfgErr.Field, env), cfgErr.Field
	case errors.As(err, &lifeErr):
		return sumLifetime, fmt.Sprintf("%s.\n\n%s", errText(err), lifetimeHint(lifeErr)), "min_validity"
	case errors.As(err, &netErr):
		return sumUnreachable, fmt.Sprintf("%s.\n\nCheck that base_url (%s) is right and reachable from here: DNS, "+
			"firewall, and HTTPS_PROXY / NO_PROXY if a proxy is needed. Slow networks may need a larger request_timeout (%s) "+
			"or max_retries (%s).", errText(err), EnvBaseURL, EnvRequestTimeout, EnvMaxRetries), ""
	case errors.As(err, &apiErr):
		return describeAPIError(err, apiErr)
	case errors.Is(err, context.Canceled):
		return sumCancelled, "The run was interrupted before FACEKI answered.", ""
	case errors.Is(err, context.DeadlineExceeded):
		return sumTimedOut, fmt.Sprintf("%s. Raise request_timeout or max_retries, or check the network.", errText(err)), ""
	default:
		return sumRequestFailed, errText(err) + ".", ""
	}
}

// lifetimeHint says what min_validity can be, from the life FACEKI gave the
// token when the provider saw it issued.
func lifetimeHint(e *faceki.LifetimeError) string {
	if e.IssuedFor <= 0 {
		return "Lower min_validity, or check the token lifetime of your FACEKI account."
	}
	suggest := e.IssuedFor - e.IssuedFor/6
	if suggest >= 2*time.Minute {
		suggest = suggest.Truncate(time.Minute)
	} else {
		suggest = suggest.Truncate(time.Second)
	}
	return fmt.Sprintf("FACEKI issues tokens for %s; ask for at most that minus the time a run needs, e.g. %s.",
		e.IssuedFor.Round(time.Second), shortDuration(suggest))
}

// shortDuration prints d without trailing zero units: "50m", "1h30m", "45s".
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// describeAPIError says, for each kind of FACEKI answer, what to check.
func describeAPIError(err error, apiErr *faceki.APIError) (summary, detail, attr string) {
	switch apiErr.Kind {
	case faceki.KindCredentials:
		return sumCredentials, fmt.Sprintf("%s.\n\nCheck client_id and client_secret (or %s and %s): "+
			"copy both again from the Integration Settings of FACEKI's dashboard, and check that base_url points at the "+
			"FACEKI environment they belong to.", errText(err), EnvClientID, EnvClientSecret), ""
	case faceki.KindBadRequest:
		if apiErr.Op != "token request" {
			return sumIncomplete, fmt.Sprintf("%s.\n\nFACEKI says a parameter is missing or "+
				"malformed. Check that no proxy between here and base_url (%s) strips the Authorization header.", errText(err), EnvBaseURL), ""
		}
		return sumMissingParam, fmt.Sprintf("%s.\n\nCheck that client_id and client_secret "+
			"(or %s and %s) are set and not empty, and that token_endpoint (%s) is one your FACEKI account supports.",
			errText(err), EnvClientID, EnvClientSecret, EnvTokenEndpoint), ""
	case faceki.KindRateLimited:
		return sumRateLimited, fmt.Sprintf("%s.\n\nWait and run again. Many instances of "+
			"faceki_access_token share one token per provider configuration, so more instances do not mean more requests; "+
			"check for other pipelines using the same client_id at the same time.", errText(err)), ""
	case faceki.KindUnavailable:
		return sumUnavailable, fmt.Sprintf("%s.\n\nFACEKI, or a gateway or proxy in front of it, could not serve "+
			"the request. Run again later; if it persists, check FACEKI's status and any proxy set by HTTPS_PROXY, and "+
			"raise max_retries (%s) for a flaky network.", errText(err), EnvMaxRetries), ""
	case faceki.KindServer:
		return sumServerError, fmt.Sprintf("%s.\n\nFACEKI refused the request with the code or message above. "+
			"If it names your account (suspended, limit reached), check it in FACEKI's dashboard; otherwise run again "+
			"later, and contact FACEKI support with the time and the code if it persists.", errText(err)), ""
	case faceki.KindExpiredToken:
		return sumBadResponse, fmt.Sprintf("%s.\n\nFACEKI's tokens live an hour, so a token dead on arrival was not "+
			"FACEKI's fresh answer: check that base_url (%s) is FACEKI's API (default %s) and that nothing between "+
			"here and it (a CDN, a caching proxy set by HTTPS_PROXY) caches the token endpoint.", errText(err), EnvBaseURL, faceki.DefaultBaseURL), ""
	case faceki.KindBadResponse:
		return sumBadResponse, fmt.Sprintf("%s.\n\nCheck that base_url points at FACEKI's API (default %s), "+
			"not at a web page or a proxy's error page.", errText(err), faceki.DefaultBaseURL), ""
	case faceki.KindUnauthorized:
		return sumTokenRefused, fmt.Sprintf("%s.\n\nCheck that client_id and client_secret belong to "+
			"the company whose data is read, and that the account may use this API.", errText(err)), ""
	case faceki.KindNoRules:
		return sumNoRules, fmt.Sprintf("%s.\n\nFACEKI answered 7001 NO_RULES_FOR_COMPANY: set up "+
			"verification rules in FACEKI's dashboard (Verification Settings) first.", errText(err)), ""
	default:
		return sumRequestFailed, fmt.Sprintf("%s.\n\nCheck base_url (%s): the path FACEKI answered for does not "+
			"exist there, or a proxy is in the way.", errText(err), EnvBaseURL), ""
	}
}

// warnClock says, once per provider process, that this machine's clock is
// off FACEKI's by more than a minute: runs work (a token's life is counted by
// FACEKI's clock), but other tools on the machine may not.
func (d *providerData) warnClock(diags *diag.Diagnostics) {
	off, ok := d.client.ClockOffset()
	if !ok || off.Abs() <= faceki.ClockOffsetWarning || !d.clockWarned.CompareAndSwap(false, true) {
		return
	}
	diags.AddWarning(sumClockOffset, fmt.Sprintf("By FACEKI's answer (its Date header), %s. The provider counts each token's "+
		"life by FACEKI's clock, so this run is not affected; but anything else on this machine that checks the token's "+
		"expiry (a JWT's exp) against the local clock will be off by as much. Set the clock right (NTP; a VM whose "+
		"hardware clock keeps local time, or a drifting container host, are common causes).", faceki.ClockOffsetText(off)))
}

// setRedacted is the one way a value read from FACEKI reaches state, a plan
// or an ephemeral result: set stores the model, and then every string in
// raw, in nested objects and lists too, goes through the process's redactor,
// but for the top-level attributes in keep (the token an attribute exists
// to hand out). A new attribute cannot forget it.
func setRedacted(ctx context.Context, rd *redact.Redactor, diags *diag.Diagnostics,
	set func(context.Context, any) diag.Diagnostics, raw *tftypes.Value, model any, keep ...string) {
	diags.Append(set(ctx, model)...)
	if diags.HasError() {
		return
	}
	check := func(p *tftypes.AttributePath, v tftypes.Value) (redacted string, changed bool, err error) {
		if !v.Type().Is(tftypes.String) || !v.IsKnown() || v.IsNull() {
			return "", false, nil
		}
		if steps := p.Steps(); len(steps) > 0 {
			if name, ok := steps[0].(tftypes.AttributeName); ok && slices.Contains(keep, string(name)) {
				return "", false, nil
			}
		}
		var s string
		if err := v.As(&s); err != nil {
			return "", false, err
		}
		r := rd.Redact(s)
		return r, r != s, nil
	}
	// Reading every string is cheaper than rebuilding the value, and nearly
	// always finds nothing to replace: then the value stays as set.
	changed := false
	err := tftypes.Walk(*raw, func(p *tftypes.AttributePath, v tftypes.Value) (bool, error) {
		if changed {
			return false, nil
		}
		_, c, err := check(p, v)
		changed = c
		return err == nil, err
	})
	if err == nil && changed {
		var redacted tftypes.Value
		redacted, err = tftypes.Transform(*raw, func(p *tftypes.AttributePath, v tftypes.Value) (tftypes.Value, error) {
			if r, c, err := check(p, v); err != nil || c {
				return tftypes.NewValue(tftypes.String, r), err
			}
			return v, nil
		})
		if err == nil {
			*raw = redacted
		}
	}
	if err != nil {
		*raw = tftypes.NewValue(raw.Type(), nil) // nothing unredacted stays behind
		diags.AddError(sumProviderBug, rd.Redact(fmt.Sprintf("Redacting the values to store failed: %s. Please report this bug.", err)))
	}
}

// modelField is a field of a model struct: its attribute name (the tfsdk
// tag) and index.
type modelField struct {
	name  string
	index int
}

// modelFields caches fieldsOf by type.
var modelFields sync.Map // reflect.Type → []modelField

// fieldsOf lists the attribute fields of a model struct, once per type. The
// framework's Get and Set read the tags again on every call, compiling a
// regular expression per field name (v1.19): for the models read and
// written on every open, that was most of the provider's own work per
// instance.
func fieldsOf(t reflect.Type) []modelField {
	if cached, ok := modelFields.Load(t); ok {
		if fs, ok := cached.([]modelField); ok {
			return fs
		}
	}
	var fs []modelField
	for i := range t.NumField() {
		if name := t.Field(i).Tag.Get("tfsdk"); name != "" && name != "-" {
			fs = append(fs, modelField{name: name, index: i})
		}
	}
	modelFields.Store(t, fs)
	return fs
}

// getModel reads config into *model attribute by attribute, as Config.Get
// would, for a model whose fields are all attribute values (types.String,
// types.Int64).
func getModel(ctx context.Context, config tfsdk.Config, model any) diag.Diagnostics {
	var diags diag.Diagnostics
	v := reflect.ValueOf(model).Elem()
	for _, f := range fieldsOf(v.Type()) {
		diags.Append(config.GetAttribute(ctx, path.Root(f.name), v.Field(f.index).Addr().Interface())...)
	}
	return diags
}

// setRaw is a set for setRedacted that writes a model whose fields are all
// attribute values into *raw, as a value of raw's object type, as the
// framework's Set would. A model that does not match the type exactly (an
// attribute missing or extra) is an error, as with Set.
func setRaw(raw *tftypes.Value) func(context.Context, any) diag.Diagnostics {
	return func(ctx context.Context, model any) diag.Diagnostics {
		var diags diag.Diagnostics
		ty := raw.Type()
		v := reflect.Indirect(reflect.ValueOf(model))
		fs := fieldsOf(v.Type())
		vals := make(map[string]tftypes.Value, len(fs))
		for _, f := range fs {
			av, ok := v.Field(f.index).Interface().(attr.Value)
			if !ok {
				diags.AddError(sumProviderBug, fmt.Sprintf("Model field %s is a %s, not an attribute value. Please report this bug.", f.name, v.Field(f.index).Type()))
				return diags
			}
			tv, err := av.ToTerraformValue(ctx)
			if err != nil {
				diags.AddError(sumProviderBug, fmt.Sprintf("Converting %s: %s. Please report this bug.", f.name, err))
				return diags
			}
			vals[f.name] = tv
		}
		if err := tftypes.ValidateValue(ty, vals); err != nil {
			diags.AddError(sumProviderBug, fmt.Sprintf("The result does not match the schema: %s. Please report this bug.", err))
			return diags
		}
		*raw = tftypes.NewValue(ty, vals)
		return diags
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

// Log levels, as Terraform and OpenTofu read them for a provider's log
// lines, and as terraform-plugin-go reads them for this provider's own
// logger and for the SDK's (protocol and framework).
const (
	envLog         = "TF_LOG"
	envLogProvider = "TF_LOG_PROVIDER"
	envLogThis     = "TF_LOG_PROVIDER_FACEKI" // TF_LOG_PROVIDER_ and the provider's type name
	envLogSDK      = "TF_LOG_SDK"
	logLevelOff    = "OFF"
)

// QuietUnlessShown turns this provider's log lines and the SDK's off when the
// CLI that started the process will not show them. Terraform and OpenTofu
// show a provider's lines only when TF_LOG_PROVIDER, else TF_LOG, names a
// level other than OFF, and otherwise drop them unread; but the SDK logs
// every RPC at trace regardless, and writing each line (JSON, the caller's
// file and line, a write to the pipe) cost a tenth of an apply of 50
// instances. A level set for this provider's logger or the SDK is kept.
// Call it from main, before serving, and not in debug mode: there the
// process's stderr is a terminal.
func QuietUnlessShown() {
	level := os.Getenv(envLogProvider)
	if level == "" {
		level = os.Getenv(envLog)
	}
	if level != "" && !strings.EqualFold(level, logLevelOff) {
		return
	}
	for _, env := range []string{envLogThis, envLogSDK} {
		if _, set := os.LookupEnv(env); !set {
			_ = os.Setenv(env, logLevelOff)
		}
	}
}

// logger sends the provider's and the client's log lines to tflog, each
// passed through the process's redactor first: the message and every field
// value, whole. (tflog's own masks match listed strings or regular
// expressions, which cannot see through encodings.) All provider code logs
// through it; nothing here calls tflog directly.
type logger struct{ rd *redact.Redactor }

func (l logger) Debug(ctx context.Context, msg string, fields map[string]any) {
	if tflog.IsDebug(ctx) {
		tflog.Debug(ctx, l.rd.Redact(msg), l.redactFields(fields))
	}
}

func (l logger) Warn(ctx context.Context, msg string, fields map[string]any) {
	if tflog.IsWarn(ctx) {
		tflog.Warn(ctx, l.rd.Redact(msg), l.redactFields(fields))
	}
}

// redactFields redacts each value as the text the log would show.
func (l logger) redactFields(fields map[string]any) map[string]any {
	out := make(map[string]any, len(fields))
	for k, v := range fields {
		text := fmt.Sprint(v)
		if r := l.rd.Redact(text); r != text {
			v = r
		}
		out[l.rd.Redact(k)] = v
	}
	return out
}
