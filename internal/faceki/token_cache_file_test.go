package faceki

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faceki/terraform-provider-faceki/internal/emulator"
	"github.com/faceki/terraform-provider-faceki/internal/gate"
)

// process is a client as one provider process has it: its own memory cache
// and gate, and the token directory that processes share.
func process(t *testing.T, baseURL, dir string) *Client {
	t.Helper()
	return newTestClient(t, baseURL, func(c *Config) {
		c.Cache, c.Gate, c.TokenCacheDir = NewTokenCache(), gate.New(), dir
	})
}

func tokenInFile(t *testing.T, c *Client) (Token, bool) {
	t.Helper()
	if c.files == nil {
		t.Fatalf("client has no token file: %v", c.TokenCacheError())
	}
	return c.files.Load(time.Now())
}

// A second provider process takes the token the first one fetched from the
// file, and its gate knows it like a token it fetched itself.
func TestSharedTokenFileAcrossProcesses(t *testing.T) {
	t.Parallel()
	emu := startEmu(t, emulator.Options{})
	dir := t.TempDir()
	first, err := process(t, emu.URL, dir).SharedToken(context.Background(), 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	second := process(t, emu.URL, dir)
	tok, err := second.SharedToken(context.Background(), 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != first.AccessToken || !tok.ExpiresAt.Equal(first.ExpiresAt) {
		t.Error("the second process did not get the first one's token")
	}
	if got := emu.TokenRequests(); got != 1 {
		t.Errorf("emulator saw %d token requests, want 1", got)
	}
	if got := second.gate.Pass("Bearer " + tok.AccessToken); !strings.HasPrefix(got, "[withheld: ") {
		t.Errorf("the second process's gate does not know the token it read from the file: %q", got)
	}
	// Its memory cache serves it from now on.
	if _, err := second.SharedToken(context.Background(), 5*time.Minute); err != nil || emu.TokenRequests() != 1 {
		t.Errorf("third call: %v, %d requests", err, emu.TokenRequests())
	}
}

// Processes that start at once make one request between them: the others
// wait for the lock and read the file.
func TestSharedTokenFileConcurrentProcesses(t *testing.T) {
	t.Parallel()
	emu := startEmu(t, emulator.Options{Latency: 300 * time.Millisecond})
	dir := t.TempDir()
	const n = 6
	tokens := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		c := process(t, emu.URL, dir)
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := c.SharedToken(context.Background(), time.Minute)
			if err != nil {
				t.Errorf("process %d: %v", i, err)
			}
			tokens[i] = tok.AccessToken
		}()
	}
	wg.Wait()
	for i := range tokens {
		if tokens[i] != tokens[0] {
			t.Errorf("process %d got another token", i)
		}
	}
	if got := emu.TokenRequests(); got != 1 {
		t.Errorf("emulator saw %d token requests from %d processes, want 1", got, n)
	}
}

