package metajson_test

import (
	"reflect"
	"testing"

	"github.com/admeter/admeter/internal/metajson"
)

// TestCategories_Golden pins the stored form of a placement's categories:
// the stores' rows hold these bytes, so a change here needs a migration.
func TestCategories_Golden(t *testing.T) {
	for _, tt := range []struct {
		ids  []string
		want string
	}{
		{nil, `[]`},
		{[]string{}, `[]`},
		{[]string{"483", "JLBCU7"}, `["483","JLBCU7"]`},
	} {
		got, err := metajson.EncodeCategories(tt.ids)
		if err != nil || got != tt.want {
			t.Errorf("EncodeCategories(%#v) = %q, %v; want %q", tt.ids, got, err, tt.want)
		}
		back, err := metajson.DecodeCategories(got)
		if err != nil {
			t.Fatal(err)
		}
		want := tt.ids
		if len(want) == 0 {
			want = nil
		}
		if !reflect.DeepEqual(back, want) {
			t.Errorf("DecodeCategories(%q) = %#v, want %#v", got, back, want)
		}
	}
	for _, bad := range []string{``, `{}`, `[1]`, `"483"`} {
		if _, err := metajson.DecodeCategories(bad); err == nil {
			t.Errorf("DecodeCategories(%q) succeeded", bad)
		}
	}
}
