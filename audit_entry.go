package admeter

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"net/netip"
	"time"
)

// AuditEntry is one action in the audit record: who did what to which
// object, from which network, and the outcome. It names actors and objects
// by id and holds counts, never personal data.
type AuditEntry struct {
	// Seq is the record's position in the audit chain, starting at 1. The
	// store assigns it; a recorder ignores the value it is given.
	Seq uint64 `json:"seq,omitempty"`
	// Time is when it happened; the recorder sets it if zero.
	Time time.Time `json:"time"`
	// Actor is who did it: "tenant:t_…", "user:u_…", "operator", "system".
	Actor string `json:"actor"`
	// Action names what was done, e.g. "rights.request.submit".
	Action string `json:"action"`
	// Tenant is the tenant whose data was concerned, if any. A tenant reads
	// the records that name it.
	Tenant string `json:"tenant,omitempty"`
	// Target is the object acted on, e.g. a request id.
	Target string `json:"target,omitempty"`
	// IP is the network the request came from, never a full address: callers
	// pass BlockOf(addr).String(), e.g. "203.0.113.0/24" or
	// "2001:db8:1234::/48". Empty when there was no request (a scheduled
	// job) or the address was unknown.
	IP string `json:"ip,omitempty"`
	// Outcome is "ok", "failed: …" or another short result.
	Outcome string `json:"outcome"`
	// Details holds counts and other non-personal facts. It must encode as
	// JSON. Read back from a store, numbers are float64.
	Details map[string]any `json:"details,omitempty"`
}

// Validate reports an EINVALID error if e lacks an actor, an action or an
// outcome, or if IP is anything but a network block no narrower than
// BlockOf makes (/24 for IPv4, /48 for IPv6).
func (e *AuditEntry) Validate() error {
	if e.Actor == "" || e.Action == "" || e.Outcome == "" {
		return Errorf(EINVALID, "An audit record needs an actor, an action and an outcome.")
	}
	if e.IP != "" && !validAuditNet(e.IP) {
		return Errorf(EINVALID, "An audit record's IP must be a network block such as 203.0.113.0/24, never a full address.")
	}
	return nil
}

// validAuditNet reports whether s is a masked IPv4 prefix of at most 24 bits
// or IPv6 prefix of at most 48 bits, in the form NetBlock.String prints.
func validAuditNet(s string) bool {
	p, err := netip.ParsePrefix(s)
	if err != nil || p != p.Masked() || p.String() != s {
		return false
	}
	if p.Addr().Is4() {
		return p.Bits() <= 24
	}
	return !p.Addr().Is4In6() && p.Bits() <= 48
}

// CanonicalDetails returns e.Details as canonical JSON: object keys sorted at
// every level, no insignificant space, numbers as encoding/json writes them.
// Nil or empty Details give "{}". Encoding the result's decoding (with
// json.Decoder.UseNumber) gives the same bytes again, so a store keeps
// exactly these bytes and hashes them. It fails if Details does not encode
// as JSON (a channel, a NaN).
func (e *AuditEntry) CanonicalDetails() ([]byte, error) {
	if len(e.Details) == 0 {
		return []byte("{}"), nil
	}
	b, err := json.Marshal(e.Details)
	if err != nil {
		return nil, Errorf(EINVALID, "An audit record's details must encode as JSON: %v", err)
	}
	// Structs encode in field order; decoding into maps and encoding again
	// sorts their keys too. UseNumber keeps every number's digits.
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, Errorf(EINVALID, "An audit record's details must encode as JSON: %v", err)
	}
	b, err = json.Marshal(v)
	if err != nil {
		return nil, Errorf(EINVALID, "An audit record's details must encode as JSON: %v", err)
	}
	return b, nil
}

// ChainHash returns the hash of e as record seq of the audit chain, following
// the record whose hash is prev (all zeros for record 1). It is
// AuditChainHash over e's canonical details; e.Seq is ignored.
func (e *AuditEntry) ChainHash(seq uint64, prev [32]byte) ([32]byte, error) {
	details, err := e.CanonicalDetails()
	if err != nil {
		return [32]byte{}, err
	}
	return AuditChainHash(seq, prev, e, details), nil
}

// auditHashTag opens every record hash, so that no other SHA-256 input of
// admeter can be mistaken for one. A change to the encoding changes the tag.
const auditHashTag = "admeter.audit.v1"

// AuditChainHash returns the SHA-256 of record seq of the audit chain: e's
// fields, with details in place of e.Details (the canonical JSON, as stored),
// chained to prev, the previous record's hash. e.Seq and e.Details are
// ignored.
//
// The hashed bytes are, in order: the tag "admeter.audit.v1", the time
// (UTC, RFC 3339 with nanoseconds and trailing zeros trimmed), actor,
// action, tenant, target, IP, outcome and details, each as an 8-byte
// big-endian length and then its bytes; then seq as 8 bytes big-endian; then
// prev. Every field carries its length, so no two distinct records encode
// alike ("ab"+"c" and "a"+"bc" differ).
func AuditChainHash(seq uint64, prev [32]byte, e *AuditEntry, details []byte) [32]byte {
	h := sha256.New()
	var n [8]byte
	field := func(b []byte) {
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	field([]byte(auditHashTag))
	field([]byte(e.Time.UTC().Format(time.RFC3339Nano)))
	for _, s := range []string{e.Actor, e.Action, e.Tenant, e.Target, e.IP, e.Outcome} {
		field([]byte(s))
	}
	field(details)
	binary.BigEndian.PutUint64(n[:], seq)
	h.Write(n[:])
	h.Write(prev[:])
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}

// auditCheckpointTag opens every signed checkpoint message.
const auditCheckpointTag = "admeter.audit.checkpoint.v1"

// AuditCheckpointMessage returns the bytes a checkpoint signs: the tag
// "admeter.audit.checkpoint.v1", a zero byte, seq as 8 bytes big-endian and
// the hash of record seq. A valid signature over it proves that the chain
// reached record seq with that hash when the key holder signed it.
func AuditCheckpointMessage(seq uint64, hash [32]byte) []byte {
	b := make([]byte, 0, len(auditCheckpointTag)+1+8+32)
	b = append(b, auditCheckpointTag...)
	b = append(b, 0)
	b = binary.BigEndian.AppendUint64(b, seq)
	return append(b, hash[:]...)
}
