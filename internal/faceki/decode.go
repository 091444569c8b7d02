package faceki

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"strconv"
	"strings"
	"unicode"
)

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
		return env, c.apiError(op, kind, status, env, c.describeNonJSON(trimmed, err))
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

// decodeToken turns a token endpoint's answer into a Token, or an error
// whose texts passed the gate.
func (c *Client) decodeToken(ans answer) (Token, error) {
	env, apiErr := c.decodeEnvelope(opToken, ans.status, ans.body)
	if apiErr != nil {
		return Token{}, apiErr
	}
	var d struct {
		AccessToken json.RawMessage `json:"access_token"`
		ExpiresIn   json.RawMessage `json:"expires_in"`
		TokenType   json.RawMessage `json:"token_type"`
	}
	if len(env.Data) == 0 || json.Unmarshal(env.Data, &d) != nil {
		return Token{}, c.apiError(opToken, KindBadResponse, ans.status, env, "response has no data object with the token")
	}
	tok := Token{AccessToken: lenientString(d.AccessToken), TokenType: lenientString(d.TokenType)}
	if tok.AccessToken == "" {
		return Token{}, c.apiError(opToken, KindBadResponse, ans.status, env, "response has responseCode 0 but no data.access_token")
	}
	// A token of a megabyte would cost every later check of the gate: such
	// an answer is not FACEKI's, and nothing of it is quoted.
	for _, f := range []struct {
		name      string
		size, max int
	}{{"data.access_token", len(tok.AccessToken), MaxAccessTokenBytes}, {"data.token_type", len(tok.TokenType), MaxTokenTypeBytes}} {
		if f.size > f.max {
			env.Message = nil
			return Token{}, c.apiError(opToken, KindBadResponse, ans.status, env, fmt.Sprintf("%s is %d bytes, more than "+
				"the %d a FACEKI answer has; check base_url points at FACEKI's API", f.name, f.size, f.max))
		}
	}
	c.gate.AddToken(tokenSecret(tok.AccessToken))
	tok.TokenType = c.gate.Pass(tok.TokenType)
	if tok.TokenType == "" {
		tok.TokenType = "Bearer"
	}
	exp, iat := jwtTimes(tok.AccessToken)
	c.noteClock(ans, iat)
	l, known, from := life(ans, d.ExpiresIn, exp, iat)
	switch {
	case !known:
	case l <= 0:
		return Token{}, c.apiError(opToken, KindExpiredToken, ans.status, env, deadToken(ans, l, from))
	default:
		tok.ExpiresAt, tok.IssuedFor, tok.from = ans.sent.Add(l).UTC(), l, from
	}
	return tok, nil
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

// apiError builds an APIError from the envelope; FACEKI's message passes the
// gate. detail is the client's own text, or a quote that passed it.
func (c *Client) apiError(op string, kind ErrorKind, status int, env envelope, detail string) *APIError {
	e := &APIError{Kind: kind, Op: op, HTTPStatus: status, Detail: detail, Message: c.gate.Quote(lenientMessage(env.Message))}
	e.ResponseCode, e.HasResponseCode = lenientInt(env.ResponseCode)
	e.StatusCode, _ = lenientInt(env.StatusCode)
	return e
}

// describeNonJSON says what a body that is not FACEKI's JSON is, quoting
// the text a reader of it would see, through the gate.
func (c *Client) describeNonJSON(body []byte, err error) string {
	switch {
	case len(body) == 0:
		return "response body is empty"
	case body[0] == '<':
		return "response is HTML, not FACEKI's JSON (a proxy or gateway page?): " + c.gate.Quote(textOf(body))
	case body[0] == '{' || body[0] == '[':
		return "response is not valid JSON (truncated?): " + c.gate.Err(err)
	default:
		return "response is not JSON: " + c.gate.Quote(textOf(body))
	}
}

// textOf is what a page shows: markup dropped, references decoded, and
// white space and control characters folded to single spaces.
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

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
