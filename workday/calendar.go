package workday

import (
	"embed"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// embedded holds the official years shipped with the binary, one file per
// year named cn-YYYY.json. Add next year's file here when its notice appears.
//
//go:embed data/*.json
var embedded embed.FS

// Calendar answers whether a day is a working day in mainland China and counts
// working days. It knows the years it was given holiday data for (see Years);
// any other year falls back to Monday–Friday, and Covers reports which is
// which. A Calendar is immutable and safe for concurrent use. A nil *Calendar
// has no holiday data: every year falls back to Monday–Friday.
type Calendar struct {
	years map[int]yearDays
}

// yearDays is one covered year, precomputed: working[i] says whether day
// i+1 of the year (time.Time.YearDay) is a working day.
type yearDays struct {
	source  string
	working []bool
}

// New returns a calendar with the given years. Each year must pass
// Year.Validate, and no year may be given twice.
func New(years ...Year) (*Calendar, error) {
	c := &Calendar{years: make(map[int]yearDays, len(years))}
	for _, y := range years {
		if err := y.Validate(); err != nil {
			return nil, fmt.Errorf("workday: year %d: %w", y.Year, err)
		}
		if _, dup := c.years[y.Year]; dup {
			return nil, fmt.Errorf("workday: year %d given twice; keep one", y.Year)
		}
		c.years[y.Year] = precompute(y)
	}
	return c, nil
}

// precompute turns a valid Year into its working-day table.
func precompute(y Year) yearDays {
	first := time.Date(y.Year, time.January, 1, 0, 0, 0, 0, time.UTC)
	n := time.Date(y.Year, time.December, 31, 0, 0, 0, 0, time.UTC).YearDay()
	working := make([]bool, n)
	for i := range working {
		working[i] = isWeekday(first.AddDate(0, 0, i))
	}
	set := func(days []Day, v bool) {
		for _, d := range days {
			t, _ := time.Parse(dateLayout, d.Date) // validated
			working[t.YearDay()-1] = v
		}
	}
	set(y.DaysOff, false)
	set(y.WorkingWeekendDays, true)
	return yearDays{source: y.Source, working: working}
}

// embeddedCalendar parses the embedded data once.
var embeddedCalendar = sync.OnceValues(func() (*Calendar, error) {
	years, err := readEmbedded()
	if err != nil {
		return nil, err
	}
	return New(years...)
})

// readEmbedded parses every embedded file and checks that each file's name
// matches the year inside it.
func readEmbedded() ([]Year, error) {
	names, err := embedded.ReadDir("data")
	if err != nil {
		return nil, fmt.Errorf("workday: read embedded data: %w", err)
	}
	var years []Year
	for _, e := range names {
		data, err := embedded.ReadFile("data/" + e.Name())
		if err != nil {
			return nil, fmt.Errorf("workday: read embedded %s: %w", e.Name(), err)
		}
		y, err := Parse(data)
		if err != nil {
			return nil, fmt.Errorf("workday: embedded %s: %w", e.Name(), err)
		}
		if want := fmt.Sprintf("cn-%d.json", y.Year); e.Name() != want {
			return nil, fmt.Errorf("workday: embedded %s holds year %d; name it %s", e.Name(), y.Year, want)
		}
		years = append(years, y)
	}
	return years, nil
}

// Embedded returns the calendar of the official years shipped in the binary
// (data/cn-YYYY.json). The embedded data is checked by this package's tests,
// so Embedded panics only if a broken file was embedded without running them.
func Embedded() *Calendar {
	c, err := embeddedCalendar()
	if err != nil {
		panic(err)
	}
	return c
}

// Load returns the embedded calendar plus the operators' holiday files. Each
// path is a file, or a directory whose *.json files (not subdirectories) are
// all read. An operator file for a year replaces the embedded data for that
// year; two operator files for the same year are an error. Every error names
// the file and, for bad data, the entry (see Parse). With no paths, Load
// returns the embedded years.
func Load(paths ...string) (*Calendar, error) {
	base, err := embeddedCalendar()
	if err != nil {
		return nil, err
	}
	var files []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("workday: holiday data %s: %w; fix the path or remove it from the configuration", p, err)
		}
		if !fi.IsDir() {
			files = append(files, p)
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			return nil, fmt.Errorf("workday: list holiday files in %s: %w", p, err)
		}
		for _, e := range entries { // sorted by name
			if !e.IsDir() && strings.HasSuffix(e.Name(), ".json") {
				files = append(files, filepath.Join(p, e.Name()))
			}
		}
	}

	c := &Calendar{years: make(map[int]yearDays, len(base.years)+len(files))}
	for y, d := range base.years {
		c.years[y] = d
	}
	from := make(map[int]string, len(files)) // year → operator file
	for _, f := range files {
		y, err := readFile(f)
		if err != nil {
			return nil, err
		}
		if prev, dup := from[y.Year]; dup {
			return nil, fmt.Errorf("workday: %s and %s both hold year %d; keep one", prev, f, y.Year)
		}
		from[y.Year] = f
		c.years[y.Year] = precompute(y)
	}
	return c, nil
}

