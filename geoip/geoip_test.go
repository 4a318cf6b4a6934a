package geoip

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/admeter/admeter"
	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// notLocated are addresses every Locator must answer with the zero Region
// without consulting its database.
var notLocated = []string{
	"10.1.2.3", "172.16.0.1", "192.168.1.1", // private
	"127.0.0.1", "::1", // loopback
	"169.254.1.1", "fe80::1", // link-local
	"100.64.0.1", "100.127.255.254", // shared (CGNAT)
	"224.0.0.1", "ff02::1", // multicast
	"0.0.0.0", "::", "255.255.255.255", // unspecified, broadcast
	"fd00::1",            // unique local
	"::ffff:192.168.0.1", // mapped private
}

func TestEmbedded(t *testing.T) {
	db := mustEmbedded(t)
	if got := db.BuildTime().Format("2006-01-02"); got != "2018-08-31" {
		t.Errorf("BuildTime = %s, want 2018-08-31", got)
	}
	tests := []struct {
		addr string
		want admeter.Region
	}{
		{"202.96.134.133", admeter.Region{Country: "CN", Province: "广东", City: "深圳"}},
		{"183.232.231.172", admeter.Region{Country: "CN", Province: "广东", City: "广州"}},
		{"61.135.169.121", admeter.Region{Country: "CN", Province: "北京", City: "北京"}},
		{"101.226.4.6", admeter.Region{Country: "CN", Province: "上海", City: "上海"}},
		{"112.80.248.75", admeter.Region{Country: "CN", Province: "江苏", City: "南京"}},
		{"1.0.1.1", admeter.Region{Country: "CN", Province: "福建"}},
		{"218.30.0.1", admeter.Region{Country: "CN"}}, // country-level entry "中国 中国"
		// IPIP.net files the SARs and Taiwan under 中国; the country code says
		// which they are.
		{"58.176.0.1", admeter.Region{Country: "HK", Province: "香港"}},
		{"202.175.3.3", admeter.Region{Country: "MO", Province: "澳门"}},
		{"168.95.1.1", admeter.Region{Country: "TW", Province: "台湾"}},
		// Outside China the free database has the country only.
		{"133.0.0.1", admeter.Region{Country: "JP"}},
		{"81.2.69.142", admeter.Region{Country: "GB"}},
		{"17.0.0.1", admeter.Region{Country: "US"}},
		// Anycast services are filed under the operator's domain
		// (GOOGLE.COM, 114DNS.COM, ALIDNS.COM): not a place.
		{"8.8.8.8", admeter.Region{}},
		{"114.114.114.114", admeter.Region{}},
		{"223.5.5.5", admeter.Region{}},
		// Reserved ranges the database labels 保留地址.
		{"240.0.0.1", admeter.Region{}},
		// IPv4-mapped IPv6 is looked up as IPv4; real IPv6 is not in this
		// IPv4-only database.
		{"::ffff:202.96.134.133", admeter.Region{Country: "CN", Province: "广东", City: "深圳"}},
		{"2001:da8::1", admeter.Region{}},
		{"2400:3200::1", admeter.Region{}},
	}
	for _, tt := range tests {
		if got := db.Lookup(netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("Lookup(%s) = %+v, want %+v", tt.addr, got, tt.want)
		}
	}
	for _, s := range notLocated {
		if got := db.Lookup(netip.MustParseAddr(s)); got != (admeter.Region{}) {
			t.Errorf("Lookup(%s) = %+v, want zero", s, got)
		}
	}
	if got := db.Lookup(netip.Addr{}); got != (admeter.Region{}) {
		t.Errorf("Lookup(invalid) = %+v, want zero", got)
	}
	if err := db.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

// TestEmbeddedCountryNames sweeps IPv4 in /18 steps and checks that every
// Chinese country name the database returns either maps to an ISO code or is
// a known non-place label, so a missing table entry cannot silently blank a
// country.
func TestEmbeddedCountryNames(t *testing.T) {
	db := mustEmbedded(t)
	nonPlaces := map[string]bool{
		"局域网": true, "本机地址": true, "保留地址": true, "共享地址": true, "本地链路": true,
		"欧盟": true, "北美地区": true, "亚太地区": true, "拉美地区": true, "非洲地区": true,
	}
	seen := map[string]bool{}
	for i := uint32(0); i < 1<<14; i++ {
		v := i << 18
		a := netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
		rec, err := db.city.Find(a.String(), ipdbLanguage)
		if err != nil {
			continue
		}
		name := field(rec, db.country)
		if seen[name] {
			continue
		}
		seen[name] = true
		ascii := !strings.ContainsFunc(name, func(r rune) bool { return r >= utf8.RuneSelf })
		if ascii || nonPlaces[name] || strings.HasSuffix(name, "骨干网") {
			continue // operator domains, backbones and labels
		}
		if _, ok := countryCodes[name]; !ok {
			t.Errorf("country name %q has no ISO code", name)
		}
	}
	if len(seen) < 100 {
		t.Errorf("sweep saw only %d country names; is the database loaded?", len(seen))
	}
}

// TestNotLocatedSkipsLookup uses an MMDB with no reader: any database access
// would panic.
func TestNotLocatedSkipsLookup(t *testing.T) {
	db := &MMDB{}
	for _, s := range notLocated {
		if got := db.Lookup(netip.MustParseAddr(s)); got != (admeter.Region{}) {
			t.Errorf("Lookup(%s) = %+v, want zero", s, got)
		}
	}
}

func TestNewIPDBInvalid(t *testing.T) {
	tests := map[string][]byte{
		"empty":     nil,
		"short":     []byte{0, 0, 0},
		"truncated": freeIPDB[:len(freeIPDB)-1],
		"not ipdb":  []byte("\x00\x00\x00\x02{}plain text"),
	}
	for name, data := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := NewIPDB(data); err == nil {
				t.Error("NewIPDB succeeded, want error")
			}
		})
	}
}

