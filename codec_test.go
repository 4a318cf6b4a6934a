package admeter_test

import (
	"errors"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/admeter/admeter"
)

func sampleEvent() admeter.Event {
	area, _ := admeter.AreaOf(39.904211, 116.407395)
	return admeter.Event{
		Kind:         admeter.KindImpression,
		Tenant:       "t_abc",
		Campaign:     "12345678",
		Placement:    "p9Xa2",
		At:           time.UnixMilli(1_790_000_000_123).UTC(),
		Received:     time.UnixMilli(1_790_000_000_456).UTC(),
		Flags:        admeter.FlagSigned,
		User:         admeter.Pseudonym{1, 2, 3},
		UserType:     admeter.IDOAID,
		KeyVersion:   3,
		ImpressionID: admeter.Pseudonym{9},
		OS:           admeter.OSAndroid,
		OSVersion:    "14",
		DeviceType:   admeter.DevicePhone,
		Browser:      "Chrome",
		Model:        "SM-G9910",
		Network:      admeter.NetworkWiFi,
		App:          "新闻",
		AppPackage:   "com.example.news",
		Net:          admeter.BlockOf(netip.MustParseAddr("203.0.113.77")),
		Region:       admeter.Region{Country: "CN", Province: "北京", City: "北京"},
		Area:         area,
		Risk:         admeter.RiskRoot | admeter.RiskADB,
	}
}

func TestEventBinaryRoundTrip(t *testing.T) {
	tests := map[string]func(*admeter.Event){
		"Full": func(*admeter.Event) {},
		"NoUser": func(e *admeter.Event) {
			e.User, e.UserType = admeter.Pseudonym{}, admeter.IDNone
		},
		"IPv6": func(e *admeter.Event) { e.Net = admeter.BlockOf(netip.MustParseAddr("2001:db8:1234:5678::1")) },
		"Empty": func(e *admeter.Event) {
			*e = admeter.Event{Kind: admeter.KindClick, Tenant: "t", Campaign: "1", Placement: "p",
				At: time.UnixMilli(5).UTC(), Received: time.UnixMilli(6).UTC()}
		},
	}
	for name, mod := range tests {
		t.Run(name, func(t *testing.T) {
			want := sampleEvent()
			mod(&want)
			b, err := want.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			var got admeter.Event
			if err := got.UnmarshalBinary(b); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestEventUnmarshalRejects(t *testing.T) {
	e := sampleEvent()
	good, _ := e.MarshalBinary()
	tests := map[string][]byte{
		"Empty":       nil,
		"BadVersion":  append([]byte{99}, good[1:]...),
		"Truncated":   good[:len(good)-3],
		"Trailing":    append(append([]byte{}, good...), 0),
		"UnknownKind": append([]byte{1, 77}, good[2:]...),
	}
	for name, b := range tests {
		t.Run(name, func(t *testing.T) {
			var got admeter.Event
			if err := got.UnmarshalBinary(b); !errors.Is(err, admeter.ErrBadEncoding) {
				t.Fatalf("err = %v, want ErrBadEncoding", err)
			}
		})
	}
}

func TestBlockOfTruncates(t *testing.T) {
	tests := []struct{ in, want string }{
		{"203.0.113.77", "203.0.113.0/24"},
		{"::ffff:203.0.113.77", "203.0.113.0/24"},
		{"2001:db8:1234:5678::1", "2001:db8:1234::/48"},
	}
	for _, tt := range tests {
		if got := admeter.BlockOf(netip.MustParseAddr(tt.in)).String(); got != tt.want {
			t.Errorf("BlockOf(%s) = %s, want %s", tt.in, got, tt.want)
		}
	}
	if !admeter.BlockOf(netip.Addr{}).IsZero() {
		t.Error("BlockOf(invalid) is not zero")
	}
}

func TestAreaOfCoarsens(t *testing.T) {
	a, ok := admeter.AreaOf(39.904211, 116.407395)
	if !ok || a.String() != "39.90,116.41" {
		t.Fatalf("AreaOf = %q, %v; want 39.90,116.41", a.String(), ok)
	}
	for _, bad := range [][2]float64{{91, 0}, {0, 181}, {-91, 0}} {
		if _, ok := admeter.AreaOf(bad[0], bad[1]); ok {
			t.Errorf("AreaOf(%v) accepted", bad)
		}
	}
}

func FuzzEventUnmarshal(f *testing.F) {
	e := sampleEvent()
	good, _ := e.MarshalBinary()
	f.Add(good)
	view := sampleEvent()
	view.Kind, view.View, view.VideoDuration, view.VideoQuartiles = admeter.KindViewability, admeter.ViewViewable, 15*time.Second, admeter.Quartile25
	conv := sampleEvent()
	conv.Kind, conv.Campaign, conv.Placement = admeter.KindConversion, "", ""
	conv.ConversionID, conv.ConversionType, conv.Value, conv.Currency, conv.ClickID = admeter.Pseudonym{3}, "order", 5_000_000, "CNY", admeter.Pseudonym{4}
	for _, e := range []admeter.Event{view, conv} {
		b, err := e.MarshalBinary()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{1})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		var got admeter.Event
		if err := got.UnmarshalBinary(b); err != nil {
			return
		}
		// Whatever decodes must encode and decode to the same event.
		again, err := got.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var back admeter.Event
		if err := back.UnmarshalBinary(again); err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if !reflect.DeepEqual(got, back) {
			t.Fatalf("unstable:\n%+v\n%+v", got, back)
		}
	})
}

func TestEventIVTCodec(t *testing.T) {
	e := sampleEvent()
	e.IVT = admeter.IVTCrawler | admeter.IVTDataCentre
	b, err := e.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var got admeter.Event
	if err := got.UnmarshalBinary(b); err != nil || got.IVT != e.IVT {
		t.Fatalf("round trip: %v, IVT %v", err, got.IVT)
	}
	// A version-1 record (logged before verdicts existed) reads as valid.
	e.IVT = 0
	b, _ = e.MarshalBinary()
	v1 := append([]byte{1}, b[1:len(b)-2]...)
	if err := got.UnmarshalBinary(v1); err != nil || got.IVT != 0 || got.Campaign != e.Campaign {
		t.Fatalf("version 1: %v, %+v", err, got)
	}
	// A version-2 record (before viewability and conversions) reads as a
	// plain event.
	v2 := append([]byte{2}, b[1:len(b)-1]...)
	if err := got.UnmarshalBinary(v2); err != nil || !reflect.DeepEqual(got, e) {
		t.Fatalf("version 2: %v, %+v", err, got)
	}
	// An unknown reason bit is refused.
	bad := append(append([]byte{}, b[:len(b)-2]...), 0x80, 0x80, 0x04, 0)
	if err := got.UnmarshalBinary(bad); err == nil {
		t.Fatal("accepted an unknown invalid-traffic reason")
	}
}

func TestEventGroupsCodec(t *testing.T) {
	tests := []struct {
		name string
		edit func(e *admeter.Event)
	}{
		{"viewability result", func(e *admeter.Event) {
			e.Kind, e.View, e.ViewArea, e.ViewSeconds, e.VideoQuartiles = admeter.KindViewability, admeter.ViewViewable, 80, 2, admeter.Quartile25|admeter.Quartile50
		}},
		{"video impression", func(e *admeter.Event) {
			e.View, e.VideoDuration, e.VideoPlay = admeter.ViewStarted, 15500*time.Millisecond, admeter.PlayAuto
		}},
		{"video progress", func(e *admeter.Event) {
			e.Kind, e.VideoProgress = admeter.KindVideo, admeter.Progress75
		}},
		{"click with click id", func(e *admeter.Event) {
			e.Kind, e.ClickID = admeter.KindClick, admeter.Pseudonym{7, 7}
		}},
		{"conversion", func(e *admeter.Event) {
			e.Kind, e.ConversionID, e.ConversionType, e.Value, e.Currency, e.ClickID = admeter.KindConversion, admeter.Pseudonym{5}, "order", 129_900_000, "CNY", admeter.Pseudonym{9}
			e.Campaign, e.Placement = "", ""
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := sampleEvent()
			tt.edit(&e)
			if err := e.Validate(); err != nil {
				t.Fatalf("sample does not validate: %v", err)
			}
			b, err := e.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			var got admeter.Event
			if err := got.UnmarshalBinary(b); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, e) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", got, e)
			}
		})
	}
}

