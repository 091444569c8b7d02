// Package emulator is a small, real HTTP server that answers like FACEKI's
// KYC V2 API, in FACEKI's documented shapes: the token endpoints and the
// bearer-protected KYC rules. Tests start it in-process; the demo runs it as
// a command. It also injects faults (5xx, 429, HTML, hangs, echoes) so that
// tests can prove the provider copes with a hostile network.
package emulator

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
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
	// RulesFor, when set, makes the rules answer from the bearer token the
	// request presented: a rules service that reflects the caller's
	// credential (a debug build, a gateway appending it to a link).
	RulesFor func(bearer string) map[string]any
	// Clock is how far FACEKI's clock is ahead of the real one (behind when
	// negative): the Date header of every answer and the JWT's iat and exp
	// are by it, as a FACEKI seen from a machine whose clock is off.
	Clock time.Duration
	// OmitDate sends no Date header, as some gateways strip it.
	OmitDate bool
	// DateSkew moves the Date header alone off FACEKI's clock, as a proxy
	// that stamps its own Date; the JWT's iat and exp stay FACEKI's.
	DateSkew time.Duration
	// Age sends an Age header of that many whole seconds, as a cache in
	// front of FACEKI does with a stored answer (with Clock set as far
	// back, the answer is a stale copy).
	Age time.Duration
	// Now is the clock FACEKI's is set by (Clock is added to it); nil is
	// time.Now. Tests move it instead of waiting for tokens to expire.
	Now func() time.Time
}

// The credentials an emulator accepts when Options name none.
const (
	DefaultClientID     = "emulator-client-id"
	DefaultClientSecret = "not-a-real-secret"
)

// Emulator is an http.Handler; Listen serves it on loopback.
type Emulator struct {
	opts Options
	mux  *http.ServeMux

	mu            sync.Mutex
	issued        map[string]time.Time // token → expiry
	revoked       map[string]bool
	tokenRequests int
	rulesRequests int
	bearers       []string // tokens presented to bearer-protected endpoints, accepted or not
	faults        []Fault
	scenarios     map[string]*scenario // client ID → its own faults (see Scenario)
	clients       map[string]string    // token → the client ID it was issued to
	inFlight      int                  // requests being answered
	wake          chan struct{}        // closed, and replaced, whenever a count changes (see Await)
}

// New returns an emulator with opts.
func New(opts Options) *Emulator {
	opts.ClientID = cmp.Or(opts.ClientID, DefaultClientID)
	opts.ClientSecret = cmp.Or(opts.ClientSecret, DefaultClientSecret)
	opts.ExpiresIn = cmp.Or(opts.ExpiresIn, time.Hour)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	e := &Emulator{opts: opts, issued: map[string]time.Time{}, revoked: map[string]bool{}, clients: map[string]string{},
		mux: http.NewServeMux(), wake: make(chan struct{})}
	e.mux.HandleFunc("GET /auth/api/access-token", e.accessToken)
	e.mux.HandleFunc("POST /auth/api/generate-token", e.generateToken)
	e.mux.HandleFunc("GET /kycrules/api/kycrules", e.kycRules)
	return e
}

// ServeHTTP implements http.Handler. Every answer carries FACEKI's Date.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.count(func() { e.inFlight++ })
	defer e.count(func() { e.inFlight-- })
	if e.opts.OmitDate {
		w.Header()["Date"] = nil
	} else {
		w.Header().Set("Date", e.now().Add(e.opts.DateSkew).UTC().Format(http.TimeFormat))
	}
	if e.opts.Age > 0 {
		w.Header().Set("Age", strconv.FormatInt(int64(e.opts.Age/time.Second), 10))
	}
	e.mux.ServeHTTP(w, r)
}

// now is FACEKI's clock.
func (e *Emulator) now() time.Time { return e.opts.Now().Add(e.opts.Clock) }

// count changes a count under the lock and wakes whoever awaits a change.
func (e *Emulator) count(change func()) {
	e.mu.Lock()
	defer e.mu.Unlock()
	change()
	close(e.wake)
	e.wake = make(chan struct{})
}

