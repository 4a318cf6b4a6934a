package workday_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/admeter/admeter/workday"
)

// day parses YYYY-MM-DD as midnight in China Standard Time.
func day(t testing.TB, s string) time.Time {
	t.Helper()
	d, err := time.ParseInLocation("2006-01-02", s, workday.Location())
	if err != nil {
		t.Fatalf("bad test date %q: %v", s, err)
	}
	return d
}

// writeFile writes data to dir/name and returns the path.
func writeFile(t testing.TB, dir, name, data string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// test2027 is a made-up file for tests of Load only. It is NOT the 2027
// arrangement, which has not been published.
const test2027 = `{
 "year": 2027,
 "source": "test fixture, not an official notice",
 "days_off": [{"date": "2027-01-01", "name": "元旦"}],
 "working_weekend_days": [{"date": "2027-02-06", "name": "test working Saturday"}]
}`

func TestEmbeddedYears(t *testing.T) {
	c := workday.Embedded()
	if got, want := c.Years(), []int{2026}; !reflect.DeepEqual(got, want) {
		t.Errorf("Years() = %v, want %v", got, want)
	}
	for _, tc := range []struct {
		year int
		want bool
	}{{2025, false}, {2026, true}, {2027, false}} {
		if got := c.Covers(tc.year); got != tc.want {
			t.Errorf("Covers(%d) = %v, want %v", tc.year, got, tc.want)
		}
	}
	if src := c.Source(2026); !strings.Contains(src, "国务院办公厅关于2026年部分节假日安排的通知") {
		t.Errorf("Source(2026) = %q, want the State Council notice", src)
	}
	// The embedded file must be byte-identical to data/ on disk (go:embed
	// guarantees it) and parse on its own.
	data, err := os.ReadFile("data/cn-2026.json")
	if err != nil {
		t.Fatal(err)
	}
	y, err := workday.Parse(data)
	if err != nil {
		t.Fatalf("Parse(data/cn-2026.json): %v", err)
	}
	if len(y.DaysOff) != 33 || len(y.WorkingWeekendDays) != 6 {
		t.Errorf("2026: %d days off, %d working weekend days; want 33 and 6", len(y.DaysOff), len(y.WorkingWeekendDays))
	}
}

func TestIsWorkingDay2026(t *testing.T) {
	c := workday.Embedded()
	for _, tc := range []struct {
		date string
		want bool
		why  string
	}{
		{"2026-01-01", false, "元旦, Thursday"},
		{"2026-01-03", false, "元旦, Saturday"},
		{"2026-01-04", true, "Sunday, 元旦调休上班"},
		{"2026-01-05", true, "plain Monday"},
		{"2026-01-10", false, "plain Saturday"},
		{"2026-02-13", true, "Friday before 春节"},
		{"2026-02-14", true, "Saturday, 春节调休上班"},
		{"2026-02-16", false, "春节, Monday"},
		{"2026-02-23", false, "春节, last day, Monday"},
		{"2026-02-24", true, "Tuesday after 春节"},
		{"2026-02-28", true, "Saturday, 春节调休上班"},
		{"2026-04-06", false, "清明节, Monday"},
		{"2026-05-01", false, "劳动节, Friday"},
		{"2026-05-05", false, "劳动节, Tuesday"},
		{"2026-05-09", true, "Saturday, 劳动节调休上班"},
		{"2026-06-19", false, "端午节, Friday"},
		{"2026-09-20", true, "Sunday, 国庆节调休上班"},
		{"2026-09-25", false, "中秋节, Friday"},
		{"2026-10-05", false, "国庆节, Monday"},
		{"2026-10-07", false, "国庆节, Wednesday"},
		{"2026-10-08", true, "Thursday after 国庆节"},
		{"2026-10-10", true, "Saturday, 国庆节调休上班"},
		{"2026-10-11", false, "plain Sunday"},
		{"2026-12-31", true, "Thursday"},
		{"2027-01-01", true, "Friday, no 2027 data: Monday–Friday fallback"},
		{"2027-01-02", false, "Saturday, no 2027 data"},
		{"2025-10-01", true, "Wednesday, no 2025 data: fallback"},
	} {
		if got := c.IsWorkingDay(day(t, tc.date)); got != tc.want {
			t.Errorf("IsWorkingDay(%s) = %v, want %v (%s)", tc.date, got, tc.want, tc.why)
		}
	}
}

// TestIsWorkingDayUsesGivenDate checks that only the date in the time's own
// location counts: 2026-10-07 20:00 UTC is 2026-10-08 04:00 in China.
func TestIsWorkingDayUsesGivenDate(t *testing.T) {
	c := workday.Embedded()
	instant := time.Date(2026, 10, 7, 20, 0, 0, 0, time.UTC)
	if c.IsWorkingDay(instant) {
		t.Error("IsWorkingDay(2026-10-07 20:00 UTC) = true; want false (the UTC date is a holiday)")
	}
	if !c.IsWorkingDay(instant.In(workday.Location())) {
		t.Error("IsWorkingDay(2026-10-08 04:00 CST) = false; want true")
	}
}

// TestWorkingDays2026 counts the year by hand: 2026 has 261 weekdays, 19 of
// them are holidays (元旦 2, 春节 6, 清明 1, 劳动节 3, 端午 1, 中秋 1, 国庆 5), and
// 6 weekend days are worked: 261 − 19 + 6 = 248.
func TestWorkingDays2026(t *testing.T) {
	c := workday.Embedded()
	if got := c.WorkingDaysBetween(day(t, "2025-12-31"), day(t, "2026-12-31")); got != 248 {
		t.Errorf("working days in 2026 = %d, want 248", got)
	}
}

func TestAddWorkingDays(t *testing.T) {
	c := workday.Embedded()
	for _, tc := range []struct {
		name     string
		received string
		n        int
		want     string
		covered  bool
	}{
		// 9-29 1, 9-30 2, (10-01..07 国庆), 10-08 3, 10-09 4, 10-10 Sat 调休 5,
		// 10-12..16 6–10, 10-19..23 11–15.
		{"across 国庆节", "2026-09-28", 15, "2026-10-23", true},
		// 2-13 1, 2-14 Sat 调休 2, (2-15..23 春节), 2-24..27 3–6, 2-28 Sat 调休 7,
		// 3-02..06 8–12, 3-09..11 13–15.
		{"across 春节", "2026-02-12", 15, "2026-03-11", true},
		// (5-02..05 劳动节), 5-06..08 1–3, 5-09 Sat 调休 4, 5-11..15 5–9,
		// 5-18..22 10–14, 5-25 15.
		{"received on a holiday", "2026-05-01", 15, "2026-05-25", true},
		// Received on a working Saturday: that day does not count either.
		{"received on 调休 Saturday", "2026-10-10", 1, "2026-10-12", true},
		{"received on plain Sunday", "2026-10-11", 1, "2026-10-12", true},
		{"next day", "2026-10-12", 1, "2026-10-13", true},
		{"n = 0 is the day itself", "2026-10-05", 0, "2026-10-05", true},
		// 12-22..25 1–4, 12-28..31 5–8, then 2027 without data, Monday–Friday:
		// 1-01 9, 1-04..08 10–14, 1-11 15. Not covered: 1-01 is surely 元旦.
		{"into a year without data", "2026-12-21", 15, "2027-01-11", false},
		{"year without data", "2027-03-01", 15, "2027-03-22", false},
		// Backwards: the 3rd working day before 10-12 is 10-08
		// (10-10 调休, 10-09, 10-08).
		{"backwards across 国庆节", "2026-10-12", -3, "2026-10-08", true},
		{"backwards across 春节", "2026-02-24", -1, "2026-02-14", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Received in the afternoon: the time of day must not matter.
			recv := day(t, tc.received).Add(15*time.Hour + 4*time.Minute)
			got := c.AddWorkingDays(recv, tc.n)
			want := day(t, tc.want)
			if !got.Equal(want) || got.Location() != workday.Location() {
				t.Errorf("AddWorkingDays(%s, %d) = %v, want %v", tc.received, tc.n, got, want)
			}
			if cov := c.CoversSpan(recv, got); cov != tc.covered {
				t.Errorf("CoversSpan(%s, %s) = %v, want %v", tc.received, tc.want, cov, tc.covered)
			}
			if tc.n > 0 {
				if between := c.WorkingDaysBetween(recv, got); between != tc.n {
					t.Errorf("WorkingDaysBetween(%s, %s) = %d, want %d", tc.received, tc.want, between, tc.n)
				}
			}
		})
	}
}

