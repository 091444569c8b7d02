package faceki

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/faceki/terraform-provider-faceki/internal/emulator"
	"github.com/faceki/terraform-provider-faceki/internal/leakcheck"
)

// testSecret holds every character that encodes differently in a query, a
// path and JSON: + / = & % and spaces.
const (
	testSecret   = "Tf9+k/Qz=8&Lm%2F w4 Rx"
	testClientID = "acme-client-01"
)

// startEmu serves an emulator on loopback that accepts testClientID /
// testSecret unless opts say otherwise.
func startEmu(t testing.TB, opts emulator.Options) *emulator.Server {
	t.Helper()
	if opts.ClientID == "" {
		opts.ClientID = testClientID
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = testSecret
	}
	srv, err := emulator.New(opts).Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

// newTestClient builds a client for baseURL with the test credentials, no
// retries and a generous timeout; mod adjusts the config.
func newTestClient(t testing.TB, baseURL string, mod func(*Config)) *Client {
	t.Helper()
	cfg := Config{BaseURL: baseURL, ClientID: testClientID, ClientSecret: testSecret, RequestTimeout: 5 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

func retries(n int) func(*Config) { return func(c *Config) { c.MaxRetries = n } }

// assertNoSecret fails when text holds a run of 8 characters of a secret in
// any encoding, or 16 of a token's payload or signature (leakcheck, which
// encodes forward and shares nothing with the gate). A value with two
// dots is taken for a token.
func assertNoSecret(t testing.TB, text string, secrets ...string) {
	t.Helper()
	for i, s := range secrets {
		found := leakcheck.FindSecret(text, s)
		if strings.Count(s, ".") == 2 {
			found = leakcheck.FindToken(text, s)
		}
		if len(found) > 0 {
			t.Errorf("text leaks value #%d: %v\n%s", i, found, text)
		}
	}
}

func wantAPIError(t testing.TB, err error, kind ErrorKind) *APIError {
	t.Helper()
	if err == nil {
		t.Fatal("got no error")
	}
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("error is %T, want *APIError: %v", err, err)
	}
	if apiErr.Kind != kind {
		t.Errorf("Kind = %d, want %d: %v", apiErr.Kind, kind, err)
	}
	if !IsKind(err, kind) {
		t.Errorf("IsKind(err, %d) = false", kind)
	}
	assertNoSecret(t, err.Error(), testSecret)
	assertNoSecret(t, fmt.Sprintf("%+v %#v", err, err), testSecret)
	return apiErr
}

func wantTransportError(t testing.TB, err error) *TransportError {
	t.Helper()
	if err == nil {
		t.Fatal("got no error")
	}
	var tErr *TransportError
	if !errors.As(err, &tErr) {
		t.Fatalf("error is %T, want *TransportError: %v", err, err)
	}
	assertNoSecret(t, err.Error(), testSecret)
	assertNoSecret(t, fmt.Sprintf("%+v %#v", err, err), testSecret)
	if strings.Contains(tErr.URL, "?") || strings.Contains(err.Error(), "clientSecret") {
		t.Errorf("transport error shows a query string: %v", err)
	}
	return tErr
}

func wantContains(t testing.TB, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%q\n  does not contain %q", s, sub)
		}
	}
}

func expiresWithin(t testing.TB, tok Token, lo, hi time.Time) {
	t.Helper()
	if got := tok.ExpiresAt; got.Before(lo) || got.After(hi) {
		t.Errorf("ExpiresAt = %s, want within [%s, %s]", got.Format(time.RFC3339Nano), lo.Format(time.RFC3339Nano), hi.Format(time.RFC3339Nano))
	}
}

// tokenURL is how an error names the token URL it tried: never its query.
func tokenURL(baseURL string) string { return " (URL: " + baseURL + accessTokenPath + ")" }

// makeJWT builds an unsigned JWT-shaped token with the given claims.
func makeJWT(claims map[string]any) string {
	h, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT"})
	p, _ := json.Marshal(claims)
	return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p) + ".c2lnbmF0dXJl"
}

