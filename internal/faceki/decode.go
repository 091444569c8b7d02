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
	// the time the request was sent plus the earlier of expires_in and the
	// life its JWT exp claim (which FACEKI enforces) gives it by FACEKI's
	// clock (the answer's Date header). Zero when neither is known.
	ExpiresAt time.Time
	// ClockOffset is how far this machine's clock was ahead of FACEKI's
	// (behind when negative) when the token was issued, from the answer's
	// Date header; zero when unknown.
	ClockOffset time.Duration
	// expiryNote says why ExpiresAt is earlier than expires_in promised, for
	// a LifetimeError; empty when the two sources agree.
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

// expiryDisagreement is how far expires_in and the JWT's exp may differ
// before the provider warns: clocks and rounding account for seconds.
const expiryDisagreement = time.Minute

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
	c.setExpiry(ctx, &tok, d.ExpiresIn, ans)
	return tok, nil
}

// setExpiry sets the token's lifetime: from the time the request was sent
// (counting from the answer would overstate it by the round trip), the
// earlier of expires_in and the life the JWT's exp gives it. exp is FACEKI's
// clock: with a Date header it is judged against that (exp − Date), so that
// a machine whose clock is off by hours still gets the token's real life;
// without one, against this machine's clock. The signature is not verified.
func (c *Client) setExpiry(ctx context.Context, tok *Token, expiresIn json.RawMessage, ans answer) {
	sent := ans.sent
	var fromBody, fromJWT time.Time
	secs, ok := lenientInt(expiresIn)
	if ok && secs > 0 {
		fromBody = sent.Add(time.Duration(secs) * time.Second).UTC()
	}
	tok.ClockOffset = ans.offset
	if exp, ok := jwtExpiry(tok.AccessToken); ok {
		fromJWT = exp.UTC()
		if !ans.date.IsZero() {
			fromJWT = sent.Add(exp.Sub(ans.date)).UTC()
		}
	}
	switch {
	case fromBody.IsZero():
		tok.ExpiresAt = fromJWT
	case fromJWT.IsZero() || fromBody.Before(fromJWT):
		tok.ExpiresAt = fromBody
	default:
		tok.ExpiresAt = fromJWT
	}
	if !tok.ExpiresAt.IsZero() {
		tok.issuedFor = tok.ExpiresAt.Sub(sent)
	}
	if fromBody.IsZero() || fromJWT.IsZero() {
		return
	}
	if diff := fromBody.Sub(fromJWT).Abs(); diff > expiryDisagreement {
		if fromJWT.Before(fromBody) {
			tok.expiryNote = fmt.Sprintf("FACEKI's answer said expires_in %d s, but the token's JWT exp claim ends it at %s, and FACEKI enforces exp",
				secs, fromJWT.Format(time.RFC3339))
			if ans.date.IsZero() {
				tok.expiryNote += "; FACEKI's answer had no Date header, so exp was judged by this machine's clock: " +
					"if that clock runs ahead of FACEKI's, that is the cause"
			}
		}
		if c.log != nil {
			c.log.Warn(ctx, "FACEKI token expiry sources disagree; the earlier one counts", map[string]any{
				"expires_in_seconds": secs, "expires_in_ends_at": fromBody.Format(time.RFC3339),
				"jwt_exp": fromJWT.Format(time.RFC3339), "expires_at": tok.ExpiresAt.Format(time.RFC3339),
			})
		}
	}
}

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

// jwtExpiry reads the exp claim of a JWT without verifying it: it only tells
// when FACEKI will stop accepting the token.
func jwtExpiry(token string) (time.Time, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return time.Time{}, false
	}
	var claims struct {
		Exp json.Number `json:"exp"`
	}
	if json.Unmarshal(payload, &claims) != nil || claims.Exp == "" {
		return time.Time{}, false
	}
	f, err := claims.Exp.Float64()
	if err != nil || f <= 0 || f > 1e11 {
		return time.Time{}, false
	}
	return time.Unix(int64(f), 0), true
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
