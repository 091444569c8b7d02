package faceki

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// richSecret has a character of every class that encodes differently in a
// query, a path and JSON (with and without HTML escaping).
const richSecret = `a"b\c<d>&e+f/g=h%2fi j`

func TestFormsListsEveryEncoding(t *testing.T) {
	t.Parallel()
	got := Forms(richSecret)
	want := []string{
		richSecret, // raw
		`a%22b%5Cc%3Cd%3E%26e%2Bf%2Fg%3Dh%252fi+j`,   // url.QueryEscape
		`a%22b%5Cc%3Cd%3E&e+f%2Fg=h%252fi%20j`,       // url.PathEscape
		`a%22b%5Cc%3Cd%3E%26e%2Bf%2Fg%3Dh%252fi%20j`, // encodeURIComponent (query escape, %20 for spaces)
		`a\"b\\c\u003cd\u003e\u0026e+f/g=h%2fi j`,    // json.Marshal (HTML-escaping)
		`a\"b\\c<d>&e+f/g=h%2fi j`,                   // JSON without HTML escaping
		`a&#34;b\c&lt;d&gt;&amp;e+f/g=h%2fi j`,       // html.EscapeString, as an error page quotes it
		`a%22b%5cc%3cd%3e%26e%2bf%2fg%3dh%252fi+j`,   // query, lower-case escapes
		`a%22b%5cc%3cd%3e&e+f%2fg=h%252fi%20j`,       // path, lower-case escapes
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("Forms(%q) lacks %q; got %q", richSecret, w, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("Forms(%q) has %d forms, want %d (duplicates or extras): %q", richSecret, len(got), len(want), got)
	}
	// The same list must match what the encoders produce, not only the
	// literals above.
	if q := url.QueryEscape(richSecret); !slices.Contains(got, q) {
		t.Errorf("Forms lacks url.QueryEscape form %q", q)
	}
	if p := url.PathEscape(richSecret); !slices.Contains(got, p) {
		t.Errorf("Forms lacks url.PathEscape form %q", p)
	}
	j, _ := json.Marshal(richSecret)
	if js := string(j[1 : len(j)-1]); !slices.Contains(got, js) {
		t.Errorf("Forms lacks json.Marshal form %q", js)
	}
}

func TestFormsDeduplicatesAndHandlesEmpty(t *testing.T) {
	t.Parallel()
	if f := Forms(""); f != nil {
		t.Errorf("Forms(\"\") = %q, want nil", f)
	}
	// A plain alphanumeric secret has one form only.
	if f := Forms("abcDEF123"); len(f) != 1 || f[0] != "abcDEF123" {
		t.Errorf("Forms(plain) = %q, want [abcDEF123]", f)
	}
	seen := map[string]bool{}
	for _, f := range Forms(testSecret) {
		if seen[f] {
			t.Errorf("Forms(%q) repeats %q", testSecret, f)
		}
		seen[f] = true
		if f == "" {
			t.Error("Forms returned an empty form")
		}
	}
}

func TestRedactorReplacesEveryForm(t *testing.T) {
	t.Parallel()
	for _, secret := range []string{richSecret, testSecret} {
		rd := newRedactor(secret)
		for _, form := range Forms(secret) {
			in := "before " + form + " middle " + form + " after"
			out := rd.redact(in)
			if want := "before " + Redacted + " middle " + Redacted + " after"; out != want {
				t.Errorf("secret %q, form %q: redact(%q) = %q, want %q", secret, form, in, out, want)
			}
		}
		// All forms in one text, as a URL and a JSON body echoing each other.
		all := strings.Join(Forms(secret), " | ")
		out := rd.redact(all)
		assertNoSecret(t, out, secret)
		if n := strings.Count(out, Redacted); n != len(Forms(secret)) {
			t.Errorf("redact replaced %d forms, want %d: %q", n, len(Forms(secret)), out)
		}
	}
}

func TestRedactorRealWorldShapes(t *testing.T) {
	t.Parallel()
	rd := newRedactor(testSecret)
	u := url.URL{Scheme: "https", Host: "sdk.faceki.com", Path: "/auth/api/access-token",
		RawQuery: url.Values{"clientId": {"id"}, "clientSecret": {testSecret}}.Encode()}
	body, _ := json.Marshal(map[string]string{"clientSecret": testSecret, "url": u.String()})
	cases := map[string]string{
		"url":          u.String(),
		"url error":    (&url.Error{Op: "Get", URL: u.String(), Err: fmt.Errorf("connection refused")}).Error(),
		"json body":    string(body),
		"quoted":       fmt.Sprintf("%q", testSecret),
		"lower escape": "GET /auth/api/access-token?clientSecret=Tf9%2bk%2fQz%3d8%26Lm%252F+w4+Rx",
		"lower path":   "/x/Tf9+k%2fQz=8&Lm%252F%20w4%20Rx/y",
	}
	for name, in := range cases {
		if !containsAnyForm(in, testSecret) {
			t.Fatalf("%s: test input %q holds no form of the secret", name, in)
		}
		out := rd.redact(in)
		assertNoSecret(t, out, testSecret)
		if !strings.Contains(out, Redacted) {
			t.Errorf("%s: redact(%q) = %q has no %s", name, in, out, Redacted)
		}
	}
}

func TestRedactorLongestFormFirst(t *testing.T) {
	t.Parallel()
	// Two secrets, one a prefix of the other: the longer must be replaced
	// whole, not leave its tail behind.
	rd := newRedactor("abcd1234", "abcd1234efgh5678")
	if got := rd.redact("x abcd1234efgh5678 y abcd1234 z"); got != "x "+Redacted+" y "+Redacted+" z" {
		t.Errorf("redact = %q", got)
	}
	// A secret whose query form contains another form (the raw one, %25…).
	rd = newRedactor("%41")
	if got := rd.redact("q=%2541 p=%41"); got != "q="+Redacted+" p="+Redacted {
		t.Errorf("redact = %q", got)
	}
}

func TestRedactorAddAndEmpty(t *testing.T) {
	t.Parallel()
	rd := newRedactor("")
	if got := rd.redact("nothing to hide"); got != "nothing to hide" {
		t.Errorf("empty redactor changed text: %q", got)
	}
	rd.add("", "tok.en.one")
	if got := rd.redact("Bearer tok.en.one"); got != "Bearer "+Redacted {
		t.Errorf("redact after add = %q", got)
	}
	rd.add("tok.en.one") // idempotent
	rd.add("second-token")
	if got := rd.redact("tok.en.one second-token"); got != Redacted+" "+Redacted {
		t.Errorf("redact with two tokens = %q", got)
	}
}

func TestRedactorConcurrent(t *testing.T) {
	t.Parallel()
	rd := newRedactor(testSecret)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 200 {
			rd.add(fmt.Sprintf("token-%04d-xyz", i))
		}
	}()
	for i := range 200 {
		out := rd.redact("s=" + testSecret + fmt.Sprintf(" t=token-%04d-xyz", i))
		if strings.Contains(out, testSecret) {
			t.Fatalf("secret survived: %q", out)
		}
	}
	<-done
	if got := rd.redact("token-0199-xyz"); got != Redacted {
		t.Errorf("last added token not redacted: %q", got)
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
		if !strings.Contains(out, Redacted) {
			t.Errorf("%s = %q lacks %s", name, out, Redacted)
		}
	}
	if got := tok.String(); got != "faceki.Token{"+Redacted+"}" {
		t.Errorf("String() = %q", got)
	}
}

func containsAnyForm(s, secret string) bool {
	for _, f := range Forms(secret) {
		if strings.Contains(s, f) {
			return true
		}
	}
	return false
}
