package pseudo

import (
	"fmt"
	"io"
	"math/bits"
	"strings"

	"github.com/admeter/admeter"
)

// maxIDType is the highest identifier type an IDSet can hold.
const maxIDType = admeter.IDCookie

// IDSet holds the canonical identifiers of one event, at most one per type.
// It is a value type whose zero value is empty; it never allocates. Like a
// Canonical, it prints only the types it holds, never the values.
type IDSet struct {
	present uint16 // bit t set: vals[t] holds a value of type t
	vals    [maxIDType + 1]Canonical
}

// Add canonicalises value (see [Canonicalize]) and keeps it if it is valid
// and the set has no value of type t yet: the first valid value of each type
// wins. It returns the reason from Canonicalize, for metrics.
func (s *IDSet) Add(t admeter.IDType, f Form, value string) Reason {
	c, r := Canonicalize(t, f, value)
	if r == ReasonOK && !s.Has(t) {
		s.vals[t] = c
		s.present |= 1 << t
	}
	return r
}

// Has reports whether the set holds a value of type t.
func (s *IDSet) Has(t admeter.IDType) bool { return t <= maxIDType && s.present&(1<<t) != 0 }

// Get returns the value of type t, if the set holds one.
func (s *IDSet) Get(t admeter.IDType) (Canonical, bool) {
	if !s.Has(t) {
		return Canonical{}, false
	}
	return s.vals[t], true
}

// Best returns the highest-priority identifier in the set (the lowest
// admeter.IDType constant present), or false when the set is empty.
func (s *IDSet) Best() (admeter.IDType, Canonical, bool) {
	if s.present == 0 {
		return admeter.IDNone, Canonical{}, false
	}
	t := admeter.IDType(bits.TrailingZeros16(s.present))
	return t, s.vals[t], true
}

// Each calls fn for every identifier in the set, in priority order.
func (s *IDSet) Each(fn func(admeter.IDType, Canonical)) {
	for m := s.present; m != 0; m &= m - 1 {
		t := admeter.IDType(bits.TrailingZeros16(m))
		fn(t, s.vals[t])
	}
}

// Len returns the number of identifiers in the set.
func (s *IDSet) Len() int { return bits.OnesCount16(s.present) }

// String lists the types in the set, e.g. "pseudo.IDSet{oaid,imei}", never
// the values.
func (s IDSet) String() string {
	var b strings.Builder
	b.WriteString("pseudo.IDSet{")
	first := true
	s.Each(func(t admeter.IDType, _ Canonical) {
		if !first {
			b.WriteByte(',')
		}
		b.WriteString(t.String())
		first = false
	})
	b.WriteByte('}')
	return b.String()
}

// Format implements fmt.Formatter so that no verb prints the values.
func (s IDSet) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }
