package macro_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/collect/macro"
)

// Real-world-looking monitoring URLs, after the shapes in
// shared/docs/mma-protocol.md §2: the MMA Android SDK's impression, an iOS
// click with an unencoded landing URL, and a media-filled tag whose macros
// were never replaced. Identifiers are made up.
const (
	androidImpression = "/x/k=2299094&p=8AGuD&dx=__IPDX__&rt=2&pro=s&ns=106.121.137.174&ni=__IESID__&v=__LOC__" +
		"&tr=1617055429226q172a25a163a167q5761&vg=__AUTOPLAY__&mo=0&m0=&m1=__ANDROIDID1__" +
		"&m1a=9c1e2f0e3b7a4d6c8e0f1a2b3c4d5e6f&m2=8d3ebd3654fb46a2832296669cf1b536&m4=__AAID__&m6=__MAC1__" +
		"&m6a=e3f5536a141811db40efd6400f1d0a4e&m11=1fe6b1f4-7d3a-4c8b-9f0e-2a3b4c5d6e7f&m11a=5d2ab9e1c1f04e0c9a7b8c6d5e4f3a2b" +
		"&mn=%E6%96%B0%E9%97%BB%E5%BF%AB%E6%8A%A5&mp=com.example.news&md=Redmi+Note+8+Pro&me=11&mw=1" +
		"&mm=39.904211x116.407395x30.0&mv=V2.2.5&mt=1790000000&vf=5f4dcc3b5aa765d61d8327deb882cf99&br=1&vx=0" +
		"&svl=%7B%22l1%22%3A0%2C%22l2%22%3A1%2C%22l3%22%3A0%2C%22l4%22%3A1%7D&mf=GJc%2FkR3xq1%2B8w%3D%3D"
	iosClick = "/r/k=2299094&p=8AGuE&vo=34f1ace29&vr=2&mo=1&m5=6D92078A-8246-4BA4-AE5B-76104861E7DC" +
		"&m5a=0A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D&m14=3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b&md=iPhone14%2C2&me=17.4.1" +
		"&mt=1790000000123&ns=__IP__&m2=__IMEI__" +
		"&o=https://shop.example.com/item?id=42&utm_source=mz&m0=notmine&k=999#top"
	youkuLegacy = "/r.gif?k=2000238&p=6qAku&rt=2&ns=[M_ADIP]&ni=[M_IESID]&na=[M_MAC]&v=[M_LOC]" +
		"&o=http%3A%2F%2Fwww.example.com%2Fpromo%3Fa%3D1%26b%3D2"
	pcCaret = "/r.gif?^k=2000238^p=6qAku^mo=3^o=http://www.example.com/?a=1&b=2^c"
)

