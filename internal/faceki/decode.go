package faceki

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/faceki/terraform-provider-faceki/internal/redact"
)

// Token is a FACEKI bearer token. String and GoString never print the token,
// so that a stray %v cannot leak it.
type Token struct {
	AccessToken string
	TokenType   string
	// ExpiresAt is when the token stops working, on this machine's clock:
	// the time the request was sent plus the life every clock of the answer
	// gives it (see judgeLife), never more than MaxTokenLife. Zero when
	// neither expires_in nor the JWT's exp is known.
	ExpiresAt time.Time
	// ClockOffset is how far this machine's clock was ahead of FACEKI's
	// (behind when negative) when the token was issued, from the answer's
	// Date and Age headers; zero when unknown or not believed.
	ClockOffset time.Duration
	// expiryNote says why ExpiresAt is earlier than a source said, and which
	// clock counted when they disagree, for a LifetimeError.
	expiryNote string
	// issuedFor is the life FACEKI gave the token (ExpiresAt minus the time
	// its request was sent); zero when unknown, as for a token from the file.
	issuedFor time.Duration
}

// ClockOffsetWarning is how far the clocks may differ before the provider
// says so: the Date header has whole seconds, and a round trip adds some.
const ClockOffsetWarning = time.Minute

func (t Token) String() string   { return "faceki.Token{" + redact.Redacted + "}" }
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
		return &LifetimeError{Lifetime: left, MinValidity: minValidity, ExpiresAt: t.ExpiresAt, Note: t.expiryNote,
			ClockOffset: t.ClockOffset, IssuedFor: t.issuedFor}
	}
	return nil
}

// envelope is FACEKI's response shape, success ({responseCode, data}) and
// failure ({status, message, statusCode, data}) alike. Fields are decoded
// leniently: a gateway or a newer API version may change their types.
type envelope struct {
	Status       json.RawMessage `json:"status"`
	ResponseCode json.RawMessage `json:"responseCode"`
	Message      json.RawMessage `json:"message"`
	StatusCode   json.RawMessage `json:"statusCode"`
	Data         json.RawMessage `json:"data"`
}

type tokenData struct {
	AccessToken json.RawMessage `json:"access_token"`
	ExpiresIn   json.RawMessage `json:"expires_in"`
	TokenType   json.RawMessage `json:"token_type"`
}

// MaxTokenLife is the longest life the provider believes an answer gives a
// token. FACEKI's live an hour; a day bounds what a wrong header can claim
// (a Date in 1970 once made 57 years, kept in the token file).
const MaxTokenLife = 24 * time.Hour

// clockAgreement is how far two clocks may differ and still agree: Date,
// iat and exp have whole seconds, and a round trip adds some.
const clockAgreement = time.Minute

// decodeToken turns a token endpoint answer into a Token or a redacted error.
func (c *Client) decodeToken(ctx context.Context, ans answer) (Token, error) {
	const op = opToken
	env, apiErr := c.decodeEnvelope(op, ans.status, ans.body)
	if apiErr != nil {
		return Token{}, apiErr
	}
	var d tokenData
	if len(env.Data) == 0 || json.Unmarshal(env.Data, &d) != nil {
		return Token{}, c.apiError(op, KindBadResponse, ans.status, env, "response has no data object with the token")
	}
	tok := Token{AccessToken: lenientString(d.AccessToken), TokenType: lenientString(d.TokenType)}
	if tok.AccessToken == "" {
		return Token{}, c.apiError(op, KindBadResponse, ans.status, env, "response has responseCode 0 but no data.access_token")
	}
	// Before the redactor learns it: a token of a megabyte would cost every
	// later redaction. Its own text is never quoted, nor the message beside it.
	for _, f := range []struct {
		name string
		size int
		max  int
	}{{"data.access_token", len(tok.AccessToken), MaxAccessTokenBytes}, {"data.token_type", len(tok.TokenType), MaxTokenTypeBytes}} {
		if f.size > f.max {
			env.Message = nil
			return Token{}, c.apiError(op, KindBadResponse, ans.status, env, fmt.Sprintf("%s is %d bytes, more than the %d a FACEKI "+
				"answer has; check base_url points at FACEKI's API", f.name, f.size, f.max))
		}
	}
	// Known from here on, so that no later line can quote it.
	c.rd.AddToken(tokenSecret(tok.AccessToken))
	if tok.TokenType == "" {
		tok.TokenType = "Bearer"
	}
	if expired := c.setExpiry(ctx, &tok, d.ExpiresIn, ans); expired != "" {
		return Token{}, c.apiError(op, KindExpiredToken, ans.status, env, expired)
	}
	return tok, nil
}

