package admeter

import (
	"net/url"
	"slices"
	"strings"
	"time"
)

// TenantID identifies a customer: an advertiser, an agency or a media company.
type TenantID string

// TenantKind says what kind of customer a tenant is.
type TenantKind string

// The kinds of tenant.
const (
	TenantAdvertiser TenantKind = "advertiser"
	TenantAgency     TenantKind = "agency"
	TenantMedia      TenantKind = "media"
)

// Valid reports whether k is one of the defined kinds.
func (k TenantKind) Valid() bool {
	switch k {
	case TenantAdvertiser, TenantAgency, TenantMedia:
		return true
	}
	return false
}

// Tenant is a customer account. Its API tokens are never part of this type:
// the metadata store keeps only their hashes.
type Tenant struct {
	ID   TenantID
	Name string
	Kind TenantKind
	// Status is where the account stands. A tenant the operator creates
	// directly is active; a self-service registration starts pending.
	Status TenantStatus
	// StatusNote is the operator's note on the last status change (how
	// the company was verified, why it was suspended).
	StatusNote string
	// Registration is the company's registration data; it is zero for a
	// tenant the operator created without one.
	Registration Registration
	// Industry is the tenant's industry vertical, by which its campaigns
	// are pooled in industry benchmarks; "" (not set) keeps them out.
	Industry Industry
	Created  time.Time
	// Closed is when the account was closed (zero: not closed).
	Closed time.Time
}

// Validate returns an EINVALID error describing the first problem with t:
// a name and kind are required, Status must be empty or defined, and
// Registration, if any of its fields is set, must be complete and valid (it
// is normalised in place); Industry must be empty or defined.
func (t *Tenant) Validate() error {
	name := strings.TrimSpace(t.Name)
	switch {
	case name == "":
		return Errorf(EINVALID, "name is required")
	case len(name) > 200:
		return Errorf(EINVALID, "name is longer than 200 bytes")
	case !t.Kind.Valid():
		return Errorf(EINVALID, "kind must be advertiser, agency or media, not %q", t.Kind)
	case t.Status != "" && !t.Status.Valid():
		return Errorf(EINVALID, "status must be pending, verified, active, suspended or closed, not %q", t.Status)
	}
	if err := CheckIndustry(t.Industry); err != nil {
		return err
	}
	if t.Registration != (Registration{}) {
		return t.Registration.Validate()
	}
	return nil
}

// ValidateRegistration checks a self-service registration: Registration is
// required and normalised in place, an empty Name defaults to the company
// name, and then t must pass Validate.
func (t *Tenant) ValidateRegistration() error {
	if err := t.Registration.Validate(); err != nil {
		return err
	}
	if strings.TrimSpace(t.Name) == "" {
		t.Name = t.Registration.Company
	}
	return t.Validate()
}

// CampaignID identifies a campaign. It is a numeric string: the k parameter of
// monitoring URLs.
type CampaignID string

// PlacementID identifies a placement (an ad slot on one media) within the
// system. It is short and alphanumeric: the p parameter of monitoring URLs.
type PlacementID string

// DefaultTimezone is the time zone of a campaign that names none.
const DefaultTimezone = "Asia/Shanghai"

// Campaign is an advertising campaign whose impressions and clicks admeter
// measures.
type Campaign struct {
	ID     CampaignID
	Tenant TenantID
	Name   string
	// LandingURL is where a click goes when its own target is missing or not
	// allowed.
	LandingURL string
	// AllowedHosts are the hosts, besides LandingURL's, that a click may
	// redirect to.
	AllowedHosts []string
	// Timezone is the IANA zone in which days and hours are reported.
	Timezone   string
	Placements []Placement
	Created    time.Time
	// Stopped is true while the campaign's tenant is not active (suspended
	// or closed): its monitoring URLs still answer, and clicks still
	// redirect, but no event is recorded.
	Stopped bool
	// Attribution says how conversions are attributed to the campaign's
	// impressions and clicks, and whether clicks carry a click id to the
	// landing page.
	Attribution Attribution
	// FrequencyThreshold is the number of impressions per user beyond
	// which further impressions count as frequency waste in the campaign's
	// reach report, over the report's date range: with 10, a user's 11th
	// and later impressions are waste. 0 means DefaultFrequencyThreshold;
	// WasteAbove returns the effective value. Validate allows 0 to
	// MaxFrequencyThreshold.
	FrequencyThreshold int
}

// DefaultFrequencyThreshold is the frequency threshold of a campaign that
// sets none (Campaign.FrequencyThreshold 0).
const DefaultFrequencyThreshold = 10

// MaxFrequencyThreshold is the largest Campaign.FrequencyThreshold.
const MaxFrequencyThreshold = 1000

// WasteAbove returns the campaign's effective frequency threshold: the
// number of impressions per user beyond which further impressions are
// frequency waste. It is c.FrequencyThreshold, or DefaultFrequencyThreshold
// when that is 0 (or, on a campaign that failed Validate, out of range).
func (c *Campaign) WasteAbove() int {
	if c.FrequencyThreshold <= 0 || c.FrequencyThreshold > MaxFrequencyThreshold {
		return DefaultFrequencyThreshold
	}
	return c.FrequencyThreshold
}

