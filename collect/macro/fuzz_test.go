package macro_test

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/collect/macro"
)

var fuzzTargets = []string{
	androidImpression, iosClick, youkuLegacy, pcCaret,
	"/x?k=1&p=2&mn=a+b%21", "/x/k=1&p=2?mo=0&k=3", "/r/k=1&p=2&o=", "/r/k=1&p=2&o=__CLICK_URL__",
	"/x/k=1&p=2&m6a=%5BM_MAC%5D&m5=%257BIDFA%257D", "/x/k=1&p=2&mn=100%zz", "/x.gif?k=1&p=2",
	"https://g.cn.miaozhen.com/r/k=1&p=2&o=https%3A%2F%2Fa.example", "/x", "/", "", "/r.gif?^^k=1^p=2^o=^",
	"/x/k=%&p=%2", "/r/o=o=o=&k=1", "\x00/x/k=\xff",
	"/x/k=1&p=2&vf=a&vx=1&vh=60&vi=2&vk=1&vb=15.5&vc=25&vg=1&vj=1100", "/x?k=1&p=2&vx=3&vb=-1&vc=__VC__&vg={AUTOPLAY}&vj=11x1",
}

// FuzzParseTarget checks that ParseTarget never panics and that what it
// returns keeps the package's promises.
func FuzzParseTarget(f *testing.F) {
	for _, s := range fuzzTargets {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		ep, p, err := macro.ParseTarget(uri)
		switch {
		case err == nil:
			if p.K == "" || p.P == "" {
				t.Fatalf("no error but k=%q p=%q", p.K, p.P)
			}
			fallthrough
		case errors.Is(err, macro.ErrNoCampaign), errors.Is(err, macro.ErrNoPlacement):
			if ep == macro.EndpointUnknown {
				t.Fatalf("endpoint unknown with err %v", err)
			}
		case errors.Is(err, macro.ErrNotMonitoringURL), errors.Is(err, macro.ErrTooLong):
			if ep != macro.EndpointUnknown || !reflect.ValueOf(p).IsZero() {
				t.Fatalf("err %v with endpoint %v and params", err, ep)
			}
			return
		default:
			t.Fatalf("unexpected error %v", err)
		}
		checkParams(t, uri, p)
		if again, p2, err2 := macro.ParseTarget(uri); again != ep || p2 != p || !errors.Is(err2, err) {
			t.Fatal("ParseTarget is not deterministic")
		}
		if strings.HasPrefix(uri, "/x/") || strings.HasPrefix(uri, "/r/") {
			p2, err2 := macro.Parse(uri[3:])
			if p2 != p || !errors.Is(err2, err) {
				t.Fatalf("Parse(%q) disagrees with ParseTarget", uri[3:])
			}
		}
	})
}

// checkParams checks the invariants of every successfully read Params.
func checkParams(t *testing.T, uri string, p macro.Params) {
	t.Helper()
	if p.O != "" && !strings.HasSuffix(uri, "o="+p.O) {
		t.Fatalf("O %q is not the verbatim tail of the target", p.O)
	}
	if macro.IsUnreplacedMacro(p.O) {
		t.Fatalf("O %q is a macro", p.O)
	}
	v := reflect.ValueOf(p)
	for i := range v.NumField() {
		name := v.Type().Field(i).Name
		f, ok := v.Field(i).Interface().(string)
		if !ok || name == "O" || f == "" {
			continue
		}
		if len(f) > macro.MaxValueLen {
			t.Fatalf("%s is %d bytes", name, len(f))
		}
		if macro.IsUnreplacedMacro(f) {
			t.Fatalf("%s = %q is a macro", name, f)
		}
	}
}

