package faceki

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
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
	now     func() time.Time // the clock of lives and of requests sent; tests move it
	// waiting, when set, is called each time a caller starts waiting for a
	// flight, with how many wait for it: tests know when one has joined.
	waiting func(waiters int)
}

type cacheEntry struct {
	token  *Token  // the newest token, nil until one succeeds
	flight *flight // the request under way, nil when none
	// fresh is the life of the newest token FACEKI issued: a min_validity
	// longer than that fails at once, without another request.
	fresh time.Duration
}

// flight is one token request that any number of callers wait for. It is
// cancelled when its last waiter leaves: nobody is left to hand a token to.
type flight struct {
	done    chan struct{}
	tok     Token
	source  string // where the token came from: "file cache" or "FACEKI"
	err     error
	waiters int                // callers still waiting; guarded by TokenCache.mu
	cancel  context.CancelFunc // stops the request
}

// Token sources, as the debug log names them.
const (
	fromMemory = "memory"
	fromFile   = "file cache"
	fromFACEKI = "FACEKI"
)

// servedFromMemory is the log fields of a memory hit. Loggers must not
// change the fields they are given.
var servedFromMemory = map[string]any{"source": fromMemory}

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
// under way or starts one, which first looks in the token file when the
// client has one (see Config.TokenCacheDir). The request is not bound to the
// first caller's context (one caller's cancellation must not fail the
// others), but it is cancelled once every caller waiting for it has gone;
// each caller returns as soon as its own ctx ends. A call never takes longer
// than MaxDuration, whatever another process does with the token file's
// lock: waiting for it and fetching share that budget, taken once when the
// call starts, and so do every fetch and retry it makes or waits for.
// Failures are not cached. A token whose expiry is unknown is never shared:
// its caller keeps it and every other caller fetches its own.
func (c *Client) SharedToken(ctx context.Context, minValidity time.Duration) (Token, error) {
	// One deadline for the whole call: a caller that waited for another's
	// flight and then fetches its own must not get a fresh budget.
	deadline := time.Now().Add(c.MaxDuration())
	// A flight started for less validity than this caller needs may bring
	// back a cached token too short for it: then a flight of its own, which
	// fetches from FACEKI unless the file has a better token by then.
	for try := 0; ; try++ {
		tok, source, err := c.sharedToken(ctx, minValidity, deadline)
		if err != nil {
			var lifeErr *LifetimeError
			if errors.As(err, &lifeErr) && source != fromFACEKI && try == 0 {
				continue
			}
			return Token{}, err
		}
		if c.log != nil {
			fields := servedFromMemory // every open but the first: no work for a line that is mostly off
			if source != fromMemory {
				fields = map[string]any{"source": source, "expires_at": tok.ExpiresAt.Format(time.RFC3339)}
			}
			c.log.Info(ctx, "FACEKI access token served", fields)
		}
		return tok, nil
	}
}

// sharedToken is one pass of SharedToken; source says where the token (or
// the token that was too short) came from.
func (c *Client) sharedToken(ctx context.Context, minValidity time.Duration, deadline time.Time) (Token, string, error) {
	tc := c.cache
	tc.mu.Lock()
	e := tc.entries[c.cacheKey]
	if e == nil {
		e = &cacheEntry{}
		tc.entries[c.cacheKey] = e
	}
	if e.token != nil {
		err := e.token.CheckValidity(tc.now(), minValidity)
		if err == nil {
			tok := *e.token
			tc.mu.Unlock()
			return tok, fromMemory, nil
		}
		if e.fresh > 0 && minValidity > e.fresh {
			tc.mu.Unlock()
			return Token{}, fromFACEKI, err // a fresh token could not satisfy it either
		}
	}
	f := e.flight
	leader := f == nil
	if leader && ctx.Err() != nil {
		// Nobody would wait for it: no request to FACEKI.
		tc.mu.Unlock()
		return Token{}, "", ctx.Err()
	}
	if leader {
		reqCtx, cancel := context.WithDeadline(context.WithoutCancel(ctx), deadline)
		f = &flight{done: make(chan struct{}), cancel: cancel}
		e.flight = f
		go c.fly(reqCtx, e, f, minValidity)
	}
	f.waiters++
	waiters := f.waiters
	tc.mu.Unlock()
	if tc.waiting != nil {
		tc.waiting(waiters)
	}

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
		return Token{}, "", ctx.Err()
	}
	if f.err != nil {
		return Token{}, f.source, f.err
	}
	if f.tok.ExpiresAt.IsZero() {
		if leader {
			return f.tok, f.source, nil
		}
		reqCtx, cancel := context.WithDeadline(ctx, deadline)
		defer cancel()
		tok, err := c.AccessToken(reqCtx)
		return tok, fromFACEKI, err
	}
	if err := f.tok.CheckValidity(tc.now(), minValidity); err != nil {
		return Token{}, f.source, err
	}
	return f.tok, f.source, nil
}

