package keystore

import (
	"bytes"
	"context"
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

// MasterKeySize is the length in bytes of a master key: an AES-256 key.
const MasterKeySize = 32

// MasterKeyFileName is the name of the master key file that LoadMasterKey
// reads from, or generates in, the data directory.
const MasterKeyFileName = "master.key"

// ErrMalformedMasterKey is returned, wrapped, for a master key that is not 32
// bytes in one of the accepted encodings.
var ErrMalformedMasterKey = errors.New("master key must be 32 bytes encoded as base64 or 64 hex characters")

// MasterKeyConfig says where the master key comes from. LoadMasterKey uses
// the first of Value, File and DataDir that is set.
type MasterKeyConfig struct {
	// Value is the key itself, from --master-key or ADMETER_MASTER_KEY: 32
	// bytes encoded as base64 (standard or URL alphabet, padded or not) or
	// as 64 hex characters.
	Value string
	// File is the path of a file holding the key (--master-key-file), in one
	// of Value's encodings or as exactly 32 raw bytes. It must not be
	// accessible by group or others.
	File string
	// DataDir is admeter's data directory. If neither Value nor File is set,
	// the key is read from <DataDir>/master.key, which is generated on first
	// use.
	DataDir string
}

// The sources LoadMasterKey reports. File sources are followed by ":" and
// the file's path.
const (
	SourceValue     = "value"     // MasterKeyConfig.Value
	SourceFile      = "file"      // MasterKeyConfig.File
	SourceDataDir   = "data-dir"  // an existing <DataDir>/master.key
	SourceGenerated = "generated" // a <DataDir>/master.key made by this call
)

// LoadMasterKey returns the master key that cfg designates and a description
// of where it came from (one of the Source constants, followed by ":path" for
// a file), suitable for logging. Precedence is cfg.Value, then cfg.File, then
// <cfg.DataDir>/master.key. If none of these exists it generates a random key,
// writes it to <cfg.DataDir>/master.key with mode 0600 and logs a warning:
// a key stored next to the data it protects is fine for trying admeter but
// not for production.
//
// A key file that group or others can access is refused. The key itself is
// never logged and never part of an error. A nil logger discards.
func LoadMasterKey(cfg MasterKeyConfig, logger *slog.Logger) (key []byte, source string, err error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case cfg.Value != "":
		if cfg.File != "" {
			logger.Warn("both a master key value and a master key file are set; using the value", "file", cfg.File)
		}
		key, err := ParseMasterKey([]byte(cfg.Value))
		if err != nil {
			return nil, "", fmt.Errorf("parse master key from --master-key or ADMETER_MASTER_KEY: %w", err)
		}
		return key, SourceValue, nil
	case cfg.File != "":
		key, err := readMasterKeyFile(cfg.File)
		if err != nil {
			return nil, "", err
		}
		return key, SourceFile + ":" + cfg.File, nil
	case cfg.DataDir == "":
		return nil, "", errors.New("load master key: no key value, key file or data directory given")
	}

	path := filepath.Join(cfg.DataDir, MasterKeyFileName)
	key, err = readMasterKeyFile(path)
	if err == nil {
		return key, SourceDataDir + ":" + path, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, "", err
	}

	key, err = generateMasterKey(path)
	if errIsExist(err) {
		// Another process generated it first: use theirs.
		key, err = readMasterKeyFile(path)
		if err != nil {
			return nil, "", err
		}
		return key, SourceDataDir + ":" + path, nil
	} else if err != nil {
		return nil, "", fmt.Errorf("generate master key: %w", err)
	}
	logger.Warn("GENERATED A MASTER KEY AND STORED IT NEXT TO THE DATA IT PROTECTS. "+
		"This is fine for trying admeter, NOT for production: anyone who copies the data directory "+
		"also gets the key that decrypts its pseudonymisation secrets. "+
		"In production supply the key from elsewhere with --master-key-file (on another volume or from a secret manager), "+
		"--master-key or ADMETER_MASTER_KEY (32 random bytes as base64 or 64 hex characters, e.g. `openssl rand -base64 32`), "+
		"and back it up: without it the key store cannot be decrypted.",
		"path", path)
	return key, SourceGenerated + ":" + path, nil
}