// TestIPDBCorruptPointer points every search-tree record just past the end
// of the data section, where ipdb-go slices out of range: the load still
// succeeds, ipdb-go itself panics, and Lookup must not.
func TestIPDBCorruptPointer(t *testing.T) {
	metaLen := int(binary.BigEndian.Uint32(freeIPDB))
	var meta struct {
		NodeCount int `json:"node_count"`
	}
	if err := json.Unmarshal(freeIPDB[4:4+metaLen], &meta); err != nil {
		t.Fatal(err)
	}
	// No spare capacity: ipdb-go slices up to cap, not len.
	data := make([]byte, len(freeIPDB))
	copy(data, freeIPDB)
	body := data[4+metaLen:]
	// resolve() maps a record value v to offset v - nodeCount + 8*nodeCount
	// and only checks it against the whole file size, header included.
	past := uint32(meta.NodeCount + len(body) - 8*meta.NodeCount + 1)
	for off := 0; off < 8*meta.NodeCount; off += 4 {
		binary.BigEndian.PutUint32(body[off:], past)
	}
	db, err := NewIPDB(data)
	if err != nil {
		t.Fatalf("NewIPDB: %v", err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("ipdb-go did not panic; the test no longer covers Lookup's recover")
			}
		}()
		db.city.Find("202.96.134.133", ipdbLanguage)
	}()
	if got := db.Lookup(netip.MustParseAddr("202.96.134.133")); got != (admeter.Region{}) {
		t.Errorf("Lookup on corrupt database = %+v, want zero", got)
	}
}

