package faceki

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/gofrs/flock"
)

// The on-disk format. A file that does not start with fileMagic+fileVersion
// is a miss, so a format change only ever costs one token request.
const (
	fileMagic   = "FKTC"
	fileVersion = 0x01
	nonceSize   = 12
	// maxFileSize bounds what Load reads: a token file is a few hundred
	// bytes, and a huge file must be a miss, not a memory hog.
	maxFileSize = 64 << 10

	nameLabel = "terraform-provider-faceki token file name\x00"
	saltLabel = "terraform-provider-faceki token file salt\x00"
	keyInfo   = "terraform-provider-faceki token file v1 AES-256-GCM"

	// lockPoll is how often Lock retries a held lock.
	lockPoll = 10 * time.Millisecond
)

// Account identifies whose token a cache file holds. Every field takes part
// in the file name, so two accounts (or two endpoints of one account) never
// share a file.
type Account struct {
	BaseURL       string // as the client uses it, e.g. "https://sdk.faceki.com"
	ClientID      string
	ClientSecret  string
	TokenEndpoint TokenEndpoint
}

// FileStore keeps one account's token in an encrypted file, so that several
// provider processes (one per Terraform walk) can share it. It holds the
// derived key, not the secret.
type FileStore struct {
	dir      string
	name     string // "<hex>.token"; also the AEAD's additional data
	path     string
	lockPath string
	aead     cipher.AEAD
}

// DefaultCacheDir is <os.UserCacheDir()>/terraform-provider-faceki.
func DefaultCacheDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(base, "terraform-provider-faceki"), nil
}

// OpenFileStore prepares dir and the account's file names. It creates dir
// (and missing parents) with mode 0700 when missing. It refuses a dir that
// is not a directory or is itself a symlink (its parents may be symlinks),
// and on Unix one not owned by the current user or writable by group or
// others: whoever can write in dir can swap files under us. It also refuses
// a dir it cannot write in (a read-only filesystem, permissions), which
// would fail every save and every lock. The error says why, so the caller
// can warn and fall back to its in-memory cache.
func OpenFileStore(dir string, acct Account) (*FileStore, error) {
	if dir == "" {
		return nil, errors.New("token cache directory is empty")
	}
	if acct.ClientID == "" || acct.ClientSecret == "" {
		// An empty secret would give a key anyone can derive.
		return nil, errors.New("token cache needs a client ID and a client secret")
	}
	dir = filepath.Clean(dir)
	fi, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		if err = os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("creating token cache directory: %w", err)
		}
		// The umask may have narrowed 0700 but never widens it; make it exact.
		if err = os.Chmod(dir, 0o700); err != nil {
			return nil, fmt.Errorf("creating token cache directory: %w", err)
		}
		fi, err = os.Lstat(dir)
	}
	if err != nil {
		return nil, fmt.Errorf("token cache directory: %w", err)
	}
	switch {
	case fi.Mode()&fs.ModeSymlink != 0 || isReparsePoint(fi):
		return nil, fmt.Errorf("token cache directory %q is a symlink; refusing to use it", dir)
	case !fi.IsDir():
		return nil, fmt.Errorf("token cache directory %q is not a directory", dir)
	}
	if err := checkDirOwner(dir, fi); err != nil {
		return nil, err
	}
	if err := checkWritable(dir); err != nil {
		return nil, err
	}

	name := fileName(acct)
	key, err := hkdf.Key(sha256.New, []byte(acct.ClientSecret), keySalt(acct), keyInfo, 32)
	if err != nil {
		return nil, fmt.Errorf("token cache key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("token cache key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("token cache key: %w", err)
	}
	return &FileStore{
		dir:      dir,
		name:     name,
		path:     filepath.Join(dir, name),
		lockPath: filepath.Join(dir, name+".lock"),
		aead:     aead,
	}, nil
}

// checkWritable creates and removes a file in dir, as Save and Lock will.
func checkWritable(dir string) error {
	f, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		cause := err
		var pe *fs.PathError
		if errors.As(err, &pe) {
			cause = pe.Err // "read-only file system", "permission denied"
		}
		return fmt.Errorf("token cache directory %q cannot be written: %w", dir, cause)
	}
	name := f.Name()
	_ = f.Close()
	return os.Remove(name)
}

