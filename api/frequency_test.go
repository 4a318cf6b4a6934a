package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/admeter/admeter"
)

// thresholdOut is the part of a campaign the frequency-threshold tests read.
type thresholdOut struct {
	ID                 admeter.CampaignID `json:"id"`
	FrequencyThreshold *int               `json:"frequency_threshold"`
	Error              struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// shown returns the threshold the API showed, -1 if it showed none.
func (c thresholdOut) shown() int {
	if c.FrequencyThreshold == nil {
		return -1
	}
	return *c.FrequencyThreshold
}

// TestCreateCampaign_FrequencyThreshold: a campaign created without a
// frequency threshold, or with 0, shows the default and stores 0; one
// created with a threshold shows and stores it, in create, show and list.
func TestCreateCampaign_FrequencyThreshold(t *testing.T) {
	env := newCampaignEnv(t)
	for _, tt := range []struct {
		name   string
		member string // the frequency_threshold member, "" for none
		show   int
		stored int
	}{
		{"Omitted", ``, admeter.DefaultFrequencyThreshold, 0},
		{"Zero", `0`, admeter.DefaultFrequencyThreshold, 0},
		{"One", `1`, 1, 1},
		{"Three", `3`, 3, 3},
		{"Max", `1000`, 1000, 1000},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body := campaignBody + `}`
			if tt.member != "" {
				body = campaignBody + `, "frequency_threshold": ` + tt.member + `}`
			}
			var created, shown thresholdOut
			if code := env.call(t, http.MethodPost, "/api/v1/campaigns", body, &created); code != http.StatusCreated {
				t.Fatalf("create: %d %+v", code, created.Error)
			}
			if got := created.shown(); got != tt.show {
				t.Errorf("create shows frequency_threshold %d, want %d", got, tt.show)
			}
			if code := env.call(t, http.MethodGet, "/api/v1/campaigns/"+string(created.ID), "", &shown); code != http.StatusOK {
				t.Fatalf("show: %d", code)
			} else if got := shown.shown(); got != tt.show {
				t.Errorf("show shows frequency_threshold %d, want %d", got, tt.show)
			}
			var list struct{ Campaigns []thresholdOut }
			if code := env.call(t, http.MethodGet, "/api/v1/campaigns", "", &list); code != http.StatusOK {
				t.Fatalf("list: %d", code)
			}
			listed := false
			for _, c := range list.Campaigns {
				if c.ID == created.ID {
					listed = true
					if got := c.shown(); got != tt.show {
						t.Errorf("list shows frequency_threshold %d, want %d", got, tt.show)
					}
				}
			}
			if !listed {
				t.Errorf("list lacks campaign %s", created.ID)
			}
			c, err := env.meta.Campaign(t.Context(), env.tenant.ID, created.ID)
			if err != nil {
				t.Fatal(err)
			} else if c.FrequencyThreshold != tt.stored {
				t.Errorf("stored FrequencyThreshold = %d, want %d", c.FrequencyThreshold, tt.stored)
			}
		})
	}
}

// TestCampaign_FrequencyThresholdInvalid: a threshold out of range or not
// a whole number is 400 invalid naming frequency_threshold, on create and
// on edit, and nothing is stored.
func TestCampaign_FrequencyThresholdInvalid(t *testing.T) {
	env := newCampaignEnv(t)
	var c thresholdOut
	if code := env.call(t, http.MethodPost, "/api/v1/campaigns", campaignBody+`, "frequency_threshold": 5}`, &c); code != http.StatusCreated {
		t.Fatalf("create: %d %+v", code, c.Error)
	}
	for _, tt := range []struct {
		name, member, message string
	}{
		{"Negative", `-1`, "frequency_threshold -1 is out of range: use 1 to 1000"},
		{"TooMany", `1001`, "frequency_threshold 1001 is out of range"},
		{"Fraction", `2.5`, "frequency_threshold"},
		{"String", `"10"`, "frequency_threshold"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out thresholdOut
			code := env.call(t, http.MethodPost, "/api/v1/campaigns", campaignBody+`, "frequency_threshold": `+tt.member+`}`, &out)
			if code != http.StatusBadRequest || out.Error.Code != admeter.EINVALID || !strings.Contains(out.Error.Message, tt.message) {
				t.Errorf("create: %d %+v, want 400 with %q", code, out.Error, tt.message)
			}
			code = env.call(t, http.MethodPatch, "/api/v1/campaigns/"+string(c.ID), `{"frequency_threshold": `+tt.member+`}`, &out)
			if code != http.StatusBadRequest || out.Error.Code != admeter.EINVALID || !strings.Contains(out.Error.Message, tt.message) {
				t.Errorf("patch: %d %+v, want 400 with %q", code, out.Error, tt.message)
			}
		})
	}
	cs, err := env.meta.Campaigns(t.Context(), env.tenant.ID)
	if err != nil {
		t.Fatal(err)
	} else if len(cs) != 1 || cs[0].FrequencyThreshold != 5 {
		t.Fatalf("after refused writes: %d campaigns, the first with threshold %d; want 1 with 5", len(cs), cs[0].FrequencyThreshold)
	}
	if n := env.auditCount(t, "campaign.frequency_threshold"); n != 0 {
		t.Errorf("%d campaign.frequency_threshold audit entries after refused edits, want 0", n)
	}
}