func TestParseTarget(t *testing.T) {
	long := strings.Repeat("a", macro.MaxValueLen+1)
	tests := []struct {
		name    string
		uri     string
		want    macro.Params
		wantEP  macro.Endpoint
		wantErr error
	}{
		{
			name:   "AndroidSDKImpression",
			uri:    androidImpression,
			wantEP: macro.EndpointImpression,
			want: macro.Params{K: "2299094", P: "8AGuD", NS: "106.121.137.174", TR: "1617055429226q172a25a163a167q5761",
				MO: "0", M1A: "9c1e2f0e3b7a4d6c8e0f1a2b3c4d5e6f", M2: "8d3ebd3654fb46a2832296669cf1b536",
				M6A: "e3f5536a141811db40efd6400f1d0a4e", M11: "1fe6b1f4-7d3a-4c8b-9f0e-2a3b4c5d6e7f",
				M11A: "5d2ab9e1c1f04e0c9a7b8c6d5e4f3a2b", MN: "新闻快报", MP: "com.example.news", MD: "Redmi Note 8 Pro",
				ME: "11", MW: "1", MM: "39.904211x116.407395x30.0", MT: "1790000000",
				VF: "5f4dcc3b5aa765d61d8327deb882cf99", BR: "1", VX: "0",
				SVL: `{"l1":0,"l2":1,"l3":0,"l4":1}`, Signed: true},
		},
		{
			name:   "IOSClickUnencodedRedirect",
			uri:    iosClick,
			wantEP: macro.EndpointClick,
			want: macro.Params{K: "2299094", P: "8AGuE", MO: "1", M5: "6D92078A-8246-4BA4-AE5B-76104861E7DC",
				M5A: "0A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D", M14: "3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b",
				MD: "iPhone14,2", ME: "17.4.1", MT: "1790000000123",
				O: "https://shop.example.com/item?id=42&utm_source=mz&m0=notmine&k=999#top"},
		},
		{
			name:   "YoukuLegacyBracketMacrosEncodedRedirect",
			uri:    youkuLegacy,
			wantEP: macro.EndpointClick,
			want:   macro.Params{K: "2000238", P: "6qAku", O: "http%3A%2F%2Fwww.example.com%2Fpromo%3Fa%3D1%26b%3D2"},
		},
		{
			name:   "PCCaretForm",
			uri:    pcCaret,
			wantEP: macro.EndpointClick,
			want:   macro.Params{K: "2000238", P: "6qAku", MO: "3", O: "http://www.example.com/?a=1&b=2^c"},
		},
		{
			name:   "QueryForm",
			uri:    "/x?k=1234567&p=9XyZ1&mn=Daily+News%21&md=SM-G9910&mo=0&m2=8D3EBD3654FB46A2832296669CF1B536",
			wantEP: macro.EndpointImpression,
			want: macro.Params{K: "1234567", P: "9XyZ1", MN: "Daily News!", MD: "SM-G9910", MO: "0",
				M2: "8D3EBD3654FB46A2832296669CF1B536"},
		},
		{
			name:   "ViewabilityAndVideoLetters",
			uri:    "/x/k=1&p=2&vf=abc&vx=1&vh=60&vi=2&vk=1?vb=15.5&vc=25&vg=__AUTOPLAY__&vj=1100&vg=2",
			wantEP: macro.EndpointImpression,
			want: macro.Params{K: "1", P: "2", VF: "abc", VX: "1", VH: "60", VI: "2", VK: "1",
				VB: "15.5", VC: "25", VG: "2", VJ: "1100"},
		},
		{
			name:   "QueryFormKeepsQuestionMarkInValue",
			uri:    "/x?k=1&p=2&tr=a?b",
			wantEP: macro.EndpointImpression,
			want:   macro.Params{K: "1", P: "2", TR: "a?b"},
		},
		{
			name:   "PathThenQueryMerged",
			uri:    "/x/k=1234567&p=9XyZ1?mo=1&m5=6D92078A-8246-4BA4-AE5B-76104861E7DC&k=666",
			wantEP: macro.EndpointImpression,
			want:   macro.Params{K: "1234567", P: "9XyZ1", MO: "1", M5: "6D92078A-8246-4BA4-AE5B-76104861E7DC"},
		},
		{
			name:   "EmptyPathThenQuery",
			uri:    "/x/?k=1&p=2",
			wantEP: macro.EndpointImpression,
			want:   macro.Params{K: "1", P: "2"},
		},
		{
			name:   "PathRedirectSwallowsQuery",
			uri:    "/r/k=1&p=2&o=https://a.example/?x=1&y=2?z=3",
			wantEP: macro.EndpointClick,
			want:   macro.Params{K: "1", P: "2", O: "https://a.example/?x=1&y=2?z=3"},
		},
		{
			name:   "QueryClick",
			uri:    "/r?k=1&p=2&mo=0&o=https%3A%2F%2Fa.example%2F%3Fq%3Dx%2By",
			wantEP: macro.EndpointClick,
			want:   macro.Params{K: "1", P: "2", MO: "0", O: "https%3A%2F%2Fa.example%2F%3Fq%3Dx%2By"},
		},
		{
			name:   "RedirectAfterQueryInMixedForm",
			uri:    "/r/k=1&p=2?mo=0&o=http://a.example/#frag",
			wantEP: macro.EndpointClick,
			want:   macro.Params{K: "1", P: "2", MO: "0", O: "http://a.example/#frag"},
		},
		{
			name:    "ParamsAfterRedirectBelongToIt",
			uri:     "/r/k=1&o=http://a.example/&p=2",
			wantEP:  macro.EndpointClick,
			want:    macro.Params{K: "1", O: "http://a.example/&p=2"},
			wantErr: macro.ErrNoPlacement,
		},
		{
			name:   "EmptyRedirect",
			uri:    "/r/k=1&p=2&o=",
			wantEP: macro.EndpointClick,
			want:   macro.Params{K: "1", P: "2"},
		},
		{
			name:   "UnreplacedRedirectMacro",
			uri:    "/r/k=1&p=2&o=__CLICK_URL__",
			wantEP: macro.EndpointClick,
			want:   macro.Params{K: "1", P: "2"},
		},
		{
			name:   "GifPaths",
			uri:    "/x.gif?k=1&p=2&mw=0",
			wantEP: macro.EndpointImpression,
			want:   macro.Params{K: "1", P: "2", MW: "0"},
		},
		{
			name:   "AbsoluteForm",
			uri:    "https://g.cn.miaozhen.com/x/k=1&p=2&mo=1",
			wantEP: macro.EndpointImpression,
			want:   macro.Params{K: "1", P: "2", MO: "1"},
		},
		{
			name: "EveryMacroFamilyIsAbsent",
			uri: "/x/k=1&p=2&m5=__IDFA__&m5a={IDFV}&m2={{IMEI}}&m6a=[M_MAC]&ns=%%IP%%&mo=%OS%&m11=${OAID}" +
				"&m1a=__ANDROIDID__&m4=__aaid__&m14={caid}&mt=__TS__&tr=__REQUESTID__&vf={0}",
			wantEP: macro.EndpointImpression,
			want:   macro.Params{K: "1", P: "2", TimeMacro: true},
		},
		{
			name: "EncodedMacrosAreAbsent",
			uri: "/x/k=1&p=2&m6a=%5BM_MAC%5D&m5=%7BIDFA%7D&m2=%7B%7BIMEI%7D%7D&ns=%25%25IP%25%25&m11=%24%7BOAID%7D" +
				"&m5a=%257BIDFV%257D&mo=%255F%255FOS%255F%255F&m1a=%5f%5fANDROIDID%5f%5f",
			wantEP: macro.EndpointImpression,
			want:   macro.Params{K: "1", P: "2"},
		},
		{
			name:    "MacroCampaignIsMissing",
			uri:     "/x/k=__CAMPAIGN__&p=2",
			wantEP:  macro.EndpointImpression,
			want:    macro.Params{P: "2"},
			wantErr: macro.ErrNoCampaign,
		},
		{
			name:   "JSONIsNotAMacro",
			uri:    `/x/k=1&p=2&svl={"l1":1,"l2":0}&vf=[1,2]`,
			wantEP: macro.EndpointImpression,
			want:   macro.Params{K: "1", P: "2", SVL: `{"l1":1,"l2":0}`, VF: "[1,2]"},
		},
		{
			name:   "ValueContainingMacroIsKept",
			uri:    "/x/k=1&p=2&tr=req-__REQUESTID__",
			wantEP: macro.EndpointImpression,
			want:   macro.Params{K: "1", P: "2", TR: "req-__REQUESTID__"},
		},
		{
			name:   "FirstPresentDuplicateWins",
			uri:    "/x/k=1&p=2&m2=__IMEI__&m2=&m2=aaaa&m2=bbbb&p=3",
			wantEP: macro.EndpointImpression,
			want:   macro.Params{K: "1", P: "2", M2: "aaaa"},
		},
		{
			name:   "InvalidEscapeKeptRaw",
			uri:    "/x/k=1&p=2&mn=100%zz+off&md=50%",
			wantEP: macro.EndpointImpression,
			want:   macro.Params{K: "1", P: "2", MN: "100%zz+off", MD: "50%"},
		},
		{
			name:   "OverlongValueDropped",
			uri:    "/x/k=1&p=2&mn=" + long + "&md=ok",
			wantEP: macro.EndpointImpression,
			want:   macro.Params{K: "1", P: "2", MD: "ok"},
		},
		{
			name:   "EmptyAndBareParamsSkipped",
			uri:    "/x/&&k=1&&=zz&m2&p=2&",
			wantEP: macro.EndpointImpression,
			want:   macro.Params{K: "1", P: "2"},
		},
		{
			name:   "KeysEndingInOAreNotTheRedirect",
			uri:    "/r/k=1&p=2&mo=0&vo=o=x&xo=y",
			wantEP: macro.EndpointClick,
			want:   macro.Params{K: "1", P: "2", MO: "0"},
		},
		{
			name:   "SignatureMacroIsUnsigned",
			uri:    "/x/k=1&p=2&mf=__SIGN__&mf=",
			wantEP: macro.EndpointImpression,
			want:   macro.Params{K: "1", P: "2"},
		},
		{
			name:    "UppercaseKeysAreUnknown",
			uri:     "/x/K=1&P=2",
			wantEP:  macro.EndpointImpression,
			wantErr: macro.ErrNoCampaign,
		},
		{
			name:    "NoPlacementKeepsRedirect",
			uri:     "/r/k=1&mo=1&o=https://a.example/",
			wantEP:  macro.EndpointClick,
			want:    macro.Params{K: "1", MO: "1", O: "https://a.example/"},
			wantErr: macro.ErrNoPlacement,
		},
		{name: "BareEndpoint", uri: "/x", wantEP: macro.EndpointImpression, wantErr: macro.ErrNoCampaign},
		{name: "BareGif", uri: "/r.gif", wantEP: macro.EndpointClick, wantErr: macro.ErrNoCampaign},
		{name: "Empty", uri: "", wantErr: macro.ErrNotMonitoringURL},
		{name: "Root", uri: "/", wantErr: macro.ErrNotMonitoringURL},
		{name: "OtherPath", uri: "/e.gif?k=1&p=2", wantErr: macro.ErrNotMonitoringURL},
		{name: "LongerPath", uri: "/xyz/k=1&p=2", wantErr: macro.ErrNotMonitoringURL},
		{name: "Relative", uri: "x/k=1&p=2", wantErr: macro.ErrNotMonitoringURL},
		{name: "AbsoluteNoPath", uri: "http://g.cn.miaozhen.com", wantErr: macro.ErrNotMonitoringURL},
		{name: "Garbage", uri: "\x00\xff%%%&&==??", wantErr: macro.ErrNotMonitoringURL},
		{name: "TooLong", uri: "/x/k=1&p=2&o=" + strings.Repeat("a", macro.MaxTargetLen), wantErr: macro.ErrTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ep, got, err := macro.ParseTarget(tt.uri)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if ep != tt.wantEP {
				t.Errorf("endpoint = %v, want %v", ep, tt.wantEP)
			}
			diffParams(t, got, tt.want)
		})
	}
}

