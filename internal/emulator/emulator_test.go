package emulator

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"github.com/faceki/terraform-provider-faceki/internal/gate"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	testID     = "company-42"
	testSecret = "Tf9+k/Qz=8&Lm%2F w4 Rx"
)

func start(t *testing.T, opts Options) *Server {
	t.Helper()
	if opts.ClientID == "" {
		opts.ClientID = testID
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = testSecret
	}
	srv, err := New(opts).Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(a.body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %q", err, a.body)
	}
	return m
}

func do(t *testing.T, req *http.Request) answer {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{resp.StatusCode, resp.Header, body}
}

func getToken(t *testing.T, s *Server, q url.Values) answer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/auth/api/access-token?"+q.Encode(), nil)
	return do(t, req)
}

func postToken(t *testing.T, s *Server, body string) answer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/auth/api/generate-token", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	return do(t, req)
}

func rules(t *testing.T, s *Server, authorization string) answer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/kycrules/api/kycrules", nil)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	return do(t, req)
}

func creds(id, secret string) url.Values {
	q := url.Values{}
	if id != "" {
		q.Set("clientId", id)
	}
	if secret != "" {
		q.Set("clientSecret", secret)
	}
	return q
}

// wantJSON compares a body with the JSON document want, key by key.
func wantJSON(t *testing.T, a answer, status int, want string) {
	t.Helper()
	if a.status != status {
		t.Errorf("status = %d, want %d (body %s)", a.status, status, a.body)
	}
	if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q", ct)
	}
	var got, w any
	if err := json.Unmarshal(a.body, &got); err != nil {
		t.Fatalf("body %q: %v", a.body, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, w) {
		t.Errorf("body = %s\n want %s", a.body, want)
	}
}

func jwtClaims(t *testing.T, tok string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q has %d parts, want 3", tok, len(parts))
	}
	for i, dst := range []*map[string]any{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
		if err := json.Unmarshal(b, dst); err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
	}
	if sig, err := base64.RawURLEncoding.DecodeString(parts[2]); err != nil || len(sig) != 256 {
		t.Errorf("signature: %d bytes, %v; want 256 random bytes", len(sig), err)
	}
	return header, claims
}

func TestTokenSuccessShape(t *testing.T) {
	t.Parallel()
	for _, endpoint := range []string{"GET", "POST"} {
		t.Run(endpoint, func(t *testing.T) {
			t.Parallel()
			s := start(t, Options{})
			before := time.Now()
			var a answer
			if endpoint == "GET" {
				a = getToken(t, s, creds(testID, testSecret))
			} else {
				body, _ := json.Marshal(map[string]string{"clientId": testID, "clientSecret": testSecret})
				a = postToken(t, s, string(body))
			}
			after := time.Now()
			if a.status != http.StatusOK || a.header.Get("Content-Type") != "application/json; charset=utf-8" {
				t.Fatalf("status %d, Content-Type %q: %s", a.status, a.header.Get("Content-Type"), a.body)
			}
			m := a.json(t)
			if len(m) != 2 || m["responseCode"] != 0.0 {
				t.Errorf("envelope = %v, want responseCode 0 and data only", m)
			}
			data, _ := m["data"].(map[string]any)
			if len(data) != 3 || data["expires_in"] != 3600.0 || data["token_type"] != "Bearer" {
				t.Errorf("data = %v", data)
			}
			tok, _ := data["access_token"].(string)
			header, claims := jwtClaims(t, tok)
			if header["alg"] != "RS256" || header["typ"] != "JWT" {
				t.Errorf("JWT header = %v", header)
			}
			if claims["sub"] != testID || claims["client_id"] != testID || claims["iss"] != "faceki-emulator" {
				t.Errorf("claims = %v", claims)
			}
			exp := time.Unix(int64(as[float64](t, claims["exp"])), 0)
			if exp.Before(before.Add(time.Hour-time.Second)) || exp.After(after.Add(time.Hour)) {
				t.Errorf("exp = %s, want about an hour from now", exp)
			}
			issuedExp, ok := s.Issued(tok)
			if !ok || issuedExp.Unix() != exp.Unix() {
				t.Errorf("Issued = %s, %v; want the JWT's exp %s", issuedExp, ok, exp)
			}
			if got := s.IssuedTokens(); len(got) != 1 || got[0] != tok {
				t.Errorf("IssuedTokens = %d tokens", len(got))
			}
			if s.TokenRequests() != 1 || s.RulesRequests() != 0 {
				t.Errorf("counters: %d token, %d rules", s.TokenRequests(), s.RulesRequests())
			}
		})
	}
}