// jsonServer answers every request with status and body, counting requests.
// It sends no Date header, so that a JWT's exp is judged by this machine's
// clock, exactly (the emulator sends one).
func jsonServer(t testing.TB, status int, body string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header()["Date"] = nil
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// ---- success shapes ----

func TestAccessTokenFromEmulator(t *testing.T) {
	t.Parallel()
	for _, ep := range []TokenEndpoint{EndpointAccessToken, EndpointGenerateToken, ""} {
		t.Run("endpoint="+string(ep), func(t *testing.T) {
			t.Parallel()
			emu := startEmu(t, emulator.Options{})
			c := newTestClient(t, emu.URL, func(c *Config) { c.TokenEndpoint = ep })
			before := time.Now()
			tok, err := c.AccessToken(context.Background())
			after := time.Now()
			if err != nil {
				t.Fatalf("AccessToken: %v", err)
			}
			exp, issued := emu.Issued(tok.AccessToken)
			if !issued {
				t.Fatalf("token %q was not issued by the emulator", tok.AccessToken)
			}
			if tok.TokenType != "Bearer" {
				t.Errorf("TokenType = %q, want Bearer", tok.TokenType)
			}
			expiresWithin(t, tok, before.Add(time.Hour-time.Second), after.Add(time.Hour+time.Second))
			if d := tok.ExpiresAt.Sub(exp); d < -time.Second || d > time.Second {
				t.Errorf("ExpiresAt %s is %s from the emulator's expiry %s", tok.ExpiresAt, d, exp)
			}
			if tok.ExpiresAt.Location() != time.UTC {
				t.Errorf("ExpiresAt is in %s, want UTC", tok.ExpiresAt.Location())
			}
			if left, ok := tok.Remaining(time.Now()); !ok || left < 59*time.Minute || left > time.Hour+time.Second {
				t.Errorf("Remaining = %s, %v", left, ok)
			}
			if got := emu.TokenRequests(); got != 1 {
				t.Errorf("emulator saw %d token requests, want 1", got)
			}
			// The gate now knows the token's payload and signature, but not
			// its header, the same for every token.
			header := strings.Split(tok.AccessToken, ".")[0]
			for text, want := range map[string]bool{"Bearer " + tok.AccessToken: true, "t=" + strings.Split(tok.AccessToken, ".")[2][:16]: true,
				"secret=" + url.QueryEscape(testSecret): true, "header " + header: false} {
				if got := c.gate.Pass(text); strings.HasPrefix(got, "[withheld: ") != want {
					t.Errorf("gate.Pass(%d bytes) = %q, want withheld %v", len(text), got, want)
				}
			}
		})
	}
}

// ExpiresAt counts expires_in from when the request was sent, not from when
// the answer arrived: FACEKI's clock started no later than that, and counting
// from the answer would overstate the life by the round trip (300 ms here).
func TestAccessTokenExpiryCountsFromRequestSent(t *testing.T) {
	t.Parallel()
	const latency = 300 * time.Millisecond
	emu := startEmu(t, emulator.Options{Latency: latency, ExpiresIn: 10 * time.Minute, OmitJWTExp: true})
	c := newTestClient(t, emu.URL, nil)
	start := time.Now()
	tok, err := c.AccessToken(context.Background())
	end := time.Now()
	if err != nil {
		t.Fatal(err)
	}
	if end.Sub(start) < latency {
		t.Fatalf("the answer came after %s, before the emulator's latency", end.Sub(start))
	}
	expiresWithin(t, tok, start.Add(10*time.Minute), end.Add(10*time.Minute-latency))
}

// The time a request was sent is recorded by a hook of the retry loop;
// should it not run, the life counts from before the first attempt, never
// from 1970 (time.Unix(0, 0), which is not the zero time) nor from the
// answer (which would overstate it by the round trip).
func TestLifetimeCountsFromBeforeTheRequestWithoutTheHook(t *testing.T) {
	t.Parallel()
	const latency = 300 * time.Millisecond
	emu := startEmu(t, emulator.Options{Latency: latency, ExpiresIn: 10 * time.Minute, OmitJWTExp: true})
	c := newTestClient(t, emu.URL, nil)
	c.http.RequestLogHook = nil
	start := time.Now()
	tok, err := c.AccessToken(context.Background())
	end := time.Now()
	if err != nil {
		t.Fatal(err)
	}
	expiresWithin(t, tok, start.Add(10*time.Minute), end.Add(10*time.Minute-latency))
}

func TestAccessTokenJWTExpFallback(t *testing.T) {
	t.Parallel()
	emu := startEmu(t, emulator.Options{OmitExpiresIn: true, ExpiresIn: 2 * time.Hour})
	c := newTestClient(t, emu.URL, nil)
	tok, err := c.AccessToken(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	exp, ok := emu.Issued(tok.AccessToken)
	if !ok {
		t.Fatal("token not issued by the emulator")
	}
	// The JWT's exp claim has whole seconds, and is judged against the
	// answer's Date header, which has whole seconds too.
	want := time.Unix(exp.Unix(), 0).UTC()
	expiresWithin(t, tok, want.Add(-time.Second), want.Add(time.Second))
	if left, _ := tok.Remaining(time.Now()); left < 2*time.Hour-5*time.Second {
		t.Errorf("Remaining = %s, want about 2h (the default 1h would mean exp was ignored)", left)
	}
}

func TestAccessTokenWithoutExpiry(t *testing.T) {
	t.Parallel()
	emu := startEmu(t, emulator.Options{OmitExpiresIn: true, OmitJWTExp: true})
	c := newTestClient(t, emu.URL, nil)
	tok, err := c.AccessToken(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !tok.ExpiresAt.IsZero() {
		t.Errorf("ExpiresAt = %s, want zero", tok.ExpiresAt)
	}
	if d, ok := tok.Remaining(time.Now()); ok || d != 0 {
		t.Errorf("Remaining = %s, %v; want 0, false", d, ok)
	}
	if _, ok := emu.Issued(tok.AccessToken); !ok {
		t.Error("token not issued by the emulator")
	}
}

func TestAccessTokenSuccessShapes(t *testing.T) {
	t.Parallel()
	// The answers have no Date: a JWT's life is its exp − iat.
	iat := time.Now().Unix()
	jwt := makeJWT(map[string]any{"exp": iat + 3*3600, "iat": iat, "sub": "x"})
	jwtPadded := func() string {
		parts := strings.Split(makeJWT(map[string]any{"exp": iat + 3*3600, "iat": iat, "s": "ab"}), ".")
		parts[1] += strings.Repeat("=", (4-len(parts[1])%4)%4)
		return strings.Join(parts, ".")
	}()
	cases := []struct {
		name, body string
		status     int
		token      string
		tokenType  string
		expiresIn  time.Duration // from the response; 0: none
	}{
		{"documented 200", `{"responseCode":0,"data":{"access_token":"tok-200","expires_in":3600,"token_type":"Bearer"}}`, 200, "tok-200", "Bearer", time.Hour},
		{"201", `{"responseCode":0,"data":{"access_token":"tok-201","expires_in":60,"token_type":"Bearer"}}`, 201, "tok-201", "Bearer", time.Minute},
		{"token_type missing", `{"responseCode":0,"data":{"access_token":"tok-nt","expires_in":600}}`, 200, "tok-nt", "Bearer", 10 * time.Minute},
		{"token_type kept", `{"responseCode":0,"data":{"access_token":"tok-lc","expires_in":600,"token_type":"bearer"}}`, 200, "tok-lc", "bearer", 10 * time.Minute},
		{"token_type empty", `{"responseCode":0,"data":{"access_token":"tok-et","token_type":""}}`, 200, "tok-et", "Bearer", 0},
		{"numeric strings", `{"responseCode":"0","data":{"access_token":"tok-ns","expires_in":"120"}}`, 200, "tok-ns", "Bearer", 2 * time.Minute},
		{"float expires_in", `{"responseCode":0.0,"data":{"access_token":"tok-f","expires_in":3600.0}}`, 200, "tok-f", "Bearer", time.Hour},
		{"whitespace and extras", "\n  {\"responseCode\":0,\"message\":\"ok\",\"status\":true,\"data\":{\"access_token\":\"tok-ws\",\"expires_in\":30,\"scope\":\"kyc\"}}  \n", 200, "tok-ws", "Bearer", 30 * time.Second},
		{"JWT exp without expires_in", `{"responseCode":0,"data":{"access_token":"` + jwt + `"}}`, 200, jwt, "Bearer", 3 * time.Hour},
		{"JWT exp with junk expires_in", `{"responseCode":0,"data":{"access_token":"` + jwt + `","expires_in":"soon"}}`, 200, jwt, "Bearer", 3 * time.Hour},
		{"padded JWT payload", `{"responseCode":0,"data":{"access_token":"` + jwtPadded + `"}}`, 200, jwtPadded, "Bearer", 3 * time.Hour},
		{"expires_in earlier than the JWT", `{"responseCode":0,"data":{"access_token":"` + jwt + `","expires_in":60}}`, 200, jwt, "Bearer", time.Minute},
		{"opaque token, no expiry", `{"responseCode":0,"data":{"access_token":"opaque"}}`, 200, "opaque", "Bearer", 0},
		{"JWT without exp", `{"responseCode":0,"data":{"access_token":"` + makeJWT(map[string]any{"sub": "x"}) + `"}}`, 200, makeJWT(map[string]any{"sub": "x"}), "Bearer", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, n := jsonServer(t, tc.status, tc.body)
			c := newTestClient(t, srv.URL, nil)
			before := time.Now()
			tok, err := c.AccessToken(context.Background())
			after := time.Now()
			if err != nil {
				t.Fatalf("AccessToken: %v", err)
			}
			if tok.AccessToken != tc.token {
				t.Errorf("AccessToken = %q, want %q", tok.AccessToken, tc.token)
			}
			if tok.TokenType != tc.tokenType {
				t.Errorf("TokenType = %q, want %q", tok.TokenType, tc.tokenType)
			}
			if tc.expiresIn > 0 {
				expiresWithin(t, tok, before.Add(tc.expiresIn), after.Add(tc.expiresIn))
			} else if !tok.ExpiresAt.IsZero() {
				t.Errorf("ExpiresAt = %s, want zero", tok.ExpiresAt)
			}
			if n.Load() != 1 {
				t.Errorf("server saw %d requests, want 1", n.Load())
			}
		})
	}
}

// The GET endpoint puts the credentials in the query string, properly
// encoded, under the base URL's path.
func TestTokenRequestGET(t *testing.T) {
	t.Parallel()
	var got struct {
		method, path, accept, ua string
		query                    url.Values
		body                     []byte
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.method, got.path, got.query = r.Method, r.URL.Path, r.URL.Query()
		got.accept, got.ua = r.Header.Get("Accept"), r.Header.Get("User-Agent")
		got.body, _ = io.ReadAll(r.Body)
		_, _ = io.WriteString(w, `{"responseCode":0,"data":{"access_token":"t","expires_in":10}}`)
	}))
	t.Cleanup(srv.Close)
	c := newTestClient(t, srv.URL+"/v2/", func(c *Config) { c.UserAgent = "tf-test/1.0" })
	if c.base.String() != srv.URL+"/v2" {
		t.Errorf("BaseURL() = %q, want the trailing slash trimmed", c.base.String())
	}
	if _, err := c.AccessToken(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got.method != http.MethodGet || got.path != "/v2/auth/api/access-token" {
		t.Errorf("request = %s %s, want GET /v2/auth/api/access-token", got.method, got.path)
	}
	if got.query.Get("clientId") != testClientID || got.query.Get("clientSecret") != testSecret || len(got.query) != 2 {
		t.Errorf("query = %v, want clientId and clientSecret decoding to the credentials", got.query)
	}
	if got.accept != "application/json" || got.ua != "tf-test/1.0" {
		t.Errorf("Accept = %q, User-Agent = %q", got.accept, got.ua)
	}
	if len(got.body) != 0 {
		t.Errorf("GET sent a body: %q", got.body)
	}
}

// The POST endpoint sends the credentials in a JSON body only: nothing of
// the secret in the request line.
func TestTokenRequestPOSTKeepsSecretOutOfURL(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var requestURIs []string
	var calls atomic.Int32
	// The first attempt fails with 503 and the second succeeds: the body
	// must be sent again, whole, on the retry.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requestURIs = append(requestURIs, r.RequestURI)
		mu.Unlock()
		if r.Method != http.MethodPost || r.URL.Path != "/auth/api/generate-token" || r.URL.RawQuery != "" {
			t.Errorf("request = %s %s", r.Method, r.RequestURI)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type = %q", ct)
		}
		for name, vals := range r.Header {
			for _, v := range vals {
				assertNoSecret(t, name+": "+v, testSecret)
			}
		}
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			t.Errorf("body is not JSON: %v", err)
		}
		if body["clientId"] != testClientID || body["clientSecret"] != testSecret || len(body) != 2 {
			t.Errorf("body = %v", body)
		}
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, `{"responseCode":0,"data":{"access_token":"post-token","expires_in":60}}`)
	}))
	t.Cleanup(srv.Close)
	c := newTestClient(t, srv.URL, func(c *Config) { c.TokenEndpoint = EndpointGenerateToken; c.MaxRetries = 1 })
	tok, err := c.AccessToken(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != "post-token" {
		t.Errorf("AccessToken = %q", tok.AccessToken)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(requestURIs) != 2 {
		t.Fatalf("server saw %d requests, want 2 (one retry)", len(requestURIs))
	}
	for _, u := range requestURIs {
		if u != "/auth/api/generate-token" {
			t.Errorf("request URI = %q, want no query string", u)
		}
		assertNoSecret(t, u, testSecret)
	}
}

// ---- failure shapes ----

func TestConnectionRefused(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	c := newTestClient(t, "http://"+addr, retries(1))
	_, err = c.AccessToken(context.Background())
	tErr := wantTransportError(t, err)
	if tErr.Timeout {
		t.Error("Timeout = true for a refused connection")
	}
	if tErr.Attempts != 2 {
		t.Errorf("Attempts = %d, want 2 (connection errors are retried)", tErr.Attempts)
	}
	if tErr.URL != "http://"+addr+"/auth/api/access-token" {
		t.Errorf("URL = %q", tErr.URL)
	}
	wantContains(t, err.Error(), "FACEKI token request failed: could not reach http://"+addr+"/auth/api/access-token: ",
		"connection refused", "(after 2 attempts)")
}

func TestTimeout(t *testing.T) {
	t.Parallel()
	emu := startEmu(t, emulator.Options{})
	emu.Faults(emulator.Hang(10*time.Second), emulator.Hang(10*time.Second))
	c := newTestClient(t, emu.URL, func(c *Config) { c.RequestTimeout = 200 * time.Millisecond; c.MaxRetries = 1 })
	start := time.Now()
	_, err := c.AccessToken(context.Background())
	elapsed := time.Since(start)
	tErr := wantTransportError(t, err)
	if !tErr.Timeout {
		t.Errorf("Timeout = false: %v", err)
	}
	if tErr.Attempts != 2 || emu.TokenRequests() != 2 {
		t.Errorf("Attempts = %d, emulator saw %d; want 2 and 2", tErr.Attempts, emu.TokenRequests())
	}
	wantContains(t, err.Error(), "could not reach "+emu.URL+"/auth/api/access-token", "no answer within request_timeout (200ms)", "(after 2 attempts)")
	// Two 200 ms attempts and one wait of at most MinBackoff.
	if elapsed < 400*time.Millisecond || elapsed > 3*time.Second {
		t.Errorf("took %s, want about 0.65-0.9 s", elapsed)
	}
}

func TestDroppedConnection(t *testing.T) {
	t.Parallel()
	emu := startEmu(t, emulator.Options{})
	emu.Faults(emulator.Fault{Name: "drop", Drop: true})
	c := newTestClient(t, emu.URL, nil)
	_, err := c.AccessToken(context.Background())
	tErr := wantTransportError(t, err)
	if tErr.Timeout || tErr.Attempts != 1 {
		t.Errorf("Timeout = %v, Attempts = %d", tErr.Timeout, tErr.Attempts)
	}
	wantContains(t, err.Error(), "EOF")
	// The next call succeeds: the fault queue is drained.
	if _, err := c.AccessToken(context.Background()); err != nil {
		t.Errorf("second call: %v", err)
	}
}

func TestUnavailableThenSuccess(t *testing.T) {
	t.Parallel()
	emu := startEmu(t, emulator.Options{})
	emu.Faults(emulator.Unavailable)
	c := newTestClient(t, emu.URL, retries(2))
	tok, err := c.AccessToken(context.Background())
	if err != nil {
		t.Fatalf("AccessToken: %v", err)
	}
	if _, ok := emu.Issued(tok.AccessToken); !ok {
		t.Error("token not issued by the emulator")
	}
	if got := emu.TokenRequests(); got != 2 {
		t.Errorf("emulator saw %d token requests, want 2", got)
	}
}

func TestRateLimitedRetryAfterThenSuccess(t *testing.T) {
	t.Parallel()
	emu := startEmu(t, emulator.Options{})
	emu.Faults(emulator.TooManyRequests("1"))
	c := newTestClient(t, emu.URL, retries(1))
	start := time.Now()
	tok, err := c.AccessToken(context.Background())
	elapsed := time.Since(start)
	if err != nil {
		t.Fatalf("AccessToken: %v", err)
	}
	if tok.AccessToken == "" || emu.TokenRequests() != 2 {
		t.Errorf("token %q after %d requests, want a token after 2", tok.AccessToken, emu.TokenRequests())
	}
	// Retry-After: 1 is one second, not the 250-500 ms backoff.
	if elapsed < 950*time.Millisecond || elapsed > 3*time.Second {
		t.Errorf("took %s, want about 1 s (Retry-After: 1)", elapsed)
	}
}

func TestRetryAfterBeyondCapFailsAtOnce(t *testing.T) {
	t.Parallel()
	date := time.Now().Add(10 * time.Minute).UTC().Format(http.TimeFormat)
	cases := []struct {
		name, value string
		status      int
		min         time.Duration
	}{
		{"429 seconds", "120", http.StatusTooManyRequests, 120 * time.Second},
		{"429 date", date, http.StatusTooManyRequests, 9 * time.Minute},
		{"503 seconds", "3600", http.StatusServiceUnavailable, time.Hour},
		{"429 days", "99999999", http.StatusTooManyRequests, 24 * time.Hour},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			emu := startEmu(t, emulator.Options{})
			f := emulator.TooManyRequests(tc.value)
			f.Status = tc.status
			emu.Faults(f, f, f, f)
			c := newTestClient(t, emu.URL, retries(3))
			start := time.Now()
			_, err := c.AccessToken(context.Background())
			if el := time.Since(start); el > 2*time.Second {
				t.Errorf("took %s, want an immediate failure", el)
			}
			// A 503 asking for an hour is FACEKI unavailable, not rate limiting.
			kind := KindRateLimited
			if tc.status == http.StatusServiceUnavailable {
				kind = KindUnavailable
			}
			apiErr := wantAPIError(t, err, kind)
			if apiErr.HTTPStatus != tc.status || apiErr.Attempts != 1 || emu.TokenRequests() != 1 {
				t.Errorf("HTTPStatus = %d, Attempts = %d, emulator saw %d; want %d, 1, 1", apiErr.HTTPStatus, apiErr.Attempts, emu.TokenRequests(), tc.status)
			}
			if apiErr.RetryAfter < tc.min || apiErr.RetryAfter > 24*time.Hour {
				t.Errorf("RetryAfter = %s, want at least %s (capped at 24h)", apiErr.RetryAfter, tc.min)
			}
			wantContains(t, err.Error(), fmt.Sprintf("FACEKI token request failed: HTTP %d", tc.status),
				"(Retry-After: "+tc.value+")", "longer than the 30s the provider waits")
		})
	}
}

