package faceki

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/faceki/terraform-provider-faceki/internal/emulator"
)

// The rows of issue 20's table that are about a token's life: every clock
// an answer gives (expires_in, the JWT's exp and iat, Date, Age) is read,
// no header stretches a life beyond what FACEKI gave, and a dead token is
// refused, never kept.

// lifetimeClient is a client with retries and a token file, so that a test
// sees both that a refused answer is not retried and that it is not kept.
func lifetimeClient(t *testing.T, baseURL string, log Logger) *Client {
	t.Helper()
	dir := t.TempDir()
	return newTestClient(t, baseURL, func(c *Config) {
		c.MaxRetries, c.TokenCacheDir, c.Logger = 3, dir, log
	})
}

// lifetimeErrorText is the text of the LifetimeError tok gives a caller
// asking for minValidity; it fails the test when there is none.
func lifetimeErrorText(t *testing.T, tok Token, minValidity time.Duration) string {
	t.Helper()
	var lifeErr *LifetimeError
	if err := tok.CheckValidity(time.Now(), minValidity); !errors.As(err, &lifeErr) {
		t.Fatalf("CheckValidity(%s) = %v, want a LifetimeError (the token expires at %s)", minValidity, err, tok.ExpiresAt)
	}
	return lifeErr.Error()
}