// setExpiry sets the token's lifetime, counted from the time the request was
// sent (counting from the answer would overstate it by the round trip), by
// judgeLife. It returns why the token was dead when it came, or "".
func (c *Client) setExpiry(ctx context.Context, tok *Token, expiresIn json.RawMessage, ans answer) (expired string) {
	j := judgeLife(ans, expiresIn, tok.AccessToken)
	if j.dateBelieved {
		tok.ClockOffset = ans.offset
		c.noteClock(ans)
	}
	if !j.known {
		return ""
	}
	if j.life <= 0 {
		return j.expired(ans)
	}
	tok.ExpiresAt = ans.sent.Add(j.life).UTC()
	tok.issuedFor = j.life
	notes := j.notes
	if j.age > 0 {
		notes = append(notes, fmt.Sprintf("counted from when FACEKI answered, %s before the answer came (its Age header: "+
			"a cache in front of FACEKI had kept it)", j.age))
	}
	tok.expiryNote = strings.Join(notes, "; ")
	if j.believed != "" && c.log != nil {
		fields := map[string]any{"expires_at": tok.ExpiresAt.Format(time.RFC3339)}
		if j.hasIn {
			fields["expires_in_seconds"] = j.secs
			fields["expires_in_ends_at"] = ans.sent.Add(time.Duration(j.secs)*time.Second - j.age).UTC().Format(time.RFC3339)
		}
		if !j.exp.IsZero() {
			fields["jwt_exp"] = j.exp.UTC().Format(time.RFC3339)
		}
		if !ans.date.IsZero() {
			fields["date"] = ans.date.UTC().Format(time.RFC3339)
		}
		c.log.Warn(ctx, "FACEKI token expiry sources disagree; "+j.believed, fields)
	}
	return ""
}

// lifeJudgement is what an answer's clocks say of its token's life.
type lifeJudgement struct {
	life  time.Duration // from the time the request was sent; valid when known
	known bool          // false: neither expires_in nor exp
	// dateBelieved: FACEKI's Date (plus Age) is plausible and no other clock
	// contradicts it, so its offset is this machine's.
	dateBelieved bool
	// believed says which clock counted when they disagree by more than
	// clockAgreement; "" when they agree.
	believed string
	notes    []string // why the life is shorter than a source said, for a LifetimeError
	// localClock: exp was judged by this machine's clock alone, for want of
	// a plausible Date.
	localClock bool
	hasIn      bool // the answer had a positive expires_in (or a non-positive one and no exp)
	secs       int  // expires_in
	exp        time.Time
	age        time.Duration
}

// earlierCounts is lifeJudgement.believed when sources disagree but no clock
// is in doubt: FACEKI enforces each, so the earliest end is the token's.
const earlierCounts = "the earlier one counts"

// capNote says a token's life was cut to MaxTokenLife.
var capNote = fmt.Sprintf("capped at %s, the longest life the provider believes a token has", MaxTokenLife)

