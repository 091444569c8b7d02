package faceki

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/faceki/terraform-provider-faceki/internal/emulator"
)

// A token's life can only shorten: it is the least of expires_in, the JWT's
// exp − iat (each less Age) and exp less FACEKI's clock (Date + Age, when the
// Date is plausible), from the time its request was sent. No header
// stretches it, this machine's clock is never held against exp, and a dead
// token is refused, never kept.

// lifetimeClient is a client with retries and a token file, so that a test
// sees both that a refused answer is not retried and that it is not kept.
func lifetimeClient(t *testing.T, baseURL string) *Client {
	t.Helper()
	dir := t.TempDir()
	return newTestClient(t, baseURL, func(c *Config) { c.MaxRetries, c.TokenCacheDir = 3, dir })
}

// wantNoTokenFile fails when c's token directory holds a token file.
func wantNoTokenFile(t *testing.T, c *Client) {
	t.Helper()
	if _, err := os.Lstat(c.files.path); !os.IsNotExist(err) {
		t.Errorf("a token file was written (Lstat: %v)", err)
	}
}

// wantLife checks that tok lives life from a request sent between before
// and after (Date, iat and exp have whole seconds), and that the token file
// holds the same expiry.
func wantLife(t *testing.T, c *Client, tok Token, before, after time.Time, life time.Duration) {
	t.Helper()
	expiresWithin(t, tok, before.Add(life-time.Second), after.Add(life+time.Second))
	inFile, ok := tokenInFile(t, c)
	if !ok || !inFile.ExpiresAt.Equal(tok.ExpiresAt) {
		t.Errorf("token file: %v, expiring at %s; want the token handed out, expiring at %s", ok, inFile.ExpiresAt, tok.ExpiresAt)
	}
}

// TestLifeFromTheEmulator: the life of tokens the emulator issues with its
// clock, Date, Age and the JWT's claims set apart.
func TestLifeFromTheEmulator(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		opts   emulator.Options
		life   time.Duration
		from   string        // what set the life, as a LifetimeError names it
		offset time.Duration // this machine's clock ahead of FACEKI's, when known
		known  bool          // the offset is known
	}{
		{"exp earlier than expires_in", emulator.Options{JWTLifetime: 4 * time.Minute}, 4 * time.Minute, "the JWT's exp − iat", 0, true},
		{"expires_in earlier than exp", emulator.Options{ExpiresIn: 5 * time.Minute, JWTLifetime: time.Hour}, 5 * time.Minute, "expires_in (300 s)", 0, true},
		{"expires_in only", emulator.Options{ExpiresIn: 10 * time.Minute, OmitJWTExp: true}, 10 * time.Minute, "expires_in (600 s)", 0, true},
		{"exp only", emulator.Options{OmitExpiresIn: true, ExpiresIn: 20 * time.Minute}, 20 * time.Minute, "the JWT's exp", 0, true},
		{"FACEKI 2h ahead", emulator.Options{Clock: 2 * time.Hour}, time.Hour, "", -2 * time.Hour, true},
		{"FACEKI 2h behind", emulator.Options{Clock: -2 * time.Hour}, time.Hour, "", 2 * time.Hour, true},
		{"FACEKI 2h behind, no Date", emulator.Options{Clock: -2 * time.Hour, OmitDate: true}, time.Hour, "", 0, false},
		// A copy a cache kept 10 minutes has 50 left.
		{"Age 600", emulator.Options{Clock: -10 * time.Minute, Age: 10 * time.Minute}, 50 * time.Minute, "", 0, true},
		// A proxy's Date a day off FACEKI's iat is not FACEKI's clock: the
		// token lives its hour, and no offset is claimed.
		{"Date a day ahead", emulator.Options{DateSkew: 24 * time.Hour}, time.Hour, "", 0, false},
		{"Date a day ahead, FACEKI 2h behind", emulator.Options{Clock: -2 * time.Hour, DateSkew: 24 * time.Hour}, time.Hour, "", 0, false},
		// A Date in 1970 (a gateway without a clock) once gave 57 years.
		{"Date in 1970, no expires_in", emulator.Options{OmitExpiresIn: true, DateSkew: time.Until(time.Unix(0, 0))}, time.Hour,
			"the JWT's exp", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			emu := startEmu(t, tc.opts)
			c := lifetimeClient(t, emu.URL)
			before := time.Now()
			tok, err := c.SharedToken(context.Background(), time.Minute)
			after := time.Now()
			if err != nil {
				t.Fatal(err)
			}
			wantLife(t, c, tok, before, after, tc.life)
			if exp, _ := emu.Issued(tok.AccessToken); tok.ExpiresAt.After(exp.Add(-tc.opts.Clock).Add(time.Second)) {
				t.Errorf("ExpiresAt %s is after the emulator stops accepting the token", tok.ExpiresAt)
			}
			off, known := c.ClockOffset()
			if known != tc.known || known && (off-tc.offset).Abs() > 2*time.Second {
				t.Errorf("ClockOffset = %s, %v; want %s, %v", off, known, tc.offset, tc.known)
			}
			var lifeErr *LifetimeError
			if err := tok.CheckValidity(time.Now(), tc.life+time.Minute); !errors.As(err, &lifeErr) {
				t.Fatalf("CheckValidity(life + 1m) = %v, want a *LifetimeError", err)
			}
			wantContains(t, lifeErr.Error(), "FACEKI's answer gave it ", tc.from)
			if err := tok.CheckValidity(time.Now(), tc.life-5*time.Second); err != nil {
				t.Errorf("CheckValidity(life - 5s) = %v", err)
			}
		})
	}
}

