package keystore

import (
	"bytes"
	"context"
	"crypto/cipher"
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

// SecretSize is the length in bytes of a secret.
const SecretSize = 32

// The purposes of the secrets a Store keeps. Each secret's purpose is sealed
// into its additional data, so a secret cannot be moved to another use.
const (
	// PurposePseudonym is the purpose of the versioned, rotated keys for the
	// HMAC that turns identifiers into pseudonyms.
	PurposePseudonym = "pseudonym"
	// PurposeOptOut is the purpose of the opt-out registry secret: the key
	// of the pseudonyms the opt-out registry keeps for ever. It is created
	// with the store and never rotated, so that opt-outs survive rotations
	// of the pseudonym keys.
	PurposeOptOut = "optout-registry"
)

// Errors returned, wrapped, by Open, Reload, Rotate, Destroy, Secret and
// RotateMaster.
var (
	// ErrWrongMasterKey means the master key does not open the key store.
	ErrWrongMasterKey = errors.New("wrong master key?")
	// ErrCorrupt means the master key is right but a sealed secret fails
	// authentication or the file is inconsistent: it was damaged or
	// tampered with.
	ErrCorrupt = errors.New("sealed secret fails authentication: the file is corrupt or was tampered with")
	// ErrUnknownVersion means no secret has the requested version.
	ErrUnknownVersion = errors.New("unknown key version")
	// ErrDestroyed means the requested version's secret was destroyed with
	// Destroy: pseudonyms made under it can no longer be matched.
	ErrDestroyed = errors.New("key version was destroyed")
)

// VersionInfo describes one version of the pseudonym key, without the
// secret.
type VersionInfo struct {
	Version uint32
	Created time.Time
	Purpose string
	// Current is true for the version new pseudonyms are made with.
	Current bool
	// Destroyed is when the version's secret was destroyed, or zero if the
	// secret is live.
	Destroyed time.Time
}

// Store holds the versions of the pseudonym key and the opt-out registry
// secret, decrypted in memory and sealed on disk. Its methods are safe for
// concurrent use. Neither its String method nor its log value shows a
// secret.
type Store struct {
	// Now returns the time a new version is created, or a version is
	// destroyed, at. Set it before the first call to Rotate or Destroy;
	// Open sets it to time.Now.
	Now func() time.Time

	path   string
	aead   cipher.AEAD
	logger *slog.Logger

	// op serialises Rotate, Destroy and Reload, the methods that replace
	// cur; a holder may read cur without mu.
	op sync.Mutex
	mu sync.RWMutex
	// cur is what the file held when last read or written. The secrets in
	// it are never handed out, only copies, and are wiped when replaced.
	cur contents
}

// Open opens the key store file at path, decrypting its secrets with master,
// a 32-byte key from LoadMasterKey. If the file does not exist, Open creates
// it (mode 0600) with a new random pseudonym key as version 1 and a new
// opt-out registry secret. If the file is in format 1, which predates the
// opt-out registry secret, Open adds one and rewrites the file atomically in
// the current format. A nil logger discards.
//
// Open fails with an error wrapping ErrWrongMasterKey if master does not open
// the file and ErrCorrupt if a secret in it fails authentication.
func Open(path string, master []byte, logger *slog.Logger) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	aead, err := newAEAD(master)
	if err != nil {
		return nil, fmt.Errorf("open key store: %w", err)
	}
	s := &Store{Now: time.Now, path: path, aead: aead, logger: logger}

	c, err := s.read()
	if errors.Is(err, os.ErrNotExist) {
		c, err = s.create()
		if errIsExist(err) {
			c, err = s.read() // another process created it first
		}
	}
	if err == nil && c.optOut.secret == nil {
		c.wipe()
		c, err = s.upgrade()
	}
	if err != nil {
		return nil, err
	}
	s.cur = c
	if fi, err := os.Stat(path); err == nil && checkPrivate(path, fi) != nil {
		logger.Warn("key store file is accessible by group or others; its secrets are sealed, but restrict it with chmod 600",
			"path", path, "mode", fmt.Sprintf("%04o", fi.Mode().Perm()))
	}
	logger.Info("opened key store", "path", path, "versions", len(c.keys), "current", c.current().sealed.Version)
	return s, nil
}

