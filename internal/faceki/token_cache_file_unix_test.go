//go:build unix

package faceki

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/faceki/terraform-provider-faceki/internal/emulator"
	"github.com/faceki/terraform-provider-faceki/internal/gate"
)

// stuckLockHolder starts another process that takes the token file's lock
// at lockPath and then stops (SIGSTOP): a holder that never lets go.
func stuckLockHolder(t *testing.T, lockPath string) {
	t.Helper()
	cmd, _ := lockHolder(t, lockPath, "stuck:")
	if err := cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Signal(syscall.SIGCONT) })
}

// TestSharedTokenBoundWithStuckLock: a lock held by a stopped process and a
// FACEKI that never answers still end an open within its one bound,
// MaxDuration: waiting for the lock takes from the same deadline as
// fetching, so the fetch runs out of it before its request_timeout. Each
// attempt's request_timeout runs out first when retries leave room.
func TestSharedTokenBoundWithStuckLock(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		retries int
		timeout time.Duration
		want    []string
	}{
		{"the bound runs out", 0, 2 * time.Second, []string{"no answer before the deadline: an open takes at most " +
			"(max_retries + 1) × request_timeout + max_retries × 30s, 2s with max_retries 0 and request_timeout 2s"}},
		{"each attempt runs out", 1, time.Second, []string{"no answer within request_timeout (1s)", "(after 2 attempts)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			emu := startEmu(t, emulator.Options{})
			emu.Faults(emulator.Hang(time.Minute), emulator.Hang(time.Minute), emulator.Hang(time.Minute))
			c := newTestClient(t, emu.URL, func(c *Config) {
				c.Cache, c.Gate, c.TokenCacheDir = NewTokenCache(), gate.New(), t.TempDir()
				c.MaxRetries, c.RequestTimeout = tc.retries, tc.timeout
			})
			if c.files == nil {
				t.Fatalf("no token file: %v", c.TokenCacheError())
			}
			stuckLockHolder(t, c.files.lockPath)

			_, err := c.SharedToken(context.Background(), time.Minute)
			var netErr *TransportError
			if !errors.As(err, &netErr) || !netErr.Timeout {
				t.Fatalf("error = %v, want a timeout", err)
			}
			wantContains(t, err.Error(), tc.want...)
			if got := emu.TokenRequests(); got != tc.retries+1 {
				t.Errorf("emulator saw %d token requests, want %d", got, tc.retries+1)
			}
		})
	}
}

// TestSharedTokenLogsLockCauses: a lock that cannot be taken is logged with
// its real cause, not as "not had in time", and the token is fetched anyway;
// a lock another process holds is logged as held.
func TestSharedTokenLogsLockCauses(t *testing.T) {
	t.Parallel()
	emu := startEmu(t, emulator.Options{})
	var log recLogger
	dir := t.TempDir()
	c := newTestClient(t, emu.URL, func(c *Config) {
		c.Cache, c.Gate, c.TokenCacheDir, c.Logger = NewTokenCache(), gate.New(), dir, &log
		c.RequestTimeout = time.Second
	})
	if err := os.Symlink(filepath.Join(dir, "elsewhere"), c.files.lockPath); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SharedToken(context.Background(), time.Minute); err != nil {
		t.Fatal(err)
	}
	wantContains(t, log.String(), "WARN FACEKI token file lock failed; fetching a token anyway", "too many levels of symbolic links")

	var log2 recLogger
	c2 := newTestClient(t, emu.URL, func(c *Config) {
		c.Cache, c.Gate, c.TokenCacheDir, c.Logger = NewTokenCache(), gate.New(), t.TempDir(), &log2
		c.RequestTimeout = time.Second
	})
	stuckLockHolder(t, c2.files.lockPath)
	if _, err := c2.SharedToken(context.Background(), time.Minute); err != nil {
		t.Fatal(err)
	}
	wantContains(t, log2.String(), "WARN FACEKI token file locked by another process for as long as an open waits; fetching a token anyway map[waited:")
	if got := emu.TokenRequests(); got != 2 {
		t.Errorf("emulator saw %d token requests, want 2", got)
	}
}