// TestAddWorkingDaysKeepsLocation checks the result is midnight in the
// caller's location, on the calendar date computed from the caller's date.
func TestAddWorkingDaysKeepsLocation(t *testing.T) {
	c := workday.Embedded()
	loc := time.FixedZone("UTC-5", -5*60*60)
	got := c.AddWorkingDays(time.Date(2026, 9, 28, 23, 0, 0, 0, loc), 15)
	if want := time.Date(2026, 10, 23, 0, 0, 0, 0, loc); !got.Equal(want) || got.Location() != loc {
		t.Errorf("AddWorkingDays = %v, want %v", got, want)
	}
}

// TestAddWorkingDaysProperties checks, for every day of 2026 and 2027 and
// every n up to 30, that the result is a working day, that exactly n working
// days lie between, and that results increase with n.
func TestAddWorkingDaysProperties(t *testing.T) {
	c := workday.Embedded()
	start := day(t, "2026-01-01")
	for d := start; d.Year() < 2028; d = d.AddDate(0, 0, 1) {
		prev := d
		for n := 1; n <= 30; n++ {
			got := c.AddWorkingDays(d, n)
			if !c.IsWorkingDay(got) || !got.After(prev) || c.WorkingDaysBetween(d, got) != n ||
				c.WorkingDaysBetween(got, d) != -n {
				t.Fatalf("AddWorkingDays(%s, %d) = %s: not the n-th working day after", d.Format(time.DateOnly), n, got.Format(time.DateOnly))
			}
			// Going back n working days lands on d if d is a working day,
			// else on the last working day before d.
			back := c.AddWorkingDays(got, -n)
			if !c.IsWorkingDay(back) || back.After(d) || c.WorkingDaysBetween(back, d) != 0 {
				t.Fatalf("AddWorkingDays(%s, %d) = %s, want the last working day on or before %s",
					got.Format(time.DateOnly), -n, back.Format(time.DateOnly), d.Format(time.DateOnly))
			}
			prev = got
		}
	}
}

