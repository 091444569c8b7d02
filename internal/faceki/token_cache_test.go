package faceki

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/faceki/terraform-provider-faceki/internal/emulator"
)

// await returns once the emulator's counts make done true; a minute
// without is a hang.
func await(t testing.TB, emu *emulator.Server, what string, done func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := emu.Await(ctx, done); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

// waiters reports, on the channel, how many callers wait for c's flight each
// time one starts waiting.
func waiters(c *Client) <-chan int {
	ch := make(chan int, 64)
	c.cache.waiting = func(n int) { ch <- n }
	return ch
}

// awaitWaiters returns once n callers wait for the flight.
func awaitWaiters(t testing.TB, ch <-chan int, n int) {
	t.Helper()
	for {
		select {
		case got := <-ch:
			if got >= n {
				return
			}
		case <-time.After(time.Minute):
			t.Fatalf("%d callers never waited for the flight", n)
		}
	}
}

type tokenResult struct {
	tok Token
	err error
	at  time.Time
}

// sharedAsync asks for a token with a minute of validity, in the background.
func sharedAsync(c *Client, ctx context.Context) <-chan tokenResult {
	ch := make(chan tokenResult, 1)
	go func() {
		tok, err := c.SharedToken(ctx, time.Minute)
		ch <- tokenResult{tok, err, time.Now()}
	}()
	return ch
}

func TestSharedTokenConcurrentCallersMakeOneRequest(t *testing.T) {
	t.Parallel()
	hold := make(chan struct{})
	emu := startEmu(t, emulator.Options{})
	emu.Faults(emulator.Fault{Name: "held", Hold: hold})
	cache := NewTokenCache()
	joined := make(chan int, 64)
	cache.waiting = func(n int) { joined <- n }
	// Five clients for the same account (one per provider configuration
	// instance) share one cache; fifty callers in all.
	clients := make([]*Client, 5)
	for i := range clients {
		clients[i] = newTestClient(t, emu.URL, func(c *Config) { c.Cache = cache })
	}
	const n = 50
	start := make(chan struct{})
	var wg sync.WaitGroup
	tokens := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			tok, err := clients[i%len(clients)].SharedToken(context.Background(), 5*time.Minute)
			tokens[i], errs[i] = tok.AccessToken, err
		}()
	}
	close(start)
	// Every caller waits for the one request, which is answered only then.
	for got := 0; got < n; {
		got = <-joined
	}
	close(hold)
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		if tokens[i] != tokens[0] {
			t.Fatalf("caller %d got a different token", i)
		}
	}
	if _, ok := emu.Issued(tokens[0]); !ok {
		t.Error("shared token not issued by the emulator")
	}
	if got := emu.TokenRequests(); got != 1 {
		t.Errorf("emulator saw %d token requests for %d concurrent callers, want 1", got, n)
	}
}

