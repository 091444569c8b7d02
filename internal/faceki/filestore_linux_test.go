package faceki

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/faceki/terraform-provider-faceki/internal/testfs"
)

// TestFileStoreReadOnlyFilesystem: a cache directory on a read-only
// filesystem is refused at once, naming the cause, rather than failing
// every lock and every save later. (As root, permission bits stop no
// write: a tmpfs remounted read-only does. Skipped where mount is refused.)
func TestFileStoreReadOnlyFilesystem(t *testing.T) {
	dir := testfs.ReadOnlyDir(t)
	_, err := OpenFileStore(dir, fsAccount(fsSecret))
	if err == nil || !strings.Contains(err.Error(), "cannot be written: read-only file system") {
		t.Fatalf("OpenFileStore on a read-only filesystem: %v", err)
	}
	c := newTestClient(t, "http://127.0.0.1:1", func(c *Config) { c.TokenCacheDir = dir })
	if err := c.TokenCacheError(); err == nil || !strings.Contains(err.Error(), "read-only file system") {
		t.Errorf("TokenCacheError = %v", err)
	}
	if c.files != nil {
		t.Error("the client kept a token file on a read-only filesystem")
	}
}

// TestFileStoreNoWritePermission: a cache directory its user may not write
// in (mode 0500, as another user than root: root writes anyway) is refused,
// naming the cause. The test binary runs again as nobody (setpriv).
func TestFileStoreNoWritePermission(t *testing.T) {
	setpriv, err := exec.LookPath("setpriv")
	if err != nil || os.Geteuid() != 0 {
		t.Skip("needs root and setpriv to run a process as another user")
	}
	const nobody = 65534
	root := t.TempDir()
	// nobody must reach the binary and the directory.
	for _, d := range []string{filepath.Dir(root), root} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(root, "faceki.test")
	copyFile(t, os.Args[0], bin, 0o755)
	dir := filepath.Join(root, "cache")
	if err := os.Mkdir(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", bin,
		"-test.run=^TestFileStoreHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), fsEnvDir+"="+dir, fsEnvRole+"=open:")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper as nobody: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "OpenFileStore: token cache directory \""+dir+"\" cannot be written: permission denied") {
		t.Errorf("OpenFileStore as nobody on a 0500 directory said:\n%s", out)
	}
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}