func TestHTML500RetriedThenFails(t *testing.T) {
	t.Parallel()
	emu := startEmu(t, emulator.Options{})
	emu.Faults(emulator.HTML500, emulator.HTML500)
	c := newTestClient(t, emu.URL, retries(1))
	_, err := c.AccessToken(context.Background())
	apiErr := wantAPIError(t, err, KindUnavailable)
	if apiErr.HTTPStatus != 500 || apiErr.Attempts != 2 || emu.TokenRequests() != 2 {
		t.Errorf("HTTPStatus = %d, Attempts = %d, emulator saw %d; want 500, 2, 2", apiErr.HTTPStatus, apiErr.Attempts, emu.TokenRequests())
	}
	want := "FACEKI token request failed: HTTP 500: response is HTML, not FACEKI's JSON (a proxy or gateway page?): " +
		"500 Internal Server Error Internal Server Error (after 2 attempts)" + tokenURL(emu.URL)
	if err.Error() != want {
		t.Errorf("error = %q\n want %q", err.Error(), want)
	}
}

func TestBadResponseBodies(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		fault emulator.Fault
		kind  ErrorKind
		want  string
	}{
		{"truncated JSON", emulator.TruncatedJSON, KindBadResponse,
			"FACEKI token request failed: HTTP 200: response is not valid JSON (truncated?): unexpected end of JSON input"},
		{"empty body", emulator.EmptyBody, KindBadResponse,
			"FACEKI token request failed: HTTP 200: response body is empty"},
		{"wrong types", emulator.WrongTypes, KindBadResponse,
			"FACEKI token request failed: HTTP 200: response has no responseCode; check base_url points at FACEKI's API"},
		{"missing token", emulator.MissingToken, KindBadResponse,
			"FACEKI token request failed: HTTP 200, responseCode 0 SUCCESS: response has responseCode 0 but no data.access_token"},
		{"responseCode 1000", emulator.InternalError, KindServer,
			`FACEKI token request failed: HTTP 200, responseCode 1000 INTERNAL_SYSTEM_ERROR, message "internal system error"`},
		{"unknown responseCode", emulator.Fault{Status: 200, Body: `{"responseCode":4242,"data":{"access_token":"x"}}`}, KindServer,
			"FACEKI token request failed: HTTP 200, responseCode 4242 UNKNOWN_CODE"},
		{"data not an object", emulator.Fault{Status: 200, Body: `{"responseCode":0,"data":"tok"}`}, KindBadResponse,
			"FACEKI token request failed: HTTP 200, responseCode 0 SUCCESS: response has no data object with the token"},
		{"no data", emulator.Fault{Status: 200, Body: `{"responseCode":0}`}, KindBadResponse,
			"FACEKI token request failed: HTTP 200, responseCode 0 SUCCESS: response has no data object with the token"},
		{"token not a string", emulator.Fault{Status: 200, Body: `{"responseCode":0,"data":{"access_token":12345}}`}, KindBadResponse,
			"FACEKI token request failed: HTTP 200, responseCode 0 SUCCESS: response has responseCode 0 but no data.access_token"},
		{"plain text", emulator.Fault{Status: 200, Body: "Bad\tGateway\n\n from   proxy", Header: map[string]string{"Content-Type": "text/plain"}}, KindBadResponse,
			"FACEKI token request failed: HTTP 200: response is not JSON: Bad Gateway from proxy"},
		{"JSON array", emulator.Fault{Status: 200, Body: `[1,2]`}, KindBadResponse,
			"FACEKI token request failed: HTTP 200: response is not valid JSON (truncated?): json: cannot unmarshal array into Go value of type faceki.envelope"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			emu := startEmu(t, emulator.Options{})
			emu.Faults(tc.fault, tc.fault, tc.fault)
			c := newTestClient(t, emu.URL, retries(2))
			_, err := c.AccessToken(context.Background())
			apiErr := wantAPIError(t, err, tc.kind)
			if want := tc.want + tokenURL(emu.URL); err.Error() != want {
				t.Errorf("error = %q\n want %q", err.Error(), want)
			}
			// A 2xx answer, however wrong, is not retried.
			if apiErr.Attempts != 1 || emu.TokenRequests() != 1 {
				t.Errorf("Attempts = %d, emulator saw %d; want 1 and 1", apiErr.Attempts, emu.TokenRequests())
			}
		})
	}
}