func TestTokensAreUnique(t *testing.T) {
	t.Parallel()
	s := start(t, Options{})
	seen := map[string]bool{}
	for range 5 {
		m := getToken(t, s, creds(testID, testSecret)).json(t)
		tok := as[string](t, as[map[string]any](t, m["data"])["access_token"])
		if seen[tok] {
			t.Fatal("the emulator issued the same token twice")
		}
		seen[tok] = true
	}
	if len(s.IssuedTokens()) != 5 || s.TokenRequests() != 5 {
		t.Errorf("issued %d tokens in %d requests", len(s.IssuedTokens()), s.TokenRequests())
	}
}

func TestTokenFailureShapes(t *testing.T) {
	t.Parallel()
	s := start(t, Options{})
	cases := []struct {
		name   string
		get    url.Values
		post   string
		status int
		want   string
	}{
		{"GET no clientId", creds("", testSecret), "", 422, `{"status":false,"message":"client id is required","statusCode":422,"data":{}}`},
		{"GET nothing", url.Values{}, "", 422, `{"status":false,"message":"client id is required","statusCode":422,"data":{}}`},
		{"GET no clientSecret", creds(testID, ""), "", 422, `{"status":false,"message":"client secret is required","statusCode":422,"data":{}}`},
		{"GET wrong secret", creds(testID, testSecret+"x"), "", 401, `{"status":false,"message":"Invalid client credentials","statusCode":401,"data":{}}`},
		{"GET wrong id", creds("other", testSecret), "", 401, `{"status":false,"message":"Invalid client credentials","statusCode":401,"data":{}}`},
		{"GET secret not decoded", url.Values{"clientId": {testID}, "clientSecret": {url.QueryEscape(testSecret)}}, "", 401,
			`{"status":false,"message":"Invalid client credentials","statusCode":401,"data":{}}`},
		{"POST no clientId", nil, `{"clientSecret":"x"}`, 422, `{"status":false,"message":"client id is required","statusCode":422,"data":{}}`},
		{"POST no clientSecret", nil, `{"clientId":"x"}`, 422, `{"status":false,"message":"client secret is required","statusCode":422,"data":{}}`},
		{"POST wrong", nil, `{"clientId":"` + testID + `","clientSecret":"nope"}`, 401, `{"status":false,"message":"Invalid client credentials","statusCode":401,"data":{}}`},
		{"POST invalid JSON", nil, `{"clientId":`, 400, `{"status":false,"message":"invalid JSON body","statusCode":400,"data":{}}`},
		{"POST too large", nil, `{"clientId":"` + strings.Repeat("a", 70<<10) + `"}`, 400, `{"status":false,"message":"invalid JSON body","statusCode":400,"data":{}}`},
	}
	for i, tc := range cases {
		var a answer
		if tc.get != nil {
			a = getToken(t, s, tc.get)
		} else {
			a = postToken(t, s, tc.post)
		}
		t.Run(tc.name, func(t *testing.T) { wantJSON(t, a, tc.status, tc.want) })
		if got := s.TokenRequests(); got != i+1 {
			t.Errorf("%s: TokenRequests = %d, want %d (failures count)", tc.name, got, i+1)
		}
	}
	if n := len(s.IssuedTokens()); n != 0 {
		t.Errorf("failures issued %d tokens", n)
	}
}

