package workday

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// ErrInvalid is wrapped by every error that reports a malformed holiday file,
// so callers can tell bad data (fix the file) from I/O failures.
var ErrInvalid = errors.New("invalid holiday file")

// MaxFileSize is the largest holiday file Parse and Load accept. A real year
// is a few kilobytes; anything near this limit is not a holiday file.
const MaxFileSize = 1 << 20

// dateLayout is the only date format a holiday file may use.
const dateLayout = "2006-01-02"

// Year is one year of China's official holiday arrangement as published in
// the State Council General Office notice: the days off (放假) and the weekend
// days that are working days (调休上班). Its JSON form is the file format that
// Parse reads and that data/cn-YYYY.json uses.
type Year struct {
	// Year is the calendar year every date below lies in.
	Year int `json:"year"`
	// Source names the notice the data was copied from (title and date).
	Source string `json:"source"`
	// Note is free text for operators; it has no effect on the calendar.
	Note string `json:"note,omitempty"`
	// DaysOff are the holidays, including any weekend days the notice lists
	// as part of a holiday block.
	DaysOff []Day `json:"days_off"`
	// WorkingWeekendDays are Saturdays and Sundays that are working days.
	WorkingWeekendDays []Day `json:"working_weekend_days"`
}

// Day is one dated entry of a Year.
type Day struct {
	// Date is the day as YYYY-MM-DD.
	Date string `json:"date"`
	// Name is the holiday's name as the notice gives it, e.g. "国庆节".
	Name string `json:"name"`
}