// 4xx answers are the caller's problem: never retried.
func TestClientErrorsNotRetried(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		fault  *emulator.Fault // nil: the emulator's own answer to wrong credentials
		kind   ErrorKind
		status int
		want   string
	}{
		{"401 wrong credentials", nil, KindCredentials, 401,
			`FACEKI token request failed: HTTP 401, message "Invalid client credentials"`},
		{"422 documented", &emulator.Fault{Status: 422, Body: `{"status":false,"message":"client id is required","statusCode":422,"data":{}}`}, KindBadRequest, 422,
			`FACEKI token request failed: HTTP 422, message "client id is required"`},
		{"422 message list", &emulator.Fault{Status: 422, Body: `{"status":false,"message":["clientId must be a string","clientSecret should not be empty"],"statusCode":422,"data":{}}`}, KindBadRequest, 422,
			`FACEKI token request failed: HTTP 422, message "clientId must be a string; clientSecret should not be empty"`},
		{"403", &emulator.Fault{Status: 403, Body: `{"status":false,"message":"Forbidden","statusCode":403,"data":{}}`}, KindCredentials, 403,
			`FACEKI token request failed: HTTP 403, message "Forbidden"`},
		{"400 with other statusCode", &emulator.Fault{Status: 400, Body: `{"status":false,"message":"bad","statusCode":4001,"data":{}}`}, KindBadRequest, 400,
			`FACEKI token request failed: HTTP 400, statusCode 4001, message "bad"`},
		{"404 HTML", &emulator.Fault{Status: 404, Body: "<html><body><h1>Not Found</h1></body></html>", Header: map[string]string{"Content-Type": "text/html"}}, KindRequest, 404,
			`FACEKI token request failed: HTTP 404: response is HTML, not FACEKI's JSON (a proxy or gateway page?): Not Found`},
		{"501", &emulator.Fault{Status: 501, Body: `{"status":false,"message":"Not Implemented","statusCode":501,"data":{}}`}, KindUnavailable, 501,
			`FACEKI token request failed: HTTP 501, message "Not Implemented"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opts := emulator.Options{}
			if tc.fault == nil {
				opts.ClientSecret = "the-right-secret"
			}
			emu := startEmu(t, opts)
			if tc.fault != nil {
				emu.Faults(*tc.fault, *tc.fault, *tc.fault, *tc.fault)
			}
			c := newTestClient(t, emu.URL, retries(3))
			_, err := c.AccessToken(context.Background())
			apiErr := wantAPIError(t, err, tc.kind)
			if apiErr.HTTPStatus != tc.status {
				t.Errorf("HTTPStatus = %d, want %d", apiErr.HTTPStatus, tc.status)
			}
			if want := tc.want + tokenURL(emu.URL); err.Error() != want {
				t.Errorf("error = %q\n want %q", err.Error(), want)
			}
			if got := emu.TokenRequests(); got != 1 || apiErr.Attempts != 1 {
				t.Errorf("emulator saw %d token requests, Attempts = %d; want 1 and 1", got, apiErr.Attempts)
			}
		})
	}
}

func TestAPIErrorFields422(t *testing.T) {
	t.Parallel()
	emu := startEmu(t, emulator.Options{})
	emu.Faults(emulator.Fault{Status: 422, Body: `{"status":false,"message":"client secret is required","statusCode":422,"data":{}}`})
	c := newTestClient(t, emu.URL, nil)
	_, err := c.AccessToken(context.Background())
	apiErr := wantAPIError(t, err, KindBadRequest)
	if apiErr.Op != "token request" || apiErr.StatusCode != 422 || apiErr.HasResponseCode || apiErr.Message != "client secret is required" || apiErr.Detail != "" {
		t.Errorf("APIError = %#v", *apiErr)
	}
}

func TestHugeBodyFromEmulator(t *testing.T) {
	t.Parallel()
	emu := startEmu(t, emulator.Options{})
	emu.Faults(emulator.Huge)
	c := newTestClient(t, emu.URL, retries(2))
	start := time.Now()
	_, err := c.AccessToken(context.Background())
	elapsed := time.Since(start)
	apiErr := wantAPIError(t, err, KindBadResponse)
	want := "FACEKI token request failed: HTTP 200: response too large: more than 1048576 bytes (1 MiB); check base_url points at FACEKI" + tokenURL(emu.URL)
	if err.Error() != want {
		t.Errorf("error = %q\n want %q", err.Error(), want)
	}
	if apiErr.Attempts != 1 || emu.TokenRequests() != 1 {
		t.Errorf("Attempts = %d, emulator saw %d", apiErr.Attempts, emu.TokenRequests())
	}
	if elapsed > 3*time.Second {
		t.Errorf("took %s, want prompt", elapsed)
	}
}

// The client stops reading past the cap: the server cannot push 64 MiB.
func TestHugeBodyNotReadInFull(t *testing.T) {
	t.Parallel()
	const total = 64 << 20
	var written atomic.Int64
	var writeErr atomic.Bool
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(done)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		chunk := []byte(`{"responseCode":0,"data":{"access_token":"` + strings.Repeat("x", 64<<10-42))
		for written.Load() < total {
			n, err := w.Write(chunk)
			written.Add(int64(n))
			if err != nil {
				writeErr.Store(true)
				return
			}
			if f, ok := w.(http.Flusher); ok {
				f.Flush()
			}
		}
	}))
	t.Cleanup(srv.Close)
	c := newTestClient(t, srv.URL, nil)
	_, err := c.AccessToken(context.Background())
	apiErr := wantAPIError(t, err, KindBadResponse)
	wantContains(t, apiErr.Error(), "response too large")
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("server still writing 10 s after the client gave up")
	}
	if !writeErr.Load() || written.Load() >= total {
		t.Errorf("server wrote %d bytes (error: %v): the client read the whole body", written.Load(), writeErr.Load())
	}
	if written.Load() > 32<<20 {
		t.Errorf("server wrote %d bytes before the client hung up, want about 1 MiB plus socket buffers", written.Load())
	}
}

