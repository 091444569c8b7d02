package provider

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/faceki/terraform-provider-faceki/internal/faceki"
)

// addError turns a client error into an actionable diagnostic: what
// happened, then what to check. The client's errors hold only text that is
// safe to show (see package faceki).
func addError(diags *diag.Diagnostics, err error) {
	summary, detail, attr := describe(err)
	if attr != "" {
		diags.AddAttributeError(path.Root(attr), summary, detail)
		return
	}
	diags.AddError(summary, detail)
}

func describe(err error) (summary, detail, attr string) {
	summary, detail, attr = describeKind(err)
	if hint := emulatorHint(err); hint != "" {
		detail += "\n\n" + hint
	}
	return summary, detail, attr
}

// emulatorHint speaks of the FACEKI emulator when the request went to a
// loopback address, where the real FACEKI never is.
func emulatorHint(err error) string {
	var apiErr *faceki.APIError
	var netErr *faceki.TransportError
	var where string
	switch {
	case errors.As(err, &netErr):
		where = netErr.URL
	case errors.As(err, &apiErr):
		where = apiErr.URL
	}
	u, perr := url.Parse(where)
	if perr != nil || where == "" || !faceki.IsLoopback(u.Hostname()) {
		return ""
	}
	switch {
	case netErr != nil:
		return fmt.Sprintf("base_url is a loopback address (%s): if it is the FACEKI emulator, start it there first "+
			"(faceki-emulator -listen %s).", u.Host, u.Host)
	case apiErr.Kind == faceki.KindCredentials:
		return "base_url is a loopback address: if it is the FACEKI emulator, it accepts the client ID and secret of " +
			"its own FACEKI_CLIENT_ID and FACEKI_CLIENT_SECRET (or its -client-id and -client-secret flags), and each " +
			"-client ID with that secret; its log says why it refused this request."
	}
	return "base_url is a loopback address: if it is the FACEKI emulator, its log says what it answered and why."
}

func describeKind(err error) (summary, detail, attr string) {
	var (
		cfgErr  *faceki.ConfigError
		apiErr  *faceki.APIError
		netErr  *faceki.TransportError
		lifeErr *faceki.LifetimeError
	)
	switch {
	case errors.As(err, &cfgErr):
		env := ""
		if e, ok := envOf[cfgErr.Field]; ok {
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
	kind := apiErr.Kind
	if kind == faceki.KindBadRequest && apiErr.Op != "token request" {
		kind = -1 // a bearer-token request FACEKI found incomplete
	}
	a, ok := advice[kind]
	if !ok {
		a = advice[faceki.KindRequest]
	}
	return a.summary, errText(err) + ".\n\n" + a.check, ""
}

// advice is, for each kind of FACEKI answer, the summary and what to check.
var advice = map[faceki.ErrorKind]struct{ summary, check string }{
	faceki.KindCredentials: {sumCredentials, "Check client_id and client_secret (or " + EnvClientID + " and " + EnvClientSecret +
		"): copy both again from the Integration Settings of FACEKI's dashboard, and check that base_url points at the " +
		"FACEKI environment they belong to."},
	-1: {sumIncomplete, "FACEKI says a parameter is missing or malformed. Check that no proxy between here and base_url (" +
		EnvBaseURL + ") strips the Authorization header."},
	faceki.KindBadRequest: {sumMissingParam, "Check that client_id and client_secret (or " + EnvClientID + " and " +
		EnvClientSecret + ") are set and not empty, and that token_endpoint (" + EnvTokenEndpoint + ") is one your FACEKI " +
		"account supports."},
	faceki.KindRateLimited: {sumRateLimited, "Wait and run again. Many instances of faceki_access_token share one token " +
		"per provider configuration, so more instances do not mean more requests; check for other pipelines using the " +
		"same client_id at the same time."},
	faceki.KindUnavailable: {sumUnavailable, "FACEKI, or a gateway or proxy in front of it, could not serve the request. " +
		"Run again later; if it persists, check FACEKI's status and any proxy set by HTTPS_PROXY, and raise max_retries (" +
		EnvMaxRetries + ") for a flaky network."},
	faceki.KindServer: {sumServerError, "FACEKI refused the request with the code or message above. If it names your " +
		"account (suspended, limit reached), check it in FACEKI's dashboard; otherwise run again later, and contact " +
		"FACEKI support with the time and the code if it persists."},
	faceki.KindExpiredToken: {sumBadResponse, "FACEKI's tokens live an hour, so a token dead on arrival was not FACEKI's " +
		"fresh answer: check that base_url (" + EnvBaseURL + ") is FACEKI's API (default " + faceki.DefaultBaseURL +
		") and that nothing between here and it (a CDN, a caching proxy set by HTTPS_PROXY) caches the token endpoint."},
	faceki.KindBadResponse: {sumBadResponse, "Check that base_url points at FACEKI's API (default " + faceki.DefaultBaseURL +
		"), not at a web page or a proxy's error page."},
	faceki.KindUnauthorized: {sumTokenRefused, "Check that client_id and client_secret belong to the company whose data is " +
		"read, and that the account may use this API."},
	faceki.KindNoRules: {sumNoRules, "FACEKI answered 7001 NO_RULES_FOR_COMPANY: set up verification rules in FACEKI's " +
		"dashboard (Verification Settings) first."},
	faceki.KindRequest: {sumRequestFailed, "Check base_url (" + EnvBaseURL + "): the path FACEKI answered for does not " +
		"exist there, or a proxy is in the way."},
}

// warnClock says, once per provider process, that this machine's clock is
// off FACEKI's by more than a minute (a Date header has whole seconds, and a
// round trip adds some): runs work, but other tools on the machine may not.
func (d *providerData) warnClock(diags *diag.Diagnostics) {
	off, ok := d.client.ClockOffset()
	if !ok || off.Abs() <= time.Minute || !d.clockWarned.CompareAndSwap(false, true) {
		return
	}
	diags.AddWarning(sumClockOffset, fmt.Sprintf("By FACEKI's answer (its Date header), %s. The provider never holds this "+
		"machine's clock against a token's expiry, so this run is not affected; but anything else on this machine that "+
		"checks the token's expiry (a JWT's exp) against the local clock will be off by as much. Set the clock right (NTP; a VM whose "+
		"hardware clock keeps local time, or a drifting container host, are common causes).", faceki.ClockOffsetText(off)))
}

// errText is err's message without a trailing period, for sentences.
func errText(err error) string { return strings.TrimRight(err.Error(), ".") }
