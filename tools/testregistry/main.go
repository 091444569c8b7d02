// Command testregistry is TEST-ONLY. It is not a registry to publish to: it
// turns a GoReleaser dist/ directory into the static files of a provider
// registry (the provider registry protocol, as registry.terraform.io and
// registry.opentofu.org answer it) and serves them on loopback, so that
// `make release-verify` (tools/release-verify.sh) can run `init` and
// `providers lock` against a signed release exactly as users will, with
// the CLI's signature and checksum checks, before anything is published.
//
//	testregistry generate -dist DIR -manifest FILE -out DIR -key FILE -key-id ID [-prefix /PATH]
//	testregistry serve -dir DIR [-listen 127.0.0.1:0]
//	testregistry tamper FILE.zip
//	testregistry lockcheck -dist DIR -lock FILE -provider HOST/NS/TYPE
//
// generate reads DIR's PROJECT_VERSION_SHA256SUMS (the document the
// signature covers) and one zip per platform, checks every zip against
// SHA256SUMS (and that it holds the binary alone, named as the CLIs expect),
// reads the protocol versions from -manifest (the file the release uploads
// as PROJECT_VERSION_manifest.json, which SHA256SUMS must list), and writes
// under -out:
//
//	.well-known/terraform.json                       service discovery
//	v1/providers/NS/TYPE/versions                    every version, protocols, platforms
//	v1/providers/NS/TYPE/VERSION/download/OS/ARCH    filename, shasum (from SHA256SUMS),
//	                                                 download, SHA256SUMS and signature
//	                                                 URLs, the public key
//	files/VERSION/…                                  copies of the zips, SHA256SUMS, .sig
//
// URLs are absolute paths under -prefix, so that one server holds several
// registries (one per scenario) and the port need not be known in advance.
// serve answers them (JSON where the protocol expects it) and logs one line
// per request. tamper rewrites one byte of the binary inside a zip, leaving a
// valid zip: a release changed after it was signed. lockcheck holds a
// .terraform.lock.hcl written by `init` and `providers lock` to the release:
// the provider's version, one zh: hash per line of the signed SHA256SUMS
// (the CLIs take every line, the manifest's included) and one h1: hash per
// zip (computed here from the zip's contents), no more.
package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"time"

	"golang.org/x/mod/sumdb/dirhash"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "generate":
		err = generate(os.Args[2:])
	case "serve":
		err = serve(os.Args[2:])
	case "tamper":
		if len(os.Args) != 3 {
			usage()
		}
		err = tamper(os.Args[2])
	case "lockcheck":
		err = lockcheck(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "testregistry:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, `usage (TEST-ONLY, for make release-verify):
  testregistry generate -dist DIR -manifest FILE -out DIR -key FILE -key-id ID [-no-key] [-namespace faceki] [-type faceki] [-prefix /PATH]
  testregistry serve -dir DIR [-listen 127.0.0.1:0]
  testregistry tamper FILE.zip
  testregistry lockcheck -dist DIR -lock FILE -provider HOST/NS/TYPE`)
	os.Exit(2)
}

type platform struct {
	OS   string `json:"os"`
	Arch string `json:"arch"`
}

func (p platform) String() string { return p.OS + "_" + p.Arch }

type gpgKey struct {
	KeyID      string `json:"key_id"`
	ASCIIArmor string `json:"ascii_armor"`
}

// download is the answer of …/VERSION/download/OS/ARCH.
type download struct {
	Protocols           []string `json:"protocols"`
	OS                  string   `json:"os"`
	Arch                string   `json:"arch"`
	Filename            string   `json:"filename"`
	DownloadURL         string   `json:"download_url"`
	SHASumsURL          string   `json:"shasums_url"`
	SHASumsSignatureURL string   `json:"shasums_signature_url"`
	SHASum              string   `json:"shasum"`
	SigningKeys         struct {
		GPGPublicKeys []gpgKey `json:"gpg_public_keys"`
	} `json:"signing_keys"`
}

func generate(args []string) error {
	fs := flag.NewFlagSet("generate", flag.ExitOnError)
	dist := fs.String("dist", "dist", "GoReleaser's output directory")
	out := fs.String("out", "", "directory to write the registry's files to (created)")
	keyFile := fs.String("key", "", "the ASCII-armored public key the registry publishes")
	keyID := fs.String("key-id", "", "its key ID (16 hex digits)")
	namespace := fs.String("namespace", "faceki", "provider namespace")
	typ := fs.String("type", "faceki", "provider type")
	prefix := fs.String("prefix", "", "URL path every file is served under, e.g. /good")
	noKey := fs.Bool("no-key", false, "publish no signing key, as a registry that does not know the provider's key")
	manifestFile := fs.String("manifest", "", "the registry manifest the release uploads as PROJECT_VERSION_manifest.json "+
		"(GoReleaser's release.extra_files: terraform-registry-manifest.json); its line in SHA256SUMS must match")
	_ = fs.Parse(args)
	if *out == "" || *keyFile == "" || *keyID == "" || *manifestFile == "" || fs.NArg() > 0 {
		usage()
	}
	armor, err := os.ReadFile(*keyFile)
	if err != nil {
		return err
	}
	if !bytes.Contains(armor, []byte("-----BEGIN PGP PUBLIC KEY BLOCK-----")) {
		return fmt.Errorf("%s is not an ASCII-armored public key", *keyFile)
	}
	rel, err := readRelease(*dist)
	if err != nil {
		return err
	}
	project, version, sumsName, files := rel.project, rel.version, rel.sumsName, rel.zips

	var manifest struct {
		Version  int `json:"version"`
		Metadata struct {
			ProtocolVersions []string `json:"protocol_versions"`
		} `json:"metadata"`
	}
	manifestName := project + "_" + version + "_manifest.json"
	b, err := os.ReadFile(*manifestFile)
	if err != nil {
		return fmt.Errorf("the registry manifest: %w", err)
	}
	if sum := sha256.Sum256(b); rel.lines[manifestName] != hex.EncodeToString(sum[:]) {
		return fmt.Errorf("%s lists no %s with the SHA-256 of %s", sumsName, manifestName, *manifestFile)
	}
	if err := json.Unmarshal(b, &manifest); err != nil || manifest.Version != 1 || len(manifest.Metadata.ProtocolVersions) == 0 {
		return fmt.Errorf("%s: not version 1 with metadata.protocol_versions (%v)", *manifestFile, err)
	}
	protocols := manifest.Metadata.ProtocolVersions
	platforms := rel.platforms()

	filesURL := *prefix + "/files/" + version + "/"
	providers := path.Join("v1/providers", *namespace, *typ)
	if err := writeJSON(*out, ".well-known/terraform.json", map[string]string{"providers.v1": *prefix + "/v1/providers/"}); err != nil {
		return err
	}
	versions := map[string]any{"versions": []map[string]any{{"version": version, "protocols": protocols, "platforms": platforms}}}
	if err := writeJSON(*out, providers+"/versions", versions); err != nil {
		return err
	}
	for _, p := range platforms {
		d := download{
			Protocols: protocols, OS: p.OS, Arch: p.Arch, Filename: files[p],
			DownloadURL: filesURL + files[p], SHASumsURL: filesURL + sumsName, SHASumsSignatureURL: filesURL + sumsName + ".sig",
			SHASum: rel.lines[files[p]],
		}
		d.SigningKeys.GPGPublicKeys = []gpgKey{{KeyID: strings.ToUpper(*keyID), ASCIIArmor: string(armor)}}
		if *noKey {
			d.SigningKeys.GPGPublicKeys = []gpgKey{}
		}
		if err := writeJSON(*out, path.Join(providers, version, "download", p.OS, p.Arch), d); err != nil {
			return err
		}
	}
	dir := filepath.Join(*out, "files", version)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	copies := map[string]string{sumsName: filepath.Join(*dist, sumsName), sumsName + ".sig": filepath.Join(*dist, sumsName+".sig"),
		manifestName: *manifestFile}
	for _, p := range platforms {
		copies[files[p]] = filepath.Join(*dist, files[p])
	}
	for name, from := range copies {
		if err := copyFile(from, filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	fmt.Printf("testregistry: %s/%s %s, protocols %s, %d platforms (%s), key %s, under %s/\n",
		*namespace, *typ, version, strings.Join(protocols, ","), len(platforms), join(platforms), strings.ToUpper(*keyID), *prefix)
	return nil
}

func writeJSON(root, name string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	p := filepath.Join(root, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, append(b, '\n'), 0o644)
}

func fileSHA256(name string) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o644)
}

// serve answers the files under dir: the protocol's JSON documents (no
// file extension) as application/json, the release files as they are.
func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	dir := fs.String("dir", "", "the directory generate wrote (or a parent of several, one per -prefix)")
	listen := fs.String("listen", "127.0.0.1:0", "loopback address to listen on")
	_ = fs.Parse(args)
	if *dir == "" || fs.NArg() > 0 {
		usage()
	}
	host, _, err := net.SplitHostPort(*listen)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-listen %s: a loopback address only (this is a test server)", *listen)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	logger := log.New(os.Stderr, "", log.LstdFlags)
	files := http.FileServer(http.Dir(*dir))
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &status{ResponseWriter: w, code: http.StatusOK}
		if strings.Contains(r.URL.Path, "/v1/providers/") || strings.HasSuffix(r.URL.Path, "/.well-known/terraform.json") {
			w.Header().Set("Content-Type", "application/json")
		}
		files.ServeHTTP(rec, r)
		logger.Printf("%s %s -> %d", r.Method, r.URL.Path, rec.code)
	})
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	fmt.Printf("testregistry listening on http://%s\n", ln.Addr())
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case <-stop:
		return srv.Close()
	case err := <-served:
		return err
	}
}

type status struct {
	http.ResponseWriter
	code int
}

func (s *status) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
}

// tamper changes one byte in the middle of the first file in a zip and
// writes the zip back, valid, with the same names: what a release looks
// like when someone replaced its binary after SHA256SUMS was signed.
func tamper(name string) error {
	r, err := zip.OpenReader(name)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	changed := false
	for _, f := range r.File {
		rc, err := f.Open()
		if err != nil {
			return err
		}
		data, err := io.ReadAll(rc)
		_ = rc.Close()
		if err != nil {
			return err
		}
		if !changed && len(data) > 0 {
			data[len(data)/2] ^= 0xff
			changed = true
		}
		hdr := f.FileHeader
		out, err := w.CreateHeader(&hdr)
		if err != nil {
			return err
		}
		if _, err := out.Write(data); err != nil {
			return err
		}
	}
	_ = r.Close()
	if err := w.Close(); err != nil {
		return err
	}
	if !changed {
		return errors.New("nothing in the zip to change")
	}
	return os.WriteFile(name, buf.Bytes(), 0o644)
}

// release is what dist/ holds: the version, the zip of each platform, and
// every line of SHA256SUMS.
type release struct {
	project, version string
	sumsName         string
	zips             map[platform]string // file name
	lines            map[string]string   // file name → hex SHA-256
}

// platforms lists the release's platforms in order.
func (r *release) platforms() []platform {
	ps := make([]platform, 0, len(r.zips))
	for p := range r.zips {
		ps = append(ps, p)
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].String() < ps[j].String() })
	return ps
}

// join is platforms as the tool prints them: OS_ARCH, space-separated.
func join(ps []platform) string {
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.String()
	}
	return strings.Join(names, " ")
}

func lockcheck(args []string) error {
	fs := flag.NewFlagSet("lockcheck", flag.ExitOnError)
	dist := fs.String("dist", "dist", "GoReleaser's output directory")
	lockFile := fs.String("lock", ".terraform.lock.hcl", "the dependency lock file to check")
	provider := fs.String("provider", "", "the provider address in the lock file, e.g. registry.opentofu.org/faceki/faceki")
	_ = fs.Parse(args)
	if *provider == "" || fs.NArg() > 0 {
		usage()
	}
	rel, err := readRelease(*dist)
	if err != nil {
		return err
	}
	b, err := os.ReadFile(*lockFile)
	if err != nil {
		return err
	}
	// The lock file's provider blocks: provider "ADDR" { version = "…" … hashes = [ "…", ] }.
	blocks := regexp.MustCompile(`(?s)provider "([^"]+)" \{(.*?)\n\}`).FindAllStringSubmatch(string(b), -1)
	var body string
	for _, bl := range blocks {
		if bl[1] == *provider {
			body = bl[2]
		} else if strings.HasSuffix(bl[1], "/faceki/faceki") {
			return fmt.Errorf("%s locks %s too", *lockFile, bl[1])
		}
	}
	if body == "" {
		return fmt.Errorf("%s has no provider %q block", *lockFile, *provider)
	}
	if m := regexp.MustCompile(`(?m)^\s*version\s*=\s*"([^"]+)"`).FindStringSubmatch(body); m == nil || m[1] != rel.version {
		return fmt.Errorf("%s locks %s at %v, want %s", *lockFile, *provider, m, rel.version)
	}
	got := map[string]bool{}
	for _, h := range regexp.MustCompile(`"((?:h1|zh):[^"]+)"`).FindAllStringSubmatch(body, -1) {
		got[h[1]] = true
	}
	want := map[string]string{} // hash → what it is
	for name, sum := range rel.lines {
		want["zh:"+sum] = "zh: " + name
	}
	for p, name := range rel.zips {
		h1, err := dirhash.HashZip(filepath.Join(*dist, name), dirhash.Hash1)
		if err != nil {
			return err
		}
		want[h1] = "h1: " + p.String()
	}
	var problems []string
	for h, what := range want {
		if !got[h] {
			problems = append(problems, "missing "+what+" ("+h+")")
		}
	}
	for h := range got {
		if _, ok := want[h]; !ok {
			problems = append(problems, "a hash of no zip in the release: "+h)
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return fmt.Errorf("%s, provider %s:\n  %s", *lockFile, *provider, strings.Join(problems, "\n  "))
	}
	platforms := rel.platforms()
	fmt.Printf("lock file: %s %s, %d platforms (%s): %d h1: hashes (one per zip) and %d zh: (one per line of SHA256SUMS), each the release's\n",
		*provider, rel.version, len(platforms), join(platforms), len(rel.zips), len(rel.lines))
	return nil
}

