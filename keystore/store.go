package keystore

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

// SecretSize is the length in bytes of a pseudonymisation secret.
const SecretSize = 32

// PurposePseudonym is the purpose of the secrets a Store keeps: keys for the
// HMAC that turns identifiers into pseudonyms. It is sealed into each
// version's additional data so a secret cannot be moved to another use.
const PurposePseudonym = "pseudonym"

// formatVersion is the version of the key store file's layout.
const formatVersion = 1

// Errors returned, wrapped, by Open and Rotate.
var (
	// ErrWrongMasterKey means the master key does not open the key store.
	ErrWrongMasterKey = errors.New("wrong master key?")
	// ErrCorrupt means the master key is right but a sealed secret fails
	// authentication: the file was damaged or tampered with.
	ErrCorrupt = errors.New("sealed secret fails authentication: the file is corrupt or was tampered with")
	// ErrUnknownVersion means no secret has the requested version.
	ErrUnknownVersion = errors.New("unknown key version")
)

// VersionInfo describes one version of the secret, without the secret.
type VersionInfo struct {
	Version uint32
	Created time.Time
	Purpose string
	// Current is true for the version new pseudonyms are made with.
	Current bool
}

// Store holds the versions of the pseudonymisation secret, decrypted in
// memory and sealed on disk. Its methods are safe for concurrent use. Neither
// its String method nor its log value shows a secret.
type Store struct {
	// Now returns the time a new version is created at. Set it before the
	// first call to Rotate; Open sets it to time.Now.
	Now func() time.Time

	path   string
	aead   cipher.AEAD
	logger *slog.Logger

	mu   sync.RWMutex
	keys []version // ascending by number; the last is current
}

// version is one decrypted version of the secret and its sealed form.
type version struct {
	sealed sealedJSON
	secret []byte
}

// fileJSON is the layout of the key store file.
type fileJSON struct {
	Format int `json:"format"`
	// Check is the empty message sealed under the master key alone, so that
	// a wrong master key can be told from a damaged secret.
	Check []byte       `json:"check"`
	Keys  []sealedJSON `json:"keys"`
}

// sealedJSON is one sealed version of the secret. Byte slices are base64 in
// JSON.
type sealedJSON struct {
	Version    uint32    `json:"version"`
	Created    time.Time `json:"created"`
	Purpose    string    `json:"purpose"`
	Nonce      []byte    `json:"nonce"`
	Ciphertext []byte    `json:"ciphertext"`
}

// Open opens the key store file at path, decrypting its secrets with master,
// a 32-byte key from LoadMasterKey. If the file does not exist, Open creates
// it (mode 0600) with a new random secret as version 1. A nil logger
// discards.
//
// Open fails with an error wrapping ErrWrongMasterKey if master does not open
// the file and ErrCorrupt if a secret in it fails authentication.
func Open(path string, master []byte, logger *slog.Logger) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if len(master) != MasterKeySize {
		return nil, fmt.Errorf("open key store: master key is %d bytes, want %d", len(master), MasterKeySize)
	}
	block, err := aes.NewCipher(master)
	if err != nil {
		return nil, fmt.Errorf("open key store: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("open key store: %w", err)
	}
	s := &Store{Now: time.Now, path: path, aead: aead, logger: logger}

	keys, err := s.read()
	if errors.Is(err, os.ErrNotExist) {
		keys, err = s.create()
		if errIsExist(err) {
			keys, err = s.read() // another process created it first
		}
	}
	if err != nil {
		return nil, err
	}
	s.keys = keys
	if fi, err := os.Stat(path); err == nil && checkPrivate(path, fi) != nil {
		logger.Warn("key store file is accessible by group or others; its secrets are sealed, but restrict it with chmod 600",
			"path", path, "mode", fmt.Sprintf("%04o", fi.Mode().Perm()))
	}
	cur := keys[len(keys)-1].sealed
	logger.Info("opened key store", "path", path, "versions", len(keys), "current", cur.Version)
	return s, nil
}

// Path returns the path of the key store file.
func (s *Store) Path() string { return s.path }

// Current returns the current version and its secret. The secret is a copy
// the caller may keep.
func (s *Store) Current() (version uint32, secret []byte) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	k := s.keys[len(s.keys)-1]
	return k.sealed.Version, bytes.Clone(k.secret)
}

