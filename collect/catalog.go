package collect

import (
	"sync/atomic"
	"time"

	"github.com/admeter/admeter"
)

// Catalog is the collector's in-memory view of every campaign and placement,
// so that a monitoring URL is resolved without touching the metadata store.
// It is replaced whole (copy on write) when campaigns change; lookups take no
// lock.
type Catalog struct {
	snap atomic.Pointer[catalogSnapshot]
}

type catalogSnapshot struct {
	placements map[placementKey]*target
	campaigns  map[admeter.CampaignID]*admeter.Campaign
	locations  map[admeter.CampaignID]*time.Location
}

type placementKey struct {
	campaign  admeter.CampaignID
	placement admeter.PlacementID
}

// target is what the collector needs to know about one placement.
type target struct {
	tenant    admeter.TenantID
	campaign  *admeter.Campaign
	placement admeter.PlacementID
}

// Replace swaps in a new set of campaigns.
func (c *Catalog) Replace(campaigns []*admeter.Campaign) {
	s := &catalogSnapshot{
		placements: make(map[placementKey]*target),
		campaigns:  make(map[admeter.CampaignID]*admeter.Campaign, len(campaigns)),
		locations:  make(map[admeter.CampaignID]*time.Location, len(campaigns)),
	}
	for _, cp := range campaigns {
		s.campaigns[cp.ID] = cp
		if loc, err := time.LoadLocation(cp.Timezone); err == nil {
			s.locations[cp.ID] = loc
		}
		for _, p := range cp.Placements {
			s.placements[placementKey{cp.ID, p.ID}] = &target{tenant: cp.Tenant, campaign: cp, placement: p.ID}
		}
	}
	c.snap.Store(s)
}

// Len returns the number of placements known.
func (c *Catalog) Len() int {
	if s := c.snap.Load(); s != nil {
		return len(s.placements)
	}
	return 0
}

// lookup returns the placement p of campaign k, or nil.
func (c *Catalog) lookup(k admeter.CampaignID, p admeter.PlacementID) *target {
	if s := c.snap.Load(); s != nil {
		return s.placements[placementKey{k, p}]
	}
	return nil
}

// campaign returns campaign k, or nil. A click whose placement is unknown can
// still send the user to its campaign's landing page.
func (c *Catalog) campaign(k admeter.CampaignID) *admeter.Campaign {
	if s := c.snap.Load(); s != nil {
		return s.campaigns[k]
	}
	return nil
}

// Location returns the time zone of campaign k, or nil if k is unknown.
func (c *Catalog) Location(k admeter.CampaignID) *time.Location {
	if s := c.snap.Load(); s != nil {
		return s.locations[k]
	}
	return nil
}