func FuzzParseLocation(f *testing.F) {
	for _, s := range []string{"39.904211x116.407395x30.0", "22.5,114.0", "0x0", "-90X-180", "1e1x2", "NaNx1", "+.5x-.5", " 1 x 2 ", "1,2,3,4"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, mm string) {
		lat, lon, ok := macro.ParseLocation(mm)
		if !ok {
			if lat != 0 || lon != 0 {
				t.Fatalf("not ok but %v,%v", lat, lon)
			}
			return
		}
		if math.IsNaN(lat) || math.IsNaN(lon) || lat < -90 || lat > 90 || lon < -180 || lon > 180 || lat == 0 && lon == 0 {
			t.Fatalf("ParseLocation(%q) = %v,%v", mm, lat, lon)
		}
		if _, ok := admeter.AreaOf(lat, lon); !ok {
			t.Fatalf("AreaOf refuses %v,%v", lat, lon)
		}
	})
}

func FuzzParseRisk(f *testing.F) {
	for _, s := range []string{`{"l1":1,"l2":0,"l3":0,"l4":1}`, "{l1:1,l2:1}", "%7B%22l1%22%3A1%7D", "%257B%2522l3%2522%253A1%257D", `{"l1":true}`, "{", ",,:,", ""} {
		f.Add(s)
	}
	all := admeter.RiskRoot | admeter.RiskEmulator | admeter.RiskHook | admeter.RiskADB
	f.Fuzz(func(t *testing.T, svl string) {
		if r := macro.ParseRisk(svl); r&^all != 0 {
			t.Fatalf("ParseRisk(%q) = %b sets an unknown flag", svl, r)
		}
	})
}

func FuzzDecodeRedirect(f *testing.F) {
	for _, s := range []string{"https%3A%2F%2Fa.example%2F", "http%253A%252F%252Fa", "%2F%2Fa", "https://a.example/?a=%zz", "x%3A%", "%252f%252f%25"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, o string) {
		if d := macro.DecodeRedirect(o); len(d) > len(o) {
			t.Fatalf("DecodeRedirect(%q) = %q grew", o, d)
		}
	})
}

func FuzzIsUnreplacedMacro(f *testing.F) {
	for _, s := range []string{"__IDFA__", "{{X}}", "%7BIDFA%7D", "%257B%257D", "[M_MAC]", "${X}", "%%X%%", "%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		// A literal '&', '=' or space survives percent-decoding and is
		// never part of a macro.
		if macro.IsUnreplacedMacro(v) && strings.ContainsAny(v, "&= ") {
			t.Fatalf("IsUnreplacedMacro(%q) with a separator", v)
		}
	})
}

// FuzzViewFields checks the viewability and video helpers: no panic, and
// what they accept is in range.
func FuzzViewFields(f *testing.F) {
	for _, s := range []string{"", "0", "1", "2", "4", "25", "100", "101", "120", "121", "15.5", "0.0005", "7200", "7200.001", ".5", "5.", ".", "1e3", "-1", "+1", "1111", "0101", "11a1", "１"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if a, ok := macro.ParseViewArea(s); ok != (s == "" || a >= 1 && a <= 100) || (s == "") != (ok && a == 0) {
			t.Fatalf("ParseViewArea(%q) = %d, %v", s, a, ok)
		}
		if v, ok := macro.ParseViewSeconds(s); ok != (s == "" || v >= 1 && v <= macro.MaxViewSeconds) || (s == "") != (ok && v == 0) {
			t.Fatalf("ParseViewSeconds(%q) = %d, %v", s, v, ok)
		}
		if d, ok := macro.ParseVideoDuration(s); d < 0 || d > admeter.MaxVideoDuration || d%time.Millisecond != 0 || !ok && d != 0 {
			t.Fatalf("ParseVideoDuration(%q) = %v, %v", s, d, ok)
		}
		if p, ok := macro.ParseVideoPlay(s); ok != (s == "" || p != admeter.PlayNone) || p > admeter.PlayManual {
			t.Fatalf("ParseVideoPlay(%q) = %v, %v", s, p, ok)
		}
		if strong, ok := macro.ParseInteraction(s); strong && (!ok || s != "1") {
			t.Fatalf("ParseInteraction(%q) = %v, %v", s, strong, ok)
		}
	})
}
