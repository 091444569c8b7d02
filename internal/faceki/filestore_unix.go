//go:build unix

package faceki

import (
	"fmt"
	"os"
	"syscall"
)

// lockOpenFlag opens the lock file read-write (fcntl-based locks on some
// systems need it for an exclusive lock) and never through a symlink.
const lockOpenFlag = os.O_CREATE | os.O_RDWR | syscall.O_NOFOLLOW

// checkDirOwner refuses a directory someone else could write in: they could
// replace the token file or plant a symlink.
func checkDirOwner(dir string, fi os.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("token cache directory %q: cannot read its owner", dir)
	}
	if uint64(st.Uid) != uint64(os.Geteuid()) {
		return fmt.Errorf("token cache directory %q is owned by uid %d, not by the current user (uid %d)", dir, st.Uid, os.Geteuid())
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		return fmt.Errorf("token cache directory %q has mode %#o: it must not be writable by group or others (chmod 700)", dir, perm)
	}
	return nil
}

// isReparsePoint is a Windows notion; Lstat's ModeSymlink covers Unix.
func isReparsePoint(os.FileInfo) bool { return false }

// openNoFollow opens path for reading, failing (ELOOP) if it is a symlink.
// O_NONBLOCK keeps a FIFO at path from blocking the open; it changes
// nothing for a regular file.
func openNoFollow(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
}
