package report_test

import (
	"bytes"
	"testing"

	"github.com/xuri/excelize/v2"
)

func TestReportXLSX(t *testing.T) {
	rep := sampleReport()
	for _, lang := range []string{"zh", "en"} {
		var b bytes.Buffer
		if err := rep.WriteXLSX(&b, lang); err != nil {
			t.Fatal(err)
		}
		f, err := excelize.OpenReader(&b)
		if err != nil {
			t.Fatal(err)
		}
		sheet := f.GetSheetName(0)
		rows, err := f.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != len(rep.Rows)+2 {
			t.Fatalf("%s: %d rows, want header + %d + total", lang, len(rows), len(rep.Rows))
		}
		if lang == "zh" && (rows[0][0] != "广告位" || rows[0][1] != "广告位名称" || rows[0][3] != "曝光" || rows[len(rows)-1][0] != "合计") {
			t.Fatalf("zh header/total: %q / %q", rows[0], rows[len(rows)-1])
		}
		// Measures are numbers, not text.
		typ, err := f.GetCellType(sheet, "D2")
		if err != nil {
			t.Fatal(err)
		}
		if typ != excelize.CellTypeNumber && typ != excelize.CellTypeUnset {
			t.Fatalf("%s: impressions cell type %v, want a number", lang, typ)
		}
		f.Close()
	}
}