// judgeLife reads a token's life from every clock the answer gives:
//   - relative: expires_in, and the JWT's exp − iat, counted from when FACEKI
//     answered (Age before the answer came, by its Age header);
//   - the JWT's exp by FACEKI's clock when it answered, Date + Age;
//   - the JWT's exp by this machine's clock.
//
// No life is longer than min(expires_in, exp − iat, MaxTokenLife) − Age: no
// header can stretch a token beyond what FACEKI gave it. A Date before the
// JWT's iat, or before any FACEKI answer, is not FACEKI's clock. When the
// two readings of exp disagree (the clocks are off), the one a relative
// clock agrees with counts: this machine's clock may be hours off (FACEKI's
// Date agrees), or a proxy may stamp a wrong Date (this machine's clock
// agrees). When none agree, the shortest counts. An expires_in of 0 or less
// beside a JWT exp says nothing (exp decides); alone, it is a dead token.
func judgeLife(ans answer, expiresIn json.RawMessage, token string) (j lifeJudgement) {
	j.age = ans.age
	exp, iat := jwtTimes(token)
	j.exp = exp
	hasExp, hasIat := !exp.IsZero(), !exp.IsZero() && !iat.IsZero()
	j.secs, j.hasIn = lenientInt(expiresIn)
	j.hasIn = j.hasIn && (j.secs > 0 || !hasExp)
	dateDoubt := datePlausible(ans.date, iat)
	if !j.hasIn && !hasExp {
		j.dateBelieved = dateDoubt == ""
		return j // expiry unknown
	}
	j.known = true

	// The relative clocks, which are also caps.
	inLife := time.Duration(j.secs)*time.Second - j.age
	iatLife := exp.Sub(iat) - j.age
	capped := MaxTokenLife - j.age
	if j.hasIn {
		capped = min(capped, inLife)
	}
	if hasIat {
		capped = min(capped, iatLife)
	}
	if !hasExp {
		j.dateBelieved = dateDoubt == ""
		j.life = capped
		if inLife > capped {
			j.notes = append(j.notes, capNote)
		}
		return j
	}

	// Which reading of exp counts.
	agree := func(a, b time.Duration) bool { return (a - b).Abs() <= clockAgreement }
	witness := func(d time.Duration) bool { return j.hasIn && agree(inLife, d) || hasIat && agree(iatLife, d) }
	witnessName := func(d time.Duration) string {
		if j.hasIn && agree(inLife, d) {
			return fmt.Sprintf("expires_in (%d s)", j.secs)
		}
		return fmt.Sprintf("the JWT's exp − iat (%s)", exp.Sub(iat))
	}
	local := exp.Sub(ans.sent)
	byDate := exp.Sub(ans.date.Add(j.age))
	var expLife time.Duration
	switch {
	case dateDoubt != "":
		expLife, j.localClock = local, true
		if !ans.date.IsZero() {
			j.believed = "counted by this machine's clock: " + dateDoubt + ", so it was not believed"
		}
	case agree(byDate, local):
		expLife, j.dateBelieved = min(byDate, local), true
	case witness(byDate) && !witness(local):
		expLife, j.dateBelieved = byDate, true
		j.believed = fmt.Sprintf("counted by FACEKI's clock: %s and the JWT's exp by FACEKI's Date header agree, and %s, "+
			"so the offset does not shorten the token's life", witnessName(byDate), ClockOffsetText(ans.offset))
	case witness(local) && !witness(byDate):
		expLife = local
		j.believed = fmt.Sprintf("counted by this machine's clock: %s and the JWT's exp by this machine's clock agree, "+
			"but FACEKI's Date header (%s) puts FACEKI's clock %s, so it was not believed (a proxy or cache in front of "+
			"FACEKI that stamps its own Date?)", witnessName(local), ans.date.UTC().Format(time.RFC3339),
			dateOffsetText(ans.offset))
	default:
		expLife = min(byDate, local)
		j.believed = fmt.Sprintf("the shortest counted, since no two clocks agree: the JWT's exp by FACEKI's Date header "+
			"gives %s, by this machine's clock %s", roundLife(byDate), roundLife(local))
		if j.hasIn {
			j.believed += fmt.Sprintf(", expires_in %s", roundLife(inLife))
		}
	}
	if j.believed != "" {
		j.notes = append(j.notes, j.believed)
	}

	// The earliest end counts; say why when it is not the one expires_in said.
	j.life = min(expLife, capped)
	if j.hasIn && !agree(inLife, expLife) && j.believed == "" {
		j.believed = earlierCounts
	}
	if j.hasIn && expLife < inLife-clockAgreement {
		note := fmt.Sprintf("FACEKI's answer said expires_in %d s, but the token's JWT exp claim ends it at %s, and FACEKI "+
			"enforces exp", j.secs, ans.sent.Add(expLife).UTC().Format(time.RFC3339))
		if ans.date.IsZero() {
			note += "; FACEKI's answer had no Date header, so exp was judged by this machine's clock: " +
				"if that clock runs ahead of FACEKI's, that is the cause"
		}
		j.notes = append(j.notes, note)
	}
	switch {
	case j.life >= expLife-clockAgreement:
	case j.hasIn && j.life == inLife:
	case hasIat && j.life == iatLife:
		// exp read on a clock behind the one FACEKI issued it by
		j.notes = append(j.notes, fmt.Sprintf("cut to the life FACEKI gave it, the JWT's exp − iat (%s)", exp.Sub(iat)))
		if j.believed == "" {
			j.believed = earlierCounts
		}
	default:
		j.notes = append(j.notes, capNote)
	}
	return j
}

