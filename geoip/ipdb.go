package geoip

import (
	_ "embed"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"time"

	"github.com/admeter/admeter"
	"github.com/ipipdotnet/ipdb-go"
)

// freeIPDB is the IPIP.net free IPv4 city database shipped with ipdb-go
// v1.3.3 (see data/NOTICE). It is never modified: ipdb-go and the Regions it
// returns read it in place.
//
//go:embed data/city.free.ipdb
var freeIPDB []byte

// ipdbLanguage is the language whose names IPDB returns. IPIP.net databases
// all carry Chinese ("CN"); only some commercial editions add English.
const ipdbLanguage = "CN"

// IPDB is an IPIP.net .ipdb city database held in memory. It is safe for
// concurrent use.
//
// Names come from the database's Chinese ("CN") language. Outside China
// that departs from the English names [admeter.Region] asks for, but only
// for commercial editions: the free database has no province or city data
// outside China.
type IPDB struct {
	city *ipdb.City
	v6   bool
	// Positions of the fields in a record; -1 when the database lacks one.
	country, province, cityName, countryCode int
}

// Embedded returns the free IPIP.net IPv4 city database compiled into the
// binary (built 2018-08-31; see data/NOTICE). Calls share the read-only
// data; each parses only its header (about 10 µs).
func Embedded() (*IPDB, error) {
	db, err := NewIPDB(freeIPDB)
	if err != nil {
		return nil, fmt.Errorf("load embedded ipdb: %w", err)
	}
	return db, nil
}

// OpenIPDB reads the IPIP.net database at path into memory.
func OpenIPDB(path string) (*IPDB, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read ipdb: %w", err)
	}
	db, err := NewIPDB(data)
	if err != nil {
		return nil, fmt.Errorf("load ipdb %s: %w", path, err)
	}
	return db, nil
}

// NewIPDB parses an IPIP.net city database held in data. The IPDB keeps data,
// and the Regions it returns refer to it, so the caller must not modify it
// afterwards.
func NewIPDB(data []byte) (_ *IPDB, err error) {
	// ipdb-go checks the file size against its header but indexes the search
	// tree without bounds checks, so a corrupt file can panic here.
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("parse ipdb: corrupt database: %v", p)
		}
	}()
	city, err := ipdb.NewCityFromBytes(data)
	if err != nil {
		return nil, fmt.Errorf("parse ipdb: %w", err)
	}
	if !slices.Contains(city.Languages(), ipdbLanguage) {
		return nil, fmt.Errorf("parse ipdb: no %q language (has %v)", ipdbLanguage, city.Languages())
	}
	fields := city.Fields()
	db := &IPDB{
		city:        city,
		v6:          city.IsIPv6(),
		country:     slices.Index(fields, "country_name"),
		province:    slices.Index(fields, "region_name"),
		cityName:    slices.Index(fields, "city_name"),
		countryCode: slices.Index(fields, "country_code"),
	}
	if db.country < 0 {
		return nil, errors.New("parse ipdb: no country_name field")
	}
	if !city.IsIPv4() && !db.v6 {
		return nil, errors.New("parse ipdb: supports neither IPv4 nor IPv6")
	}
	return db, nil
}

// BuildTime returns when the database was built, for logging its age.
func (db *IPDB) BuildTime() time.Time { return db.city.BuildTime() }

// Lookup returns the region of a. It returns the zero Region for addresses
// that are not public, for IPv6 addresses when the database is IPv4-only, for
// entries that are not places, and for countries it cannot map to an ISO
// code. IPv4-mapped IPv6 addresses are looked up as IPv4.
func (db *IPDB) Lookup(a netip.Addr) (r admeter.Region) {
	a = a.Unmap()
	if !locatable(a) || (a.Is6() && !db.v6) {
		return admeter.Region{}
	}
	// See NewIPDB: never let a corrupt database take the caller down.
	defer func() {
		if recover() != nil {
			r = admeter.Region{}
		}
	}()
	rec, err := db.city.Find(a.String(), ipdbLanguage)
	if err != nil {
		return admeter.Region{}
	}
	return db.region(rec)
}

// region turns an ipdb record into a Region.
func (db *IPDB) region(rec []string) admeter.Region {
	name := field(rec, db.country)
	province, city := field(rec, db.province), field(rec, db.cityName)
	code := field(rec, db.countryCode)
	if code == "" {
		code = countryCodes[name]
	}
	if code == "CN" {
		// IPIP.net files Hong Kong, Macao and Taiwan under 中国.
		if c, ok := countryCodes[province]; ok && c != "CN" {
			code = c
		}
	}
	if province == name {
		// Country-level entries repeat the country as the region.
		province = ""
	}
	return region(code, province, city)
}

// field returns rec[i], or "" when the record has no such field.
func field(rec []string, i int) string {
	if i < 0 || i >= len(rec) {
		return ""
	}
	return rec[i]
}

// Close releases nothing: the database is ordinary memory. It exists so that
// IPDB satisfies Locator.
func (db *IPDB) Close() error { return nil }
