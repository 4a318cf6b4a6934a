package mediaplan

import (
	"math"
	"slices"
	"strconv"

	"github.com/admeter/admeter"
)

// MaxUnits is the most units an Input may have (store.MaxReachGroups: a
// ReachSets query measures at most that many groups at once).
const MaxUnits = 64

// maxCount bounds every count and amount of an Input, so that sums of them
// stay exact in float64.
const maxCount = 1 << 50

// DefaultMaxScale is the inventory limit when Input.MaxScale is 0: a unit
// may grow to twice its measured impressions.
const DefaultMaxScale = 2

// DefaultCaps are the frequency caps Recommend tries when Input.Caps is
// empty: none, and 1 to 10, 12 and 15 impressions per user over the range.
var DefaultCaps = []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 15}

// Unit is one unit of a media plan, a placement or a medium (a group of a
// store.ReachSetResult), with what it delivered over the measured range
// and what it cost.
type Unit struct {
	Key, Name string
	// Impressions are the unit's impressions with a user (GroupReach
	// Impressions), Users its reach, Frequency its frequency distribution
	// (Levels entries, Frequency[f-1] users seen exactly f times, the last
	// Levels or more; nil when Users is 0).
	Impressions int64
	Users       int64
	Frequency   []int64
	// Model is how the unit is bought; "" when it has no price or its
	// placements are bought under different models.
	Model admeter.BuyingModel
	// Cost is what the unit cost over the range in millionths of CNY,
	// valid only when Costed.
	Cost   int64
	Costed bool
}

// Input is what Recommend plans from: the measured units of one range and
// their deduplicated union, and the planning settings.
type Input struct {
	Units []Unit
	// Union is the deduplicated reach of all the units together and
	// UnionFrequency its frequency distribution (ReachSetResult Frequency).
	Union          int64
	UnionFrequency []int64
	// Effective is the effective frequency: the plan maximises the users
	// reached Effective or more times. 0 means 1; at most Levels.
	Effective int
	// MaxScale is the inventory limit: a unit may grow to at most MaxScale
	// times its measured impressions. 0 means DefaultMaxScale; 1 to 100.
	MaxScale float64
	// Caps are the candidate per-unit frequency caps over the range (0:
	// no cap), 0 to Levels; empty means DefaultCaps. No cap is always
	// tried.
	Caps []int
}

// validate checks in and fills the defaults of the planning settings. The
// errors are EINVALID and name the field.
func (in *Input) validate() error {
	switch {
	case len(in.Units) == 0:
		return admeter.Errorf(admeter.EINVALID, "media plan without units; give at least one placement or medium")
	case len(in.Units) > MaxUnits:
		return admeter.Errorf(admeter.EINVALID, "media plan with %d units; plan at most %d at once (group placements by medium)", len(in.Units), MaxUnits)
	}
	keys := make(map[string]bool, len(in.Units))
	var sumUsers, sumImp, maxUsers float64
	for i := range in.Units {
		u := &in.Units[i]
		field := "units[" + strconv.Itoa(i) + "]"
		switch {
		case u.Key == "":
			return admeter.Errorf(admeter.EINVALID, "%s has no key", field)
		case keys[u.Key]:
			return admeter.Errorf(admeter.EINVALID, "%s key %q is given twice; keys must be unique", field, u.Key)
		case u.Impressions < 0 || u.Users < 0 || u.Cost < 0 || u.Impressions > maxCount || u.Cost > maxCount:
			return admeter.Errorf(admeter.EINVALID, "%s (%s) has a negative or too large count or cost", field, u.Key)
		case u.Users > u.Impressions:
			return admeter.Errorf(admeter.EINVALID, "%s (%s) has %d users but %d impressions; every user has an impression", field, u.Key, u.Users, u.Impressions)
		case u.Users == 0 && u.Impressions > 0:
			return admeter.Errorf(admeter.EINVALID, "%s (%s) has impressions but no users; give impressions with a user only", field, u.Key)
		}
		switch u.Model {
		case "", admeter.CPM, admeter.CPC, admeter.CPD, admeter.Fixed:
		default:
			return admeter.Errorf(admeter.EINVALID, "%s (%s) buying model %q is not cpm, cpc, cpd, fixed or empty", field, u.Key, u.Model)
		}
		if err := checkFrequency(field+".frequency", u.Frequency, u.Users, u.Impressions); err != nil {
			return err
		}
		keys[u.Key] = true
		sumUsers += float64(u.Users)
		sumImp += float64(u.Impressions)
		maxUsers = max(maxUsers, float64(u.Users))
	}
	if u := float64(in.Union); u < maxUsers || u > sumUsers {
		return admeter.Errorf(admeter.EINVALID, "union reach %d is outside the units' largest reach %.0f and their sum %.0f", in.Union, maxUsers, sumUsers)
	}
	if err := checkFrequency("union_frequency", in.UnionFrequency, in.Union, int64(sumImp)); err != nil {
		return err
	}
	if in.Effective == 0 {
		in.Effective = 1
	}
	if in.Effective < 1 || in.Effective > Levels {
		return admeter.Errorf(admeter.EINVALID, "effective frequency %d is outside 1 to %d", in.Effective, Levels)
	}
	if in.MaxScale == 0 {
		in.MaxScale = DefaultMaxScale
	}
	if !(in.MaxScale >= 1 && in.MaxScale <= 100) { // NaN too
		return admeter.Errorf(admeter.EINVALID, "inventory limit %v is outside 1 to 100 times the measured impressions", in.MaxScale)
	}
	caps := in.Caps
	if len(caps) == 0 {
		caps = DefaultCaps
	}
	caps = append([]int{0}, caps...)
	for _, c := range caps {
		if c < 0 || c > Levels {
			return admeter.Errorf(admeter.EINVALID, "frequency cap %d is outside 0 (none) to %d", c, Levels)
		}
	}
	slices.Sort(caps)
	in.Caps = slices.Compact(caps)
	return nil
}

// checkFrequency checks a frequency distribution of users reached: nil
// when users is 0, else Levels entries, none negative, adding up to users,
// and no more impressions than impressions.
func checkFrequency(field string, freq []int64, users, impressions int64) error {
	if len(freq) == 0 && users == 0 {
		return nil
	}
	if len(freq) != Levels {
		return admeter.Errorf(admeter.EINVALID, "%s has %d entries; give %d (the last for %d or more)", field, len(freq), Levels, Levels)
	}
	var n, imp float64
	for f, v := range freq {
		if v < 0 || v > maxCount {
			return admeter.Errorf(admeter.EINVALID, "%s[%d] is %d; counts are 0 or more", field, f, v)
		}
		n += float64(v)
		imp += float64(f+1) * float64(v)
	}
	switch {
	case n != float64(users):
		return admeter.Errorf(admeter.EINVALID, "%s adds up to %.0f users, not %d", field, n, users)
	case imp > float64(impressions):
		return admeter.Errorf(admeter.EINVALID, "%s needs at least %.0f impressions, more than %d", field, imp, impressions)
	case math.IsInf(imp, 0):
		return admeter.Errorf(admeter.EINVALID, "%s is too large", field)
	}
	return nil
}
