package emulator

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Fault replaces the answer to one token request: the hostile network that
// tests must survive. Faults queue up and are used in order.
type Fault struct {
	Name      string
	Status    int
	Header    map[string]string
	Body      string
	BodyBytes int           // send this many filler bytes as the body
	Hang      time.Duration // wait this long (or until the client leaves) before answering
	// Hold waits until the channel is closed (or the client leaves) before
	// answering: a test decides when the answer comes.
	Hold <-chan struct{}
	// Reflect writes the body from what the client sent (its request and the
	// client secret it presented): a server that quotes its input back.
	Reflect func(h http.Header, r *http.Request, secret string) string
	// Drop closes the connection without an answer.
	Drop bool
}

// Faults queues faults for the next token requests.
func (e *Emulator) Faults(f ...Fault) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = append(e.faults, f...)
}

// serve writes the fault; false means "answer normally" (a pure delay).
func (f *Fault) serve(w http.ResponseWriter, r *http.Request, secret string) bool {
	if f.Hang > 0 {
		select {
		case <-time.After(f.Hang):
		case <-r.Context().Done():
			return true
		}
	}
	if f.Hold != nil {
		select {
		case <-f.Hold:
		case <-r.Context().Done():
			return true
		}
	}
	if f.Drop {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
			}
		}
		return true
	}
	if f.Status == 0 {
		return false
	}
	for k, v := range f.Header {
		w.Header().Set(k, v)
	}
	body := f.Body
	if f.Reflect != nil {
		body = f.Reflect(w.Header(), r, secret)
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(f.Status)
	if f.BodyBytes > 0 {
		_, _ = io.Copy(w, io.LimitReader(filler{}, int64(f.BodyBytes)))
		return true
	}
	_, _ = io.WriteString(w, body)
	return true
}

type filler struct{}

func (filler) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}

// Common faults.
var (
	Unavailable = Fault{Name: "503", Status: http.StatusServiceUnavailable, Body: `{"status":false,"message":"Service Unavailable","statusCode":503,"data":{}}`}
	HTML500     = Fault{Name: "html-500", Status: http.StatusInternalServerError, Header: map[string]string{"Content-Type": "text/html"},
		Body: "<html><head><title>500 Internal Server Error</title></head><body><h1>Internal Server Error</h1></body></html>"}
	TruncatedJSON = Fault{Name: "truncated-json", Status: http.StatusOK, Body: `{"responseCode":0,"data":{"access_tok`}
	EmptyBody     = Fault{Name: "empty-body", Status: http.StatusOK}
	MissingToken  = Fault{Name: "missing-token", Status: http.StatusOK, Body: `{"responseCode":0,"data":{"expires_in":3600,"token_type":"Bearer"}}`}
	InternalError = Fault{Name: "responsecode-1000", Status: http.StatusOK, Body: `{"responseCode":1000,"message":"internal system error","data":{}}`}
	WrongTypes    = Fault{Name: "wrong-types", Status: http.StatusOK, Body: `{"responseCode":"zero","data":[1,2,3]}`}
	Huge          = Fault{Name: "64MiB-body", Status: http.StatusOK, BodyBytes: 64 << 20}
	// OK401 is FACEKI's failure body for wrong credentials under HTTP 200.
	OK401 = Fault{Name: "200-with-401-body", Status: http.StatusOK,
		Body: `{"status":false,"message":"Invalid client credentials","statusCode":401,"data":{}}`}
)

