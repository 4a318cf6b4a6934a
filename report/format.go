package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/admeter/admeter/store"
)

// utf8BOM makes Excel open a UTF-8 CSV with Chinese names correctly.
const utf8BOM = "\ufeff"

// measures are the measure columns, in output order.
var measures = []string{"impressions", "clicks", "ctr", "uv", "click_uv", "invalid_impressions", "invalid_clicks", "ivt_rate"}

// outcomeMeasures are the viewability, video and conversion columns that
// follow measures, except in a report by reason.
var outcomeMeasures = []string{"measurable_impressions", "viewable_impressions", "viewable_rate", "viewable_uv",
	"video_starts", "video_q25", "video_q50", "video_q75", "video_q100",
	"conversions", "conversion_value", "cvr", "post_click_conversions", "post_view_conversions"}

// columns returns the measure columns of r.
func (r *Report) columns() []string {
	if r.hasOutcomes() {
		return append(slices.Clone(measures), outcomeMeasures...)
	}
	return measures
}

// values returns the measure cells of row i of r (-1: the total).
func (r *Report) values(i int) []string {
	c := r.Total
	if i >= 0 {
		c = r.Rows[i].Counts
	}
	out := measureValues(c, r.gross())
	if r.hasOutcomes() {
		v, o := r.ViewOf(i), r.OutcomeOf(i)
		out = append(out, i64(v.Measurable), i64(v.Viewable), rate(ViewableRate(v)), i64(v.ViewableUV),
			i64(v.VideoStarts), i64(v.Quartiles[0]), i64(v.Quartiles[1]), i64(v.Quartiles[2]), i64(v.Quartiles[3]),
			i64(o.Conversions), FormatValue(o.Value), rate(CVR(o.Conversions, r.Valid(i).Clicks)), i64(o.PostClick), i64(o.PostView))
	}
	return out
}

func i64(n int64) string { return strconv.FormatInt(n, 10) }

// rate formats a ratio rounded to six decimals.
func rate(x float64) string { return strconv.FormatFloat(round(x, 6), 'f', -1, 64) }

// FormatValue formats a value in millionths of a currency unit as a
// decimal number without trailing zeros: 12345000 is "12.345".
func FormatValue(v int64) string {
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	s := sign + strconv.FormatInt(v/1_000_000, 10)
	if frac := v % 1_000_000; frac != 0 {
		s += "." + strings.TrimRight(fmt.Sprintf("%06d", frac), "0")
	}
	return s
}

func measureValues(c store.Counts, all bool) []string {
	return []string{
		strconv.FormatInt(c.Impressions, 10), strconv.FormatInt(c.Clicks, 10),
		strconv.FormatFloat(round(CTR(c), 6), 'f', -1, 64),
		strconv.FormatInt(c.UV, 10), strconv.FormatInt(c.ClickUV, 10),
		strconv.FormatInt(c.InvalidImpressions, 10), strconv.FormatInt(c.InvalidClicks, 10),
		strconv.FormatFloat(round(ivtRate(c, all), 6), 'f', -1, 64),
	}
}

// IVTRate is the invalid share of a row's impressions: invalid over valid
// plus invalid (counts from a report with the default, valid filter).
func IVTRate(c store.Counts) float64 { return ivtRate(c, false) }

// ivtRate is the invalid share of c's impressions; all says c's main
// measures are gross (filter=all), so that the invalid are among them.
func ivtRate(c store.Counts, all bool) float64 {
	return share(c.InvalidImpressions, c.Impressions, all)
}

// invalidClickRate is the invalid share of c's clicks (see ivtRate).
func invalidClickRate(c store.Counts, all bool) float64 { return share(c.InvalidClicks, c.Clicks, all) }

// share is invalid over the gross count: counted when it is gross (all),
// else counted plus invalid; 0 when that is 0.
func share(invalid, counted int64, all bool) float64 {
	if !all {
		counted += invalid
	}
	if counted > 0 {
		return float64(invalid) / float64(counted)
	}
	return 0
}

// gross reports whether r's main measures count all traffic.
func (r *Report) gross() bool { return r.Filter == store.FilterAll.String() }

func round(x float64, digits int) float64 {
	p := math.Pow10(digits)
	return math.Round(x*p) / p
}

// countsJSON appends the measures of c, and the valid-traffic measures v,
// as JSON members.
func countsJSON(b *bytes.Buffer, c, v store.Counts, all bool) {
	fmt.Fprintf(b, `"impressions":%d,"clicks":%d,"ctr":%s,"uv":%d,"click_uv":%d,"valid_impressions":%d,"valid_clicks":%d,"valid_uv":%d,"valid_click_uv":%d,"invalid_impressions":%d,"invalid_clicks":%d,"invalid_uv":%d,"invalid_click_uv":%d,"ivt_rate":%s,"invalid_click_rate":%s`,
		c.Impressions, c.Clicks, strconv.FormatFloat(round(CTR(c), 6), 'f', -1, 64), c.UV, c.ClickUV,
		v.Impressions, v.Clicks, v.UV, v.ClickUV,
		c.InvalidImpressions, c.InvalidClicks, c.InvalidUV, c.InvalidClickUV, strconv.FormatFloat(round(ivtRate(c, all), 6), 'f', -1, 64),
		strconv.FormatFloat(round(invalidClickRate(c, all), 6), 'f', -1, 64))
}

