package insight

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/admeter/admeter/insight/dp"
	"github.com/admeter/admeter/store"
)

// record is a release as the ledger keeps it. Exact holds the store's exact
// counts: they never leave the ledger, and serve only to check later
// releases against this one.
type record struct {
	Version      int         `json:"v"`
	Placements   []string    `json:"placements,omitempty"`
	From         string      `json:"from"`
	To           string      `json:"to"`
	Noise        string      `json:"noise,omitempty"`
	EpsilonMilli int64       `json:"epsilon_milli,omitempty"`
	Exact        exactCounts `json:"exact"`
	Answer       *Audience   `json:"answer,omitempty"`
	Refused      string      `json:"refused,omitempty"`
}

// exactCounts are a release's exact counts: per dimension and value, the
// campaign's users and the baseline's.
type exactCounts struct {
	Reach    int64                          `json:"reach"`
	Baseline int64                          `json:"baseline"`
	Cells    map[string]map[string][2]int64 `json:"cells"`
}

// count returns the sum, over values of dimension dim, of the campaign's
// users (which 0) or the baseline's (which 1).
func (e *exactCounts) count(dim string, values []string, which int) int64 {
	var n int64
	for _, v := range values {
		n += e.Cells[dim][v][which]
	}
	return n
}

func decodeRecord(raw []byte) (*record, error) {
	var r record
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("decode privacy ledger record: %w", err)
	}
	if r.Version != 1 || (r.Answer == nil && r.Refused == "") {
		return nil, fmt.Errorf("decode privacy ledger record: unknown version %d or empty record", r.Version)
	}
	return &r, nil
}

// dimensions are the audience's dimensions in the order shown.
var dimensions = []string{store.AudienceInterest, store.AudienceRegion, store.AudienceOS, store.AudienceDevice}

// candidate is one value of a dimension on its way to publication.
type candidate struct {
	value string
	users int64 // what would be published: exact, or noisy with noise
	exact int64
	base  int64
}

// release applies the privacy rules to the store's exact answer: noise if
// asked, the threshold, folding, and (without noise) the check against the
// earlier overlapping releases. It returns the record to file.
func (s *Service) release(q *query, res *store.AudienceResult, earlier []*record) (*record, error) {
	k := int64(s.cfg.MinUsers)
	rec := &record{Version: 1, From: q.from.String(), To: q.to.String(), Noise: q.noise, EpsilonMilli: q.epsMilli,
		Exact: exactCounts{Reach: res.Reach, Baseline: res.Baseline, Cells: map[string]map[string][2]int64{}}}
	for _, p := range q.placements {
		rec.Placements = append(rec.Placements, string(p))
	}
	for _, c := range res.Cells {
		if rec.Exact.Cells[c.Dimension] == nil {
			rec.Exact.Cells[c.Dimension] = map[string][2]int64{}
		}
		rec.Exact.Cells[c.Dimension][c.Value] = [2]int64{c.Users, c.BaselineUsers}
	}

	reach := res.Reach
	cands := map[string][]candidate{}
	var info *NoiseInfo
	if q.noise != "" {
		n, ni, err := s.noise(q)
		if err != nil {
			return nil, fmt.Errorf("prepare %s noise: %w", q.noise, err)
		}
		info = ni
		z, err := n.Sample()
		if err != nil {
			return nil, err
		}
		reach += z
		for _, c := range res.Cells {
			// The cells that get noise, and may be published, are those
			// the platform's baseline holds at least k users of: a
			// value cannot enter the published domain because of one
			// user of this campaign.
			if c.BaselineUsers < k {
				continue
			}
			z, err := n.Sample()
			if err != nil {
				return nil, err
			}
			cands[c.Dimension] = append(cands[c.Dimension], candidate{value: c.Value, users: c.Users + z, exact: c.Users, base: c.BaselineUsers})
		}
	} else {
		for _, c := range res.Cells {
			cands[c.Dimension] = append(cands[c.Dimension], candidate{value: c.Value, users: c.Users, exact: c.Users, base: c.BaselineUsers})
		}
	}

	span := fmt.Sprintf("%s to %s", q.from, q.to)
	if reach < k {
		after := ""
		if q.noise != "" {
			after = " (counted with noise)"
		}
		rec.Refused = fmt.Sprintf("Campaign %s reached fewer than %d users%s from %s%s, so its audience cannot be described without describing individuals: "+
			"audience insight is refused. Ask for a longer range or more placements.", q.campaign.ID, k, after, span, placementsNote(q))
		return rec, nil
	}
	a := &Audience{Campaign: q.campaign.ID, From: q.from.String(), To: q.to.String(), Timezone: q.campaign.Timezone,
		Placements: q.placements, MinUsers: s.cfg.MinUsers, Reach: reach, Noise: info, Released: s.cfg.Now().UTC()}
	p := publisher{k: k, maxInterests: int64(s.cfg.MaxInterests), reach: reach, baseline: res.Baseline, noisy: q.noise != "",
		exact: &rec.Exact, earlier: earlier, name: s.cfg.CategoryName}
	for _, dim := range dimensions {
		a.Dimensions = append(a.Dimensions, p.publish(dim, cands[dim]))
	}
	if p.folded > 0 {
		a.Notes = append(a.Notes, fmt.Sprintf("%d values describing fewer than %d users were folded into \"other\".", p.folded, k))
	}
	if p.differenced > 0 {
		a.Notes = append(a.Notes, fmt.Sprintf("%d values were folded because they differ by fewer than %d users from an earlier release of this campaign "+
			"over an overlapping range (so that the difference of two answers never describes fewer than %d people); "+
			"ask for the same range again, or add noise, to see them.", p.differenced, k, k))
	}
	if p.complementary > 0 {
		a.Notes = append(a.Notes, fmt.Sprintf("%d more values were folded so that \"other\", which the reach and the other cells would give away, describes at least %d users.", p.complementary, k))
	}
	if p.otherSuppressed > 0 {
		a.Notes = append(a.Notes, fmt.Sprintf("\"other\" is left out of %d dimensions: it would describe fewer than %d users.", p.otherSuppressed, k))
	}
	if p.noIndex > 0 {
		a.Notes = append(a.Notes, fmt.Sprintf("%d values have no index: the platform's baseline of them is below %d users.", p.noIndex, k))
	}
	if q.noise != "" {
		a.Notes = append(a.Notes, fmt.Sprintf("Counts carry %s noise (epsilon %s); the threshold of %d users is applied to the noisy counts.",
			q.noise, FormatEpsilon(q.epsMilli), k))
	}
	rec.Answer = a
	return rec, nil
}

