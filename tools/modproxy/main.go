// Command modproxy writes a Go module proxy directory (GOPROXY=file://DIR)
// holding one version of the module at the root of a git repository: the
// commit REV, as a pseudo-version. tools/emulator-install-check.sh uses it
// to try the documented `go install …@version` line as a user would, from
// outside the repository, before anything is published.
//
//	go run . -repo ../.. -rev HEAD -out /tmp/proxy   (prints the version)
package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"
)

func main() {
	repo := flag.String("repo", ".", "the git work tree whose root holds go.mod")
	rev := flag.String("rev", "HEAD", "the commit to publish")
	out := flag.String("out", "", "the proxy directory to write")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "modproxy: -out is required")
		os.Exit(2)
	}
	version, err := write(*repo, *rev, *out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "modproxy:", err)
		os.Exit(1)
	}
	fmt.Println(version)
}

func git(repo string, args ...string) ([]byte, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = repo
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return b, nil
}

func write(repo, rev, out string) (string, error) {
	hash, err := git(repo, "rev-parse", "--verify", rev+"^{commit}")
	if err != nil {
		return "", err
	}
	commit := strings.TrimSpace(string(hash))
	unix, err := git(repo, "log", "-1", "--format=%ct", commit)
	if err != nil {
		return "", err
	}
	secs, err := strconv.ParseInt(strings.TrimSpace(string(unix)), 10, 64)
	if err != nil {
		return "", err
	}
	when := time.Unix(secs, 0).UTC()
	gomod, err := git(repo, "show", commit+":go.mod")
	if err != nil {
		return "", err
	}
	path := modfile.ModulePath(gomod)
	if path == "" {
		return "", fmt.Errorf("no module path in go.mod at %s", commit)
	}
	mv := module.Version{Path: path, Version: module.PseudoVersion("v0", "", when, commit[:12])}

	// The files git would publish (tracked, at that commit), as the go
	// command reads a repository; zip.Create then leaves out nested modules
	// such as tools/*, as a module proxy does.
	archive, err := git(repo, "-c", "core.autocrlf=input", "-c", "core.eol=lf", "archive", "--format=zip", commit)
	if err != nil {
		return "", err
	}
	zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		return "", err
	}
	var files []modzip.File
	for _, f := range zr.File {
		if !strings.HasSuffix(f.Name, "/") {
			files = append(files, zipFile{f})
		}
	}
	escaped, err := module.EscapePath(path)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(out, filepath.FromSlash(escaped), "@v")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	var z bytes.Buffer
	if err := modzip.Create(&z, mv, files); err != nil {
		return "", err
	}
	info, _ := json.Marshal(map[string]string{"Version": mv.Version, "Time": when.Format(time.RFC3339)})
	for name, content := range map[string][]byte{
		mv.Version + ".zip":  z.Bytes(),
		mv.Version + ".mod":  gomod,
		mv.Version + ".info": info,
		"list":               nil, // pseudo-versions are not listed; @latest answers for them
		"../@latest":         info,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o644); err != nil {
			return "", err
		}
	}
	return mv.Version, nil
}

// zipFile is a file of git's archive, as zip.Create reads files.
type zipFile struct{ f *zip.File }

func (z zipFile) Path() string                 { return z.f.Name }
func (z zipFile) Lstat() (os.FileInfo, error)  { return z.f.FileInfo(), nil }
func (z zipFile) Open() (io.ReadCloser, error) { return z.f.Open() }
