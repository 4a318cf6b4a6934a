package ivt

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strings"
)

// LoadCIDRFile reads data-centre ranges from the file at path: one CIDR
// prefix (47.92.0.0/14, 2400:3200::/32) or single address per line. Blank
// lines are skipped and '#' starts a comment, on a line of its own or after
// an entry. A prefix with host bits set (10.1.2.3/8) is taken as its network
// (10.0.0.0/8), and an IPv4-mapped IPv6 prefix as the IPv4 one. An error
// names the file and the line.
func LoadCIDRFile(path string) ([]netip.Prefix, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load data-centre ranges: %w", err)
	}
	defer f.Close()
	return parseCIDRs(f, path)
}

// maxCIDRLine bounds one line of a data-centre file.
const maxCIDRLine = 4 << 10

// parseCIDRs reads the format of LoadCIDRFile from r; name labels errors.
func parseCIDRs(r io.Reader, name string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 256), maxCIDRLine)
	line := 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if line == 1 {
			b = bytes.TrimPrefix(b, []byte("\ufeff")) // a byte-order mark
		}
		if i := bytes.IndexByte(b, '#'); i >= 0 {
			b = b[:i]
		}
		s := strings.TrimSpace(string(b))
		if s == "" {
			continue
		}
		if strings.ContainsAny(s, " \t") {
			return nil, fmt.Errorf("%s:%d: %q holds more than one entry; write one CIDR prefix or address per line", name, line, short(s))
		}
		p, err := parsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %q is not a CIDR prefix or an IP address (%v); write entries like 47.92.0.0/14, 2400:3200::/32 or 203.0.113.7", name, line, short(s), err)
		}
		out = append(out, p)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("%s:%d: line longer than %d bytes; write one CIDR prefix or address per line", name, line+1, maxCIDRLine)
		}
		return nil, fmt.Errorf("read %s after line %d: %w", name, line, err)
	}
	return out, nil
}

// parsePrefix parses one entry: a prefix or an address.
func parsePrefix(s string) (netip.Prefix, error) {
	var p netip.Prefix
	if strings.IndexByte(s, '/') >= 0 {
		var err error
		if p, err = netip.ParsePrefix(s); err != nil {
			return netip.Prefix{}, err
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		if a.Zone() != "" {
			return netip.Prefix{}, errors.New("an address with a zone names no network")
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	return canonical(p), nil
}

// canonical returns p as its network, with an IPv4-mapped IPv6 prefix of
// /96 or longer turned into the IPv4 prefix it covers.
func canonical(p netip.Prefix) netip.Prefix {
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked()
}

// short cuts an entry for an error message.
func short(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// prefixSet is a set of address ranges, read-only once built. Each family
// is a sorted list of disjoint, non-adjacent ranges, searched by bisection.
type prefixSet struct {
	v4 []span4
	v6 []span6
}

type span4 struct{ lo, hi uint32 }

type span6 struct{ lo, hi u128 }

// u128 is an IPv6 address as a number.
type u128 struct{ hi, lo uint64 }

func (a u128) less(b u128) bool { return a.hi < b.hi || a.hi == b.hi && a.lo < b.lo }

func (a u128) compare(b u128) int {
	if c := cmp.Compare(a.hi, b.hi); c != 0 {
		return c
	}
	return cmp.Compare(a.lo, b.lo)
}

// next returns a+1 and whether it did not wrap.
func (a u128) next() (u128, bool) {
	if a.lo == ^uint64(0) {
		return u128{a.hi + 1, 0}, a.hi != ^uint64(0)
	}
	return u128{a.hi, a.lo + 1}, true
}

func u128Of(a netip.Addr) u128 {
	b := a.As16()
	return u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

// newPrefixSet builds the set of prefixes. It fails on an invalid prefix.
func newPrefixSet(prefixes []netip.Prefix) (*prefixSet, error) {
	s := &prefixSet{}
	for _, p := range prefixes {
		if !p.IsValid() {
			return nil, fmt.Errorf("data-centre prefix %q is not valid", p.String())
		}
		p = canonical(p)
		a := p.Addr()
		if a.Is4() {
			lo := binary.BigEndian.Uint32(a.AsSlice())
			hi := lo | uint32(uint64(1)<<(32-p.Bits())-1)
			s.v4 = append(s.v4, span4{lo, hi})
			continue
		}
		lo := u128Of(a)
		hi := lo
		if n := 128 - p.Bits(); n >= 64 {
			hi.lo = ^uint64(0)
			hi.hi |= uint64(1)<<(n-64) - 1
		} else {
			hi.lo |= uint64(1)<<n - 1
		}
		s.v6 = append(s.v6, span6{lo, hi})
	}
	slices.SortFunc(s.v4, func(a, b span4) int { return cmp.Compare(a.lo, b.lo) })
	s.v4 = merge4(s.v4)
	slices.SortFunc(s.v6, func(a, b span6) int { return a.lo.compare(b.lo) })
	s.v6 = merge6(s.v6)
	return s, nil
}

// merge4 joins overlapping and adjacent ranges of a sorted list.
func merge4(v []span4) []span4 {
	out := v[:0]
	for _, r := range v {
		if n := len(out); n > 0 && (r.lo <= out[n-1].hi || out[n-1].hi != ^uint32(0) && r.lo == out[n-1].hi+1) {
			out[n-1].hi = max(out[n-1].hi, r.hi)
			continue
		}
		out = append(out, r)
	}
	return slices.Clip(out)
}

// merge6 joins overlapping and adjacent ranges of a sorted list.
func merge6(v []span6) []span6 {
	out := v[:0]
	for _, r := range v {
		if n := len(out); n > 0 {
			last := &out[n-1]
			// r starts within last or right after it (nothing follows a
			// range that ends at the last address).
			if nx, ok := last.hi.next(); !ok || !nx.less(r.lo) {
				if last.hi.less(r.hi) {
					last.hi = r.hi
				}
				continue
			}
		}
		out = append(out, r)
	}
	return slices.Clip(out)
}

// len returns the number of disjoint ranges in the set.
func (s *prefixSet) len() int { return len(s.v4) + len(s.v6) }

// contains reports whether a is in one of the ranges.
func (s *prefixSet) contains(a netip.Addr) bool {
	a = a.Unmap()
	if a.Is4() {
		b := a.As4()
		x := binary.BigEndian.Uint32(b[:])
		v := s.v4
		// Find the last range that starts at or before x.
		lo, hi := 0, len(v)
		for lo < hi {
			m := int(uint(lo+hi) >> 1)
			if v[m].lo <= x {
				lo = m + 1
			} else {
				hi = m
			}
		}
		return lo > 0 && x <= v[lo-1].hi
	}
	x := u128Of(a)
	v := s.v6
	lo, hi := 0, len(v)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if !x.less(v[m].lo) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo > 0 && !v[lo-1].hi.less(x)
}
