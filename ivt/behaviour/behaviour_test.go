package behaviour_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/ivt/behaviour"
	"github.com/admeter/admeter/store"
	"github.com/admeter/admeter/store/duckdb"
	"github.com/admeter/admeter/store/storetest"
)

func TestParseRules(t *testing.T) {
	def := behaviour.DefaultRules()
	if err := def.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	tests := []struct {
		name, json string
		check      func(store.BehaviourRules) bool
		err        string
	}{
		{"empty object keeps defaults", `{}`, func(r store.BehaviourRules) bool { return r.MaxNets == def.MaxNets && len(r.UserFrequency) == 3 }, ""},
		{"override", `{"user_frequency":[{"window":"90s","max":4}],"min_click_delay":"500ms","user_ctr":{"min_clicks":3,"max_ctr":0.4}}`,
			func(r store.BehaviourRules) bool {
				return len(r.UserFrequency) == 1 && r.UserFrequency[0] == store.WindowLimit{Window: 90 * time.Second, Max: 4} &&
					r.MinClickDelay == 500*time.Millisecond && r.UserCTR.MaxCTR == 0.4 && r.OrphanLookback == def.OrphanLookback
			}, ""},
		{"turn rules off", `{"net_frequency":[],"concentration_min":0,"hop_window":"0s"}`,
			func(r store.BehaviourRules) bool {
				return len(r.NetFrequency) == 0 && r.ConcentrationMin == 0 && r.HopWindow == 0
			}, ""},
		{"unknown field", `{"max_net":3}`, nil, "unknown field"},
		{"duration as number", `{"orphan_skew":60}`, nil, "must be a string"},
		{"bad duration", `{"orphan_skew":"soon"}`, nil, "soon"},
		{"window too long", `{"user_frequency":[{"window":"48h","max":3}]}`, nil, "24h"},
		{"rate above one", `{"net_ctr":{"min_clicks":3,"max_ctr":2}}`, nil, "between 0 and 1"},
		{"not json", `user_frequency=3`, nil, "invalid character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := behaviour.ParseRules([]byte(tt.json))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || admeter.ErrorCode(err) != admeter.EINVALID {
					t.Fatalf("err = %v, want EINVALID containing %q", err, tt.err)
				}
				return
			}
			if err != nil || !tt.check(r) {
				t.Fatalf("ParseRules = %+v, %v", r, err)
			}
		})
	}
}

func TestLoadRules(t *testing.T) {
	if r, err := behaviour.LoadRules(""); err != nil || r.MaxNets != behaviour.DefaultRules().MaxNets {
		t.Fatalf("no file: %+v, %v", r, err)
	}
	path := filepath.Join(t.TempDir(), "rules.json")
	if err := os.WriteFile(path, []byte(`{"max_nets": 7}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if r, err := behaviour.LoadRules(path); err != nil || r.MaxNets != 7 {
		t.Fatalf("file: %+v, %v", r, err)
	}
	if _, err := behaviour.LoadRules(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Fatal("a missing file was accepted")
	}
}

// rollups refreshes rollups as the server does, in UTC.
type rollups struct{ s store.Store }

func (r rollups) Refresh(ctx context.Context, tenant admeter.TenantID, campaign admeter.CampaignID, from, to time.Time) error {
	return r.s.RefreshRollups(ctx, tenant, campaign, time.UTC, store.TimeSpan{From: from, To: to}.Days(time.UTC))
}

// TestJobRun: a device firing 20 impressions in two minutes is taken out of
// today's valid traffic, in reports and rollups alike, and counted in the
// metrics; the next run changes nothing.
func TestJobRun(t *testing.T) {
	ctx := context.Background()
	s, err := duckdb.Open(filepath.Join(t.TempDir(), "store.duckdb"), duckdb.DefaultOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	now := time.Now().UTC().Truncate(time.Hour)
	if now.Hour() == 0 {
		now = now.Add(time.Hour)
	}
	start := now.Add(-time.Hour)
	var evs []admeter.Event
	for i := range 20 {
		evs = append(evs, storetest.Imp(start.Add(time.Duration(i)*6*time.Second), storetest.User(1)))
	}
	evs = append(evs, storetest.Imp(start, storetest.User(2)), storetest.Imp(start.Add(time.Minute), storetest.User(3)))
	storetest.Insert(t, s, 1, evs...)
	day := store.DateOf(start)
	if err := s.RefreshRollups(ctx, storetest.DefaultTenant, storetest.DefaultCampaign, time.UTC, []store.Date{day}); err != nil {
		t.Fatal(err)
	}

	reg := prometheus.NewRegistry()
	job, err := behaviour.New(behaviour.Config{Rules: behaviour.DefaultRules(), Now: func() time.Time { return now }}, s, rollups{s}, nil, reg)
	if err != nil {
		t.Fatal(err)
	}
	res, err := job.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Days) != 2 || res.Days[1].Day != day || res.Days[1].Changed != 20 || res.Days[1].Flagged[admeter.IVTFrequency] != 20 {
		t.Fatalf("Run = %+v", res)
	}
	rep, err := s.Report(ctx, store.ReportQuery{Tenant: storetest.DefaultTenant, Campaign: storetest.DefaultCampaign,
		From: day.In(time.UTC), To: day.In(time.UTC).AddDate(0, 0, 1), Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Total.Impressions != 2 || rep.Total.InvalidImpressions != 20 || rep.Total.UV != 2 {
		t.Errorf("report after the run: %+v", rep.Total)
	}
	rows, err := s.Daily(ctx, store.DailyQuery{Tenant: storetest.DefaultTenant, Campaign: storetest.DefaultCampaign, From: day, To: day})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Impressions != 2 || rows[0].InvalidImpressions != 20 {
		t.Errorf("rollups after the run: %+v", rows)
	}
	want := `
# HELP admeter_ivt_behaviour_changed_total Events whose behavioural verdict a run changed (set or cleared).
# TYPE admeter_ivt_behaviour_changed_total counter
admeter_ivt_behaviour_changed_total 20
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "admeter_ivt_behaviour_changed_total"); err != nil {
		t.Error(err)
	}
	again, err := job.Run(ctx)
	if err != nil || again.Days[1].Changed != 0 {
		t.Errorf("second run: %+v, %v", again, err)
	}
	if n, err := testutil.GatherAndCount(reg, "admeter_ivt_behaviour_runs_total", "admeter_ivt_behaviour_flagged_today"); err != nil || n < 2 {
		t.Errorf("metrics: %d series, %v", n, err)
	}
}