func TestWorkingDaysBetween(t *testing.T) {
	c := workday.Embedded()
	for _, tc := range []struct {
		from, to string
		want     int
	}{
		{"2026-09-28", "2026-10-23", 15},
		{"2026-10-23", "2026-09-28", -15},
		{"2026-10-23", "2026-10-23", 0},
		{"2026-10-05", "2026-10-05", 0},
		{"2026-09-30", "2026-10-07", 0},  // all of 国庆节
		{"2026-10-07", "2026-09-30", 0},  // and back
		{"2026-09-30", "2026-10-08", 1},  // first day back
		{"2026-10-08", "2026-09-30", -1}, // overdue by one working day
		{"2026-10-09", "2026-10-11", 1},  // Sat 10-10 调休 counts, Sun does not
		{"2026-10-11", "2026-10-09", -1},
		{"2026-02-13", "2026-02-24", 2}, // 2-14 调休, 2-24
		{"2026-02-24", "2026-02-13", -2},
		{"2026-12-31", "2027-01-04", 2}, // 2027 fallback: 1-01 Fri, 1-04 Mon
		{"2027-01-04", "2026-12-31", -2},
	} {
		got := c.WorkingDaysBetween(day(t, tc.from), day(t, tc.to))
		if got != tc.want {
			t.Errorf("WorkingDaysBetween(%s, %s) = %d, want %d", tc.from, tc.to, got, tc.want)
		}
	}
}

// TestNilCalendar checks a nil calendar falls back to Monday–Friday everywhere.
func TestNilCalendar(t *testing.T) {
	var c *workday.Calendar
	if c.Covers(2026) || c.Years() != nil || c.Source(2026) != "" {
		t.Error("nil calendar claims data")
	}
	if c.IsWorkingDay(day(t, "2026-10-05")) != true || c.IsWorkingDay(day(t, "2026-10-10")) != false {
		t.Error("nil calendar is not Monday–Friday")
	}
	if got := c.AddWorkingDays(day(t, "2026-09-28"), 15); !got.Equal(day(t, "2026-10-19")) {
		t.Errorf("nil AddWorkingDays(2026-09-28, 15) = %v, want 2026-10-19", got)
	}
}

