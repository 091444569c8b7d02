package emulator

import (
	"io"
	"net/http"
	"time"
)

// Fault replaces the answer to one token request: the hostile network that
// tests must survive. Faults queue up and are used in order.
type Fault struct {
	Name        string
	Status      int
	Header      map[string]string
	Body        string
	BodyBytes   int           // send this many filler bytes as the body
	Hang        time.Duration // wait this long (or until the client leaves) before answering
	EchoRequest bool          // answer with the request line and query echoed in the body and a header
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
func (f *Fault) serve(w http.ResponseWriter, r *http.Request) bool {
	if f.Hang > 0 {
		select {
		case <-time.After(f.Hang):
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
	if f.EchoRequest {
		q := r.URL.RawQuery
		w.Header().Set("X-Echo", q)
		body = `{"status":false,"message":"bad request: ` + r.URL.String() + ` (` + r.URL.Query().Get("clientSecret") + `)","statusCode":400,"data":{"query":"` + q + `"}}`
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
	Echo          = Fault{Name: "echo", Status: http.StatusBadRequest, EchoRequest: true}
)

// TooManyRequests is a 429 asking to retry after the given header value.
func TooManyRequests(retryAfter string) Fault {
	return Fault{Name: "429", Status: http.StatusTooManyRequests, Header: map[string]string{"Retry-After": retryAfter},
		Body: `{"status":false,"message":"Too Many Requests","statusCode":429,"data":{}}`}
}

// Hang answers nothing for d.
func Hang(d time.Duration) Fault {
	return Fault{Name: "hang", Hang: d, Status: http.StatusGatewayTimeout}
}
