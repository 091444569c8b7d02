package provider

// CLI-level tests of token_cache = "file": the real CLI, one provider
// process per walk, a cache directory of the test's own.

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faceki/terraform-provider-faceki/internal/emulator"
	"github.com/faceki/terraform-provider-faceki/internal/faceki"
	"github.com/faceki/terraform-provider-faceki/internal/testfs"
)

// cachedConfig is tokenConfig with provisioners that run again on an apply
// with another -var=run=N (triggers_replace), so that every such apply
// hands its token to the bearer-protected endpoint. (plantimestamp() has
// whole seconds: two quick applies would share one.)
func cachedConfig(n int, tokenArgs string) string {
	return "variable \"run\" {\n  default = 1\n}\n" + strings.Replace(tokenConfig(n, tokenArgs), "  input = count.index\n",
		"  input            = count.index\n  triggers_replace = var.run\n", 1)
}

// fileCacheEnv is the emulator's environment with token_cache = "file" in dir.
func fileCacheEnv(srv *emulator.Server, dir string) map[string]string {
	env := emulatorEnv(srv)
	env[EnvTokenCache] = "file"
	env[EnvTokenCacheDir] = dir
	return env
}

// cacheDir is a directory of the test's own, 0700 as the provider wants.
func cacheDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "cache")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}

// storedToken decrypts the account's token file as the provider would.
func storedToken(t *testing.T, srv *emulator.Server, dir string) (faceki.Token, bool) {
	t.Helper()
	id, secret := srv.Credentials()
	fs, err := faceki.OpenFileStore(dir, faceki.Account{BaseURL: srv.URL, ClientID: id, ClientSecret: secret, TokenEndpoint: faceki.EndpointAccessToken})
	if err != nil {
		t.Fatal(err)
	}
	return fs.Load(time.Now())
}

// checkCacheFiles fails when a file of dir holds the secret or a token in
// any encoding: the file must be sealed.
func checkCacheFiles(t *testing.T, dir string, secrets ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = string(b)
	}
	if leaks := findLeaks(files, secrets...); len(leaks) > 0 {
		t.Errorf("the token cache holds secrets: %v", leaks)
	}
}

// TestCLI_tokenCacheFile: with token_cache = "file", an apply of 10
// instances costs one token request (the apply walk reads what the plan
// walk wrote), a second apply within the token's life none, and every
// provisioner still presents a token FACEKI accepts.
func TestCLI_tokenCacheFile(t *testing.T) {
	srv := startEmulatorCLI(t, emulator.Options{})
	dir := cacheDir(t)
	const n = 10
	w := newWorkspace(t, cachedConfig(n, ""), fileCacheEnv(srv, dir))

	out := w.mustRun("apply", "-auto-approve")
	if got := srv.TokenRequests(); got != 1 {
		t.Errorf("first apply of %d instances made %d token requests, want 1", n, got)
	}
	out += w.mustRun("apply", "-auto-approve", "-var=run=2")
	if got := srv.TokenRequests(); got != 1 {
		t.Errorf("second apply made %d more token requests, want 0", got-1)
	}
	if !strings.Contains(out, fmt.Sprintf("Resources: %d added, 0 changed, %d destroyed", n, n)) {
		t.Errorf("the second apply did not run the %d provisioners again:\n%s", n, out)
	}
	bearers := srv.Bearers()
	if len(bearers) != 2*n {
		t.Fatalf("the KYC rules endpoint saw %d bearer tokens, want %d", len(bearers), 2*n)
	}
	for i, b := range bearers {
		if _, ok := srv.Issued(b); !ok || b != bearers[0] {
			t.Fatalf("bearer %d is not the one token the emulator issued", i)
		}
	}
	if tok, ok := storedToken(t, srv, dir); !ok || tok.AccessToken != bearers[0] {
		t.Error("the token file does not hold the token in use")
	}
	if !strings.Contains(w.readFile("trace.log"), `source="file cache"`) && !strings.Contains(w.readFile("trace.log"), `"source":"file cache"`) {
		t.Error("the trace log does not say a token came from the file cache")
	}
	_, secret := srv.Credentials()
	checkCacheFiles(t, dir, append([]string{secret}, srv.IssuedTokens()...)...)
	if leaks := w.leaks(out, append([]string{secret}, srv.IssuedTokens()...)...); len(leaks) > 0 {
		t.Errorf("leaked: %v", leaks)
	}
}