func TestRoutes(t *testing.T) {
	t.Parallel()
	s := start(t, Options{})
	for _, r := range []struct {
		method, path string
		status       int
	}{
		{"POST", "/auth/api/access-token", 405},
		{"GET", "/auth/api/generate-token", 405},
		{"POST", "/kycrules/api/kycrules", 405},
		{"GET", "/auth/api/other", 404},
		{"GET", "/", 404},
	} {
		req, _ := http.NewRequest(r.method, s.URL+r.path, nil)
		if a := do(t, req); a.status != r.status {
			t.Errorf("%s %s = %d, want %d", r.method, r.path, a.status, r.status)
		}
	}
	if s.TokenRequests() != 0 || s.RulesRequests() != 0 {
		t.Errorf("unrouted requests counted: %d token, %d rules", s.TokenRequests(), s.RulesRequests())
	}
}

func TestOptions(t *testing.T) {
	t.Parallel()
	t.Run("defaults", func(t *testing.T) {
		t.Parallel()
		e := New(Options{})
		if id, secret := e.Credentials(); id != DefaultClientID || secret != DefaultClientSecret {
			t.Errorf("Credentials() = %q, %q", id, secret)
		}
	})
	t.Run("ExpiresIn", func(t *testing.T) {
		t.Parallel()
		s := start(t, Options{ExpiresIn: 90 * time.Second})
		data := as[map[string]any](t, getToken(t, s, creds(testID, testSecret)).json(t)["data"])
		if data["expires_in"] != 90.0 {
			t.Errorf("expires_in = %v, want 90", data["expires_in"])
		}
		_, claims := jwtClaims(t, as[string](t, data["access_token"]))
		if d := time.Until(time.Unix(int64(as[float64](t, claims["exp"])), 0)); d < 85*time.Second || d > 90*time.Second {
			t.Errorf("exp is %s away, want 90 s", d)
		}
	})
	t.Run("OmitExpiresIn", func(t *testing.T) {
		t.Parallel()
		s := start(t, Options{OmitExpiresIn: true})
		data := as[map[string]any](t, getToken(t, s, creds(testID, testSecret)).json(t)["data"])
		if _, ok := data["expires_in"]; ok {
			t.Errorf("data has expires_in: %v", data)
		}
		if _, claims := jwtClaims(t, as[string](t, data["access_token"])); claims["exp"] == nil {
			t.Error("JWT lost its exp claim")
		}
	})
	t.Run("OmitJWTExp", func(t *testing.T) {
		t.Parallel()
		s := start(t, Options{OmitJWTExp: true})
		data := as[map[string]any](t, getToken(t, s, creds(testID, testSecret)).json(t)["data"])
		if data["expires_in"] != 3600.0 {
			t.Errorf("expires_in = %v", data["expires_in"])
		}
		if _, claims := jwtClaims(t, as[string](t, data["access_token"])); claims["exp"] != nil {
			t.Errorf("JWT has exp %v", claims["exp"])
		}
	})
	t.Run("JWTLifetime", func(t *testing.T) {
		t.Parallel()
		s := start(t, Options{JWTLifetime: 4 * time.Minute})
		data := as[map[string]any](t, getToken(t, s, creds(testID, testSecret)).json(t)["data"])
		if data["expires_in"] != 3600.0 {
			t.Errorf("expires_in = %v, want 3600", data["expires_in"])
		}
		tok := as[string](t, data["access_token"])
		_, claims := jwtClaims(t, tok)
		if d := time.Until(time.Unix(int64(as[float64](t, claims["exp"])), 0)); d < 235*time.Second || d > 240*time.Second {
			t.Errorf("exp is %s away, want 4 min", d)
		}
		// The emulator enforces exp, as FACEKI does.
		if exp, ok := s.Issued(tok); !ok || time.Until(exp) > 4*time.Minute {
			t.Errorf("the token works until %s, want 4 min from now", exp)
		}
	})
	t.Run("Latency", func(t *testing.T) {
		t.Parallel()
		s := start(t, Options{Latency: 200 * time.Millisecond})
		st := time.Now()
		if a := getToken(t, s, creds(testID, testSecret)); a.status != 200 {
			t.Fatalf("status %d", a.status)
		}
		if el := time.Since(st); el < 200*time.Millisecond {
			t.Errorf("answered in %s, want at least the 200 ms latency", el)
		}
		// Rules are not delayed.
		st = time.Now()
		rules(t, s, "")
		if el := time.Since(st); el > 150*time.Millisecond {
			t.Errorf("rules answered in %s", el)
		}
	})
}

