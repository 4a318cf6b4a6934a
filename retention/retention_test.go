package retention_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/eventlog"
	"github.com/admeter/admeter/keystore"
	"github.com/admeter/admeter/meta/sqlite"
	"github.com/admeter/admeter/retention"
	"github.com/admeter/admeter/store"
	"github.com/admeter/admeter/store/duckdb"
	"github.com/admeter/admeter/store/storetest"
)

const day = 24 * time.Hour

func TestParseFormat(t *testing.T) {
	for _, tc := range []struct {
		in     string
		want   time.Duration
		format string
		valid  bool // at least the 180 days the policy promises
	}{
		{"180d", 180 * day, "180d", true},
		{"26w", 182 * day, "182d", true},
		{"4320h", 180 * day, "180d", true},
		{"365d", 365 * day, "365d", true},
		{"4321h", 4321 * time.Hour, "4321h0m0s", true},
		{"4320h30m", 4320*time.Hour + 30*time.Minute, "4320h30m0s", true},
		{"+200d", 200 * day, "200d", true},
		{"106751d", 106751 * day, "106751d", true}, // the longest that fits
		{"179d", 179 * day, "179d", false},
		{"25w", 175 * day, "175d", false},
		{"4319h", 4319 * time.Hour, "4319h0m0s", false},
		{"1d", day, "1d", false},
		{"90m", 90 * time.Minute, "1h30m0s", false},
	} {
		got, err := retention.Parse(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("Parse(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			continue
		}
		if f := retention.Format(got); f != tc.format {
			t.Errorf("Format(%v) = %q, want %q", got, f, tc.format)
		}
		if back, err := retention.Parse(retention.Format(got)); err != nil || back != got {
			t.Errorf("Parse(Format(%v)) = %v, %v", got, back, err)
		}
		err = retention.Config{Retention: got}.Validate()
		if (err == nil) != tc.valid {
			t.Errorf("Validate(%s) = %v, want valid %v", tc.in, err, tc.valid)
		}
		if err != nil && !strings.Contains(err.Error(), "180 days") {
			t.Errorf("Validate(%s) = %v: does not say the minimum", tc.in, err)
		}
	}
	for _, in := range []string{
		"", "abc", "d", "w", "0d", "0", "-180d", "-4320h", "180", "180days", "180D", "180d junk", "180d 12h",
		"18O0d", "1.5d", "0x10d", "180d180d", "106752d", "213704d", "99999999999999999999d", "15251w",
	} {
		if d, err := retention.Parse(in); err == nil || admeter.ErrorCode(err) != admeter.EINVALID ||
			!strings.Contains(admeter.ErrorMessage(err), "such as 180d, 26w or 4320h") {
			t.Errorf("Parse(%q) = %v, %v; want an EINVALID error with examples", in, d, err)
		}
	}
}

// FuzzParse: Parse never panics, accepts only positive durations, and
// reads back what Format writes.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"180d", "26w", "4320h", "179d", "abc", "106752d", "1h30m", "-1d", "+5w", "9223372036854775807ns"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := retention.Parse(s)
		if err != nil {
			if admeter.ErrorCode(err) != admeter.EINVALID {
				t.Fatalf("Parse(%q): %v", s, err)
			}
			return
		}
		if d <= 0 {
			t.Fatalf("Parse(%q) = %v, not positive", s, d)
		}
		if back, err := retention.Parse(retention.Format(d)); err != nil || back != d {
			t.Fatalf("Parse(Format(%v)) = %v, %v", d, back, err)
		}
	})
}

// clock is a settable clock, safe for concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// pipeline is the retention.Pipeline of the tests, over the real event log
// and DuckDB store: what the server's pipeline (cmd/admeter/rights.go)
// does. The tests play the loader: they Insert events into the store with
// the log offset loading has reached, so Drain waits, as the server's does,
// until the store's offset reaches the log's end, and Loaded is the store's
// offset.
type pipeline struct {
	log   *eventlog.Log
	store *duckdb.DB
}