// Await returns once done reports true, checking it again whenever a count
// of the emulator changes (requests received, answered, bearers seen), or
// ctx's error when ctx ends first. done must not block.
func (e *Emulator) Await(ctx context.Context, done func() bool) error {
	for {
		e.mu.Lock()
		woken := e.wake
		e.mu.Unlock()
		if done() {
			return nil
		}
		select {
		case <-woken:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// InFlight counts the requests being answered now.
func (e *Emulator) InFlight() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.inFlight
}

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

// Issued reports whether token was issued by this emulator, and its expiry
// by FACEKI's clock (see Options.Clock).
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
		e.issued[t] = e.now().Add(-time.Second)
	}
}

// Revoke makes FACEKI refuse token from now on, as it may refuse a token
// before the expiry it announced.
func (e *Emulator) Revoke(token string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.revoked[token] = true
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
		e.count(func() { e.tokenRequests++ }) // failed ones count too
		note(r, func(i *RequestInfo) { i.Refused = "the body is not JSON" })
		writeJSON(w, http.StatusBadRequest, failure(http.StatusBadRequest, "invalid JSON body"))
		return
	}
	e.token(w, r, body.ClientID, body.ClientSecret)
}

func (e *Emulator) token(w http.ResponseWriter, r *http.Request, id, secret string) {
	e.count(func() { e.tokenRequests++ })

	if e.opts.Latency > 0 {
		select {
		case <-time.After(e.opts.Latency):
		case <-r.Context().Done():
			return
		}
	}
	// The fault is taken only now: a client that left during the latency
	// never saw it, so it stays queued for the next request. A client with
	// a scenario of its own takes its faults from that, never the queue.
	e.mu.Lock()
	var fault *Fault
	var how, spec string
	sc := e.scenarios[id]
	switch {
	case sc != nil:
		fault, how = sc.next()
		spec = sc.spec
	case len(e.faults) > 0:
		fault = &e.faults[0]
		e.faults = e.faults[1:]
		how = "-fault " + fault.Name
	}
	known := id == e.opts.ClientID || sc != nil
	e.mu.Unlock()
	note(r, func(i *RequestInfo) { i.Client, i.Scenario, i.Fault = id, spec, how })
	if fault != nil && fault.serve(w, r, secret) {
		return
	}
	// Why a request is refused goes to the request log (RequestInfo.Refused):
	// FACEKI's answer does not say, and the emulator's user needs to know.
	refuse := func(status int, message, why string) {
		note(r, func(i *RequestInfo) { i.Refused = why })
		writeJSON(w, status, failure(status, message))
	}
	switch {
	case id == "":
		refuse(http.StatusUnprocessableEntity, "client id is required", "no client ID in the request")
	case secret == "":
		refuse(http.StatusUnprocessableEntity, "client secret is required", "no client secret in the request")
	case !known:
		refuse(http.StatusUnauthorized, "Invalid client credentials",
			fmt.Sprintf("unknown client ID: the emulator accepts %q (FACEKI_CLIENT_ID when it started) and the -client IDs", e.opts.ClientID))
	case secret != e.opts.ClientSecret:
		refuse(http.StatusUnauthorized, "Invalid client credentials",
			"wrong client secret: not the one the emulator started with (FACEKI_CLIENT_SECRET or -client-secret)")
	default:
		lifetime := e.lifetime()
		tok := e.issue(id, lifetime)
		data := map[string]any{"access_token": tok, "token_type": "Bearer"}
		if !e.opts.OmitExpiresIn {
			data["expires_in"] = int(lifetime / time.Second)
		}
		writeJSON(w, http.StatusOK, map[string]any{"responseCode": 0, "data": data})
	}
}

// SetExpiresIn changes the lifetime of the tokens issued from now on.
func (e *Emulator) SetExpiresIn(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.opts.ExpiresIn = d
}

func (e *Emulator) lifetime() time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.opts.ExpiresIn
}

