// Package faceki is a small client for FACEKI's KYC V2 API, and knows
// nothing of Terraform. It promises:
//   - one token per account shared by every caller while it has the life
//     they ask for, and never a life longer than FACEKI gave it;
//   - bounded work: every call ends within MaxDuration, retries only what
//     may succeed, and reads at most MaxResponseBytes of an answer;
//   - errors and log lines that hold only the client's own text, numbers,
//     URLs without their query, and outside text that passed its gate
//     (internal/gate), which knows the secret and every token fetched.
package faceki

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-cleanhttp"
	"github.com/hashicorp/go-retryablehttp"

	"github.com/faceki/terraform-provider-faceki/internal/gate"
)

// Defaults and bounds.
const (
	DefaultBaseURL        = "https://sdk.faceki.com"
	DefaultMaxRetries     = 3
	MaxMaxRetries         = 10
	DefaultRequestTimeout = 30 * time.Second
	MaxResponseBytes      = 1 << 20
	MinBackoff            = 500 * time.Millisecond
	MaxBackoff            = 5 * time.Second
	MaxRetryAfter         = 30 * time.Second
	// A FACEKI token is a JWT of about a kilobyte; an answer far beyond
	// these is not FACEKI's, and would cost every later check of the gate.
	MaxAccessTokenBytes = 16 << 10
	MaxTokenTypeBytes   = 64

	opToken = "token request"
	opRules = "KYC rules request"

	accessTokenPath   = "/auth/api/access-token"
	generateTokenPath = "/auth/api/generate-token"
	kycRulesPath      = "/kycrules/api/kycrules"
)

// TokenEndpoint selects how credentials are sent for a token.
type TokenEndpoint string

const (
	// EndpointAccessToken is the V2 GET with the credentials in the query
	// string, as every vendor SDK does. The default.
	EndpointAccessToken TokenEndpoint = "access-token"
	// EndpointGenerateToken is the newer POST with a JSON body: the secret
	// never appears in a URL.
	EndpointGenerateToken TokenEndpoint = "generate-token"
)

// Logger receives the client's log lines, which hold nothing secret (see
// the package comment): at Info what it asked and what came, at Warn what
// went wrong. A Logger must not modify the fields it is given: some are
// shared.
type Logger interface {
	Info(ctx context.Context, msg string, fields map[string]any)
	Warn(ctx context.Context, msg string, fields map[string]any)
}

// Config configures a Client. Zero values take the defaults.
type Config struct {
	BaseURL        string
	ClientID       string
	ClientSecret   string
	TokenEndpoint  TokenEndpoint
	MaxRetries     int // retries after the first attempt; negative means none
	RequestTimeout time.Duration
	UserAgent      string
	Logger         Logger
	// Cache shares tokens between clients built with the same credentials.
	// Nil gives the client a cache of its own.
	Cache *TokenCache
	// Gate is shared by every client of a provider process, so that each
	// knows every secret and token the others know. Nil gives the client
	// one of its own.
	Gate *gate.Gate
	// TokenCacheDir, when set, keeps shared tokens also in an encrypted file
	// per account in that directory (see FileStore), so that provider
	// processes on one machine, and successive runs, share a token while it
	// lives. A directory that cannot be used safely leaves the client with
	// its memory cache only; TokenCacheError says why.
	TokenCacheDir string
	// Transport replaces the HTTP transport (tests); nil uses a pooled one
	// that honours HTTPS_PROXY / NO_PROXY and requires TLS 1.2.
	Transport http.RoundTripper
}

// Client talks to one FACEKI account. It is safe for concurrent use.
type Client struct {
	base      *url.URL
	clientID  string
	secret    string
	endpoint  TokenEndpoint
	userAgent string
	timeout   time.Duration
	retries   int
	log       Logger
	http      *retryablehttp.Client
	gate      *gate.Gate
	cache     *TokenCache
	cacheKey  string
	files     *FileStore // nil: memory only
	filesErr  error      // why TokenCacheDir is not used
	// clock is how far this machine's clock was ahead of FACEKI's at the
	// last answer with a Date header, in nanoseconds, and clockKnown whether
	// one came.
	clock      atomic.Int64
	clockKnown atomic.Bool
}

// NewClient validates cfg and builds a client. It makes no request.
func NewClient(cfg Config) (*Client, error) {
	base, err := ParseBaseURL(cmp.Or(cfg.BaseURL, DefaultBaseURL))
	if err != nil {
		return nil, err
	}
	if cfg.ClientID == "" {
		return nil, &ConfigError{Field: "client_id", Msg: "must not be empty"}
	}
	if cfg.ClientSecret == "" {
		return nil, &ConfigError{Field: "client_secret", Msg: "must not be empty"}
	}
	cfg.TokenEndpoint = cmp.Or(cfg.TokenEndpoint, EndpointAccessToken)
	if cfg.TokenEndpoint != EndpointAccessToken && cfg.TokenEndpoint != EndpointGenerateToken {
		return nil, &ConfigError{Field: "token_endpoint", Msg: fmt.Sprintf("must be %q or %q", EndpointAccessToken, EndpointGenerateToken)}
	}
	if cfg.MaxRetries > MaxMaxRetries {
		return nil, &ConfigError{Field: "max_retries", Msg: fmt.Sprintf("must be between 0 and %d", MaxMaxRetries)}
	}
	cfg.MaxRetries = max(cfg.MaxRetries, 0)
	cfg.RequestTimeout = cmp.Or(max(cfg.RequestTimeout, 0), DefaultRequestTimeout)
	cfg.UserAgent = cmp.Or(cfg.UserAgent, "terraform-provider-faceki")
	cfg.Cache = cmp.Or(cfg.Cache, NewTokenCache())
	cfg.Gate = cmp.Or(cfg.Gate, gate.New())
	cfg.Gate.AddSecret(cfg.ClientSecret)
	// The ID is not secret: a run of the secret that is also in it (they
	// often share a prefix) is no repeat.
	cfg.Gate.AddPublic(cfg.ClientID)
	c := &Client{
		base:      base,
		clientID:  cfg.ClientID,
		secret:    cfg.ClientSecret,
		endpoint:  cfg.TokenEndpoint,
		userAgent: cfg.UserAgent,
		timeout:   cfg.RequestTimeout,
		retries:   cfg.MaxRetries,
		log:       cfg.Logger,
		gate:      cfg.Gate,
		cache:     cfg.Cache,
		cacheKey:  cacheKey(base.String(), cfg.ClientID, cfg.ClientSecret, cfg.TokenEndpoint),
	}
	if cfg.TokenCacheDir != "" {
		var err error
		c.files, err = OpenFileStore(cfg.TokenCacheDir, Account{
			BaseURL: base.String(), ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, TokenEndpoint: cfg.TokenEndpoint,
		})
		if err != nil {
			c.filesErr = errors.New(c.gate.Err(err)) // OS text, with the directory's path
		}
	}
	transport := cfg.Transport
	if transport == nil {
		t := cleanhttp.DefaultPooledTransport() // Proxy: http.ProxyFromEnvironment
		t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		t.ForceAttemptHTTP2 = true
		transport = t
	}
	c.http = &retryablehttp.Client{
		HTTPClient: &http.Client{
			Transport: transport,
			Timeout:   cfg.RequestTimeout,
			// A redirect would carry the query string, secret included, to
			// wherever the server points: never follow one.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		Logger:          nil, // retryablehttp's own lines print full URLs; the hooks below log them without their query
		RetryWaitMin:    MinBackoff,
		RetryWaitMax:    MaxBackoff,
		RetryMax:        cfg.MaxRetries,
		CheckRetry:      c.checkRetry,
		Backoff:         backoff,
		ErrorHandler:    retryablehttp.PassthroughErrorHandler,
		RequestLogHook:  c.logRequest,
		ResponseLogHook: c.logResponse,
	}
	return c, nil
}

// ParseBaseURL accepts https:// URLs, and http:// only to a loopback host
// (the emulator, tests): FACEKI refuses plain HTTP and the secret would
// cross the network in clear text.
func ParseBaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, &ConfigError{Field: "base_url", Msg: fmt.Sprintf("must be an absolute URL such as %q", DefaultBaseURL)}
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, &ConfigError{Field: "base_url", Msg: "must not contain user info, a query or a fragment"}
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !IsLoopback(u.Hostname()) {
			return nil, &ConfigError{Field: "base_url", Msg: "uses plain http:// to a host that is not loopback; FACEKI requires https:// (http:// is allowed only to localhost, for the emulator)"}
		}
	default:
		return nil, &ConfigError{Field: "base_url", Msg: "must use https://"}
	}
	u.Path = strings.TrimRight(u.Path, "/")
	return u, nil
}

