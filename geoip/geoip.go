package geoip

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/admeter/admeter"
)

// Locator finds the region of an IP address. [*IPDB] and [*MMDB] implement
// it. Lookup is safe for concurrent use; Close must not run concurrently
// with Lookup.
type Locator interface {
	// Lookup returns the region of a, or the zero Region when a is not a
	// public address or the database does not place it.
	Lookup(a netip.Addr) admeter.Region
	// Close releases the database.
	Close() error
}

var (
	_ Locator = (*IPDB)(nil)
	_ Locator = (*MMDB)(nil)
)

// Open opens the database at path, choosing the format by extension: ".mmdb"
// for MaxMind ([OpenMMDB]) and ".ipdb" for IPIP.net ([OpenIPDB]), in any
// letter case.
func Open(path string) (Locator, error) {
	// Each case returns a nil interface on error, not a nil *IPDB or *MMDB
	// wrapped in a non-nil Locator.
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".mmdb":
		db, err := OpenMMDB(path)
		if err != nil {
			return nil, err
		}
		return db, nil
	case ".ipdb":
		db, err := OpenIPDB(path)
		if err != nil {
			return nil, err
		}
		return db, nil
	default:
		return nil, fmt.Errorf("open geoip database %s: unknown extension %q (want .mmdb or .ipdb)", path, ext)
	}
}

// shared is 100.64.0.0/10, the carrier-grade NAT range (RFC 6598), which
// netip.Addr.IsPrivate does not cover.
var shared = netip.MustParsePrefix("100.64.0.0/10")

// locatable reports whether a (already unmapped) is an address a database
// could place: valid, not private, loopback, link-local, multicast, shared or
// unspecified.
func locatable(a netip.Addr) bool {
	return a.IsValid() && a.IsGlobalUnicast() && !a.IsPrivate() && !shared.Contains(a)
}

// clip shortens s to at most admeter.MaxNameField bytes without splitting a
// UTF-8 sequence.
func clip(s string) string {
	if len(s) <= admeter.MaxNameField {
		return s
	}
	i := admeter.MaxNameField
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}

// region builds a Region from raw database names, normalising Chinese names
// and clipping every part to the domain's field limit. It returns the zero
// Region unless country is an ISO 3166-1 alpha-2 code: a province without a
// country is not a place the reports can use.
func region(country, province, city string) admeter.Region {
	if !iso2(country) {
		return admeter.Region{}
	}
	if chinese(country) {
		province = shortProvince(province)
		if country == "CN" {
			city = shortCity(city)
		}
	}
	return admeter.Region{Country: country, Province: clip(province), City: clip(city)}
}

// iso2 reports whether s looks like an ISO 3166-1 alpha-2 code: two ASCII
// capital letters.
func iso2(s string) bool {
	return len(s) == 2 && 'A' <= s[0] && s[0] <= 'Z' && 'A' <= s[1] && s[1] <= 'Z'
}
