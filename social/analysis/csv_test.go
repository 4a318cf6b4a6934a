package analysis

import (
	"bytes"
	"encoding/csv"
	"reflect"
	"testing"
)

func TestWriteCSV(t *testing.T) {
	rep := &Report{
		Total: Cell{Counts: &Counts{Mentions: 12, Original: 10, Reposts: 2, Authors: 11, Positive: 6, Negative: 2, Neutral: 4, NetSentiment: 1.0 / 3, Likes: 5}},
		Rules: []RuleReport{
			{Rule: "华为", Role: RoleBrand, Cell: Cell{Counts: &Counts{Mentions: 12, Original: 10, Reposts: 2, Authors: 11, Positive: 6, Negative: 2, Neutral: 4, NetSentiment: 1.0 / 3, Likes: 5}},
				Days: []DayCell{{Date: "2026-12-01", Cell: Cell{Counts: &Counts{Mentions: 12, Original: 10, Reposts: 2, Authors: 11}}}, {Date: "2026-12-02", Cell: Cell{Suppressed: true}}}},
			{Rule: "=cmd", Role: RoleCompetitor, Cell: Cell{Suppressed: true}},
		},
	}
	var b bytes.Buffer
	if err := rep.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b.Bytes(), []byte("\ufeff")) {
		t.Fatal("no byte order mark")
	}
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b.Bytes(), []byte("\ufeff")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		CSVHeader,
		{"2026-12-01", "华为", "brand", "12", "10", "2", "11", "0", "0", "0", "0.0000", "0", "0", "0", "0", "false"},
		{"2026-12-02", "华为", "brand", "", "", "", "", "", "", "", "", "", "", "", "", "true"},
		{"total", "华为", "brand", "12", "10", "2", "11", "6", "2", "4", "0.3333", "5", "0", "0", "0", "false"},
		{"total", "'=cmd", "competitor", "", "", "", "", "", "", "", "", "", "", "", "", "true"},
		{"total", "total", "", "12", "10", "2", "11", "6", "2", "4", "0.3333", "5", "0", "0", "0", "false"},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("CSV =\n%q\nwant\n%q", rows, want)
	}
}