func issue(t *testing.T, s *Server) string {
	t.Helper()
	return issueWith(t, s, testSecret)
}

func issueWith(t *testing.T, s *Server, secret string) string {
	t.Helper()
	a := getToken(t, s, creds(testID, secret))
	if a.status != 200 {
		t.Fatalf("token: %d %s", a.status, a.body)
	}
	return as[string](t, as[map[string]any](t, a.json(t)["data"])["access_token"])
}

// TestTokensOutliveTheEmulator: an emulator started again with the same
// credentials accepts the tokens the first one issued, until their exp, as
// FACEKI does across its own restarts; not a tampered one.
func TestTokensOutliveTheEmulator(t *testing.T) {
	t.Parallel()
	first := start(t, Options{})
	tok := issue(t, first)
	_ = first.Close()
	again := start(t, Options{})
	if a := rules(t, again, "Bearer "+tok); a.status != 200 {
		t.Errorf("a restarted emulator refused an earlier token: %d %s", a.status, a.body)
	}
	if _, ok := again.Issued(tok); ok {
		t.Error("Issued reports a token this emulator did not issue")
	}
	tampered := tok[:len(tok)-2] + "AA"
	if a := rules(t, again, "Bearer "+tampered); a.status != 401 {
		t.Errorf("a tampered token was accepted: %d", a.status)
	}
	short := start(t, Options{ExpiresIn: time.Second})
	old := issue(t, short)
	later := func() time.Time { return time.Now().Add(2 * time.Second) }
	if a := rules(t, start(t, Options{Now: later}), "Bearer "+old); a.status != 401 {
		t.Errorf("an expired token from another emulator was accepted: %d", a.status)
	}
}

func TestKYCRulesRequiresIssuedUnexpiredBearer(t *testing.T) {
	t.Parallel()
	s := start(t, Options{})
	other := start(t, Options{ClientSecret: "another account's secret"})
	const unauthorized = `{"status":false,"message":"Unauthorized","statusCode":401,"data":{}}`
	foreign := issueWith(t, other, "another account's secret")
	tok := issue(t, s)

	wantJSON(t, rules(t, s, ""), 401, unauthorized)
	wantJSON(t, rules(t, s, "Bearer not-a-token"), 401, unauthorized)
	wantJSON(t, rules(t, s, "Basic "+tok), 401, unauthorized)
	wantJSON(t, rules(t, s, "bearer "+tok), 401, unauthorized)
	wantJSON(t, rules(t, s, "Bearer "+foreign), 401, unauthorized)
	wantJSON(t, rules(t, s, "Bearer "), 401, unauthorized)

	wantRules, _ := json.Marshal(map[string]any{"responseCode": 0, "data": DefaultRules(testID)})
	wantJSON(t, rules(t, s, "Bearer "+tok), 200, string(wantRules))

	s.Expire()
	wantJSON(t, rules(t, s, "Bearer "+tok), 401, unauthorized)
	if exp, ok := s.Issued(tok); !ok || !exp.Before(time.Now()) {
		t.Errorf("after Expire: Issued = %s, %v", exp, ok)
	}
	// A token issued after Expire works.
	fresh := issue(t, s)
	wantJSON(t, rules(t, s, "Bearer "+fresh), 200, string(wantRules))

	if got := s.RulesRequests(); got != 9 {
		t.Errorf("RulesRequests = %d, want 9", got)
	}
	// "Bearer " arrives as "Bearer" (HTTP trims the value): not a bearer.
	wantBearers := []string{"not-a-token", foreign, tok, tok, fresh}
	if got := s.Bearers(); !reflect.DeepEqual(got, wantBearers) {
		t.Errorf("Bearers = %q\n want %q", got, wantBearers)
	}
	if s.TokenRequests() != 2 || other.RulesRequests() != 0 {
		t.Errorf("TokenRequests = %d, other's RulesRequests = %d", s.TokenRequests(), other.RulesRequests())
	}

	// Revoked, a token is refused before its expiry.
	s.Revoke(fresh)
	wantJSON(t, rules(t, s, "Bearer "+fresh), 401, unauthorized)
}