// diffParams reports every field of got that differs from want. Params
// redacts itself when formatted, so fields are compared one by one.
func diffParams(t *testing.T, got, want macro.Params) {
	t.Helper()
	g, w := reflect.ValueOf(got), reflect.ValueOf(want)
	for i := range g.NumField() {
		if gf, wf := g.Field(i).Interface(), w.Field(i).Interface(); gf != wf {
			t.Errorf("%s = %q, want %q", g.Type().Field(i).Name, gf, wf)
		}
	}
}

func TestParseMatchesParseTarget(t *testing.T) {
	for _, uri := range []string{androidImpression, iosClick, youkuLegacy, pcCaret, "/x?k=1&p=2&mo=1", "/r/k=1&p=2?mo=0&o=x?y"} {
		_, want, wantErr := macro.ParseTarget(uri)
		target := uri[3:]
		if strings.HasPrefix(uri, "/r.gif?") {
			target = uri[len("/r.gif?"):]
		}
		got, err := macro.Parse(target)
		if !errors.Is(err, wantErr) {
			t.Errorf("Parse(%.20q) err = %v, want %v", target, err, wantErr)
		}
		diffParams(t, got, want)
	}
	if _, err := macro.Parse(strings.Repeat("k=1&", macro.MaxTargetLen)); !errors.Is(err, macro.ErrTooLong) {
		t.Errorf("Parse(too long) err = %v", err)
	}
	if _, err := macro.Parse("k=1&p=2"); err != nil {
		t.Errorf("Parse(k=1&p=2) err = %v", err)
	}
}