// A token in the file with less than min_validity left is not handed out: a
// new one is fetched and replaces it. A caller content with less takes it.
func TestSharedTokenFileMinValidity(t *testing.T) {
	t.Parallel()
	emu := startEmu(t, emulator.Options{ExpiresIn: 4 * time.Second, OmitJWTExp: true})
	dir := t.TempDir()
	first, err := process(t, emu.URL, dir).SharedToken(context.Background(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// 1.5 s later by the clock of the processes that follow: about 2.5 s left.
	later := func(t *testing.T) *Client {
		c := process(t, emu.URL, dir)
		c.cache.now = func() time.Time { return time.Now().Add(1500 * time.Millisecond) }
		return c
	}
	if tok, err := later(t).SharedToken(context.Background(), time.Second); err != nil || tok.AccessToken != first.AccessToken {
		t.Fatalf("a caller asking for 1 s: %v, same token %v", err, tok.AccessToken == first.AccessToken)
	}
	c := later(t)
	tok, err := c.SharedToken(context.Background(), 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken == first.AccessToken || emu.TokenRequests() != 2 {
		t.Errorf("a caller asking for 3 s got the 2.5 s token (%d requests)", emu.TokenRequests())
	}
	if inFile, ok := tokenInFile(t, c); !ok || inFile.AccessToken != tok.AccessToken {
		t.Error("the file does not hold the new token")
	}
}

// A token FACEKI refuses is dropped from the file as well as from memory
// before the one refetch, and the file then holds the new token.
func TestSharedTokenFileRefusedTokenDropped(t *testing.T) {
	t.Parallel()
	emu := startEmu(t, emulator.Options{})
	dir := t.TempDir()
	stale, err := process(t, emu.URL, dir).SharedToken(context.Background(), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	emu.Revoke(stale.AccessToken)
	c := process(t, emu.URL, dir)
	if _, err := c.KYCRules(context.Background()); err != nil {
		t.Fatalf("KYCRules with a revoked token in the file: %v", err)
	}
	if got := emu.TokenRequests(); got != 2 {
		t.Errorf("token requests = %d, want 2 (the first, and one refetch)", got)
	}
	b := emu.Bearers()
	if len(b) != 2 || b[0] != stale.AccessToken || b[1] == stale.AccessToken {
		t.Fatalf("bearers: want [stale, fresh], got %d", len(b))
	}
	if inFile, ok := tokenInFile(t, c); !ok || inFile.AccessToken != b[1] {
		t.Error("the file does not hold the refetched token")
	}
}

// What never goes to the file: a token of unknown expiry, and the data
// source's own token (AccessToken).
func TestSharedTokenFileSkipsWhatCannotBeShared(t *testing.T) {
	t.Parallel()
	emu := startEmu(t, emulator.Options{OmitExpiresIn: true, OmitJWTExp: true})
	dir := t.TempDir()
	c := process(t, emu.URL, dir)
	if _, err := c.SharedToken(context.Background(), time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, ok := tokenInFile(t, c); ok {
		t.Error("a token of unknown expiry was written")
	}
	emu2 := startEmu(t, emulator.Options{})
	c2 := process(t, emu2.URL, dir)
	if _, err := c2.AccessToken(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, ok := tokenInFile(t, c2); ok {
		t.Error("AccessToken wrote its token to the file")
	}
}

// A directory that cannot be used safely leaves the client with its memory
// cache, and says why.
func TestSharedTokenFileRefusedDirectory(t *testing.T) {
	t.Parallel()
	if os.PathSeparator == '\\' {
		t.Skip("no permission bits to refuse on Windows")
	}
	emu := startEmu(t, emulator.Options{})
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	c := process(t, emu.URL, dir)
	if c.TokenCacheError() == nil {
		t.Fatal("a world-writable directory was accepted")
	}
	wantContains(t, c.TokenCacheError().Error(), "must not be writable by group or others")
	if _, err := c.SharedToken(context.Background(), time.Minute); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the refused directory holds %d files", len(entries))
	}
}

// A token file claiming 57 years (written when a Date in 1970 made that
// life) is not used: the open fetches a token and the file is replaced.
func TestSharedTokenFileRefusesLongerLife(t *testing.T) {
	t.Parallel()
	emu := startEmu(t, emulator.Options{})
	c := process(t, emu.URL, t.TempDir())
	stale := makeJWT(map[string]any{"exp": time.Now().AddDate(57, 0, 0).Unix()})
	fsSeal(t, c.files, fsToken(stale, time.Now().AddDate(57, 0, 0)))
	before := time.Now()
	tok, err := c.SharedToken(context.Background(), 5*time.Minute)
	after := time.Now()
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken == stale || emu.TokenRequests() != 1 {
		t.Fatalf("got the file's token: %d requests", emu.TokenRequests())
	}
	wantLife(t, c, tok, before, after, time.Hour)
}
