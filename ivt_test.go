package admeter_test

import (
	"testing"

	"github.com/admeter/admeter"
)

func TestIVT(t *testing.T) {
	if !admeter.IVT(0).Valid() || admeter.IVT(0).String() != "valid" {
		t.Fatal("zero verdict")
	}
	v := admeter.IVTCrawler | admeter.IVTRiskyDevice
	if v.Valid() || v.String() != "crawler_ua+risky_device" {
		t.Fatalf("String = %q", v.String())
	}
	for _, r := range admeter.IVTReasons() {
		got, ok := admeter.ParseIVT(r.String())
		if !ok || got != r {
			t.Errorf("ParseIVT(%q) = %v, %v", r.String(), got, ok)
		}
	}
	if _, ok := admeter.ParseIVT("nope"); ok {
		t.Error("ParseIVT accepted an unknown code")
	}
	if len(admeter.IVTReasons()) != 14 {
		t.Errorf("%d reasons", len(admeter.IVTReasons()))
	}
	var general, sophisticated int
	for _, r := range admeter.IVTReasons() {
		switch {
		case r&admeter.GeneralIVT != 0 && r&admeter.SophisticatedIVT == 0:
			general++
		case r&admeter.SophisticatedIVT != 0 && r&admeter.GeneralIVT == 0:
			sophisticated++
		default:
			t.Errorf("%s is in both or neither of GeneralIVT and SophisticatedIVT", r)
		}
	}
	if general != 8 || sophisticated != 6 {
		t.Errorf("%d general and %d sophisticated reasons, want 8 and 6", general, sophisticated)
	}
}