func TestKYCRulesTokenExpiresByItself(t *testing.T) {
	t.Parallel()
	var ahead atomic.Int64
	s := start(t, Options{ExpiresIn: 5 * time.Minute, Now: func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }})
	tok := issue(t, s)
	ahead.Store(int64(5*time.Minute - time.Second))
	if a := rules(t, s, "Bearer "+tok); a.status != 200 {
		t.Fatalf("a token with a second left: %d %s", a.status, a.body)
	}
	ahead.Store(int64(5*time.Minute + time.Second))
	if a := rules(t, s, "Bearer "+tok); a.status != 401 {
		t.Errorf("expired token: %d %s", a.status, a.body)
	}
}

func TestKYCRulesVariants(t *testing.T) {
	t.Parallel()
	t.Run("NoRules", func(t *testing.T) {
		t.Parallel()
		s := start(t, Options{NoRules: true})
		wantJSON(t, rules(t, s, "Bearer "+issue(t, s)), 200, `{"responseCode":7001,"data":{}}`)
	})
	t.Run("custom", func(t *testing.T) {
		t.Parallel()
		s := start(t, Options{Rules: map[string]any{"status": "INACTIVE", "validAge": 21}})
		wantJSON(t, rules(t, s, "Bearer "+issue(t, s)), 200, `{"responseCode":0,"data":{"status":"INACTIVE","validAge":21}}`)
	})
	t.Run("default document", func(t *testing.T) {
		t.Parallel()
		r := DefaultRules("c1")
		for _, k := range []string{"_id", "companyId", "allowedCountries", "allowedKycDocuments", "allowedNationalities", "invalidDocuments",
			"dataStorageTime", "declined", "invalid", "success", "isRecapturedDocumentInvalid", "link", "livenessCheckType",
			"multiKYCEnabled", "status", "validAge"} {
			if _, ok := r[k]; !ok {
				t.Errorf("DefaultRules lacks %q", k)
			}
		}
		if r["companyId"] != "c1" {
			t.Errorf("companyId = %v", r["companyId"])
		}
	})
}

func TestFaultsQueueInOrder(t *testing.T) {
	t.Parallel()
	s := start(t, Options{})
	s.Faults(Unavailable)
	s.Faults(TooManyRequests("7"), InternalError) // appended after the first
	// Rules requests do not consume faults.
	rules(t, s, "")
	a := getToken(t, s, creds(testID, testSecret))
	wantJSON(t, a, 503, `{"status":false,"message":"Service Unavailable","statusCode":503,"data":{}}`)
	a = getToken(t, s, creds(testID, testSecret))
	wantJSON(t, a, 429, `{"status":false,"message":"Too Many Requests","statusCode":429,"data":{}}`)
	if ra := a.header.Get("Retry-After"); ra != "7" {
		t.Errorf("Retry-After = %q", ra)
	}
	// Faults apply to the POST endpoint too.
	a = postToken(t, s, `{}`)
	wantJSON(t, a, 200, `{"responseCode":1000,"message":"internal system error","data":{}}`)
	// Queue drained: normal answers again.
	if a := getToken(t, s, creds(testID, testSecret)); a.status != 200 {
		t.Errorf("after the faults: %d %s", a.status, a.body)
	}
	if s.TokenRequests() != 4 || len(s.IssuedTokens()) != 1 {
		t.Errorf("TokenRequests = %d, issued %d", s.TokenRequests(), len(s.IssuedTokens()))
	}
}

