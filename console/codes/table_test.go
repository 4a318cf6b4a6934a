package codes

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

// letterMeaning is what the collector reads under each letter
// (collect/pixel.go fillFromParams), as doc.go's table shows it.
var letterMeaning = map[string]string{
	"mo":   "OS 0 Android/1 iOS",
	"ns":   "client IP",
	"m0":   "OpenUDID, raw",
	"m1a":  "Android ID, MD5",
	"m2":   "IMEI, MD5",
	"m4":   "AAID, raw or MD5",
	"m5":   "IDFA, raw",
	"m5a":  "IDFV, raw",
	"m6":   "MAC a:b:…, MD5",
	"m6a":  "MAC ab…, MD5",
	"m11":  "OAID, raw",
	"m11a": "OAID, MD5",
	"m14":  "CAID",
	"tr":   "request id",
	"mt":   "time, s or ms",
}

// docTable renders the mapping of every macro platform as doc.go shows it.
func docTable() string {
	cols := []string{"letter", "collector reads"}
	var macroPlatforms []platform
	for _, pl := range platforms {
		if len(pl.params) > 0 {
			macroPlatforms = append(macroPlatforms, pl)
			cols = append(cols, string(pl.info.Platform))
		}
	}
	rows := [][]string{cols}
	for _, l := range letterOrder {
		row := []string{l, letterMeaning[l]}
		for _, pl := range macroPlatforms {
			cell := "-"
			for _, m := range pl.params {
				if m.letter == l {
					cell = m.macro
					if m.click {
						cell += " (click)"
					}
				}
			}
			row = append(row, cell)
		}
		rows = append(rows, row)
	}
	widths := make([]int, len(cols))
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], len([]rune(c)))
		}
	}
	var b strings.Builder
	for _, r := range rows {
		b.WriteString("//\t")
		for i, c := range r {
			if i == len(r)-1 {
				b.WriteString(c)
				break
			}
			fmt.Fprintf(&b, "%s%s  ", c, strings.Repeat(" ", widths[i]-len([]rune(c))))
		}
		b.WriteString("\n")
	}
	return b.String()
}

// TestDocTable keeps doc.go's mapping table true to the code.
func TestDocTable(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	if want := docTable(); !strings.Contains(string(doc), want) {
		t.Errorf("doc.go's mapping table is out of date; replace it with:\n%s", want)
	}
}

// TestParamOrder checks that every platform writes its letters in
// letterOrder, once each, and uses only letters the table documents.
func TestParamOrder(t *testing.T) {
	for _, pl := range platforms {
		last := -1
		for _, m := range pl.params {
			i := slices.Index(letterOrder, m.letter)
			if i < 0 || letterMeaning[m.letter] == "" {
				t.Errorf("%s: letter %q is not in letterOrder and letterMeaning", pl.info.Platform, m.letter)
			}
			if i <= last {
				t.Errorf("%s: letter %q is out of order or repeated", pl.info.Platform, m.letter)
			}
			last = i
		}
	}
}