// wantNoTokenFile fails when c's token directory holds a token file.
func wantNoTokenFile(t *testing.T, c *Client) {
	t.Helper()
	if tok, ok := tokenInFile(t, c); ok {
		t.Errorf("the token file holds a token expiring at %s", tok.ExpiresAt)
	}
	if _, err := os.Lstat(c.files.Path()); !os.IsNotExist(err) {
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

// A cache in front of the GET token endpoint serves a copy of the answer
// FACEKI gave 2 h ago: Date, iat and exp are 2 h old and Age says 7200 s.
// By FACEKI's clock (Date + Age) the token died an hour ago: refused with
// an error naming the cache, in one request, and never written to the file.
// A copy 10 minutes old is taken, with the 50 minutes it has left.
func TestLifetimeStaleCachedAnswer(t *testing.T) {
	t.Parallel()
	t.Run("Age 7200, dead an hour", func(t *testing.T) {
		t.Parallel()
		emu := startEmu(t, emulator.Options{Clock: -2 * time.Hour, Age: 2 * time.Hour})
		c := lifetimeClient(t, emu.URL, nil)
		_, err := c.SharedToken(context.Background(), time.Minute)
		_ = wantAPIError(t, err, KindExpiredToken)
		// exp has whole seconds: it ended an hour and up to a second before.
		wantContains(t, err.Error(), "the token in the answer had expired 1h0m",
			"s before it came: the answer has an Age header of 7200 s, so a cache or proxy in front of FACEKI (a CDN?) "+
				"served a stored copy of an earlier answer. Make it pass "+emu.URL+accessTokenPath+" through uncached "+
				"(Cache-Control: no-store), or set base_url to FACEKI's API itself")
		if got := emu.TokenRequests(); got != 1 {
			t.Errorf("emulator saw %d token requests, want 1: a dead token is not retried", got)
		}
		issued := emu.IssuedTokens()
		if len(issued) != 1 {
			t.Fatalf("emulator issued %d tokens", len(issued))
		}
		assertNoSecret(t, err.Error(), testSecret, issued[0])
		wantNoTokenFile(t, c)
		// By Date + Age, FACEKI's clock is this machine's: no offset.
		if off, ok := c.ClockOffset(); !ok || off.Abs() > 2*time.Second {
			t.Errorf("ClockOffset = %s, %v; want about 0 (Date + Age)", off, ok)
		}
		// Nothing was kept: the next open asks again.
		if _, err := c.SharedToken(context.Background(), time.Minute); !IsKind(err, KindExpiredToken) || emu.TokenRequests() != 2 {
			t.Errorf("second open: %v after %d requests, want the same refusal after 2", err, emu.TokenRequests())
		}
	})
	t.Run("Age 600, 50 minutes left", func(t *testing.T) {
		t.Parallel()
		emu := startEmu(t, emulator.Options{Clock: -10 * time.Minute, Age: 10 * time.Minute})
		c := lifetimeClient(t, emu.URL, nil)
		before := time.Now()
		tok, err := c.SharedToken(context.Background(), time.Minute)
		after := time.Now()
		if err != nil {
			t.Fatal(err)
		}
		wantLife(t, c, tok, before, after, 50*time.Minute)
		wantContains(t, lifetimeErrorText(t, tok, 55*time.Minute),
			"counted from when FACEKI answered, 10m0s before the answer came (its Age header: a cache in front of FACEKI had kept it)")
	})
}

// A Date in 1970 (a gateway with no clock) beside a JWT exp and no
// expires_in once gave a life of 56 years, written to the token file. A Date
// before the JWT's iat, or before any FACEKI answer, is not FACEKI's clock:
// exp is read by this machine's, and no life is longer than exp − iat or a
// day.
func TestLifetimeImplausibleDate(t *testing.T) {
	t.Parallel()
	t.Run("emulator, Date in 1970 before iat", func(t *testing.T) {
		t.Parallel()
		emu := startEmu(t, emulator.Options{OmitExpiresIn: true, DateSkew: time.Until(time.Unix(0, 0))})
		c := lifetimeClient(t, emu.URL, nil)
		before := time.Now()
		tok, err := c.SharedToken(context.Background(), 5*time.Minute)
		after := time.Now()
		if err != nil {
			t.Fatal(err)
		}
		wantLife(t, c, tok, before, after, time.Hour)
		if exp, _ := emu.Issued(tok.AccessToken); tok.ExpiresAt.After(exp.Add(time.Second)) {
			t.Errorf("ExpiresAt %s is after the emulator stops accepting the token (%s)", tok.ExpiresAt, exp)
		}
		if tok.ClockOffset != 0 {
			t.Errorf("Token.ClockOffset = %s, want 0: a Date not believed says nothing of this machine's clock", tok.ClockOffset)
		}
		if off, ok := c.ClockOffset(); ok {
			t.Errorf("Client.ClockOffset = %s, known; want unknown", off)
		}
		wantContains(t, lifetimeErrorText(t, tok, 2*time.Hour),
			"(counted by this machine's clock: FACEKI's Date header (1970-01-01T00:00:",
			"is before the token was issued (the JWT's iat, ", "so it was not believed)")
	})

	jwtBody := func(claims map[string]any, expiresIn any) string {
		data := map[string]any{"access_token": makeJWT(claims), "token_type": "Bearer"}
		if expiresIn != nil {
			data["expires_in"] = expiresIn
		}
		b, _ := json.Marshal(map[string]any{"responseCode": 0, "data": data})
		return string(b)
	}
	const epoch = "Thu, 01 Jan 1970 00:00:00 GMT"
	for _, tc := range []struct {
		name string
		date func(now time.Time) string
		body func(now time.Time) string
		life time.Duration
		note string
	}{
		{"Date in 1970, exp in an hour, no iat", func(time.Time) string { return epoch },
			func(now time.Time) string { return jwtBody(map[string]any{"exp": now.Add(time.Hour).Unix()}, nil) }, time.Hour,
			"counted by this machine's clock: FACEKI's Date header (1970-01-01T00:00:00Z) is before 2020, earlier than any FACEKI answer, so it was not believed"},
		{"Date in 1970, exp in 57 years, no iat", func(time.Time) string { return epoch },
			func(now time.Time) string { return jwtBody(map[string]any{"exp": now.AddDate(57, 0, 0).Unix()}, nil) }, MaxTokenLife,
			"capped at 24h0m0s, the longest life the provider believes a token has"},
		{"expires_in of ten days", func(now time.Time) string { return now.UTC().Format(http.TimeFormat) },
			func(time.Time) string {
				return `{"responseCode":0,"data":{"access_token":"tok-10d","expires_in":864000}}`
			}, MaxTokenLife,
			"capped at 24h0m0s, the longest life the provider believes a token has"},
		{"exp − iat of an hour, exp in 3 hours by this machine's clock, no Date", func(time.Time) string { return "" },
			func(now time.Time) string {
				return jwtBody(map[string]any{"exp": now.Add(3 * time.Hour).Unix(), "iat": now.Add(2 * time.Hour).Unix()}, nil)
			}, time.Hour,
			"cut to the life FACEKI gave it, the JWT's exp − iat (1h0m0s)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				now := time.Now()
				w.Header()["Date"] = nil
				if date := tc.date(now); date != "" {
					w.Header().Set("Date", date)
				}
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(tc.body(now)))
			}))
			t.Cleanup(srv.Close)
			c := lifetimeClient(t, srv.URL, nil)
			before := time.Now()
			tok, err := c.SharedToken(context.Background(), 5*time.Minute)
			after := time.Now()
			if err != nil {
				t.Fatal(err)
			}
			wantLife(t, c, tok, before, after, tc.life)
			wantContains(t, lifetimeErrorText(t, tok, tc.life+time.Hour), tc.note)
		})
	}
}

