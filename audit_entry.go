package admeter

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
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

// AuditFault says how a record failed verification.
type AuditFault string

// The ways the audit record can fail verification.
const (
	// AuditRemoved: the record is missing from the middle of the chain.
	AuditRemoved AuditFault = "removed"
	// AuditReordered: the record's stored previous hash is not the hash of
	// the record before it: records were reordered or replaced, or the
	// record before was rewritten along with its hash.
	AuditReordered AuditFault = "reordered"
	// AuditEdited: the record's fields no longer give its stored hash.
	AuditEdited AuditFault = "edited"
	// AuditRewritten: a validly signed checkpoint names another hash for
	// the record: records up to it were rewritten along with their hashes.
	AuditRewritten AuditFault = "rewritten"
	// AuditBadCheckpoint: the checkpoint at the record has an invalid
	// signature.
	AuditBadCheckpoint AuditFault = "checkpoint signature invalid"
	// AuditTruncated: a checkpoint names a record beyond the last one:
	// records were cut off the end.
	AuditTruncated AuditFault = "truncated"
)

// AuditError is the first fault a verification of the audit record found.
type AuditError struct {
	// Seq is the sequence number of the first bad record.
	Seq uint64
	// Fault is what is wrong with it.
	Fault AuditFault
	// Detail explains the fault.
	Detail string
}

// Error implements the error interface.
func (e *AuditError) Error() string {
	return fmt.Sprintf("audit record %d %s: %s", e.Seq, e.Fault, e.Detail)
}

// AuditVerification is the result of verifying the audit record (a
// metadata store's VerifyAudit).
type AuditVerification struct {
	// Records is the number of records verified: every record up to the
	// first bad one, or all of them.
	Records uint64
	// Checkpoints is the number of checkpoints verified.
	Checkpoints int
	// LastCheckpoint is the sequence number of the last verified
	// checkpoint, 0 if none.
	LastCheckpoint uint64
	// Unproven is the number of records after LastCheckpoint. Removing them
	// from the end of the log could not be detected.
	Unproven uint64
	// Warnings say what the verification could not prove, for a person to
	// read. They are not failures.
	Warnings []string
}

// AuditCheckpoint is a signed checkpoint as a store keeps it.
type AuditCheckpoint struct {
	// Seq is the sequence number of the record it signs.
	Seq uint64
	// Hash is the hash of record Seq that it names.
	Hash []byte
	// Signature is the Ed25519 signature over
	// AuditCheckpointMessage(Seq, Hash).
	Signature []byte
}

// StoredAuditRecord is an audit record as a store keeps it, for an
// AuditVerifier to check.
type StoredAuditRecord struct {
	// Seq is the stored sequence number.
	Seq uint64
	// Entry holds the stored fields; its Seq and Details are ignored.
	Entry AuditEntry
	// Details is the stored canonical details, byte for byte.
	Details []byte
	// PrevHash and Hash are the stored hashes of the record before and of
	// this one.
	PrevHash, Hash []byte
	// Malformed, if not empty, says how a stored field is not as the store
	// writes it (a time in another textual form, say, that reads back as
	// the same instant): the record then fails as edited.
	Malformed string
}

// AuditVerifier checks a stored audit record: the store reads its
// checkpoints and then its records in sequence order, all in one consistent
// snapshot, and passes each record to Check, then calls End. It checks that
// the sequence has no gap, that each record stores the hash of the one
// before it, that its fields give its stored hash, and that each checkpoint
// is signed by the public key and names the hash of its record. Every
// metadata store verifies through it, so that all judge a record alike.
type AuditVerifier struct {
	pub  ed25519.PublicKey
	cps  []AuditCheckpoint // not yet reached, in sequence order
	prev [32]byte          // hash of the last verified record
	v    AuditVerification
}

