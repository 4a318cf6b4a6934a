package keystore

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// formatVersion is the version of the key store file's layout that this
// package writes. Format 1 had no opt-out registry secret; Open upgrades it.
const formatVersion = 2

// optOutVersion is the version number the opt-out registry secret is sealed
// under. The secret is never rotated, so there is only ever this one.
const optOutVersion = 1

// lockSuffix names the lock file next to the key store file.
const lockSuffix = ".lock"

// fileJSON is the layout of the key store file.
type fileJSON struct {
	Format int `json:"format"`
	// Check is the empty message sealed under the master key alone, so that
	// a wrong master key can be told from a damaged secret.
	Check []byte       `json:"check"`
	Keys  []sealedJSON `json:"keys"`
	// OptOut is the opt-out registry secret; absent in format 1.
	OptOut *sealedJSON `json:"optout,omitempty"`
}

// sealedJSON is one sealed secret. Byte slices are base64 in JSON. A
// destroyed version keeps its number, creation and destruction times, and
// has neither nonce nor ciphertext.
type sealedJSON struct {
	Version    uint32    `json:"version"`
	Created    time.Time `json:"created"`
	Destroyed  time.Time `json:"destroyed,omitzero"`
	Purpose    string    `json:"purpose"`
	Nonce      []byte    `json:"nonce,omitempty"`
	Ciphertext []byte    `json:"ciphertext,omitempty"`
}

// version is one decrypted secret and its sealed form. secret is nil for a
// destroyed version.
type version struct {
	sealed sealedJSON
	secret []byte
}

// destroyed reports whether v's secret was destroyed.
func (v version) destroyed() bool { return !v.sealed.Destroyed.IsZero() }

// contents is the decrypted contents of a key store file.
type contents struct {
	keys   []version // ascending by number; the last is current and live
	optOut version   // secret is nil if the file is in format 1
}

// wipe overwrites every secret in c with zeros. Secrets are only ever
// handed out as copies, so a wiped contents must simply not be used again.
func (c contents) wipe() {
	for _, k := range c.keys {
		clear(k.secret)
	}
	clear(c.optOut.secret)
}

// newAEAD returns AES-256-GCM under master.
func newAEAD(master []byte) (cipher.AEAD, error) {
	if len(master) != MasterKeySize {
		return nil, fmt.Errorf("master key is %d bytes, want %d", len(master), MasterKeySize)
	}
	block, err := aes.NewCipher(master)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// newSecret makes a random secret with the given number, purpose and
// creation time, and seals it.
func newSecret(aead cipher.AEAD, n uint32, purpose string, created time.Time) (version, error) {
	secret := make([]byte, SecretSize)
	if _, err := rand.Read(secret); err != nil {
		return version{}, fmt.Errorf("read random secret: %w", err)
	}
	sealed, err := seal(aead, sealedJSON{Version: n, Created: created.UTC().Round(0), Purpose: purpose}, secret)
	if err != nil {
		return version{}, err
	}
	return version{sealed: sealed, secret: secret}, nil
}

// seal returns meta with a fresh nonce and secret sealed under aead, bound to
// meta's version number and purpose.
func seal(aead cipher.AEAD, meta sealedJSON, secret []byte) (sealedJSON, error) {
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return sealedJSON{}, fmt.Errorf("read random nonce: %w", err)
	}
	meta.Nonce = nonce
	meta.Ciphertext = aead.Seal(nil, nonce, secret, additionalData(meta.Version, meta.Purpose))
	return meta, nil
}

