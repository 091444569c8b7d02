package faceki

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"time"
)

// TokenCache shares one token per account among all callers of a provider
// process. FACEKI asks that tokens be regenerated only once they expire, and
// the CLI opens every ephemeral resource instance in each walk: N instances
// must cost one request, not N.
type TokenCache struct {
	mu      sync.Mutex
	entries map[string]*cacheEntry
	now     func() time.Time
}

type cacheEntry struct {
	token  *Token  // the newest token, nil until one succeeds
	flight *flight // the request under way, nil when none
}

// flight is one token request that any number of callers wait for. It is
// cancelled when its last waiter leaves: nobody is left to hand a token to.
type flight struct {
	done    chan struct{}
	tok     Token
	err     error
	waiters int                // callers still waiting; guarded by TokenCache.mu
	cancel  context.CancelFunc // stops the request
}

// NewTokenCache returns an empty cache.
func NewTokenCache() *TokenCache {
	return &TokenCache{entries: map[string]*cacheEntry{}, now: time.Now}
}

// cacheKey identifies an account without keeping its secret in memory twice.
func cacheKey(baseURL, clientID, secret string, endpoint TokenEndpoint) string {
	sum := sha256.Sum256([]byte(secret))
	return baseURL + "\x00" + clientID + "\x00" + hex.EncodeToString(sum[:]) + "\x00" + string(endpoint)
}

// SharedToken returns a token with at least minValidity of life left. It
// reuses the cached token when that holds; otherwise it joins the request
// under way or starts one. The request is not bound to the first caller's
// context (one caller's cancellation must not fail the others), but it is
// bounded by MaxDuration and cancelled once every caller waiting for it has
// gone; each caller returns as soon as its own ctx ends. Failures are not
// cached. A token whose expiry is unknown is never shared: its caller keeps
// it and every other caller fetches its own.
func (c *Client) SharedToken(ctx context.Context, minValidity time.Duration) (Token, error) {
	tc := c.cache
	tc.mu.Lock()
	e := tc.entries[c.cacheKey]
	if e == nil {
		e = &cacheEntry{}
		tc.entries[c.cacheKey] = e
	}
	if e.token != nil && e.token.CheckValidity(tc.now(), minValidity) == nil {
		tok := *e.token
		tc.mu.Unlock()
		return tok, nil
	}
	f := e.flight
	leader := f == nil
	if leader {
		reqCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.MaxDuration())
		f = &flight{done: make(chan struct{}), cancel: cancel}
		e.flight = f
		go c.fly(reqCtx, e, f)
	}
	f.waiters++
	tc.mu.Unlock()

	select {
	case <-f.done:
	case <-ctx.Done():
		tc.mu.Lock()
		if f.waiters--; f.waiters == 0 {
			f.cancel()
			if e.flight == f {
				e.flight = nil // the next caller starts afresh
			}
		}
		tc.mu.Unlock()
		return Token{}, ctx.Err()
	}
	if f.err != nil {
		return Token{}, f.err
	}
	if f.tok.ExpiresAt.IsZero() {
		if leader {
			return f.tok, nil
		}
		return c.AccessToken(ctx)
	}
	if err := f.tok.CheckValidity(tc.now(), minValidity); err != nil {
		return Token{}, err
	}
	return f.tok, nil
}

func (c *Client) fly(ctx context.Context, e *cacheEntry, f *flight) {
	defer f.cancel()
	tok, err := c.AccessToken(ctx)

	c.cache.mu.Lock()
	f.tok, f.err = tok, err
	if err == nil && !tok.ExpiresAt.IsZero() {
		e.token = &tok
	}
	if e.flight == f {
		e.flight = nil
	}
	c.cache.mu.Unlock()
	close(f.done)
}