func TestMMDB(t *testing.T) {
	path := writeMMDB(t)
	db, err := OpenMMDB(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if got := db.BuildTime().Unix(); got != testBuildEpoch {
		t.Errorf("BuildTime = %d, want %d", got, testBuildEpoch)
	}
	long := strings.Repeat("长", 100) // 300 bytes
	tests := []struct {
		addr string
		want admeter.Region
	}{
		// China: Chinese names, shortened.
		{"59.37.96.63", admeter.Region{Country: "CN", Province: "广东", City: "深圳"}},
		{"::ffff:59.37.96.63", admeter.Region{Country: "CN", Province: "广东", City: "深圳"}},
		{"2001:da8:8000::1", admeter.Region{Country: "CN", Province: "北京", City: "北京"}},
		{"2001:da8:8001::1", admeter.Region{Country: "CN", Province: "新疆", City: "乌鲁木齐"}},
		// No zh-CN name: fall back to English.
		{"58.176.0.1", admeter.Region{Country: "HK", City: "Hong Kong"}},
		// Elsewhere: English names even when zh-CN exists.
		{"81.2.69.142", admeter.Region{Country: "GB", Province: "England", City: "London"}},
		{"2a02:c7f::1", admeter.Region{Country: "GB", Province: "England", City: "London"}},
		// No English name: fall back to zh-CN.
		{"133.0.0.1", admeter.Region{Country: "JP", Province: "东京都"}},
		// Country only.
		{"2600:1f00::1", admeter.Region{Country: "US"}},
		// Records without a usable country are not places.
		{"5.6.7.8", admeter.Region{}}, // continent only
		{"9.9.9.9", admeter.Region{}}, // iso_code "EU-ish"
		{"1.1.1.1", admeter.Region{}}, // not in the database
		{"2c0f::1", admeter.Region{}}, // not in the database
		{"77.88.0.1", admeter.Region{Country: "RU", Province: clip(long)}},
	}
	for _, tt := range tests {
		got := db.Lookup(netip.MustParseAddr(tt.addr))
		if got != tt.want {
			t.Errorf("Lookup(%s) = %+v, want %+v", tt.addr, got, tt.want)
		}
	}
	if p := db.Lookup(netip.MustParseAddr("77.88.0.1")).Province; len(p) > admeter.MaxNameField || !utf8.ValidString(p) {
		t.Errorf("long province not clipped to a valid %d-byte string: %d bytes", admeter.MaxNameField, len(p))
	}
	for _, s := range notLocated {
		if got := db.Lookup(netip.MustParseAddr(s)); got != (admeter.Region{}) {
			t.Errorf("Lookup(%s) = %+v, want zero", s, got)
		}
	}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	ipdbPath := filepath.Join(dir, "city.IPDB")
	if err := os.WriteFile(ipdbPath, freeIPDB, 0o600); err != nil {
		t.Fatal(err)
	}
	mmdbPath := writeMMDB(t)
	addr := netip.MustParseAddr("59.37.96.63")
	for _, tt := range []struct {
		path string
		want admeter.Region
	}{
		{ipdbPath, admeter.Region{Country: "CN", Province: "广东", City: "深圳"}},
		{mmdbPath, admeter.Region{Country: "CN", Province: "广东", City: "深圳"}},
	} {
		loc, err := Open(tt.path)
		if err != nil {
			t.Fatalf("Open(%s): %v", filepath.Base(tt.path), err)
		}
		if got := loc.Lookup(addr); got != tt.want {
			t.Errorf("%s: Lookup = %+v, want %+v", filepath.Base(tt.path), got, tt.want)
		}
		if err := loc.Close(); err != nil {
			t.Errorf("%s: Close: %v", filepath.Base(tt.path), err)
		}
	}

	bad := filepath.Join(dir, "bad.mmdb")
	if err := os.WriteFile(bad, []byte("not a database"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{
		filepath.Join(dir, "city.csv"),     // unknown extension
		filepath.Join(dir, "missing.ipdb"), // no file
		filepath.Join(dir, "missing.mmdb"), // no file
		bad,                                // not a MaxMind database
	} {
		if loc, err := Open(path); err == nil || loc != nil {
			t.Errorf("Open(%s) = %v, %v; want nil, error", filepath.Base(path), loc, err)
		}
	}
}

func TestConcurrentLookup(t *testing.T) {
	ipdbDB := mustEmbedded(t)
	mmdbDB, err := OpenMMDB(writeMMDB(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mmdbDB.Close() })
	addrs := []netip.Addr{
		netip.MustParseAddr("59.37.96.63"), netip.MustParseAddr("81.2.69.142"),
		netip.MustParseAddr("2001:da8:8000::1"), netip.MustParseAddr("10.0.0.1"),
	}
	want := map[Locator][]admeter.Region{}
	for _, loc := range []Locator{ipdbDB, mmdbDB} {
		for _, a := range addrs {
			want[loc] = append(want[loc], loc.Lookup(a))
		}
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				for _, loc := range []Locator{ipdbDB, mmdbDB} {
					j := (g + i) % len(addrs)
					if got := loc.Lookup(addrs[j]); got != want[loc][j] {
						t.Errorf("concurrent Lookup(%s) = %+v, want %+v", addrs[j], got, want[loc][j])
						return
					}
				}
			}
		})
	}
	wg.Wait()
}

func TestNormalise(t *testing.T) {
	for _, tt := range []struct{ in, province, city string }{
		{"广东省", "广东", "广东省"},
		{"广东", "广东", "广东"},
		{"北京市", "北京", "北京"},
		{"深圳市", "深圳", "深圳"},
		{"新疆维吾尔自治区", "新疆", "新疆维吾尔自治区"},
		{"香港特别行政区", "香港", "香港特别行政区"},
		{"锡林郭勒盟", "锡林郭勒盟", "锡林郭勒盟"},
		{"市", "市", "市"},
		{"沙市", "沙市", "沙市"}, // one character would remain
		{"Guangdong", "Guangdong", "Guangdong"},
	} {
		if got := shortProvince(tt.in); got != tt.province {
			t.Errorf("shortProvince(%q) = %q, want %q", tt.in, got, tt.province)
		}
		if got := shortCity(tt.in); got != tt.city {
			t.Errorf("shortCity(%q) = %q, want %q", tt.in, got, tt.city)
		}
	}
	for _, s := range []string{"", "abc", strings.Repeat("a", 200), strings.Repeat("长", 43), strings.Repeat("长", 50), "a" + strings.Repeat("长", 50)} {
		got := clip(s)
		if len(got) > admeter.MaxNameField || !utf8.ValidString(got) || !strings.HasPrefix(s, got) || len(s)-len(got) > 0 && len(got) < admeter.MaxNameField-3 {
			t.Errorf("clip(%d bytes) = %d bytes %q", len(s), len(got), got)
		}
	}
}

