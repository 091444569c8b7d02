//go:build unix

package faceki

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func fsMode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode()
}

func TestFileStorePermissions(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	dir := filepath.Join(root, "missing", "cache")
	s := fsOpen(t, dir, fsAccount(fsSecret))
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if m := fsMode(t, d); m != os.ModeDir|0o700 {
			t.Errorf("%s created with mode %v, want drwx------", d, m)
		}
	}
	fsSave(t, s, fsToken(fsJWT, time.Now().Add(time.Hour)))
	if m := fsMode(t, s.path); m != 0o600 {
		t.Errorf("token file mode %v, want -rw-------", m)
	}
	unlock, err := s.Lock(context.Background(), time.Now().Add(time.Second))
	if err != nil {
		t.Fatal("Lock failed")
	}
	unlock()
	if m := fsMode(t, s.path+".lock"); m != 0o600 {
		t.Errorf("lock file mode %v, want -rw-------", m)
	}
	// An existing, private directory is used as it is.
	if err := os.Chmod(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	fsOpen(t, dir, fsAccount(fsSecret))
	if m := fsMode(t, dir); m != os.ModeDir|0o750 {
		t.Errorf("OpenFileStore changed an existing directory's mode to %v", m)
	}
}

func TestFileStoreRefusesDirectory(t *testing.T) {
	t.Parallel()
	// The error must say why: the caller shows it in a warning.
	wantRefused := func(dir, why, says string) {
		t.Helper()
		_, err := OpenFileStore(dir, fsAccount(fsSecret))
		if err == nil {
			t.Fatalf("%s: OpenFileStore accepted it", why)
		}
		if !strings.Contains(err.Error(), says) {
			t.Fatalf("%s: error %q does not say %q", why, err, says)
		}
		if !strings.Contains(err.Error(), dir) || strings.Contains(err.Error(), fsSecret) {
			t.Fatalf("%s: error %q should name the directory and not the secret", why, err)
		}
		t.Logf("%s: %v", why, err)
	}
	mkdir := func(mode os.FileMode) string {
		d := filepath.Join(t.TempDir(), "cache")
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(d, mode); err != nil {
			t.Fatal(err)
		}
		return d
	}
	wantRefused(mkdir(0o777), "world-writable", "writable by group or others")
	wantRefused(mkdir(0o702), "writable by others", "writable by group or others")
	wantRefused(mkdir(0o720), "group-writable", "writable by group or others")

	file := filepath.Join(t.TempDir(), "file")
	fsWriteFile(t, file, nil)
	wantRefused(file, "a file", "not a directory")

	target := mkdir(0o700)
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	wantRefused(link, "a symlink to a private directory", "symlink")
	// A symlinked parent is fine: only the directory itself is checked.
	fsOpen(t, filepath.Join(link, "sub"), fsAccount(fsSecret))
}

func TestFileStoreRefusesDirectoryOwnedByOther(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("needs root to chown a directory to another user")
	}
	d := filepath.Join(t.TempDir(), "cache")
	if err := os.Mkdir(d, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(d, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenFileStore(d, fsAccount(fsSecret)); err == nil || !strings.Contains(err.Error(), "owned by") {
		t.Fatalf("OpenFileStore on a directory owned by uid 65534: %v", err)
	}
}

// A symlink at the token file's path is not followed, even to a file with a
// valid token for this account; Save replaces the link, not its target.
func TestFileStoreSymlinkedTokenFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := fsOpen(t, dir, fsAccount(fsSecret))
	fsSave(t, s, fsToken(fsJWT, time.Now().Add(time.Hour)))
	fsWantHit(t, s, fsJWT)
	target := filepath.Join(t.TempDir(), "elsewhere")
	if err := os.Rename(s.path, target); err != nil {
		t.Fatal(err)
	}
	sealed := fsReadFile(t, target)
	if err := os.Symlink(target, s.path); err != nil {
		t.Fatal(err)
	}

	fsWantMiss(t, s, "token file is a symlink")
	if err := s.Forget(fsJWT); err != nil {
		t.Fatal(err)
	}
	fsSave(t, s, fsToken("newer", time.Now().Add(time.Hour)))
	if m := fsMode(t, s.path); !m.IsRegular() {
		t.Fatalf("after Save the token path has mode %v, want a regular file", m)
	}
	if got := fsReadFile(t, target); string(got) != string(sealed) {
		t.Fatal("Save wrote through the symlink")
	}
	fsWantHit(t, s, "newer")

	// Nor is the lock file followed.
	if err := os.Symlink(target, s.path+".lock"); err != nil {
		t.Fatal(err)
	}
	if unlock, err := s.Lock(context.Background(), time.Now().Add(50*time.Millisecond)); err == nil || errors.Is(err, ErrLockBusy) {
		unlock()
		t.Fatalf("Lock through a symlinked lock file: %v, want the cause (ELOOP)", err)
	}
}

// A FIFO at the token path (no writer on the other end) is a miss, not a hang.
func TestFileStoreFIFOIsMiss(t *testing.T) {
	t.Parallel()
	s := fsOpen(t, t.TempDir(), fsAccount(fsSecret))
	if err := syscall.Mkfifo(s.path, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan bool)
	go func() {
		_, ok := s.Load(time.Now())
		done <- ok
	}()
	select {
	case ok := <-done:
		if ok {
			t.Fatal("Load from a FIFO: hit")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Load blocked on a FIFO")
	}
}