// When the clocks disagree, the two that agree count. A proxy's Date a day
// ahead, with expires_in 3600 and an exp an hour after this machine's clock:
// expires_in and exp by this machine's clock agree, so the good token lives
// its hour, and the warning and any LifetimeError say which clock counted.
// (It was refused with "the offset does not shorten it", when the offset
// was exactly what shortened it.) When no two agree, the shortest counts.
func TestLifetimeClocksDisagree(t *testing.T) {
	t.Parallel()
	t.Run("Date a day ahead", func(t *testing.T) {
		t.Parallel()
		emu := startEmu(t, emulator.Options{DateSkew: 24 * time.Hour})
		log := &recLogger{}
		c := lifetimeClient(t, emu.URL, log)
		before := time.Now()
		tok, err := c.SharedToken(context.Background(), 5*time.Minute)
		after := time.Now()
		if err != nil {
			t.Fatal(err)
		}
		wantLife(t, c, tok, before, after, time.Hour)
		if tok.ClockOffset != 0 {
			t.Errorf("Token.ClockOffset = %s, want 0: the Date was not believed", tok.ClockOffset)
		}
		if off, ok := c.ClockOffset(); ok {
			t.Errorf("Client.ClockOffset = %s, known; want unknown: the Date was not believed", off)
		}
		const believed = "counted by this machine's clock: expires_in (3600 s) and the JWT's exp by this machine's clock " +
			"agree, but FACEKI's Date header ("
		const why = ") puts FACEKI's clock 24h0m ahead of this machine's, so it was not believed (a proxy or cache in front of FACEKI that stamps its own Date?)"
		wantContains(t, log.String(), "WARN FACEKI token expiry sources disagree; "+believed, why)
		msg := lifetimeErrorText(t, tok, 2*time.Hour)
		wantContains(t, msg, believed, why)
		if strings.Contains(msg, "does not shorten") {
			t.Errorf("the error says the offset did not shorten the life: %s", msg)
		}
		assertNoSecret(t, log.String()+msg, testSecret, tok.AccessToken)
	})
	t.Run("no two agree", func(t *testing.T) {
		t.Parallel()
		// FACEKI 2 h behind this machine, and its Date a day ahead of
		// FACEKI: expires_in says an hour, exp by the Date -23 h, exp by
		// this machine's clock -1 h.
		emu := startEmu(t, emulator.Options{Clock: -2 * time.Hour, DateSkew: 24 * time.Hour})
		c := lifetimeClient(t, emu.URL, nil)
		_, err := c.SharedToken(context.Background(), time.Minute)
		_ = wantAPIError(t, err, KindExpiredToken)
		wantContains(t, err.Error(), "the token in the answer had expired 23h0m", "A cache or proxy in front of FACEKI serving a stale answer is the likely cause",
			"the shortest counted, since no two clocks agree: the JWT's exp by FACEKI's Date header gives -23h0m",
			"by this machine's clock -1h0m", "expires_in 1h0m0s")
		if got := emu.TokenRequests(); got != 1 {
			t.Errorf("emulator saw %d token requests, want 1", got)
		}
		wantNoTokenFile(t, c)
	})
}

// expires_in 0 or negative and no JWT exp: a dead token, not one of unknown
// expiry (which passed any min_validity and made every open fetch again). A
// clear error, one request, nothing kept.
func TestLifetimeExpiresInNotPositive(t *testing.T) {
	t.Parallel()
	for _, secs := range []int{0, -60} {
		t.Run(time.Duration(secs*int(time.Second)).String(), func(t *testing.T) {
			t.Parallel()
			emu := startEmu(t, emulator.Options{OmitJWTExp: true})
			emu.SetExpiresIn(time.Duration(secs) * time.Second)
			c := lifetimeClient(t, emu.URL, nil)
			for _, minValidity := range []time.Duration{time.Minute, 0} {
				before := emu.TokenRequests()
				_, err := c.SharedToken(context.Background(), minValidity)
				_ = wantAPIError(t, err, KindExpiredToken)
				wantContains(t, err.Error(), "the answer says expires_in "+jsonInt(secs)+" s: its token was dead when it came. "+
					"A cache or proxy in front of FACEKI serving a stale answer is the likely cause: check that base_url is "+
					"FACEKI's API itself, and if it is, contact FACEKI support", tokenURL(emu.URL))
				if got := emu.TokenRequests() - before; got != 1 {
					t.Errorf("min_validity %s: %d token requests, want 1 (no retry loop)", minValidity, got)
				}
			}
			wantNoTokenFile(t, c)
		})
	}
}

func jsonInt(n int) string { b, _ := json.Marshal(n); return string(b) }
