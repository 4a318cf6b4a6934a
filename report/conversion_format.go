package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
)

// conversionMeasures are the measure columns of a conversions report in
// CSV, before the time-to-convert buckets.
var conversionMeasures = []string{"conversions", "conversion_value", "post_click_conversions", "post_view_conversions", "clicks", "cvr", "other_currency_conversions"}

func (row *ConversionRow) values() []string {
	out := []string{i64(row.Conversions), FormatValue(row.Value), i64(row.PostClick), i64(row.PostView), i64(row.Clicks),
		rate(CVR(row.Conversions, row.Clicks)), i64(row.OtherCurrency)}
	for _, n := range row.TimeToConvert {
		out = append(out, i64(n))
	}
	return out
}

// json appends the dimensions (when by is given) and measures of row as
// a JSON object.
func (row *ConversionRow) json(b *bytes.Buffer, by []string) {
	b.WriteByte('{')
	for j, d := range by {
		fmt.Fprintf(b, "%s:%s,", jsonString(d), jsonString(row.Dims[j]))
	}
	vals := row.values()
	for j, m := range conversionMeasures {
		fmt.Fprintf(b, "%q:%s,", m, vals[j])
	}
	b.WriteString(`"time_to_convert":[`)
	for j, n := range row.TimeToConvert {
		if j > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(b, `{"bucket":%s,"conversions":%d}`, jsonString(Buckets[j].Label), n)
	}
	b.WriteString("]}")
}

func (c *Conversions) by() []string {
	by := make([]string, len(c.By))
	for i, d := range c.By {
		by[i] = string(d)
	}
	return by
}

// retentionMessage explains, in English and Chinese, that conversions
// before the raw-data retention cut are gone.
func (c *Conversions) retentionMessage() string {
	d := *c.RawFrom
	return fmt.Sprintf("Raw events before %s are past the retention period and were deleted, conversions with them; this report covers %s onwards only. / %s 之前的原始事件(含转化)已超过保存期限并删除;此报表只统计 %s 起的数据。", d, d, d, d)
}

// MarshalJSON writes the conversions report with each row's dimensions
// first, in the requested order, then its measures and its time-to-convert
// distribution.
func (c *Conversions) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	by := c.by()
	byJSON, _ := json.Marshal(by)
	fmt.Fprintf(&b, `{"campaign":%s,"from":%q,"to":%q,"timezone":%s,"by":%s,"currency":%s,"rows":[`,
		jsonString(string(c.Campaign)), c.From, c.To, jsonString(c.Timezone), byJSON, jsonString(c.Currency))
	for i := range c.Rows {
		if i > 0 {
			b.WriteByte(',')
		}
		c.Rows[i].json(&b, by)
	}
	b.WriteString(`],"total":`)
	c.Total.json(&b, nil)
	if c.RawFrom != nil {
		fmt.Fprintf(&b, `,"retention":{"raw_from":%q,"message":%s}`, *c.RawFrom, jsonString(c.retentionMessage()))
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// WriteCSV writes the conversions report as CSV: a UTF-8 BOM, a header row
// (the dimensions, the measures, then one column per time-to-convert
// bucket), one row per report row and a last row with the totals (its
// dimension cells say "total").
func (c *Conversions) WriteCSV(w io.Writer) error {
	if _, err := io.WriteString(w, utf8BOM); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	header := append(append(c.by(), conversionMeasures...), bucketColumns...)
	if err := cw.Write(header); err != nil {
		return err
	}
	for i := range c.Rows {
		if err := cw.Write(append(slices.Clone(c.Rows[i].Dims), c.Rows[i].values()...)); err != nil {
			return err
		}
	}
	if err := cw.Write(append(totalCells(len(c.By), "total"), c.Total.values()...)); err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}