// ParseMasterKey decodes a master key given as base64 (standard or URL
// alphabet, padded or not) or as 64 hex characters; surrounding white space
// is ignored. The error, which wraps ErrMalformedMasterKey, never contains the
// input.
func ParseMasterKey(text []byte) ([]byte, error) {
	s := string(bytes.TrimSpace(text))
	if len(s) == 2*MasterKeySize {
		if key, err := hex.DecodeString(s); err == nil {
			return key, nil
		}
	}
	for _, enc := range []*base64.Encoding{
		base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding,
	} {
		if key, err := enc.DecodeString(s); err == nil {
			if len(key) == MasterKeySize {
				return key, nil
			}
			return nil, fmt.Errorf("%w (it decodes to %d bytes)", ErrMalformedMasterKey, len(key))
		}
	}
	return nil, ErrMalformedMasterKey
}

// readMasterKeyFile reads the key in path after checking that only its owner
// can access it. Its error matches os.ErrNotExist if path does not exist.
func readMasterKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open master key file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat master key file: %w", err)
	}
	if err := checkPrivate(path, fi); err != nil {
		return nil, fmt.Errorf("refuse master key file: %w", err)
	}
	// A key file is at most a few hundred bytes; read a little more than
	// that so a wrong path (a log, a database) fails fast.
	data, err := io.ReadAll(io.LimitReader(f, 4096))
	if err != nil {
		return nil, fmt.Errorf("read master key file %s: %w", path, err)
	}
	if len(data) == MasterKeySize && !isText(data) {
		return data, nil // 32 raw bytes, as `head -c 32 /dev/urandom` writes
	}
	key, err := ParseMasterKey(data)
	if err != nil {
		return nil, fmt.Errorf("parse master key file %s: %w", path, err)
	}
	return key, nil
}

// generateMasterKey makes a random key and writes it, base64 encoded, to a
// new file at path. Its error matches os.ErrExist if path already exists.
func generateMasterKey(path string) ([]byte, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	key := make([]byte, MasterKeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("read random key: %w", err)
	}
	text := base64.StdEncoding.EncodeToString(key) + "\n"
	if err := writeFileExclusive(path, []byte(text)); err != nil {
		return nil, err
	}
	return key, nil
}

// isText reports whether b is all printable ASCII or white space. Random
// bytes almost never are (odds about 1 in 10^14 for 32 bytes), so a 32-byte
// file that is text is a mistyped key, not a raw one.
func isText(b []byte) bool {
	for _, c := range b {
		if (c < 0x20 || c > 0x7e) && c != '\n' && c != '\r' && c != '\t' {
			return false
		}
	}
	return true
}

// RotateMaster re-encrypts the key store file at path under newMaster: every
// live secret, the opt-out registry secret and the master key check are
// sealed again with fresh nonces, and the file is replaced atomically. The
// secrets themselves, version numbers and destroyed versions do not change,
// so pseudonyms stay the same. A format-1 file is upgraded on the way, as
// Open would.
//
// RotateMaster fails without changing the file if oldMaster does not open it
// (an error wrapping ErrWrongMasterKey), if newMaster is not MasterKeySize
// bytes or if it equals oldMaster. It never creates a key store.
//
// Every process that has the key store open keeps the secrets it loaded,
// but its next Reload, Rotate or Destroy fails with ErrWrongMasterKey:
// restart each of them with the new master key, and replace the old key
// wherever it is kept (the master key file, the secret manager). A nil
// logger discards.
//
// RotateMaster is RotateMasterBackend with a FileBackend.
func RotateMaster(path string, oldMaster, newMaster []byte, logger *slog.Logger) error {
	return RotateMasterBackend(context.Background(), NewFileBackend(path), oldMaster, newMaster, logger)
}

