package workday_test

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/admeter/admeter/workday"
)

// minimal builds a file from its days_off and working_weekend_days JSON lists.
func minimal(off, working string) string {
	return `{"year": 2027, "source": "test", "days_off": ` + off + `, "working_weekend_days": ` + working + `}`
}

func TestParseValid(t *testing.T) {
	for _, tc := range []struct {
		name string
		data string
		want workday.Year
	}{
		{
			"minimal, no working weekend days",
			`{"year": 2027, "source": "s", "days_off": [{"date": "2027-01-01", "name": "元旦"}]}`,
			workday.Year{Year: 2027, Source: "s", DaysOff: []workday.Day{{Date: "2027-01-01", Name: "元旦"}}},
		},
		{
			"weekend day off is allowed; note kept",
			`{"note": "n", "year": 2027, "source": "s",
			  "days_off": [{"name": "元旦", "date": "2027-01-02"}],
			  "working_weekend_days": [{"date": "2027-01-03", "name": "Sunday"}, {"date": "2027-02-06", "name": "Saturday"}]}` + "\n",
			workday.Year{Year: 2027, Source: "s", Note: "n",
				DaysOff:            []workday.Day{{Date: "2027-01-02", Name: "元旦"}},
				WorkingWeekendDays: []workday.Day{{Date: "2027-01-03", Name: "Sunday"}, {Date: "2027-02-06", Name: "Saturday"}}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := workday.Parse([]byte(tc.data))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Parse = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParseInvalid(t *testing.T) {
	off := `[{"date": "2027-01-01", "name": "元旦"}]`
	for _, tc := range []struct {
		name string
		data string
		want string // part of the error message
	}{
		{"empty", ``, "not valid JSON"},
		{"not an object", `[]`, "not a JSON object"},
		{"broken JSON", `{"year": 2027,`, "not valid JSON"},
		{"trailing data", minimal(off, `[]`) + `{}`, "after the JSON object"},
		{"year missing", `{"source": "s", "days_off": ` + off + `}`, `"year" is missing`},
		{"year not a number", `{"year": "2027", "source": "s", "days_off": ` + off + `}`, `"year": not an integer`},
		{"year fractional", `{"year": 2027.5, "source": "s", "days_off": ` + off + `}`, `"year": not an integer`},
		{"year zero", `{"year": 0, "source": "s", "days_off": ` + off + `}`, "not a four-digit year"},
		{"year null", `{"year": null, "source": "s", "days_off": ` + off + `}`, "not a four-digit year"},
		{"source missing", `{"year": 2027, "days_off": ` + off + `}`, `"source" is missing`},
		{"source blank", `{"year": 2027, "source": " ", "days_off": ` + off + `}`, `"source" is missing`},
		{"source not a string", `{"year": 2027, "source": 1, "days_off": ` + off + `}`, `"source": not a string`},
		{"note not a string", `{"year": 2027, "source": "s", "note": [], "days_off": ` + off + `}`, `"note": not a string`},
		{"days_off missing", `{"year": 2027, "source": "s"}`, `"days_off" is missing or empty`},
		{"days_off empty", minimal(`[]`, `[]`), `"days_off" is missing or empty`},
		{"days_off not a list", minimal(`{}`, `[]`), `"days_off": not a list`},
		{"unknown top-level field", `{"year": 2027, "source": "s", "days_of": [], "days_off": ` + off + `}`, `unknown field "days_of"`},
		{"repeated top-level field", `{"year": 2027, "year": 2026, "source": "s", "days_off": ` + off + `}`, `field "year" appears twice`},
		{"entry not an object", minimal(`["2027-01-01"]`, `[]`), `days_off[0]: not a JSON object`},
		{"unknown entry field", minimal(`[{"date": "2027-01-01", "name": "元旦", "off": true}]`, `[]`), `days_off[0]: unknown field "off"`},
		{"repeated entry field", minimal(`[{"date": "2027-01-01", "date": "2027-01-02", "name": "元旦"}]`, `[]`), `days_off[0]: field "date" appears twice`},
		{"date not a string", minimal(`[{"date": 20270101, "name": "元旦"}]`, `[]`), `days_off[0]: "date": not a string`},
		{"date missing", minimal(`[{"name": "元旦"}]`, `[]`), `days_off[0] "": not a date in the form YYYY-MM-DD`},
		{"date without zero padding", minimal(`[{"date": "2027-1-01", "name": "元旦"}]`, `[]`), `days_off[0] "2027-1-01": not a date`},
		{"date with time", minimal(`[{"date": "2027-01-01T00:00:00Z", "name": "元旦"}]`, `[]`), `days_off[0] "2027-01-01T00:00:00Z": not a date`},
		{"date that does not exist", minimal(off, `[{"date": "2027-02-29", "name": "x"}]`), `working_weekend_days[0] "2027-02-29": not a date`},
		{"date in another year", minimal(`[{"date": "2027-01-01", "name": "元旦"}, {"date": "2026-12-31", "name": "x"}]`, `[]`), `days_off[1] "2026-12-31": not in the file's year 2027`},
		{"name missing", minimal(`[{"date": "2027-01-01"}]`, `[]`), `days_off[0] "2027-01-01": "name" is missing`},
		{"duplicate day off", minimal(`[{"date": "2027-01-01", "name": "a"}, {"date": "2027-01-01", "name": "b"}]`, `[]`), `days_off[1] "2027-01-01": listed twice in days_off`},
		{"duplicate working day", minimal(off, `[{"date": "2027-02-06", "name": "a"}, {"date": "2027-02-06", "name": "b"}]`), `working_weekend_days[1] "2027-02-06": listed twice`},
		{"both off and working", minimal(`[{"date": "2027-01-02", "name": "元旦"}]`, `[{"date": "2027-01-02", "name": "x"}]`), `working_weekend_days[0] "2027-01-02": also listed in days_off`},
		{"working weekday", minimal(off, `[{"date": "2027-02-08", "name": "x"}]`), `working_weekend_days[0] "2027-02-08": a Monday`},
		{"too big", `{"note": "` + strings.Repeat("x", workday.MaxFileSize) + `"}`, "more than the"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			y, err := workday.Parse([]byte(tc.data))
			if err == nil {
				t.Fatalf("Parse = %+v, want an error containing %q", y, tc.want)
			}
			if !errors.Is(err, workday.ErrInvalid) {
				t.Errorf("error does not wrap ErrInvalid: %v", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

// FuzzParse checks that Parse never panics and that whatever it accepts is a
// consistent year: it builds a calendar that agrees with every entry, and it
// round-trips through its JSON form.
func FuzzParse(f *testing.F) {
	real2026, err := os.ReadFile("data/cn-2026.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(real2026)
	f.Add([]byte(test2027))
	f.Add([]byte(minimal(`[{"date": "2027-01-01", "name": "元旦"}]`, `[{"date": "2027-01-02", "name": "x"}]`)))
	f.Add([]byte(`{"year": 2027, "year": 1}`))
	f.Add([]byte(`{"year": 2027, "source": "s", "days_off": [{"date": "2027-02-29", "name": "x"}]}`))
	f.Add([]byte(`{"year": 2027} []`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		y, err := workday.Parse(data)
		if err != nil {
			if !errors.Is(err, workday.ErrInvalid) {
				t.Fatalf("error does not wrap ErrInvalid: %v", err)
			}
			return
		}
		if err := y.Validate(); err != nil {
			t.Fatalf("Parse accepted a year that Validate rejects: %v", err)
		}
		c, err := workday.New(y)
		if err != nil {
			t.Fatalf("New rejected a parsed year: %v", err)
		}
		for _, d := range y.DaysOff {
			if c.IsWorkingDay(day(t, d.Date)) {
				t.Fatalf("day off %s is a working day", d.Date)
			}
		}
		for _, d := range y.WorkingWeekendDays {
			if !c.IsWorkingDay(day(t, d.Date)) {
				t.Fatalf("working weekend day %s is not a working day", d.Date)
			}
		}
		if got := c.AddWorkingDays(time.Date(y.Year, 1, 1, 0, 0, 0, 0, time.UTC), 15); c.WorkingDaysBetween(time.Date(y.Year, 1, 1, 0, 0, 0, 0, time.UTC), got) != 15 {
			t.Fatalf("AddWorkingDays and WorkingDaysBetween disagree")
		}
		out, err := json.Marshal(y)
		if err != nil {
			t.Fatal(err)
		}
		again, err := workday.Parse(out)
		if err != nil {
			t.Fatalf("re-parse of %s: %v", out, err)
		}
		if !reflect.DeepEqual(normalise(again), normalise(y)) {
			t.Fatalf("round trip changed the year:\n%+v\n%+v", y, again)
		}
	})
}

// normalise makes empty and nil lists compare equal.
func normalise(y workday.Year) workday.Year {
	if len(y.WorkingWeekendDays) == 0 {
		y.WorkingWeekendDays = nil
	}
	return y
}