// Placement is one ad slot of a campaign on one media.
type Placement struct {
	ID       PlacementID
	Campaign CampaignID
	Name     string
	Media    string
	// MediaTenant is the media tenant whose placement this is, "" if the
	// media has no account. That tenant may see the placement's numbers.
	MediaTenant TenantID
	// Categories are the IAB Content Taxonomy category ids of the content
	// the placement appears in (e.g. "483" for Sports), at most
	// MaxPlacementCategories, none repeated; nil for none. Validate checks
	// their form only: package taxonomy knows which ids exist, and the
	// callers that accept them (api, console) check them against it.
	Categories []string
	// Price is how the placement is bought and at what price; nil when its
	// cost is unknown. Validate checks it (Price.Validate).
	Price *Price
}

// MaxPlacementCategories is how many content categories a placement may
// carry.
const MaxPlacementCategories = 10

// Validate checks c and normalises it in place: it trims names, lowercases
// hosts and defaults the time zone. It returns an EINVALID error describing
// the first problem found.
func (c *Campaign) Validate() error {
	c.Name = strings.TrimSpace(c.Name)
	if c.Name == "" {
		return Errorf(EINVALID, "name is required")
	} else if len(c.Name) > 200 {
		return Errorf(EINVALID, "name is longer than 200 bytes")
	}
	u, err := url.Parse(c.LandingURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Errorf(EINVALID, "landing_url must be an absolute http(s) URL, not %q", c.LandingURL)
	}
	for i, h := range c.AllowedHosts {
		h = strings.ToLower(strings.TrimSpace(h))
		if h == "" || strings.ContainsAny(h, "/:?#@ ") {
			return Errorf(EINVALID, "allowed_hosts[%d] must be a bare host name such as shop.example.com, not %q", i, c.AllowedHosts[i])
		}
		c.AllowedHosts[i] = h
	}
	if err := c.Attribution.Validate(); err != nil {
		return err
	}
	if c.FrequencyThreshold < 0 || c.FrequencyThreshold > MaxFrequencyThreshold {
		return Errorf(EINVALID, "frequency_threshold %d is out of range: use 1 to %d impressions per user, or 0 for the default (%d)",
			c.FrequencyThreshold, MaxFrequencyThreshold, DefaultFrequencyThreshold)
	}
	if c.Timezone == "" {
		c.Timezone = DefaultTimezone
	}
	if _, err := time.LoadLocation(c.Timezone); err != nil {
		return Errorf(EINVALID, "timezone %q is not an IANA time zone such as Asia/Shanghai", c.Timezone)
	}
	if len(c.Placements) == 0 {
		return Errorf(EINVALID, "a campaign needs at least one placement")
	} else if len(c.Placements) > 1000 {
		return Errorf(EINVALID, "a campaign has at most 1000 placements")
	}
	for i := range c.Placements {
		p := &c.Placements[i]
		p.Name = strings.TrimSpace(p.Name)
		p.Media = strings.TrimSpace(p.Media)
		if p.Name == "" {
			return Errorf(EINVALID, "placements[%d].name is required", i)
		} else if p.Media == "" {
			return Errorf(EINVALID, "placements[%d].media is required", i)
		}
		if err := p.validateCategories(i); err != nil {
			return err
		}
		if err := p.validatePrice(i); err != nil {
			return err
		}
	}
	return nil
}

// validateCategories checks the form of p.Categories, the categories of
// placements[i], and normalises them in place: ids are trimmed, and an empty
// list becomes nil. An id is 1 to 16 ASCII letters and digits.
func (p *Placement) validateCategories(i int) error {
	if len(p.Categories) == 0 {
		p.Categories = nil
		return nil
	} else if len(p.Categories) > MaxPlacementCategories {
		return Errorf(EINVALID, "placements[%d].categories has %d ids; a placement has at most %d", i, len(p.Categories), MaxPlacementCategories)
	}
	for j, id := range p.Categories {
		id = strings.TrimSpace(id)
		if id == "" || len(id) > 16 || strings.IndexFunc(id, func(r rune) bool {
			return !('0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z')
		}) >= 0 {
			return Errorf(EINVALID, "placements[%d].categories[%d] %q is not a category id such as \"483\"", i, j, p.Categories[j])
		}
		if slices.Contains(p.Categories[:j], id) {
			return Errorf(EINVALID, "placements[%d].categories[%d] %q is given twice", i, j, id)
		}
		p.Categories[j] = id
	}
	return nil
}

// RedirectAllowed reports whether a click may be redirected to host: the
// landing URL's host or one of AllowedHosts, compared without case.
func (c *Campaign) RedirectAllowed(host string) bool {
	host = strings.ToLower(host)
	if host == "" {
		return false
	}
	if u, err := url.Parse(c.LandingURL); err == nil && strings.ToLower(u.Hostname()) == host {
		return true
	}
	for _, h := range c.AllowedHosts {
		if h == host {
			return true
		}
	}
	return false
}