// TestUpdateCampaign_FrequencyThreshold edits a campaign's threshold: the
// PATCH and later reads show the effective value, an edit that leaves it
// out keeps it, 0 goes back to the default, and each change of the
// effective value (only those) is audited with the values before and after.
func TestUpdateCampaign_FrequencyThreshold(t *testing.T) {
	env := newCampaignEnv(t)
	var created thresholdOut
	if code := env.call(t, http.MethodPost, "/api/v1/campaigns", campaignBody+`}`, &created); code != http.StatusCreated {
		t.Fatalf("create: %d %+v", code, created.Error)
	}
	path := "/api/v1/campaigns/" + string(created.ID)
	type change struct{ from, to int }
	for _, tt := range []struct {
		name   string
		patch  string
		show   int
		stored int
		audit  *change // the campaign.frequency_threshold entry written, nil for none
	}{
		{"OtherField", `{"name": "Summer"}`, 10, 0, nil},
		{"Set", `{"frequency_threshold": 3}`, 3, 3, &change{10, 3}},
		{"Kept", `{"name": "Autumn"}`, 3, 3, nil},
		{"SameAgain", `{"frequency_threshold": 3}`, 3, 3, nil},
		{"Null", `{"frequency_threshold": null}`, 3, 3, nil},
		{"Raise", `{"frequency_threshold": 1000}`, 1000, 1000, &change{3, 1000}},
		{"BackToDefault", `{"frequency_threshold": 0}`, 10, 0, &change{1000, 10}},
		// The default's value given explicitly: stored, but the effective
		// threshold, and so every report, is unchanged.
		{"DefaultExplicitly", `{"frequency_threshold": 10}`, 10, 10, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := env.auditCount(t, "campaign.frequency_threshold")
			var out, shown thresholdOut
			if code := env.call(t, http.MethodPatch, path, tt.patch, &out); code != http.StatusOK {
				t.Fatalf("patch: %d %+v", code, out.Error)
			} else if got := out.shown(); got != tt.show {
				t.Errorf("patch answers frequency_threshold %d, want %d", got, tt.show)
			}
			if code := env.call(t, http.MethodGet, path, "", &shown); code != http.StatusOK {
				t.Fatalf("show: %d", code)
			} else if got := shown.shown(); got != tt.show {
				t.Errorf("show after patch: frequency_threshold %d, want %d", got, tt.show)
			}
			c, err := env.meta.Campaign(t.Context(), env.tenant.ID, created.ID)
			if err != nil {
				t.Fatal(err)
			} else if c.FrequencyThreshold != tt.stored {
				t.Errorf("stored FrequencyThreshold = %d, want %d", c.FrequencyThreshold, tt.stored)
			}

			es, err := env.meta.AuditEntries(t.Context(), admeter.AuditQuery{Tenant: env.tenant.ID, Action: "campaign.frequency_threshold"})
			if err != nil {
				t.Fatal(err)
			}
			if tt.audit == nil {
				if len(es) != before {
					t.Fatalf("%d campaign.frequency_threshold entries written, want none", len(es)-before)
				}
				return
			}
			if len(es) != before+1 {
				t.Fatalf("%d campaign.frequency_threshold entries written, want 1", len(es)-before)
			}
			last := es[len(es)-1]
			if last.Action != "campaign.frequency_threshold" || last.Target != string(created.ID) || last.Outcome != "ok" || !strings.HasPrefix(last.Actor, "token:") {
				t.Fatalf("entry: %+v", last)
			}
			if from, to := canonical(t, last.Details["from"]), canonical(t, last.Details["to"]); from != canonical(t, tt.audit.from) || to != canonical(t, tt.audit.to) {
				t.Errorf("entry details from %s to %s, want from %d to %d", from, to, tt.audit.from, tt.audit.to)
			}
		})
	}
}