// A server that echoes the request URL, query and secret back in its body
// and headers: the message is withheld whole, and says what it repeated.
func TestEchoedSecretIsWithheld(t *testing.T) {
	t.Parallel()
	emu := startEmu(t, emulator.Options{})
	emu.Faults(emulator.Echo, emulator.Echo)
	log := &recLogger{}
	c := newTestClient(t, emu.URL, func(c *Config) { c.MaxRetries = 1; c.Logger = log })
	_, err := c.AccessToken(context.Background())
	apiErr := wantAPIError(t, err, KindBadRequest)
	echoed := "bad request: /auth/api/access-token?" + url.Values{"clientId": {testClientID}, "clientSecret": {testSecret}}.Encode() +
		" (" + testSecret + ")"
	if want := fmt.Sprintf("[withheld: %d bytes that repeat the client secret]", len(echoed)); apiErr.Message != want {
		t.Errorf("Message = %q\n want %q", apiErr.Message, want)
	}
	if apiErr.HTTPStatus != 400 || apiErr.StatusCode != 400 || emu.TokenRequests() != 1 {
		t.Errorf("HTTPStatus = %d, StatusCode = %d, emulator saw %d", apiErr.HTTPStatus, apiErr.StatusCode, emu.TokenRequests())
	}
	assertNoSecret(t, log.String(), testSecret)
}