// expired says why a token dead on arrival is refused, and what to do.
func (j lifeJudgement) expired(ans answer) string {
	var s string
	switch {
	case j.age > 0:
		s = fmt.Sprintf("the token in the answer had expired %s before it came: the answer has an Age header of %d s, so a "+
			"cache or proxy in front of FACEKI (a CDN?) served a stored copy of an earlier answer. Make it pass %s through "+
			"uncached (Cache-Control: no-store), or set base_url to FACEKI's API itself",
			roundLife(-j.life), int64(j.age/time.Second), ans.url)
	case j.hasIn && j.secs <= 0 && j.exp.IsZero():
		s = fmt.Sprintf("the answer says expires_in %d s: its token was dead when it came. A cache or proxy in front of "+
			"FACEKI serving a stale answer is the likely cause: check that base_url is FACEKI's API itself, and if it is, "+
			"contact FACEKI support", j.secs)
	case j.localClock:
		s = fmt.Sprintf("the token in the answer had expired %s before it came, by this machine's clock. A cache or proxy "+
			"in front of FACEKI serving a stale answer, or this machine's clock running ahead of FACEKI's, is the likely "+
			"cause: make the cache pass %s through uncached (Cache-Control: no-store) or set base_url to FACEKI's API "+
			"itself, and set this machine's clock right (NTP)", roundLife(-j.life), ans.url)
	default:
		s = fmt.Sprintf("the token in the answer had expired %s before it came. A cache or proxy in front of FACEKI "+
			"serving a stale answer is the likely cause: make it pass %s through uncached (Cache-Control: no-store), or "+
			"set base_url to FACEKI's API itself", roundLife(-j.life), ans.url)
	}
	if len(j.notes) > 0 {
		s += " (" + strings.Join(j.notes, "; ") + ")"
	}
	return s
}

// datePlausible says why date is not FACEKI's clock, or "" when it may be.
func datePlausible(date, iat time.Time) string {
	switch {
	case date.IsZero():
		return "FACEKI's answer had no Date header"
	case !iat.IsZero() && date.Before(iat.Add(-clockAgreement)):
		return fmt.Sprintf("FACEKI's Date header (%s) is before the token was issued (the JWT's iat, %s)",
			date.UTC().Format(time.RFC3339), iat.UTC().Format(time.RFC3339))
	case date.Before(minPlausibleDate):
		return fmt.Sprintf("FACEKI's Date header (%s) is before %d, earlier than any FACEKI answer",
			date.UTC().Format(time.RFC3339), minPlausibleDate.Year())
	}
	return ""
}

// dateOffsetText says where a Date not believed puts FACEKI's clock, from
// offset (this machine's clock ahead of it).
func dateOffsetText(offset time.Duration) string {
	way := "behind"
	if offset < 0 {
		way = "ahead of"
	}
	return fmt.Sprintf("%s %s this machine's", strings.TrimSuffix(offset.Abs().Round(time.Minute).String(), "0s"), way)
}

// roundLife prints a life to the second; a negative one is past.
func roundLife(d time.Duration) string { return d.Round(time.Second).String() }

// decodeEnvelope parses the body and classifies every answer that is not a
// success. A failure is classified by what FACEKI said: a body with
// "status": false or a "statusCode" of 4xx/5xx fails whatever the HTTP
// status, and its statusCode, when it has one, decides the kind.
func (c *Client) decodeEnvelope(op string, status int, body []byte) (envelope, *APIError) {
	var env envelope
	trimmed := bytes.TrimSpace(body)
	if err := json.Unmarshal(trimmed, &env); err != nil {
		kind := KindBadResponse
		if status < 200 || status >= 300 {
			kind = kindForCode(status, op)
		}
		return env, c.apiError(op, kind, status, env, describeNonJSON(trimmed, err, c.rd.Redact))
	}
	bodyCode, _ := lenientInt(env.StatusCode)
	if bodyCode < 400 || bodyCode > 599 {
		bodyCode = 0
	}
	if status < 200 || status >= 300 || bodyCode != 0 || string(env.Status) == "false" {
		code := status
		if bodyCode != 0 {
			code = bodyCode
		}
		return env, c.apiError(op, kindForCode(code, op), status, env, "")
	}
	code, hasCode := lenientInt(env.ResponseCode)
	switch {
	case !hasCode:
		return env, c.apiError(op, KindBadResponse, status, env, "response has no responseCode; check base_url points at FACEKI's API")
	case code == CodeNoRulesForCompany:
		return env, c.apiError(op, KindNoRules, status, env, "")
	case code != CodeSuccess:
		return env, c.apiError(op, KindServer, status, env, "")
	}
	return env, nil
}

