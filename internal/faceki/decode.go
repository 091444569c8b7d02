package faceki

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Token is a FACEKI bearer token. String and GoString never print the token,
// so that a stray %v cannot leak it.
type Token struct {
	AccessToken string
	TokenType   string
	// ExpiresAt is when FACEKI says the token expires: the time of the response
	// plus expires_in, else the JWT's exp claim. Zero when neither is known.
	ExpiresAt time.Time
}

func (t Token) String() string   { return "faceki.Token{" + Redacted + "}" }
func (t Token) GoString() string { return t.String() }

// Remaining is the token's life left at now; ok is false when its expiry is unknown.
func (t Token) Remaining(now time.Time) (d time.Duration, ok bool) {
	if t.ExpiresAt.IsZero() {
		return 0, false
	}
	return t.ExpiresAt.Sub(now), true
}

// envelope is FACEKI's response shape, success ({responseCode, data}) and
// failure ({status, message, statusCode, data}) alike. Fields are decoded
// leniently: a gateway or a newer API version may change their types.
type envelope struct {
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

// decodeToken turns a token endpoint answer into a Token or a redacted error.
func (c *Client) decodeToken(status int, body []byte, received time.Time) (Token, error) {
	const op = opToken
	env, apiErr := c.decodeEnvelope(op, status, body)
	if apiErr != nil {
		return Token{}, apiErr
	}
	var d tokenData
	if len(env.Data) == 0 || json.Unmarshal(env.Data, &d) != nil {
		return Token{}, c.apiError(op, KindBadResponse, status, env, "response has no data object with the token")
	}
	tok := Token{AccessToken: lenientString(d.AccessToken), TokenType: lenientString(d.TokenType)}
	if tok.AccessToken == "" {
		return Token{}, c.apiError(op, KindBadResponse, status, env, "response has responseCode 0 but no data.access_token")
	}
	if tok.TokenType == "" {
		tok.TokenType = "Bearer"
	}
	if secs, ok := lenientInt(d.ExpiresIn); ok && secs > 0 {
		tok.ExpiresAt = received.Add(time.Duration(secs) * time.Second).UTC()
	} else if exp, ok := jwtExpiry(tok.AccessToken); ok {
		tok.ExpiresAt = exp.UTC()
	}
	return tok, nil
}

// decodeEnvelope parses the body and classifies every answer that is not
// HTTP 2xx with responseCode 0.
func (c *Client) decodeEnvelope(op string, status int, body []byte) (envelope, *APIError) {
	var env envelope
	trimmed := bytes.TrimSpace(body)
	if err := json.Unmarshal(trimmed, &env); err != nil {
		kind := kindForStatus(status, op)
		if status >= 200 && status < 300 {
			kind = KindBadResponse
		}
		return env, c.apiError(op, kind, status, env, describeNonJSON(trimmed, err, c.rd.redact))
	}
	code, hasCode := lenientInt(env.ResponseCode)
	if status < 200 || status >= 300 {
		return env, c.apiError(op, kindForStatus(status, op), status, env, "")
	}
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

func kindForStatus(status int, op string) ErrorKind {
	switch {
	case status == http.StatusTooManyRequests:
		return KindRateLimited
	case status >= 500:
		return KindServer
	case status == http.StatusUnauthorized || status == http.StatusForbidden || status == http.StatusUnprocessableEntity ||
		(status == http.StatusBadRequest && op == opToken):
		if op == opToken {
			return KindCredentials
		}
		return KindUnauthorized
	case status >= 200 && status < 300:
		return KindServer
	default:
		return KindRequest
	}
}

// apiError builds a redacted APIError from what the envelope holds.
func (c *Client) apiError(op string, kind ErrorKind, status int, env envelope, detail string) *APIError {
	e := &APIError{Kind: kind, Op: op, HTTPStatus: status, Detail: c.rd.redact(detail)}
	e.ResponseCode, e.HasResponseCode = lenientInt(env.ResponseCode)
	if sc, ok := lenientInt(env.StatusCode); ok {
		e.StatusCode = sc
	}
	e.Message = shorten(c.rd.redact(lenientMessage(env.Message)), 200)
	// Shortening can cut an encoded secret in two; redact the result again.
	e.Message = c.rd.redact(e.Message)
	return e
}

func describeNonJSON(body []byte, err error, redact func(string) string) string {
	// Redact before quoting and again after stripping markup, both before
	// shortening: a cut would leave a piece of the secret unredactable.
	quote := func() string { return shorten(redact(textOf([]byte(redact(string(body))))), 120) }
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

// textOf strips markup and control characters, for a short quote of a page.
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
	return strings.Join(strings.Fields(out.String()), " ")
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
