// Package testfs gives tests a directory nobody can write in. Tests run as
// root here, and permission bits stop no write of root's: a tmpfs remounted
// read-only does.
package testfs

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// ReadOnlyDir returns an empty directory on a small tmpfs remounted
// read-only, unmounted when the test ends. It skips the test where mounting
// is refused (not root, or in a container without the capability).
func ReadOnlyDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "read-only")
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
	return dir
}