// An HTML gateway page (or a plain-text one) that quotes the request URL or
// the secret, wherever the quote falls: the page's text is withheld whole,
// whatever the markup does to the secret.
func TestErrorPageQuotingSecretIsWithheld(t *testing.T) {
	t.Parallel()
	quotes := map[string]func(r *http.Request) string{
		"url":          func(r *http.Request) string { return r.URL.String() },
		"raw secret":   func(r *http.Request) string { return r.URL.Query().Get("clientSecret") },
		"html-escaped": func(r *http.Request) string { return html.EscapeString(r.URL.Query().Get("clientSecret")) },
		"spaces as tab": func(r *http.Request) string {
			return strings.ReplaceAll(r.URL.Query().Get("clientSecret"), " ", "\t\n")
		},
		"tag for space": func(r *http.Request) string {
			return strings.ReplaceAll(r.URL.Query().Get("clientSecret"), " ", "<br>")
		},
	}
	for name, quote := range quotes {
		for _, contentType := range []string{"text/html", "text/plain"} {
			for shift := 0; shift < 120; shift += 7 {
				t.Run(fmt.Sprintf("%s/%s/%d", name, contentType, shift), func(t *testing.T) {
					t.Parallel()
					srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						w.Header().Set("Content-Type", contentType)
						w.WriteHeader(http.StatusForbidden)
						q := quote(r)
						if contentType == "text/html" {
							fmt.Fprintf(w, "<html><body><h1>Request Rejected</h1><p>%s</p><p>Quote: %s</p></body></html>", strings.Repeat("z", shift), q)
						} else {
							fmt.Fprintf(w, "Request Rejected %s Quote: %s", strings.Repeat("z", shift), q)
						}
					}))
					t.Cleanup(srv.Close)
					c := newTestClient(t, srv.URL, nil)
					_, err := c.AccessToken(context.Background())
					_ = wantAPIError(t, err, KindCredentials)
					wantContains(t, err.Error(), "FACEKI token request failed: HTTP 403: response is ", ": [withheld: ",
						" bytes that repeat the client secret]")
				})
			}
		}
	}
}

func TestPlainHTTPToRemoteHostRefused(t *testing.T) {
	t.Parallel()
	var requests atomic.Int32
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		requests.Add(1)
		return nil, errors.New("no request expected")
	})
	withUser := (&url.URL{Scheme: "https", Host: "sdk.faceki.com", User: url.UserPassword(testClientID, testSecret)}).String()
	bad := []struct{ base, field, want string }{
		{"http://sdk.faceki.com", "base_url", "uses plain http:// to a host that is not loopback; FACEKI requires https://"},
		{"http://10.1.2.3:8080/api", "base_url", "plain http:// to a host that is not loopback"},
		{"http://localhost.example.com", "base_url", "plain http:// to a host that is not loopback"},
		{"http://[2001:db8::1]", "base_url", "plain http:// to a host that is not loopback"},
		{"ftp://sdk.faceki.com", "base_url", "must use https://"},
		{"sdk.faceki.com", "base_url", `must be an absolute URL such as "https://sdk.faceki.com"`},
		{"https://sdk.faceki.com/?clientSecret=x", "base_url", "must not contain user info, a query or a fragment"},
		{"https://sdk.faceki.com/#x", "base_url", "must not contain user info, a query or a fragment"},
		{withUser, "base_url", "must not contain user info, a query or a fragment"},
	}
	for _, b := range bad {
		c, err := NewClient(Config{BaseURL: b.base, ClientID: testClientID, ClientSecret: testSecret, Transport: rt})
		if c != nil {
			t.Errorf("%s: got a client", b.base)
		}
		var cfgErr *ConfigError
		if !errors.As(err, &cfgErr) {
			t.Errorf("%s: error %T %v, want *ConfigError", b.base, err, err)
			continue
		}
		if cfgErr.Field != b.field {
			t.Errorf("%s: Field = %q, want %q", b.base, cfgErr.Field, b.field)
		}
		wantContains(t, err.Error(), b.field+": ", b.want)
		assertNoSecret(t, err.Error(), testSecret)
	}
	for _, ok := range []string{"http://localhost:1", "http://127.0.0.1:1", "http://127.9.9.9", "http://[::1]:1/base", "https://sdk.faceki.com", "https://apidev.facechain.org/"} {
		if _, err := ParseBaseURL(ok); err != nil {
			t.Errorf("ParseBaseURL(%q): %v", ok, err)
		}
	}
	if requests.Load() != 0 {
		t.Errorf("%d requests were sent", requests.Load())
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		cfg   Config
		field string
	}{
		{"no client id", Config{ClientSecret: testSecret}, "client_id"},
		{"no secret", Config{ClientID: testClientID}, "client_secret"},
		{"bad endpoint", Config{ClientID: testClientID, ClientSecret: testSecret, TokenEndpoint: "token"}, "token_endpoint"},
		{"too many retries", Config{ClientID: testClientID, ClientSecret: testSecret, MaxRetries: MaxMaxRetries + 1}, "max_retries"},
	}
	for _, tc := range cases {
		_, err := NewClient(tc.cfg)
		var cfgErr *ConfigError
		if !errors.As(err, &cfgErr) || cfgErr.Field != tc.field {
			t.Errorf("%s: error %v, want a ConfigError on %s", tc.name, err, tc.field)
			continue
		}
		assertNoSecret(t, err.Error(), testSecret)
	}
	// Defaults.
	c, err := NewClient(Config{ClientID: testClientID, ClientSecret: testSecret, MaxRetries: -5})
	if err != nil {
		t.Fatal(err)
	}
	if c.base.String() != DefaultBaseURL || c.retries != 0 || c.timeout != DefaultRequestTimeout || c.endpoint != EndpointAccessToken {
		t.Errorf("defaults: base %q retries %d timeout %s endpoint %q", c.base.String(), c.retries, c.timeout, c.endpoint)
	}
	c = newTestClient(t, "https://sdk.faceki.com", func(c *Config) { c.MaxRetries = 2; c.RequestTimeout = time.Second })
	if got, want := c.MaxDuration(), 3*time.Second+2*MaxRetryAfter; got != want {
		t.Errorf("MaxDuration = %s, want %s", got, want)
	}
}

func TestNegativeMaxRetriesMeansOneAttempt(t *testing.T) {
	t.Parallel()
	emu := startEmu(t, emulator.Options{})
	emu.Faults(emulator.Unavailable, emulator.Unavailable)
	c := newTestClient(t, emu.URL, retries(-1))
	_, err := c.AccessToken(context.Background())
	apiErr := wantAPIError(t, err, KindUnavailable)
	if apiErr.Attempts != 1 || emu.TokenRequests() != 1 {
		t.Errorf("Attempts = %d, emulator saw %d; want 1", apiErr.Attempts, emu.TokenRequests())
	}
}