func TestLoad(t *testing.T) {
	t.Run("no paths is the embedded calendar", func(t *testing.T) {
		c, err := workday.Load()
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(c.Years(), []int{2026}) {
			t.Errorf("Years() = %v", c.Years())
		}
	})

	t.Run("operator file for 2027", func(t *testing.T) {
		p := writeFile(t, t.TempDir(), "cn-2027.json", test2027)
		before := workday.Embedded()
		c, err := workday.Load(p)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(c.Years(), []int{2026, 2027}) || !c.Covers(2027) {
			t.Errorf("Years() = %v, want [2026 2027]", c.Years())
		}
		if before.Covers(2027) || workday.Embedded().Covers(2027) {
			t.Error("Load changed the embedded calendar")
		}
		for _, tc := range []struct {
			date         string
			before, with bool
		}{
			{"2027-01-01", true, false},  // Friday, off in the file
			{"2027-02-06", false, true},  // Saturday, working in the file
			{"2027-02-08", true, true},   // plain Monday
			{"2026-10-10", true, true},   // 2026 still from the embedded data
			{"2026-10-05", false, false}, // likewise
		} {
			if got := before.IsWorkingDay(day(t, tc.date)); got != tc.before {
				t.Errorf("embedded IsWorkingDay(%s) = %v, want %v", tc.date, got, tc.before)
			}
			if got := c.IsWorkingDay(day(t, tc.date)); got != tc.with {
				t.Errorf("loaded IsWorkingDay(%s) = %v, want %v", tc.date, got, tc.with)
			}
		}
		// 12-22..31 1–8, (1-01 off in the file), 1-04..08 9–13, 1-11 14, 1-12 15.
		recv := day(t, "2026-12-21")
		got := c.AddWorkingDays(recv, 15)
		if !got.Equal(day(t, "2027-01-12")) || !c.CoversSpan(recv, got) {
			t.Errorf("AddWorkingDays(2026-12-21, 15) = %v (covered %v), want 2027-01-12, covered", got, c.CoversSpan(recv, got))
		}
	})

	t.Run("directory; operator 2026 replaces embedded 2026", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, dir, "cn-2027.json", test2027)
		writeFile(t, dir, "fix-2026.json", `{"year": 2026, "source": "test correction",
			"days_off": [{"date": "2026-10-01", "name": "国庆节"}], "working_weekend_days": []}`)
		writeFile(t, dir, "README.txt", "not json, ignored")
		if err := os.Mkdir(filepath.Join(dir, "old.json"), 0o700); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, "old.json"), "x.json", "not read: subdirectories are skipped")
		c, err := workday.Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(c.Years(), []int{2026, 2027}) {
			t.Errorf("Years() = %v, want [2026 2027]", c.Years())
		}
		if c.Source(2026) != "test correction" {
			t.Errorf("Source(2026) = %q, want the operator file's", c.Source(2026))
		}
		if c.IsWorkingDay(day(t, "2026-10-10")) || !c.IsWorkingDay(day(t, "2026-10-05")) || c.IsWorkingDay(day(t, "2026-10-01")) {
			t.Error("operator 2026 file did not replace the embedded 2026 data")
		}
	})

	t.Run("errors", func(t *testing.T) {
		dir := t.TempDir()
		bad := writeFile(t, dir, "bad.json", `{"year": 2027, "source": "s",
			"days_off": [{"date": "2027-01-01", "name": "元旦"}],
			"working_weekend_days": [{"date": "2027-02-08", "name": "x"}]}`)
		dupDir := t.TempDir()
		a := writeFile(t, dupDir, "a.json", test2027)
		b := writeFile(t, dupDir, "b.json", test2027)
		for _, tc := range []struct {
			name    string
			paths   []string
			invalid bool
			want    []string
		}{
			{"bad entry", []string{bad}, true, []string{bad, `working_weekend_days[0] "2027-02-08"`, "Monday"}},
			{"missing path", []string{filepath.Join(dir, "nope")}, false, []string{"nope"}},
			{"same year twice", []string{a, b}, false, []string{a, b, "2027"}},
			{"same year twice in a directory", []string{dupDir}, false, []string{a, b, "2027"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c, err := workday.Load(tc.paths...)
				if err == nil {
					t.Fatalf("Load(%v) = %v, want an error", tc.paths, c.Years())
				}
				if errors.Is(err, workday.ErrInvalid) != tc.invalid {
					t.Errorf("errors.Is(err, ErrInvalid) = %v, want %v: %v", !tc.invalid, tc.invalid, err)
				}
				for _, w := range tc.want {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not mention %q", err, w)
					}
				}
			})
		}
	})
}

func TestNew(t *testing.T) {
	y := workday.Year{Year: 2027, Source: "test", DaysOff: []workday.Day{{Date: "2027-01-01", Name: "元旦"}}}
	c, err := workday.New(y)
	if err != nil {
		t.Fatal(err)
	}
	if c.Covers(2026) || !c.Covers(2027) || c.IsWorkingDay(day(t, "2027-01-01")) {
		t.Error("New(2027) calendar is wrong")
	}
	if _, err := workday.New(y, y); err == nil {
		t.Error("New with the same year twice: no error")
	}
	y.DaysOff[0].Date = "2027-02-30"
	if _, err := workday.New(y); !errors.Is(err, workday.ErrInvalid) {
		t.Errorf("New with an invalid date: err = %v, want ErrInvalid", err)
	}
}

func BenchmarkAddWorkingDays(b *testing.B) {
	c := workday.Embedded()
	d := day(b, "2026-09-28")
	for b.Loop() {
		c.AddWorkingDays(d, 15)
	}
}
