package keystore

import (
	"bytes"
	"context"
	"crypto/cipher"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"os"
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
// secret, decrypted in memory and sealed in its Backend. Its methods are
// safe for concurrent use. Neither its String method nor its log value shows
// a secret.
type Store struct {
	// Now returns the time a new version is created, or a version is
	// destroyed, at. Set it before the first call to Rotate or Destroy;
	// Open and OpenBackend set it to time.Now.
	Now func() time.Time

	b      Backend
	name   string // names the store in errors and logs, never a secret
	path   string // the file of a FileBackend, or ""
	aead   cipher.AEAD
	logger *slog.Logger

	// op serialises Rotate, Destroy and Reload, the methods that replace
	// cur and doc; a holder may read cur and doc without mu.
	op sync.Mutex
	mu sync.RWMutex
	// cur is what the backend held when last loaded or saved. The secrets
	// in it are never handed out, only copies, and are wiped when replaced.
	cur contents
	// doc is the sealed document cur was decoded from or encoded to.
	doc []byte
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
//
// Open is OpenBackend with a FileBackend.
func Open(path string, master []byte, logger *slog.Logger) (*Store, error) {
	return OpenBackend(context.Background(), NewFileBackend(path), master, logger)
}

// OpenBackend opens the key store document that b keeps, decrypting its
// secrets with master, a 32-byte key from LoadMasterKey. If b holds no
// document, OpenBackend creates one with a new random pseudonym key as
// version 1 and a new opt-out registry secret; if several processes do so
// at the same moment, the compare-and-swap of b.Save lets one create it and
// the others open theirs. A document in format 1 is upgraded as Open
// upgrades a file. If b has a String method, its result names the store in
// errors and logs. A nil logger discards.
//
// OpenBackend fails with an error wrapping ErrWrongMasterKey if master does
// not open the document and ErrCorrupt if a secret in it fails
// authentication.
func OpenBackend(ctx context.Context, b Backend, master []byte, logger *slog.Logger) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if b == nil {
		return nil, errors.New("open key store: no backend")
	}
	aead, err := newAEAD(master)
	if err != nil {
		return nil, fmt.Errorf("open key store: %w", err)
	}
	s := &Store{Now: time.Now, b: b, aead: aead, logger: logger}
	s.name, s.path = describe(b)

	c, doc, err := s.openOrCreate(ctx)
	if err != nil {
		return nil, err
	}
	s.cur, s.doc = c, doc
	if s.path != "" {
		if fi, err := os.Stat(s.path); err == nil && checkPrivate(s.path, fi) != nil {
			logger.Warn("key store file is accessible by group or others; its secrets are sealed, but restrict it with chmod 600",
				"path", s.path, "mode", fmt.Sprintf("%04o", fi.Mode().Perm()))
		}
	}
	logger.Info("opened key store", s.where(), "versions", len(c.keys), "current", c.current().sealed.Version)
	return s, nil
}

// openOrCreate loads the document, creating it if there is none and
// upgrading it if it is in format 1, and retries when another process saved
// first.
func (s *Store) openOrCreate(ctx context.Context) (contents, []byte, error) {
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if err := backoff(ctx, attempt-1); err != nil {
				return contents{}, nil, fmt.Errorf("open key store: %w", err)
			}
		}
		c, doc, rev, err := s.load(ctx)
		if err != nil {
			return contents{}, nil, err
		}
		last := attempt == maxAttempts-1
		switch {
		case doc == nil:
			c, doc, err = s.create(ctx)
			if IsConflict(err) && !last {
				continue // another process created it first: open theirs
			} else if err != nil {
				return contents{}, nil, fmt.Errorf("create key store: %w", err)
			}
		case c.optOut.secret == nil:
			c, doc, err = s.upgrade(ctx, c, rev)
			if IsConflict(err) && !last {
				continue // another process changed it first: look again
			} else if err != nil {
				return contents{}, nil, err
			}
		}
		return c, doc, nil
	}
}

// Path returns the path of the key store file, or "" if the store is not
// kept in a file.
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
// current and returns its number. The document is reloaded first, so
// changes that another process made are kept, and is then saved by
// compare-and-swap: if another process saved in between, Rotate reloads and
// tries again, a bounded number of times. On error nothing changes. Older
// versions stay readable through Secret until they are destroyed.
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
	s.logger.Info("rotated pseudonymisation key", s.where(), "version", n)
	return n, nil
}