func TestRedirectNotFollowed(t *testing.T) {
	t.Parallel()
	for _, ep := range []TokenEndpoint{EndpointAccessToken, EndpointGenerateToken} {
		for _, status := range []int{http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
			t.Run(fmt.Sprintf("%s/%d", ep, status), func(t *testing.T) {
				t.Parallel()
				var targetHits, sourceHits atomic.Int32
				target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					targetHits.Add(1)
					_, _ = io.WriteString(w, `{"responseCode":0,"data":{"access_token":"stolen","expires_in":60}}`)
				}))
				t.Cleanup(target.Close)
				source := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					sourceHits.Add(1)
					loc := target.URL + "/steal/" + url.PathEscape(testSecret) + "?clientSecret=" + url.QueryEscape(testSecret) + "&" + r.URL.RawQuery
					http.Redirect(w, r, loc, status)
				}))
				t.Cleanup(source.Close)
				c := newTestClient(t, source.URL, func(c *Config) { c.TokenEndpoint = ep; c.MaxRetries = 2 })
				_, err := c.AccessToken(context.Background())
				apiErr := wantAPIError(t, err, KindRequest)
				if apiErr.HTTPStatus != status || apiErr.Attempts != 1 {
					t.Errorf("HTTPStatus = %d, Attempts = %d", apiErr.HTTPStatus, apiErr.Attempts)
				}
				want := fmt.Sprintf("FACEKI token request failed: HTTP %d: redirected to [withheld: %d bytes that repeat the client "+
					"secret]; redirects are not followed, so that credentials never go to another URL: set base_url to the final "+
					"address (URL: %s%s)", status, len(target.URL+"/steal/"+url.PathEscape(testSecret)),
					source.URL, map[TokenEndpoint]string{EndpointAccessToken: accessTokenPath, EndpointGenerateToken: generateTokenPath}[ep])
				if err.Error() != want {
					t.Errorf("error = %q\n want %q", err.Error(), want)
				}
				if targetHits.Load() != 0 || sourceHits.Load() != 1 {
					t.Errorf("redirect target saw %d requests, source %d; want 0 and 1", targetHits.Load(), sourceHits.Load())
				}
			})
		}
	}
}

func TestCancelDuringRetryWait(t *testing.T) {
	t.Parallel()
	emu := startEmu(t, emulator.Options{})
	slow := emulator.Unavailable
	slow.Header = map[string]string{"Retry-After": "30"}
	emu.Faults(slow, slow, slow)
	c := newTestClient(t, emu.URL, retries(2))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res := make(chan error, 1)
	go func() {
		_, err := c.AccessToken(ctx)
		res <- err
	}()
	// Once the first 503 has been answered, the client waits its 30 s.
	await(t, emu, "the first 503 to be answered", func() bool { return emu.TokenRequests() == 1 && emu.InFlight() == 0 })
	cancel()
	var err error
	select {
	case err = <-res:
	case <-time.After(20 * time.Second):
		t.Fatal("AccessToken did not return within 20 s of cancellation: it sat out the 30 s Retry-After")
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	if err.Error() != "FACEKI token request stopped: context canceled" {
		t.Errorf("error = %q", err)
	}
	if got := emu.TokenRequests(); got != 1 {
		t.Errorf("emulator saw %d token requests, want 1", got)
	}
}

func TestDeadlineDuringHang(t *testing.T) {
	t.Parallel()
	emu := startEmu(t, emulator.Options{})
	emu.Faults(emulator.Hang(10 * time.Second))
	c := newTestClient(t, emu.URL, retries(2))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.AccessToken(ctx)
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("took %s, want about 200 ms", el)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error = %v, want context.DeadlineExceeded", err)
	}
	assertNoSecret(t, err.Error(), testSecret)
}

func TestPersistentUnavailableBoundedAttempts(t *testing.T) {
	t.Parallel()
	emu := startEmu(t, emulator.Options{})
	emu.Faults(emulator.Unavailable, emulator.Unavailable, emulator.Unavailable, emulator.Unavailable, emulator.Unavailable)
	c := newTestClient(t, emu.URL, retries(2))
	start := time.Now()
	_, err := c.AccessToken(context.Background())
	elapsed := time.Since(start)
	apiErr := wantAPIError(t, err, KindUnavailable)
	if got := emu.TokenRequests(); got != 3 || apiErr.Attempts != 3 {
		t.Errorf("emulator saw %d token requests, Attempts = %d; want 3 (max_retries+1)", got, apiErr.Attempts)
	}
	want := `FACEKI token request failed: HTTP 503, message "Service Unavailable" (after 3 attempts)` + tokenURL(emu.URL)
	if err.Error() != want {
		t.Errorf("error = %q\n want %q", err.Error(), want)
	}
	// Two waits: 250-500 ms then 500-1000 ms.
	if elapsed < 750*time.Millisecond || elapsed > 4*time.Second {
		t.Errorf("took %s, want 0.75-1.5 s of backoff", elapsed)
	}
}