func TestFaultBodies(t *testing.T) {
	t.Parallel()
	cases := []struct {
		f           Fault
		status      int
		contentType string
		body        string
	}{
		{HTML500, 500, "text/html", HTML500.Body},
		{TruncatedJSON, 200, "application/json", `{"responseCode":0,"data":{"access_tok`},
		{EmptyBody, 200, "application/json", ""},
		{MissingToken, 200, "application/json", `{"responseCode":0,"data":{"expires_in":3600,"token_type":"Bearer"}}`},
		{WrongTypes, 200, "application/json", `{"responseCode":"zero","data":[1,2,3]}`},
	}
	for _, tc := range cases {
		t.Run(tc.f.Name, func(t *testing.T) {
			t.Parallel()
			s := start(t, Options{})
			s.Faults(tc.f)
			a := getToken(t, s, creds(testID, testSecret))
			if a.status != tc.status || a.header.Get("Content-Type") != tc.contentType || string(a.body) != tc.body {
				t.Errorf("got %d %q %q, want %d %q %q", a.status, a.header.Get("Content-Type"), a.body, tc.status, tc.contentType, tc.body)
			}
		})
	}
}

func TestFaultHuge(t *testing.T) {
	t.Parallel()
	s := start(t, Options{})
	s.Faults(Huge)
	resp, err := http.Get(s.URL + "/auth/api/access-token")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil || n != 64<<20 || resp.StatusCode != 200 {
		t.Errorf("read %d bytes (%v), status %d; want 64 MiB", n, err, resp.StatusCode)
	}
}

func TestFaultEcho(t *testing.T) {
	t.Parallel()
	// A secret with quotes and backslashes: the body must stay valid JSON.
	const secret = `Tf9+k/Qz=8&Lm%2F "w4" \Rx`
	s := start(t, Options{ClientSecret: secret})
	s.Faults(Echo)
	q := creds(testID, secret)
	a := getToken(t, s, q)
	if a.status != 400 {
		t.Errorf("status = %d", a.status)
	}
	if got := a.header.Get("X-Echo"); got != q.Encode() {
		t.Errorf("X-Echo = %q, want the raw query %q", got, q.Encode())
	}
	m := a.json(t)
	wantMsg := "bad request: /auth/api/access-token?" + q.Encode() + " (" + secret + ")"
	if m["message"] != wantMsg || m["statusCode"] != 400.0 || m["status"] != false {
		t.Errorf("body = %s\n want message %q", a.body, wantMsg)
	}
	if d, _ := m["data"].(map[string]any); d["query"] != q.Encode() {
		t.Errorf("data.query = %v", d["query"])
	}
}