func TestEventValidateGroups(t *testing.T) {
	tests := []struct {
		name string
		edit func(e *admeter.Event)
	}{
		{"viewability without result", func(e *admeter.Event) { e.Kind = admeter.KindViewability }},
		{"viewability started only", func(e *admeter.Event) { e.Kind, e.View = admeter.KindViewability, admeter.ViewStarted }},
		{"video without progress", func(e *admeter.Event) { e.Kind = admeter.KindVideo }},
		{"view result out of range", func(e *admeter.Event) { e.View = 9 }},
		{"area over 100", func(e *admeter.Event) { e.ViewArea = 101 }},
		{"quartile bit out of range", func(e *admeter.Event) { e.VideoQuartiles = 1 << 5 }},
		{"conversion without id", func(e *admeter.Event) { e.Kind, e.ConversionType = admeter.KindConversion, "order" }},
		{"conversion bad type", func(e *admeter.Event) {
			e.Kind, e.ConversionID, e.ConversionType = admeter.KindConversion, admeter.Pseudonym{1}, "Order!"
		}},
		{"conversion value without currency", func(e *admeter.Event) {
			e.Kind, e.ConversionID, e.ConversionType, e.Value = admeter.KindConversion, admeter.Pseudonym{1}, "order", 5
		}},
		{"conversion negative value", func(e *admeter.Event) {
			e.Kind, e.ConversionID, e.ConversionType, e.Value, e.Currency = admeter.KindConversion, admeter.Pseudonym{1}, "order", -5, "CNY"
		}},
		{"conversion fields on an impression", func(e *admeter.Event) { e.ConversionType = "order" }},
		{"conversion with a campaign", func(e *admeter.Event) {
			e.Kind, e.ConversionID, e.ConversionType = admeter.KindConversion, admeter.Pseudonym{1}, "order"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := sampleEvent()
			tt.edit(&e)
			if err := e.Validate(); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}
