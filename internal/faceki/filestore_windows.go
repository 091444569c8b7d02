//go:build windows

package faceki

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
)

// lockOpenFlag: Windows has no O_NOFOLLOW; the directory check (not a
// symlink or reparse point) is what we have.
const lockOpenFlag = os.O_CREATE | os.O_RDWR

// checkDirOwner does nothing on Windows: the mode bits Go reports there say
// nothing about ACLs, and checking owners and ACLs would need the Windows
// security API. The default directory under %LocalAppData% is private to
// the user by its inherited ACL.
func checkDirOwner(string, os.FileInfo) error { return nil }

// isReparsePoint reports symlinks, junctions and other reparse points, which
// Lstat does not all mark as ModeSymlink.
func isReparsePoint(fi os.FileInfo) bool {
	if d, ok := fi.Sys().(*syscall.Win32FileAttributeData); ok {
		return d.FileAttributes&syscall.FILE_ATTRIBUTE_REPARSE_POINT != 0
	}
	return fi.Mode()&(fs.ModeSymlink|fs.ModeIrregular) != 0
}

// openNoFollow refuses a symlink or reparse point at path, then opens it.
// Windows has no O_NOFOLLOW: a swap between Lstat and Open is possible, but
// only for someone who can write in the cache directory, which is the user's.
func openNoFollow(path string) (*os.File, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if fi.Mode()&fs.ModeSymlink != 0 || isReparsePoint(fi) {
		return nil, errors.New("token file is a symlink or reparse point")
	}
	return os.Open(path)
}
