package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/admeter/admeter"
)

// TestEventsValid: every helper makes events a store accepts.
func TestEventsValid(t *testing.T) {
	at := utc("2026-03-02T10:00:00Z")
	evs := []admeter.Event{
		Imp(at), Click(at, User(1)), Served(at, VF(2)),
		Imp(at, User(3), VF(4), Tenant("t2"), Campaign("10000002"), Placement("p9"), Region("CN", "广东"),
			OS(admeter.OSIOS), Device(admeter.DeviceTablet), Received(at.Add(time.Second)), Details()),
		Imp(at, VF(1), View(admeter.ViewStarted), ViewThresholds(60, 2), Video(15*time.Second, admeter.PlayAuto), Quartiles(admeter.QuartileAll)),
		Viewed(at, admeter.ViewNotViewable, VF(1)), VideoPing(at, admeter.Progress50), Click(at, ClickID(1)),
		Conversion(at, 1, admeter.ConversionOrder, User(1), Value(1_500_000, "CNY")), Conversion(at, 2, "trial", ClickID(1)),
	}
	for i, e := range evs {
		if err := e.Validate(); err != nil {
			t.Errorf("event %d: %v", i, err)
		}
	}
	if UserID(1) == UserID(2) || UserID(1).IsZero() || UserID(1) == ImpressionID(1) || ClickIDOf(1) == UserID(1) || ConversionIDOf(1) == ClickIDOf(1) {
		t.Error("test pseudonyms collide")
	}
}

// TestGenerator: generated events are valid, reproducible from the seed,
// and have the advertised mix.
func TestGenerator(t *testing.T) {
	cfg := GenConfig{Campaigns: 2, Placements: 3, Users: 1000, Start: utc("2026-03-01T00:00:00Z"), Step: time.Second}
	a, b := make([]admeter.Event, 5000), make([]admeter.Event, 5000)
	NewGenerator(7, cfg).Fill(a)
	NewGenerator(7, cfg).Fill(b)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same seed gave different events")
	}
	kinds := map[admeter.Kind]int{}
	var anon, vf int
	for i, e := range a {
		if err := e.Validate(); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if want := cfg.Start.Add(time.Duration(i) * time.Second); !e.At.Equal(want) {
			t.Fatalf("event %d at %s, want %s", i, e.At, want)
		}
		kinds[e.Kind]++
		if e.User.IsZero() {
			anon++
		}
		if !e.ImpressionID.IsZero() {
			vf++
		}
	}
	if kinds[admeter.KindImpression] < 4000 || kinds[admeter.KindClick] < 150 || kinds[admeter.KindServed] < 150 || anon < 300 || anon > 700 || vf < 3200 || vf > 3800 {
		t.Errorf("mix: kinds %v, %d anonymous, %d with an impression id", kinds, anon, vf)
	}
}
