package analysis

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
)

// CSVHeader is the header row of WriteCSV.
var CSVHeader = []string{"date", "rule", "role", "mentions", "original", "reposts", "authors", "positive", "negative", "neutral",
	"net_sentiment", "likes", "comments", "shares", "views", "suppressed"}

// WriteCSV writes the report's daily series as CSV for spreadsheets: a
// UTF-8 byte order mark (so that Excel reads Chinese names), the header
// CSVHeader, then for each rule one row per day and a row dated "total",
// and the deduplicated total of all rules (rule "total"). A suppressed
// cell has empty counts and suppressed "true". A name a spreadsheet would
// take for a formula is prefixed with an apostrophe.
func (r *Report) WriteCSV(w io.Writer) error {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	_ = cw.Write(CSVHeader)
	row := func(date, rule, role string, c Cell) {
		out := []string{date, asText(rule), role}
		if c.Suppressed || c.Counts == nil {
			out = append(out, make([]string, len(CSVHeader)-4)...)
			out = append(out, "true")
		} else {
			k := c.Counts
			out = append(out, itoa(k.Mentions), itoa(k.Original), itoa(k.Reposts), itoa(k.Authors), itoa(k.Positive), itoa(k.Negative),
				itoa(k.Neutral), strconv.FormatFloat(k.NetSentiment, 'f', 4, 64), itoa(k.Likes), itoa(k.Comments), itoa(k.Shares), itoa(k.Views), "false")
		}
		_ = cw.Write(out)
	}
	for _, rr := range r.Rules {
		for _, d := range rr.Days {
			row(d.Date, rr.Rule, rr.Role, d.Cell)
		}
		row("total", rr.Rule, rr.Role, rr.Cell)
	}
	row("total", "total", "", r.Total)
	cw.Flush()
	return cw.Error()
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// asText prefixes s with an apostrophe when a spreadsheet would run it.
func asText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