// appendField appends s with its length first, so that no two field lists
// hash or derive alike (("ab","c") vs ("a","bc")).
func appendField(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(len(s)))
	return append(b, s...)
}

// fileName hashes the whole account, the secret only as its own hash, so the
// name identifies the account on disk without naming it.
func fileName(acct Account) string {
	secret := sha256.Sum256([]byte(acct.ClientSecret))
	b := []byte(nameLabel)
	b = appendField(b, acct.BaseURL)
	b = appendField(b, acct.ClientID)
	b = appendField(b, string(acct.TokenEndpoint))
	b = appendField(b, string(secret[:]))
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]) + ".token"
}

func keySalt(acct Account) []byte {
	b := []byte(saltLabel)
	b = appendField(b, acct.BaseURL)
	return appendField(b, acct.ClientID)
}

// fileToken is the sealed JSON.
type fileToken struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresAt   string `json:"expires_at"` // RFC 3339, nanoseconds
}

// lifeCap is the longest life a token can have left: life's rule for an
// answer that says nothing but the token (MaxTokenLife, and the JWT's
// exp − iat when it has both). A token in the token file is held to it.
func lifeCap(token string) time.Duration {
	exp, iat := jwtTimes(token)
	d, _, _ := life(answer{}, nil, exp, iat)
	return d
}

// Load returns the token in the file, or ok=false. Any failure (missing,
// unreadable, symlink, wrong secret, tampered, truncated, old format, bad
// JSON) is a miss, never an error: the caller then fetches a token, which is
// what it would do without a file. A token whose ExpiresAt is not after now,
// or that claims more life than any token has (lifeCap: a file not written
// by these rules), is removed from disk and is a miss.
func (s *FileStore) Load(now time.Time) (tok Token, ok bool) {
	tok, fi, ok := s.read()
	if !ok {
		return Token{}, false
	}
	if left := tok.ExpiresAt.Sub(now); left <= 0 || left > lifeCap(tok.AccessToken) {
		s.removeIfSame(fi)
		return Token{}, false
	}
	return tok, true
}

