package geoip

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/admeter/admeter"
	"github.com/oschwald/maxminddb-golang/v2"
)

// MMDB is a MaxMind DB file with the GeoIP2 City record layout (GeoIP2 or
// GeoLite2 City, or a compatible database). Lookups are safe for concurrent
// use; Close must not be called while lookups are running.
type MMDB struct {
	r *maxminddb.Reader
}

// mmdbNames holds the two name languages this package reads.
type mmdbNames struct {
	ZhCN string `maxminddb:"zh-CN"`
	En   string `maxminddb:"en"`
}

// mmdbCity is the part of a GeoIP2 City record that Lookup decodes; the
// decoder skips every other field.
type mmdbCity struct {
	Country struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"country"`
	Subdivisions []struct {
		Names mmdbNames `maxminddb:"names"`
	} `maxminddb:"subdivisions"`
	City struct {
		Names mmdbNames `maxminddb:"names"`
	} `maxminddb:"city"`
}

// OpenMMDB opens the MaxMind database at path. The file is memory-mapped
// where the platform allows; do not rewrite it in place while it is open.
func OpenMMDB(path string) (*MMDB, error) {
	r, err := maxminddb.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open mmdb %s: %w", path, err)
	}
	return &MMDB{r: r}, nil
}

// BuildTime returns when the database was built, for logging its age.
func (db *MMDB) BuildTime() time.Time { return db.r.Metadata.BuildTime().UTC() }

// Lookup returns the region of a (IPv4 or IPv6). It returns the zero Region
// for addresses that are not public, for addresses the database does not
// hold, for records without a country ISO code, and when a record cannot be
// decoded. Province is the first (largest) subdivision.
//
// Names are Chinese (zh-CN) for CN, HK, MO and TW, falling back to English,
// and English elsewhere, falling back to Chinese, as [admeter.Region]
// specifies.
func (db *MMDB) Lookup(a netip.Addr) admeter.Region {
	a = a.Unmap()
	if !locatable(a) {
		return admeter.Region{}
	}
	var rec mmdbCity
	if err := db.r.Lookup(a).Decode(&rec); err != nil {
		return admeter.Region{}
	}
	code := rec.Country.ISOCode
	zh := chinese(code)
	var province string
	if len(rec.Subdivisions) > 0 {
		province = rec.Subdivisions[0].Names.pick(zh)
	}
	return region(code, province, rec.City.Names.pick(zh))
}

// pick returns the Chinese name first when zh is set, the English name first
// otherwise, falling back to the other language.
func (n mmdbNames) pick(zh bool) string {
	first, second := n.En, n.ZhCN
	if zh {
		first, second = second, first
	}
	if first != "" {
		return first
	}
	return second
}

// Close unmaps the database file.
func (db *MMDB) Close() error {
	if err := db.r.Close(); err != nil {
		return fmt.Errorf("close mmdb: %w", err)
	}
	return nil
}
