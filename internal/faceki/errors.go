package faceki

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// codeNames is FACEKI's KYC V2 responseCode table.
var codeNames = map[int]string{
	0:    "SUCCESS",
	1000: "INTERNAL_SYSTEM_ERROR",
	7001: "NO_RULES_FOR_COMPANY",
	8001: "NEED_REQUIRED_IMAGES",
	8002: "DOCUMENT_VERIFY_FAILED",
	8003: "PLEASE_TRY_AGAIN",
	8004: "FACE_CROPPED",
	8005: "FACE_TOO_CLOSED",
	8006: "FACE_NOT_FOUND",
	8007: "FACE_CLOSED_TO_BORDER",
	8008: "FACE_TOO_SMALL",
	8009: "POOR_LIGHT",
	8010: "ID_VERIFY_FAIL",
	8011: "DL_VERIFY_FAIL",
	8012: "PASSPORT_VERIFY_FAIL",
	8013: "DATA_NOT_FOUND",
	8014: "INVALID_VERIFICATION_LINK",
	8015: "VERIFICATION_LINK_EXPIRED",
	8016: "FAIL_TO_GENERATE_LINK",
	8017: "KYC_VERIFICATION_LIMIT_REACHED",
	8018: "SELFIE_MULTIPLE_FACES",
	8019: "FACE_BLURR",
}

// CodeName returns the documented name of a FACEKI responseCode, or "UNKNOWN_CODE".
func CodeName(code int) string {
	if name, ok := codeNames[code]; ok {
		return name
	}
	return "UNKNOWN_CODE"
}

// Response codes the provider treats specially.
const (
	CodeSuccess           = 0
	CodeNoRulesForCompany = 7001
)

// ErrorKind classifies a failure so that callers can say what to check.
type ErrorKind int

const (
	// KindCredentials: FACEKI rejected client_id / client_secret (401 or 403 to a token request).
	KindCredentials ErrorKind = iota + 1
	// KindUnauthorized: a bearer-token call was rejected (401 or 403 to an API call).
	KindUnauthorized
	// KindRateLimited: 429 after every retry.
	KindRateLimited
	// KindServer: a non-zero responseCode, or "status": false with no code.
	KindServer
	// KindBadResponse: a body that is not FACEKI's JSON, too large, or lacks the token.
	KindBadResponse
	// KindRequest: any other 4xx, e.g. a wrong base_url path (404), or a redirect.
	KindRequest
	// KindNoRules: responseCode 7001 NO_RULES_FOR_COMPANY.
	KindNoRules
	// KindBadRequest: 400 or 422, a missing or malformed parameter.
	KindBadRequest
	// KindUnavailable: 5xx after every retry, or with a Retry-After beyond the cap.
	KindUnavailable
	// KindExpiredToken: a success whose token was dead when it came (a stale
	// copy from a cache in front of FACEKI, or expires_in 0).
	KindExpiredToken
)

// APIError is a FACEKI answer that is not a success. Its strings are the
// client's own, or passed the gate.
type APIError struct {
	Kind       ErrorKind
	Op         string // the request that failed, e.g. "token request"
	HTTPStatus int    // the HTTP status of the last attempt
	// ResponseCode is FACEKI's responseCode; HasResponseCode says whether the body had one.
	ResponseCode    int
	HasResponseCode bool
	Message         string // FACEKI's "message", through the gate
	StatusCode      int    // FACEKI's "statusCode" field, 0 when absent
	Detail          string // what the client found wrong, e.g. "response is not JSON"
	RetryAfter      time.Duration
	Attempts        int
	URL             string // the URL tried, without its query
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "FACEKI %s failed: HTTP %d", e.Op, e.HTTPStatus)
	if e.HasResponseCode {
		fmt.Fprintf(&b, ", responseCode %d %s", e.ResponseCode, CodeName(e.ResponseCode))
	}
	if e.StatusCode != 0 && e.StatusCode != e.HTTPStatus {
		fmt.Fprintf(&b, ", statusCode %d", e.StatusCode)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ", message %q", e.Message)
	}
	if e.Detail != "" {
		fmt.Fprintf(&b, ": %s", e.Detail)
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " (after %d attempts)", e.Attempts)
	}
	if e.URL != "" {
		fmt.Fprintf(&b, " (URL: %s)", e.URL)
	}
	return b.String()
}

// TransportError is a failure to get any HTTP answer: connection refused, DNS,
// TLS, timeout. Its text passed the gate; the URL shows no query string.
type TransportError struct {
	Op       string
	URL      string // base URL and path only
	Msg      string // the cause
	Timeout  bool
	Attempts int
	// Err is the context's error when the call's deadline passed.
	Err error
}

func (e *TransportError) Unwrap() error { return e.Err }

func (e *TransportError) Error() string {
	s := fmt.Sprintf("FACEKI %s failed: could not reach %s: %s", e.Op, e.URL, e.Msg)
	if e.Attempts > 1 {
		s += fmt.Sprintf(" (after %d attempts)", e.Attempts)
	}
	return s
}

// ConfigError is a client configuration the client refuses before any request.
type ConfigError struct {
	Field string // "base_url", "client_id", …: the name used in FACEKI's and the provider's docs
	Msg   string
}

func (e *ConfigError) Error() string { return e.Field + ": " + e.Msg }

// LifetimeError says FACEKI's tokens live shorter than the validity asked for.
type LifetimeError struct {
	Lifetime    time.Duration // life left on the freshest token FACEKI issued
	MinValidity time.Duration
	ExpiresAt   time.Time
	// IssuedFor is the life FACEKI gave the token, and From what set it
	// (expires_in, the JWT's exp − iat, …); zero and "" when unknown.
	IssuedFor time.Duration
	From      string
}

func (e *LifetimeError) Error() string {
	s := fmt.Sprintf("the freshest FACEKI access token expires at %s, %s from now, which is less than the %s of validity asked for",
		e.ExpiresAt.UTC().Format(time.RFC3339), e.Lifetime.Round(time.Second), e.MinValidity)
	if e.From != "" {
		s += fmt.Sprintf(" (FACEKI's answer gave it %s, by %s)", e.IssuedFor.Round(time.Second), e.From)
	}
	return s
}

// ClockOffsetText says how this machine's clock stands to FACEKI's, e.g.
// "this machine's clock is 2h0m ahead of FACEKI's".
func ClockOffsetText(offset time.Duration) string {
	way := "ahead of"
	if offset < 0 {
		way = "behind"
	}
	return fmt.Sprintf("this machine's clock is %s %s FACEKI's", strings.TrimSuffix(offset.Abs().Round(time.Minute).String(), "0s"), way)
}

// IsKind reports whether err is an *APIError of the given kind.
func IsKind(err error, kind ErrorKind) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && apiErr.Kind == kind
}