// encode returns the file contents for c, in the current format, with a
// fresh master key check under aead. The sealed forms in c must have been
// made with aead.
func encode(aead cipher.AEAD, c contents) ([]byte, error) {
	if c.optOut.secret == nil {
		return nil, errors.New("encode key store: no opt-out registry secret")
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("read random nonce: %w", err)
	}
	optOut := c.optOut.sealed
	f := fileJSON{
		Format: formatVersion,
		Check:  aead.Seal(nonce, nonce, nil, []byte(checkData)),
		Keys:   make([]sealedJSON, len(c.keys)),
		OptOut: &optOut,
	}
	for i, k := range c.keys {
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

// additionalData binds a sealed secret to its version number and purpose, so
// that a secret cannot be moved to another version or another use.
func additionalData(n uint32, purpose string) []byte {
	ad := make([]byte, 0, 32+len(purpose))
	ad = append(ad, "admeter keystore secret\x00"...)
	ad = binary.BigEndian.AppendUint32(ad, n)
	return append(ad, purpose...)
}

// decode parses and decrypts the contents of a key store file in format 1 or
// 2. A format-1 file yields no opt-out registry secret.
func decode(data []byte, aead cipher.AEAD) (contents, error) {
	var f fileJSON
	if err := json.Unmarshal(data, &f); err != nil {
		return contents{}, fmt.Errorf("parse: %w", err)
	}
	if f.Format != 1 && f.Format != formatVersion {
		return contents{}, fmt.Errorf("file format %d is not supported (want 1 or %d); is this admeter older than the one that wrote it?", f.Format, formatVersion)
	}
	ns := aead.NonceSize()
	if len(f.Check) < ns {
		return contents{}, fmt.Errorf("master key check: %w", ErrCorrupt)
	}
	if _, err := aead.Open(nil, f.Check[:ns], f.Check[ns:], []byte(checkData)); err != nil {
		return contents{}, ErrWrongMasterKey
	}
	if len(f.Keys) == 0 {
		return contents{}, errors.New("the file holds no key versions")
	}
	var c contents
	c.keys = make([]version, len(f.Keys))
	for i, sealed := range f.Keys {
		if sealed.Version == 0 || (i > 0 && sealed.Version <= f.Keys[i-1].Version) {
			return contents{}, fmt.Errorf("version %d out of order: %w", sealed.Version, ErrCorrupt)
		}
		if sealed.Purpose != PurposePseudonym {
			return contents{}, fmt.Errorf("version %d has purpose %q, want %q: %w", sealed.Version, sealed.Purpose, PurposePseudonym, ErrCorrupt)
		}
		k := version{sealed: sealed}
		if k.destroyed() {
			if len(sealed.Nonce) != 0 || len(sealed.Ciphertext) != 0 {
				return contents{}, fmt.Errorf("version %d is marked destroyed but still has a ciphertext: %w", sealed.Version, ErrCorrupt)
			}
		} else {
			secret, err := open(aead, sealed)
			if err != nil {
				return contents{}, err
			}
			k.secret = secret
		}
		c.keys[i] = k
	}
	if cur := c.keys[len(c.keys)-1]; cur.destroyed() {
		return contents{}, fmt.Errorf("current version %d is destroyed: %w", cur.sealed.Version, ErrCorrupt)
	}

	switch {
	case f.Format == 1 && f.OptOut != nil:
		return contents{}, fmt.Errorf("format 1 file holds an opt-out registry secret: %w", ErrCorrupt)
	case f.Format == 1:
		return c, nil
	case f.OptOut == nil:
		return contents{}, fmt.Errorf("the opt-out registry secret is missing: %w", ErrCorrupt)
	}
	o := *f.OptOut
	if o.Purpose != PurposeOptOut || o.Version != optOutVersion || !o.Destroyed.IsZero() {
		return contents{}, fmt.Errorf("opt-out registry secret: purpose %q, version %d (want %q, %d): %w",
			o.Purpose, o.Version, PurposeOptOut, optOutVersion, ErrCorrupt)
	}
	secret, err := open(aead, o)
	if err != nil {
		return contents{}, fmt.Errorf("opt-out registry secret: %w", err)
	}
	c.optOut = version{sealed: o, secret: secret}
	return c, nil
}

// open decrypts one sealed secret.
func open(aead cipher.AEAD, sealed sealedJSON) ([]byte, error) {
	if len(sealed.Nonce) != aead.NonceSize() {
		return nil, fmt.Errorf("version %d: %w", sealed.Version, ErrCorrupt)
	}
	secret, err := aead.Open(nil, sealed.Nonce, sealed.Ciphertext, additionalData(sealed.Version, sealed.Purpose))
	if err != nil {
		return nil, fmt.Errorf("version %d: %w", sealed.Version, ErrCorrupt)
	}
	if len(secret) != SecretSize {
		return nil, fmt.Errorf("version %d is %d bytes, want %d: %w", sealed.Version, len(secret), SecretSize, ErrCorrupt)
	}
	return secret, nil
}

// sameHistory returns an error unless cur, just read from the file, extends
// old, what this Store holds: every version in old must be in cur with the
// same secret, or destroyed in cur (by another process), and the opt-out
// registry secret must be the same. A key store file restored from an old
// backup must not make Rotate reuse a version number for a different
// secret, bring a destroyed secret back, or lose the opt-out registry secret.
func sameHistory(old, cur contents) error {
	j := 0
	for _, o := range old.keys {
		for j < len(cur.keys) && cur.keys[j].sealed.Version < o.sealed.Version {
			j++
		}
		if j == len(cur.keys) || cur.keys[j].sealed.Version != o.sealed.Version {
			return fmt.Errorf("version %d disappeared since the store was loaded; was the file restored from a backup? restart to reload it", o.sealed.Version)
		}
		c := cur.keys[j]
		switch {
		case o.destroyed() && !c.destroyed():
			return fmt.Errorf("version %d was destroyed but the file holds it again; was the file restored from a backup? destroy the version again before restarting", o.sealed.Version)
		case !o.destroyed() && !c.destroyed() && !bytes.Equal(o.secret, c.secret):
			return fmt.Errorf("version %d changed since the store was loaded; was the file replaced? restart to reload it", o.sealed.Version)
		}
	}
	if old.optOut.secret != nil && !bytes.Equal(old.optOut.secret, cur.optOut.secret) {
		return errors.New("the opt-out registry secret changed or disappeared since the store was loaded; was the file replaced? restart to reload it")
	}
	return nil
}

// sameVersions reports whether a and b list the same versions, destroyed
// alike. Their secrets are compared by sameHistory.
func sameVersions(a, b []version) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].sealed.Version != b[i].sealed.Version || a[i].destroyed() != b[i].destroyed() {
			return false
		}
	}
	return true
}