// TestDeadTokenRefused: an answer whose token has no life left (a stale
// copy from a cache, expires_in 0 or less) is an error that names a cache
// or proxy, after one request, and is never kept.
func TestDeadTokenRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opts emulator.Options
		want string
	}{
		{"Age 7200, an hour dead", emulator.Options{Clock: -2 * time.Hour, Age: 2 * time.Hour},
			"gives it -1h0m"},
		{"expires_in 0", emulator.Options{OmitJWTExp: true, ExpiresIn: -1}, "(expires_in (0 s) gives it 0s)"},
		{"expires_in -60", emulator.Options{OmitJWTExp: true, ExpiresIn: -time.Minute}, "(expires_in (-60 s) gives it -1m0s)"},
		// A life can only shorten: a JWT's exp does not make up for it.
		{"expires_in 0 beside a JWT exp in an hour", emulator.Options{ExpiresIn: -1, JWTLifetime: time.Hour}, "(expires_in (0 s) gives it 0s)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			emu := startEmu(t, tc.opts)
			c := lifetimeClient(t, emu.URL)
			for _, minValidity := range []time.Duration{time.Minute, 0} {
				before := emu.TokenRequests()
				_, err := c.SharedToken(context.Background(), minValidity)
				_ = wantAPIError(t, err, KindExpiredToken)
				if tc.opts.Age > 0 {
					wantContains(t, err.Error(), "), and the answer has an Age header of 7200 s: ")
				}
				wantContains(t, err.Error(), tc.want, "a cache or proxy in front of FACEKI served a stored copy of an earlier "+
					"answer. Make it pass "+emu.URL+accessTokenPath+" through uncached (Cache-Control: no-store), or set "+
					"base_url to FACEKI's API itself")
				if got := emu.TokenRequests() - before; got != 1 {
					t.Errorf("min_validity %s: %d token requests, want 1 (no retry)", minValidity, got)
				}
				assertNoSecret(t, err.Error(), append(emu.IssuedTokens(), testSecret)...)
			}
			wantNoTokenFile(t, c)
		})
	}
}

// TestLifeFromAnswers: answers the emulator does not give: no Date, a Date
// in 1970, lives past any cap.
func TestLifeFromAnswers(t *testing.T) {
	t.Parallel()
	body := func(claims map[string]any, expiresIn any) string {
		data := map[string]any{"access_token": makeJWT(claims), "token_type": "Bearer"}
		if expiresIn != nil {
			data["expires_in"] = expiresIn
		}
		b, _ := json.Marshal(map[string]any{"responseCode": 0, "data": data})
		return string(b)
	}
	const epoch = "Thu, 01 Jan 1970 00:00:00 GMT"
	for _, tc := range []struct {
		name  string
		date  string
		body  func(now time.Time) string
		life  time.Duration // 0: unknown
		from  string
		known bool
	}{
		// exp alone, with no Date to read it by: this machine's clock is not
		// held against it, so the expiry is unknown.
		{"exp in an hour, no iat, Date in 1970", epoch,
			func(now time.Time) string { return body(map[string]any{"exp": now.Add(time.Hour).Unix()}, nil) }, 0, "", false},
		{"exp in an hour, no iat, no Date", "",
			func(now time.Time) string { return body(map[string]any{"exp": now.Add(time.Hour).Unix()}, nil) }, 0, "", false},
		{"exp in 57 years, no iat", "now",
			func(now time.Time) string { return body(map[string]any{"exp": now.AddDate(57, 0, 0).Unix()}, nil) }, MaxTokenLife,
			"the longest life the provider believes a token has", true},
		{"expires_in of ten days", "now",
			func(time.Time) string {
				return `{"responseCode":0,"data":{"access_token":"tok-10d","expires_in":864000}}`
			},
			MaxTokenLife, "the longest life the provider believes a token has", true},
		{"exp − iat an hour, exp 3 hours ahead by this machine's clock, no Date", "",
			func(now time.Time) string {
				return body(map[string]any{"exp": now.Add(3 * time.Hour).Unix(), "iat": now.Add(2 * time.Hour).Unix()}, nil)
			}, time.Hour, "the JWT's exp − iat", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				now := time.Now()
				switch w.Header()["Date"] = nil; tc.date {
				case "now":
					w.Header().Set("Date", now.UTC().Format(http.TimeFormat))
				case "":
				default:
					w.Header().Set("Date", tc.date)
				}
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(tc.body(now)))
			}))
			t.Cleanup(srv.Close)
			c := lifetimeClient(t, srv.URL)
			before := time.Now()
			tok, err := c.SharedToken(context.Background(), 5*time.Minute)
			after := time.Now()
			if err != nil {
				t.Fatal(err)
			}
			if !tc.known {
				if _, ok := tok.Remaining(time.Now()); ok {
					t.Errorf("the expiry is known: %s", tok.ExpiresAt)
				}
				wantNoTokenFile(t, c)
				return
			}
			wantLife(t, c, tok, before, after, tc.life)
			wantContains(t, tok.CheckValidity(time.Now(), tc.life+time.Hour).Error(), tc.from)
		})
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
		if !strings.Contains(out, "faceki.Token{…}") {
			t.Errorf("%s = %q", name, out)
		}
	}
}