// Path returns the path of the key store file.
func (s *Store) Path() string { return s.path }

// Current returns the current pseudonym key version and its secret. The
// secret is a copy the caller may keep.
func (s *Store) Current() (version uint32, secret []byte) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	k := s.cur.current()
	return k.sealed.Version, bytes.Clone(k.secret)
}

// Secret returns a copy of the pseudonym key with the given version, or an
// error wrapping ErrUnknownVersion or ErrDestroyed.
func (s *Store) Secret(version uint32) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	k, ok := s.cur.find(version)
	if !ok {
		return nil, fmt.Errorf("get secret: %w %d", ErrUnknownVersion, version)
	}
	if k.destroyed() {
		return nil, fmt.Errorf("get secret: version %d: %w on %s", version, ErrDestroyed, k.sealed.Destroyed.Format(time.RFC3339))
	}
	return bytes.Clone(k.secret), nil
}

// OptOutSecret returns a copy of the opt-out registry secret. It is the same
// for the life of the key store: it is never rotated.
func (s *Store) OptOutSecret() []byte {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return bytes.Clone(s.cur.optOut.secret)
}

// Versions describes every pseudonym key version, oldest first, without the
// secrets.
func (s *Store) Versions() []VersionInfo {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]VersionInfo, len(s.cur.keys))
	for i, k := range s.cur.keys {
		out[i] = VersionInfo{
			Version:   k.sealed.Version,
			Created:   k.sealed.Created,
			Purpose:   k.sealed.Purpose,
			Current:   i == len(s.cur.keys)-1,
			Destroyed: k.sealed.Destroyed,
		}
	}
	return out
}

// Rotate adds a new random pseudonym key as the next version, makes it
// current and returns its number. The file is reread first, so changes that
// another process made are kept, and is then replaced atomically; on error
// nothing changes. Older versions stay readable through Secret until they
// are destroyed.
func (s *Store) Rotate(ctx context.Context) (uint32, error) {
	var n uint32
	err := s.change(ctx, func(c *contents) (bool, error) {
		last := c.current().sealed.Version
		if last == math.MaxUint32 {
			return false, fmt.Errorf("no version numbers left after %d", last)
		}
		k, err := newSecret(s.aead, last+1, PurposePseudonym, s.Now())
		if err != nil {
			return false, err
		}
		c.keys = append(c.keys, k)
		n = k.sealed.Version
		return true, nil
	})
	if err != nil {
		return 0, fmt.Errorf("rotate key: %w", err)
	}
	s.logger.Info("rotated pseudonymisation key", "path", s.path, "version", n)
	return n, nil
}