// Secret returns a copy of the secret with the given version, or an error
// wrapping ErrUnknownVersion.
func (s *Store) Secret(version uint32) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	i := sort.Search(len(s.keys), func(i int) bool { return s.keys[i].sealed.Version >= version })
	if i == len(s.keys) || s.keys[i].sealed.Version != version {
		return nil, fmt.Errorf("get secret: %w %d", ErrUnknownVersion, version)
	}
	return bytes.Clone(s.keys[i].secret), nil
}

// Versions describes every version, oldest first, without the secrets.
func (s *Store) Versions() []VersionInfo {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]VersionInfo, len(s.keys))
	for i, k := range s.keys {
		out[i] = VersionInfo{
			Version: k.sealed.Version,
			Created: k.sealed.Created,
			Purpose: k.sealed.Purpose,
			Current: i == len(s.keys)-1,
		}
	}
	return out
}

// Rotate adds a new random secret as the next version, makes it current and
// returns its number. The file is reread first, so versions that another
// process added are kept, and is then replaced atomically; on error nothing
// changes. Older versions stay readable through Secret.
func (s *Store) Rotate(ctx context.Context) (uint32, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("rotate key: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()

	keys, err := s.read()
	if err != nil {
		return 0, fmt.Errorf("rotate key: %w", err)
	}
	if err := sameHistory(s.keys, keys); err != nil {
		return 0, fmt.Errorf("rotate key: key store %s: %w", s.path, err)
	}
	last := keys[len(keys)-1].sealed.Version
	if last == math.MaxUint32 {
		return 0, fmt.Errorf("rotate key: no version numbers left after %d", last)
	}
	k, err := s.newVersion(last + 1)
	if err != nil {
		return 0, fmt.Errorf("rotate key: %w", err)
	}
	keys = append(keys, k)
	data, err := s.encode(keys)
	if err != nil {
		return 0, fmt.Errorf("rotate key: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("rotate key: %w", err)
	}
	if err := writeFileAtomic(s.path, data); err != nil {
		return 0, fmt.Errorf("rotate key: write key store: %w", err)
	}
	s.keys = keys
	s.logger.Info("rotated pseudonymisation key", "path", s.path, "version", k.sealed.Version)
	return k.sealed.Version, nil
}

// String describes s without any secret.
func (s *Store) String() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return fmt.Sprintf("keystore.Store{path: %q, versions: %d, current: %d}",
		s.path, len(s.keys), s.keys[len(s.keys)-1].sealed.Version)
}

// GoString describes s for %#v, without any secret.
func (s *Store) GoString() string { return s.String() }

// LogValue implements slog.LogValuer: the path and version numbers only.
func (s *Store) LogValue() slog.Value {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slog.GroupValue(
		slog.String("path", s.path),
		slog.Int("versions", len(s.keys)),
		slog.Any("current", s.keys[len(s.keys)-1].sealed.Version),
	)
}

// create writes a new key store file holding version 1. Its error matches
// os.ErrExist if the file appeared meanwhile.
func (s *Store) create() ([]version, error) {
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return nil, fmt.Errorf("create key store: %w", err)
	}
	k, err := s.newVersion(1)
	if err != nil {
		return nil, fmt.Errorf("create key store: %w", err)
	}
	keys := []version{k}
	data, err := s.encode(keys)
	if err != nil {
		return nil, fmt.Errorf("create key store: %w", err)
	}
	if err := writeFileExclusive(s.path, data); err != nil {
		return nil, fmt.Errorf("create key store: %w", err)
	}
	s.logger.Info("created key store", "path", s.path, "version", k.sealed.Version)
	return keys, nil
}

// read reads and decrypts the key store file. Its error matches
// os.ErrNotExist if there is none.
func (s *Store) read() ([]version, error) {
	data, err := os.ReadFile(s.path)
	if err != nil {
		return nil, fmt.Errorf("read key store: %w", err)
	}
	keys, err := decode(data, s.aead)
	if err != nil {
		return nil, fmt.Errorf("cannot decrypt key store %s: %w", s.path, err)
	}
	return keys, nil
}

