package store

import (
	"strings"
	"time"

	"github.com/admeter/admeter"
)

// Zone is a time zone's UTC offset over a range of instants, for stores
// that compute local days and hours with integer arithmetic on Unix
// milliseconds: Offsets[0] until Bounds[0], Offsets[i] from Bounds[i-1]
// until Bounds[i], the last one after. Bounds are Unix milliseconds,
// offsets milliseconds.
type Zone struct {
	Bounds  []int64
	Offsets []int64
}

// ZoneOf returns loc's offsets over [from, to), from Go's time zone data:
// the same data the caller used to choose its days, whatever the
// database's zone files say, for any *time.Location, named or fixed.
func ZoneOf(loc *time.Location, from, to time.Time) Zone {
	var z Zone
	t := from
	for range 10_000 { // a bound on the loop whatever the zone data says
		_, off := t.In(loc).Zone()
		z.Offsets = append(z.Offsets, int64(off)*1000)
		_, end := t.In(loc).ZoneBounds()
		if end.IsZero() || !end.Before(to) || !end.After(t) {
			break
		}
		z.Bounds = append(z.Bounds, end.UnixMilli())
		t = end
	}
	return z
}

// CheckRange checks the parts common to every query: a tenant, a
// campaign, a time zone and a range that is not empty. Its errors are
// EINVALID.
func CheckRange(tenant admeter.TenantID, campaign admeter.CampaignID, from, to time.Time, loc *time.Location) error {
	switch {
	case tenant == "":
		return admeter.Errorf(admeter.EINVALID, "a query needs a tenant")
	case campaign == "":
		return admeter.Errorf(admeter.EINVALID, "a query needs a campaign")
	case loc == nil:
		return admeter.Errorf(admeter.EINVALID, "a query needs a time zone")
	case !from.Before(to):
		return admeter.Errorf(admeter.EINVALID, "the query range is empty: from %s is not before to %s", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	return nil
}

// CheckFilter checks a query's traffic filter (EINVALID if unknown).
func CheckFilter(f TrafficFilter) error {
	if !f.Valid() {
		return admeter.Errorf(admeter.EINVALID, "unknown traffic filter %d: use store.FilterValid or store.FilterAll", f)
	}
	return nil
}

// dimIndex is each dimension's place in Dimensions.
var dimIndex = func() map[Dimension]int {
	m := map[Dimension]int{}
	for i, d := range Dimensions {
		m[d] = i
	}
	return m
}()

// DimensionOrder returns d's place in Dimensions, the order of a report's
// breakdown columns and sort keys; ok is false for an unknown dimension.
func DimensionOrder(d Dimension) (i int, ok bool) {
	i, ok = dimIndex[d]
	return i, ok
}

// CheckDimensions checks a breakdown: every dimension known, none twice
// (EINVALID otherwise).
func CheckDimensions(by []Dimension) error {
	seen := map[Dimension]bool{}
	for _, d := range by {
		if _, ok := dimIndex[d]; !ok {
			names := make([]string, len(Dimensions))
			for i, d := range Dimensions {
				names[i] = string(d)
			}
			return admeter.Errorf(admeter.EINVALID, "unknown dimension %q: use %s", d, strings.Join(names, ", "))
		}
		if seen[d] {
			return admeter.Errorf(admeter.EINVALID, "dimension %q is given twice", d)
		}
		seen[d] = true
	}
	return nil
}