// kindForCode classifies a failure by its HTTP-style code, whether the HTTP
// status or the statusCode of FACEKI's body.
func kindForCode(code int, op string) ErrorKind {
	switch {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		if op == opToken {
			return KindCredentials
		}
		return KindUnauthorized
	case code == http.StatusBadRequest || code == http.StatusUnprocessableEntity:
		return KindBadRequest
	case code == http.StatusTooManyRequests:
		return KindRateLimited
	case code >= 500:
		return KindUnavailable
	case code >= 200 && code < 300:
		return KindServer // "status": false with no code: FACEKI said no without saying why
	default:
		return KindRequest
	}
}

// apiError builds a redacted APIError from what the envelope holds.
func (c *Client) apiError(op string, kind ErrorKind, status int, env envelope, detail string) *APIError {
	e := &APIError{Kind: kind, Op: op, HTTPStatus: status, Detail: c.rd.Redact(detail)}
	e.ResponseCode, e.HasResponseCode = lenientInt(env.ResponseCode)
	if sc, ok := lenientInt(env.StatusCode); ok {
		e.StatusCode = sc
	}
	e.Message = shorten(c.rd.Redact(lenientMessage(env.Message)), 200)
	// Shortening can cut an encoded secret in two; redact the result again.
	e.Message = c.rd.Redact(e.Message)
	return e
}

func describeNonJSON(body []byte, err error, redact func(string) string) string {
	// Redact the whole body before quoting it, and the quote again: stripping
	// markup joins text that tags kept apart. (A run of the secret cut in two
	// by shortening is either still 8 characters long, and redacted, or no
	// longer a leak.)
	quote := func() string { return redact(shorten(textOf([]byte(redact(string(body)))), 120)) }
	switch {
	case len(body) == 0:
		return "response body is empty"
	case body[0] == '<':
		return "response is HTML, not FACEKI's JSON (a proxy or gateway page?): " + quote()
	case body[0] == '{' || body[0] == '[':
		return "response is not valid JSON (truncated?): " + shorten(err.Error(), 120)
	default:
		return "response is not JSON: " + quote()
	}
}

// textOf strips markup and control characters, and decodes character
// references, for a short, readable quote of a page.
func textOf(b []byte) string {
	var out strings.Builder
	inTag := false
	for _, r := range string(b) {
		switch {
		case r == '<':
			inTag = true
		case r == '>':
			inTag = false
			out.WriteByte(' ')
		case inTag:
		case unicode.IsControl(r) || unicode.IsSpace(r):
			out.WriteByte(' ')
		default:
			out.WriteRune(r)
		}
	}
	return strings.Join(strings.Fields(html.UnescapeString(out.String())), " ")
}

func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}

func lenientString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return ""
}

// lenientMessage reads a string, or a list of strings as NestJS validation
// errors have it.
func lenientMessage(raw json.RawMessage) string {
	if s := lenientString(raw); s != "" {
		return s
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		return strings.Join(list, "; ")
	}
	return ""
}

// lenientInt reads a JSON number or a numeric string.
func lenientInt(raw json.RawMessage) (int, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, false
	}
	var n json.Number
	if json.Unmarshal(raw, &n) != nil {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return 0, false
		}
		n = json.Number(strings.TrimSpace(s))
	}
	if i, err := strconv.ParseInt(string(n), 10, 32); err == nil {
		return int(i), true
	}
	if f, err := strconv.ParseFloat(string(n), 64); err == nil && f == float64(int32(f)) {
		return int(f), true
	}
	return 0, false
}

// tokenSecret is the part of a token the redactor must know: a JWT's
// payload and signature (its header is the same for every token FACEKI
// issues), else the whole token.
func tokenSecret(token string) string {
	if parts := strings.Split(token, "."); len(parts) == 3 && parts[0] != "" && parts[1] != "" {
		return parts[1] + "." + parts[2]
	}
	return token
}

// jwtTimes reads the exp and iat claims of a JWT without verifying it: they
// only tell when FACEKI issued the token and when it will stop accepting it.
// A claim absent or out of range is zero.
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
		Exp json.RawMessage `json:"exp"`
		Iat json.RawMessage `json:"iat"`
	}
	if json.Unmarshal(payload, &claims) != nil {
		return exp, iat
	}
	return claimTime(claims.Exp), claimTime(claims.Iat)
}

// claimTime reads a NumericDate claim: seconds since 1970, a number.
func claimTime(raw json.RawMessage) time.Time {
	var n json.Number
	if json.Unmarshal(raw, &n) != nil {
		return time.Time{}
	}
	f, err := n.Float64()
	if err != nil || f <= 0 || f > 1e11 {
		return time.Time{}
	}
	return time.Unix(int64(f), 0)
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