func TestSharedTokenReusedWhileValid(t *testing.T) {
	t.Parallel()
	emu := startEmu(t, emulator.Options{}) // tokens live 1 h
	c := newTestClient(t, emu.URL, nil)
	ctx := context.Background()
	first, err := c.SharedToken(ctx, 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for _, mv := range []time.Duration{0, 5 * time.Minute, 59 * time.Minute} {
		tok, err := c.SharedToken(ctx, mv)
		if err != nil {
			t.Fatalf("minValidity %s: %v", mv, err)
		}
		if tok.AccessToken != first.AccessToken || !tok.ExpiresAt.Equal(first.ExpiresAt) {
			t.Errorf("minValidity %s: got a new token", mv)
		}
	}
	if got := emu.TokenRequests(); got != 1 {
		t.Errorf("emulator saw %d token requests, want 1", got)
	}
	// More validity than the token FACEKI just issued had: a LifetimeError
	// at once, without another request (a fresh one would live no longer).
	_, err = c.SharedToken(ctx, 61*time.Minute)
	var lifeErr *LifetimeError
	if !errors.As(err, &lifeErr) {
		t.Fatalf("error = %v, want *LifetimeError", err)
	}
	if lifeErr.IssuedFor < 59*time.Minute || lifeErr.IssuedFor > time.Hour+time.Second {
		t.Errorf("IssuedFor = %s, want the hour FACEKI issued the token for", lifeErr.IssuedFor)
	}
	if got := emu.TokenRequests(); got != 1 {
		t.Errorf("emulator saw %d token requests, want 1", got)
	}
}

// A cached token with less than minValidity left is replaced; the cache's
// clock is moved forward instead of sleeping.
func TestSharedTokenRefreshedWhenRemainingLifeTooShort(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := n.Add(1)
		expiresIn := 600 // the first token lives 10 min, later ones 1 h
		if i > 1 {
			expiresIn = 3600
		}
		fmt.Fprintf(w, `{"responseCode":0,"data":{"access_token":"tok-%d","expires_in":%d,"token_type":"Bearer"}}`, i, expiresIn)
	}))
	t.Cleanup(srv.Close)
	var offset atomic.Int64
	cache := NewTokenCache()
	cache.now = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	c := newTestClient(t, srv.URL, func(c *Config) { c.Cache = cache })
	ctx := context.Background()
	steps := []struct {
		offset time.Duration
		want   string
		reqs   int32
	}{
		{0, "tok-1", 1},
		{6 * time.Minute, "tok-1", 1}, // 4 min left ≥ 3 min
		{7*time.Minute - time.Second, "tok-1", 1},
		{8 * time.Minute, "tok-2", 2}, // 2 min left < 3 min: refresh
		{9 * time.Minute, "tok-2", 2}, // the new token is cached
		{50 * time.Minute, "tok-2", 2},
		{56 * time.Minute, "tok-2", 2},
	}
	for _, s := range steps {
		offset.Store(int64(s.offset))
		tok, err := c.SharedToken(ctx, 3*time.Minute)
		if err != nil {
			t.Fatalf("at +%s: %v", s.offset, err)
		}
		if tok.AccessToken != s.want || n.Load() != s.reqs {
			t.Errorf("at +%s: got %q after %d requests, want %q after %d", s.offset, tok.AccessToken, n.Load(), s.want, s.reqs)
		}
	}
}

