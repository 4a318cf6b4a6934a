package pseudo

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync"

	"github.com/admeter/admeter"
)

// MinSecretLen is the shortest secret [New] accepts, in bytes: the output
// size of SHA-256, below which HMAC-SHA256 is weaker than it can be.
const MinSecretLen = 32

// Key is a pseudonymisation key: the secret of the HMAC and its version,
// which events record so that pseudonyms made with different keys are never
// compared. Keys come from package keystore. Printing a Key never shows the
// secret.
type Key struct {
	// Version identifies the key; it must not be 0, which events use for
	// "no key".
	Version uint32
	// Secret is the HMAC key, at least MinSecretLen random bytes.
	Secret []byte
}

// String returns the version only; the secret is redacted.
func (k Key) String() string {
	return fmt.Sprintf("pseudo.Key{Version: %d, Secret: redacted}", k.Version)
}

// GoString is the same as String.
func (k Key) GoString() string { return k.String() }

// Format implements fmt.Formatter so that no verb prints the secret.
func (k Key) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, k.String()) }

// Domain labels. Every HMAC input starts with one of these, and they differ
// before their first NUL, so a device pseudonym and a token are made from
// inputs that can never be equal.
const (
	idLabel    = "admeter/id/v1\x00"
	tokenLabel = "admeter/token/v1\x00"
)

// scratchLen is the size of a pooled state's input buffer; longer token
// inputs are written in pieces.
const scratchLen = 256

// macState is one HMAC instance with buffers, reused through a sync.Pool so
// that a pseudonym costs no allocation.
type macState struct {
	mac hash.Hash
	in  [scratchLen]byte
	sum [sha256.Size]byte
}

// Pseudonymizer makes pseudonyms with one key. It is safe for concurrent use.
type Pseudonymizer struct {
	version uint32
	pool    sync.Pool // of *macState
}

// New returns a Pseudonymizer for key. It copies the secret, so the caller
// may wipe key.Secret afterwards. It fails if the version is 0, the secret is
// shorter than MinSecretLen, or every byte of the secret is the same (an
// unfilled buffer).
func New(key Key) (*Pseudonymizer, error) {
	if key.Version == 0 {
		return nil, errors.New("new pseudonymizer: key version is 0")
	}
	if len(key.Secret) < MinSecretLen {
		return nil, fmt.Errorf("new pseudonymizer: key %d secret is %d bytes, need at least %d", key.Version, len(key.Secret), MinSecretLen)
	}
	if onlyByte(key.Secret, key.Secret[0]) {
		return nil, fmt.Errorf("new pseudonymizer: key %d secret repeats one byte", key.Version)
	}
	secret := append([]byte(nil), key.Secret...)
	p := &Pseudonymizer{version: key.Version}
	p.pool.New = func() any { return &macState{mac: hmac.New(sha256.New, secret)} }
	return p, nil
}

// Version returns the version of the key, to be stored with the pseudonyms
// (admeter.Event.KeyVersion).
func (p *Pseudonymizer) Version() uint32 { return p.version }

// String returns the key version only; the secret is redacted.
func (p *Pseudonymizer) String() string {
	return fmt.Sprintf("pseudo.Pseudonymizer{Version: %d}", p.version)
}

// Format implements fmt.Formatter so that no verb prints the secret.
func (p *Pseudonymizer) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, p.String()) }

// Pseudonym returns the pseudonym of the device identifier of type t whose
// canonical form is c: the first 16 bytes of HMAC-SHA256(secret, label || t ||
// c). The type is part of the input, so equal canonical bytes of different
// types give different pseudonyms. It does not allocate.
func (p *Pseudonymizer) Pseudonym(t admeter.IDType, c Canonical) admeter.Pseudonym {
	s := p.pool.Get().(*macState)
	n := copy(s.in[:], idLabel)
	s.in[n] = byte(t)
	n++
	n += copy(s.in[n:], c[:])
	s.mac.Reset()
	s.mac.Write(s.in[:n])
	ps := p.finish(s)
	p.pool.Put(s)
	return ps
}

// Token returns the pseudonym of a value that is not a device identifier,
// such as the client's impression id or admeter's cookie id, under label (one
// constant label per kind of value, e.g. "admeter/impression/v1"). Its input
// is tokenLabel || len(label) || label || value, so a token never equals a
// device pseudonym, and tokens under different labels never equal each
// other. It does not allocate.
func (p *Pseudonymizer) Token(label string, value []byte) admeter.Pseudonym {
	s := p.pool.Get().(*macState)
	s.mac.Reset()
	n := copy(s.in[:], tokenLabel)
	n += binary.PutUvarint(s.in[n:], uint64(len(label)))
	s.mac.Write(s.in[:n])
	writeVia(s, label)
	writeVia(s, value)
	ps := p.finish(s)
	p.pool.Put(s)
	return ps
}

// UserKey returns the pseudonym of the highest-priority identifier in ids and
// its type, or the zero Pseudonym and admeter.IDNone when ids is empty or nil.
func (p *Pseudonymizer) UserKey(ids *IDSet) (admeter.Pseudonym, admeter.IDType) {
	if ids == nil {
		return admeter.Pseudonym{}, admeter.IDNone
	}
	t, c, ok := ids.Best()
	if !ok {
		return admeter.Pseudonym{}, admeter.IDNone
	}
	return p.Pseudonym(t, c), t
}

// finish returns the truncated MAC of what was written to s.
func (p *Pseudonymizer) finish(s *macState) admeter.Pseudonym {
	var ps admeter.Pseudonym
	copy(ps[:], s.mac.Sum(s.sum[:0]))
	return ps
}

// writeVia writes b to s.mac through s.in, so that b, which may live on the
// caller's stack, does not escape through the hash.Hash interface.
func writeVia[T string | []byte](s *macState, b T) {
	for len(b) > 0 {
		n := copy(s.in[:], b)
		s.mac.Write(s.in[:n])
		b = b[n:]
	}
}

// onlyByte reports whether every byte of b is c.
func onlyByte(b []byte, c byte) bool {
	for _, x := range b {
		if x != c {
			return false
		}
	}
	return true
}