// placementsNote names the placements a refusal is about.
func placementsNote(q *query) string {
	if len(q.placements) == 0 {
		return ""
	}
	ps := make([]string, len(q.placements))
	for i, p := range q.placements {
		ps[i] = string(p)
	}
	return " on placements " + strings.Join(ps, ", ")
}

// publisher applies the threshold, folding and differencing to the
// dimensions of one release.
type publisher struct {
	k, maxInterests int64
	reach, baseline int64
	noisy           bool
	exact           *exactCounts
	earlier         []*record
	name            func(string) string

	folded, differenced, complementary, otherSuppressed, noIndex int
}

// differs reports whether the values of dim (the campaign's users, which
// 0, or the baseline's, which 1) count between 1 and limit-1 more or fewer
// than in an earlier release: publishing them would let the two answers be
// subtracted to describe fewer than limit people.
func (p *publisher) differs(dim string, values []string, which int, limit int64) bool {
	now := p.exact.count(dim, values, which)
	for _, e := range p.earlier {
		d := now - e.Exact.count(dim, values, which)
		if d < 0 {
			d = -d
		}
		if d >= 1 && d < limit {
			return true
		}
	}
	return false
}

// publish decides what of one dimension is published.
func (p *publisher) publish(dim string, cands []candidate) Dimension {
	k := p.k
	multi := dim == store.AudienceInterest
	// "other" of interests sums memberships, up to maxInterests per user:
	// it describes at least k users only when it counts k·maxInterests.
	otherLimit := k
	if multi {
		otherLimit = k * p.maxInterests
	}
	slices.SortFunc(cands, func(a, b candidate) int {
		if c := cmp.Compare(b.users, a.users); c != 0 {
			return c
		}
		return strings.Compare(a.value, b.value)
	})
	var published, folded []candidate
	for _, c := range cands {
		switch {
		case c.users < k:
			folded = append(folded, c)
			if p.noisy || c.exact > 0 {
				p.folded++
			}
		case !p.noisy && p.differs(dim, []string{c.value}, 0, k):
			folded = append(folded, c)
			p.differenced++
		default:
			published = append(published, c)
		}
	}
	// otherOK reports whether "other" may be published (or is empty).
	// With noise it depends on the noisy counts alone.
	otherOK := func() bool {
		sum := sumUsers(folded)
		if p.noisy {
			return sum >= otherLimit
		}
		return sum == 0 || (sum >= otherLimit && !p.differs(dim, values(folded), 0, otherLimit))
	}
	if !multi && !p.noisy {
		// Each user is in exactly one cell, so "other" is the reach less
		// the published cells: hiding it is not enough, the smallest
		// published cells are folded into it until it may be shown.
		for !otherOK() && len(published) > 0 {
			last := published[len(published)-1]
			published = published[:len(published)-1]
			folded = append(folded, last)
			p.complementary++
		}
	}
	d := Dimension{Name: dim, Cells: []Cell{}, Folded: len(folded)}
	for _, c := range published {
		d.Cells = append(d.Cells, Cell{Value: c.value, Name: p.label(dim, c.value), Users: c.users,
			Share: share(c.users, p.reach), Index: p.index(dim, []string{c.value}, c.users, k)})
	}
	if sum := sumUsers(folded); sum > 0 {
		if otherOK() {
			d.Other = &Cell{Value: "other", Name: "other", Users: sum, Share: share(sum, p.reach),
				Index: p.index(dim, values(folded), sum, otherLimit)}
		} else {
			d.OtherSuppressed = true
			p.otherSuppressed++
		}
	}
	return d
}

// index returns the index of values (published count users) against the
// baseline, or nil when the baseline's count of them is below limit, the
// baseline as a whole below k, or it differs too little from an earlier
// release's.
func (p *publisher) index(dim string, vals []string, users, limit int64) *int64 {
	base := p.exact.count(dim, vals, 1)
	if p.baseline < p.k || base < limit || p.differs(dim, vals, 1, limit) {
		p.noIndex++
		return nil
	}
	i := int64(math.Round(100 * share(users, p.reach) / (float64(base) / float64(p.baseline))))
	return &i
}

// label names a value for display.
func (p *publisher) label(dim, value string) string {
	switch {
	case dim == store.AudienceInterest && p.name != nil:
		if n := p.name(value); n != "" {
			return n
		}
	case value == "":
		return "unknown"
	}
	return ""
}

func share(n, of int64) float64 {
	if of <= 0 {
		return 0
	}
	return math.Round(float64(n)/float64(of)*1e4) / 1e4
}

func sumUsers(cs []candidate) int64 {
	var n int64
	for _, c := range cs {
		n += c.users
	}
	return n
}

func values(cs []candidate) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.value
	}
	return out
}

func sqrt(x float64) float64 { return math.Sqrt(x) }

// check that the mechanisms named here are dp's.
var _ = [...]string{dp.Laplace, dp.Gaussian}
