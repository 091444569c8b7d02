// Package emulator is a small, real HTTP server that answers like FACEKI's
// KYC V2 API, in FACEKI's documented shapes: the token endpoints and the
// bearer-protected KYC rules. Tests start it in-process; the demo runs it as
// a command. It also injects faults (5xx, 429, HTML, hangs, echoes) so that
// tests can prove the provider copes with a hostile network.
package emulator

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Options configure an Emulator. Zero values take the defaults.
type Options struct {
	ClientID     string
	ClientSecret string
	// ExpiresIn is the lifetime of issued tokens (default 3600 s, as FACEKI).
	ExpiresIn time.Duration
	// OmitExpiresIn leaves expires_in out of token answers (the JWT keeps exp).
	OmitExpiresIn bool
	// OmitJWTExp issues tokens whose JWT has no exp claim.
	OmitJWTExp bool
	// JWTLifetime, when set, is the life in the JWT's exp claim, apart from
	// the expires_in answered (FACEKI's own page says both "5 minutes" and
	// "3600 seconds"). Tokens stop working at the earlier of the two, as
	// FACEKI enforces exp.
	JWTLifetime time.Duration
	// Latency delays every token answer, like a WAN round trip.
	Latency time.Duration
	// Rules is the company's KYC rules document; nil uses DefaultRules.
	Rules map[string]any
	// NoRules answers the rules endpoint with responseCode 7001.
	NoRules bool
}

// Emulator is an http.Handler; Listen serves it on loopback.
type Emulator struct {
	opts Options
	mux  *http.ServeMux

	mu            sync.Mutex
	issued        map[string]time.Time // token → expiry
	tokenRequests int
	rulesRequests int
	bearers       []string // tokens presented to bearer-protected endpoints, accepted or not
	faults        []Fault
}

// New returns an emulator with opts.
func New(opts Options) *Emulator {
	if opts.ClientID == "" {
		opts.ClientID = "emulator-client-id"
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = "emulator-client-secret"
	}
	if opts.ExpiresIn == 0 {
		opts.ExpiresIn = time.Hour
	}
	e := &Emulator{opts: opts, issued: map[string]time.Time{}, mux: http.NewServeMux()}
	e.mux.HandleFunc("GET /auth/api/access-token", e.accessToken)
	e.mux.HandleFunc("POST /auth/api/generate-token", e.generateToken)
	e.mux.HandleFunc("GET /kycrules/api/kycrules", e.kycRules)
	return e
}

// ServeHTTP implements http.Handler.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) { e.mux.ServeHTTP(w, r) }

// Server is a running emulator.
type Server struct {
	*Emulator
	URL string
	srv *http.Server
}

// Listen serves e on addr ("127.0.0.1:0" picks a free port).
func (e *Emulator) Listen(addr string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{Emulator: e, URL: "http://" + ln.Addr().String(), srv: &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second}}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			panic(err)
		}
	}()
	return s, nil
}

// Close stops the server at once, cutting any request still open.
func (s *Server) Close() error { return s.srv.Close() }

// Credentials returns the client id and secret the emulator accepts.
func (e *Emulator) Credentials() (id, secret string) { return e.opts.ClientID, e.opts.ClientSecret }

// TokenRequests counts requests to the token endpoints, failed ones included.
func (e *Emulator) TokenRequests() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.tokenRequests
}

// RulesRequests counts requests to the KYC rules endpoint.
func (e *Emulator) RulesRequests() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.rulesRequests
}

// Issued reports whether token was issued by this emulator, and its expiry.
func (e *Emulator) Issued(token string) (expiresAt time.Time, ok bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	expiresAt, ok = e.issued[token]
	return expiresAt, ok
}

// IssuedTokens returns every token issued so far.
func (e *Emulator) IssuedTokens() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]string, 0, len(e.issued))
	for t := range e.issued {
		out = append(out, t)
	}
	return out
}

// Bearers returns the tokens presented to bearer-protected endpoints, in order.
func (e *Emulator) Bearers() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.bearers...)
}

// Expire makes every token issued so far expire now.
func (e *Emulator) Expire() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for t := range e.issued {
		e.issued[t] = time.Now().Add(-time.Second)
	}
}

func (e *Emulator) accessToken(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	e.token(w, r, q.Get("clientId"), q.Get("clientSecret"))
}

