package provider

// The summary of every diagnostic the provider produces, in one place:
// docs/guides/troubleshooting.md has a row for each, and
// TestTroubleshootingTableMatchesTheCode fails when the table and these
// disagree, or when a diagnostic is added with a summary written in place.
// A %s stands for an attribute's or an environment variable's name.
const (
	// Configuration.
	sumMissing       = "Missing FACEKI %s"
	sumUnknown       = "FACEKI provider attribute %s is not known yet"
	sumInvalid       = "Invalid %s"
	sumInvalidConfig = "Invalid FACEKI provider configuration"
	sumBaseURLPath   = "FACEKI base_url has a path"
	sumLongValidity  = "min_validity as long as FACEKI tokens live"

	// The token file.
	sumCacheDirNotFound = "FACEKI token cache directory not found"
	sumCacheDirNotUsed  = "FACEKI token cache directory not used"

	// What FACEKI answered, or did not.
	sumCredentials   = "FACEKI rejected the client credentials"
	sumMissingParam  = "FACEKI says the token request lacks a parameter"
	sumIncomplete    = "FACEKI refused the request as incomplete"
	sumRateLimited   = "FACEKI is rate limiting requests"
	sumUnavailable   = "FACEKI is unavailable"
	sumServerError   = "FACEKI reported an error"
	sumBadResponse   = "Unexpected response from FACEKI"
	sumTokenRefused  = "FACEKI rejected the access token"
	sumNoRules       = "FACEKI company has no KYC rules"
	sumRequestFailed = "FACEKI request failed"
	sumUnreachable   = "Cannot reach FACEKI"
	sumTimedOut      = "FACEKI request timed out"
	sumCancelled     = "FACEKI request cancelled"

	// A token's life.
	sumLifetime      = "FACEKI access token lives shorter than min_validity"
	sumRulesLifetime = "FACEKI access token lives too short to read the KYC rules"
	sumExpiring      = "FACEKI access token is about to expire"
	sumClockOffset   = "This machine's clock differs from FACEKI's"

	// Bugs: in the provider, or in the CLI that drives it.
	sumNotConfigured = "FACEKI provider not configured"
	sumProviderData  = "Unexpected provider data"
	sumProviderBug   = "Provider bug"
)
