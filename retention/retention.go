package retention

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
)

// MinRetention is the shortest retention admeter accepts: six months, as the
// privacy policy promises customers.
const MinRetention = 180 * 24 * time.Hour

// Store is the part of the analytical store retention works on.
type Store interface {
	RawDays(ctx context.Context) ([]store.DayCount, error)
	DeleteBefore(ctx context.Context, t time.Time) (int64, error)
	KeyVersions(ctx context.Context) ([]store.KeyVersionUse, error)
	DeleteTenant(ctx context.Context, tenant admeter.TenantID) (int64, error)
	DeletePostsBefore(ctx context.Context, t time.Time) (int64, error)
}

// Accounts lists closed accounts and deletes them.
type Accounts interface {
	ClosedTenants(ctx context.Context, before time.Time) ([]admeter.TenantID, error)
	DeleteTenant(ctx context.Context, id admeter.TenantID) error
}

// Log is the event log: its segments can go once loaded.
type Log interface {
	Roll() error
	RemoveBefore(offset uint64) (int, error)
}

// Pipeline says how far loading has come.
type Pipeline interface {
	// Drain returns once every event logged before the call is in the store.
	Drain(ctx context.Context) error
	// Loaded returns the log offset up to which events are in the store.
	Loaded(ctx context.Context) (uint64, error)
}

// KeyVersion describes one pseudonymisation key version.
type KeyVersion struct {
	Version uint32
	Created time.Time
	Current bool
	// Destroyed is zero while the secret is live.
	Destroyed time.Time
}

// Keys lists and destroys pseudonymisation key versions.
type Keys interface {
	KeyVersions() []KeyVersion
	Destroy(ctx context.Context, version uint32) error
}

// Recorder writes the audit record.
type Recorder interface {
	Record(ctx context.Context, e admeter.AuditEntry) error
}

// Config holds a Job's settings.
type Config struct {
	// Retention is how long raw events are kept; at least MinRetention.
	Retention time.Duration
	// KeyGrace is how long a superseded key version is kept even without
	// events, so that every server has switched to its successor. Default
	// one hour.
	KeyGrace time.Duration
	// Now returns the current time. Default time.Now.
	Now func() time.Time
}

// Validate refuses a retention under MinRetention.
func (c Config) Validate() error {
	if c.Retention < MinRetention {
		return fmt.Errorf("retention %s is shorter than the 180 days (4320h) the privacy policy promises; use --retention=180d or more", Format(c.Retention))
	}
	return nil
}

// Job enforces retention. It is safe for concurrent use; runs are serialized.
type Job struct {
	cfg      Config
	store    Store
	log      Log
	pipeline Pipeline
	keys     Keys
	accounts Accounts
	audit    Recorder
	logger   *slog.Logger
	mu       sync.Mutex
}