func (p pipeline) Drain(ctx context.Context) error {
	target := p.log.NextOffset()
	for {
		off, err := p.store.Offset(ctx)
		if err != nil {
			return err
		}
		if off >= target {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func (p pipeline) Loaded(ctx context.Context) (uint64, error) { return p.store.Offset(ctx) }

// keys is the retention.Keys of the tests: the versions of a real key
// store, as the server's keyring describes them.
type keys struct{ ks *keystore.Store }

func (k keys) KeyVersions() []retention.KeyVersion {
	var out []retention.KeyVersion
	for _, v := range k.ks.Versions() {
		out = append(out, retention.KeyVersion{Version: v.Version, Created: v.Created, Current: v.Current, Destroyed: v.Destroyed})
	}
	return out
}

func (k keys) Destroy(ctx context.Context, version uint32) error { return k.ks.Destroy(ctx, version) }

// harness is a retention job over real components in a temporary
// directory: the DuckDB store, the event log, the key store and the audit
// record.
type harness struct {
	t     *testing.T
	store *duckdb.DB
	log   *eventlog.Log
	ks    *keystore.Store
	meta  *sqlite.DB
	clock *clock
	job   *retention.Job
}

func newHarness(t *testing.T, retain time.Duration) *harness {
	t.Helper()
	dir := t.TempDir()
	h := &harness{t: t, clock: &clock{t: time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)}}
	var err error
	if h.store, err = duckdb.Open(filepath.Join(dir, "events.duckdb"), duckdb.DefaultOptions(), nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.store.Close() })
	if h.log, err = eventlog.Open(filepath.Join(dir, "log"), eventlog.DefaultOptions(), nil, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.log.Close() })
	master := sha256.Sum256([]byte("master key"))
	if h.ks, err = keystore.Open(filepath.Join(dir, "keys.json"), master[:], nil); err != nil {
		t.Fatal(err)
	}
	h.ks.Now = h.clock.Now
	h.meta = sqlite.NewDB(filepath.Join(dir, "meta.db"))
	if err := h.meta.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.meta.Close() })
	rec := sqlite.NewAuditLog(h.meta, nil)
	h.job, err = retention.New(retention.Config{Retention: retain, Now: h.clock.Now}, h.store, h.log, pipeline{h.log, h.store}, keys{h.ks}, h.meta, rec, nil)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// appendLog appends n records to the event log and returns the offset of
// the first.
func (h *harness) appendLog(n int) uint64 {
	h.t.Helper()
	recs := make([][]byte, n)
	for i := range recs {
		recs[i] = []byte(fmt.Sprintf("record %d", i))
	}
	first, err := h.log.Append(context.Background(), recs...)
	if err != nil {
		h.t.Fatal(err)
	}
	return first
}

