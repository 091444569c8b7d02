//go:build !linux

package testfs

import "testing"

// ReadOnlyDir skips the test: only Linux mounts a read-only tmpfs here.
func ReadOnlyDir(t testing.TB) string {
	t.Helper()
	t.Skip("a read-only tmpfs is mounted on Linux only")
	return ""
}