// TestFaultsQuotingTheRequest: each quoting server carries the secret in its
// own encoding, and decoding that encoding gives the secret back.
func TestFaultsQuotingTheRequest(t *testing.T) {
	t.Parallel()
	const secret = `s3cr+t/with=&%25 and "quotes" <tags>`
	q := creds(testID, secret)
	t.Run("gateway return URL", func(t *testing.T) {
		t.Parallel()
		s := start(t, Options{ClientSecret: secret})
		s.Faults(GatewayReturnURL)
		a := getToken(t, s, q)
		msg := as[string](t, a.json(t)["message"])
		prefix := "Authentication required: sign in at https://gateway.example/login?returnUrl="
		if a.status != 401 || !strings.HasPrefix(msg, prefix) {
			t.Fatalf("status %d, message %q", a.status, msg)
		}
		if !strings.Contains(msg, "%252B") { // %2B quoted again
			t.Errorf("the request URI is not percent-encoded twice: %q", msg)
		}
		back, err := url.QueryUnescape(strings.TrimPrefix(msg, prefix))
		if err != nil || back != "/auth/api/access-token?"+q.Encode() {
			t.Errorf("returnUrl decodes to %q (%v)", back, err)
		}
	})
	t.Run("numeric references", func(t *testing.T) {
		t.Parallel()
		s := start(t, Options{ClientSecret: secret})
		s.Faults(EntityEcho)
		a := getToken(t, s, q)
		body := string(a.body)
		if a.status != 400 || !strings.HasPrefix(a.header.Get("Content-Type"), "text/html") || !strings.Contains(body, "&#99;&#108;") {
			t.Fatalf("status %d, %s: %q", a.status, a.header.Get("Content-Type"), body)
		}
		if got := html.UnescapeString(body); !strings.Contains(got, "Rejected query: "+q.Encode()+"<") {
			t.Errorf("the references do not decode to the query: %q", got)
		}
	})
	t.Run("secret hint", func(t *testing.T) {
		t.Parallel()
		s := start(t, Options{ClientSecret: secret})
		s.Faults(SecretHint)
		a := getToken(t, s, q)
		if msg := a.json(t)["message"]; a.status != 401 || msg != "Invalid client secret: it starts with '"+secret[:12]+"'" {
			t.Errorf("status %d, message %q", a.status, msg)
		}
	})
	t.Run("200 with a 401 body", func(t *testing.T) {
		t.Parallel()
		s := start(t, Options{ClientSecret: secret})
		s.Faults(OK401)
		a := getToken(t, s, q)
		if m := a.json(t); a.status != 200 || m["statusCode"] != 401.0 || m["status"] != false {
			t.Errorf("status %d, body %s", a.status, a.body)
		}
	})
}

func TestFaultHang(t *testing.T) {
	t.Parallel()
	t.Run("answers after the hang", func(t *testing.T) {
		t.Parallel()
		s := start(t, Options{})
		s.Faults(Hang(200 * time.Millisecond))
		st := time.Now()
		a := getToken(t, s, creds(testID, testSecret))
		if el := time.Since(st); el < 200*time.Millisecond || a.status != http.StatusGatewayTimeout {
			t.Errorf("status %d after %s, want 504 after 200 ms", a.status, el)
		}
	})
	t.Run("pure delay", func(t *testing.T) {
		t.Parallel()
		s := start(t, Options{})
		s.Faults(Fault{Name: "delay", Hang: 150 * time.Millisecond})
		st := time.Now()
		a := getToken(t, s, creds(testID, testSecret))
		if el := time.Since(st); el < 150*time.Millisecond || a.status != 200 {
			t.Errorf("status %d after %s, want a token after 150 ms", a.status, el)
		}
	})
	t.Run("client leaves", func(t *testing.T) {
		t.Parallel()
		s := start(t, Options{})
		s.Faults(Hang(time.Hour))
		c := &http.Client{Timeout: 100 * time.Millisecond}
		_, err := c.Get(s.URL + "/auth/api/access-token")
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("error = %v, want a timeout", err)
		}
		// The server is not stuck: it answers the next request, and closes promptly.
		if a := getToken(t, s, creds(testID, testSecret)); a.status != 200 {
			t.Errorf("next request: %d", a.status)
		}
		done := make(chan struct{})
		go func() { _ = s.Close(); close(done) }()
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			t.Error("Close blocked by a hanging request")
		}
	})
}

func TestFaultDrop(t *testing.T) {
	t.Parallel()
	s := start(t, Options{})
	s.Faults(Fault{Name: "drop", Drop: true})
	resp, err := http.Get(s.URL + "/auth/api/access-token?" + creds(testID, testSecret).Encode())
	if err == nil {
		resp.Body.Close()
		t.Fatalf("got HTTP %d, want the connection closed without an answer", resp.StatusCode)
	}
	if !errors.Is(err, io.EOF) && !strings.Contains(err.Error(), "EOF") && !strings.Contains(err.Error(), "reset") {
		t.Errorf("error = %v, want EOF or reset", err)
	}
}