func (c *Client) fly(ctx context.Context, e *cacheEntry, f *flight, minValidity time.Duration) {
	defer f.cancel()
	tok, source, err := c.obtain(ctx, minValidity)

	c.cache.mu.Lock()
	f.tok, f.source, f.err = tok, source, err
	if err == nil && !tok.ExpiresAt.IsZero() {
		e.token = &tok
		if source == fromFACEKI {
			e.fresh = tok.IssuedFor
		}
	}
	if e.flight == f {
		e.flight = nil
	}
	c.cache.mu.Unlock()
	close(f.done)
}

// obtain gets a token for a flight: from the token file when it holds one
// with minValidity left, else from FACEKI. With a file, the fetch happens
// under the account's cross-process lock, so that provider processes started
// at once (parallel pipelines, the walks of one run) make one request between
// them: a process that waited for the lock reads the file again first. A
// lock not had in time means fetching anyway: it waits at most one
// request_timeout (the holder is fetching the token it will share; one
// that holds it longer is stuck or retrying), and at most until half the
// time to ctx's deadline has passed, so that the fetch has time too.
func (c *Client) obtain(ctx context.Context, minValidity time.Duration) (Token, string, error) {
	if c.files == nil {
		tok, err := c.AccessToken(ctx)
		return tok, fromFACEKI, err
	}
	if tok, ok := c.fromFile(minValidity); ok {
		return tok, fromFile, nil
	}
	start, wait := time.Now(), c.timeout
	if deadline, ok := ctx.Deadline(); ok {
		wait = min(wait, deadline.Sub(start)/2)
	}
	unlock, lockErr := c.files.Lock(ctx, start.Add(wait))
	defer unlock()
	switch {
	case lockErr == nil:
		if tok, ok := c.fromFile(minValidity); ok {
			return tok, fromFile, nil
		}
	case ctx.Err() != nil:
	case c.log == nil:
	case errors.Is(lockErr, ErrLockBusy):
		c.log.Warn(ctx, "FACEKI token file locked by another process for as long as an open waits; fetching a token anyway",
			map[string]any{"waited": time.Since(start).Round(time.Millisecond).String()})
	default:
		c.log.Warn(ctx, "FACEKI token file lock failed; fetching a token anyway", map[string]any{"error": lockErr.Error()})
	}
	tok, err := c.AccessToken(ctx)
	if err != nil {
		return Token{}, fromFACEKI, err
	}
	if err := c.files.Save(tok); err != nil && c.log != nil {
		c.log.Warn(ctx, "FACEKI token not written to the token file", map[string]any{"error": err.Error()})
	}
	return tok, fromFACEKI, nil
}

// fromFile returns the file's token when it has minValidity left. The gate
// learns it at once: it is a token like any other.
func (c *Client) fromFile(minValidity time.Duration) (Token, bool) {
	now := c.cache.now()
	tok, ok := c.files.Load(now)
	if !ok {
		return Token{}, false
	}
	c.gate.AddToken(tokenSecret(tok.AccessToken))
	return tok, tok.CheckValidity(now, minValidity) == nil
}
