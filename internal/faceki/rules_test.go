package faceki_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/faceki/terraform-provider-faceki/internal/emulator"
	"github.com/faceki/terraform-provider-faceki/internal/faceki"
)

const rulesPath = "/kycrules/api/kycrules"

// rulesClient returns a client for an in-process emulator served by handler
// (nil: the emulator itself).
func rulesClient(t *testing.T, emu *emulator.Emulator, handler http.Handler) *faceki.Client {
	t.Helper()
	if handler == nil {
		handler = emu
	}
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	id, secret := emu.Credentials()
	c, err := faceki.NewClient(faceki.Config{BaseURL: srv.URL, ClientID: id, ClientSecret: secret, MaxRetries: 1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// answerRules serves emu's token endpoints, and answers every KYC rules
// request with status and body; calls counts those requests.
func answerRules(emu *emulator.Emulator, status int, body string) (handler http.Handler, calls func() int) {
	var n atomic.Int32
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != rulesPath {
			emu.ServeHTTP(w, r)
			return
		}
		n.Add(1)
		if strings.HasPrefix(body, "{") {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}), func() int { return int(n.Load()) }
}

func ptr[T any](v T) *T { return &v }

// rulesFailure reads the KYC rules from a server that answers them with
// status and body, and wants an *APIError of kind.
func rulesFailure(t *testing.T, status int, body string, kind faceki.ErrorKind) (emu *emulator.Emulator, calls func() int, err error) {
	t.Helper()
	emu = emulator.New(emulator.Options{})
	handler, calls := answerRules(emu, status, body)
	_, err = rulesClient(t, emu, handler).KYCRules(context.Background())
	var apiErr *faceki.APIError
	if !errors.As(err, &apiErr) || apiErr.Kind != kind {
		t.Fatalf("err = %v, want kind %d", err, kind)
	}
	return emu, calls, err
}

func TestKYCRules_defaultRules(t *testing.T) {
	emu := emulator.New(emulator.Options{ClientID: "company-7"})
	c := rulesClient(t, emu, nil)
	got, err := c.KYCRules(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := faceki.Rules{
		ID:                          ptr("64a0c0ffee0000000000beef"),
		CompanyID:                   ptr("company-7"),
		LivenessCheckType:           ptr("MODERATE"),
		AllowedKYCDocuments:         []string{"Passport", "ID Card"},
		AllowedCountries:            []string{"AE", "SA"},
		AllowedNationalities:        []string{"AE"},
		InvalidDocuments:            []string{},
		ValidAge:                    ptr(int64(18)),
		Status:                      ptr("ACTIVE"),
		DataStorageTime:             ptr("FOREVER"),
		MultiKYCEnabled:             ptr(false),
		IsRecapturedDocumentInvalid: ptr(true),
		Link:                        ptr("https://apps.faceki.com/kycverify/emulator"),
		Success:                     &faceki.Outcome{RedirectURL: ptr("https://example.com/success"), Message: ptr("Verified")},
		Declined:                    &faceki.Outcome{RedirectURL: ptr("https://example.com/declined"), Message: ptr("Verification declined")},
		Invalid:                     &faceki.Outcome{RedirectURL: ptr("https://example.com/invalid"), Message: ptr("Invalid documents")},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("KYCRules() =\n%s\nwant\n%s", dump(got), dump(want))
	}
	if n := emu.TokenRequests(); n != 1 {
		t.Errorf("token requests = %d, want 1", n)
	}
	bearers := emu.Bearers()
	if len(bearers) != 1 {
		t.Fatalf("rules requests presented %d bearers, want 1", len(bearers))
	}
	if _, ok := emu.Issued(bearers[0]); !ok {
		t.Error("the rules request's bearer is not a token the emulator issued")
	}
}

// The rules request uses the shared token: no token request of its own.
func TestKYCRules_usesSharedToken(t *testing.T) {
	emu := emulator.New(emulator.Options{})
	c := rulesClient(t, emu, nil)
	ctx := context.Background()
	tok, err := c.SharedToken(ctx, faceki.RulesMinValidity)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := c.KYCRules(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := emu.TokenRequests(); n != 1 {
		t.Errorf("token requests = %d, want 1", n)
	}
	for i, b := range emu.Bearers() {
		if b != tok.AccessToken {
			t.Errorf("rules request %d did not present the shared token", i+1)
		}
	}
}

// FACEKI stops accepting a token the client still thinks valid: the client
// drops it, fetches exactly one new token, retries once, and shares the new one.
func TestKYCRules_staleTokenRefetchedOnce(t *testing.T) {
	emu := emulator.New(emulator.Options{})
	c := rulesClient(t, emu, nil)
	ctx := context.Background()
	if _, err := c.KYCRules(ctx); err != nil {
		t.Fatal(err)
	}
	emu.Expire()
	if _, err := c.KYCRules(ctx); err != nil {
		t.Fatalf("KYCRules after the token went stale: %v", err)
	}
	if n := emu.TokenRequests(); n != 2 {
		t.Errorf("token requests = %d, want 2 (the first, and one refetch)", n)
	}
	if n := emu.RulesRequests(); n != 3 {
		t.Errorf("rules requests = %d, want 3 (ok, refused, retried)", n)
	}
	b := emu.Bearers()
	if len(b) != 3 || b[0] != b[1] || b[2] == b[1] {
		t.Fatalf("bearers presented: want [first, first, fresh], got %d with first==second %v, second==third %v",
			len(b), len(b) > 1 && b[0] == b[1], len(b) > 2 && b[1] == b[2])
	}
	// The fresh token replaced the stale one in the cache.
	tok, err := c.SharedToken(ctx, faceki.RulesMinValidity)
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != b[2] {
		t.Error("SharedToken does not return the refetched token")
	}
	if _, err := c.KYCRules(ctx); err != nil {
		t.Fatal(err)
	}
	if n := emu.TokenRequests(); n != 2 {
		t.Errorf("token requests after another read = %d, want still 2", n)
	}
}

// Concurrent readers that all meet the stale token refetch it once between them.
func TestKYCRules_staleTokenConcurrent(t *testing.T) {
	emu := emulator.New(emulator.Options{})
	c := rulesClient(t, emu, nil)
	ctx := context.Background()
	if _, err := c.KYCRules(ctx); err != nil {
		t.Fatal(err)
	}
	emu.Expire()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			if _, err := c.KYCRules(ctx); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// A reader refused after another has already replaced the stale token
	// drops nothing (dropShared only removes the token it was refused with)
	// and uses or waits for the fresh one.
	if n := emu.TokenRequests(); n != 2 {
		t.Errorf("token requests = %d, want 2", n)
	}
}

// A token refused twice fails with KindUnauthorized, after exactly one refetch.
func TestKYCRules_refusedTwice(t *testing.T) {
	for _, status := range []int{http.StatusUnauthorized, http.StatusForbidden} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			emu := emulator.New(emulator.Options{})
			handler, refused := answerRules(emu, status, `{"status":false,"message":"Unauthorized","statusCode":401,"data":{}}`)
			c := rulesClient(t, emu, handler)
			_, err := c.KYCRules(context.Background())
			if !faceki.IsKind(err, faceki.KindUnauthorized) {
				t.Fatalf("err = %v, want KindUnauthorized", err)
			}
			for _, want := range []string{"KYC rules request failed", "freshly fetched"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			if n := emu.TokenRequests(); n != 2 {
				t.Errorf("token requests = %d, want 2", n)
			}
			if n := refused(); n != 2 {
				t.Errorf("rules requests = %d, want 2 (no retry beyond one)", n)
			}
			for _, tok := range emu.IssuedTokens() {
				if strings.Contains(err.Error(), tok) {
					t.Error("the error quotes a token")
				}
			}
		})
	}
}

func TestKYCRules_noRules(t *testing.T) {
	emu := emulator.New(emulator.Options{NoRules: true})
	c := rulesClient(t, emu, nil)
	_, err := c.KYCRules(context.Background())
	if !faceki.IsKind(err, faceki.KindNoRules) {
		t.Fatalf("err = %v, want KindNoRules", err)
	}
	for _, want := range []string{"responseCode 7001 NO_RULES_FOR_COMPANY", "company has no KYC rules"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if n := emu.TokenRequests(); n != 1 {
		t.Errorf("token requests = %d, want 1 (7001 is no reason to refetch)", n)
	}
}

// Unknown fields are ignored; missing, null and mistyped ones are nil.
func TestKYCRules_lenient(t *testing.T) {
	emu := emulator.New(emulator.Options{Rules: map[string]any{
		"_id":                  map[string]any{"$oid": "abc123"},
		"companyId":            42,
		"allowedKycDocuments":  "Passport",
		"allowedCountries":     []any{"AE", 7, nil, map[string]any{}},
		"allowedNationalities": nil,
		"invalidDocuments":     map[string]any{"x": 1},
		"validAge":             "21",
		"multiKYCEnabled":      "true",
		"status":               nil,
		"success":              map[string]any{"redirect_url": "https://example.com/ok", "extra": true},
		"declined":             "nope",
		"invalid":              nil,
		"allowSingle":          true,
		"verify_user_once":     false,
		"mandatory_geolocation": map[string]any{
			"enabled": true,
		},
	}})
	c := rulesClient(t, emu, nil)
	got, err := c.KYCRules(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := faceki.Rules{
		ID:                  ptr("abc123"),
		CompanyID:           ptr("42"),
		AllowedKYCDocuments: []string{"Passport"},
		AllowedCountries:    []string{"AE", "7"},
		ValidAge:            ptr(int64(21)),
		MultiKYCEnabled:     ptr(true),
		Success:             &faceki.Outcome{RedirectURL: ptr("https://example.com/ok")},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("KYCRules() =\n%s\nwant\n%s", dump(got), dump(want))
	}
}

func TestKYCRules_badAnswers(t *testing.T) {
	cases := []struct {
		name   string
		status int
		body   string
		kind   faceki.ErrorKind
		want   string
	}{
		{"no data", 200, `{"responseCode":0}`, faceki.KindBadResponse, "no data object with the KYC rules"},
		{"data not an object", 200, `{"responseCode":0,"data":"rules"}`, faceki.KindBadResponse, "no data object"},
		{"html", 200, `<html><body>Gateway</body></html>`, faceki.KindBadResponse, "response is HTML"},
		{"other code", 200, `{"responseCode":1000,"data":{}}`, faceki.KindServer, "1000 INTERNAL_SYSTEM_ERROR"},
		{"server error", 500, `{"message":"boom"}`, faceki.KindUnavailable, "HTTP 500"},
		{"not found", 404, `Not Found`, faceki.KindRequest, "HTTP 404"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			emu, calls, err := rulesFailure(t, tc.status, tc.body, tc.kind)
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "KYC rules request") {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
			wantCalls := 1
			if tc.status >= 500 {
				wantCalls = 2 // MaxRetries: 1
			}
			if n := calls(); n != wantCalls {
				t.Errorf("rules requests = %d, want %d", n, wantCalls)
			}
			if n := emu.TokenRequests(); n != 1 {
				t.Errorf("token requests = %d, want 1", n)
			}
		})
	}
}

// A failed token request fails the rules read with the token error.
func TestKYCRules_tokenFailure(t *testing.T) {
	emu := emulator.New(emulator.Options{})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	id, _ := emu.Credentials()
	c, err := faceki.NewClient(faceki.Config{BaseURL: srv.URL, ClientID: id, ClientSecret: "wrong"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.KYCRules(context.Background())
	if !faceki.IsKind(err, faceki.KindCredentials) {
		t.Fatalf("err = %v, want KindCredentials", err)
	}
	if n := emu.RulesRequests(); n != 0 {
		t.Errorf("rules requests = %d, want 0", n)
	}
}

// dump shows r field by field, pointers dereferenced.
func dump(r faceki.Rules) string {
	var b strings.Builder
	v := reflect.ValueOf(r)
	for i := range v.NumField() {
		fmt.Fprintf(&b, "  %s: %s\n", v.Type().Field(i).Name, show(v.Field(i)))
	}
	return b.String()
}

func show(v reflect.Value) string {
	switch {
	case (v.Kind() == reflect.Pointer || v.Kind() == reflect.Slice) && v.IsNil():
		return "nil"
	case v.Kind() == reflect.Pointer && v.Elem().Kind() == reflect.Struct:
		e := v.Elem()
		parts := make([]string, 0, e.NumField())
		for i := range e.NumField() {
			parts = append(parts, e.Type().Field(i).Name+"="+show(e.Field(i)))
		}
		return "{" + strings.Join(parts, " ") + "}"
	case v.Kind() == reflect.Pointer:
		return fmt.Sprintf("%#v", v.Elem().Interface())
	default:
		return fmt.Sprintf("%#v", v.Interface())
	}
}

// TestKYCRules_onlyRefusalsRefetch: only a refused token (401/403, in the
// HTTP status or in FACEKI's body) is dropped and fetched anew; any other
// failure is reported as it is, without claiming a refetch.
func TestKYCRules_onlyRefusalsRefetch(t *testing.T) {
	cases := []struct {
		name         string
		status       int
		body         string
		kind         faceki.ErrorKind
		tokens, hits int // token and rules requests
	}{
		{"422", 422, `{"status":false,"message":"missing parameter","statusCode":422,"data":{}}`, faceki.KindBadRequest, 1, 1},
		{"200 carrying 422", 200, `{"status":false,"message":"missing parameter","statusCode":422,"data":{}}`, faceki.KindBadRequest, 1, 1},
		{"200 carrying 401", 200, `{"status":false,"message":"Unauthorized","statusCode":401,"data":{}}`, faceki.KindUnauthorized, 2, 2},
		{"403", 403, `{"status":false,"message":"Forbidden","statusCode":403,"data":{}}`, faceki.KindUnauthorized, 2, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			emu, calls, err := rulesFailure(t, tc.status, tc.body, tc.kind)
			if emu.TokenRequests() != tc.tokens || calls() != tc.hits {
				t.Errorf("token requests %d, rules requests %d; want %d and %d", emu.TokenRequests(), calls(), tc.tokens, tc.hits)
			}
			refetched := strings.Contains(err.Error(), "and so was a freshly fetched one")
			if refetched != (tc.tokens == 2) {
				t.Errorf("error claims a refetch = %v, want %v: %s", refetched, tc.tokens == 2, err)
			}
		})
	}
}
