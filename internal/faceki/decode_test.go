package faceki

import (
	"errors"
	"html"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/faceki/terraform-provider-faceki/internal/leakcheck"
)

// fuzzSeeds are real answer shapes: FACEKI's documented success and failure
// bodies, a gateway's HTML, broken JSON, and servers echoing the secret.
// The same shapes are stored as files in testdata/fuzz/FuzzDecodeToken/.
func fuzzSeeds() []struct {
	status int
	body   string
} {
	q := url.Values{"clientId": {testClientID}, "clientSecret": {testSecret}}.Encode()
	jwt := makeJWT(map[string]any{"exp": 1900000000, "sub": testClientID})
	return []struct {
		status int
		body   string
	}{
		{200, `{"responseCode":0,"data":{"access_token":"` + jwt + `","expires_in":3600,"token_type":"Bearer"}}`},
		{201, `{"responseCode":0,"data":{"access_token":"tok","expires_in":60}}`},
		{200, `{"responseCode":0,"data":{"access_token":"` + jwt + `"}}`},
		{422, `{"status":false,"message":"client id is required","statusCode":422,"data":{}}`},
		{422, `{"status":false,"message":["clientId must be a string"],"statusCode":422,"data":{}}`},
		{401, `{"status":false,"message":"Invalid client credentials","statusCode":401,"data":{}}`},
		{500, "<html><head><title>500 Internal Server Error</title></head><body><h1>Internal Server Error</h1></body></html>"},
		{200, `{"responseCode":0,"data":{"access_tok`},
		{200, ""},
		{200, `{"responseCode":"zero","data":[1,2,3]}`},
		{200, `{"responseCode":0,"data":{"expires_in":3600,"token_type":"Bearer"}}`},
		{200, `{"responseCode":1000,"message":"internal system error","data":{}}`},
		{400, `{"status":false,"message":"bad request: /auth/api/access-token?` + q + ` (` + testSecret + `)","statusCode":400,"data":{"query":"` + q + `"}}`},
		{403, "<html><body><h1>Request Rejected</h1><p>zzzzzzzzzzzzzzzzzzzzz</p><p>URL: /auth/api/access-token?" + q + "</p><p>" + html.EscapeString(testSecret) + "</p></body></html>"},
		{502, "Bad Gateway: upstream sent " + strings.Repeat("x", 80) + " " + testSecret},
		{429, `{"status":false,"message":"Too Many Requests","statusCode":429,"data":{}}`},
	}
}

// FuzzDecodeToken feeds the token decoder any status and body. It must not
// panic; a nil error must come with a token; and no error may hold the
// client secret in any of its forms.
func FuzzDecodeToken(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s.status, []byte(s.body))
	}
	c, err := NewClient(Config{BaseURL: DefaultBaseURL, ClientID: testClientID, ClientSecret: testSecret})
	if err != nil {
		f.Fatal(err)
	}
	sent := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		tok, err := c.decodeToken(answer{status: status, body: body, sent: sent})
		if err == nil {
			if tok.AccessToken == "" {
				t.Fatalf("nil error without a token for HTTP %d %q", status, body)
			}
			if status < 200 || status > 299 {
				t.Fatalf("success on HTTP %d", status)
			}
			if tok.TokenType == "" {
				t.Fatal("empty token type")
			}
			if !tok.ExpiresAt.IsZero() && tok.ExpiresAt.Location() != time.UTC {
				t.Fatalf("ExpiresAt %s not in UTC", tok.ExpiresAt)
			}
			return
		}
		if tok != (Token{}) {
			t.Fatalf("error %v with a non-empty token", err)
		}
		var apiErr *APIError
		if !errors.As(err, &apiErr) {
			t.Fatalf("error %T, want *APIError: %v", err, err)
		}
		if apiErr.HTTPStatus != status || apiErr.Kind < KindCredentials || apiErr.Kind > KindUnavailable {
			t.Fatalf("APIError %+v for HTTP %d", *apiErr, status)
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "FACEKI token request failed: HTTP ") {
			t.Fatalf("error %q", msg)
		}
		if utf8.RuneCountInString(apiErr.Message) > 201 {
			t.Fatalf("message not shortened: %d runes", utf8.RuneCountInString(apiErr.Message))
		}
		for _, s := range []string{msg, apiErr.Message, apiErr.Detail} {
			if found := leakcheck.FindSecret(s, testSecret); len(found) > 0 {
				t.Fatalf("error leaks the secret (%v): %s", found, s)
			}
		}
	})
}
