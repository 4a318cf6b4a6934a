package keystore

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/admeter/admeter"
)

// Backend keeps the sealed key store document: where it lives, apart from
// what a Store does with it. The document holds no secret in the clear
// (every secret in it is sealed under the master key, which never leaves
// the processes that open the store), so a backend may be a file or a row
// in a database that several machines share.
//
// A backend stores one document and a revision number for it, and replaces
// it by compare-and-swap, so that processes that change the document at the
// same moment never lose one another's change: one saves, the others learn
// of the conflict, reload and try again. Its methods must be safe for
// concurrent use, by goroutines and by processes. The caller owns the
// document Load returns; Save neither changes nor keeps the one it is
// given.
//
// FileBackend is the backend of a single machine; meta/postgres provides one
// in PostgreSQL for a cluster.
type Backend interface {
	// Load returns the document and its revision. If no document was ever
	// saved it returns a nil doc, revision 0 and a nil error; a document
	// that exists is never nil, even if it is empty. Revisions are opaque
	// and never 0: two loads that return the same revision return the same
	// document, and callers compare them, never order them.
	Load(ctx context.Context) (doc []byte, rev int64, err error)
	// Save replaces the document with doc, and returns its new revision, if
	// the backend still holds revision prevRev; prevRev 0 means that no
	// document exists yet, and Save then creates it. If another save came
	// first (the revision changed, or the document exists when prevRev is
	// 0, or is gone when prevRev is not), Save changes nothing and returns
	// an error for which IsConflict reports true. A document is saved
	// whole or not at all.
	Save(ctx context.Context, doc []byte, prevRev int64) (rev int64, err error)
}

// IsConflict reports whether err is Backend.Save's report of a lost
// compare-and-swap: an *admeter.Error with code admeter.ECONFLICT in err's
// chain. Backends in other packages return such an error, rather than a
// sentinel of this package, so that they need not import it.
func IsConflict(err error) bool {
	var e *admeter.Error
	return errors.As(err, &e) && e.Code == admeter.ECONFLICT
}

// describe returns the name of b for errors and logs (its String method's
// result, or its type) and, for a FileBackend, its path.
func describe(b Backend) (name, path string) {
	if fb, ok := b.(*FileBackend); ok {
		path = fb.Path()
	}
	if str, ok := b.(fmt.Stringer); ok {
		return str.String(), path
	}
	return fmt.Sprintf("%T", b), path
}

// conflictError returns the error FileBackend.Save returns when it loses.
func conflictError(what string) error {
	return admeter.Errorf(admeter.ECONFLICT, "%s was changed by another process meanwhile: reload it and try again", what)
}

// maxAttempts bounds how often a change is retried after losing a
// compare-and-swap to another process.
const maxAttempts = 16

// backoff waits a short random time before retry attempt (0 for the first
// retry), so that processes that collided do not collide again.
func backoff(ctx context.Context, attempt int) error {
	d := time.Duration(rand.Int64N(int64(attempt+1) * int64(2*time.Millisecond)))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// FileBackend keeps the key store document in one file (mode 0600), which
// it replaces atomically, and never leaves half written. Save compares and
// swaps under an exclusive lock on <path>.lock, which the admeter versions
// that predate backends also take, so it is safe to share the file with
// them. A revision is a hash of the file's contents.
//
// A file is for processes on one machine; processes on several machines
// need a shared backend, such as meta/postgres's.
type FileBackend struct {
	path string
}

var _ Backend = (*FileBackend)(nil)

// NewFileBackend returns the backend of the key store file at path. The
// file and its directory (mode 0700) are created by the first Save.
func NewFileBackend(path string) *FileBackend { return &FileBackend{path: path} }

// Path returns the path of the key store file.
func (b *FileBackend) Path() string { return b.path }

// String returns the path of the key store file: it names the store in
// errors and logs.
func (b *FileBackend) String() string { return b.path }

// Load reads the key store file. It returns a nil document if the file does
// not exist.
func (b *FileBackend) Load(ctx context.Context) (doc []byte, rev int64, err error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	doc, err = os.ReadFile(b.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, nil
	} else if err != nil {
		return nil, 0, err
	}
	if doc == nil {
		doc = []byte{}
	}
	return doc, fileRev(doc), nil
}

// Save replaces the key store file with doc if it still holds revision
// prevRev. It creates the file, and its directory, if prevRev is 0: the file
// is written under a temporary name and linked into place, so that it
// appears complete, and only if no other process created it first.
// Otherwise it rereads the file under the lock and replaces it by an atomic
// rename.
func (b *FileBackend) Save(ctx context.Context, doc []byte, prevRev int64) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if prevRev == 0 {
		if err := os.MkdirAll(filepath.Dir(b.path), 0o700); err != nil {
			return 0, fmt.Errorf("create key store directory: %w", err)
		}
		if err := writeFileExclusive(b.path, doc); errIsExist(err) {
			return 0, conflictError("the key store file " + b.path)
		} else if err != nil {
			return 0, err
		}
		return fileRev(doc), nil
	}

	unlock, err := lockFile(b.path)
	if err != nil {
		return 0, err
	}
	defer unlock()
	cur, err := os.ReadFile(b.path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, conflictError("the key store file " + b.path)
	} else if err != nil {
		return 0, fmt.Errorf("reread key store file: %w", err)
	}
	if fileRev(cur) != prevRev {
		return 0, conflictError("the key store file " + b.path)
	}
	if err := writeFileAtomic(b.path, doc); err != nil {
		return 0, err
	}
	return fileRev(doc), nil
}

// fileRev returns the revision of a file holding doc: 63 bits of its
// SHA-256, never 0.
func fileRev(doc []byte) int64 {
	sum := sha256.Sum256(doc)
	rev := int64(binary.BigEndian.Uint64(sum[:8]) >> 1)
	if rev == 0 {
		rev = 1
	}
	return rev
}

// Seed copies the key store document from src to dst if dst holds none, and
// reports whether it did: so that a cluster's shared backend starts with
// the keys, and above all the opt-out registry secret, that a single
// machine's file already holds, instead of new ones under which existing
// pseudonyms and opt-outs would no longer match. It copies nothing if src
// holds no document or dst already holds one (another node seeded or
// created it first). The document is copied sealed, as it is, after
// checking that master opens it; a format-1 document is upgraded when dst
// is first opened.
func Seed(ctx context.Context, dst, src Backend, master []byte) (copied bool, err error) {
	aead, err := newAEAD(master)
	if err != nil {
		return false, fmt.Errorf("seed key store: %w", err)
	}
	doc, _, err := src.Load(ctx)
	if err != nil {
		return false, fmt.Errorf("seed key store: read source: %w", err)
	}
	if doc == nil {
		return false, nil
	}
	srcName, _ := describe(src)
	c, err := decode(doc, aead)
	if err != nil {
		return false, fmt.Errorf("seed key store: cannot decrypt %s: %w", srcName, err)
	}
	c.wipe()
	if _, err := dst.Save(ctx, doc, 0); IsConflict(err) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("seed key store: %w", err)
	}
	return true, nil
}
