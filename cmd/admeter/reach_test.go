package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/mediaplan"
	"github.com/admeter/admeter/reach"
	"github.com/admeter/admeter/store"
)

// reachSets is a small answer of the store: 3 users on News only, 2 on
// Video only (twice each), 1 on both (twice on each), and its
// distributions.
func reachSets() *store.ReachSetResult {
	freq := func(counts ...int64) []int64 {
		f := make([]int64, store.MaxReachFrequency)
		copy(f, counts)
		return f
	}
	return &store.ReachSetResult{
		Sets:      []store.ReachSet{{Mask: 1, Users: 3, Impressions: 3}, {Mask: 2, Users: 2, Impressions: 4}, {Mask: 3, Users: 1, Impressions: 4}},
		Frequency: freq(3, 2, 0, 1),
		Groups: map[int]store.GroupReach{
			0: {Users: 4, Impressions: 5, Frequency: freq(3, 1)},
			1: {Users: 3, Impressions: 6, Frequency: freq(0, 3)},
		},
	}
}

// TestPrintReach prints a reach report made by package reach, costed and
// with a group withheld, and checks the tables show its numbers.
func TestPrintReach(t *testing.T) {
	sets := reachSets()
	rep, err := reach.Analyze(reach.Input{
		Groups: []reach.Group{{Key: "News", Name: "News", Cost: 5 * admeter.MicroCNY, Costed: true, Billed: 5},
			{Key: "Video", Name: "Video", Cost: 9 * admeter.MicroCNY, Costed: true, Billed: 6}},
		Sets: sets, Levels: []int{1, 2},
	})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(reach.Result{Scope: reach.Scope{Campaigns: []reach.CampaignRef{{ID: "123", Name: "Spring"}},
		From: "2026-11-01", To: "2026-11-07", Timezone: "Asia/Shanghai", By: "media", Filter: "valid"}, Report: rep})
	var out bytes.Buffer
	if err := printReach(&out, body); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"campaigns 123 (Spring), 2026-11-01 to 2026-11-07 (Asia/Shanghai), by media",
		"reach 6, impressions 11", "gross reach 7", "cost 14.00 CNY",
		"News", "Video", "step", "effective reach", "2+",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the reach tables lack %q:\n%s", want, out.String())
		}
	}
	if err := printReach(&out, []byte(`{"campaigns": []}`)); err == nil {
		t.Error("a body without a report printed")
	}
}

// TestPrintPlan prints a plan made by package mediaplan and checks the
// outcome table, each unit's reason in both languages, and the
// assumptions.
func TestPrintPlan(t *testing.T) {
	sets := reachSets()
	in := mediaplan.Input{Union: 6, UnionFrequency: sets.Frequency}
	for i, key := range []string{"News", "Video"} {
		g := sets.Groups[i]
		in.Units = append(in.Units, mediaplan.Unit{Key: key, Name: key, Impressions: g.Impressions, Users: g.Users, Frequency: g.Frequency,
			Model: admeter.CPM, Cost: (int64(i) + 1) * admeter.MicroCNY, Costed: true})
	}
	plan, err := mediaplan.Recommend(in)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(reach.PlanResult{Scope: reach.Scope{Campaigns: []reach.CampaignRef{{ID: "123", Name: "Spring"}}, By: "media"}, Plan: plan})
	var out bytes.Buffer
	if err := printPlan(&out, body); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{plan.Summary.EN, plan.Summary.ZH, "current (model)", "recommended", "why / 原因:", "assumptions / 假设:",
		plan.Units[0].Explanation.Reason.EN, plan.Units[1].Explanation.Reason.ZH, plan.Assumptions[0].ZH} {
		if !strings.Contains(text, want) {
			t.Errorf("the plan lacks %q:\n%s", want, text)
		}
	}
}
