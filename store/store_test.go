package store

import (
	"fmt"
	"testing"
	"time"

	"github.com/admeter/admeter"
)

// TestTimeSpanDays: the local days of a span, in zones ahead of and behind
// UTC and across a daylight-saving change.
func TestTimeSpanDays(t *testing.T) {
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	utc := func(s string) time.Time {
		u, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	for _, tc := range []struct {
		span TimeSpan
		loc  *time.Location
		want string
	}{
		{TimeSpan{}, time.UTC, "[]"},
		{TimeSpan{From: utc("2026-03-01T10:00:00Z"), To: utc("2026-03-01T10:00:00Z")}, nil, "[]"},
		{TimeSpan{From: utc("2026-03-02T10:00:00Z"), To: utc("2026-03-01T10:00:00Z")}, time.UTC, "[]"},
		{TimeSpan{From: utc("2026-03-01T10:00:00Z"), To: utc("2026-03-01T10:00:00Z")}, time.UTC, "[2026-03-01]"},
		{TimeSpan{From: utc("2026-02-28T16:00:00Z"), To: utc("2026-03-02T15:59:59.999Z")}, shanghai, "[2026-03-01 2026-03-02]"},
		{TimeSpan{From: utc("2026-02-28T15:59:59Z"), To: utc("2026-03-02T16:00:00Z")}, shanghai, "[2026-02-28 2026-03-01 2026-03-02 2026-03-03]"},
		{TimeSpan{From: utc("2026-03-08T04:00:00Z"), To: utc("2026-03-09T03:59:00Z")}, ny, "[2026-03-07 2026-03-08]"},
	} {
		if got := fmt.Sprint(tc.span.Days(tc.loc)); got != tc.want {
			t.Errorf("%+v.Days(%v) = %s, want %s", tc.span, tc.loc, got, tc.want)
		}
	}
}

// TestTrafficFilter: the zero filter is valid traffic; names parse back;
// anything else is EINVALID.
func TestTrafficFilter(t *testing.T) {
	var zero TrafficFilter
	if zero != FilterValid || !zero.Valid() || TrafficFilter(2).Valid() {
		t.Fatal("the zero TrafficFilter must be FilterValid, and 2 invalid")
	}
	for _, tc := range []struct {
		in   string
		want TrafficFilter
		ok   bool
	}{
		{"", FilterValid, true},
		{"valid", FilterValid, true},
		{" All ", FilterAll, true},
		{"all", FilterAll, true},
		{"gross", FilterValid, false},
		{"invalid", FilterValid, false},
	} {
		got, err := ParseTrafficFilter(tc.in)
		if tc.ok != (err == nil) || got != tc.want {
			t.Errorf("ParseTrafficFilter(%q) = %v, %v; want %v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
		if !tc.ok && admeter.ErrorCode(err) != admeter.EINVALID {
			t.Errorf("ParseTrafficFilter(%q) error %v, want EINVALID", tc.in, err)
		}
	}
	for _, f := range []TrafficFilter{FilterValid, FilterAll} {
		if got, err := ParseTrafficFilter(f.String()); err != nil || got != f {
			t.Errorf("ParseTrafficFilter(%q) = %v, %v; want %v", f.String(), got, err, f)
		}
	}
	if s := TrafficFilter(9).String(); s != "unknown" {
		t.Errorf("TrafficFilter(9).String() = %q", s)
	}
}
