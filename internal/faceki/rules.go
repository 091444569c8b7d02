package faceki

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// RulesMinValidity is the life the shared token must have left for a KYC
// rules request: enough for the request and its retries to reach FACEKI.
const RulesMinValidity = time.Minute

// Rules is a company's KYC rules, as GET /kycrules/api/kycrules returns
// them. Decoding is lenient: fields FACEKI adds are ignored, and a field that
// is absent, null or of an unexpected type is nil (a list that is present but
// empty is an empty, non-nil slice).
type Rules struct {
	ID                          *string // _id
	CompanyID                   *string
	LivenessCheckType           *string // e.g. "MODERATE"
	AllowedKYCDocuments         []string
	AllowedCountries            []string
	AllowedNationalities        []string
	InvalidDocuments            []string
	ValidAge                    *int64
	Status                      *string // e.g. "ACTIVE"
	DataStorageTime             *string // e.g. "FOREVER"
	MultiKYCEnabled             *bool
	IsRecapturedDocumentInvalid *bool
	Link                        *string
	Success                     *Outcome
	Declined                    *Outcome
	Invalid                     *Outcome
}

// Outcome is where FACEKI sends a user after a verification, and what it
// shows them.
type Outcome struct {
	RedirectURL *string
	Message     *string
}

// KYCRules reads the company's KYC rules with the shared token (see
// SharedToken), which must have RulesMinValidity left. FACEKI may stop
// accepting a token before the expiry it announced; a 401 or 403 then means
// the cached token went stale: KYCRules drops it from the cache, gets a fresh
// one once and retries once. A second refusal is a KindUnauthorized error.
// responseCode 7001 is a KindNoRules error.
func (c *Client) KYCRules(ctx context.Context) (Rules, error) {
	tok, err := c.SharedToken(ctx, RulesMinValidity)
	if err != nil {
		return Rules{}, err
	}
	rules, err := c.kycRules(ctx, tok)
	if !IsKind(err, KindUnauthorized) {
		return rules, err
	}
	c.dropShared(tok)
	fresh, ferr := c.SharedToken(ctx, RulesMinValidity)
	if ferr != nil {
		return Rules{}, ferr
	}
	rules, err = c.kycRules(ctx, fresh)
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.Kind == KindUnauthorized {
		apiErr.Detail = "the access token was refused, and so was a freshly fetched one: the credentials get tokens " +
			"that this company's KYC rules do not accept"
	}
	return rules, err
}

// dropShared removes tok from the shared cache, and from the token file,
// unless another caller has already replaced it.
func (c *Client) dropShared(tok Token) {
	if c.files != nil {
		_ = c.files.Forget(tok.AccessToken) // a file left behind is a miss for the next caller anyway
	}
	c.cache.mu.Lock()
	defer c.cache.mu.Unlock()
	if e := c.cache.entries[c.cacheKey]; e != nil && e.token != nil && e.token.AccessToken == tok.AccessToken {
		e.token = nil
	}
}

// kycRules is one rules request (with the client's retries) with tok.
func (c *Client) kycRules(ctx context.Context, tok Token) (Rules, error) {
	const op = opRules
	u := *c.base
	u.Path += kycRulesPath
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return Rules{}, &ConfigError{Field: "base_url", Msg: c.gate.Err(err)}
	}
	req = c.withHeaders(req)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	ans, err := c.do(req, op)
	if err != nil {
		return Rules{}, err
	}
	c.noteClock(ans, time.Time{})
	rules, apiErr := c.decodeRules(ans.status, ans.body)
	if apiErr != nil {
		apiErr.Attempts, apiErr.URL = ans.attempts, ans.url
		return Rules{}, apiErr
	}
	return rules, nil
}