// readFile reads and parses one operator file.
func readFile(path string) (Year, error) {
	f, err := os.Open(path)
	if err != nil {
		return Year{}, fmt.Errorf("workday: open holiday file: %w; check the path and its permissions", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return Year{}, fmt.Errorf("workday: read holiday file %s: %w", path, err)
	}
	y, err := Parse(data)
	if err != nil {
		return Year{}, fmt.Errorf("workday: holiday file %s: %w; fix the entry or remove the file", path, err)
	}
	return y, nil
}

// Years returns the years with holiday data, in ascending order.
func (c *Calendar) Years() []int {
	if c == nil {
		return nil
	}
	years := make([]int, 0, len(c.years))
	for y := range c.years {
		years = append(years, y)
	}
	slices.Sort(years)
	return years
}

// Covers reports whether the calendar has holiday data for year. For any other
// year the calendar falls back to Monday–Friday, which is wrong around public
// holidays; callers should flag results that depend on such a year.
func (c *Calendar) Covers(year int) bool {
	if c == nil {
		return false
	}
	_, ok := c.years[year]
	return ok
}

// CoversSpan reports whether the calendar has holiday data for every year from
// the year of a to the year of b (in either order), i.e. whether a count or a
// due date computed between a and b used official data throughout. Years are
// taken from each time's own location.
func (c *Calendar) CoversSpan(a, b time.Time) bool {
	ya, yb := a.Year(), b.Year()
	if ya > yb {
		ya, yb = yb, ya
	}
	for y := ya; y <= yb; y++ {
		if !c.Covers(y) {
			return false
		}
	}
	return true
}

// Source returns the source recorded for year's data (the notice it comes
// from), or "" if the year is not covered.
func (c *Calendar) Source(year int) string {
	if c == nil {
		return ""
	}
	return c.years[year].source
}

// IsWorkingDay reports whether the day of d is a working day. Only d's
// year, month and day in d's own location are used, so pass d in China's time
// zone (see Location). In a year without data it is true Monday–Friday.
func (c *Calendar) IsWorkingDay(d time.Time) bool {
	y, m, day := d.Date()
	return c.isWorking(time.Date(y, m, day, 0, 0, 0, 0, time.UTC))
}

// isWorking reports whether the day of the UTC-midnight time t is a working
// day.
func (c *Calendar) isWorking(t time.Time) bool {
	if c != nil {
		if yd, ok := c.years[t.Year()]; ok {
			return yd.working[t.YearDay()-1]
		}
	}
	return isWeekday(t)
}

// isWeekday reports whether t falls on Monday–Friday.
func isWeekday(t time.Time) bool {
	wd := t.Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

// AddWorkingDays returns the n-th working day after the day of d, at midnight
// in d's location. The day of d itself never counts, whether or not it is a
// working day: a request received on any day of a holiday and given 15
// working days is due on the 15th working day after that day. A negative n
// gives the |n|-th working day before the day of d; n == 0 gives the day of d.
// For n > 0, WorkingDaysBetween(d, AddWorkingDays(d, n)) == n. The due date
// is a whole day: the deadline is the end of that day. Whether official data
// was used is CoversSpan(d, result). Time is linear in the number of calendar
// days stepped over.
func (c *Calendar) AddWorkingDays(d time.Time, n int) time.Time {
	y, m, day := d.Date()
	t := time.Date(y, m, day, 0, 0, 0, 0, time.UTC)
	step := 1
	if n < 0 {
		step, n = -1, -n
	}
	for n > 0 {
		t = t.AddDate(0, 0, step)
		if c.isWorking(t) {
			n--
		}
	}
	y, m, day = t.Date()
	return time.Date(y, m, day, 0, 0, 0, 0, d.Location())
}

// WorkingDaysBetween counts the working days after the day of from, up to and
// including the day of to. If to's day is before from's day it returns minus
// the count the other way round, so WorkingDaysBetween(today, due) is the
// number of working days left, and is negative (minus the working days
// overdue) once due has passed. Days are taken in each time's own location.
func (c *Calendar) WorkingDaysBetween(from, to time.Time) int {
	fy, fm, fd := from.Date()
	ty, tm, td := to.Date()
	a := time.Date(fy, fm, fd, 0, 0, 0, 0, time.UTC)
	b := time.Date(ty, tm, td, 0, 0, 0, 0, time.UTC)
	sign := 1
	if b.Before(a) {
		a, b, sign = b, a, -1
	}
	n := 0
	for t := a.AddDate(0, 0, 1); !t.After(b); t = t.AddDate(0, 0, 1) {
		if c.isWorking(t) {
			n++
		}
	}
	return sign * n
}

// Location returns the time zone the calendar's days are defined in: China
// Standard Time, UTC+8 (Asia/Shanghai, which has had no daylight saving time
// since 1991). It is a fixed zone, so it works without the system's tz
// database. Convert instants with t.In(Location()) before asking about days.
func Location() *time.Location {
	return chinaStandardTime
}

// chinaStandardTime is China Standard Time, UTC+8.
var chinaStandardTime = time.FixedZone("CST", 8*60*60)