// Destroy erases the secret of the given pseudonym key version from the key
// store for good: pseudonyms made under it can no longer be matched to an
// identifier. The version stays listed by Versions, with its Destroyed
// time, so version numbers are never reused; Secret returns an error
// wrapping ErrDestroyed for it. Destroying a version that is already
// destroyed does nothing.
//
// Destroy refuses the current version: rotate first. Like Rotate, it
// reloads the document first and saves it by compare-and-swap, retrying if
// another process saved in between; on error nothing changes.
//
// The secret is gone from the key store document and from this process,
// not from backups of the document made before, nor from other processes
// until they call Reload: destroy those copies too.
func (s *Store) Destroy(ctx context.Context, version uint32) error {
	var already bool
	err := s.change(ctx, func(c *contents) (bool, error) {
		already = false
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
		s.logger.Info("pseudonymisation key already destroyed", s.where(), "version", version)
		return nil
	}
	s.logger.Info("destroyed pseudonymisation key", s.where(), "version", version)
	return nil
}

// Reload is ReloadContext without a deadline. A server whose backend is
// across a network should call ReloadContext with a timeout instead.
func (s *Store) Reload() (changed bool, err error) {
	return s.ReloadContext(context.Background())
}

// ReloadContext reloads the key store document, so that a running server
// picks up a rotation or destruction that another process (the admeter
// keys command, or another node sharing the backend) made. It reports
// whether the versions changed; if so, the caller should take the new
// Current version. The document must extend what s holds: a version that
// disappeared, changed its secret or came back after being destroyed, or a
// changed opt-out registry secret, is an error, and s keeps what it had; so
// is a document that is gone (an error wrapping fs.ErrNotExist). After
// RotateMaster, ReloadContext fails with an error wrapping
// ErrWrongMasterKey: restart with the new master key.
func (s *Store) ReloadContext(ctx context.Context) (changed bool, err error) {
	s.op.Lock()
	defer s.op.Unlock()
	doc, _, err := s.b.Load(ctx)
	if err != nil {
		return false, fmt.Errorf("reload key store: read key store: %w", err)
	}
	if doc != nil && bytes.Equal(doc, s.doc) {
		return false, nil // the very document s holds: nothing to decrypt
	}
	c, err := s.decodeLoaded(doc)
	if err != nil {
		return false, fmt.Errorf("reload key store: %w", err)
	}
	if err := sameHistory(s.cur, c); err != nil {
		c.wipe()
		return false, fmt.Errorf("reload key store %s: %w", s.name, err)
	}
	if sameVersions(s.cur.keys, c.keys) {
		s.replace(c, doc) // the same versions, sealed anew (a format upgrade)
		return false, nil
	}
	s.replace(c, doc)
	s.logger.Info("reloaded key store", s.where(), "versions", len(c.keys), "current", c.current().sealed.Version)
	return true, nil
}

// String describes s without any secret.
func (s *Store) String() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	label, where := "path", s.path
	if s.path == "" {
		label, where = "backend", s.name
	}
	return fmt.Sprintf("keystore.Store{%s: %q, versions: %d, current: %d, destroyed: %d}",
		label, where, len(s.cur.keys), s.cur.current().sealed.Version, s.cur.destroyedCount())
}

// GoString describes s for %#v, without any secret.
func (s *Store) GoString() string { return s.String() }

// LogValue implements slog.LogValuer: where the store is kept and version
// numbers only.
func (s *Store) LogValue() slog.Value {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slog.GroupValue(
		s.where(),
		slog.Int("versions", len(s.cur.keys)),
		slog.Any("current", s.cur.current().sealed.Version),
		slog.Int("destroyed", s.cur.destroyedCount()),
	)
}

// where is the log attribute that says where the store is kept: its path,
// or its backend's name.
func (s *Store) where() slog.Attr {
	if s.path != "" {
		return slog.String("path", s.path)
	}
	return slog.String("backend", s.name)
}

