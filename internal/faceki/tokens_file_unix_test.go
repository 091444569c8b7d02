//go:build unix

package faceki

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/faceki/terraform-provider-faceki/internal/emulator"
	"github.com/faceki/terraform-provider-faceki/internal/redact"
)

// stuckLockHolder starts another process that takes the token file's lock
// at lockPath and then stops (SIGSTOP): a holder that never lets go.
func stuckLockHolder(t *testing.T, lockPath string) {
	t.Helper()
	marks := t.TempDir()
	cmd := fsHelper(t, lockPath, "stuck:"+marks)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGCONT)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(marks, "held")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the holder never took the lock\n%s", out.String())
		}
	}
	if err := cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
}

// TestSharedTokenBoundWithStuckLock: a lock held by a stopped process and a
// FACEKI that never answers still end an open within its one bound,
// MaxDuration, instead of waiting that long for the lock and as long again
// to fetch. The error says which part ran out: the whole bound (and how much
// of it the lock took), or each attempt's request_timeout.
func TestSharedTokenBoundWithStuckLock(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		retries int
		timeout time.Duration
		want    []string
	}{
		{"the bound runs out", 0, 2 * time.Second, []string{
			"no answer within 2s, the longest one token request may take ((max_retries + 1) × request_timeout + max_retries × 30s, " +
				"with max_retries 0 and request_timeout 2s), of which 1",
			"s went waiting for another process's lock on the token file"}},
		{"each attempt runs out", 1, time.Second, []string{"no answer within request_timeout (1s)", "(after 2 attempts)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			emu := startEmu(t, emulator.Options{})
			emu.Faults(emulator.Hang(time.Minute), emulator.Hang(time.Minute), emulator.Hang(time.Minute))
			c := newTestClient(t, emu.URL, func(c *Config) {
				c.Cache, c.Redactor, c.TokenCacheDir = NewTokenCache(), redact.New(), t.TempDir()
				c.MaxRetries, c.RequestTimeout = tc.retries, tc.timeout
			})
			if c.files == nil {
				t.Fatalf("no token file: %v", c.TokenCacheError())
			}
			stuckLockHolder(t, c.files.lockPath)

			start := time.Now()
			_, err := c.SharedToken(context.Background(), time.Minute)
			took := time.Since(start)
			t.Logf("ended after %s (bound %s): %v", took.Round(time.Millisecond), c.MaxDuration(), err)
			if took > c.MaxDuration()+500*time.Millisecond {
				t.Errorf("took %s, more than the bound %s", took, c.MaxDuration())
			}
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
		c.Cache, c.Redactor, c.TokenCacheDir, c.Logger = NewTokenCache(), redact.New(), dir, &log
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
		c.Cache, c.Redactor, c.TokenCacheDir, c.Logger = NewTokenCache(), redact.New(), t.TempDir(), &log2
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