// The same with the emulator: tokens of 3 s, 2 s wanted. The clock of the
// cache and of the emulator moves forward instead of the test waiting.
func TestSharedTokenRefreshedWhenRemainingLifeTooShortEmulator(t *testing.T) {
	t.Parallel()
	var ahead atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
	emu := startEmu(t, emulator.Options{ExpiresIn: 3 * time.Second, Now: now})
	c := newTestClient(t, emu.URL, nil)
	c.cache.now = now
	ctx := context.Background()
	first, err := c.SharedToken(ctx, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.SharedToken(ctx, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if again.AccessToken != first.AccessToken || emu.TokenRequests() != 1 {
		t.Fatalf("second call: new token = %v, %d requests", again.AccessToken != first.AccessToken, emu.TokenRequests())
	}
	ahead.Store(int64(time.Until(first.ExpiresAt.Add(-2*time.Second + 50*time.Millisecond))))
	fresh, err := c.SharedToken(ctx, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if fresh.AccessToken == first.AccessToken || emu.TokenRequests() != 2 {
		t.Errorf("after the remaining life fell below 2 s: new token = %v, %d requests; want a new one after 2",
			fresh.AccessToken != first.AccessToken, emu.TokenRequests())
	}
	if _, ok := emu.Issued(fresh.AccessToken); !ok {
		t.Error("fresh token not issued by the emulator")
	}
}

func TestSharedTokenLifetimeError(t *testing.T) {
	t.Parallel()
	emu := startEmu(t, emulator.Options{ExpiresIn: time.Minute})
	c := newTestClient(t, emu.URL, nil)
	ctx := context.Background()
	_, err := c.SharedToken(ctx, 5*time.Minute)
	var lifeErr *LifetimeError
	if !errors.As(err, &lifeErr) {
		t.Fatalf("error = %v (%T), want *LifetimeError", err, err)
	}
	if lifeErr.MinValidity != 5*time.Minute || lifeErr.Lifetime <= 55*time.Second || lifeErr.Lifetime > time.Minute {
		t.Errorf("LifetimeError = %+v, want about 1 min of lifetime against 5 min", *lifeErr)
	}
	toks := emu.IssuedTokens()
	if len(toks) != 1 {
		t.Fatalf("emulator issued %d tokens", len(toks))
	}
	exp, _ := emu.Issued(toks[0])
	if d := lifeErr.ExpiresAt.Sub(exp); d < -time.Second || d > time.Second {
		t.Errorf("ExpiresAt = %s, emulator says %s", lifeErr.ExpiresAt, exp)
	}
	// The JWT's exp has whole seconds: the life left is 59 s to 1 min.
	wantContains(t, err.Error(), "the freshest FACEKI access token expires at "+lifeErr.ExpiresAt.UTC().Format(time.RFC3339),
		lifeErr.Lifetime.Round(time.Second).String()+" from now, which is less than the 5m0s of validity asked for")
	assertNoSecret(t, err.Error(), testSecret, toks[0])
	// The token is still good for a caller that asks for less.
	tok, err := c.SharedToken(ctx, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != toks[0] || emu.TokenRequests() != 1 {
		t.Errorf("a caller asking for 30 s did not reuse the cached token (%d requests)", emu.TokenRequests())
	}
}

func TestSharedTokenFailureNotCached(t *testing.T) {
	t.Parallel()
	hold := make(chan struct{})
	emu := startEmu(t, emulator.Options{})
	held := emulator.Unavailable
	held.Hold = hold
	emu.Faults(held)
	c := newTestClient(t, emu.URL, nil)
	joined := waiters(c)
	ctx := context.Background()
	// Five callers share the failing request and all see its error.
	first := sharedAsync(c, ctx)
	await(t, emu, "the first request", func() bool { return emu.TokenRequests() == 1 })
	var others []<-chan tokenResult
	for range 4 {
		others = append(others, sharedAsync(c, ctx))
	}
	awaitWaiters(t, joined, 5)
	close(hold)
	for i, ch := range append([]<-chan tokenResult{first}, others...) {
		r := <-ch
		apiErr := wantAPIError(t, r.err, KindUnavailable)
		if apiErr.HTTPStatus != 503 {
			t.Errorf("caller %d: HTTPStatus = %d", i, apiErr.HTTPStatus)
		}
	}
	if got := emu.TokenRequests(); got != 1 {
		t.Errorf("emulator saw %d token requests, want 1 (shared)", got)
	}
	// The failure is not cached: the next call asks again and succeeds.
	tok, err := c.SharedToken(ctx, time.Minute)
	if err != nil {
		t.Fatalf("after a failure: %v", err)
	}
	if _, ok := emu.Issued(tok.AccessToken); !ok || emu.TokenRequests() != 2 {
		t.Errorf("issued = %v, %d requests; want a token after 2", ok, emu.TokenRequests())
	}
}

// One caller's cancellation, even the caller that started the request, does
// not fail the others waiting for it, nor the request itself.
func TestSharedTokenCancelledCallerDoesNotFailOthers(t *testing.T) {
	t.Parallel()
	hold := make(chan struct{})
	emu := startEmu(t, emulator.Options{})
	emu.Faults(emulator.Fault{Name: "held", Hold: hold})
	c := newTestClient(t, emu.URL, nil)
	joined := waiters(c)
	ctxA, cancelA := context.WithCancel(context.Background())
	defer cancelA()
	a := sharedAsync(c, ctxA) // the leader
	await(t, emu, "the leader's request", func() bool { return emu.TokenRequests() == 1 })
	b := sharedAsync(c, context.Background()) // joins the flight
	awaitWaiters(t, joined, 2)
	cancelA()
	ra := <-a
	if !errors.Is(ra.err, context.Canceled) {
		t.Fatalf("cancelled caller: error = %v, want context.Canceled", ra.err)
	}
	close(hold) // the answer comes only after the leader has gone
	rb := <-b
	if rb.err != nil {
		t.Fatalf("other caller failed: %v", rb.err)
	}
	if _, ok := emu.Issued(rb.tok.AccessToken); !ok {
		t.Error("other caller's token not issued by the emulator")
	}
	// The request completed and was cached for everyone.
	tok, err := c.SharedToken(context.Background(), time.Minute)
	if err != nil || tok.AccessToken != rb.tok.AccessToken {
		t.Errorf("later caller: %v, same token = %v", err, tok.AccessToken == rb.tok.AccessToken)
	}
	if got := emu.TokenRequests(); got != 1 {
		t.Errorf("emulator saw %d token requests, want 1", got)
	}
}

// A caller whose context is already done returns at once, but the request
// it started still completes and is cached.
func TestSharedTokenCallerAlreadyCancelled(t *testing.T) {
	t.Parallel()
	emu := startEmu(t, emulator.Options{Latency: 100 * time.Millisecond})
	c := newTestClient(t, emu.URL, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.SharedToken(ctx, time.Minute); !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	tok, err := c.SharedToken(context.Background(), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := emu.Issued(tok.AccessToken); !ok || emu.TokenRequests() != 1 {
		t.Errorf("issued = %v, %d requests; want the first request's token", ok, emu.TokenRequests())
	}
}

// A token whose expiry is unknown cannot be judged fresh: it goes to the
// caller that started the request, and every other caller gets its own.
func TestSharedTokenWithoutExpiryNotShared(t *testing.T) {
	t.Parallel()
	hold := make(chan struct{})
	emu := startEmu(t, emulator.Options{OmitExpiresIn: true, OmitJWTExp: true})
	emu.Faults(emulator.Fault{Name: "held", Hold: hold})
	c := newTestClient(t, emu.URL, nil)
	joined := waiters(c)
	ctx := context.Background()
	leader := sharedAsync(c, ctx)
	await(t, emu, "the leader's request", func() bool { return emu.TokenRequests() == 1 })
	followers := []<-chan tokenResult{sharedAsync(c, ctx), sharedAsync(c, ctx)}
	awaitWaiters(t, joined, 3)
	close(hold)
	seen := map[string]bool{}
	for i, ch := range append([]<-chan tokenResult{leader}, followers...) {
		r := <-ch
		if r.err != nil {
			t.Fatalf("caller %d: %v", i, r.err)
		}
		if !r.tok.ExpiresAt.IsZero() {
			t.Errorf("caller %d: ExpiresAt = %s, want zero", i, r.tok.ExpiresAt)
		}
		if _, ok := emu.Issued(r.tok.AccessToken); !ok {
			t.Errorf("caller %d: token not issued by the emulator", i)
		}
		if seen[r.tok.AccessToken] {
			t.Errorf("caller %d got a token another caller has", i)
		}
		seen[r.tok.AccessToken] = true
	}
	if got := emu.TokenRequests(); got != 3 {
		t.Errorf("emulator saw %d token requests, want 3 (one per caller)", got)
	}
	// Nor is it cached for later callers.
	tok, err := c.SharedToken(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if seen[tok.AccessToken] || emu.TokenRequests() != 4 {
		t.Errorf("later caller reused a token without expiry (%d requests)", emu.TokenRequests())
	}
}

func TestSharedTokenCacheKeyedByAccount(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("base URL", func(t *testing.T) {
		t.Parallel()
		cache := NewTokenCache()
		emuA, emuB := startEmu(t, emulator.Options{}), startEmu(t, emulator.Options{})
		a := newTestClient(t, emuA.URL, func(c *Config) { c.Cache = cache })
		b := newTestClient(t, emuB.URL, func(c *Config) { c.Cache = cache })
		ta, err := a.SharedToken(ctx, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		tb, err := b.SharedToken(ctx, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if ta.AccessToken == tb.AccessToken {
			t.Fatal("two base URLs got the same token")
		}
		if _, ok := emuA.Issued(ta.AccessToken); !ok {
			t.Error("A's token not from A")
		}
		if _, ok := emuB.Issued(tb.AccessToken); !ok {
			t.Error("B's token not from B")
		}
		// Each is cached under its own key.
		for _, cl := range []*Client{a, b} {
			if _, err := cl.SharedToken(ctx, time.Minute); err != nil {
				t.Fatal(err)
			}
		}
		if emuA.TokenRequests() != 1 || emuB.TokenRequests() != 1 {
			t.Errorf("requests: A %d, B %d; want 1 each", emuA.TokenRequests(), emuB.TokenRequests())
		}
		// The same base URL spelt with a trailing slash is the same account.
		a2 := newTestClient(t, emuA.URL+"/", func(c *Config) { c.Cache = cache })
		if t2, err := a2.SharedToken(ctx, time.Minute); err != nil || t2.AccessToken != ta.AccessToken {
			t.Errorf("trailing slash: %v, same token = %v", err, t2.AccessToken == ta.AccessToken)
		}
	})

	t.Run("secret", func(t *testing.T) {
		t.Parallel()
		cache := NewTokenCache()
		emu := startEmu(t, emulator.Options{})
		good := newTestClient(t, emu.URL, func(c *Config) { c.Cache = cache })
		bad := newTestClient(t, emu.URL, func(c *Config) { c.Cache = cache; c.ClientSecret = testSecret + "-wrong" })
		if _, err := good.SharedToken(ctx, time.Minute); err != nil {
			t.Fatal(err)
		}
		// The wrong secret must not be handed the right secret's token.
		_, err := bad.SharedToken(ctx, time.Minute)
		_ = wantAPIError(t, err, KindCredentials)
		if got := emu.TokenRequests(); got != 2 {
			t.Errorf("emulator saw %d token requests, want 2", got)
		}
	})

	t.Run("client id and endpoint", func(t *testing.T) {
		t.Parallel()
		var mu sync.Mutex
		counts := map[string]int{}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id := r.URL.Query().Get("clientId")
			if r.Method == http.MethodPost {
				b, _ := io.ReadAll(r.Body)
				id = "post:" + strings.Split(strings.Split(string(b), `"clientId":"`)[1], `"`)[0]
			}
			mu.Lock()
			counts[id]++
			n := counts[id]
			mu.Unlock()
			fmt.Fprintf(w, `{"responseCode":0,"data":{"access_token":"tok-%s-%d","expires_in":3600}}`, id, n)
		}))
		t.Cleanup(srv.Close)
		cache := NewTokenCache()
		mk := func(id string, ep TokenEndpoint) *Client {
			return newTestClient(t, srv.URL, func(c *Config) { c.Cache = cache; c.ClientID = id; c.TokenEndpoint = ep })
		}
		want := map[*Client]string{
			mk("one", EndpointAccessToken):   "tok-one-1",
			mk("two", EndpointAccessToken):   "tok-two-1",
			mk("one", EndpointGenerateToken): "tok-post:one-1",
		}
		for round := range 2 {
			for cl, w := range want {
				tok, err := cl.SharedToken(ctx, time.Minute)
				if err != nil {
					t.Fatal(err)
				}
				if tok.AccessToken != w {
					t.Errorf("round %d: got %q, want %q", round, tok.AccessToken, w)
				}
			}
		}
		mu.Lock()
		defer mu.Unlock()
		if len(counts) != 3 || counts["one"] != 1 || counts["two"] != 1 || counts["post:one"] != 1 {
			t.Errorf("requests per account = %v, want one each", counts)
		}
	})
}

func TestCacheKeyHidesSecret(t *testing.T) {
	t.Parallel()
	k1 := cacheKey("https://sdk.faceki.com", "id", testSecret, EndpointAccessToken)
	k2 := cacheKey("https://sdk.faceki.com", "id", testSecret+"x", EndpointAccessToken)
	k3 := cacheKey("https://sdk.faceki.com", "id", testSecret, EndpointGenerateToken)
	k4 := cacheKey("https://sdk.faceki.com", "id2", testSecret, EndpointAccessToken)
	if k1 == k2 || k1 == k3 || k1 == k4 {
		t.Error("distinct accounts share a cache key")
	}
	if k1 != cacheKey("https://sdk.faceki.com", "id", testSecret, EndpointAccessToken) {
		t.Error("cache key is not deterministic")
	}
	assertNoSecret(t, k1, testSecret)
}

// TestSharedTokenJWTExpBeforeExpiresIn: a JWT that expires in 4 minutes is
// not shared for the hour its expires_in claims, and a caller asking for 5
// minutes gets a LifetimeError naming both durations and the JWT's exp.
func TestSharedTokenJWTExpBeforeExpiresIn(t *testing.T) {
	t.Parallel()
	emu := startEmu(t, emulator.Options{ExpiresIn: time.Hour, JWTLifetime: 4 * time.Minute})
	c := newTestClient(t, emu.URL, nil)
	ctx := context.Background()
	if _, err := c.SharedToken(ctx, 3*time.Minute); err != nil {
		t.Fatal(err)
	}
	_, err := c.SharedToken(ctx, 5*time.Minute)
	var lifeErr *LifetimeError
	if !errors.As(err, &lifeErr) {
		t.Fatalf("error = %v, want *LifetimeError", err)
	}
	if lifeErr.Lifetime > 4*time.Minute || lifeErr.Lifetime < 3*time.Minute+55*time.Second {
		t.Errorf("Lifetime = %s, want about 4 min", lifeErr.Lifetime)
	}
	wantContains(t, err.Error(), "less than the 5m0s of validity asked for",
		"(FACEKI's answer gave it 4m0s, by the JWT's exp − iat)")
	// The token FACEKI issued lived 4 minutes: a fresh one would not be good
	// enough either, so none is fetched.
	if got := emu.TokenRequests(); got != 1 {
		t.Errorf("emulator saw %d token requests, want 1", got)
	}
}

// TestSharedTokenCancelledWhenLastWaiterLeaves: the shared request survives
// one caller's cancellation while another waits, and stops as soon as the
// last one has gone, instead of retrying to its worst case.
func TestSharedTokenCancelledWhenLastWaiterLeaves(t *testing.T) {
	t.Parallel()
	var requests atomic.Int32
	arrived, ended := make(chan struct{}, 8), make(chan struct{}, 8)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		arrived <- struct{}{}
		<-r.Context().Done() // hang until the client gives up
		ended <- struct{}{}
	}))
	t.Cleanup(srv.Close)
	c := newTestClient(t, srv.URL, func(c *Config) { c.RequestTimeout = time.Minute; c.MaxRetries = 3 })
	joined := waiters(c)

	ctxA, cancelA := context.WithCancel(context.Background())
	ctxB, cancelB := context.WithCancel(context.Background())
	defer cancelA()
	defer cancelB()
	a := sharedAsync(c, ctxA)
	<-arrived
	c.cache.mu.Lock()
	f := c.cache.entries[c.cacheKey].flight
	c.cache.mu.Unlock()
	b := sharedAsync(c, ctxB)
	awaitWaiters(t, joined, 2)

	cancelA()
	if r := <-a; !errors.Is(r.err, context.Canceled) {
		t.Fatalf("first caller: %v, want context.Canceled", r.err)
	}
	select {
	case <-f.done:
		t.Fatal("the request ended although a caller still waits")
	default:
	}
	cancelB()
	if r := <-b; !errors.Is(r.err, context.Canceled) {
		t.Fatalf("second caller: %v, want context.Canceled", r.err)
	}
	// The flight ends now, not after request_timeout (1 min) and 3 retries.
	select {
	case <-f.done:
	case <-time.After(30 * time.Second):
		t.Fatal("the request still runs 30 s after its last caller left (request_timeout 1 min, 3 retries)")
	}
	<-ended
	if got := requests.Load(); got != 1 {
		t.Errorf("server saw %d requests, want 1: a cancelled request must not be retried", got)
	}

	// The next caller starts afresh rather than joining the cancelled request.
	ctxC, cancelC := context.WithCancel(context.Background())
	c2 := sharedAsync(c, ctxC)
	<-arrived
	cancelC()
	if r := <-c2; !errors.Is(r.err, context.Canceled) || requests.Load() != 2 {
		t.Errorf("third caller: %v after %d requests, want its own cancellation after 2", r.err, requests.Load())
	}
}

// An open's deadline is taken once, when it starts, and bounds every fetch
// it waits for or makes. A follower that waited for a flight whose token has
// no known expiry (so is not shared) then fetches its own, within what is
// left of its bound, not with a bound of its own afresh: it once returned
// after 2.3 s with MaxDuration 1.5 s.
func TestSharedTokenFollowerDeadline(t *testing.T) {
	t.Parallel()
	const latency = 1200 * time.Millisecond
	emu := startEmu(t, emulator.Options{OmitExpiresIn: true, OmitJWTExp: true, Latency: latency})
	c := newTestClient(t, emu.URL, func(c *Config) { c.RequestTimeout, c.MaxRetries = 1500*time.Millisecond, 0 })
	bound := c.MaxDuration()
	if bound != 1500*time.Millisecond {
		t.Fatalf("MaxDuration = %s, want 1.5s", bound)
	}
	ctx := context.Background()
	leader := sharedAsync(c, ctx)
	await(t, emu, "the leader's request", func() bool { return emu.TokenRequests() == 1 })
	// It waits for the leader's flight (latency), then fetches its own with
	// what is left of its bound (300 ms), less than the latency: it fails.
	// With a bound of its own it would succeed.
	_, err := c.SharedToken(ctx, time.Minute)
	tErr := wantTransportError(t, err)
	if !tErr.Timeout {
		t.Errorf("transport error is not a timeout: %v", err)
	}
	wantContains(t, err.Error(), "no answer before the deadline: an open takes at most (max_retries + 1) × request_timeout + max_retries × 30s, 1.5s with max_retries 0 and request_timeout 1.5s")
	if got := emu.TokenRequests(); got != 2 {
		t.Errorf("emulator saw %d token requests, want 2 (the leader's, the follower's own)", got)
	}
	if r := <-leader; r.err != nil {
		t.Errorf("leader: %v", r.err)
	}
}