// Destroy erases the secret of the given pseudonym key version from the key
// store for good: pseudonyms made under it can no longer be matched to an
// identifier. The version stays listed by Versions, with its Destroyed
// time, so version numbers are never reused; Secret returns an error
// wrapping ErrDestroyed for it. Destroying a version that is already
// destroyed does nothing.
//
// Destroy refuses the current version: rotate first. Like Rotate, it rereads
// the file first and replaces it atomically; on error nothing changes.
//
// The secret is gone from the key store file and from this process, not
// from backups of the file made before, nor from other processes until they
// call Reload: destroy those copies too.
func (s *Store) Destroy(ctx context.Context, version uint32) error {
	var already bool
	err := s.change(ctx, func(c *contents) (bool, error) {
		i := sort.Search(len(c.keys), func(i int) bool { return c.keys[i].sealed.Version >= version })
		switch {
		case i == len(c.keys) || c.keys[i].sealed.Version != version:
			return false, ErrUnknownVersion
		case i == len(c.keys)-1:
			return false, fmt.Errorf("version %d is the current version, which new pseudonyms are made with; rotate to a new version first, then destroy this one", version)
		case c.keys[i].destroyed():
			already = true
			return false, nil
		}
		k := &c.keys[i]
		clear(k.secret)
		k.secret = nil
		k.sealed.Nonce, k.sealed.Ciphertext = nil, nil
		k.sealed.Destroyed = s.Now().UTC().Round(0)
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("destroy key version %d: %w", version, err)
	}
	if already {
		s.logger.Info("pseudonymisation key already destroyed", "path", s.path, "version", version)
		return nil
	}
	s.logger.Info("destroyed pseudonymisation key", "path", s.path, "version", version)
	return nil
}

// Reload rereads the key store file, so that a running server picks up a
// rotation or destruction that another process (the admeter keys command)
// made. It reports whether the versions changed; if so, the caller should
// take the new Current version. The file must extend what s holds: a
// version that disappeared, changed its secret or came back after being
// destroyed, or a changed opt-out registry secret, is an error, and s keeps
// what it had. After RotateMaster, Reload fails with an error wrapping
// ErrWrongMasterKey: restart with the new master key.
func (s *Store) Reload() (changed bool, err error) {
	s.op.Lock()
	defer s.op.Unlock()
	c, err := s.readLoaded()
	if err != nil {
		return false, fmt.Errorf("reload key store: %w", err)
	}
	if err := sameHistory(s.cur, c); err != nil {
		c.wipe()
		return false, fmt.Errorf("reload key store %s: %w", s.path, err)
	}
	if sameVersions(s.cur.keys, c.keys) {
		c.wipe()
		return false, nil
	}
	s.replace(c)
	s.logger.Info("reloaded key store", "path", s.path, "versions", len(c.keys), "current", c.current().sealed.Version)
	return true, nil
}

// String describes s without any secret.
func (s *Store) String() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return fmt.Sprintf("keystore.Store{path: %q, versions: %d, current: %d, destroyed: %d}",
		s.path, len(s.cur.keys), s.cur.current().sealed.Version, s.cur.destroyedCount())
}

// GoString describes s for %#v, without any secret.
func (s *Store) GoString() string { return s.String() }

// LogValue implements slog.LogValuer: the path and version numbers only.
func (s *Store) LogValue() slog.Value {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slog.GroupValue(
		slog.String("path", s.path),
		slog.Int("versions", len(s.cur.keys)),
		slog.Any("current", s.cur.current().sealed.Version),
		slog.Int("destroyed", s.cur.destroyedCount()),
	)
}

// change runs one read-modify-write cycle of the file: under the file lock
// it rereads the file, checks that it extends what s holds, lets edit change
// it and, if edit reports a change, writes it atomically. Either way s then
// holds what the file holds.
func (s *Store) change(ctx context.Context, edit func(*contents) (bool, error)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.op.Lock()
	defer s.op.Unlock()
	unlock, err := lockFile(s.path)
	if err != nil {
		return err
	}
	defer unlock()

	c, err := s.readLoaded()
	if err != nil {
		return err
	}
	if err := sameHistory(s.cur, c); err != nil {
		c.wipe()
		return fmt.Errorf("key store %s: %w", s.path, err)
	}
	changed, err := edit(&c)
	if err == nil && changed {
		err = ctx.Err()
		var data []byte
		if err == nil {
			data, err = encode(s.aead, c)
		}
		if err == nil {
			if werr := writeFileAtomic(s.path, data); werr != nil {
				err = fmt.Errorf("write key store: %w", werr)
			}
		}
	}
	if err != nil {
		c.wipe()
		return err
	}
	s.replace(c)
	return nil
}

// replace makes c what s holds and wipes what it held. The caller holds op.
func (s *Store) replace(c contents) {
	s.mu.Lock()
	old := s.cur
	s.cur = c
	s.mu.Unlock()
	old.wipe()
}