func (c *Client) decodeRules(status int, body []byte) (Rules, *APIError) {
	const op = opRules
	env, apiErr := c.decodeEnvelope(op, status, body)
	if apiErr != nil {
		if apiErr.Kind == KindNoRules {
			apiErr.Detail = "the company has no KYC rules: FACEKI has none configured for this account"
		}
		return Rules{}, apiErr
	}
	var d map[string]json.RawMessage
	if len(env.Data) == 0 || json.Unmarshal(env.Data, &d) != nil || d == nil {
		return Rules{}, c.apiError(op, KindBadResponse, status, env, "response has no data object with the KYC rules")
	}
	// The rules go to state: every string FACEKI wrote passes the gate, so
	// that a rules service that reflects the caller's token cannot put it there.
	str := func(d map[string]json.RawMessage, key string) *string {
		if v := optString(d[key]); v != nil {
			passed := c.gate.Pass(*v)
			return &passed
		}
		return nil
	}
	strs := func(key string) []string {
		list := optStrings(d[key])
		for i, v := range list {
			list[i] = c.gate.Pass(v)
		}
		return list
	}
	outcome := func(key string) *Outcome {
		var o map[string]json.RawMessage
		if json.Unmarshal(d[key], &o) != nil || o == nil {
			return nil
		}
		return &Outcome{RedirectURL: str(o, "redirect_url"), Message: str(o, "message")}
	}
	return Rules{
		ID:                          str(d, "_id"),
		CompanyID:                   str(d, "companyId"),
		LivenessCheckType:           str(d, "livenessCheckType"),
		AllowedKYCDocuments:         strs("allowedKycDocuments"),
		AllowedCountries:            strs("allowedCountries"),
		AllowedNationalities:        strs("allowedNationalities"),
		InvalidDocuments:            strs("invalidDocuments"),
		ValidAge:                    optInt(d["validAge"]),
		Status:                      str(d, "status"),
		DataStorageTime:             str(d, "dataStorageTime"),
		MultiKYCEnabled:             optBool(d["multiKYCEnabled"]),
		IsRecapturedDocumentInvalid: optBool(d["isRecapturedDocumentInvalid"]),
		Link:                        str(d, "link"),
		Success:                     outcome("success"),
		Declined:                    outcome("declined"),
		Invalid:                     outcome("invalid"),
	}, nil
}

// optString reads a string; a number becomes its decimal text, and a
// MongoDB extended-JSON id ({"$oid": "…"}) its hex string. Anything else is nil.
func optString(raw json.RawMessage) *string {
	if absent(raw) {
		return nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return &s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		s = n.String()
		return &s
	}
	var oid struct {
		OID *string `json:"$oid"`
	}
	if json.Unmarshal(raw, &oid) == nil && oid.OID != nil {
		return oid.OID
	}
	return nil
}

// optStrings reads a list of strings (other elements as optString reads
// them, and dropped when it cannot); a single string is a list of one.
func optStrings(raw json.RawMessage) []string {
	if absent(raw) {
		return nil
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil || list == nil {
		if s := optString(raw); s != nil && !strings.HasPrefix(strings.TrimSpace(string(raw)), "{") {
			return []string{*s}
		}
		return nil
	}
	out := make([]string, 0, len(list))
	for _, item := range list {
		if s := optString(item); s != nil {
			out = append(out, *s)
		}
	}
	return out
}

// optInt reads a whole number, or a string holding one.
func optInt(raw json.RawMessage) *int64 {
	n, ok := lenientInt(raw)
	if !ok {
		return nil
	}
	v := int64(n)
	return &v
}

// optBool reads true/false, or a string holding one.
func optBool(raw json.RawMessage) *bool {
	if absent(raw) {
		return nil
	}
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		return &b
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if v, err := strconv.ParseBool(strings.TrimSpace(s)); err == nil {
			return &v
		}
	}
	return nil
}

// absent reports a field that is missing or null. (Unmarshalling null into a
// string or a bool succeeds and leaves the zero value, which is not what
// FACEKI said.)
func absent(raw json.RawMessage) bool {
	t := strings.TrimSpace(string(raw))
	return t == "" || t == "null"
}