// readRelease reads dist/'s PROJECT_VERSION_SHA256SUMS and checks every zip
// it lists (PROJECT_VERSION_OS_ARCH.zip) against its line.
func readRelease(dist string) (*release, error) {
	sumsPaths, _ := filepath.Glob(filepath.Join(dist, "*_SHA256SUMS"))
	if len(sumsPaths) != 1 {
		return nil, fmt.Errorf("want one *_SHA256SUMS in %s, found %d", dist, len(sumsPaths))
	}
	rel := &release{sumsName: filepath.Base(sumsPaths[0]), zips: map[platform]string{}, lines: map[string]string{}}
	m := regexp.MustCompile(`^(.+)_([0-9]+\.[0-9]+\.[0-9]+[^_]*)_SHA256SUMS$`).FindStringSubmatch(rel.sumsName)
	if m == nil {
		return nil, fmt.Errorf("%s is not named PROJECT_VERSION_SHA256SUMS", rel.sumsName)
	}
	rel.project, rel.version = m[1], m[2]
	sums, err := os.ReadFile(sumsPaths[0])
	if err != nil {
		return nil, err
	}
	zipName := regexp.MustCompile(`^` + regexp.QuoteMeta(rel.project+"_"+rel.version+"_") + `([a-z0-9]+)_([a-z0-9]+)\.zip$`)
	sc := bufio.NewScanner(bytes.NewReader(sums))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 {
			return nil, fmt.Errorf("%s: a line that is not HASH FILENAME: %q", rel.sumsName, sc.Text())
		}
		rel.lines[f[1]] = f[0]
		pm := zipName.FindStringSubmatch(f[1])
		if pm == nil {
			continue // the manifest
		}
		got, err := fileSHA256(filepath.Join(dist, f[1]))
		if err != nil {
			return nil, err
		}
		if got != f[0] {
			return nil, fmt.Errorf("%s does not match %s", f[1], rel.sumsName)
		}
		p := platform{pm[1], pm[2]}
		// The registries unpack the zip into the plugin directory: it must
		// hold the binary alone, named as the CLIs look for it.
		binary := rel.project + "_v" + rel.version
		if p.OS == "windows" {
			binary += ".exe"
		}
		if names, err := zipNames(filepath.Join(dist, f[1])); err != nil || len(names) != 1 || names[0] != binary {
			return nil, fmt.Errorf("%s holds %q (%v), want only %s", f[1], names, err, binary)
		}
		rel.zips[p] = f[1]
	}
	if len(rel.zips) == 0 {
		return nil, fmt.Errorf("%s lists no %s_%s_OS_ARCH.zip", rel.sumsName, rel.project, rel.version)
	}
	return rel, nil
}

func zipNames(name string) ([]string, error) {
	r, err := zip.OpenReader(name)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var names []string
	for _, f := range r.File {
		names = append(names, f.Name)
	}
	return names, nil
}