// change runs one read-modify-write cycle of the document: it reloads the
// document, checks that it extends what s holds, lets edit change it and,
// if edit reports a change, saves it by compare-and-swap. If another
// process saved in between, it starts again, up to maxAttempts times, so
// that edit always applies to the latest document and no change is lost.
// Either way s then holds what the backend holds.
func (s *Store) change(ctx context.Context, edit func(*contents) (bool, error)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.op.Lock()
	defer s.op.Unlock()
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if err := backoff(ctx, attempt-1); err != nil {
				return err
			}
		}
		doc, rev, err := s.b.Load(ctx)
		if err != nil {
			return fmt.Errorf("read key store: %w", err)
		}
		c, err := s.decodeLoaded(doc)
		if err != nil {
			return err
		}
		if err := sameHistory(s.cur, c); err != nil {
			c.wipe()
			return fmt.Errorf("key store %s: %w", s.name, err)
		}
		changed, err := edit(&c)
		if err == nil && changed {
			err = ctx.Err()
			if err == nil {
				doc, err = encode(s.aead, c)
			}
			if err == nil {
				_, err = s.b.Save(ctx, doc, rev)
				if IsConflict(err) && attempt < maxAttempts-1 {
					c.wipe()
					s.logger.Debug("key store changed by another process while saving; reloading and trying again", s.where(), "attempt", attempt+1)
					continue
				} else if err != nil {
					err = fmt.Errorf("write key store: %w", err)
				}
			}
		}
		if err != nil {
			c.wipe()
			return err
		}
		s.replace(c, doc)
		return nil
	}
}

// replace makes c, decoded from or encoded to doc, what s holds, and wipes
// what it held. The caller holds op.
func (s *Store) replace(c contents, doc []byte) {
	s.mu.Lock()
	old := s.cur
	s.cur, s.doc = c, doc
	s.mu.Unlock()
	old.wipe()
}

// create saves a new document holding version 1 and the opt-out registry
// secret, if the backend still holds none. Its error satisfies IsConflict
// if another process created one meanwhile.
func (s *Store) create(ctx context.Context) (contents, []byte, error) {
	now := s.Now()
	k, err := newSecret(s.aead, 1, PurposePseudonym, now)
	if err != nil {
		return contents{}, nil, err
	}
	o, err := newSecret(s.aead, optOutVersion, PurposeOptOut, now)
	if err != nil {
		return contents{}, nil, err
	}
	c := contents{keys: []version{k}, optOut: o}
	doc, err := encode(s.aead, c)
	if err == nil {
		_, err = s.b.Save(ctx, doc, 0)
	}
	if err != nil {
		c.wipe()
		return contents{}, nil, err
	}
	s.logger.Info("created key store", s.where(), "version", k.sealed.Version)
	return c, doc, nil
}

// upgrade saves c, decoded from a format-1 document at revision rev, in the
// current format with a new opt-out registry secret. Its error satisfies
// IsConflict if another process changed the document meanwhile (upgraded
// it, most likely).
func (s *Store) upgrade(ctx context.Context, c contents, rev int64) (contents, []byte, error) {
	if err := addOptOut(s.aead, &c, s.Now()); err != nil {
		c.wipe()
		return contents{}, nil, fmt.Errorf("upgrade key store: %w", err)
	}
	doc, err := encode(s.aead, c)
	if err == nil {
		_, err = s.b.Save(ctx, doc, rev)
	}
	if err != nil {
		c.wipe()
		return contents{}, nil, fmt.Errorf("upgrade key store %s to format %d: %w", s.name, formatVersion, err)
	}
	s.logger.Info("upgraded key store file: added the opt-out registry secret",
		s.where(), "from_format", 1, "to_format", formatVersion)
	return c, doc, nil
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

// load loads and decrypts the document. It returns a nil doc, and no
// error, if the backend holds none.
func (s *Store) load(ctx context.Context) (c contents, doc []byte, rev int64, err error) {
	doc, rev, err = s.b.Load(ctx)
	if err != nil {
		return contents{}, nil, 0, fmt.Errorf("read key store: %w", err)
	}
	if doc == nil {
		return contents{}, nil, 0, nil
	}
	c, err = decode(doc, s.aead)
	if err != nil {
		return contents{}, nil, 0, fmt.Errorf("cannot decrypt key store %s: %w", s.name, err)
	}
	return c, doc, rev, nil
}

// decodeLoaded decrypts doc, just loaded for a store that is open. A
// document that is gone is an error wrapping fs.ErrNotExist; a master key
// that no longer opens it was most likely rotated by RotateMaster, which
// the error says.
func (s *Store) decodeLoaded(doc []byte) (contents, error) {
	if doc == nil {
		return contents{}, fmt.Errorf("read key store %s: it is gone: %w; restore it, or restart to create a new one (pseudonyms made so far then no longer match)", s.name, fs.ErrNotExist)
	}
	c, err := decode(doc, s.aead)
	switch {
	case errors.Is(err, ErrWrongMasterKey):
		return contents{}, fmt.Errorf("cannot decrypt key store %s: %w the master key was rotated? restart with the new key", s.name, ErrWrongMasterKey)
	case err != nil:
		return contents{}, fmt.Errorf("cannot decrypt key store %s: %w", s.name, err)
	}
	return c, nil
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