// TestCLI_tokenCacheFileParallel: four applies started at once, in
// separate workspaces sharing one cache directory, make one token request
// between them.
func TestCLI_tokenCacheFileParallel(t *testing.T) {
	srv := startEmulatorCLI(t, emulator.Options{Latency: 500 * time.Millisecond})
	dir := cacheDir(t)
	const runs = 4
	ws := make([]*workspace, runs)
	for i := range ws {
		ws[i] = newWorkspace(t, cachedConfig(2, ""), fileCacheEnv(srv, dir))
	}
	var wg sync.WaitGroup
	errs := make([]error, runs)
	outs := make([]string, runs)
	for i, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i], _, errs[i] = w.run(5*time.Minute, "apply", "-auto-approve")
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("apply %d: %v\n%s", i, err, outs[i])
		}
	}
	if got := srv.TokenRequests(); got != 1 {
		t.Errorf("%d applies at once made %d token requests, want 1", runs, got)
	}
	if got := len(srv.Bearers()); got != 2*runs {
		t.Errorf("the KYC rules endpoint saw %d bearers, want %d", got, 2*runs)
	}
}

// TestCLI_tokenCacheFileMinValidity: a cached token with less life left
// than min_validity asks is not used; a new one is fetched and replaces it.
func TestCLI_tokenCacheFileMinValidity(t *testing.T) {
	srv := startEmulatorCLI(t, emulator.Options{ExpiresIn: 10 * time.Minute})
	dir := cacheDir(t)
	env := fileCacheEnv(srv, dir)
	newWorkspace(t, cachedConfig(1, `min_validity = "5m"`), env).mustRun("apply", "-auto-approve")
	if got := srv.TokenRequests(); got != 1 {
		t.Fatalf("first apply made %d token requests, want 1", got)
	}
	short, _ := storedToken(t, srv, dir)

	srv.SetExpiresIn(time.Hour)
	newWorkspace(t, cachedConfig(1, `min_validity = "30m"`), env).mustRun("apply", "-auto-approve")
	if got := srv.TokenRequests(); got != 2 {
		t.Errorf("an apply asking for 30m with a 10-minute token cached made %d token requests, want 1", got-1)
	}
	long, ok := storedToken(t, srv, dir)
	if !ok || long.AccessToken == short.AccessToken || time.Until(long.ExpiresAt) < 55*time.Minute {
		t.Error("the file does not hold the new one-hour token")
	}
}

// TestCLI_tokenCacheFileRevoked: a cached token FACEKI refuses makes the
// KYC rules data source fetch a new one once; the file then holds it.
func TestCLI_tokenCacheFileRevoked(t *testing.T) {
	srv := startEmulatorCLI(t, emulator.Options{})
	dir := cacheDir(t)
	config := `
terraform {
  required_providers {
    faceki = { source = "faceki/faceki" }
  }
}

provider "faceki" {}

data "faceki_kyc_rules" "r" {}

output "status" {
  value = data.faceki_kyc_rules.r.status
}
`
	w := newWorkspace(t, config, fileCacheEnv(srv, dir))
	w.mustRun("apply", "-auto-approve")
	first, ok := storedToken(t, srv, dir)
	if !ok || srv.TokenRequests() != 1 {
		t.Fatalf("after the first apply: token in the file %v, %d token requests", ok, srv.TokenRequests())
	}
	srv.Revoke(first.AccessToken)

	out := w.mustRun("plan")
	if !strings.Contains(out, "No changes") {
		t.Errorf("plan after the refetch:\n%s", out)
	}
	if got := srv.TokenRequests(); got != 2 {
		t.Errorf("token requests = %d, want 2 (one refetch)", got)
	}
	b := srv.Bearers()
	if len(b) < 3 || b[len(b)-2] != first.AccessToken || b[len(b)-1] == first.AccessToken {
		t.Fatalf("bearers: want the revoked token refused, then a fresh one")
	}
	if now, ok := storedToken(t, srv, dir); !ok || now.AccessToken != b[len(b)-1] {
		t.Error("the file does not hold the refetched token")
	}
}

