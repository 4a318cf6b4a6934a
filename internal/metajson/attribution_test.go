package metajson_test

import (
	"reflect"
	"testing"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/internal/metajson"
)

// TestAttribution_Golden pins the stored form: the stores' rows hold these
// bytes, so a change here needs a migration.
func TestAttribution_Golden(t *testing.T) {
	for _, tt := range []struct {
		name string
		a    admeter.Attribution
		doc  string
	}{
		{"Zero", admeter.Attribution{}, `{}`},
		{"EmptyRules", admeter.Attribution{ByType: map[string]admeter.AttributionRule{}}, `{}`},
		{"Full", admeter.Attribution{
			Default:      &admeter.AttributionRule{ClickWindowDays: 7, ViewWindowDays: 0},
			ByType:       map[string]admeter.AttributionRule{"order": {ClickWindowDays: 30}, "lead": {ViewWindowDays: 90}},
			ClickIDParam: "admeter_click_id",
		}, `{"default":{"click_days":7,"view_days":0},"by_type":{"lead":{"click_days":0,"view_days":90},"order":{"click_days":30,"view_days":0}},"click_id_param":"admeter_click_id"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := metajson.EncodeAttribution(tt.a)
			if err != nil {
				t.Fatal(err)
			} else if doc != tt.doc {
				t.Fatalf("EncodeAttribution() = %s, want %s", doc, tt.doc)
			}
			got, err := metajson.DecodeAttribution(doc)
			if err != nil {
				t.Fatal(err)
			}
			want := tt.a
			if len(want.ByType) == 0 {
				want.ByType = nil
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("DecodeAttribution(%s) = %+v, want %+v", doc, got, want)
			}
		})
	}
	if _, err := metajson.DecodeAttribution(`[]`); err == nil {
		t.Fatal("DecodeAttribution([]) succeeded")
	}
}
