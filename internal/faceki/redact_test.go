package faceki

// The client's side of redaction: which part of a token it registers, that
// one redactor serves every client, that URLs lose their query and that a
// Token never prints itself. The redactor itself is tested in internal/redact.

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/faceki/terraform-provider-faceki/internal/redact"
)

// TestRedactTokens: 16 characters of a token's payload or signature are a
// leak; the header, the same for every token, is not secret.
func TestRedactTokens(t *testing.T) {
	t.Parallel()
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`))
	tok := header + ".eyJzdWIiOiJhY21lIiwiZXhwIjoxNzAwMDAwMDAwLCJqdGkiOiJ4eXoifQ.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU"
	rd := redact.New()
	rd.AddToken(tokenSecret(tok))
	if got := rd.Redact("Authorization: Bearer " + tok); got != "Authorization: Bearer "+header+"."+redact.Redacted {
		t.Errorf("bearer header: %q", got)
	}
	sig := strings.Split(tok, ".")[2]
	if got := rd.Redact("sig " + sig[:16] + "!"); got != "sig "+redact.Redacted+"!" {
		t.Errorf("16 characters of the signature: %q", got)
	}
	if got := rd.Redact("sig " + sig[:15] + "!"); got != "sig "+sig[:15]+"!" {
		t.Errorf("15 characters of the signature were redacted: %q", got)
	}
	if got := rd.Redact("header " + header); got != "header "+header {
		t.Errorf("the header alone was redacted: %q", got)
	}
	// An opaque token (not a JWT) is matched whole.
	rd.AddToken(tokenSecret("opaque-token-0123456789abcdef"))
	if got := rd.Redact(url.QueryEscape("t=opaque-token-0123456789")); got != "t%3D"+redact.Redacted {
		t.Errorf("opaque token: %q", got)
	}
}

// TestRedactorShared: one redactor serves every client of a process, so a
// client redacts a token that another one fetched.
func TestRedactorShared(t *testing.T) {
	t.Parallel()
	rd := redact.New()
	if got := rd.Redact("nothing known yet " + testSecret); got != "nothing known yet "+testSecret {
		t.Errorf("an empty redactor changed text: %q", got)
	}
	a := newTestClient(t, "http://127.0.0.1:1", func(c *Config) { c.Redactor = rd })
	b := newTestClient(t, "http://127.0.0.1:1", func(c *Config) { c.Redactor = rd; c.ClientSecret = "another-secret-0123" })
	tok := makeJWT(map[string]any{"sub": "b", "jti": "0123456789abcdefghijklmnop"})
	rd.AddToken(tokenSecret(tok)) // as b does when it fetches one
	for _, c := range []*Client{a, b} {
		out := c.Redact("a: " + testSecret + " b: another-secret-0123 tok: " + tok)
		assertNoSecret(t, out, testSecret, "another-secret-0123", tok)
	}
}

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

func TestTokenNeverPrintsItself(t *testing.T) {
	t.Parallel()
	const secretToken = "eyJhbGciOiJSUzI1NiJ9.eyJleHAiOjF9.c2lnbmF0dXJl"
	tok := Token{AccessToken: secretToken, TokenType: "Bearer"}
	outputs := map[string]string{
		"String":   tok.String(),
		"GoString": tok.GoString(),
		"%v":       fmt.Sprintf("%v", tok),
		"%+v":      fmt.Sprintf("%+v", tok),
		"%#v":      fmt.Sprintf("%#v", tok),
		"%s":       fmt.Sprintf("%s", tok), //nolint:staticcheck // the %s verb itself is under test
		"%q":       fmt.Sprintf("%q", tok),
		"ptr %v":   fmt.Sprintf("%v", &tok),
		"ptr %+v":  fmt.Sprintf("%+v", &tok),
		"ptr %#v":  fmt.Sprintf("%#v", &tok),
		"slice":    fmt.Sprintf("%v %+v %#v", []Token{tok}, []Token{tok}, []Token{tok}),
		"struct":   fmt.Sprintf("%v %+v %#v", struct{ T Token }{tok}, struct{ T Token }{tok}, struct{ T Token }{tok}),
		"map":      fmt.Sprintf("%v", map[string]Token{"k": tok}),
		"Sprint":   fmt.Sprint(tok),
		"Sprintln": fmt.Sprintln(tok),
	}
	for name, out := range outputs {
		for _, part := range strings.Split(secretToken, ".") {
			if strings.Contains(out, part) {
				t.Errorf("%s printed the token (part %q): %s", name, part, out)
			}
		}
		if !strings.Contains(out, redact.Redacted) {
			t.Errorf("%s = %q lacks %s", name, out, redact.Redacted)
		}
	}
	if got := tok.String(); got != "faceki.Token{"+redact.Redacted+"}" {
		t.Errorf("String() = %q", got)
	}
}
