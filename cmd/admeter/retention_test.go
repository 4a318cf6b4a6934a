package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/admeter/admeter/keystore"
)

// TestRetentionEndToEnd moves the server's retention clock 200 days ahead:
// a dry run shows what would go and deletes nothing; a run drops the raw
// events by whole days, keeps the daily rollups, removes the loaded log,
// and destroys the key version no event uses any more; reports over those
// days answer from the rollups and say so.
func TestRetentionEndToEnd(t *testing.T) {
	var shift atomic.Int64
	cfg := DefaultServeConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	cfg.MasterKey = testMasterKey
	m := NewMain(cfg, nil)
	m.Now = func() time.Time { return time.Now().Add(time.Duration(shift.Load())) }
	if err := m.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	base := "http://" + m.Addr()
	tok, c := setupCampaign(t, base, cfg.DataDir, 1)
	op, _ := os.ReadFile(filepath.Join(cfg.DataDir, "operator.token"))
	opTok := strings.TrimSpace(string(op))

	for i := range 4 {
		if resp, _ := get(t, fmt.Sprintf("%s/x/k=%s&p=%s&m11=retention000000%02d", base, c.ID, c.Placements[0].ID, i%2), nil); resp.StatusCode != 200 {
			t.Fatal(resp.Status)
		}
	}
	// And one from a rooted device: invalid traffic, kept apart in rollups.
	if resp, _ := get(t, fmt.Sprintf("%s/x/k=%s&p=%s&m11=retention00000009&svl=%%7B%%22l1%%22%%3A1%%7D", base, c.ID, c.Placements[0].ID),
		map[string]string{"User-Agent": "Dalvik/2.1.0 (Linux; U; Android 13)"}); resp.StatusCode != 200 {
		t.Fatal(resp.Status)
	}
	ctx := t.Context()
	if err := (pipeline{log: m.log, store: m.store, catalog: m.catalog, loading: true}).Drain(ctx); err != nil {
		t.Fatal(err)
	}
	m.loader.RefreshRollups(ctx)
	day := time.Now().In(shanghai()).Format(time.DateOnly)

	// Under the real clock nothing is due.
	var res struct {
		DryRun        bool     `json:"dry_run"`
		Events        int64    `json:"events"`
		Days          []any    `json:"days"`
		LogSegments   int      `json:"log_segments"`
		KeysDestroyed []uint32 `json:"keys_destroyed"`
	}
	if st := apiCall(t, "POST", base+"/api/v1/admin/retention", opTok, map[string]bool{"dry_run": true}, &res); st != 200 || len(res.Days) != 0 {
		t.Fatalf("dry run now: %d %+v", st, res)
	}
	if st := apiCall(t, "POST", base+"/api/v1/admin/retention", tok, map[string]bool{"dry_run": true}, nil); st != 401 {
		t.Fatalf("a tenant ran retention: status %d", st)
	}

	// Rotate the key: new events use version 2; version 1 is still in use.
	if _, err := m.keys.ks.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m.keys.rebuild(); err != nil {
		t.Fatal(err)
	}
	shift.Store(int64(200 * 24 * time.Hour))
	if st := apiCall(t, "POST", base+"/api/v1/admin/retention", opTok, map[string]bool{"dry_run": true}, &res); st != 200 ||
		!res.DryRun || len(res.Days) != 1 || res.Events != 5 || len(res.KeysDestroyed) != 0 {
		t.Fatalf("dry run after 200 days: %d %+v; want one day of 5 events and no key yet (its events remain)", st, res)
	}
	if days, _ := m.store.RawDays(ctx); len(days) != 1 {
		t.Fatal("the dry run deleted events")
	}
	// The CLI prints the same plan.
	tokFile := filepath.Join(cfg.DataDir, "operator.token")
	var out strings.Builder
	if err := (&RetentionCommand{Out: &out}).Run(ctx, []string{"run", "--dry-run", "--server", base, "--token-file", tokFile}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "would delete 5 raw events") || !strings.Contains(out.String(), time.Now().UTC().Format(time.DateOnly)) {
		t.Fatalf("retention run --dry-run printed:\n%s", out.String())
	}

	if st := apiCall(t, "POST", base+"/api/v1/admin/retention", opTok, nil, &res); st != 200 || res.DryRun || res.Events != 5 ||
		len(res.KeysDestroyed) != 1 || res.KeysDestroyed[0] != 1 || res.LogSegments < 1 {
		t.Fatalf("run after 200 days: %d %+v; want 5 events gone, log segments removed, key 1 destroyed", st, res)
	}
	if days, _ := m.store.RawDays(ctx); len(days) != 0 {
		t.Fatalf("raw days left: %v", days)
	}
	if len(readLogLive(t, m)) != 0 {
		t.Fatal("the event log still holds loaded events past retention")
	}
	for _, v := range m.keys.ks.Versions() {
		if v.Version == 1 && v.Destroyed.IsZero() {
			t.Fatal("key version 1 is not destroyed")
		}
	}

	// Reports: totals from the rollups, with a note; reach cannot be.
	var rep struct {
		Total struct {
			Impressions        int64 `json:"impressions"`
			UV                 int64 `json:"uv"`
			InvalidImpressions int64 `json:"invalid_impressions"`
		} `json:"total"`
		Retention *struct {
			RawFrom     string `json:"raw_from"`
			FromRollups bool   `json:"from_rollups"`
			Message     string `json:"message"`
		} `json:"retention"`
	}
	u := fmt.Sprintf("%s/api/v1/campaigns/%s/report?from=%s&to=%s&by=day", base, c.ID, day, day)
	if st := apiCall(t, "GET", u, tok, nil, &rep); st != 200 || rep.Total.Impressions != 4 || rep.Total.UV != 2 || rep.Total.InvalidImpressions != 1 ||
		rep.Retention == nil || !rep.Retention.FromRollups || !strings.Contains(rep.Retention.Message, "rollups") {
		t.Fatalf("report past retention: %d %+v %+v", st, rep.Total, rep.Retention)
	}
	if st := apiCall(t, "GET", u+"&filter=all", tok, nil, &rep); st != 200 || rep.Total.Impressions != 5 || rep.Total.UV != 3 || rep.Total.InvalidImpressions != 1 {
		t.Fatalf("gross report past retention: %d %+v", st, rep.Total)
	}
	u = fmt.Sprintf("%s/api/v1/campaigns/%s/report?from=%s&to=%s&by=os", base, c.ID, day, day)
	if apiCall(t, "GET", u, tok, nil, &rep); rep.Total.Impressions != 0 || rep.Retention == nil || rep.Retention.FromRollups {
		t.Fatalf("report by os past retention: %+v %+v", rep.Total, rep.Retention)
	}
	var freq struct {
		Reach     int64 `json:"reach"`
		Retention *struct {
			RawFrom string `json:"raw_from"`
		} `json:"retention"`
	}
	u = fmt.Sprintf("%s/api/v1/campaigns/%s/frequency?from=%s&to=%s", base, c.ID, day, day)
	if st := apiCall(t, "GET", u, tok, nil, &freq); st != 200 || freq.Reach != 0 || freq.Retention == nil {
		t.Fatalf("frequency past retention: %d %+v", st, freq)
	}

	// keys CLI on the stopped server: list, rotate, rotate the master key.
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := (&KeysCommand{Out: &out}).Run(ctx, []string{"rotate", "--data", cfg.DataDir, "--master-key", testMasterKey}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "key version 3 is now current") || !strings.Contains(out.String(), "destroyed") {
		t.Fatalf("keys rotate printed:\n%s", out.String())
	}
	newKey := filepath.Join(t.TempDir(), "new.key")
	if err := os.WriteFile(newKey, []byte(strings.Repeat("ab", 32)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := (&KeysCommand{Out: io.Discard}).Run(ctx, []string{"rotate-master", "--data", cfg.DataDir, "--master-key", testMasterKey, "--new-master-key-file", newKey}); err != nil {
		t.Fatal(err)
	}
	master, _, _ := keystore.LoadMasterKey(keystore.MasterKeyConfig{File: newKey}, nil)
	ks, err := keystore.Open(filepath.Join(cfg.DataDir, "keys.json"), master, nil)
	if err != nil {
		t.Fatalf("open under the new master key: %v", err)
	}
	vs := ks.Versions()
	if len(vs) != 3 || !vs[2].Current || vs[0].Destroyed.IsZero() {
		t.Fatalf("versions after rotations: %+v", vs)
	}
	old, _, _ := keystore.LoadMasterKey(keystore.MasterKeyConfig{Value: testMasterKey}, nil)
	if _, err := keystore.Open(filepath.Join(cfg.DataDir, "keys.json"), old, nil); err == nil {
		t.Fatal("the old master key still opens the key store")
	}
}

// readLogLive returns the events in a running server's log.
func readLogLive(t *testing.T, m *Main) []any {
	t.Helper()
	r, err := m.log.NewReader(m.log.FirstOffset())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []any
	for {
		rec, _, err := r.TryNext()
		if err != nil || rec == nil {
			return out
		}
		out = append(out, rec)
	}
}

func TestRetentionFlag(t *testing.T) {
	for _, tc := range []struct {
		val string
		ok  bool
	}{{"180d", true}, {"26w", true}, {"4320h", true}, {"365d", true}, {"179d", false}, {"30d", false}, {"forever", false}} {
		cfg := DefaultServeConfig()
		cfg.Retention = tc.val
		err := cfg.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("--retention=%s: err = %v, want ok=%v", tc.val, err, tc.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "retention") {
			t.Errorf("--retention=%s: unclear error %v", tc.val, err)
		}
	}
}

// TestKeyRotationReachesRunningServer rotates the key with the keys command
// while the server runs: new events are made under the new version within
// the poll interval, and the old version stays live (its events remain).
func TestKeyRotationReachesRunningServer(t *testing.T) {
	cfg := DefaultServeConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	cfg.MasterKey = testMasterKey
	m := NewMain(cfg, nil)
	m.KeyPoll = 50 * time.Millisecond
	if err := m.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	base := "http://" + m.Addr()
	_, c := setupCampaign(t, base, cfg.DataDir, 1)
	pixel := fmt.Sprintf("%s/x/k=%s&p=%s&m11=rotation00000001", base, c.ID, c.Placements[0].ID)
	get(t, pixel, nil)
	if err := (&KeysCommand{Out: io.Discard}).Run(t.Context(), []string{"rotate", "--data", cfg.DataDir, "--master-key", testMasterKey}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); m.keys.Current().Version() != 2; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the running server did not switch to key version 2")
		}
	}
	get(t, pixel, nil)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	events := readLog(t, cfg.DataDir)
	if len(events) != 2 || events[0].KeyVersion != 1 || events[1].KeyVersion != 2 || events[0].User == events[1].User {
		t.Fatalf("events %d; want one under version 1 and one under version 2 with different pseudonyms", len(events))
	}
}