func (e *Emulator) generateToken(w http.ResponseWriter, r *http.Request) {
	var body struct {
		ClientID     string `json:"clientId"`
		ClientSecret string `json:"clientSecret"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&body); err != nil {
		e.mu.Lock()
		e.tokenRequests++ // failed ones count too
		e.mu.Unlock()
		writeJSON(w, http.StatusBadRequest, failure(http.StatusBadRequest, "invalid JSON body"))
		return
	}
	e.token(w, r, body.ClientID, body.ClientSecret)
}

func (e *Emulator) token(w http.ResponseWriter, r *http.Request, id, secret string) {
	e.mu.Lock()
	e.tokenRequests++
	var fault *Fault
	if len(e.faults) > 0 {
		fault = &e.faults[0]
		e.faults = e.faults[1:]
	}
	e.mu.Unlock()

	if e.opts.Latency > 0 {
		select {
		case <-time.After(e.opts.Latency):
		case <-r.Context().Done():
			return
		}
	}
	if fault != nil && fault.serve(w, r, secret) {
		return
	}
	switch {
	case id == "":
		writeJSON(w, http.StatusUnprocessableEntity, failure(http.StatusUnprocessableEntity, "client id is required"))
	case secret == "":
		writeJSON(w, http.StatusUnprocessableEntity, failure(http.StatusUnprocessableEntity, "client secret is required"))
	case id != e.opts.ClientID || secret != e.opts.ClientSecret:
		writeJSON(w, http.StatusUnauthorized, failure(http.StatusUnauthorized, "Invalid client credentials"))
	default:
		tok := e.issue()
		data := map[string]any{"access_token": tok, "token_type": "Bearer"}
		if !e.opts.OmitExpiresIn {
			data["expires_in"] = int(e.opts.ExpiresIn / time.Second)
		}
		writeJSON(w, http.StatusOK, map[string]any{"responseCode": 0, "data": data})
	}
}

// issue mints a random RS256-shaped JWT (the signature is random bytes:
// only the emulator checks it, by lookup).
func (e *Emulator) issue() string {
	now := time.Now()
	exp := now.Add(e.opts.ExpiresIn)
	claims := map[string]any{
		"sub": e.opts.ClientID, "client_id": e.opts.ClientID, "token_use": "access", "scope": "kyc/all",
		"iss": "faceki-emulator", "iat": now.Unix(), "jti": randomString(16),
	}
	if e.opts.JWTLifetime > 0 {
		jwtExp := now.Add(e.opts.JWTLifetime)
		if jwtExp.Before(exp) {
			exp = jwtExp
		}
		claims["exp"] = jwtExp.Unix()
	} else if !e.opts.OmitJWTExp {
		claims["exp"] = exp.Unix()
	}
	header, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT"})
	payload, _ := json.Marshal(claims)
	tok := b64(header) + "." + b64(payload) + "." + randomString(256)

	e.mu.Lock()
	e.issued[tok] = exp
	e.mu.Unlock()
	return tok
}

func (e *Emulator) kycRules(w http.ResponseWriter, r *http.Request) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	e.mu.Lock()
	e.rulesRequests++
	if ok {
		e.bearers = append(e.bearers, token)
	}
	exp, issued := e.issued[token]
	e.mu.Unlock()
	if !ok || !issued || time.Now().After(exp) {
		writeJSON(w, http.StatusUnauthorized, failure(http.StatusUnauthorized, "Unauthorized"))
		return
	}
	if e.opts.NoRules {
		writeJSON(w, http.StatusOK, map[string]any{"responseCode": 7001, "data": map[string]any{}})
		return
	}
	rules := e.opts.Rules
	if rules == nil {
		rules = DefaultRules(e.opts.ClientID)
	}
	writeJSON(w, http.StatusOK, map[string]any{"responseCode": 0, "data": rules})
}

// DefaultRules is a rules document in the shape FACEKI's SDKs read.
func DefaultRules(companyID string) map[string]any {
	return map[string]any{
		"_id":                         "64a0c0ffee0000000000beef",
		"companyId":                   companyID,
		"allowedCountries":            []string{"AE", "SA"},
		"allowedKycDocuments":         []string{"Passport", "ID Card"},
		"allowedNationalities":        []string{"AE"},
		"invalidDocuments":            []string{},
		"dataStorageTime":             "FOREVER",
		"declined":                    map[string]any{"redirect_url": "https://example.com/declined", "message": "Verification declined"},
		"invalid":                     map[string]any{"redirect_url": "https://example.com/invalid", "message": "Invalid documents"},
		"success":                     map[string]any{"redirect_url": "https://example.com/success", "message": "Verified"},
		"isRecapturedDocumentInvalid": true,
		"link":                        "https://apps.faceki.com/kycverify/emulator",
		"livenessCheckType":           "MODERATE",
		"multiKYCEnabled":             false,
		"status":                      "ACTIVE",
		"validAge":                    18,
	}
}

// failure is FACEKI's documented error body.
func failure(status int, message string) map[string]any {
	return map[string]any{"status": false, "message": message, "statusCode": status, "data": map[string]any{}}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func randomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return b64(b)
}
