package faceki_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/faceki/terraform-provider-faceki/internal/emulator"
	"github.com/faceki/terraform-provider-faceki/internal/faceki"
)

// benchClient starts an in-process emulator on loopback and returns a client
// for it. The emulator runs in this process, so allocs/op of a benchmark that
// reaches it include the emulator's side of the exchange (HTTP server, JWT
// minting) as well as the client's.
func benchClient(b *testing.B, endpoint faceki.TokenEndpoint) (*faceki.Client, *emulator.Server) {
	b.Helper()
	srv, err := emulator.New(emulator.Options{}).Listen("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = srv.Close() })
	id, secret := srv.Credentials()
	c, err := faceki.NewClient(faceki.Config{BaseURL: srv.URL, ClientID: id, ClientSecret: secret, TokenEndpoint: endpoint})
	if err != nil {
		b.Fatal(err)
	}
	return c, srv
}

// BenchmarkAccessToken is one token request, with a single client as the
// provider uses one per configuration. Run it with a fixed count
// (-benchtime=1000x, as `make bench` does): see BenchmarkAccessTokenAfter for
// why the cost per call depends on how many tokens the client has seen.
//
//   - loopback/<endpoint>: to the emulator over loopback TCP (keep-alive, no
//     added latency). allocs/op include the in-process emulator's side.
//   - recorded: the HTTP transport replays answers the emulator gave
//     beforehand (each a distinct token), so allocs/op are the client's alone.
func BenchmarkAccessToken(b *testing.B) {
	for _, ep := range []faceki.TokenEndpoint{faceki.EndpointAccessToken, faceki.EndpointGenerateToken} {
		b.Run("loopback/"+string(ep), func(b *testing.B) {
			c, srv := benchClient(b, ep)
			ctx := context.Background()
			b.ReportAllocs()
			before := srv.TokenRequests()
			n := 0
			for b.Loop() {
				if _, err := c.AccessToken(ctx); err != nil {
					b.Fatal(err)
				}
				n++
			}
			if got := srv.TokenRequests() - before; got != n {
				b.Fatalf("emulator saw %d token requests for %d calls", got, n)
			}
		})
	}
	b.Run("recorded", func(b *testing.B) {
		c, rt := recordedClient(b, 1000)
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.AccessToken(ctx); err != nil {
				b.Fatal(err)
			}
		}
		if rt.n > len(rt.bodies) {
			b.Logf("%d calls replayed %d distinct answers: later calls saw known tokens", rt.n, len(rt.bodies))
		}
	})
}

// recordedClient returns a client whose transport replays n token answers
// the emulator gave beforehand, each with a distinct token.
func recordedClient(b *testing.B, n int) (*faceki.Client, *replay) {
	b.Helper()
	emu := emulator.New(emulator.Options{})
	id, secret := emu.Credentials()
	target := "/auth/api/access-token?" + url.Values{"clientId": {id}, "clientSecret": {secret}}.Encode()
	rt := &replay{}
	for range n {
		rec := httptest.NewRecorder()
		emu.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
		if rec.Code != http.StatusOK {
			b.Fatalf("emulator answered %d", rec.Code)
		}
		rt.bodies = append(rt.bodies, rec.Body.Bytes())
	}
	c, err := faceki.NewClient(faceki.Config{BaseURL: "http://127.0.0.1:1", ClientID: id, ClientSecret: secret, Transport: rt})
	if err != nil {
		b.Fatal(err)
	}
	return c, rt
}

// replay answers each request with the next recorded body, cyclically.
type replay struct {
	bodies [][]byte
	n      int
}

func (r *replay) RoundTrip(req *http.Request) (*http.Response, error) {
	body := r.bodies[r.n%len(r.bodies)]
	r.n++
	return &http.Response{
		StatusCode: http.StatusOK, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"application/json; charset=utf-8"}},
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)), Request: req,
	}, nil
}

// BenchmarkAccessTokenAfter is a token fetch by a client that has already
// fetched `prior` tokens, with recorded answers (client only, no network
// noise). Every fetch registers the new token with the client's gate, which
// adds the token's runs to its matcher and rebuilds nothing: the cost per
// fetch does not grow with the tokens a client has fetched.
func BenchmarkAccessTokenAfter(b *testing.B) {
	for _, prior := range []int{0, 2000} {
		b.Run(fmt.Sprintf("prior=%d", prior), func(b *testing.B) {
			c, _ := recordedClient(b, prior+1000)
			ctx := context.Background()
			for range prior {
				if _, err := c.AccessToken(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.AccessToken(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSharedTokenHit is SharedToken when the cached token is fresh
// enough: what every open of faceki_access_token but the first costs.
func BenchmarkSharedTokenHit(b *testing.B) {
	c, srv := benchClient(b, faceki.EndpointAccessToken)
	ctx := context.Background()
	if _, err := c.SharedToken(ctx, 5*time.Minute); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.SharedToken(ctx, 5*time.Minute); err != nil {
			b.Fatal(err)
		}
	}
	if got := srv.TokenRequests(); got != 1 {
		b.Fatalf("emulator saw %d token requests, want 1", got)
	}
}

// BenchmarkSharedTokenHitParallel is the hit path from GOMAXPROCS goroutines
// at once, as the CLI opens instances concurrently (-parallelism=10).
func BenchmarkSharedTokenHitParallel(b *testing.B) {
	c, srv := benchClient(b, faceki.EndpointAccessToken)
	ctx := context.Background()
	if _, err := c.SharedToken(ctx, 5*time.Minute); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.SharedToken(ctx, 5*time.Minute); err != nil {
				b.Error(err)
				return
			}
		}
	})
	if got := srv.TokenRequests(); got != 1 {
		b.Fatalf("emulator saw %d token requests, want 1", got)
	}
}