// redactURL renders u without user info, query or fragment, so that no
// caller can print the secret by printing the URL.
func redactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	c.User, c.RawQuery, c.ForceQuery, c.Fragment, c.RawFragment = nil, "", false, "", ""
	return c.String()
}

// IsLoopback reports a host name or address of this machine: where the
// emulator runs, never FACEKI.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Bound is the longest one call may take, in the provider's attribute
// names: every attempt timing out, and every wait between them at
// MaxRetryAfter. It bounds a whole SharedToken too, waiting for another
// process's lock on the token file included.
const Bound = "(max_retries + 1) × request_timeout + max_retries × 30s"

// MaxDuration is Bound for this client.
func (c *Client) MaxDuration() time.Duration {
	return time.Duration(c.retries+1)*c.timeout + time.Duration(c.retries)*MaxRetryAfter
}

// ClockOffset is how far this machine's clock was ahead of FACEKI's (behind
// when negative) at the last answer that had a Date header; ok is false
// before one came.
func (c *Client) ClockOffset() (offset time.Duration, ok bool) {
	return time.Duration(c.clock.Load()), c.clockKnown.Load()
}

// TokenCacheError says why Config.TokenCacheDir is not used (the directory is
// refused or cannot be created), or is nil.
func (c *Client) TokenCacheError() error { return c.filesErr }

// AccessToken requests a new token from FACEKI. Most callers want
// SharedToken, which reuses one token while it stays valid.
func (c *Client) AccessToken(ctx context.Context) (Token, error) {
	req, err := c.tokenRequest(ctx)
	if err != nil {
		return Token{}, err
	}
	ans, err := c.do(req, opToken)
	if err != nil {
		return Token{}, err
	}
	tok, err := c.decodeToken(ans)
	if err != nil {
		var apiErr *APIError
		if errors.As(err, &apiErr) {
			apiErr.Attempts, apiErr.URL = ans.attempts, ans.url
		}
		return Token{}, err
	}
	return tok, nil
}

