package store

import (
	"fmt"
	"reflect"
	"strings"
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

// TestZoneOf: a zone's offsets over a range, with and without
// daylight-saving changes in it, for named and fixed zones.
func TestZoneOf(t *testing.T) {
	utc := func(s string) time.Time {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			panic(err)
		}
		return t
	}
	ny, _ := time.LoadLocation("America/New_York")
	sh, _ := time.LoadLocation("Asia/Shanghai")
	for _, tc := range []struct {
		loc      *time.Location
		from, to time.Time
		want     Zone
	}{
		{sh, utc("2026-01-01T00:00:00Z"), utc("2027-01-01T00:00:00Z"), Zone{Offsets: []int64{8 * 3600e3}}},
		{time.FixedZone("X", -90*60), utc("2026-01-01T00:00:00Z"), utc("2027-01-01T00:00:00Z"), Zone{Offsets: []int64{-90 * 60e3}}},
		{ny, utc("2026-01-01T00:00:00Z"), utc("2027-01-01T00:00:00Z"), Zone{
			Bounds:  []int64{utc("2026-03-08T07:00:00Z").UnixMilli(), utc("2026-11-01T06:00:00Z").UnixMilli()},
			Offsets: []int64{-5 * 3600e3, -4 * 3600e3, -5 * 3600e3}}},
		{ny, utc("2026-04-01T00:00:00Z"), utc("2026-11-01T06:00:00Z"), Zone{Offsets: []int64{-4 * 3600e3}}},
	} {
		if got := ZoneOf(tc.loc, tc.from, tc.to); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ZoneOf(%s, %s, %s) = %+v, want %+v", tc.loc, tc.from, tc.to, got, tc.want)
		}
	}
}

// TestCheckDimensions: known dimensions pass once each; unknown or
// repeated ones are EINVALID.
func TestCheckDimensions(t *testing.T) {
	for _, tc := range []struct {
		by   []Dimension
		want string
	}{
		{nil, ""},
		{[]Dimension{ByDay, ByPlacement}, ""},
		{[]Dimension{"colour"}, `unknown dimension "colour"`},
		{[]Dimension{ByDay, ByDay}, `dimension "day" is given twice`},
	} {
		err := CheckDimensions(tc.by)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("CheckDimensions(%v) = %v", tc.by, err)
		case tc.want != "" && (err == nil || admeter.ErrorCode(err) != admeter.EINVALID || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("CheckDimensions(%v) = %v, want EINVALID %q", tc.by, err, tc.want)
		}
	}
	if i, ok := DimensionOrder(Dimensions[2]); !ok || i != 2 {
		t.Errorf("DimensionOrder(%s) = %d, %v", Dimensions[2], i, ok)
	}
}

func TestParseDateRange(t *testing.T) {
	tests := []struct {
		from, to string
		max      int
		want     string // "" for ok, else part of the error
	}{
		{"2026-12-01", "2026-12-01", 1, ""},
		{"2026-12-01", "2026-12-31", 31, ""},
		{"2026-12-01", "2026-12-31", 30, "covers 31 days; at most 30"},
		{"", "2026-12-01", 10, "from and to are required"},
		{"2026-12-01", "", 10, "from and to are required"},
		{"2026-12-02", "2026-12-01", 10, "from 2026-12-02 is after to 2026-12-01"},
		{"12/01/2026", "2026-12-01", 10, "from: "},
		{"2026-12-01", "2026-13-01", 10, "to: "},
	}
	for _, tt := range tests {
		f, to, err := ParseDateRange(tt.from, tt.to, tt.max, "Asia/Shanghai")
		switch {
		case tt.want == "" && (err != nil || f.String() != tt.from || to.String() != tt.to):
			t.Errorf("ParseDateRange(%q, %q, %d) = %s, %s, %v", tt.from, tt.to, tt.max, f, to, err)
		case tt.want != "" && (err == nil || admeter.ErrorCode(err) != admeter.EINVALID || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("ParseDateRange(%q, %q, %d) error %v, want EINVALID with %q", tt.from, tt.to, tt.max, err, tt.want)
		}
	}
}