// TestCLI_tokenCacheMemoryWritesNothing: without token_cache (memory, the
// default) nothing is written to the cache directory, even when one is set,
// and an apply costs a token per walk as before.
func TestCLI_tokenCacheMemoryWritesNothing(t *testing.T) {
	srv := startEmulatorCLI(t, emulator.Options{})
	dir := cacheDir(t)
	env := emulatorEnv(srv)
	env[EnvTokenCacheDir] = dir
	newWorkspace(t, cachedConfig(2, ""), env).mustRun("apply", "-auto-approve")
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the cache directory holds %d files", len(entries))
	}
	if got := srv.TokenRequests(); got != 2 {
		t.Errorf("apply made %d token requests, want 2 (plan walk and apply walk)", got)
	}
}

// TestCLI_tokenCacheRefusedDirectory: a directory others can write to is
// refused with a warning, and the run goes on with the memory cache.
func TestCLI_tokenCacheRefusedDirectory(t *testing.T) {
	if os.PathSeparator == '\\' {
		t.Skip("no permission bits to refuse on Windows")
	}
	srv := startEmulatorCLI(t, emulator.Options{})
	dir := cacheDir(t)
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	out := newWorkspace(t, cachedConfig(1, ""), fileCacheEnv(srv, dir)).mustRun("apply", "-auto-approve")
	if !match("Warning: FACEKI token cache directory not used", "must not be writable by group or others",
		`Tokens are kept in memory only, as with token_cache = "memory"`).MatchString(out) {
		t.Errorf("no warning about the refused directory:\n%s", out)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the refused directory holds %d files", len(entries))
	}
	if got := srv.TokenRequests(); got != 2 {
		t.Errorf("apply made %d token requests, want 2", got)
	}
}

// TestCLI_tokenCacheReadOnlyDirectory: with token_cache = "file" and a
// directory on a read-only filesystem, the CLI shows the warning naming the
// cause, and the run goes on with the memory cache. (A tmpfs remounted
// read-only: as root, permission bits stop no write. Skipped where mount is
// refused.)
func TestCLI_tokenCacheReadOnlyDirectory(t *testing.T) {
	cliPath(t)
	dir := testfs.ReadOnlyDir(t)
	srv := startEmulatorCLI(t, emulator.Options{})
	w := newWorkspace(t, cachedConfig(1, ""), fileCacheEnv(srv, dir))
	out := w.mustRun("apply", "-auto-approve")
	if !match("Warning: "+sumCacheDirNotUsed, `token cache directory "`+dir+`" cannot be written: read-only file system`,
		`Tokens are kept in memory only, as with token_cache = "memory"`).MatchString(out) {
		t.Errorf("no warning naming the read-only filesystem:\n%s", out)
	}
	if got := srv.TokenRequests(); got != 2 {
		t.Errorf("apply made %d token requests, want 2 (memory: one per walk)", got)
	}
	if got := len(srv.Bearers()); got != 1 {
		t.Errorf("the KYC rules endpoint saw %d bearers, want 1", got)
	}
	if leaks := w.leaks(out, append([]string{testSecret}, srv.IssuedTokens()...)...); len(leaks) > 0 {
		t.Errorf("leaked: %v", leaks)
	}
}