// outcomeJSON appends the viewability, video and conversion measures of
// row i (-1: the total) as JSON members, when the report has them.
func (r *Report) outcomeJSON(b *bytes.Buffer, i int) {
	if !r.hasOutcomes() {
		return
	}
	vals := r.values(i)[len(measures):]
	for j, m := range outcomeMeasures {
		fmt.Fprintf(b, ",%q:%s", m, vals[j])
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// MarshalJSON writes the report with each row's dimensions first, in the
// requested order, then its measures.
func (r *Report) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	by := make([]string, len(r.By))
	for i, d := range r.By {
		by[i] = string(d)
	}
	byJSON, _ := json.Marshal(by)
	fmt.Fprintf(&b, `{"campaign":%s,"from":%q,"to":%q,"timezone":%s,"by":%s,"rows":[`,
		jsonString(string(r.Campaign)), r.From, r.To, jsonString(r.Timezone), byJSON)
	for i, row := range r.Rows {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('{')
		for j, d := range r.By {
			fmt.Fprintf(&b, "%s:%s,", jsonString(string(d)), jsonString(row.Dims[j]))
		}
		countsJSON(&b, row.Counts, r.Valid(i), r.gross())
		r.outcomeJSON(&b, i)
		b.WriteByte('}')
	}
	b.WriteString(`],"total":{`)
	countsJSON(&b, r.Total, r.Valid(-1), r.gross())
	r.outcomeJSON(&b, -1)
	fmt.Fprintf(&b, `},"anonymous_impressions":%d,"anonymous_clicks":%d,"filter":%s`, r.AnonymousImpressions, r.AnonymousClicks, jsonString(r.Filter))
	if r.hasOutcomes() {
		fmt.Fprintf(&b, `,"currency":%s,"other_currency_conversions":%d`, jsonString(r.Currency), r.TotalOutcome.OtherCurrency)
	}
	if r.Note != "" {
		fmt.Fprintf(&b, `,"note":%s`, jsonString(r.Note))
	}
	if r.Retention != nil {
		fmt.Fprintf(&b, `,"retention":{"raw_from":%q,"from_rollups":%t,"message":%s}`, r.Retention.RawFrom, r.Retention.FromRollups, jsonString(r.Retention.Message()))
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// WriteCSV writes the report as CSV: a UTF-8 BOM, a header row, one row per
// report row and a last row with the totals (its dimension cells say
// "total").
func (r *Report) WriteCSV(w io.Writer) error {
	if _, err := io.WriteString(w, utf8BOM); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	header := make([]string, 0, len(r.By)+len(measures))
	for _, d := range r.By {
		header = append(header, string(d))
	}
	if err := cw.Write(append(header, r.columns()...)); err != nil {
		return err
	}
	for i, row := range r.Rows {
		if err := cw.Write(append(slices.Clone(row.Dims), r.values(i)...)); err != nil {
			return err
		}
	}
	if err := cw.Write(append(totalCells(len(r.By), "total"), r.values(-1)...)); err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// WriteTable writes the report as an aligned text table.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	for _, d := range r.By {
		fmt.Fprintf(tw, "%s\t", d)
	}
	for _, m := range r.columns() {
		fmt.Fprintf(tw, "%s\t", m)
	}
	fmt.Fprintln(tw)
	line := func(dims []string, i int) {
		for _, d := range dims {
			fmt.Fprintf(tw, "%s\t", d)
		}
		for _, v := range r.values(i) {
			fmt.Fprintf(tw, "%s\t", v)
		}
		fmt.Fprintln(tw)
	}
	for i, row := range r.Rows {
		line(row.Dims, i)
	}
	line(totalCells(len(r.By), "total"), -1)
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "campaign %s, %s to %s (%s); impressions and clicks without a user id: %d, %d\n",
		r.Campaign, r.From, r.To, r.Timezone, r.AnonymousImpressions, r.AnonymousClicks)
	if err == nil && r.Retention != nil {
		_, err = fmt.Fprintln(w, r.Retention.Message())
	}
	if err == nil && r.Note != "" {
		_, err = fmt.Fprintln(w, r.Note)
	}
	return err
}

// totalCells returns n cells saying label, the dimension cells of a totals
// row.
func totalCells(n int, label string) []string {
	cells := make([]string, n)
	for i := range cells {
		cells[i] = label
	}
	return cells
}

// frequencyJSON is the JSON shape of a Frequency.
type frequencyJSON struct {
	Campaign         string           `json:"campaign"`
	From             string           `json:"from"`
	To               string           `json:"to"`
	Timezone         string           `json:"timezone"`
	Reach            int64            `json:"reach"`
	Impressions      int64            `json:"impressions"`
	AverageFrequency float64          `json:"average_frequency"`
	Distribution     []frequencyJSONB `json:"distribution"`
	CumulativeReach  []dayReachJSON   `json:"cumulative_reach"`
	Retention        *retentionJSON   `json:"retention,omitempty"`
	Filter           string           `json:"filter"`
}

type retentionJSON struct {
	RawFrom     string `json:"raw_from"`
	FromRollups bool   `json:"from_rollups"`
	Message     string `json:"message"`
}

type frequencyJSONB struct {
	Frequency string `json:"frequency"`
	Users     int64  `json:"users"`
}

type dayReachJSON struct {
	Day   string `json:"day"`
	Reach int64  `json:"reach"`
}

// MarshalJSON writes the frequency report.
func (f *Frequency) MarshalJSON() ([]byte, error) {
	out := frequencyJSON{
		Campaign: string(f.Campaign), From: f.From.String(), To: f.To.String(), Timezone: f.Timezone,
		Reach: f.Reach, Impressions: f.Impressions, CumulativeReach: []dayReachJSON{}, Filter: f.Filter,
	}
	if f.Reach > 0 {
		out.AverageFrequency = round(float64(f.Impressions)/float64(f.Reach), 4)
	}
	for i, n := range f.Distribution {
		label := strconv.Itoa(i + 1)
		if i == len(f.Distribution)-1 {
			label += "+"
		}
		out.Distribution = append(out.Distribution, frequencyJSONB{Frequency: label, Users: n})
	}
	for _, d := range f.CumulativeReach {
		out.CumulativeReach = append(out.CumulativeReach, dayReachJSON{Day: d.Day.String(), Reach: d.Reach})
	}
	if f.Retention != nil {
		out.Retention = &retentionJSON{RawFrom: f.Retention.RawFrom.String(), Message: fmt.Sprintf(
			"Raw events before %s are past the retention period and were deleted; reach and frequency need them, so they cover %s onwards only. / %s 之前的原始事件已超过保存期限并删除;到达和频次只统计 %s 起的数据。",
			f.Retention.RawFrom, f.Retention.RawFrom, f.Retention.RawFrom, f.Retention.RawFrom)}
	}
	return json.Marshal(out)
}

// WriteTable writes the frequency report as text.
func (f *Frequency) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "frequency\tusers\t\n")
	for i, n := range f.Distribution {
		label := strconv.Itoa(i + 1)
		if i == len(f.Distribution)-1 {
			label += "+"
		}
		fmt.Fprintf(tw, "%s\t%d\t\n", label, n)
	}
	fmt.Fprintf(tw, "\t\t\nday\tcumulative reach\t\n")
	for _, d := range f.CumulativeReach {
		fmt.Fprintf(tw, "%s\t%d\t\n", d.Day, d.Reach)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	avg := 0.0
	if f.Reach > 0 {
		avg = float64(f.Impressions) / float64(f.Reach)
	}
	_, err := fmt.Fprintf(w, "campaign %s, %s to %s (%s): reach %d, impressions %d, average frequency %.2f\n",
		f.Campaign, f.From, f.To, f.Timezone, f.Reach, f.Impressions, avg)
	return err
}