// TestClosedAccountDeleted: a closed account's data stays through the
// retention floor, then the retention job deletes it (store and metadata),
// and the audit record says so.
func TestClosedAccountDeleted(t *testing.T) {
	var shift atomic.Int64
	cfg := DefaultServeConfig()
	cfg.Addr, cfg.DataDir, cfg.MasterKey = "127.0.0.1:0", filepath.Join(t.TempDir(), "data"), testMasterKey
	m := NewMain(cfg, nil)
	m.Now = func() time.Time { return time.Now().Add(time.Duration(shift.Load())) }
	if err := m.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	base := "http://" + m.Addr()
	op, _ := os.ReadFile(filepath.Join(cfg.DataDir, "operator.token"))
	opTok := strings.TrimSpace(string(op))
	tok, c := setupCampaign(t, base, cfg.DataDir, 1)
	keepTok, keep := setupCampaign(t, base, cfg.DataDir, 1)
	for _, cp := range []testCampaign{c, keep} {
		get(t, base+"/x/k="+cp.ID+"&p="+cp.Placements[0].ID+"&m11=closedacct000001", nil)
	}
	var me struct {
		Account struct{ ID string } `json:"account"`
	}
	apiCall(t, "GET", base+"/api/v1/me", tok, nil, &me)
	if st := apiCall(t, "POST", base+"/api/v1/admin/tenants/"+me.Account.ID+"/status", opTok, map[string]string{"status": "closed", "note": "contract ended"}, nil); st != 200 {
		t.Fatalf("close: %d", st)
	}
	var res struct {
		TenantsDeleted []string `json:"tenants_deleted"`
	}
	apiCall(t, "POST", base+"/api/v1/admin/retention", opTok, map[string]bool{"dry_run": false}, &res)
	if len(res.TenantsDeleted) != 0 {
		t.Fatalf("deleted %v right after closing; the retention floor has not passed", res.TenantsDeleted)
	}
	shift.Store(int64(181 * 24 * time.Hour))
	apiCall(t, "POST", base+"/api/v1/admin/retention", opTok, map[string]bool{"dry_run": true}, &res)
	if len(res.TenantsDeleted) != 1 || res.TenantsDeleted[0] != me.Account.ID {
		t.Fatalf("dry run: %v, want the closed account", res.TenantsDeleted)
	}
	apiCall(t, "POST", base+"/api/v1/admin/retention", opTok, map[string]bool{"dry_run": false}, &res)
	if len(res.TenantsDeleted) != 1 {
		t.Fatalf("run: %v", res.TenantsDeleted)
	}
	var tenants struct {
		Tenants []struct{ ID string } `json:"tenants"`
	}
	apiCall(t, "GET", base+"/api/v1/admin/tenants", opTok, nil, &tenants)
	for _, tn := range tenants.Tenants {
		if tn.ID == me.Account.ID {
			t.Fatal("the closed account is still listed")
		}
	}
	if len(tenants.Tenants) != 1 {
		t.Fatalf("%d tenants left, want the other one", len(tenants.Tenants))
	}
	if st := apiCall(t, "GET", base+"/api/v1/campaigns", keepTok, nil, nil); st != 200 {
		t.Fatalf("the other tenant: %d", st)
	}
	var trail struct {
		Entries []struct{ Action, Tenant string } `json:"entries"`
	}
	apiCall(t, "GET", base+"/api/v1/admin/audit?action=account.delete", opTok, nil, &trail)
	if len(trail.Entries) != 1 || trail.Entries[0].Tenant != me.Account.ID {
		t.Fatalf("audit of the deletion: %+v", trail.Entries)
	}
}