func (c *Client) tokenRequest(ctx context.Context) (*retryablehttp.Request, error) {
	u, method := *c.base, http.MethodGet
	var body io.Reader // a GET has none
	if c.endpoint == EndpointGenerateToken {
		u.Path += generateTokenPath
		method, body = http.MethodPost, strings.NewReader(fmt.Sprintf(`{"clientId":%s,"clientSecret":%s}`, jsonString(c.clientID), jsonString(c.secret)))
	} else {
		u.Path += accessTokenPath
		u.RawQuery = url.Values{"clientId": {c.clientID}, "clientSecret": {c.secret}}.Encode()
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, &ConfigError{Field: "base_url", Msg: c.gate.Err(err)}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return c.withHeaders(req), nil
}

func (c *Client) withHeaders(req *retryablehttp.Request) *retryablehttp.Request {
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	return req
}

// attempts records, through the request's context, how many attempts the
// retry loop made and when the last one was sent.
type attempts struct {
	n        atomic.Int32
	lastSent atomic.Int64 // UnixNano
}

type attemptsKey struct{}

// answer is the final HTTP answer to a request, after retries.
type answer struct {
	status int
	body   []byte // capped at MaxResponseBytes
	// sent is when the last attempt was sent, or, should the hook that
	// records it not have run, when the first was: never later than FACEKI
	// started the token's clock, so a life counted from it is not overstated.
	sent     time.Time
	attempts int
	url      string    // without its query
	date     time.Time // FACEKI's clock when it answered: the Date header, zero when absent
	// age is how long a cache in front of FACEKI had kept the answer (its
	// Age header): FACEKI's clock when the answer came is date + age.
	age    time.Duration
	offset time.Duration // this machine's clock ahead of date + age when the answer came
}

// ageHeader reads an Age header: whole non-negative seconds (at most 2^31,
// as RFC 9111 caches read it), zero when absent or malformed.
func ageHeader(h http.Header) time.Duration {
	s, err := strconv.ParseInt(strings.TrimSpace(h.Get("Age")), 10, 64)
	if err != nil || s <= 0 {
		return 0
	}
	return time.Duration(min(s, 1<<31)) * time.Second
}

// noteClock records how far this machine's clock is ahead of FACEKI's, when
// ans has a Date plausible for a token issued at iat (zero for an answer
// without one): the offset the provider warns about.
func (c *Client) noteClock(ans answer, iat time.Time) {
	if !plausibleDate(ans.date, iat) {
		return
	}
	c.clock.Store(int64(ans.offset))
	c.clockKnown.Store(true)
}

// do sends req with retries and returns the final answer.
func (c *Client) do(req *retryablehttp.Request, op string) (answer, error) {
	var rec attempts
	req = req.WithContext(context.WithValue(req.Context(), attemptsKey{}, &rec))
	start := c.cache.now()
	resp, err := c.http.Do(req)
	received := c.cache.now()
	ans := answer{attempts: int(rec.n.Load()), sent: start, url: redactURL(req.URL)}
	if last := rec.lastSent.Load(); last != 0 {
		ans.sent = time.Unix(0, last)
	}
	if resp != nil {
		// The passthrough error handler can return a response with an error
		// (e.g. cancelled as it arrived): close it either way.
		defer resp.Body.Close()
	}
	if err != nil {
		return ans, c.transportError(req, op, err, ans.attempts)
	}
	ans.status = resp.StatusCode
	ans.age = ageHeader(resp.Header)
	if d, derr := http.ParseTime(resp.Header.Get("Date")); derr == nil {
		ans.date, ans.offset = d, received.Sub(d.Add(ans.age)).Round(time.Second)
	}
	ans.body, err = io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		return ans, c.transportError(req, op, err, ans.attempts)
	}
	if len(ans.body) > MaxResponseBytes {
		return ans, &APIError{Kind: KindBadResponse, Op: op, HTTPStatus: resp.StatusCode, Attempts: ans.attempts, URL: ans.url,
			Detail: fmt.Sprintf("response too large: more than %d bytes (1 MiB); check base_url points at FACEKI", MaxResponseBytes)}
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		where := "elsewhere"
		if loc, lerr := resp.Location(); lerr == nil {
			where = "to " + c.gate.Quote(redactURL(loc))
		}
		return ans, &APIError{Kind: KindRequest, Op: op, HTTPStatus: resp.StatusCode, Attempts: ans.attempts, URL: ans.url,
			Detail: "redirected " + where + "; redirects are not followed, so that credentials never go to another URL: set base_url to the final address"}
	}
	if ra, ok := retryAfter(resp); ok && ra > MaxRetryAfter {
		// A 503 asking for an hour is FACEKI down for maintenance, not rate
		// limiting: classify by the status like any other answer.
		return ans, &APIError{Kind: kindForCode(resp.StatusCode, op), Op: op, HTTPStatus: resp.StatusCode, Attempts: ans.attempts, RetryAfter: ra, URL: ans.url,
			Detail: fmt.Sprintf("the server asked to retry after %s (Retry-After: %s), longer than the %s the provider waits; try again later",
				ra, c.gate.Quote(resp.Header.Get("Retry-After")), MaxRetryAfter)}
	}
	return ans, nil
}