// create writes a new key store file holding version 1 and the opt-out
// registry secret. Its error matches os.ErrExist if the file appeared
// meanwhile.
func (s *Store) create() (contents, error) {
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return contents{}, fmt.Errorf("create key store: %w", err)
	}
	now := s.Now()
	k, err := newSecret(s.aead, 1, PurposePseudonym, now)
	if err != nil {
		return contents{}, fmt.Errorf("create key store: %w", err)
	}
	o, err := newSecret(s.aead, optOutVersion, PurposeOptOut, now)
	if err != nil {
		return contents{}, fmt.Errorf("create key store: %w", err)
	}
	c := contents{keys: []version{k}, optOut: o}
	data, err := encode(s.aead, c)
	if err == nil {
		err = writeFileExclusive(s.path, data)
	}
	if err != nil {
		c.wipe()
		return contents{}, fmt.Errorf("create key store: %w", err)
	}
	s.logger.Info("created key store", "path", s.path, "version", k.sealed.Version)
	return c, nil
}

// upgrade rewrites a format-1 file in the current format, adding the opt-out
// registry secret, unless another process did so first.
func (s *Store) upgrade() (contents, error) {
	unlock, err := lockFile(s.path)
	if err != nil {
		return contents{}, fmt.Errorf("upgrade key store: %w", err)
	}
	defer unlock()
	c, err := s.read()
	if err != nil || c.optOut.secret != nil {
		return c, err // an error, or another process upgraded it
	}
	if err := addOptOut(s.aead, &c, s.Now()); err != nil {
		c.wipe()
		return contents{}, fmt.Errorf("upgrade key store: %w", err)
	}
	data, err := encode(s.aead, c)
	if err == nil {
		err = writeFileAtomic(s.path, data)
	}
	if err != nil {
		c.wipe()
		return contents{}, fmt.Errorf("upgrade key store %s to format %d: %w", s.path, formatVersion, err)
	}
	s.logger.Info("upgraded key store file: added the opt-out registry secret",
		"path", s.path, "from_format", 1, "to_format", formatVersion)
	return c, nil
}

// addOptOut gives c, read from a format-1 file, a new opt-out registry
// secret.
func addOptOut(aead cipher.AEAD, c *contents, now time.Time) error {
	o, err := newSecret(aead, optOutVersion, PurposeOptOut, now)
	if err != nil {
		return err
	}
	c.optOut = o
	return nil
}

// read reads and decrypts the key store file. Its error matches
// os.ErrNotExist if there is none.
func (s *Store) read() (contents, error) {
	data, err := os.ReadFile(s.path)
	if err != nil {
		return contents{}, fmt.Errorf("read key store: %w", err)
	}
	c, err := decode(data, s.aead)
	if err != nil {
		return contents{}, fmt.Errorf("cannot decrypt key store %s: %w", s.path, err)
	}
	return c, nil
}

// readLoaded rereads the file of an open store. A master key that no longer
// opens it was most likely rotated by RotateMaster, which the error says.
func (s *Store) readLoaded() (contents, error) {
	c, err := s.read()
	if errors.Is(err, ErrWrongMasterKey) {
		return contents{}, fmt.Errorf("cannot decrypt key store %s: %w the master key was rotated? restart with the new key", s.path, ErrWrongMasterKey)
	}
	return c, err
}

// current returns the current version.
func (c contents) current() version { return c.keys[len(c.keys)-1] }

// find returns the version numbered n.
func (c contents) find(n uint32) (version, bool) {
	i := sort.Search(len(c.keys), func(i int) bool { return c.keys[i].sealed.Version >= n })
	if i == len(c.keys) || c.keys[i].sealed.Version != n {
		return version{}, false
	}
	return c.keys[i], true
}

// destroyedCount returns how many versions are destroyed.
func (c contents) destroyedCount() int {
	n := 0
	for _, k := range c.keys {
		if k.destroyed() {
			n++
		}
	}
	return n
}