// Parse reads one year's holiday file (the JSON form of Year) and validates
// it strictly: unknown or repeated fields and trailing data are rejected, and
// then the Year must pass Validate. Errors wrap ErrInvalid and name the
// offending field or entry, e.g. `days_off[3] "2026-13-01"`; they do not name
// a file (Load adds that).
func Parse(data []byte) (Year, error) {
	if len(data) > MaxFileSize {
		return Year{}, fmt.Errorf("%w: %d bytes, more than the %d a holiday file may have", ErrInvalid, len(data), MaxFileSize)
	}
	fields, err := decodeObject(data, "year", "source", "note", "days_off", "working_weekend_days")
	if err != nil {
		return Year{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}

	var y Year
	raw, ok := fields["year"]
	if !ok {
		return Year{}, fmt.Errorf("%w: \"year\" is missing; add the calendar year, e.g. \"year\": 2027", ErrInvalid)
	}
	if err := json.Unmarshal(raw, &y.Year); err != nil {
		return Year{}, fmt.Errorf("%w: \"year\": not an integer: %s", ErrInvalid, raw)
	}
	if err := unmarshalString(fields, "source", &y.Source); err != nil {
		return Year{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if err := unmarshalString(fields, "note", &y.Note); err != nil {
		return Year{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if y.DaysOff, err = decodeDays(fields, "days_off"); err != nil {
		return Year{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if y.WorkingWeekendDays, err = decodeDays(fields, "working_weekend_days"); err != nil {
		return Year{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if err := y.Validate(); err != nil {
		return Year{}, err
	}
	return y, nil
}

// Validate checks y: Year is a four-digit year; Source is not empty; DaysOff
// is not empty (every year has public holidays, so an empty list means an
// incomplete file); every date is a real YYYY-MM-DD date in Year; every entry
// has a Name; no date is listed twice, or both as a day off and as a working
// day; every WorkingWeekendDays entry is a Saturday or a Sunday. DaysOff may
// include weekend days, as the notices list them. Errors wrap ErrInvalid.
func (y Year) Validate() error {
	if y.Year < 1000 || y.Year > 9999 {
		return fmt.Errorf("%w: \"year\": %d is not a four-digit year", ErrInvalid, y.Year)
	}
	if strings.TrimSpace(y.Source) == "" {
		return fmt.Errorf("%w: \"source\" is missing or empty; name the State Council notice the dates come from", ErrInvalid)
	}
	if len(y.DaysOff) == 0 {
		return fmt.Errorf("%w: \"days_off\" is missing or empty; every year has public holidays, so the file is incomplete", ErrInvalid)
	}
	seen := make(map[string]string, len(y.DaysOff)+len(y.WorkingWeekendDays)) // date → list that has it
	lists := []struct {
		key  string
		days []Day
	}{{"days_off", y.DaysOff}, {"working_weekend_days", y.WorkingWeekendDays}}
	for _, l := range lists {
		for i, d := range l.days {
			t, err := time.Parse(dateLayout, d.Date)
			if err != nil {
				return fmt.Errorf("%w: %s[%d] %q: not a date in the form YYYY-MM-DD", ErrInvalid, l.key, i, d.Date)
			}
			if t.Year() != y.Year {
				return fmt.Errorf("%w: %s[%d] %q: not in the file's year %d; put it in that year's file", ErrInvalid, l.key, i, d.Date, y.Year)
			}
			if strings.TrimSpace(d.Name) == "" {
				return fmt.Errorf("%w: %s[%d] %q: \"name\" is missing or empty; copy the holiday's name from the notice", ErrInvalid, l.key, i, d.Date)
			}
			if prev, dup := seen[d.Date]; dup {
				if prev == l.key {
					return fmt.Errorf("%w: %s[%d] %q: listed twice in %s", ErrInvalid, l.key, i, d.Date, l.key)
				}
				return fmt.Errorf("%w: %s[%d] %q: also listed in %s; a day is either off or working, not both", ErrInvalid, l.key, i, d.Date, prev)
			}
			seen[d.Date] = l.key
			if wd := t.Weekday(); l.key == "working_weekend_days" && wd != time.Saturday && wd != time.Sunday {
				return fmt.Errorf("%w: %s[%d] %q: a %s; only a Saturday or Sunday can be a working weekend day (weekdays are working days already)",
					ErrInvalid, l.key, i, d.Date, wd)
			}
		}
	}
	return nil
}

// unmarshalString decodes the optional string member key of fields into dst.
func unmarshalString(fields map[string]json.RawMessage, key string, dst *string) error {
	raw, ok := fields[key]
	if !ok {
		return nil
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return fmt.Errorf("%q: not a string: %s", key, raw)
	}
	return nil
}

// decodeDays decodes the optional list member key of fields. Each entry must
// be an object with only "date" and "name", each at most once.
func decodeDays(fields map[string]json.RawMessage, key string) ([]Day, error) {
	raw, ok := fields[key]
	if !ok {
		return nil, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fmt.Errorf("%q: not a list of {\"date\": …, \"name\": …} objects", key)
	}
	days := make([]Day, 0, len(items))
	for i, item := range items {
		entry, err := decodeObject(item, "date", "name")
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: %w", key, i, err)
		}
		var d Day
		if err := unmarshalString(entry, "date", &d.Date); err != nil {
			return nil, fmt.Errorf("%s[%d]: %w", key, i, err)
		}
		if err := unmarshalString(entry, "name", &d.Name); err != nil {
			return nil, fmt.Errorf("%s[%d]: %w", key, i, err)
		}
		days = append(days, d)
	}
	return days, nil
}

// decodeObject decodes one JSON object whose keys must all be in allowed and
// appear at most once, and returns its members undecoded. Trailing data after
// the object is an error. (encoding/json keeps the last of repeated keys and
// ignores unknown ones, which would silently drop holidays.)
func decodeObject(data []byte, allowed ...string) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	if tok != json.Delim('{') {
		return nil, errors.New("not a JSON object")
	}
	fields := make(map[string]json.RawMessage)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("not valid JSON: %w", err)
		}
		key := tok.(string) // object keys are always strings
		known := false
		for _, a := range allowed {
			known = known || key == a
		}
		if !known {
			return nil, fmt.Errorf("unknown field %q (allowed: %s)", key, strings.Join(allowed, ", "))
		}
		if _, dup := fields[key]; dup {
			return nil, fmt.Errorf("field %q appears twice", key)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("not valid JSON: %w", err)
		}
		fields[key] = raw
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("unexpected data after the JSON object")
	}
	return fields, nil
}