func TestErrorsAreCoded(t *testing.T) {
	tests := map[error]string{
		macro.ErrNotMonitoringURL: admeter.EINVALID,
		macro.ErrNoCampaign:       admeter.EINVALID,
		macro.ErrNoPlacement:      admeter.EINVALID,
		macro.ErrTooLong:          admeter.ETOOLARGE,
	}
	for err, code := range tests {
		wrapped := fmt.Errorf("parse monitoring url: %w", err)
		if got := admeter.ErrorCode(wrapped); got != code {
			t.Errorf("ErrorCode(%v) = %s, want %s", err, got, code)
		}
		if !errors.Is(wrapped, err) {
			t.Errorf("errors.Is lost %v", err)
		}
	}
}

// TestParamsRedacted checks that no way of printing or logging a Params
// shows a raw identifier, the IP, the location or the redirect.
func TestParamsRedacted(t *testing.T) {
	_, p, err := macro.ParseTarget(androidImpression + "&m5=6D92078A-8246-4BA4-AE5B-76104861E7DC&o=https://secret.example/")
	if err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("hit", "params", p)
	slog.New(slog.NewTextHandler(&logged, nil)).Info("hit", "params", &p)
	out := fmt.Sprintf("%v %+v %#v %s", p, p, p, &p) + logged.String()
	for _, secret := range []string{"106.121.137.174", "8d3ebd3654fb46a2832296669cf1b536", "6D92078A", "39.904211", "secret.example", "1fe6b1f4"} {
		if strings.Contains(out, secret) {
			t.Errorf("output shows %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{"2299094", "8AGuD", "m2", "mm", "o", "mf"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestParseTargetAllocations(t *testing.T) {
	tests := []struct {
		name string
		uri  string
		max  float64
	}{
		// Nothing to decode: every value is a substring of the target.
		{"Click", iosClick[:strings.Index(iosClick, "&md=")] + "&o=https://a.example/?a=1&b=2", 0},
		// mn, md and svl need decoding: one allocation each.
		{"AndroidImpression", androidImpression, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := testing.AllocsPerRun(100, func() {
				if _, _, err := macro.ParseTarget(tt.uri); err != nil {
					t.Fatal(err)
				}
			})
			if got > tt.max {
				t.Errorf("allocs = %v, want ≤ %v", got, tt.max)
			}
		})
	}
}

func TestEndpointString(t *testing.T) {
	for ep, want := range map[macro.Endpoint]string{
		macro.EndpointUnknown: "unknown", macro.EndpointImpression: "impression", macro.EndpointClick: "click", 9: "unknown",
	} {
		if got := ep.String(); got != want {
			t.Errorf("Endpoint(%d).String() = %q, want %q", ep, got, want)
		}
	}
}