// Servers that quote back what they were sent, each in another encoding.
// Their bodies are valid JSON (or HTML) whatever the secret holds.
var (
	// Echo is a 400 quoting the request URI and the secret in its message,
	// the raw query in data.query and in an X-Echo header.
	Echo = Fault{Name: "echo", Status: http.StatusBadRequest, Reflect: func(h http.Header, r *http.Request, secret string) string {
		h.Set("X-Echo", r.URL.RawQuery)
		body := failure(http.StatusBadRequest, "bad request: "+r.URL.String()+" ("+secret+")")
		body["data"] = map[string]any{"query": r.URL.RawQuery}
		return jsonText(body)
	}}
	// GatewayReturnURL is a login gateway's 401 that sends the caller to sign
	// in and back: the request URI, percent-encoded once more (%2B becomes
	// %252B), in a returnUrl.
	GatewayReturnURL = Fault{Name: "gateway-return-url", Status: http.StatusUnauthorized, Reflect: func(_ http.Header, r *http.Request, _ string) string {
		return jsonText(failure(http.StatusUnauthorized,
			"Authentication required: sign in at https://gateway.example/login?returnUrl="+url.QueryEscape(r.URL.RequestURI())))
	}}
	// EntityEcho is an HTML 400 page quoting the query string as numeric
	// character references (&#99;&#108;…).
	EntityEcho = Fault{Name: "entity-echo", Status: http.StatusBadRequest, Header: map[string]string{"Content-Type": "text/html"},
		Reflect: func(_ http.Header, r *http.Request, _ string) string {
			var refs strings.Builder
			for _, c := range r.URL.RawQuery {
				fmt.Fprintf(&refs, "&#%d;", c)
			}
			return "<html><body><h1>400 Bad Request</h1><p>Rejected query: " + refs.String() + "</p></body></html>"
		}}
	// UpperEcho is a WAF's 403 quoting the request it blocked upper-cased,
	// as some gateways print what they quote: only the letter case of the
	// secret is lost.
	UpperEcho = Fault{Name: "upper-echo", Status: http.StatusForbidden, Reflect: func(_ http.Header, r *http.Request, _ string) string {
		return jsonText(failure(http.StatusForbidden, "REQUEST BLOCKED BY WAF: "+strings.ToUpper(r.Method+" "+r.URL.RequestURI())))
	}}
	// SecretHint is a 401 whose message gives the first 12 characters of the
	// secret it was sent, as a "did you mean" hint.
	SecretHint = Fault{Name: "secret-hint", Status: http.StatusUnauthorized, Reflect: func(_ http.Header, _ *http.Request, secret string) string {
		return jsonText(failure(http.StatusUnauthorized, "Invalid client secret: it starts with '"+secret[:min(12, len(secret))]+"'"))
	}}
)

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TooManyRequests is a 429 asking to retry after the given header value.
func TooManyRequests(retryAfter string) Fault {
	return Fault{Name: "429", Status: http.StatusTooManyRequests, Header: map[string]string{"Retry-After": retryAfter},
		Body: `{"status":false,"message":"Too Many Requests","statusCode":429,"data":{}}`}
}

// Hang answers nothing for d (or until the client leaves), then a 504.
func Hang(d time.Duration) Fault {
	return Fault{Name: "hang", Hang: d, Status: http.StatusGatewayTimeout}
}

// More common faults.
var (
	// Drop closes the connection without an answer.
	Drop = Fault{Name: "drop", Drop: true}
	// Unauthorized is FACEKI's answer to credentials it does not know, sent
	// whatever the request carried.
	Unauthorized = Fault{Name: "401", Status: http.StatusUnauthorized,
		Body: `{"status":false,"message":"Invalid client credentials","statusCode":401,"data":{}}`}
)

// HangLimit bounds the registry's "hang": longer than the provider's
// largest request_timeout (10m), so that a client always gives up first,
// yet never a server stuck for good.
const HangLimit = 11 * time.Minute

// NamedFault is a fault of the registry with one line of help.
type NamedFault struct {
	Fault
	Help string
}

// registry lists, in the order -help shows them, the faults that the
// command's -fault flag and the tests of users' modules name. The names are
// an interface: add faults, never rename one.
var registry = []NamedFault{
	{Unavailable, "HTTP 503 with FACEKI's failure body (the provider retries it)"},
	{TooManyRequests("1"), "HTTP 429 with Retry-After: 1 (the provider waits 1 s and retries)"},
	{HTML500, "HTTP 500 with an HTML page instead of JSON (retried)"},
	{Unauthorized, "HTTP 401 Invalid client credentials, whatever the request carried (not retried)"},
	{OK401, "HTTP 200 whose body is FACEKI's 401 failure (wrong credentials)"},
	{InternalError, "HTTP 200 with responseCode 1000, FACEKI's internal system error"},
	{TruncatedJSON, "HTTP 200 with JSON cut short"},
	{EmptyBody, "HTTP 200 with an empty body"},
	{MissingToken, "HTTP 200 with responseCode 0 but no access_token"},
	{WrongTypes, "HTTP 200 with responseCode a string and data an array"},
	{Huge, "HTTP 200 with a 64 MiB body of spaces (the provider reads at most 1 MiB)"},
	{Hang(HangLimit), "no answer until the client gives up (request_timeout), at most " + HangLimit.String() + ", then HTTP 504"},
	{Drop, "the connection is closed without an answer (retried)"},
	{Echo, "HTTP 400 quoting the request URI and the secret it carried, and the query in X-Echo"},
	{GatewayReturnURL, "HTTP 401 from a login gateway quoting the request URI, percent-encoded twice"},
	{EntityEcho, "HTTP 400 HTML page quoting the query string as numeric character references"},
	{SecretHint, "HTTP 401 whose message quotes the first 12 characters of the secret it was sent"},
	{UpperEcho, "HTTP 403 from a WAF quoting the request URI it blocked, upper-cased"},
}

// FaultRegistry returns every fault with a stable name, in order.
func FaultRegistry() []NamedFault { return append([]NamedFault(nil), registry...) }

// FaultNames returns the names of the registry's faults, in order.
func FaultNames() []string {
	names := make([]string, len(registry))
	for i, f := range registry {
		names[i] = f.Name
	}
	return names
}

// LookupFault returns the registry's fault called name.
func LookupFault(name string) (Fault, bool) {
	for _, f := range registry {
		if f.Name == name {
			return f.Fault, true
		}
	}
	return Fault{}, false
}