// NewAuditVerifier returns a verifier that checks signatures with pub (nil
// skips the signature checks, with a warning) and expects checkpoints, which
// must be in ascending sequence order. It fails if pub is not an Ed25519
// public key, and returns an *AuditError if a checkpoint has sequence number
// 0.
func NewAuditVerifier(pub ed25519.PublicKey, checkpoints []AuditCheckpoint) (*AuditVerifier, error) {
	if pub != nil && len(pub) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("public key is %d bytes, not an Ed25519 public key of %d", len(pub), ed25519.PublicKeySize)
	}
	for i, cp := range checkpoints {
		if cp.Seq == 0 {
			return nil, &AuditError{Seq: 0, Fault: AuditBadCheckpoint, Detail: "a checkpoint has sequence number 0 or less"}
		}
		if i > 0 && cp.Seq <= checkpoints[i-1].Seq {
			return nil, fmt.Errorf("audit checkpoints are not in ascending sequence order (%d after %d): read them ORDER BY seq", cp.Seq, checkpoints[i-1].Seq)
		}
	}
	return &AuditVerifier{pub: pub, cps: checkpoints}, nil
}

// Check verifies r, the next stored record in sequence order. It returns an
// *AuditError naming the first bad record and why; stop at the first error.
func (av *AuditVerifier) Check(r *StoredAuditRecord) error {
	done := av.v.Records
	want := done + 1
	if r.Seq != want {
		return &AuditError{Seq: want, Fault: AuditRemoved, Detail: fmt.Sprintf("the record after %d is %d", done, r.Seq)}
	}
	if !bytes.Equal(r.PrevHash, av.prev[:]) {
		return &AuditError{Seq: want, Fault: AuditReordered,
			Detail: fmt.Sprintf("it does not follow record %d: records were reordered or replaced, or record %d was rewritten with its hash", done, done)}
	}
	if r.Malformed != "" {
		return &AuditError{Seq: want, Fault: AuditEdited, Detail: r.Malformed}
	}
	h := AuditChainHash(want, av.prev, &r.Entry, r.Details)
	if !bytes.Equal(h[:], r.Hash) {
		return &AuditError{Seq: want, Fault: AuditEdited, Detail: "its fields do not give its stored hash"}
	}
	if len(av.cps) > 0 && av.cps[0].Seq == want {
		cp := av.cps[0]
		if av.pub != nil && (len(cp.Hash) != len(h) || !ed25519.Verify(av.pub, AuditCheckpointMessage(want, [32]byte(cp.Hash)), cp.Signature)) {
			return &AuditError{Seq: want, Fault: AuditBadCheckpoint, Detail: "the checkpoint's signature does not verify with the given public key"}
		}
		if !bytes.Equal(cp.Hash, h[:]) {
			return &AuditError{Seq: want, Fault: AuditRewritten,
				Detail: fmt.Sprintf("the signed checkpoint names another hash: records %d to %d were rewritten along with their hashes", av.v.LastCheckpoint+1, want)}
		}
		av.cps = av.cps[1:]
		av.v.Checkpoints++
		av.v.LastCheckpoint = want
	}
	av.prev = h
	av.v.Records = want
	return nil
}

// End reports, once every record has passed Check, an *AuditError if a
// checkpoint names a record beyond the last one: records were cut off the
// end.
func (av *AuditVerifier) End() error {
	for _, cp := range av.cps {
		if cp.Seq > av.v.Records {
			return &AuditError{Seq: av.v.Records + 1, Fault: AuditTruncated,
				Detail: fmt.Sprintf("a checkpoint proves records up to %d existed, but the log ends at %d", cp.Seq, av.v.Records)}
		}
	}
	return nil
}

// Verification returns what has been verified so far: after an error, the
// records before the bad one.
func (av *AuditVerifier) Verification() AuditVerification {
	v := av.v
	v.Unproven = v.Records - v.LastCheckpoint
	v.Warnings = nil
	if v.Unproven > 0 {
		v.Warnings = append(v.Warnings, fmt.Sprintf("records %d to %d follow the last checkpoint: their removal from the end would not be detected",
			v.LastCheckpoint+1, v.Records))
	}
	if av.pub == nil && v.Checkpoints > 0 {
		v.Warnings = append(v.Warnings, "no public key given: checkpoint signatures were not checked")
	}
	return v
}
