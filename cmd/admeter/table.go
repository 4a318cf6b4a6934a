package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
)

// baseMeasures, viewMeasures and conversionMeasures are the table columns
// of a report: the base ones always, the others when the total has any
// (or when --measures names them).
var (
	baseMeasures       = []string{"impressions", "clicks", "ctr", "uv", "click_uv"}
	viewMeasures       = []string{"measurable_impressions", "viewable_impressions", "viewable_rate", "video_starts", "video_q100"}
	conversionMeasures = []string{"conversions", "conversion_value", "cvr", "post_click_conversions", "post_view_conversions"}
)

// reportColumns returns the measure columns of a report table: those the
// list names ("all" for every measure of the total), or by default the
// base ones and the viewability and conversion ones whose group has a
// measure that is not zero in the total.
func reportColumns(list string, total map[string]any) []string {
	switch list {
	case "all":
		var cols []string
		for k := range total {
			cols = append(cols, k)
		}
		order := append(append(append([]string{}, baseMeasures...), viewMeasures...), conversionMeasures...)
		slices.SortFunc(cols, func(a, b string) int {
			return cmp.Or(cmp.Compare(rank(order, a), rank(order, b)), strings.Compare(a, b))
		})
		return cols
	case "":
		cols := slices.Clone(baseMeasures)
		nonZero := func(keys ...string) bool {
			for _, k := range keys {
				if v, ok := total[k]; ok && fmt.Sprint(v) != "0" {
					return true
				}
			}
			return false
		}
		if nonZero("measurable_impressions", "video_starts") {
			cols = append(cols, viewMeasures...)
		}
		if nonZero("conversions") {
			cols = append(cols, conversionMeasures...)
		}
		return cols
	}
	var cols []string
	for _, c := range strings.Split(list, ",") {
		if c = strings.TrimSpace(c); c != "" {
			cols = append(cols, c)
		}
	}
	return cols
}

// rank is the position of s in order, or after every entry when absent.
func rank(order []string, s string) int {
	if i := slices.Index(order, s); i >= 0 {
		return i
	}
	return len(order)
}

// printTable renders a JSON report answer as an aligned text table; for a
// report, measures chooses the columns (see reportColumns).
func printTable(w io.Writer, kind string, body []byte, measures string) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	row := func(cells ...any) {
		for _, c := range cells {
			fmt.Fprintf(tw, "%v\t", c)
		}
		fmt.Fprintln(tw)
	}
	objects := func(key string) []map[string]any {
		var out []map[string]any
		list, _ := doc[key].([]any)
		for _, x := range list {
			if m, ok := x.(map[string]any); ok {
				out = append(out, m)
			}
		}
		return out
	}
	switch kind {
	case "report":
		var cols []string
		if by, ok := doc["by"].([]any); ok {
			for _, b := range by {
				cols = append(cols, fmt.Sprint(b))
			}
		}
		total, _ := doc["total"].(map[string]any)
		measures := reportColumns(measures, total)
		for _, m := range measures {
			if _, ok := total[m]; !ok && total != nil {
				return fmt.Errorf("the report has no measure %q: --measures takes any of %s", m, strings.Join(slices.Sorted(maps.Keys(total)), ", "))
			}
		}
		header := []any{}
		for _, c := range append(append([]string{}, cols...), measures...) {
			header = append(header, c)
		}
		row(header...)
		for _, r := range objects("rows") {
			var cells []any
			for _, c := range append(append([]string{}, cols...), measures...) {
				cells = append(cells, r[c])
			}
			row(cells...)
		}
		if t, ok := doc["total"].(map[string]any); ok {
			var cells []any
			for range cols {
				cells = append(cells, "total")
			}
			for _, m := range measures {
				cells = append(cells, t[m])
			}
			row(cells...)
		}
	case "frequency":
		row("frequency", "users")
		for _, d := range objects("distribution") {
			row(d["frequency"], d["users"])
		}
		row("", "")
		row("day", "cumulative reach")
		for _, d := range objects("cumulative_reach") {
			row(d["day"], d["reach"])
		}
	case "daily":
		row("day", "placement", "impressions", "clicks", "ctr", "uv", "click_uv")
		for _, r := range objects("rows") {
			row(r["day"], r["placement"], r["impressions"], r["clicks"], r["ctr"], r["uv"], r["click_uv"])
		}
	case "conversions":
		var cols []string
		if by, ok := doc["by"].([]any); ok {
			for _, b := range by {
				cols = append(cols, fmt.Sprint(b))
			}
		}
		measures := []string{"conversions", "conversion_value", "post_click_conversions", "post_view_conversions", "clicks", "cvr"}
		var buckets []string
		if t, ok := doc["total"].(map[string]any); ok {
			for _, b := range ttc(t) {
				buckets = append(buckets, fmt.Sprint(b["bucket"]))
			}
		}
		var header []any
		for _, c := range append(append(append([]string{}, cols...), measures...), buckets...) {
			header = append(header, c)
		}
		row(header...)
		line := func(dims []any, r map[string]any) {
			cells := dims
			for _, m := range measures {
				cells = append(cells, r[m])
			}
			for _, b := range ttc(r) {
				cells = append(cells, b["conversions"])
			}
			row(cells...)
		}
		for _, r := range objects("rows") {
			var dims []any
			for _, c := range cols {
				dims = append(dims, r[c])
			}
			line(dims, r)
		}
		if t, ok := doc["total"].(map[string]any); ok {
			var dims []any
			for range cols {
				dims = append(dims, "total")
			}
			line(dims, t)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	switch kind {
	case "report":
		if _, err := fmt.Fprintf(w, "campaign %v, %v to %v (%v); without a user id: %v impressions, %v clicks\n",
			doc["campaign"], doc["from"], doc["to"], doc["timezone"], doc["anonymous_impressions"], doc["anonymous_clicks"]); err != nil {
			return err
		}
		if n, ok := doc["other_currency_conversions"]; ok && fmt.Sprint(n) != "0" {
			if _, err := fmt.Fprintf(w, "conversion values are in %v; %v conversions with a value in another currency are counted but not valued\n", doc["currency"], n); err != nil {
				return err
			}
		}
		if note, ok := doc["note"].(string); ok {
			_, err := fmt.Fprintln(w, note)
			return err
		}
		return nil
	case "conversions":
		t, _ := doc["total"].(map[string]any)
		if _, err := fmt.Fprintf(w, "campaign %v, %v to %v (%v); values in %v\n",
			doc["campaign"], doc["from"], doc["to"], doc["timezone"], doc["currency"]); err != nil {
			return err
		}
		if n, ok := t["other_currency_conversions"]; ok && fmt.Sprint(n) != "0" {
			_, err := fmt.Fprintf(w, "%v conversions with a value in another currency are counted but not valued\n", n)
			return err
		}
		return nil
	case "frequency":
		_, err := fmt.Fprintf(w, "campaign %v, %v to %v (%v): reach %v, impressions %v, average frequency %v\n",
			doc["campaign"], doc["from"], doc["to"], doc["timezone"], doc["reach"], doc["impressions"], doc["average_frequency"])
		return err
	}
	return nil
}

// ttc returns the time-to-convert buckets of a conversions row.
func ttc(r map[string]any) []map[string]any {
	var out []map[string]any
	list, _ := r["time_to_convert"].([]any)
	for _, x := range list {
		if m, ok := x.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}
