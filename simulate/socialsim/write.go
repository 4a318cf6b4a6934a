package socialsim

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
)

// WriteNDJSON writes recs as NDJSON, one JSON object a line, as
// POST /api/v1/social/posts takes it (Content-Type application/x-ndjson).
func WriteNDJSON(w io.Writer, recs []Record) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for i := range recs {
		if err := enc.Encode(&recs[i]); err != nil {
			return fmt.Errorf("write social record %d as NDJSON: %w", i, err)
		}
	}
	return nil
}

// CSVHeader is the header row WriteCSV writes.
var CSVHeader = []string{"source", "kind", "id", "time", "author", "text", "likes", "comments", "shares", "views", "term", "day", "count"}

// WriteCSV writes recs as CSV with a header row (CSVHeader), as
// POST /api/v1/social/posts takes it (Content-Type text/csv). Absent
// fields are empty.
func WriteCSV(w io.Writer, recs []Record) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return fmt.Errorf("write social CSV header: %w", err)
	}
	num := func(n int64) string {
		if n == 0 {
			return ""
		}
		return strconv.FormatInt(n, 10)
	}
	for i := range recs {
		r := &recs[i]
		row := []string{r.Source, r.Kind, r.ID, r.Time, r.Author, r.Text, num(r.Likes), num(r.Comments), num(r.Shares), num(r.Views), r.Term, r.Day, num(r.Count)}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("write social record %d as CSV: %w", i, err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write social CSV: %w", err)
	}
	return nil
}