// rawDays returns the store's raw days as "YYYY-MM-DD:count" strings.
func (h *harness) rawDays() string {
	h.t.Helper()
	days, err := h.store.RawDays(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	var s []string
	for _, d := range days {
		s = append(s, fmt.Sprintf("%s:%d", d.Day, d.Events))
	}
	return strings.Join(s, " ")
}

// run runs the job and fails the test on error.
func (h *harness) run(dryRun bool) *retention.Result {
	h.t.Helper()
	res, err := h.job.Run(context.Background(), dryRun)
	if err != nil {
		h.t.Fatalf("Run(dry run %v): %v", dryRun, err)
	}
	return res
}

// entries returns the audit record's entries with the given action.
func (h *harness) entries(action string) []admeter.AuditEntry {
	h.t.Helper()
	es, err := h.meta.AuditEntries(h.t.Context(), sqlite.AuditQuery{Action: action, Limit: sqlite.MaxAuditLimit})
	if err != nil {
		h.t.Fatal(err)
	}
	var out []admeter.AuditEntry
	for _, e := range es {
		if e.Action == action {
			out = append(out, e)
		}
	}
	return out
}

// version returns the key store's description of version v.
func (h *harness) version(v uint32) keystore.VersionInfo {
	h.t.Helper()
	for _, i := range h.ks.Versions() {
		if i.Version == v {
			return i
		}
	}
	h.t.Fatalf("no key version %d", v)
	return keystore.VersionInfo{}
}

func TestNew(t *testing.T) {
	h := newHarness(t, retention.MinRetention)
	rec := sqlite.NewAuditLog(h.meta, nil)
	p, k := pipeline{h.log, h.store}, keys{h.ks}
	for _, d := range []time.Duration{0, 179 * day, retention.MinRetention - time.Nanosecond} {
		if _, err := retention.New(retention.Config{Retention: d}, h.store, h.log, p, k, nil, rec, nil); err == nil || !strings.Contains(err.Error(), "180 days") {
			t.Errorf("New with retention %v: err = %v, want a refusal naming 180 days", d, err)
		}
	}
	if _, err := retention.New(retention.Config{Retention: retention.MinRetention}, h.store, h.log, p, nil, nil, rec, nil); err == nil {
		t.Error("New without keys succeeded")
	}
	// The default clock is the real one.
	j, err := retention.New(retention.Config{Retention: retention.MinRetention}, h.store, h.log, p, k, nil, rec, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := j.RawFrom(), time.Now().Add(-retention.MinRetention); got.Sub(want).Abs() > time.Minute {
		t.Errorf("RawFrom = %v, want about %v", got, want)
	}
}

// TestRun: a dry run shows the days whose events would go and changes
// nothing; a run deletes the events before the cut (in the cut's own day
// too), keeps the rollups, removes the loaded log segments and records
// what it did; a run with nothing to do records nothing.
func TestRun(t *testing.T) {
	h := newHarness(t, 180*day)
	ctx := context.Background()
	// The log: three segments, [0,3), [3,6) and the active one from 6.
	h.appendLog(3)
	if err := h.log.Roll(); err != nil {
		t.Fatal(err)
	}
	h.appendLog(3)
	if err := h.log.Roll(); err != nil {
		t.Fatal(err)
	}
	h.appendLog(4)

	// The store: events of three UTC days, loaded up to offset 6.
	cut := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	imp := func(at string, user int) admeter.Event {
		ts, err := time.Parse(time.RFC3339, at)
		if err != nil {
			t.Fatal(err)
		}
		return storetest.Imp(ts, storetest.User(user))
	}
	storetest.Insert(t, h.store, 6,
		imp("2026-03-01T01:00:00Z", 1), imp("2026-03-01T23:00:00Z", 2),
		imp("2026-03-02T06:00:00Z", 1), imp("2026-03-02T18:00:00Z", 3),
		imp("2026-03-03T09:00:00Z", 1),
	)
	days := []store.Date{{Year: 2026, Month: 3, Day: 1}, {Year: 2026, Month: 3, Day: 2}, {Year: 2026, Month: 3, Day: 3}}
	if err := h.store.RefreshRollups(ctx, storetest.DefaultTenant, storetest.DefaultCampaign, time.UTC, days); err != nil {
		t.Fatal(err)
	}
	rollups := func() string {
		t.Helper()
		rows, err := h.store.Daily(ctx, store.DailyQuery{Tenant: storetest.DefaultTenant, Campaign: storetest.DefaultCampaign, From: days[0], To: days[2]})
		if err != nil {
			t.Fatal(err)
		}
		var s []string
		for _, r := range rows {
			s = append(s, fmt.Sprintf("%s:%d/%d", r.Day, r.Impressions, r.UV))
		}
		return strings.Join(s, " ")
	}
	const wantRollups = "2026-03-01:2/2 2026-03-02:2/2 2026-03-03:1/1"
	if got := rollups(); got != wantRollups {
		t.Fatalf("rollups before: %s", got)
	}

	h.clock.Set(cut.Add(180 * day))
	if got := h.job.RawFrom(); !got.Equal(cut) {
		t.Errorf("RawFrom = %v, want %v", got, cut)
	}
	dry := h.run(true)
	if !dry.DryRun || dry.Retention != "180d" || !dry.Cutoff.Equal(cut) || fmt.Sprint(dry.Days) != "[{2026-03-01 2} {2026-03-02 2}]" ||
		dry.Events != 2 || dry.LogSegments != 0 || len(dry.KeysDestroyed) != 0 {
		t.Errorf("dry run: %+v", dry)
	}
	if got := h.rawDays(); got != "2026-03-01:2 2026-03-02:2 2026-03-03:1" {
		t.Errorf("the dry run deleted events: %s", got)
	}
	if first := h.log.FirstOffset(); first != 0 {
		t.Errorf("the dry run removed log segments: the log starts at %d", first)
	}
	if es := h.entries("retention.run"); len(es) != 0 {
		t.Errorf("the dry run was audited: %+v", es)
	}

	res := h.run(false)
	// The cut day lost only its events before the cut: its count is not
	// known (-1).
	if res.DryRun || !res.Cutoff.Equal(cut) || fmt.Sprint(res.Days) != "[{2026-03-01 2} {2026-03-02 -1}]" || res.Events != 3 ||
		res.LogSegments != 2 || res.KeysDestroyed == nil || len(res.KeysDestroyed) != 0 {
		t.Errorf("run: %+v", res)
	}
	if got := h.rawDays(); got != "2026-03-02:1 2026-03-03:1" {
		t.Errorf("raw days after the run: %s", got)
	}
	if got := rollups(); got != wantRollups {
		t.Errorf("rollups after the run: %s, want them kept: %s", got, wantRollups)
	}
	// The loaded segments went; the records not yet loaded stay readable.
	if first := h.log.FirstOffset(); first != 6 {
		t.Errorf("the log starts at %d, want 6", first)
	}
	if _, err := h.log.NewReader(0); !errors.Is(err, eventlog.ErrRemoved) {
		t.Errorf("NewReader(0) = %v, want ErrRemoved", err)
	}
	r, err := h.log.NewReader(6)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		if rec, off, err := r.TryNext(); err != nil || off != uint64(6+i) || string(rec) != fmt.Sprintf("record %d", i) {
			t.Errorf("record %d: %q at %d, %v", 6+i, rec, off, err)
		}
	}
	r.Close()

	es := h.entries("retention.run")
	if len(es) != 1 {
		t.Fatalf("%d retention.run audit entries, want 1", len(es))
	}
	if e := es[0]; e.Actor != "system" || e.Outcome != "ok" || e.Details["events"] != 3.0 || e.Details["log_segments"] != 2.0 ||
		e.Details["cutoff"] != cut.Format(time.RFC3339) {
		t.Errorf("audit entry %+v", e)
	}
	b, _ := json.Marshal(res)
	if !strings.Contains(string(b), `"keys_destroyed":[]`) {
		t.Errorf("result JSON %s: keys_destroyed is not a list", b)
	}

	// Again at once: nothing to delete or remove, nothing audited.
	again := h.run(false)
	if again.Events != 0 || again.LogSegments != 0 || len(again.KeysDestroyed) != 0 {
		t.Errorf("second run: %+v", again)
	}
	if es := h.entries("retention.run"); len(es) != 1 {
		t.Errorf("%d retention.run audit entries after a run that changed nothing, want 1", len(es))
	}

	// Loading catches up: those segments can go too.
	storetest.Insert(t, h.store, 10)
	if res := h.run(false); res.LogSegments != 1 || h.log.FirstOffset() != 10 {
		t.Errorf("after loading everything: %d segments removed, the log starts at %d", res.LogSegments, h.log.FirstOffset())
	}
}

// TestRunConcurrent: two runs at once are safe: each event is deleted
// once, and counted and audited once. (The store serializes deletions as
// well, so this does not show that Job itself serializes runs.)
func TestRunConcurrent(t *testing.T) {
	h := newHarness(t, 180*day)
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	storetest.Insert(t, h.store, 1, storetest.Imp(at), storetest.Imp(at.Add(time.Hour)), storetest.Imp(at.Add(48*time.Hour)))
	h.clock.Set(at.Add(181 * day))
	var wg sync.WaitGroup
	results := make([]*retention.Result, 2)
	for i := range results {
		wg.Go(func() {
			res, err := h.job.Run(context.Background(), false)
			if err != nil {
				t.Error(err)
			}
			results[i] = res
		})
	}
	wg.Wait()
	if results[0] == nil || results[1] == nil || results[0].Events+results[1].Events != 2 {
		t.Errorf("concurrent runs deleted %+v and %+v, want 2 events in all", results[0], results[1])
	}
	if es := h.entries("retention.run"); len(es) != 1 {
		t.Errorf("%d audit entries, want 1", len(es))
	}
}

// TestLoop: Loop runs the job at once and every interval until its
// context is cancelled.
func TestLoop(t *testing.T) {
	h := newHarness(t, 180*day)
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	storetest.Insert(t, h.store, 1, storetest.Imp(at))
	h.clock.Set(at.Add(181 * day))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.job.Loop(ctx, time.Hour); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for h.rawDays() != "" {
		if time.Now().After(deadline) {
			t.Fatal("Loop did not run the job")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Loop did not return after its context was cancelled")
	}
}

// TestKeyDestruction: a superseded key version is destroyed once no raw
// event with a pseudonym made under it remains and everything logged is
// loaded; never the current version, nor before KeyGrace has passed since
// its successor was made.
func TestKeyDestruction(t *testing.T) {
	h := newHarness(t, 180*day)
	ctx := context.Background()
	old := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC) // goes at 2026-08-28 10:00
	recent := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	h.appendLog(1) // the record of the events below, loaded
	storetest.Insert(t, h.store, 1,
		storetest.Imp(old, storetest.User(1), storetest.KeyVersion(1)),
		// An event without a pseudonym does not keep its version alive.
		storetest.Imp(recent, storetest.KeyVersion(1)),
		storetest.Imp(recent, storetest.User(2), storetest.KeyVersion(2)),
	)
	rotated := time.Date(2026, 8, 20, 0, 0, 0, 0, time.UTC)
	h.clock.Set(rotated)
	if v, err := h.ks.Rotate(ctx); err != nil || v != 2 {
		t.Fatalf("Rotate = %d, %v", v, err)
	}
	destroyed := func(v uint32) bool { return !h.version(v).Destroyed.IsZero() }

	// v1's successor is past its grace, but v1 still has an event with a
	// pseudonym.
	h.clock.Set(rotated.Add(2 * time.Hour))
	for _, dry := range []bool{true, false} {
		if res := h.run(dry); len(res.KeysDestroyed) != 0 {
			t.Errorf("while an event under v1 remains (dry run %v): destroyed %v", dry, res.KeysDestroyed)
		}
	}
	if destroyed(1) {
		t.Fatal("v1 destroyed while an event under it remains")
	}

	// The event ages out: v1 goes with it; v2, current, stays though no
	// event under it will remain either.
	h.clock.Set(old.Add(180*day + time.Hour))
	res := h.run(false)
	if res.Events != 1 || fmt.Sprint(res.KeysDestroyed) != "[1]" {
		t.Errorf("after the event under v1 aged out: %+v, want it deleted and v1 destroyed", res)
	}
	if !destroyed(1) || destroyed(2) {
		t.Errorf("versions after the run: %+v", h.ks.Versions())
	}
	if _, err := h.ks.Secret(1); !errors.Is(err, keystore.ErrDestroyed) {
		t.Errorf("Secret(1) = %v, want ErrDestroyed", err)
	}
	es := h.entries("keys.destroy")
	if len(es) != 1 || es[0].Target != "1" || es[0].Actor != "system" {
		t.Errorf("keys.destroy audit entries %+v", es)
	}
	if es := h.entries("retention.run"); len(es) != 2 || fmt.Sprint(es[1].Details["keys_destroyed"]) != "[1]" {
		t.Errorf("retention.run audit entries %+v", es)
	}
	if res := h.run(false); len(res.KeysDestroyed) != 0 {
		t.Errorf("a destroyed version was destroyed again: %v", res.KeysDestroyed)
	}

	// v2's events go; v3 is made: v2 waits out the grace after v3's
	// creation, and v3, current, is never destroyed.
	h.clock.Set(recent.Add(181 * day))
	rotated = h.clock.Now()
	if v, err := h.ks.Rotate(ctx); err != nil || v != 3 {
		t.Fatalf("Rotate = %d, %v", v, err)
	}
	if res := h.run(false); res.Events != 2 || len(res.KeysDestroyed) != 0 {
		t.Errorf("right after v3 was made: %+v, want the events deleted and no version destroyed", res)
	}
	h.clock.Set(rotated.Add(time.Hour - time.Second))
	if res := h.run(false); len(res.KeysDestroyed) != 0 {
		t.Errorf("within the grace: destroyed %v", res.KeysDestroyed)
	}
	// An event logged but not yet loaded might be under v2: the run waits
	// for it, and destroys nothing while it waits.
	h.clock.Set(rotated.Add(time.Hour))
	h.appendLog(1)
	wctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := h.job.Run(wctx, false); err == nil || !strings.Contains(err.Error(), "wait for logged events to load") {
		t.Errorf("Run with an event not yet loaded = %v, want it to wait", err)
	}
	if destroyed(2) {
		t.Fatal("v2 destroyed before every logged event was loaded")
	}
	// It is loaded, and it is under v3.
	storetest.Insert(t, h.store, h.log.NextOffset(), storetest.Imp(h.clock.Now(), storetest.User(3), storetest.KeyVersion(3)))
	if res := h.run(true); fmt.Sprint(res.KeysDestroyed) != "[2]" || destroyed(2) {
		t.Errorf("dry run past the grace: %v (destroyed %v)", res.KeysDestroyed, destroyed(2))
	}
	if res := h.run(false); fmt.Sprint(res.KeysDestroyed) != "[2]" || !destroyed(2) || destroyed(3) {
		t.Errorf("past the grace: destroyed %v; versions %+v", res.KeysDestroyed, h.ks.Versions())
	}
}