func BenchmarkIPDBLookup(b *testing.B) {
	db := mustEmbedded(b)
	addrs := benchAddrs(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		db.Lookup(addrs[i%len(addrs)])
		i++
	}
}

func BenchmarkMMDBLookup(b *testing.B) {
	db, err := OpenMMDB(writeMMDB(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	addrs := []netip.Addr{
		netip.MustParseAddr("59.37.96.63"), netip.MustParseAddr("2001:da8:8000::1"),
		netip.MustParseAddr("81.2.69.142"), netip.MustParseAddr("2600:1f00::1"),
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		db.Lookup(addrs[i%len(addrs)])
		i++
	}
}

func BenchmarkEmbedded(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Embedded(); err != nil {
			b.Fatal(err)
		}
	}
}

// benchAddrs returns public addresses spread over the IPv4 space, so the
// benchmark does not measure one hot path through the tree.
func benchAddrs(tb testing.TB) []netip.Addr {
	tb.Helper()
	rng := rand.New(rand.NewPCG(3, 4))
	var addrs []netip.Addr
	for len(addrs) < 1024 {
		v := rng.Uint32()
		a := netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
		if locatable(a) {
			addrs = append(addrs, a)
		}
	}
	return addrs
}

func mustEmbedded(tb testing.TB) *IPDB {
	tb.Helper()
	db, err := Embedded()
	if err != nil {
		tb.Fatal(err)
	}
	return db
}

const testBuildEpoch = 1700000000

// writeMMDB writes a small database with the GeoIP2 City record layout to a
// temporary directory and returns its path.
func writeMMDB(tb testing.TB) string {
	tb.Helper()
	w, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType: "admeter-Test-City",
		Languages:    []string{"en", "zh-CN"},
		BuildEpoch:   testBuildEpoch,
		RecordSize:   28,
	})
	if err != nil {
		tb.Fatal(err)
	}
	names := func(kv ...string) mmdbtype.Map {
		m := mmdbtype.Map{}
		for i := 0; i < len(kv); i += 2 {
			m[mmdbtype.String(kv[i])] = mmdbtype.String(kv[i+1])
		}
		return mmdbtype.Map{"names": m, "geoname_id": mmdbtype.Uint32(1)}
	}
	country := func(iso string) mmdbtype.Map {
		return mmdbtype.Map{"iso_code": mmdbtype.String(iso), "names": mmdbtype.Map{"en": mmdbtype.String(iso)}}
	}
	city := func(iso string, sub, c mmdbtype.Map) mmdbtype.Map {
		rec := mmdbtype.Map{
			"continent": mmdbtype.Map{"code": mmdbtype.String("AS")},
			"country":   country(iso),
			"location":  mmdbtype.Map{"latitude": mmdbtype.Float64(1.5), "longitude": mmdbtype.Float64(2.5)},
		}
		if sub != nil {
			rec["subdivisions"] = mmdbtype.Slice{sub, names("en", "Second level")}
		}
		if c != nil {
			rec["city"] = c
		}
		return rec
	}
	london := city("GB", names("en", "England", "zh-CN", "英格兰"), names("en", "London", "zh-CN", "伦敦"))
	records := []struct {
		network string
		rec     mmdbtype.Map
	}{
		{"59.37.96.0/24", city("CN", names("en", "Guangdong", "zh-CN", "广东省"), names("en", "Shenzhen", "zh-CN", "深圳市"))},
		{"2001:da8:8000::/48", city("CN", names("en", "Beijing", "zh-CN", "北京市"), names("en", "Beijing", "zh-CN", "北京"))},
		{"2001:da8:8001::/48", city("CN", names("en", "Xinjiang", "zh-CN", "新疆维吾尔自治区"), names("en", "Urumqi", "zh-CN", "乌鲁木齐市"))},
		{"58.176.0.0/16", city("HK", nil, names("en", "Hong Kong"))},
		{"81.2.69.0/24", london},
		{"2a02:c7f::/32", london},
		{"133.0.0.0/16", city("JP", names("zh-CN", "东京都"), nil)},
		{"2600:1f00::/24", city("US", nil, nil)},
		{"5.6.7.0/24", mmdbtype.Map{"continent": mmdbtype.Map{"code": mmdbtype.String("EU")}}},
		{"9.9.9.0/24", city("EU-ish", nil, nil)},
		{"77.88.0.0/16", city("RU", names("en", strings.Repeat("长", 100)), nil)},
	}
	for _, r := range records {
		_, network, err := net.ParseCIDR(r.network)
		if err != nil {
			tb.Fatal(err)
		}
		if err := w.Insert(network, r.rec); err != nil {
			tb.Fatalf("insert %s: %v", r.network, err)
		}
	}
	path := filepath.Join(tb.TempDir(), fmt.Sprintf("test-%d.mmdb", testBuildEpoch))
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := w.WriteTo(f); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return path
}
