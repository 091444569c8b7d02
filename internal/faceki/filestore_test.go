package faceki

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofrs/flock"
)

// fsSecret has the characters that encode differently in base64, URLs and
// JSON; fsJWT is shaped like FACEKI's tokens.
const (
	fsSecret = `s3cr+t/k3y=&50% "q" end`
	fsJWT    = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJjbGllbnQtMTIzIiwiZXhwIjo0MTAyNDQ0ODAwfQ.c2lnbmF0dXJlLW9mLXRoZS10b2tlbi0xMjM0NTY3ODkw"

	// Environment of the helper process (TestFileStoreHelperProcess).
	fsEnvDir  = "FACEKI_FILESTORE_HELPER_DIR"
	fsEnvRole = "FACEKI_FILESTORE_HELPER_ROLE" // "writer:<id>", "holder:", "stuck:" or "open:"

	fsProcRounds = 25
)

func fsAccount(secret string) Account {
	return Account{BaseURL: "https://sdk.faceki.com", ClientID: "client-4711", ClientSecret: secret, TokenEndpoint: EndpointAccessToken}
}

func fsOpen(t testing.TB, dir string, acct Account) *FileStore {
	t.Helper()
	s, err := OpenFileStore(dir, acct)
	if err != nil {
		t.Fatalf("OpenFileStore: %v", err)
	}
	return s
}

func fsToken(access string, exp time.Time) Token {
	return Token{AccessToken: access, TokenType: "Bearer", ExpiresAt: exp}
}

func fsSave(t testing.TB, s *FileStore, tok Token) {
	t.Helper()
	if err := s.Save(tok); err != nil {
		t.Fatalf("Save: %v", err)
	}
}

func fsReadFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func fsWriteFile(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// fsEntries lists the names in dir.
func fsEntries(t testing.TB, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// fsWantOnly fails unless dir holds exactly the token file (and its lock
// file when lock is set): no temporary file left behind, no second file.
func fsWantOnly(t testing.TB, s *FileStore, lock bool) {
	t.Helper()
	want := []string{filepath.Base(s.path)}
	if lock {
		want = append(want, filepath.Base(s.path)+".lock")
	}
	got := fsEntries(t, filepath.Dir(s.path))
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("directory holds %q, want %q", got, want)
	}
}

func fsWantMiss(t testing.TB, s *FileStore, why string) {
	t.Helper()
	if tok, ok := s.Load(time.Now()); ok {
		t.Fatalf("%s: Load = %q, want a miss", why, tok.AccessToken)
	}
}

func fsWantHit(t testing.TB, s *FileStore, want string) {
	t.Helper()
	tok, ok := s.Load(time.Now())
	if !ok || tok.AccessToken != want {
		t.Fatalf("Load = %q, %v; want %q", tok.AccessToken, ok, want)
	}
}

// ExpiresAt survives to the nanosecond (RFC 3339 with nanoseconds, as UTC).
func TestFileStoreRoundTrip(t *testing.T) {
	t.Parallel()
	s := fsOpen(t, t.TempDir(), fsAccount(fsSecret))
	fsWantMiss(t, s, "empty directory")

	// Within the life a token can have (lifeCap), in another zone.
	exp := time.Now().Add(time.Hour).Truncate(time.Second).Add(123456789).In(time.FixedZone("X", 5*3600+1800))
	in := Token{AccessToken: fsJWT, TokenType: "bearer-ish", ExpiresAt: exp}
	fsSave(t, s, in)
	got, ok := s.Load(exp.Add(-time.Nanosecond))
	if !ok {
		t.Fatal("Load after Save: miss")
	}
	if got.AccessToken != in.AccessToken || got.TokenType != in.TokenType || !got.ExpiresAt.Equal(exp) {
		t.Fatalf("Load = {%q %q %v}, want {%q %q %v}", got.AccessToken, got.TokenType, got.ExpiresAt, in.AccessToken, in.TokenType, exp)
	}
	if got.ExpiresAt.Nanosecond() != 123456789 {
		t.Fatalf("ExpiresAt lost its nanoseconds: %v", got.ExpiresAt)
	}
	fsWantOnly(t, s, false)

	name := filepath.Base(s.path)
	if len(name) != 64+len(".token") || !strings.HasSuffix(name, ".token") || strings.Trim(strings.TrimSuffix(name, ".token"), "0123456789abcdef") != "" {
		t.Fatalf("file name %q is not <64 lower-case hex>.token", name)
	}
	first := fsReadFile(t, s.path)
	if !bytes.HasPrefix(first, []byte("FKTC\x01")) {
		t.Fatalf("file starts with %q, want FKTC\\x01", first[:5])
	}
	// Same token again: a fresh nonce, so other bytes.
	fsSave(t, s, in)
	second := fsReadFile(t, s.path)
	if bytes.Equal(first[5:17], second[5:17]) || bytes.Equal(first, second) {
		t.Fatal("two writes of one token used the same nonce")
	}
	fsWantHit(t, s, fsJWT)

	// Another store for the same account (another process) reads it too.
	fsWantHit(t, fsOpen(t, filepath.Dir(s.path), fsAccount(fsSecret)), fsJWT)
}

func TestFileStoreOpenRefusesEmptyCredentials(t *testing.T) {
	t.Parallel()
	for _, acct := range []Account{fsAccount(""), {BaseURL: "https://x", ClientSecret: "s"}} {
		if _, err := OpenFileStore(t.TempDir(), acct); err == nil {
			t.Errorf("OpenFileStore(%q, secret %v) = nil error", acct.ClientID, acct.ClientSecret != "")
		}
	}
	if _, err := OpenFileStore("", fsAccount(fsSecret)); err == nil {
		t.Error(`OpenFileStore("") = nil error`)
	}
}

// A file only opens for its own account: another secret derives another key,
// and a copy under another account's name fails the additional data even
// where the key is the same (same secret, another token endpoint).
func TestFileStoreWrongAccountIsMiss(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := fsOpen(t, dir, fsAccount(fsSecret))
	fsSave(t, s, fsToken(fsJWT, time.Now().Add(time.Hour)))
	sealed := fsReadFile(t, s.path)

	others := map[string]Account{
		"other secret":   fsAccount(fsSecret + "x"),
		"other client":   {BaseURL: "https://sdk.faceki.com", ClientID: "client-4712", ClientSecret: fsSecret, TokenEndpoint: EndpointAccessToken},
		"other base URL": {BaseURL: "https://sdk.faceki.com/", ClientID: "client-4711", ClientSecret: fsSecret, TokenEndpoint: EndpointAccessToken},
		"other endpoint": {BaseURL: "https://sdk.faceki.com", ClientID: "client-4711", ClientSecret: fsSecret, TokenEndpoint: EndpointGenerateToken},
	}
	for what, acct := range others {
		o := fsOpen(t, dir, acct)
		if o.path == s.path {
			t.Fatalf("%s: same file name as the original account", what)
		}
		fsWantMiss(t, o, what)
		fsWriteFile(t, o.path, sealed)
		fsWantMiss(t, o, what+", file copied to its name")
	}
	// Same account, same name, file from another secret: key differs.
	o := fsOpen(t, dir, fsAccount("another secret"))
	fsSave(t, o, fsToken("other-token", time.Now().Add(time.Hour)))
	fsWriteFile(t, s.path, fsReadFile(t, o.path))
	fsWantMiss(t, s, "file sealed with another secret under this account's name")
}

func TestFileStoreDamagedFileIsMiss(t *testing.T) {
	t.Parallel()
	s := fsOpen(t, t.TempDir(), fsAccount(fsSecret))
	tok := fsToken(fsJWT, time.Now().Add(time.Hour))
	fsSave(t, s, tok)
	good := fsReadFile(t, s.path)
	n := len(good)

	// Save must bring back a working file after every miss.
	recovers := func(why string) {
		t.Helper()
		fsWantMiss(t, s, why)
		fsSave(t, s, tok)
		fsWantHit(t, s, fsJWT)
		good = fsReadFile(t, s.path)
	}

	// magic, version, nonce start and end, ciphertext start and middle, tag.
	for _, pos := range []int{0, 3, 4, 5, 16, 17, 18, n / 2, n - 17, n - 16, n - 1} {
		b := bytes.Clone(good)
		b[pos] ^= 0x01
		fsWriteFile(t, s.path, b)
		recovers(fmt.Sprintf("byte %d of %d flipped", pos, n))
	}
	for _, l := range []int{0, 1, 4, 5, 17, 17 + 16, n - 16, n - 1} {
		fsWriteFile(t, s.path, good[:l])
		recovers(fmt.Sprintf("truncated to %d of %d bytes", l, n))
	}
	fsWriteFile(t, s.path, append(bytes.Clone(good), 0))
	recovers("one byte appended")

	plainJSON := fmt.Sprintf(`{"access_token":%q,"token_type":"Bearer","expires_at":%q}`, fsJWT, tok.ExpiresAt.Format(time.RFC3339Nano))
	seal := func(plain string, version byte) []byte {
		nonce := make([]byte, nonceSize)
		return s.aead.Seal(append([]byte("FKTC"+string(version)), nonce...), nonce, []byte(plain), []byte(filepath.Base(s.path)))
	}
	for what, b := range map[string][]byte{
		"garbage":                  bytes.Repeat([]byte{0xA5}, 300),
		"plain JSON":               []byte(plainJSON),
		"old version":              seal(plainJSON, 0x00),
		"newer version":            seal(plainJSON, 0x02),
		"other magic":              append([]byte("FKTD"), good[4:]...),
		"sealed non-JSON":          seal("not json", fileVersion),
		"sealed JSON, no token":    seal(`{"token_type":"Bearer","expires_at":"2099-01-01T00:00:00Z"}`, fileVersion),
		"sealed JSON, no expiry":   seal(fmt.Sprintf(`{"access_token":%q}`, fsJWT), fileVersion),
		"sealed JSON, bad expiry":  seal(fmt.Sprintf(`{"access_token":%q,"expires_at":"tomorrow"}`, fsJWT), fileVersion),
		"sealed, padded over size": seal(plainJSON+strings.Repeat(" ", maxFileSize), fileVersion),
	} {
		fsWriteFile(t, s.path, b)
		recovers(what)
	}
	// A well-formed file of the current format does load: the cases above
	// fail for the reason named, not for a mistake in seal.
	fsWriteFile(t, s.path, seal(plainJSON, fileVersion))
	fsWantHit(t, s, fsJWT)

	// A directory where the file should be.
	if err := os.Remove(s.path); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(s.path, 0o700); err != nil {
		t.Fatal(err)
	}
	fsWantMiss(t, s, "a directory at the file's path")
	if err := s.Forget(fsJWT); err != nil {
		t.Fatalf("Forget with a directory at the path: %v", err)
	}
	// The rename fails: Save says so and leaves no temporary file.
	if err := s.Save(tok); err == nil {
		t.Fatal("Save over a directory: nil error")
	} else if strings.Contains(err.Error(), fsJWT) {
		t.Fatalf("Save's error holds the token: %v", err)
	}
	if got := fsEntries(t, filepath.Dir(s.path)); len(got) != 1 {
		t.Fatalf("failed Save left %q", got)
	}
	if err := os.Remove(s.path); err != nil {
		t.Fatal(err)
	}
	fsSave(t, s, tok)
	fsWantHit(t, s, fsJWT)
}

func TestFileStoreExpired(t *testing.T) {
	t.Parallel()
	s := fsOpen(t, t.TempDir(), fsAccount(fsSecret))
	exp := time.Now().Add(time.Hour)
	fsSave(t, s, fsToken(fsJWT, exp))

	if _, ok := s.Load(exp.Add(-time.Second)); !ok {
		t.Fatal("Load before expiry: miss")
	}
	if _, ok := s.Load(exp); ok {
		t.Fatal("Load at exactly ExpiresAt: hit, want a miss")
	}
	if _, err := os.Lstat(s.path); !os.IsNotExist(err) {
		t.Fatalf("expired file still there (Lstat: %v)", err)
	}

	fsSave(t, s, fsToken(fsJWT, exp))
	if _, ok := s.Load(exp.Add(time.Hour)); ok {
		t.Fatal("Load after expiry: hit")
	}
	if got := fsEntries(t, filepath.Dir(s.path)); len(got) != 0 {
		t.Fatalf("expired file not removed: %q", got)
	}

	// No expiry, no file.
	if err := s.Save(Token{AccessToken: fsJWT, TokenType: "Bearer"}); err != nil {
		t.Fatalf("Save without expiry: %v", err)
	}
	if got := fsEntries(t, filepath.Dir(s.path)); len(got) != 0 {
		t.Fatalf("Save without expiry wrote %q", got)
	}
	if err := s.Save(Token{ExpiresAt: exp}); err == nil {
		t.Fatal("Save of an empty token: nil error")
	}
}

// The token file holds tokens to the life a token can have: nothing longer is
// written, and a file claiming longer (written by other rules, or tampered by
// someone with the secret) is a miss, removed.
func TestFileStoreCapsLife(t *testing.T) {
	t.Parallel()
	s := fsOpen(t, t.TempDir(), fsAccount(fsSecret))
	now := time.Now()
	hourJWT := makeJWT(map[string]any{"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()})

	// The write path.
	for _, tc := range []struct {
		tok  Token
		want string
	}{
		{fsToken(fsJWT, now.AddDate(57, 0, 0)), "longer than the 24h0m0s a token can have"},
		{fsToken(fsJWT, now.Add(MaxTokenLife+time.Minute)), "longer than the 24h0m0s a token can have"},
		{fsToken(hourJWT, now.Add(2*time.Hour)), "longer than the 1h0m0s a token can have (the JWT's exp − iat, at most 24h0m0s)"},
	} {
		err := s.Save(tc.tok)
		if err == nil {
			t.Fatalf("Save of a token said to live until %s: nil error", tc.tok.ExpiresAt)
		}
		wantContains(t, err.Error(), "token cache: refusing to save a token said to live ", tc.want)
		if strings.Contains(err.Error(), tc.tok.AccessToken) {
			t.Errorf("the error quotes the token: %v", err)
		}
		if got := fsEntries(t, filepath.Dir(s.path)); len(got) != 0 {
			t.Fatalf("refused Save wrote %q", got)
		}
	}
	fsSave(t, s, fsToken(hourJWT, now.Add(time.Hour-time.Second)))
	fsWantHit(t, s, hourJWT)
	fsSave(t, s, fsToken(fsJWT, now.Add(MaxTokenLife-time.Minute)))
	fsWantHit(t, s, fsJWT)

	// The read-back path: files sealed by hand, past Save's checks.
	for _, tok := range []Token{fsToken(fsJWT, now.AddDate(57, 0, 0)), fsToken(fsJWT, now.Add(25*time.Hour)),
		fsToken(hourJWT, now.Add(2*time.Hour))} {
		fsSeal(t, s, tok)
		fsWantMiss(t, s, "a file claiming life until "+tok.ExpiresAt.String())
		if got := fsEntries(t, filepath.Dir(s.path)); len(got) != 0 {
			t.Fatalf("a file claiming too long a life was left: %q", got)
		}
	}
	// The hand-sealed file itself is good: a shorter claim loads.
	fsSeal(t, s, fsToken(hourJWT, now.Add(30*time.Minute)))
	fsWantHit(t, s, hourJWT)
}

// fsSeal writes tok to s's file as Save would, without Save's checks.
func fsSeal(t *testing.T, s *FileStore, tok Token) {
	t.Helper()
	plain, err := json.Marshal(fileToken{AccessToken: tok.AccessToken, TokenType: tok.TokenType, ExpiresAt: tok.ExpiresAt.UTC().Format(time.RFC3339Nano)})
	if err != nil {
		t.Fatal(err)
	}
	nonce := make([]byte, nonceSize)
	fsWriteFile(t, s.path, s.aead.Seal(append([]byte(fileMagic+string(rune(fileVersion))), nonce...), nonce, plain, []byte(s.name)))
}

func TestFileStoreForget(t *testing.T) {
	t.Parallel()
	s := fsOpen(t, t.TempDir(), fsAccount(fsSecret))
	if err := s.Forget(fsJWT); err != nil {
		t.Fatalf("Forget without a file: %v", err)
	}
	fsSave(t, s, fsToken(fsJWT, time.Now().Add(time.Hour)))
	for _, other := range []string{"", "a-newer-token", fsJWT[:len(fsJWT)-1]} {
		if err := s.Forget(other); err != nil {
			t.Fatalf("Forget(other): %v", err)
		}
		fsWantHit(t, s, fsJWT)
	}
	if err := s.Forget(fsJWT); err != nil {
		t.Fatalf("Forget: %v", err)
	}
	if _, err := os.Lstat(s.path); !os.IsNotExist(err) {
		t.Fatalf("Forget left the file (Lstat: %v)", err)
	}
	if err := s.Forget(fsJWT); err != nil {
		t.Fatalf("second Forget: %v", err)
	}
}

func TestFileStoreConcurrentWriters(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const writers, rounds = 32, 15
	exp := time.Now().Add(time.Hour)
	written := map[string]bool{}
	for w := range writers {
		for r := range rounds {
			written[fmt.Sprintf("token-%d-%d", w, r)] = true
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			s, err := OpenFileStore(dir, fsAccount(fsSecret))
			if err != nil {
				errs <- err
				return
			}
			for r := range rounds {
				if err := s.Save(fsToken(fmt.Sprintf("token-%d-%d", w, r), exp)); err != nil {
					errs <- err
					return
				}
				// Rename is atomic: once a file exists, every read sees a whole one.
				if tok, ok := s.Load(time.Now()); !ok || !written[tok.AccessToken] {
					errs <- fmt.Errorf("writer %d round %d: Load = %q, %v", w, r, tok.AccessToken, ok)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	s := fsOpen(t, dir, fsAccount(fsSecret))
	fsWantOnly(t, s, false)
	if tok, ok := s.Load(time.Now()); !ok || !written[tok.AccessToken] {
		t.Fatalf("final Load = %q, %v", tok.AccessToken, ok)
	}
}

// TestFileStoreHelperProcess is not a test: the tests below run the test
// binary again with it alone selected, as another process sharing the store.
func TestFileStoreHelperProcess(t *testing.T) {
	dir, role := os.Getenv(fsEnvDir), os.Getenv(fsEnvRole)
	if dir == "" {
		return
	}
	kind, arg, _ := strings.Cut(role, ":")
	switch kind {
	case "writer":
		s := fsOpen(t, dir, fsAccount(fsSecret))
		for r := range fsProcRounds {
			unlock, err := s.Lock(context.Background(), time.Now().Add(20*time.Second))
			if err != nil {
				t.Fatalf("round %d: Lock failed", r)
			}
			s.Load(time.Now())
			mine := fmt.Sprintf("proc-%s-%d", arg, r)
			fsSave(t, s, fsToken(mine, time.Now().Add(time.Hour)))
			// Under the lock nobody else writes: we read what we wrote.
			fsWantHit(t, s, mine)
			unlock()
		}
	case "holder":
		// Takes the account's lock, says so, and lets go when its input ends.
		s := fsOpen(t, dir, fsAccount(fsSecret))
		unlock, err := s.Lock(context.Background(), time.Now().Add(5*time.Second))
		if err != nil {
			t.Fatal("holder: Lock failed")
		}
		fmt.Println("held")
		_, _ = io.Copy(io.Discard, os.Stdin)
		unlock()
	case "stuck":
		// Takes the lock file at dir and keeps it until killed (the test
		// stops this process: a holder that never lets go).
		fl := flock.New(dir, flock.SetFlag(lockOpenFlag), flock.SetPermissions(0o600))
		if ok, err := fl.TryLock(); !ok || err != nil {
			t.Fatalf("stuck: Lock: %v, %v", ok, err)
		}
		fmt.Println("held")
		_, _ = io.Copy(io.Discard, os.Stdin)
	case "open":
		// Says what OpenFileStore makes of dir, as the user it runs as.
		_, err := OpenFileStore(dir, fsAccount(fsSecret))
		fmt.Printf("OpenFileStore: %v\n", err)
	default:
		t.Fatalf("unknown role %q", role)
	}
}

func fsHelper(t *testing.T, dir, role string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestFileStoreHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), fsEnvDir+"="+dir, fsEnvRole+"="+role)
	return cmd
}

// lockHolder starts a helper in role "holder" or "stuck" on dir and returns
// once it holds the lock; closing release makes a holder let go.
func lockHolder(t *testing.T, dir, role string) (cmd *exec.Cmd, release io.Closer) {
	t.Helper()
	cmd = fsHelper(t, dir, role)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stdin.Close(); _ = cmd.Process.Kill(); _ = cmd.Wait() })
	if line, err := bufio.NewReader(stdout).ReadString('\n'); line != "held\n" {
		t.Fatalf("the %s never took the lock: %q, %v\n%s", role, line, err, stderr.String())
	}
	return cmd, stdin
}

func TestFileStoreProcesses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	type proc struct {
		cmd *exec.Cmd
		out bytes.Buffer
	}
	procs := make([]*proc, 4)
	for i := range procs {
		p := &proc{cmd: fsHelper(t, dir, "writer:"+strconv.Itoa(i))}
		p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
		if err := p.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		procs[i] = p
	}
	for i, p := range procs {
		if err := p.cmd.Wait(); err != nil {
			t.Errorf("writer %d: %v\n%s", i, err, p.out.String())
		}
	}
	s := fsOpen(t, dir, fsAccount(fsSecret))
	fsWantOnly(t, s, true)
	tok, ok := s.Load(time.Now())
	if !ok || !strings.HasPrefix(tok.AccessToken, "proc-") || !strings.HasSuffix(tok.AccessToken, fmt.Sprintf("-%d", fsProcRounds-1)) {
		t.Fatalf("final Load = %q, %v; want some writer's last token", tok.AccessToken, ok)
	}
}

func TestFileStoreLock(t *testing.T) {
	t.Parallel()
	s := fsOpen(t, t.TempDir(), fsAccount(fsSecret))
	unlock, err := s.Lock(context.Background(), time.Time{})
	if err != nil {
		t.Fatal("first Lock failed")
	}
	if _, err := os.Lstat(s.path + ".lock"); err != nil {
		t.Fatalf("no lock file beside the token file: %v", err)
	}

	const wait = 300 * time.Millisecond
	other := fsOpen(t, filepath.Dir(s.path), fsAccount(fsSecret))
	start := time.Now()
	if u, err := other.Lock(context.Background(), time.Now().Add(wait)); !errors.Is(err, ErrLockBusy) {
		u()
		t.Fatalf("second Lock while the first is held: %v, want ErrLockBusy", err)
	}
	if took := time.Since(start); took < wait || took > wait+2*time.Second {
		t.Fatalf("second Lock gave up after %v, want about %v", took, wait)
	}
	if _, err := s.Lock(context.Background(), time.Time{}); !errors.Is(err, ErrLockBusy) {
		t.Fatalf("Lock with no wait while held: %v, want ErrLockBusy", err)
	}

	// The context ends the wait early, and an ended one at once.
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start = time.Now()
	if _, err := other.Lock(ctx, time.Now().Add(10*time.Second)); !errors.Is(err, context.Canceled) {
		t.Fatalf("Lock with a cancelled context: %v, want context.Canceled", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("cancellation ended the wait only after %v", took)
	}
	if _, err := other.Lock(ctx, time.Now().Add(10*time.Second)); !errors.Is(err, context.Canceled) {
		t.Fatalf("Lock with an ended context: %v, want context.Canceled", err)
	}

	unlock()
	unlock() // harmless
	u2, err := other.Lock(context.Background(), time.Now().Add(wait))
	if err != nil {
		t.Fatal("Lock after unlock failed")
	}
	u2()
}

func TestFileStoreLockAcrossProcesses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, release := lockHolder(t, dir, "holder:")
	s := fsOpen(t, dir, fsAccount(fsSecret))
	if _, err := s.Lock(context.Background(), time.Time{}); !errors.Is(err, ErrLockBusy) {
		t.Fatalf("Lock while another process holds the lock: %v, want ErrLockBusy", err)
	}
	_ = release.Close()
	unlock, err := s.Lock(context.Background(), time.Now().Add(20*time.Second))
	if err != nil {
		t.Fatalf("Lock did not get the lock the holder released: %v", err)
	}
	unlock()
}

// fsForms lists what a careless store could write: the value itself, hex,
// the middle of its base64 at every alignment, and its query escape.
func fsForms(v string) []string {
	forms := []string{v, hex.EncodeToString([]byte(v)), strings.ToUpper(hex.EncodeToString([]byte(v))), url.QueryEscape(v)}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
		for pad := range 3 {
			e := enc.EncodeToString(append(make([]byte, pad), v...))
			mid := len(e) / 2
			forms = append(forms, e[mid-6:mid+6])
		}
	}
	for i := 0; i+8 <= len(v); i++ {
		forms = append(forms, v[i:i+8])
	}
	return forms
}

func TestFileStoreNothingInClearOnDisk(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	acct := fsAccount(fsSecret)
	s := fsOpen(t, dir, acct)
	fsSave(t, s, fsToken(fsJWT, time.Now().Add(time.Hour)))
	unlock, err := s.Lock(context.Background(), time.Now().Add(time.Second))
	if err != nil {
		t.Fatal("Lock failed")
	}
	unlock()
	if len(fsEntries(t, dir)) != 2 {
		t.Fatalf("want the token and the lock file, got %q", fsEntries(t, dir))
	}
	secretSum := sha256.Sum256([]byte(fsSecret))
	checks := map[string][]string{
		"token":           fsForms(fsJWT),
		"secret":          fsForms(fsSecret),
		"client ID":       {acct.ClientID},
		"base URL":        {"sdk.faceki.com"},
		"secret's SHA256": {hex.EncodeToString(secretSum[:]), string(secretSum[:])},
	}
	for _, name := range fsEntries(t, dir) {
		content := name + "\n" + string(fsReadFile(t, filepath.Join(dir, name)))
		for what, forms := range checks {
			for _, f := range forms {
				if strings.Contains(content, f) {
					t.Errorf("%s holds the %s as %q", name, what, f)
				}
			}
		}
	}
	// The checks can fail: every careless encoding trips one of them.
	for _, careless := range []string{
		"x" + fsSecret[3:14] + "y",
		hex.EncodeToString([]byte("ab" + fsSecret)),
		base64.StdEncoding.EncodeToString([]byte("a" + fsSecret)),
		base64.URLEncoding.EncodeToString([]byte("ab" + fsSecret)),
		url.QueryEscape(fsSecret),
	} {
		found := false
		for _, f := range checks["secret"] {
			found = found || strings.Contains(careless, f)
		}
		if !found {
			t.Errorf("fsForms misses %q", careless)
		}
	}
}

func TestFileStoreDefaultCacheDir(t *testing.T) {
	t.Parallel()
	base, err := os.UserCacheDir()
	if err != nil {
		t.Skipf("no user cache directory here: %v", err)
	}
	dir, err := DefaultCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	if dir != filepath.Join(base, "terraform-provider-faceki") || filepath.Base(dir) != "terraform-provider-faceki" {
		t.Fatalf("DefaultCacheDir = %q", dir)
	}
}
