package report

import (
	"fmt"
	"io"

	"github.com/xuri/excelize/v2"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
)

// rowCounts are a row's measures as spreadsheet numbers.
type rowCounts struct {
	impressions, clicks, uv, clickUV int64
	invImps, invClicks               int64
	ctr, ivtRate                     float64
}

func countsOf(c store.Counts, all bool) rowCounts {
	return rowCounts{impressions: c.Impressions, clicks: c.Clicks, uv: c.UV, clickUV: c.ClickUV, ctr: round(CTR(c), 6),
		invImps: c.InvalidImpressions, invClicks: c.InvalidClicks, ivtRate: round(ivtRate(c, all), 6)}
}

func placementID(s string) admeter.PlacementID { return admeter.PlacementID(s) }

// xlsxHeaders are the column titles of an XLSX report, by language.
var xlsxHeaders = map[string]map[string]string{
	"zh": {"day": "日期", "hour": "小时", "placement": "广告位", "media": "媒体", "region": "地区", "os": "操作系统", "device": "设备类型",
		"impressions": "曝光", "clicks": "点击", "ctr": "点击率", "uv": "曝光独立用户", "click_uv": "点击独立用户", "total": "合计",
		"invalid_impressions": "无效曝光", "invalid_clicks": "无效点击", "ivt_rate": "无效曝光占比", "reason": "无效原因",
		"placement_name": "广告位名称"},
	"en": {"day": "Day", "hour": "Hour", "placement": "Placement", "media": "Media", "region": "Region", "os": "OS", "device": "Device",
		"impressions": "Impressions", "clicks": "Clicks", "ctr": "CTR", "uv": "Unique users", "click_uv": "Clicking users", "total": "Total",
		"invalid_impressions": "Invalid impressions", "invalid_clicks": "Invalid clicks", "ivt_rate": "IVT rate", "reason": "IVT reason",
		"placement_name": "Placement name"},
}

// WriteXLSX writes the report as an Excel workbook: one sheet, a header row
// in lang ("zh" or "en"), one row per report row with the measures as
// numbers (CTR as a percentage format), and a totals row. Placement ids are
// followed by the placement's name.
func (r *Report) WriteXLSX(w io.Writer, lang string) error {
	h, ok := xlsxHeaders[lang]
	if !ok {
		h = xlsxHeaders["en"]
	}
	f := excelize.NewFile()
	defer f.Close()
	sheet := "Report"
	if lang == "zh" {
		sheet = "报表"
	}
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	var header []any
	for _, d := range r.By {
		header = append(header, h[string(d)])
		if d == "placement" {
			header = append(header, h["placement_name"])
		}
	}
	for _, m := range measures {
		header = append(header, h[m])
	}
	if err := f.SetSheetRow(sheet, "A1", &header); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	pct, err := f.NewStyle(&excelize.Style{NumFmt: 10}) // 0.00%
	if err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	ctrCol := len(header) - 5 // 1-based index of the ctr column
	rateCol := len(header)    // and of the IVT rate
	write := func(row int, dims []string, c rowCounts) error {
		var vals []any
		for i, d := range r.By {
			vals = append(vals, dims[i])
			if d == "placement" {
				vals = append(vals, r.PlacementNames[placementID(dims[i])])
			}
		}
		vals = append(vals, c.impressions, c.clicks, c.ctr, c.uv, c.clickUV, c.invImps, c.invClicks, c.ivtRate)
		cell, _ := excelize.CoordinatesToCellName(1, row)
		if err := f.SetSheetRow(sheet, cell, &vals); err != nil {
			return err
		}
		ctrCell, _ := excelize.CoordinatesToCellName(ctrCol, row)
		if err := f.SetCellStyle(sheet, ctrCell, ctrCell, pct); err != nil {
			return err
		}
		rateCell, _ := excelize.CoordinatesToCellName(rateCol, row)
		return f.SetCellStyle(sheet, rateCell, rateCell, pct)
	}
	for i, row := range r.Rows {
		if err := write(i+2, row.Dims, countsOf(row.Counts, r.gross())); err != nil {
			return fmt.Errorf("xlsx: %w", err)
		}
	}
	totalRow := len(r.Rows) + 2
	total := make([]string, len(r.By))
	for i := range total {
		total[i] = h["total"]
	}
	if err := write(totalRow, total, countsOf(r.Total, r.gross())); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	first, _ := excelize.CoordinatesToCellName(1, totalRow)
	last, _ := excelize.CoordinatesToCellName(len(header), totalRow)
	if err := f.SetCellStyle(sheet, first, last, bold); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	if err := f.SetPanes(sheet, &excelize.Panes{Freeze: true, Split: false, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	if _, err := f.WriteTo(w); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	return nil
}