func (c *Client) transportError(req *retryablehttp.Request, op string, err error, attempts int) error {
	if ctxErr := req.Context().Err(); ctxErr != nil && errors.Is(err, ctxErr) {
		if errors.Is(ctxErr, context.DeadlineExceeded) {
			return &TransportError{Op: op, URL: redactURL(req.URL), Timeout: true, Attempts: attempts, Err: ctxErr, Msg: fmt.Sprintf(
				"no answer before the deadline: an open takes at most %s, %s with max_retries %d and request_timeout %s",
				Bound, c.MaxDuration(), c.retries, c.timeout)}
		}
		return fmt.Errorf("FACEKI %s stopped: %w", op, ctxErr)
	}
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		err = urlErr.Err // its text quotes the full URL, secret included
	}
	var netErr net.Error
	timeout := errors.As(err, &netErr) && netErr.Timeout()
	msg := c.gate.Err(err)
	if timeout {
		msg = fmt.Sprintf("no answer within request_timeout (%s): %s", c.timeout, msg)
	}
	return &TransportError{Op: op, URL: redactURL(req.URL), Msg: msg, Timeout: timeout, Attempts: attempts}
}

// checkRetry retries connection errors, 429 and 5xx (except 501), nothing
// else, and stops at once when the caller is cancelled.
func (c *Client) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err != nil {
		return retryablehttp.DefaultRetryPolicy(ctx, resp, err)
	}
	if ra, ok := retryAfter(resp); ok && ra > MaxRetryAfter {
		return false, nil // do() reports it
	}
	retry := resp.StatusCode == http.StatusTooManyRequests ||
		(resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented)
	return retry, nil
}

// backoff is exponential with jitter, or the server's Retry-After (capped).
func backoff(lo, hi time.Duration, attempt int, resp *http.Response) time.Duration {
	if ra, ok := retryAfter(resp); ok {
		return min(ra, MaxRetryAfter)
	}
	d := lo << min(attempt, 16)
	if d > hi || d <= 0 {
		d = hi
	}
	// Equal jitter: half fixed, half random, so that callers spread out
	// without waiting less than half the schedule.
	return d/2 + rand.N(d/2+1)
}

// retryAfter parses Retry-After (seconds or an HTTP date) on 429 and 503.
func retryAfter(resp *http.Response) (time.Duration, bool) {
	if resp == nil || (resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable) {
		return 0, false
	}
	v := strings.TrimSpace(resp.Header.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil && s >= 0 {
		if s > int64(24*time.Hour/time.Second) {
			s = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0), true
	}
	return 0, false
}

func (c *Client) logRequest(_ retryablehttp.Logger, req *http.Request, attempt int) {
	if rec, ok := req.Context().Value(attemptsKey{}).(*attempts); ok {
		rec.n.Add(1)
		rec.lastSent.Store(c.cache.now().UnixNano())
	}
	if c.log == nil {
		return
	}
	fields := map[string]any{"method": req.Method, "url": redactURL(req.URL), "attempt": attempt + 1}
	if attempt > 0 {
		c.log.Warn(req.Context(), "retrying FACEKI request", fields)
		return
	}
	c.log.Info(req.Context(), "sending FACEKI request", fields)
}

func (c *Client) logResponse(_ retryablehttp.Logger, resp *http.Response) {
	if c.log == nil || resp.Request == nil {
		return
	}
	c.log.Info(resp.Request.Context(), "FACEKI response", map[string]any{
		"url": redactURL(resp.Request.URL), "status": resp.StatusCode,
	})
}