func TestLoggerSeesNoSecret(t *testing.T) {
	t.Parallel()
	emu := startEmu(t, emulator.Options{})
	emu.Faults(emulator.Unavailable)
	log := &recLogger{}
	c := newTestClient(t, emu.URL, func(c *Config) { c.MaxRetries = 1; c.Logger = log })
	tok, err := c.AccessToken(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := log.String()
	assertNoSecret(t, out, testSecret, tok.AccessToken)
	wantContains(t, out, "INFO sending FACEKI request", "WARN retrying FACEKI request", "attempt:2", "status:503", "status:200",
		"url:"+emu.URL+"/auth/api/access-token]")
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	for attempt := range 8 {
		d := lo(attempt)
		for range 50 {
			got := backoff(MinBackoff, MaxBackoff, attempt, nil)
			if got < d/2 || got > d {
				t.Fatalf("backoff(attempt %d) = %s, want within [%s, %s]", attempt, got, d/2, d)
			}
		}
	}
	resp := &http.Response{StatusCode: 429, Header: http.Header{"Retry-After": {"7"}}}
	if got := backoff(MinBackoff, MaxBackoff, 0, resp); got != 7*time.Second {
		t.Errorf("backoff with Retry-After: 7 = %s", got)
	}
	resp.Header.Set("Retry-After", "86400")
	if got := backoff(MinBackoff, MaxBackoff, 0, resp); got != MaxRetryAfter {
		t.Errorf("backoff with Retry-After: 86400 = %s, want the cap %s", got, MaxRetryAfter)
	}
	resp.Header.Set("Retry-After", "soon")
	if _, ok := retryAfter(resp); ok {
		t.Error("retryAfter accepted \"soon\"")
	}
	resp.Header.Set("Retry-After", "-3")
	if _, ok := retryAfter(resp); ok {
		t.Error("retryAfter accepted -3")
	}
	resp = &http.Response{StatusCode: 500, Header: http.Header{"Retry-After": {"7"}}}
	if _, ok := retryAfter(resp); ok {
		t.Error("retryAfter read Retry-After on a 500")
	}
}

func lo(attempt int) time.Duration {
	d := MinBackoff << attempt
	return min(d, MaxBackoff)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// recLogger records every log line as text.
type recLogger struct {
	mu    sync.Mutex
	lines []string
}

func (l *recLogger) Info(_ context.Context, msg string, fields map[string]any) {
	l.add("INFO", msg, fields)
}

func (l *recLogger) Warn(_ context.Context, msg string, fields map[string]any) {
	l.add("WARN", msg, fields)
}

func (l *recLogger) add(level, msg string, fields map[string]any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf("%s %s %v", level, msg, fields))
}

func (l *recLogger) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// TestFailureClassifiedByWhatFACEKISaid: a body with "status": false or a
// statusCode of 4xx/5xx is a failure whatever the HTTP status, and its
// statusCode decides the kind.
func TestFailureClassifiedByWhatFACEKISaid(t *testing.T) {
	t.Parallel()
	failure := func(code int, msg string) string {
		return fmt.Sprintf(`{"status":false,"message":%q,"statusCode":%d,"data":{}}`, msg, code)
	}
	cases := []struct {
		name   string
		status int
		body   string
		kind   ErrorKind
		want   string
	}{
		{"200 carrying 401", 200, failure(401, "Invalid client credentials"), KindCredentials,
			`FACEKI token request failed: HTTP 200, statusCode 401, message "Invalid client credentials"`},
		{"200 carrying 403", 200, failure(403, "Forbidden"), KindCredentials, "statusCode 403"},
		{"200 carrying 422", 200, failure(422, "client id is required"), KindBadRequest, "statusCode 422"},
		{"200 carrying 429", 200, failure(429, "Too Many Requests"), KindRateLimited, "statusCode 429"},
		{"200 carrying 503", 200, failure(503, "Service Unavailable"), KindUnavailable, "statusCode 503"},
		{"201 carrying 401", 201, failure(401, "Invalid client credentials"), KindCredentials, "HTTP 201, statusCode 401"},
		{"200 with status false only", 200, `{"status":false,"message":"Account suspended"}`, KindServer,
			`FACEKI token request failed: HTTP 200, message "Account suspended"`},
		{"500 carrying 401", 500, failure(401, "Invalid client credentials"), KindCredentials, "HTTP 500, statusCode 401"},
		{"200 with a success token and status false", 200,
			`{"status":false,"responseCode":0,"data":{"access_token":"a.b.c"},"message":"nope"}`, KindServer, `message "nope"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, n := jsonServer(t, tc.status, tc.body)
			c := newTestClient(t, srv.URL, retries(2))
			tok, err := c.AccessToken(context.Background())
			if err == nil {
				t.Fatalf("got a token (%s), want a failure", tok)
			}
			apiErr := wantAPIError(t, err, tc.kind)
			wantContains(t, err.Error(), tc.want)
			if apiErr.HTTPStatus != tc.status {
				t.Errorf("HTTPStatus = %d, want %d", apiErr.HTTPStatus, tc.status)
			}
			// Retries follow the HTTP status: a 2xx answer is final.
			if tc.status < 300 && n.Load() != 1 {
				t.Errorf("server saw %d requests, want 1", n.Load())
			}
		})
	}
}

// TestOversizedAnswerFieldsRefused: a token over 16 KiB, or a token_type
// over 64 bytes, is a bad response that names the field and its size, and
// the gate never learns the token (a megabyte of runs would slow every
// later check).
func TestOversizedAnswerFieldsRefused(t *testing.T) {
	t.Parallel()
	big := "eyJ" + strings.Repeat("A", 1<<20-1024) + ".eyJleHAiOjF9.c2ln" // with the rest of the answer, just under the 1 MiB read
	for _, tc := range []struct {
		name, token, tokenType, want string
	}{
		{"1 MiB access_token", big, "Bearer", fmt.Sprintf("data.access_token is %d bytes, more than the 16384 a FACEKI answer has", len(big))},
		{"65-byte token_type", "tok-ok-0123456789abcdef", strings.Repeat("B", 65), "data.token_type is 65 bytes, more than the 64 a FACEKI answer has"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			body, _ := json.Marshal(map[string]any{"responseCode": 0, "message": tc.token[:min(40, len(tc.token))],
				"data": map[string]any{"access_token": tc.token, "token_type": tc.tokenType, "expires_in": 3600}})
			srv, _ := jsonServer(t, 200, string(body))
			c := newTestClient(t, srv.URL, nil)
			_, err := c.AccessToken(context.Background())
			_ = wantAPIError(t, err, KindBadResponse)
			wantContains(t, err.Error(), tc.want, "check base_url points at FACEKI's API")
			if len(err.Error()) > 400 || strings.Contains(err.Error(), tc.token[:20]) {
				t.Errorf("the error quotes the answer (%d characters)", len(err.Error()))
			}
			if probe := tc.token[max(0, len(tc.token)-40):]; c.gate.Pass(probe) != probe {
				t.Error("the gate learned the refused token")
			}
		})
	}
	// At the bounds, tokens are taken.
	body, _ := json.Marshal(map[string]any{"responseCode": 0, "data": map[string]any{
		"access_token": strings.Repeat("t", MaxAccessTokenBytes), "token_type": strings.Repeat("B", MaxTokenTypeBytes), "expires_in": 60}})
	srv, _ := jsonServer(t, 200, string(body))
	if _, err := newTestClient(t, srv.URL, nil).AccessToken(context.Background()); err != nil {
		t.Errorf("a 16 KiB token and a 64-byte type: %v", err)
	}
}

// TestRedactURL: a URL is reported without user info, query or fragment.
func TestRedactURL(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		{"https://user:" + url.QueryEscape(testSecret) + "@sdk.faceki.com/auth/api/access-token?clientId=x&clientSecret=" + url.QueryEscape(testSecret) + "#frag",
			"https://sdk.faceki.com/auth/api/access-token"},
		{"http://127.0.0.1:8080/base/auth/api/access-token?", "http://127.0.0.1:8080/base/auth/api/access-token"},
		{"https://sdk.faceki.com", "https://sdk.faceki.com"},
		{"https://evil.example/steal/" + url.PathEscape("x") + "?clientSecret=" + url.QueryEscape(testSecret), "https://evil.example/steal/x"},
	}
	for _, c := range cases {
		u, err := url.Parse(c.in)
		if err != nil {
			t.Fatal(err)
		}
		got := redactURL(u)
		if got != c.want {
			t.Errorf("redactURL(%q) = %q, want %q", c.in, got, c.want)
		}
		assertNoSecret(t, got, testSecret)
		if u.RawQuery == "" && strings.Contains(c.in, "clientSecret") {
			t.Errorf("redactURL modified its argument: %q", u)
		}
	}
	if got := redactURL(nil); got != "" {
		t.Errorf("redactURL(nil) = %q", got)
	}
}