// read opens the token file without following a symlink and decrypts it.
// fi identifies the file read, for removeIfSame.
func (s *FileStore) read() (Token, os.FileInfo, bool) {
	f, err := openNoFollow(s.path)
	if err != nil {
		return Token{}, nil, false
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return Token{}, nil, false
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil || len(data) > maxFileSize {
		return Token{}, nil, false
	}
	tok, ok := s.open(data)
	return tok, fi, ok
}

// open checks the header and decrypts. The file name is the additional data:
// a file copied under another account's name does not open.
func (s *FileStore) open(data []byte) (Token, bool) {
	header := len(fileMagic) + 1
	if len(data) < header+nonceSize+s.aead.Overhead() ||
		!bytes.HasPrefix(data, []byte(fileMagic)) || data[len(fileMagic)] != fileVersion {
		return Token{}, false
	}
	nonce := data[header : header+nonceSize]
	plain, err := s.aead.Open(nil, nonce, data[header+nonceSize:], []byte(s.name))
	if err != nil {
		return Token{}, false
	}
	var ft fileToken
	if json.Unmarshal(plain, &ft) != nil || ft.AccessToken == "" ||
		len(ft.AccessToken) > MaxAccessTokenBytes || len(ft.TokenType) > MaxTokenTypeBytes {
		return Token{}, false
	}
	exp, err := time.Parse(time.RFC3339Nano, ft.ExpiresAt)
	if err != nil || exp.IsZero() {
		return Token{}, false
	}
	return Token{AccessToken: ft.AccessToken, TokenType: ft.TokenType, ExpiresAt: exp}, true
}

// removeIfSame removes the token file if it is still the file read: another
// process may have renamed a fresh token over it since. The window between
// the check and the removal remains; callers that hold Lock close it.
func (s *FileStore) removeIfSame(read os.FileInfo) {
	if cur, err := os.Lstat(s.path); err == nil && os.SameFile(read, cur) {
		_ = os.Remove(s.path)
	}
}

// Save writes tok through a temporary file in the same directory renamed over
// the account's file, so that a reader sees the old file or the new one,
// never a part. Rename replaces a symlink at the path rather than following
// it. A token with a zero ExpiresAt is never written: nobody could tell when
// to stop using it; nor one that claims more life than any token has
// (lifeCap), which every later run would reuse. Every write seals with a
// fresh random nonce.
func (s *FileStore) Save(tok Token) error {
	if tok.ExpiresAt.IsZero() {
		return nil
	}
	if tok.AccessToken == "" {
		return errors.New("token cache: refusing to save an empty token")
	}
	if left, most := time.Until(tok.ExpiresAt), lifeCap(tok.AccessToken); left > most {
		return fmt.Errorf("token cache: refusing to save a token said to live %s more, longer than the %s a token "+
			"can have (the JWT's exp − iat, at most %s)", left.Round(time.Second), most, MaxTokenLife)
	}
	plain, err := json.Marshal(fileToken{
		AccessToken: tok.AccessToken,
		TokenType:   tok.TokenType,
		ExpiresAt:   tok.ExpiresAt.UTC().Format(time.RFC3339Nano),
	})
	if err != nil {
		return fmt.Errorf("token cache: encoding: %w", err)
	}
	data := make([]byte, 0, len(fileMagic)+1+nonceSize+len(plain)+s.aead.Overhead())
	data = append(data, fileMagic...)
	data = append(data, fileVersion)
	nonce := make([]byte, nonceSize)
	if _, err := rand.Read(nonce); err != nil {
		return fmt.Errorf("token cache: nonce: %w", err)
	}
	data = append(data, nonce...)
	data = s.aead.Seal(data, nonce, plain, []byte(s.name))

	f, err := os.CreateTemp(s.dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("token cache: %w", err)
	}
	tmp := f.Name()
	err = writeSynced(f, data)
	if err == nil {
		err = os.Rename(tmp, s.path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("token cache: %w", err)
	}
	return nil
}

// writeSynced makes f 0600 (CreateTemp does, but the mode is the point),
// writes data, syncs and closes f. It always closes f.
func writeSynced(f *os.File, data []byte) error {
	err := f.Chmod(0o600)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Forget removes the account's file if (and only if) it holds accessToken, a
// token FACEKI refused: a newer token another process saved meanwhile stays.
// A missing or unreadable file is not an error.
func (s *FileStore) Forget(accessToken string) error {
	tok, fi, ok := s.read()
	if !ok || tok.AccessToken != accessToken {
		return nil
	}
	// Replaced since it was read: a newer token, not ours to remove.
	if cur, err := os.Lstat(s.path); err == nil && !os.SameFile(fi, cur) {
		return nil
	}
	if err := os.Remove(s.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("token cache: %w", err)
	}
	return nil
}

// ErrLockBusy is Lock's error when another process held the lock for the
// whole wait.
var ErrLockBusy = errors.New("token file lock held by another process")

// Lock takes the account's cross-process advisory lock, a separate
// "<name>.lock" file beside the token file (the token file itself is
// replaced by rename, so it cannot carry a lock). The lock file stays on disk:
// removing it would let two processes lock two different files. It waits at
// most until that time (not at all when it has passed), or until ctx ends. The error is
// ErrLockBusy when the lock was not had in time, ctx's error when ctx ended,
// else the cause (the lock file cannot be opened or locked): the caller then
// fetches anyway and never fails on it. unlock releases the lock; calling it
// more than once, or after an error, is harmless.
func (s *FileStore) Lock(ctx context.Context, until time.Time) (unlock func(), err error) {
	noop := func() {}
	if err := ctx.Err(); err != nil {
		return noop, err
	}
	fl := flock.New(s.lockPath, flock.SetFlag(lockOpenFlag), flock.SetPermissions(0o600))
	var ok bool
	if !time.Now().Before(until) {
		ok, err = fl.TryLock()
	} else {
		wctx, cancel := context.WithDeadline(ctx, until)
		ok, err = fl.TryLockContext(wctx, lockPoll)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			err = nil // the wait ran out: busy, not broken
		}
	}
	switch {
	case err != nil && ctx.Err() != nil:
		return noop, ctx.Err()
	case err != nil:
		return noop, fmt.Errorf("token cache: locking %s: %w", filepath.Base(s.lockPath), err)
	case !ok:
		// flock closes its file when it does not get the lock.
		return noop, ErrLockBusy
	}
	var once sync.Once
	return func() { once.Do(func() { _ = fl.Unlock() }) }, nil
}
