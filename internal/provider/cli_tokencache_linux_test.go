package provider

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/faceki/terraform-provider-faceki/internal/emulator"
)

// TestCLI_tokenCacheReadOnlyDirectory: with token_cache = "file" and a
// directory on a read-only filesystem, the CLI shows the warning naming the
// cause, and the run goes on with the memory cache. (A tmpfs remounted
// read-only: as root, permission bits stop no write. Skipped where mount is
// refused.)
func TestCLI_tokenCacheReadOnlyDirectory(t *testing.T) {
	cliPath(t)
	dir := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=64k,mode=0700"); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(dir, 0) })
	if err := syscall.Mount("", dir, "", syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
		t.Skipf("cannot remount the tmpfs read-only: %v", err)
	}
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
