package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
)

// printTable renders a JSON report answer as an aligned text table.
func printTable(w io.Writer, kind string, body []byte) error {
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
		measures := []string{"impressions", "clicks", "ctr", "uv", "click_uv"}
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
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	switch kind {
	case "report":
		_, err := fmt.Fprintf(w, "campaign %v, %v to %v (%v); without a user id: %v impressions, %v clicks\n",
			doc["campaign"], doc["from"], doc["to"], doc["timezone"], doc["anonymous_impressions"], doc["anonymous_clicks"])
		return err
	case "frequency":
		_, err := fmt.Fprintf(w, "campaign %v, %v to %v (%v): reach %v, impressions %v, average frequency %v\n",
			doc["campaign"], doc["from"], doc["to"], doc["timezone"], doc["reach"], doc["impressions"], doc["average_frequency"])
		return err
	}
	return nil
}