// issue mints an RS256-shaped JWT for client, living for lifetime (see
// signature).
func (e *Emulator) issue(client string, lifetime time.Duration) string {
	now := e.now()
	exp := now.Add(lifetime)
	claims := map[string]any{
		"sub": client, "client_id": client, "token_use": "access", "scope": "kyc/all",
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
	signed := b64(header) + "." + b64(payload)
	tok := signed + "." + e.signature(signed)

	e.mu.Lock()
	e.issued[tok] = exp
	e.clients[tok] = client
	e.mu.Unlock()
	return tok
}

func (e *Emulator) kycRules(w http.ResponseWriter, r *http.Request) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	e.count(func() {
		e.rulesRequests++
		if ok {
			e.bearers = append(e.bearers, token)
		}
	})
	e.mu.Lock()
	exp, issued := e.issued[token]
	client := e.clients[token]
	revoked := e.revoked[token]
	e.mu.Unlock()
	if !issued {
		exp, client, issued = e.verify(token)
	}
	if issued {
		note(r, func(i *RequestInfo) { i.Client = client })
	}
	if why := refusedBearer(ok, issued, revoked, exp, e.now()); why != "" {
		note(r, func(i *RequestInfo) { i.Refused = why })
		writeJSON(w, http.StatusUnauthorized, failure(http.StatusUnauthorized, "Unauthorized"))
		return
	}
	if e.opts.NoRules {
		writeJSON(w, http.StatusOK, map[string]any{"responseCode": 7001, "data": map[string]any{}})
		return
	}
	rules := e.opts.Rules
	switch {
	case e.opts.RulesFor != nil:
		rules = e.opts.RulesFor(token)
	case rules == nil:
		rules = DefaultRules(client) // the company of the client the token was issued to
	}
	writeJSON(w, http.StatusOK, map[string]any{"responseCode": 0, "data": rules})
}

// refusedBearer says why a KYC rules request's bearer token is refused, or
// "" when it is accepted.
func refusedBearer(present, issued, revoked bool, exp, now time.Time) string {
	switch {
	case !present:
		return "no bearer token (Authorization: Bearer …)"
	case !issued:
		return "a bearer token this emulator did not issue"
	case revoked:
		return "a revoked token"
	case now.After(exp):
		return fmt.Sprintf("a token that expired %s ago", now.Sub(exp).Round(time.Second))
	}
	return ""
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

// signature stands in for FACEKI's RS256 one, at its length (256 bytes): an
// HMAC keyed by the credentials, so that an emulator restarted with the same
// credentials accepts the tokens an earlier one issued, as FACEKI would
// (the demo's second run, with a token cache on disk, relies on it).
func (e *Emulator) signature(signed string) string {
	key := sha256.Sum256([]byte("faceki-emulator signing key\x00" + e.opts.ClientID + "\x00" + e.opts.ClientSecret))
	var sig []byte
	for block := byte(0); len(sig) < 256; block++ {
		m := hmac.New(sha256.New, key[:])
		m.Write([]byte{block})
		m.Write([]byte(signed))
		sig = m.Sum(sig)
	}
	return b64(sig)
}

// verify accepts a token this emulator did not issue itself when its
// signature is one it would make, until the exp claim it carries; it
// returns that and the client the token names.
func (e *Emulator) verify(token string) (time.Time, string, bool) {
	i := strings.LastIndexByte(token, '.')
	if i < 0 || !hmac.Equal([]byte(token[i+1:]), []byte(e.signature(token[:i]))) {
		return time.Time{}, "", false
	}
	parts := strings.Split(token[:i], ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[len(parts)-1])
	var claims struct {
		Exp    int64  `json:"exp"`
		Client string `json:"client_id"`
	}
	if err != nil || json.Unmarshal(payload, &claims) != nil || claims.Exp == 0 {
		return time.Time{}, "", false
	}
	return time.Unix(claims.Exp, 0), claims.Client, true
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func randomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return b64(b)
}
