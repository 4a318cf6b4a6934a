package report

import (
	"fmt"
	"io"
	"strconv"

	"github.com/xuri/excelize/v2"

	"github.com/admeter/admeter"
)

func placementID(s string) admeter.PlacementID { return admeter.PlacementID(s) }

// xlsxHeaders are the column titles of an XLSX report, by language.
var xlsxHeaders = map[string]map[string]string{
	"zh": {"day": "日期", "hour": "小时", "placement": "广告位", "media": "媒体", "region": "地区", "os": "操作系统", "device": "设备类型",
		"impressions": "曝光", "clicks": "点击", "ctr": "点击率", "uv": "曝光独立用户", "click_uv": "点击独立用户", "total": "合计",
		"invalid_impressions": "无效曝光", "invalid_clicks": "无效点击", "ivt_rate": "无效曝光占比", "reason": "无效原因",
		"placement_name":         "广告位名称",
		"measurable_impressions": "可测曝光", "viewable_impressions": "可见曝光", "viewable_rate": "可见率", "viewable_uv": "可见独立用户",
		"video_starts": "视频播放", "video_q25": "播放25%", "video_q50": "播放50%", "video_q75": "播放75%", "video_q100": "播放完成",
		"conversions": "转化", "conversion_value": "转化金额", "cvr": "转化率", "post_click_conversions": "点击后转化", "post_view_conversions": "曝光后转化"},
	"en": {"day": "Day", "hour": "Hour", "placement": "Placement", "media": "Media", "region": "Region", "os": "OS", "device": "Device",
		"impressions": "Impressions", "clicks": "Clicks", "ctr": "CTR", "uv": "Unique users", "click_uv": "Clicking users", "total": "Total",
		"invalid_impressions": "Invalid impressions", "invalid_clicks": "Invalid clicks", "ivt_rate": "IVT rate", "reason": "IVT reason",
		"placement_name":         "Placement name",
		"measurable_impressions": "Measurable impressions", "viewable_impressions": "Viewable impressions", "viewable_rate": "Viewable rate",
		"viewable_uv": "Viewable users", "video_starts": "Video starts", "video_q25": "Video 25%", "video_q50": "Video 50%", "video_q75": "Video 75%",
		"video_q100": "Video completions", "conversions": "Conversions", "conversion_value": "Conversion value", "cvr": "CVR",
		"post_click_conversions": "Post-click conversions", "post_view_conversions": "Post-view conversions"},
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
	cols := r.columns()
	for _, m := range cols {
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
	// pctCols are the 1-based columns of the rates.
	var pctCols []int
	for j, m := range cols {
		if m == "ctr" || m == "ivt_rate" || m == "viewable_rate" || m == "cvr" {
			pctCols = append(pctCols, len(header)-len(cols)+j+1)
		}
	}
	write := func(row int, dims []string, i int) error {
		var vals []any
		for j, d := range r.By {
			vals = append(vals, dims[j])
			if d == "placement" {
				vals = append(vals, r.PlacementNames[placementID(dims[j])])
			}
		}
		for _, v := range r.values(i) {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return fmt.Errorf("measure %q is not a number: %w", v, err)
			}
			vals = append(vals, n)
		}
		cell, _ := excelize.CoordinatesToCellName(1, row)
		if err := f.SetSheetRow(sheet, cell, &vals); err != nil {
			return err
		}
		for _, col := range pctCols {
			c, _ := excelize.CoordinatesToCellName(col, row)
			if err := f.SetCellStyle(sheet, c, c, pct); err != nil {
				return err
			}
		}
		return nil
	}
	for i, row := range r.Rows {
		if err := write(i+2, row.Dims, i); err != nil {
			return fmt.Errorf("xlsx: %w", err)
		}
	}
	totalRow := len(r.Rows) + 2
	if err := write(totalRow, totalCells(len(r.By), h["total"]), -1); err != nil {
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
