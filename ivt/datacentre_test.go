package ivt

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/admeter/admeter"
)

func prefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

func TestLoadCIDRFile(t *testing.T) {
	got, err := LoadCIDRFile(filepath.Join("testdata", "datacentres.txt"))
	if err != nil {
		t.Fatal(err)
	}
	want := prefixes("47.92.0.0/14", "120.24.0.0/14", "121.40.0.0/14", "119.29.0.0/16", "115.159.0.0/16",
		"121.36.0.0/16", "52.80.0.0/16", "2400:3200::/32", "203.0.113.7/32")
	if !slices.Equal(got, want) {
		t.Errorf("LoadCIDRFile = %v, want %v", got, want)
	}

	_, err = LoadCIDRFile(filepath.Join(t.TempDir(), "missing.txt"))
	if err == nil || !strings.Contains(err.Error(), "load data-centre ranges") || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: err = %v", err)
	}
}

func TestParseCIDRs(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []netip.Prefix
	}{
		{"Empty", "", nil},
		{"OnlyComments", "# nothing\n\n   # still nothing\n", nil},
		{"One", "10.0.0.0/8", prefixes("10.0.0.0/8")},
		{"CRLFAndBOM", "\ufeff10.0.0.0/8\r\n192.0.2.0/24\r\n", prefixes("10.0.0.0/8", "192.0.2.0/24")},
		{"TrailingComment", "10.0.0.0/8# cloud\n  192.0.2.0/24   # other\n", prefixes("10.0.0.0/8", "192.0.2.0/24")},
		{"Addresses", "192.0.2.1\n2001:db8::1\n", prefixes("192.0.2.1/32", "2001:db8::1/128")},
		{"HostBitsMasked", "10.1.2.3/8\n2001:db8::1/32\n", prefixes("10.0.0.0/8", "2001:db8::/32")},
		{"MappedToIPv4", "::ffff:192.0.2.0/120\n::ffff:192.0.2.9\n", prefixes("192.0.2.0/24", "192.0.2.9/32")},
		{"ShortMappedStaysIPv6", "::ffff:0:0/80\n", prefixes("::/80")},
		{"Everything", "0.0.0.0/0\n::/0\n", prefixes("0.0.0.0/0", "::/0")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseCIDRs(strings.NewReader(tc.in), "dc.txt")
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("parseCIDRs = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestParseCIDRsErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string // parts of the error
	}{
		{"BadPrefix", "10.0.0.0/8\n# ok\n10.0.0.0/33\n", []string{"dc.txt:3:", `"10.0.0.0/33"`, "not a CIDR prefix or an IP address", "47.92.0.0/14"}},
		{"NotAnAddress", "\n\ncloud.example.com\n", []string{"dc.txt:3:", `"cloud.example.com"`}},
		{"Range", "10.0.0.1-10.0.0.9", []string{"dc.txt:1:", "10.0.0.1-10.0.0.9"}},
		{"TwoEntries", "10.0.0.0/8 192.0.2.0/24\n", []string{"dc.txt:1:", "more than one entry"}},
		{"TabSeparated", "ok\t10.0.0.0/8\n", []string{"dc.txt:1:", "more than one entry"}},
		{"Zone", "10.0.0.0/8\nfe80::1%eth0\n", []string{"dc.txt:2:", "zone"}},
		{"ZonePrefix", "fe80::1%eth0/64\n", []string{"dc.txt:1:"}},
		{"LongLine", "10.0.0.0/8\n" + strings.Repeat("1", maxCIDRLine+10) + "\n", []string{"dc.txt:2:", "longer than"}},
		{"LongEntryCut", strings.Repeat("x", 200), []string{"dc.txt:1:", "…"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseCIDRs(strings.NewReader(tc.in), "dc.txt")
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestPrefixSet(t *testing.T) {
	set, err := newPrefixSet(prefixes(
		"10.0.0.0/24", "10.0.1.0/24", // adjacent: merged
		"10.0.0.128/25",                // inside
		"192.0.2.0/24", "192.0.2.0/28", // overlapping
		"203.0.113.255/32",
		"255.255.255.255/32",
		"2001:db8::/32", "2001:db9::/32",
		"2001:db8:ffff::/48",
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128",
		"::ffff:198.51.100.0/120", // mapped: an IPv4 /24
	))
	if err != nil {
		t.Fatal(err)
	}
	if got := set.len(); got != 5+2 {
		t.Errorf("%d ranges after merging, want 7: %+v %+v", got, set.v4, set.v6)
	}
	for _, tc := range []struct {
		a    string
		want bool
	}{
		{"9.255.255.255", false},
		{"10.0.0.0", true},
		{"10.0.1.255", true},
		{"10.0.2.0", false},
		{"192.0.2.255", true},
		{"192.0.3.0", false},
		{"203.0.113.254", false},
		{"203.0.113.255", true},
		{"204.0.0.0", false},
		{"255.255.255.255", true},
		{"0.0.0.0", false},
		{"198.51.100.7", true},
		{"::ffff:10.0.0.1", true},
		{"2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", false},
		{"2001:db8::", true},
		{"2001:db9:ffff:ffff:ffff:ffff:ffff:ffff", true},
		{"2001:dba::", false},
		{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", false},
		{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
		{"::", false},
		{"::a00:1", false}, // IPv4-compatible, not mapped: not 10.0.0.1
	} {
		if got := set.contains(netip.MustParseAddr(tc.a)); got != tc.want {
			t.Errorf("contains(%s) = %v, want %v", tc.a, got, tc.want)
		}
	}

	empty, err := newPrefixSet(nil)
	if err != nil || empty.contains(netip.MustParseAddr("10.0.0.1")) || empty.contains(netip.MustParseAddr("::1")) {
		t.Errorf("empty set: %v", err)
	}
	all, err := newPrefixSet(prefixes("0.0.0.0/0", "::/0"))
	if err != nil || !all.contains(netip.MustParseAddr("10.0.0.1")) || !all.contains(netip.MustParseAddr("::1")) || all.len() != 2 {
		t.Errorf("full set: %v, %d ranges", err, all.len())
	}
}

// TestPrefixSetRandom compares the set with netip.Prefix.Contains on random
// prefixes and addresses near them.
func TestPrefixSetRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 50 {
		var ps []netip.Prefix
		for range 1 + rng.IntN(60) {
			if rng.IntN(2) == 0 {
				a := netip.AddrFrom4([4]byte{10, byte(rng.IntN(4)), byte(rng.IntN(256)), byte(rng.IntN(256))})
				ps = append(ps, netip.PrefixFrom(a, 14+rng.IntN(19)).Masked())
			} else {
				var b [16]byte
				b[0], b[1], b[2], b[3] = 0x20, 0x01, 0x0d, byte(0xb8+rng.IntN(2))
				b[4], b[15] = byte(rng.IntN(256)), byte(rng.IntN(256))
				ps = append(ps, netip.PrefixFrom(netip.AddrFrom16(b), 28+rng.IntN(101)).Masked())
			}
		}
		set, err := newPrefixSet(ps)
		if err != nil {
			t.Fatal(err)
		}
		for range 400 {
			p := ps[rng.IntN(len(ps))]
			b := p.Addr().AsSlice()
			// Near the start or the end of the prefix, or anywhere.
			for i := len(b) - 1 - rng.IntN(3); i < len(b); i++ {
				b[i] = byte(rng.IntN(256))
			}
			a, _ := netip.AddrFromSlice(b)
			want := slices.ContainsFunc(ps, func(p netip.Prefix) bool { return p.Contains(a) })
			if got := set.contains(a); got != want {
				t.Fatalf("round %d: contains(%s) = %v, want %v (prefixes %v)", round, a, got, want, ps)
			}
		}
	}
}

func TestReload(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.txt"), filepath.Join(dir, "b.txt")
	write(t, a, "47.92.0.0/14\n")
	write(t, b, "# moved\n52.80.0.0/16\n2400:3200::/32\n")
	d := mustNew(t, DefaultConfig())
	ali, aws := netip.MustParseAddr("47.93.1.1"), netip.MustParseAddr("52.80.1.1")
	flagged := func(ip netip.Addr) bool {
		return d.Check(hit(ChannelRelay, admeter.OSAndroid, dalvikUA, oaid), dalvikUA, ip)&admeter.IVTDataCentre != 0
	}
	if flagged(ali) {
		t.Fatal("flagged before any ranges were loaded")
	}
	if n, err := d.Reload(a); err != nil || n != 1 || !flagged(ali) || flagged(aws) {
		t.Fatalf("after loading a: n=%d err=%v", n, err)
	}
	if n, err := d.Reload(b); err != nil || n != 2 || flagged(ali) || !flagged(aws) {
		t.Fatalf("after loading b: n=%d err=%v", n, err)
	}
	bad := filepath.Join(dir, "bad.txt")
	write(t, bad, "10.0.0.0/8\n10.0.0.0/99\n")
	if _, err := d.Reload(bad); err == nil || !strings.Contains(err.Error(), "bad.txt:2:") {
		t.Fatalf("bad file: err = %v", err)
	}
	if flagged(ali) || !flagged(aws) {
		t.Error("a failed reload changed the ranges")
	}
	if err := d.SetDataCentres(nil); err != nil || flagged(aws) {
		t.Errorf("SetDataCentres(nil): %v", err)
	}
	if err := d.SetDataCentres([]netip.Prefix{{}}); err == nil {
		t.Error("SetDataCentres accepted an invalid prefix")
	}
}

// TestReloadConcurrent swaps the ranges while other goroutines check
// events; run with -race. Each check must see one whole set: an address in
// both sets is always flagged, one in neither never.
func TestReloadConcurrent(t *testing.T) {
	dir := t.TempDir()
	files := []string{filepath.Join(dir, "a.txt"), filepath.Join(dir, "b.txt")}
	write(t, files[0], "47.92.0.0/14\n100.64.0.0/10\n")
	write(t, files[1], "52.80.0.0/16\n100.64.0.0/10\n")
	d := mustNew(t, DefaultConfig())
	if _, err := d.Reload(files[0]); err != nil {
		t.Fatal(err)
	}
	both, neither, ali := netip.MustParseAddr("100.64.1.1"), netip.MustParseAddr("14.16.20.30"), netip.MustParseAddr("47.93.1.1")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := range 4 {
		wg.Go(func() {
			h := hit(ChannelRelay, admeter.OSAndroid, dalvikUA, oaid)
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				switch {
				case d.Check(h, dalvikUA, both)&admeter.IVTDataCentre == 0:
					errs <- fmt.Errorf("goroutine %d: address in both sets not flagged", g)
					return
				case d.Check(h, dalvikUA, neither) != 0:
					errs <- fmt.Errorf("goroutine %d: address in no set flagged", g)
					return
				}
				d.Check(h, dalvikUA, ali)
			}
		})
	}
	for i := range 200 {
		if _, err := d.Reload(files[i%2]); err != nil {
			t.Error(err)
			break
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

// FuzzParseCIDRs checks that the parser never panics, that what it returns
// is canonical, and that writing it back gives the same prefixes.
func FuzzParseCIDRs(f *testing.F) {
	for _, s := range []string{
		"", "10.0.0.0/8", "# c\n10.0.0.0/8 # c\n\n2001:db8::/32\r\n", "\ufeff192.0.2.1", "::ffff:1.2.3.0/120",
		"10.0.0.0/33", "fe80::1%eth0", "1.2.3.4 5.6.7.8", "::/0\n0.0.0.0/0", "#", "/", "1.2.3.4/", "::ffff:0:0/95",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		ps, err := parseCIDRs(strings.NewReader(in), "fuzz.txt")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.txt:") && !strings.HasPrefix(err.Error(), "read fuzz.txt") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		var b strings.Builder
		for _, p := range ps {
			if !p.IsValid() || p != p.Masked() || p.Addr().Is4In6() && p.Bits() >= 96 || p.Addr().Zone() != "" {
				t.Fatalf("prefix %v is not canonical", p)
			}
			b.WriteString(p.String() + "\n")
		}
		again, err := parseCIDRs(strings.NewReader(b.String()), "again")
		if err != nil || !slices.Equal(again, ps) {
			t.Fatalf("round trip: %v, %v != %v", err, again, ps)
		}
		if _, err := newPrefixSet(ps); err != nil {
			t.Fatalf("newPrefixSet: %v", err)
		}
	})
}
