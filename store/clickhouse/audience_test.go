package clickhouse

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
	"github.com/admeter/admeter/store/storetest"
)

// testAudienceLargeCategories: a categories map whose literals make the
// statement longer than the server's default max_query_size (256 KiB)
// still answers, on one server and through the Distributed table (the
// storetest conformance cases check the semantics).
func testAudienceLargeCategories(t *testing.T, e env) {
	db := e.open(t, e.create(t), Options{})
	base := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	other := func(e *admeter.Event) { e.Tenant, e.Campaign, e.Placement = "t2", "c2", "p9" }
	storetest.Insert(t, db, 1,
		storetest.Imp(base.Add(time.Hour), storetest.User(1), storetest.OS(admeter.OSIOS)),
		storetest.Imp(base.Add(-24*time.Hour), storetest.User(1), other),
		storetest.Imp(base.Add(5*time.Hour), storetest.User(2), other),
	)
	q := store.AudienceQuery{Tenant: storetest.DefaultTenant, Campaign: storetest.DefaultCampaign, From: base, To: base.Add(24 * time.Hour),
		Categories:   map[admeter.PlacementID][]string{storetest.DefaultPlacement: {"483", "1"}, "p9": {"7"}},
		InterestDays: 1, InterestLookback: 72 * time.Hour, MaxInterests: 1}
	for i := range 20000 {
		q.Categories[admeter.PlacementID(fmt.Sprintf("placement-%06d", i))] = []string{"100", "200"}
	}
	if n := len(audienceSQL(q, db.events, view{})); n <= 256<<10 {
		t.Fatalf("the statement of %d placements is %d bytes, not over 256 KiB", len(q.Categories), n)
	}
	got, err := db.Audience(context.Background(), q)
	if err != nil {
		t.Fatalf("Audience: %v", err)
	}
	cell := func(dim, value string, users, baseline int64) store.AudienceCell {
		return store.AudienceCell{Dimension: dim, Value: value, Users: users, BaselineUsers: baseline}
	}
	want := &store.AudienceResult{Reach: 1, Baseline: 2, Cells: []store.AudienceCell{
		cell(store.AudienceDevice, "unknown", 1, 2),
		cell(store.AudienceInterest, "1", 1, 1), cell(store.AudienceInterest, "7", 0, 1),
		cell(store.AudienceOS, "ios", 1, 1), cell(store.AudienceOS, "unknown", 0, 1),
		cell(store.AudienceRegion, "", 1, 2),
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Audience =\n%+v, want\n%+v", got, want)
	}
}

func TestAudienceLargeCategories(t *testing.T) { testAudienceLargeCategories(t, single) }
func TestAudienceLargeCategoriesSharded(t *testing.T) {
	testAudienceLargeCategories(t, sharded(t))
}