// RotateMasterBackend is RotateMaster for the document that b keeps: it
// re-encrypts it under newMaster and saves it by compare-and-swap, starting
// again if another process saved in between. It never creates a document:
// if b holds none, the error wraps fs.ErrNotExist.
func RotateMasterBackend(ctx context.Context, b Backend, oldMaster, newMaster []byte, logger *slog.Logger) error {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	oldSealer, err := newAEAD(oldMaster)
	if err != nil {
		return fmt.Errorf("rotate master key: old key: %w", err)
	}
	newSealer, err := newAEAD(newMaster)
	if err != nil {
		return fmt.Errorf("rotate master key: new key: %w", err)
	}
	if subtle.ConstantTimeCompare(oldMaster, newMaster) == 1 {
		return errors.New("rotate master key: the new master key is the old one; generate a new one, e.g. with `openssl rand -base64 32`")
	}
	name, path := describe(b)
	where := slog.String("backend", name)
	if path != "" {
		where = slog.String("path", path)
	}

	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if err := backoff(ctx, attempt-1); err != nil {
				return fmt.Errorf("rotate master key: %w", err)
			}
		}
		versions, err := rotateMasterOnce(ctx, b, name, oldSealer, newSealer, logger, where)
		if IsConflict(err) && attempt < maxAttempts-1 {
			continue
		} else if err != nil {
			return err
		}
		logger.Warn("rotated the master key of the key store: restart every admeter process that uses it with the new master key, and replace the old key wherever it is kept",
			where, "versions", versions)
		return nil
	}
}

// rotateMasterOnce makes one attempt of RotateMasterBackend: it loads the
// document, re-encrypts it and saves it if nobody else saved meanwhile. It
// returns the number of versions.
func rotateMasterOnce(ctx context.Context, b Backend, name string, oldSealer, newSealer cipher.AEAD, logger *slog.Logger, where slog.Attr) (int, error) {
	data, rev, err := b.Load(ctx)
	if err != nil {
		return 0, fmt.Errorf("rotate master key: read key store: %w", err)
	}
	if data == nil {
		return 0, fmt.Errorf("rotate master key: no key store in %s: %w", name, fs.ErrNotExist)
	}
	c, err := decode(data, oldSealer)
	if err != nil {
		return 0, fmt.Errorf("rotate master key: cannot decrypt key store %s with the old key: %w", name, err)
	}
	defer func() { c.wipe() }()
	if c.optOut.secret == nil {
		if err := addOptOut(newSealer, &c, time.Now()); err != nil {
			return 0, fmt.Errorf("rotate master key: %w", err)
		}
		logger.Info("upgraded key store file: added the opt-out registry secret",
			where, "from_format", 1, "to_format", formatVersion)
	}
	for i, k := range c.keys {
		if k.destroyed() {
			continue
		}
		if c.keys[i].sealed, err = seal(newSealer, k.sealed, k.secret); err != nil {
			return 0, fmt.Errorf("rotate master key: %w", err)
		}
	}
	if c.optOut.sealed, err = seal(newSealer, c.optOut.sealed, c.optOut.secret); err != nil {
		return 0, fmt.Errorf("rotate master key: %w", err)
	}
	out, err := encode(newSealer, c)
	if err != nil {
		return 0, fmt.Errorf("rotate master key: %w", err)
	}
	// Check the new document before it replaces the old: a mistake here
	// would lose every secret.
	check, err := decode(out, newSealer)
	if err != nil {
		return 0, fmt.Errorf("rotate master key: the re-encrypted key store does not open: %w", err)
	}
	defer check.wipe()
	if err := sameHistory(c, check); err != nil {
		return 0, fmt.Errorf("rotate master key: the re-encrypted key store differs from the old one: %w", err)
	}
	if !sameVersions(c.keys, check.keys) {
		return 0, errors.New("rotate master key: the re-encrypted key store lists other versions than the old one")
	}
	if _, err := b.Save(ctx, out, rev); err != nil {
		return 0, fmt.Errorf("rotate master key: write key store: %w", err)
	}
	return len(c.keys), nil
}
