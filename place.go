package admeter

import (
	"fmt"
	"math"
	"net/netip"
)

// NetBlock is the network an event came from: its IPv4 address truncated to
// /24 or its IPv6 address truncated to /48. It can only be built by
// [BlockOf], so it never holds a full address. The zero NetBlock means
// "unknown".
type NetBlock struct {
	prefix netip.Prefix
}

// BlockOf returns the /24 (IPv4, including IPv4-mapped IPv6) or /48 (IPv6)
// network containing a. It returns the zero NetBlock for an invalid address.
func BlockOf(a netip.Addr) NetBlock {
	if !a.IsValid() {
		return NetBlock{}
	}
	a = a.Unmap()
	bits := 48
	if a.Is4() {
		bits = 24
	}
	p, err := a.Prefix(bits)
	if err != nil {
		return NetBlock{}
	}
	return NetBlock{prefix: p}
}

// IsZero reports whether b is unknown.
func (b NetBlock) IsZero() bool { return !b.prefix.IsValid() }

// Prefix returns the network as a netip.Prefix (masked).
func (b NetBlock) Prefix() netip.Prefix { return b.prefix }

// String returns the network in CIDR form, or "" when unknown.
func (b NetBlock) String() string {
	if b.IsZero() {
		return ""
	}
	return b.prefix.String()
}

// Region is where an event's network is, from an IP geolocation database.
// Province and City are Chinese names for places in China (e.g. 广东, 深圳)
// and English names elsewhere. Empty fields mean unknown.
type Region struct {
	Country  string // ISO 3166-1 alpha-2, e.g. CN
	Province string
	City     string
}

// areaScale is the number of grid steps per degree: 0.01° is about 1.1 km of
// latitude, and at most 1.1 km of longitude.
const areaScale = 100

// Area is a location coarsened to a 0.01° grid (about 1 km). It can only be
// built by [AreaOf], so it never holds a precise location. The zero Area means
// "no location".
type Area struct {
	lat, lon int32 // hundredths of a degree,
	set      bool
}

// AreaOf rounds a latitude and longitude (degrees) to the 0.01° grid. It
// reports false for values that are not a location on Earth.
func AreaOf(lat, lon float64) (Area, bool) {
	if math.IsNaN(lat) || math.IsNaN(lon) || lat < -90 || lat > 90 || lon < -180 || lon > 180 {
		return Area{}, false
	}
	return Area{lat: int32(math.Round(lat * areaScale)), lon: int32(math.Round(lon * areaScale)), set: true}, true
}

// AreaFromGrid rebuilds an Area from the grid values returned by Grid, for
// storage adapters.
func AreaFromGrid(lat, lon int32) (Area, bool) {
	if lat < -90*areaScale || lat > 90*areaScale || lon < -180*areaScale || lon > 180*areaScale {
		return Area{}, false
	}
	return Area{lat: lat, lon: lon, set: true}, true
}

// IsZero reports whether a holds no location.
func (a Area) IsZero() bool { return !a.set }

// Grid returns the latitude and longitude in hundredths of a degree.
func (a Area) Grid() (lat, lon int32) { return a.lat, a.lon }

// String returns "lat,lon" with two decimals, or "" for no location.
func (a Area) String() string {
	if !a.set {
		return ""
	}
	return fmt.Sprintf("%.2f,%.2f", float64(a.lat)/areaScale, float64(a.lon)/areaScale)
}