// New returns a Job. accounts may be nil (closed accounts are then never
// deleted); logger may be nil.
func New(cfg Config, st Store, log Log, pipeline Pipeline, keys Keys, accounts Accounts, rec Recorder, logger *slog.Logger) (*Job, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if st == nil || log == nil || pipeline == nil || keys == nil || rec == nil {
		return nil, errors.New("new retention job: missing dependency")
	}
	if cfg.KeyGrace <= 0 {
		cfg.KeyGrace = time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Job{cfg: cfg, store: st, log: log, pipeline: pipeline, keys: keys, accounts: accounts, audit: rec, logger: logger}, nil
}

// RawFrom returns the instant from which raw events are kept: now minus the
// retention.
func (j *Job) RawFrom() time.Time { return j.cfg.Now().Add(-j.cfg.Retention) }

// Result is what a run did, or with DryRun what it would do.
type Result struct {
	DryRun    bool      `json:"dry_run"`
	Retention string    `json:"retention"`
	Cutoff    time.Time `json:"cutoff"`
	// Days are the UTC days whose raw events go, with their counts.
	Days   []DayJSON `json:"days"`
	Events int64     `json:"events"`
	// Posts is the number of social records deleted (not counted on a dry
	// run).
	Posts int64 `json:"social_records"`
	// LogSegments is the number of loaded event-log segments removed (0 on
	// a dry run, where it is not known in advance).
	LogSegments int `json:"log_segments"`
	// KeysDestroyed lists the key versions destroyed (or that would be).
	KeysDestroyed []uint32 `json:"keys_destroyed"`
	// TenantsDeleted lists the closed accounts whose retention floor passed
	// and whose data was (or would be) deleted.
	TenantsDeleted []admeter.TenantID `json:"tenants_deleted"`
}

// DayJSON is a day and its event count.
type DayJSON struct {
	Day    string `json:"day"`
	Events int64  `json:"events"`
}

// Run enforces retention once. With dryRun it changes nothing and returns the
// plan.
func (j *Job) Run(ctx context.Context, dryRun bool) (*Result, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	now := j.cfg.Now()
	cut := now.Add(-j.cfg.Retention)
	res := &Result{DryRun: dryRun, Retention: Format(j.cfg.Retention), Cutoff: cut.UTC(), Days: []DayJSON{}, KeysDestroyed: []uint32{}, TenantsDeleted: []admeter.TenantID{}}
	days, err := j.store.RawDays(ctx)
	if err != nil {
		return nil, fmt.Errorf("retention: list raw days: %w", err)
	}
	cutDay := store.DateOf(cut.UTC())
	for _, d := range days {
		if d.Day.Before(cutDay) || d.Day == cutDay {
			res.Days = append(res.Days, DayJSON{Day: d.Day.String(), Events: d.Events})
		}
	}
	if !dryRun {
		n, err := j.store.DeleteBefore(ctx, cut)
		if err != nil {
			return nil, fmt.Errorf("retention: delete raw events before %s: %w", cut.UTC().Format(time.RFC3339), err)
		}
		res.Events = n
		if res.Posts, err = j.store.DeletePostsBefore(ctx, cut); err != nil {
			return nil, fmt.Errorf("retention: delete social records before %s: %w", cut.UTC().Format(time.RFC3339), err)
		}
		// The cut day's partition loses only its events before cut.
		if len(res.Days) > 0 && res.Days[len(res.Days)-1].Day == cutDay.String() {
			res.Days[len(res.Days)-1].Events = -1
		}
		if res.LogSegments, err = j.purgeLog(ctx); err != nil {
			return nil, err
		}
	} else {
		for _, d := range res.Days {
			if d.Day != cutDay.String() {
				res.Events += d.Events
			}
		}
	}
	if res.KeysDestroyed, err = j.destroyKeys(ctx, now, dryRun); err != nil {
		return nil, err
	}
	if res.TenantsDeleted, err = j.deleteClosed(ctx, cut, dryRun); err != nil {
		return nil, err
	}
	if !dryRun && (res.Events > 0 || res.Posts > 0 || res.LogSegments > 0 || len(res.KeysDestroyed) > 0 || len(res.TenantsDeleted) > 0) {
		if err := j.audit.Record(ctx, admeter.AuditEntry{Actor: "system", Action: "retention.run", Outcome: "ok", Details: map[string]any{
			"cutoff": res.Cutoff, "events": res.Events, "social_records": res.Posts, "log_segments": res.LogSegments, "keys_destroyed": res.KeysDestroyed,
		}}); err != nil {
			j.logger.Error("write audit record", "err", err)
		}
		j.logger.Info("retention enforced", "cutoff", res.Cutoff.Format(time.RFC3339), "events", res.Events, "social_records", res.Posts,
			"log_segments", res.LogSegments, "keys_destroyed", res.KeysDestroyed)
	}
	return res, nil
}

// purgeLog closes the active log segment and removes every segment whose
// events are all in the store.
func (j *Job) purgeLog(ctx context.Context) (int, error) {
	if err := j.log.Roll(); err != nil {
		return 0, fmt.Errorf("retention: roll event log: %w", err)
	}
	off, err := j.pipeline.Loaded(ctx)
	if err != nil {
		return 0, fmt.Errorf("retention: %w", err)
	}
	n, err := j.log.RemoveBefore(off)
	if err != nil {
		return n, fmt.Errorf("retention: remove loaded log segments: %w", err)
	}
	return n, nil
}

// destroyKeys destroys each superseded key version (its successor older than
// KeyGrace) under which no raw event remains once everything logged is
// loaded.
func (j *Job) destroyKeys(ctx context.Context, now time.Time, dryRun bool) ([]uint32, error) {
	vs := j.keys.KeyVersions()
	var candidates []uint32
	for i, v := range vs {
		if v.Current || !v.Destroyed.IsZero() || i+1 >= len(vs) || now.Sub(vs[i+1].Created) < j.cfg.KeyGrace {
			continue
		}
		candidates = append(candidates, v.Version)
	}
	if len(candidates) == 0 {
		return []uint32{}, nil
	}
	if !dryRun {
		if err := j.pipeline.Drain(ctx); err != nil {
			return nil, fmt.Errorf("retention: wait for logged events to load: %w", err)
		}
	}
	uses, err := j.store.KeyVersions(ctx)
	if err != nil {
		return nil, fmt.Errorf("retention: count events per key version: %w", err)
	}
	inUse := map[uint32]bool{}
	for _, u := range uses {
		if u.Pseudonymous > 0 {
			inUse[u.Version] = true
		}
	}
	out := []uint32{}
	for _, v := range candidates {
		if inUse[v] {
			continue
		}
		if !dryRun {
			if err := j.keys.Destroy(ctx, v); err != nil {
				return out, fmt.Errorf("retention: destroy key version %d: %w", v, err)
			}
			if err := j.audit.Record(ctx, admeter.AuditEntry{Actor: "system", Action: "keys.destroy", Target: fmt.Sprint(v), Outcome: "ok",
				Details: map[string]any{"reason": "no raw event under this version remains"}}); err != nil {
				j.logger.Error("write audit record", "err", err)
			}
			j.logger.Info("destroyed pseudonymisation key version: its events are all gone", "version", v)
		}
		out = append(out, v)
	}
	return out, nil
}

// deleteClosed deletes the data of every account closed before cut: its
// raw events and rollups in the store, then the account itself.
func (j *Job) deleteClosed(ctx context.Context, cut time.Time, dryRun bool) ([]admeter.TenantID, error) {
	out := []admeter.TenantID{}
	if j.accounts == nil {
		return out, nil
	}
	ids, err := j.accounts.ClosedTenants(ctx, cut)
	if err != nil {
		return nil, fmt.Errorf("retention: list closed accounts: %w", err)
	}
	for _, id := range ids {
		if !dryRun {
			n, err := j.store.DeleteTenant(ctx, id)
			if err != nil {
				return out, fmt.Errorf("retention: delete data of closed account %s: %w", id, err)
			}
			if err := j.accounts.DeleteTenant(ctx, id); err != nil {
				return out, fmt.Errorf("retention: delete closed account %s: %w", id, err)
			}
			if err := j.audit.Record(ctx, admeter.AuditEntry{Actor: "system", Action: "account.delete", Tenant: string(id), Target: string(id),
				Outcome: "ok", Details: map[string]any{"events": n, "reason": "closed, and the retention floor has passed"}}); err != nil {
				j.logger.Error("write audit record", "err", err)
			}
			j.logger.Info("deleted a closed account's data", "tenant", id, "events", n)
		}
		out = append(out, id)
	}
	return out, nil
}

// Loop runs the job every interval until ctx is cancelled, logging failures.
func (j *Job) Loop(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := j.Run(ctx, false); err != nil && ctx.Err() == nil {
			j.logger.Error("retention run failed; will retry", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Parse parses a retention such as "180d", "26w" or "4320h" (any
// time.ParseDuration syntax): a positive whole number of days or weeks, or
// a positive duration. Anything else, trailing text included, and a number
// of days too large for a time.Duration (about 292 years), is an EINVALID
// error.
func Parse(s string) (time.Duration, error) {
	bad := admeter.Errorf(admeter.EINVALID, "retention %q is not a duration such as 180d, 26w or 4320h", s)
	if n := len(s); n > 1 && (s[n-1] == 'd' || s[n-1] == 'w') {
		unit := 24 * time.Hour
		if s[n-1] == 'w' {
			unit *= 7
		}
		v, err := strconv.ParseInt(s[:n-1], 10, 64)
		if err != nil || v <= 0 || v > int64(math.MaxInt64/unit) {
			return 0, bad
		}
		return time.Duration(v) * unit, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, bad
	}
	return d, nil
}

// Format writes d in days when it is a whole number of days.
func Format(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}
