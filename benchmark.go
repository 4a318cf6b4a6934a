package admeter

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// BenchmarkSnapshot is a published industry benchmark: for one period, the
// cells of industry vertical × media (and vertical × all media) that passed
// the aggregation rules, with the rules they passed. It never holds a
// tenant's name, id or single value (privacy invariant 5): only pooled
// rates over at least MinTenants tenants and quartiles that each blend at
// least two tenants' values (package benchmark explains both).
type BenchmarkSnapshot struct {
	// ID is assigned when the snapshot is stored; later snapshots have
	// larger ids.
	ID int64
	// From and To are the first and last day of the period (inclusive),
	// as midnight UTC; each campaign's days are taken in its own zone.
	From, To time.Time
	// Published is when the snapshot was stored.
	Published time.Time
	// The rules the cells passed: at least MinTenants tenants and a lower
	// bound of at least MinUsers distinct users per cell, and no tenant
	// holding more than MaxShare of a cell's (or a measure's) volume.
	MinTenants int
	MinUsers   int64
	MaxShare   float64
	// Withheld is how many cells had data but failed a rule: a count,
	// never which or why.
	Withheld int
	// Cells are sorted by industry (in Industries order), then media, the
	// all-media cell ("") first.
	Cells []BenchmarkCell
}

// BenchmarkCell is one published cell of a benchmark.
type BenchmarkCell struct {
	Industry Industry
	// Media is the media name as placements give it (trimmed, lowercased),
	// or "" for all media.
	Media string
	// Tenants is how many tenants' campaigns contributed to the cell.
	Tenants int
	// The measures (see BenchmarkMeasures).
	CTR          BenchmarkValue
	ViewableRate BenchmarkValue
	IVTRate      BenchmarkValue
	Frequency    BenchmarkValue
}

// The names of the benchmark measures, in the order BenchmarkMeasures
// lists them.
const (
	MeasureCTR          = "ctr"           // valid clicks / valid impressions
	MeasureViewableRate = "viewable_rate" // viewable / measurable impressions (valid traffic)
	MeasureIVTRate      = "ivt_rate"      // invalid / all impressions
	MeasureFrequency    = "frequency"     // impressions / reach, per campaign, pooled
)

// BenchmarkMeasures lists the measure names.
var BenchmarkMeasures = []string{MeasureCTR, MeasureViewableRate, MeasureIVTRate, MeasureFrequency}

// Value returns the cell's value of the named measure, nil for an unknown
// name.
func (c *BenchmarkCell) Value(measure string) *BenchmarkValue {
	switch measure {
	case MeasureCTR:
		return &c.CTR
	case MeasureViewableRate:
		return &c.ViewableRate
	case MeasureIVTRate:
		return &c.IVTRate
	case MeasureFrequency:
		return &c.Frequency
	}
	return nil
}

// BenchmarkValue is one measure of a cell: the pooled value over every
// contributing tenant's traffic and the quartiles of the tenants' own
// values. Tenants is how many tenants have a value; 0 means the measure is
// withheld in this cell (too few tenants measured it, or one dominated
// it), and the other fields are then zero.
type BenchmarkValue struct {
	Tenants int     `json:"tenants"`
	Pooled  float64 `json:"pooled"`
	P25     float64 `json:"p25"`
	P50     float64 `json:"p50"`
	P75     float64 `json:"p75"`
}

// Published reports whether the measure is published in its cell.
func (v BenchmarkValue) Published() bool { return v.Tenants > 0 }

// SortBenchmarkCells sorts cells by industry, in Industries order, then by
// media, the all-media cell ("") first.
func SortBenchmarkCells(cells []BenchmarkCell) {
	rank := make(map[Industry]int, len(Industries))
	for i, in := range Industries {
		rank[in.ID] = i
	}
	slices.SortFunc(cells, func(a, b BenchmarkCell) int {
		if c := cmp.Compare(rank[a.Industry], rank[b.Industry]); c != 0 {
			return c
		}
		return strings.Compare(a.Media, b.Media)
	})
}

// AppendBenchmarkValue sets the value of measure in the cell of c's
// industry and media, the last of cells or, when that is another cell, c
// appended; it returns the cells. Stores read cells one measure a row,
// ordered by industry and media, with it.
func AppendBenchmarkValue(cells []BenchmarkCell, c BenchmarkCell, measure string, v BenchmarkValue) []BenchmarkCell {
	if n := len(cells); n == 0 || cells[n-1].Industry != c.Industry || cells[n-1].Media != c.Media {
		cells = append(cells, c)
	}
	if p := cells[len(cells)-1].Value(measure); p != nil {
		*p = v
	}
	return cells
}