func TestConcurrentCounters(t *testing.T) {
	t.Parallel()
	s := start(t, Options{})
	get := func(url, auth string) error {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.Body.Close()
	}
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for range 20 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			errs <- get(s.URL+"/auth/api/access-token?"+creds(testID, testSecret).Encode(), "")
		}()
		go func() { defer wg.Done(); errs <- get(s.URL+"/kycrules/api/kycrules", "Bearer x") }()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if s.TokenRequests() != 20 || s.RulesRequests() != 20 || len(s.IssuedTokens()) != 20 || len(s.Bearers()) != 20 {
		t.Errorf("counters: %d token, %d rules, %d issued, %d bearers; want 20 each",
			s.TokenRequests(), s.RulesRequests(), len(s.IssuedTokens()), len(s.Bearers()))
	}
}

func TestCloseStopsServing(t *testing.T) {
	t.Parallel()
	srv, err := New(Options{}).Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Errorf("URL = %q", srv.URL)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	if resp, err := c.Get(srv.URL + "/auth/api/access-token"); err == nil {
		resp.Body.Close()
		t.Error("closed server still answers")
	}
	if _, err := New(Options{}).Listen("127.0.0.1:99999"); err == nil {
		t.Error("Listen on an invalid address succeeded")
	}
}

// ServeHTTP lets tests use the emulator without a socket.
func TestServeHTTPWithoutListening(t *testing.T) {
	t.Parallel()
	e := New(Options{ClientID: "a", ClientSecret: "b"})
	rec := &recorder{header: http.Header{}}
	req, _ := http.NewRequest(http.MethodGet, "/auth/api/access-token?clientId=a&clientSecret=b", nil)
	e.ServeHTTP(rec, req)
	if rec.status != 200 || !bytes.Contains(rec.body.Bytes(), []byte(`"access_token"`)) {
		t.Errorf("got %d %s", rec.status, rec.body.Bytes())
	}
}

type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(s int)           { r.status = s }

// as asserts v's type, failing the test rather than panicking.
func as[T any](t *testing.T, v any) T {
	t.Helper()
	x, ok := v.(T)
	if !ok {
		t.Fatalf("got %T, want %T", v, x)
	}
	return x
}

// TestFaultKeptWhenTheClientLeavesDuringLatency: a client that gives up
// while -latency holds its request takes no fault with it; the queued fault
// is for the next request that waits for its answer.
func TestFaultKeptWhenTheClientLeavesDuringLatency(t *testing.T) {
	t.Parallel()
	s := start(t, Options{Latency: 300 * time.Millisecond})
	s.Faults(Unavailable)
	impatient := &http.Client{Timeout: 50 * time.Millisecond}
	if resp, err := impatient.Get(s.URL + "/auth/api/access-token?" + creds(testID, testSecret).Encode()); err == nil {
		_ = resp.Body.Close()
		t.Fatalf("HTTP %d within 50 ms, want the client to give up during the 300 ms latency", resp.StatusCode)
	}
	// Let the abandoned request's handler run to its end first.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.Await(ctx, func() bool { return s.InFlight() == 0 }); err != nil {
		t.Fatalf("the abandoned request is still being answered: %v", err)
	}
	if a := getToken(t, s, creds(testID, testSecret)); a.status != 503 {
		t.Errorf("the request after the one abandoned: HTTP %d, want the queued 503", a.status)
	}
	if a := getToken(t, s, creds(testID, testSecret)); a.status != 200 {
		t.Errorf("after the fault: HTTP %d, want 200", a.status)
	}
}

// TestDefaultCredentialsPassTheGate: the provider's gate lets the default
// client ID through whole wherever it is quoted (the KYC rules' companyId),
// though its secret is known.
func TestDefaultCredentialsPassTheGate(t *testing.T) {
	t.Parallel()
	g := gate.New()
	g.AddSecret(DefaultClientSecret)
	g.AddPublic(DefaultClientID)
	if got := g.Pass(DefaultClientID); got != DefaultClientID {
		t.Errorf("the gate withholds DefaultClientID: %q", got)
	}
}