// newVersion makes a random secret numbered n and seals it.
func (s *Store) newVersion(n uint32) (version, error) {
	secret := make([]byte, SecretSize)
	if _, err := rand.Read(secret); err != nil {
		return version{}, fmt.Errorf("read random secret: %w", err)
	}
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return version{}, fmt.Errorf("read random nonce: %w", err)
	}
	sealed := sealedJSON{
		Version: n,
		Created: s.Now().UTC().Round(0),
		Purpose: PurposePseudonym,
		Nonce:   nonce,
	}
	sealed.Ciphertext = s.aead.Seal(nil, nonce, secret, additionalData(n, sealed.Purpose))
	return version{sealed: sealed, secret: secret}, nil
}

// encode returns the file contents for keys, with a fresh master key check.
func (s *Store) encode(keys []version) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("read random nonce: %w", err)
	}
	f := fileJSON{
		Format: formatVersion,
		Check:  s.aead.Seal(nonce, nonce, nil, []byte(checkData)),
		Keys:   make([]sealedJSON, len(keys)),
	}
	for i, k := range keys {
		f.Keys[i] = k.sealed
	}
	data, err := json.MarshalIndent(f, "", "\t")
	if err != nil {
		return nil, fmt.Errorf("encode key store: %w", err)
	}
	return append(data, '\n'), nil
}

// checkData is the additional data of the master key check.
const checkData = "admeter keystore master key check"

// additionalData binds a sealed secret to its version number and purpose.
func additionalData(n uint32, purpose string) []byte {
	ad := make([]byte, 0, 32+len(purpose))
	ad = append(ad, "admeter keystore secret\x00"...)
	ad = binary.BigEndian.AppendUint32(ad, n)
	return append(ad, purpose...)
}

// decode parses and decrypts the contents of a key store file.
func decode(data []byte, aead cipher.AEAD) ([]version, error) {
	var f fileJSON
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	if f.Format != formatVersion {
		return nil, fmt.Errorf("file format %d is not supported (want %d)", f.Format, formatVersion)
	}
	ns := aead.NonceSize()
	if len(f.Check) < ns {
		return nil, fmt.Errorf("master key check: %w", ErrCorrupt)
	}
	if _, err := aead.Open(nil, f.Check[:ns], f.Check[ns:], []byte(checkData)); err != nil {
		return nil, ErrWrongMasterKey
	}
	if len(f.Keys) == 0 {
		return nil, errors.New("the file holds no key versions")
	}
	keys := make([]version, len(f.Keys))
	for i, sealed := range f.Keys {
		if sealed.Version == 0 || (i > 0 && sealed.Version <= f.Keys[i-1].Version) {
			return nil, fmt.Errorf("version %d out of order: %w", sealed.Version, ErrCorrupt)
		}
		if len(sealed.Nonce) != ns {
			return nil, fmt.Errorf("version %d: %w", sealed.Version, ErrCorrupt)
		}
		secret, err := aead.Open(nil, sealed.Nonce, sealed.Ciphertext, additionalData(sealed.Version, sealed.Purpose))
		if err != nil {
			return nil, fmt.Errorf("version %d: %w", sealed.Version, ErrCorrupt)
		}
		if sealed.Purpose != PurposePseudonym {
			return nil, fmt.Errorf("version %d has purpose %q, want %q", sealed.Version, sealed.Purpose, PurposePseudonym)
		}
		if len(secret) != SecretSize {
			return nil, fmt.Errorf("version %d is %d bytes, want %d", sealed.Version, len(secret), SecretSize)
		}
		keys[i] = version{sealed: sealed, secret: secret}
	}
	return keys, nil
}

// sameHistory returns an error unless every version in old is in cur with
// the same secret: a key store file restored from an old backup must not
// make Rotate reuse a version number for a different secret.
func sameHistory(old, cur []version) error {
	j := 0
	for _, o := range old {
		for j < len(cur) && cur[j].sealed.Version < o.sealed.Version {
			j++
		}
		if j == len(cur) || cur[j].sealed.Version != o.sealed.Version || !bytes.Equal(cur[j].secret, o.secret) {
			return fmt.Errorf("version %d changed or disappeared since the store was opened; restart to reload it", o.sealed.Version)
		}
	}
	return nil
}
