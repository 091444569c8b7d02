package faceki

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Token is a FACEKI bearer token. String and GoString never print it, so
// that a stray %v cannot leak it.
type Token struct {
	AccessToken string
	TokenType   string
	// ExpiresAt is when the token stops working, on this machine's clock
	// (see life); zero when the answer gave no way to tell.
	ExpiresAt time.Time
	// IssuedFor is the life FACEKI gave the token; zero when unknown, as for
	// a token read back from the token file. from is what set it.
	IssuedFor time.Duration
	from      string
}

func (t Token) String() string   { return "faceki.Token{…}" }
func (t Token) GoString() string { return t.String() }

// Remaining is the token's life left at now; ok is false when its expiry is unknown.
func (t Token) Remaining(now time.Time) (d time.Duration, ok bool) {
	if t.ExpiresAt.IsZero() {
		return 0, false
	}
	return t.ExpiresAt.Sub(now), true
}

// CheckValidity returns a *LifetimeError when t has less than minValidity of
// life left at now. A token whose expiry is unknown passes.
func (t Token) CheckValidity(now time.Time, minValidity time.Duration) error {
	if left, known := t.Remaining(now); known && left < minValidity {
		return &LifetimeError{Lifetime: left, MinValidity: minValidity, ExpiresAt: t.ExpiresAt, IssuedFor: t.IssuedFor, From: t.from}
	}
	return nil
}

// MaxTokenLife bounds any life an answer can claim. FACEKI's tokens live an
// hour.
const MaxTokenLife = 24 * time.Hour

// life is how long the token in ans lives from when its answering attempt
// was sent, given its JWT's exp and iat (zero when absent): the least of
// expires_in and exp − iat, each less the answer's Age (how long a cache in
// front of FACEKI kept it), and of exp less FACEKI's clock when it answered
// (Date + Age), when its Date is plausible. No header can lengthen a life,
// and this machine's clock is never held against exp. known is false when
// the answer gives none of them; from is what set the life, for an error.
func life(ans answer, expiresIn json.RawMessage, exp, iat time.Time) (d time.Duration, known bool, from string) {
	d, from = MaxTokenLife, "the longest life the provider believes a token has"
	shorten := func(l time.Duration, source string) {
		if known = true; l < d {
			d, from = l, source
		}
	}
	if secs, ok := lenientInt(expiresIn); ok {
		shorten(time.Duration(secs)*time.Second-ans.age, fmt.Sprintf("expires_in (%d s)", secs))
	}
	if !exp.IsZero() && !iat.IsZero() {
		shorten(exp.Sub(iat)-ans.age, "the JWT's exp − iat")
	}
	if !exp.IsZero() && plausibleDate(ans.date, iat) {
		shorten(exp.Sub(ans.date.Add(ans.age)), "the JWT's exp by FACEKI's Date header")
	}
	return d, known, from
}

// plausibleDate reports whether date may be FACEKI's clock when it issued a
// token at iat: after 2020 (a gateway without a clock says 1970), and within
// a minute of iat when there is one (a proxy may stamp its own).
func plausibleDate(date, iat time.Time) bool {
	return !date.Before(minPlausibleDate) && (iat.IsZero() || date.Sub(iat).Abs() <= time.Minute)
}

// minPlausibleDate is earlier than any answer of FACEKI's V2 API.
var minPlausibleDate = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// deadToken says why a token with no life left when it came is refused.
func deadToken(ans answer, life time.Duration, from string) string {
	s := fmt.Sprintf("the token in the answer had no life left when it came (%s gives it %s)", from, life.Round(time.Second))
	if ans.age > 0 {
		s += fmt.Sprintf(", and the answer has an Age header of %d s", int64(ans.age/time.Second))
	}
	return s + fmt.Sprintf(": a cache or proxy in front of FACEKI served a stored copy of an earlier answer. Make it pass %s "+
		"through uncached (Cache-Control: no-store), or set base_url to FACEKI's API itself", ans.url)
}

// tokenSecret is the part of a token the gate must know: a JWT's payload and
// signature (its header is the same for every token FACEKI issues), else
// the whole token.
func tokenSecret(token string) string {
	if parts := strings.Split(token, "."); len(parts) == 3 && parts[0] != "" && parts[1] != "" {
		return parts[1] + "." + parts[2]
	}
	return token
}

// jwtTimes reads the exp and iat claims of a JWT without verifying it: they
// only tell when FACEKI issued the token and when it stops accepting it. A
// claim absent or out of range is zero.
func jwtTimes(token string) (exp, iat time.Time) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return exp, iat
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return exp, iat
	}
	var claims struct {
		Exp, Iat json.Number
	}
	if json.Unmarshal(payload, &claims) != nil {
		return exp, iat
	}
	return claimTime(claims.Exp), claimTime(claims.Iat)
}

// claimTime reads a NumericDate claim: seconds since 1970.
func claimTime(n json.Number) time.Time {
	f, err := n.Float64()
	if err != nil || f <= 0 || f > 1e11 {
		return time.Time{}
	}
	return time.Unix(int64(f), 0)
}