// dailyRowJSON is the JSON shape of a DailyRow.
type dailyRowJSON struct {
	Day                  string  `json:"day"`
	Placement            string  `json:"placement"`
	Impressions          int64   `json:"impressions"`
	Clicks               int64   `json:"clicks"`
	CTR                  float64 `json:"ctr"`
	UV                   int64   `json:"uv"`
	ClickUV              int64   `json:"click_uv"`
	AnonymousImpressions int64   `json:"anonymous_impressions"`
	AnonymousClicks      int64   `json:"anonymous_clicks"`
}

// MarshalJSON writes the daily rollups.
func (d *Daily) MarshalJSON() ([]byte, error) {
	rows := make([]dailyRowJSON, 0, len(d.Rows))
	for _, r := range d.Rows {
		rows = append(rows, dailyRowJSON{Day: r.Day.String(), Placement: string(r.Placement), Impressions: r.Impressions, Clicks: r.Clicks,
			CTR: round(CTR(r.Counts), 6), UV: r.UV, ClickUV: r.ClickUV, AnonymousImpressions: r.AnonymousImpressions, AnonymousClicks: r.AnonymousClicks})
	}
	return json.Marshal(map[string]any{"campaign": d.Campaign, "from": d.From.String(), "to": d.To.String(), "timezone": d.Timezone, "rows": rows, "filter": d.Filter})
}
