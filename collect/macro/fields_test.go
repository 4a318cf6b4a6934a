package macro_test

import (
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/collect/macro"
)

func TestIsUnreplacedMacro(t *testing.T) {
	tests := map[string]bool{
		"__IDFA__": true, "__OAID_MD5__": true, "__idfa_md5__": true, "__IMEI2__": true, "__TS__": true,
		"{IDFA}": true, "{idfa_md5}": true, "{{IDFA}}": true, "{{ANDROID_ID_MD5}}": true, "{0}": true,
		"[M_MAC]": true, "[M_ADIP]": true, "[timestamp]": true,
		"%%CACHEBUSTER%%": true, "%%CLICK_URL_UNESC%%": true, "%OS%": true,
		"${CLICK_URL}": true, "${CACHEBUSTER}": true, "{device.ifa}": true,
		"%7BIDFA%7D": true, "%7b%7bIDFA%7d%7d": true, "%5BM_MAC%5D": true, "%25%25IP%25%25": true, "%24%7BCLICK_URL%7D": true,
		"%5F%5FIDFA%5F%5F": true, "{IDFA%7D": true, "__IDFA%5F%5F": true, "{IDFA%257D": true, "[M_MAC%255D": true, "%257BIDFA%257D": true, "%255BM_MAC%255D": true,

		"": false, "0": false, "__": false, "____": false, "___": false, "{}": false, "[]": false, "%%": false, "${}": false,
		`{"l1":1,"l2":0}`: false, "{l1:1,l2:0}": false, "[1,2,3]": false, "[{1:0}]": false,
		"6D92078A-8246-4BA4-AE5B-76104861E7DC": false, "8d3ebd3654fb46a2832296669cf1b536": false,
		"__IDFA": false, "IDFA__": false, "{IDFA": false, "[M_MAC": false, "%IDFA": false, "$IDFA": false,
		"x__IDFA__": false, "__IDFA__x": false, "{ IDFA }": false, "{ID FA}": false, "[新闻]": false,
		"%E6%96%B0": false, "%7B%22l1%22%3A1%7D": false, "%ZZIDFA%ZZ": false, "%7BIDFA%7": false,
		"%25252525": false,
	}
	for in, want := range tests {
		if got := macro.IsUnreplacedMacro(in); got != want {
			t.Errorf("IsUnreplacedMacro(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestDecodeRedirect(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://shop.example.com/item?id=42&m0=x#top", "https://shop.example.com/item?id=42&m0=x#top"},
		{"https%3A%2F%2Fshop.example.com%2Fitem%3Fid%3D42%26u%3Dhttp%253A%252F%252Fb", "https://shop.example.com/item?id=42&u=http%3A%2F%2Fb"},
		{"HTTP%3a%2f%2fA.example%2F", "HTTP://A.example/"},
		{"http%253A%252F%252Fa.example%252F%253Fq%253D1", "http://a.example/?q=1"},
		{"http%25253A%25252F%25252Fa.example", "http%25253A%25252F%25252Fa.example"}, // triple: not recognised
		{"%252F%252Fa.example", "//a.example"},
		{"weixin%3A%2F%2Fdl%2Fbusiness", "weixin://dl/business"},
		{"openapp.jdmobile%3A%2F%2Fvirtual%3Fparams%3D%7B%7D", "openapp.jdmobile://virtual?params={}"},
		{"%2F%2Fa.example%2Fx", "//a.example/x"},
		{"https%3A%2F%2Fa.example%2F%3Fq%3Dx+y%2Bz", "https://a.example/?q=x+y+z"},
		{"https%3A%2F%2Fa.example%2F%zz", "https%3A%2F%2Fa.example%2F%zz"},
		{"https://a.example/?u=http%3A%2F%2Fb", "https://a.example/?u=http%3A%2F%2Fb"},
		{"a.example%2Fpath", "a.example%2Fpath"},
		{"%3A", "%3A"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := macro.DecodeRedirect(tt.in); got != tt.want {
			t.Errorf("DecodeRedirect(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseTime(t *testing.T) {
	tests := []struct {
		in     string
		want   time.Time
		wantOK bool
	}{
		{"1790000000", time.Unix(1790000000, 0).UTC(), true},
		{"1790000000123", time.UnixMilli(1790000000123).UTC(), true},
		{"0000000000", time.Unix(0, 0).UTC(), true},
		{"9999999999999", time.UnixMilli(9999999999999).UTC(), true},
		{"179000000", time.Time{}, false},
		{"17900000001", time.Time{}, false},
		{"1790000000.5", time.Time{}, false},
		{"-790000000", time.Time{}, false},
		{"179000000x", time.Time{}, false},
		{"__TS__", time.Time{}, false},
		{"", time.Time{}, false},
	}
	for _, tt := range tests {
		got, ok := macro.ParseTime(tt.in)
		if ok != tt.wantOK || !got.Equal(tt.want) || (ok && got.Location() != time.UTC) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestParseOSNetworkRender(t *testing.T) {
	osTests := map[string]admeter.OS{
		"0": admeter.OSAndroid, "1": admeter.OSIOS, "2": admeter.OSWindowsPhone, "3": admeter.OSOther,
		"4": admeter.OSUnknown, "": admeter.OSUnknown, "00": admeter.OSUnknown, "android": admeter.OSUnknown,
	}
	for in, want := range osTests {
		if got := macro.ParseOS(in); got != want {
			t.Errorf("ParseOS(%q) = %v, want %v", in, got, want)
		}
	}
	netTests := map[string]admeter.Network{
		"0": admeter.NetworkCellular, "1": admeter.NetworkWiFi, "2": admeter.NetworkNone,
		"3": admeter.NetworkUnknown, "": admeter.NetworkUnknown, "wifi": admeter.NetworkUnknown,
	}
	for in, want := range netTests {
		if got := macro.ParseNetwork(in); got != want {
			t.Errorf("ParseNetwork(%q) = %v, want %v", in, got, want)
		}
	}
	for in, want := range map[string]bool{"0": false, "1": true, "": true, "2": true} {
		if got := macro.ParseRender(in); got != want {
			t.Errorf("ParseRender(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestParseLocation(t *testing.T) {
	tests := []struct {
		in       string
		lat, lon float64
		ok       bool
	}{
		{"39.904211x116.407395x30.0", 39.904211, 116.407395, true},
		{"39.904211x116.407395", 39.904211, 116.407395, true},
		{"39.904211 x 116.407395 x 30", 39.904211, 116.407395, true},
		{"-33.8688X151.2093", -33.8688, 151.2093, true},
		{"22.543096,114.057865", 22.543096, 114.057865, true},
		{"22.543096, 114.057865, 65", 22.543096, 114.057865, true},
		{"+1.5x-0.5", 1.5, -0.5, true},
		{"90x180", 90, 180, true},
		{"0x0x0", 0, 0, false},
		{"0.0,0.0", 0, 0, false},
		{"91x0", 0, 0, false},
		{"0x180.0001", 0, 0, false},
		{"39.9x116.4x30x1", 0, 0, false},
		{"39.9", 0, 0, false},
		{"39.9x", 0, 0, false},
		{"x116.4", 0, 0, false},
		{"1e1x2", 0, 0, false},
		{"NaNxInf", 0, 0, false},
		{"0x1p-2x3", 0, 0, false},
		{"1.2.3x4", 0, 0, false},
		{"-x4", 0, 0, false},
		{"1_0x4", 0, 0, false},
		{"__LBS__", 0, 0, false},
		{"", 0, 0, false},
	}
	for _, tt := range tests {
		lat, lon, ok := macro.ParseLocation(tt.in)
		if ok != tt.ok || lat != tt.lat || lon != tt.lon {
			t.Errorf("ParseLocation(%q) = %v, %v, %v; want %v, %v, %v", tt.in, lat, lon, ok, tt.lat, tt.lon, tt.ok)
		}
	}
}

func TestParseRisk(t *testing.T) {
	all := admeter.RiskRoot | admeter.RiskEmulator | admeter.RiskHook | admeter.RiskADB
	tests := map[string]admeter.Risk{
		`{"l1":1,"l2":0,"l3":0,"l4":0}`:                                   admeter.RiskRoot,
		`{"l1":0,"l2":1,"l3":1,"l4":1}`:                                   admeter.RiskEmulator | admeter.RiskHook | admeter.RiskADB,
		`{"l1":0,"l2":0,"l3":0,"l4":0}`:                                   0,
		"{l1:1,l2:1,l3:1,l4:1}":                                           all,
		`{ "l4" : 1 , "l1" : "1" }`:                                       admeter.RiskADB | admeter.RiskRoot,
		`{"l1":true,"l2":false}`:                                          admeter.RiskRoot,
		"%7B%22l1%22%3A0%2C%22l2%22%3A1%2C%22l3%22%3A0%2C%22l4%22%3A1%7D": admeter.RiskEmulator | admeter.RiskADB,
		"%257B%2522l3%2522%253A1%257D":                                    admeter.RiskHook,
		"{l1:1,+l2:1}":                                                    admeter.RiskRoot | admeter.RiskEmulator,
		`{"l1":1,"l5":1,"x":1,"l11":1}`:                                   admeter.RiskRoot,
		`{"l1":2,"l2":"yes"}`:                                             0,
		`{"l1"}`:                                                          0,
		"__SVL__":                                                         0,
		"":                                                                0,
		`{"l1":1,"l2":"%zz"}`:                                             admeter.RiskRoot,
	}
	for in, want := range tests {
		if got := macro.ParseRisk(in); got != want {
			t.Errorf("ParseRisk(%q) = %b, want %b", in, got, want)
		}
	}
}

func TestViewFields(t *testing.T) {
	area := map[string]int{"": 0, "1": 1, "50": 50, "100": 100, "0": -1, "101": -1, "050": 50, "5.0": -1, "-5": -1, "1000": -1, "x": -1}
	for in, want := range area {
		got, ok := macro.ParseViewArea(in)
		if ok != (want >= 0) || ok && int(got) != want {
			t.Errorf("ParseViewArea(%q) = %d, %v; want %d", in, got, ok, want)
		}
	}
	secs := map[string]int{"": 0, "1": 1, "2": 2, "120": 120, "121": -1, "0": -1, "1.5": -1}
	for in, want := range secs {
		got, ok := macro.ParseViewSeconds(in)
		if ok != (want >= 0) || ok && int(got) != want {
			t.Errorf("ParseViewSeconds(%q) = %d, %v; want %d", in, got, ok, want)
		}
	}
	dur := map[string]time.Duration{
		"": 0, "0": 0, "15": 15 * time.Second, "15.5": 15500 * time.Millisecond, "0.001": time.Millisecond,
		"0.0005": time.Millisecond, "0.0004": 0, "2.12345": 2123 * time.Millisecond, "7200": 2 * time.Hour, "5.": 5 * time.Second, ".5": 500 * time.Millisecond,
		"7200.001": -1, "7201": -1, "99999999999999999999": -1, "-1": -1, "+1": -1, "1e3": -1, ".": -1, "1.2.3": -1, "1,5": -1, "NaN": -1,
	}
	for in, want := range dur {
		got, ok := macro.ParseVideoDuration(in)
		if ok != (want >= 0) || ok && got != want {
			t.Errorf("ParseVideoDuration(%q) = %v, %v; want %v", in, got, ok, want)
		}
	}
	plays := map[string]admeter.VideoPlay{"": admeter.PlayNone, "0": admeter.PlayUnknown, "1": admeter.PlayAuto, "2": admeter.PlayManual}
	for in, want := range plays {
		if got, ok := macro.ParseVideoPlay(in); !ok || got != want {
			t.Errorf("ParseVideoPlay(%q) = %v, %v; want %v", in, got, ok, want)
		}
	}
	for _, in := range []string{"3", "auto", "01", " 1"} {
		if _, ok := macro.ParseVideoPlay(in); ok {
			t.Errorf("ParseVideoPlay(%q) accepted", in)
		}
	}
	for in, want := range map[string][2]bool{"": {false, true}, "0": {false, true}, "1": {true, true}, "2": {false, false}, "true": {false, false}} {
		if strong, ok := macro.ParseInteraction(in); strong != want[0] || ok != want[1] {
			t.Errorf("ParseInteraction(%q) = %v, %v; want %v", in, strong, ok, want)
		}
	}
}
