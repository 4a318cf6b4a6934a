package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/collect"
	"github.com/admeter/admeter/eventlog"
	"github.com/admeter/admeter/keystore"
	"github.com/admeter/admeter/pseudo"
	"github.com/admeter/admeter/retention"
	"github.com/admeter/admeter/store"
)

// pipeline lets deletion requests and retention coordinate with the event log
// and the loader.
type pipeline struct {
	log     *eventlog.Log
	store   store.Store
	catalog *collect.Catalog
	loading bool
	// kafka, when set, is the event log instead of log.
	kafka *kafkaPipe
}

// Drain returns once the store holds every event logged before the call.
func (p pipeline) Drain(ctx context.Context) error {
	if !p.loading {
		return errors.New("this server does not load events (--ingest=false): run one that does to carry out deletions and retention")
	}
	if p.kafka != nil {
		return p.kafka.drain(ctx, p.store)
	}
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
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Loaded returns the log offset up to which events are in the store.
func (p pipeline) Loaded(ctx context.Context) (uint64, error) { return p.store.Offset(ctx) }

// Refresh recomputes a campaign's rollups for the local days [from, to]
// touch.
func (p pipeline) Refresh(ctx context.Context, tenant admeter.TenantID, campaign admeter.CampaignID, from, to time.Time) error {
	loc := p.catalog.Location(campaign)
	if loc == nil {
		loc = time.UTC
	}
	days := store.TimeSpan{From: from, To: to}.Days(loc)
	if len(days) == 0 {
		return nil
	}
	return p.store.RefreshRollups(ctx, tenant, campaign, loc, days)
}

// Purge closes the active log segment and removes every segment whose events
// are all in the store.
func (p pipeline) Purge(ctx context.Context) (int, error) {
	if p.kafka != nil {
		return 0, nil // the local log is unused; Kafka's topic retention ages events out
	}
	if err := p.log.Roll(); err != nil {
		return 0, err
	}
	off, err := p.store.Offset(ctx)
	if err != nil {
		return 0, err
	}
	return p.log.RemoveBefore(off)
}

// keyring holds a pseudonymizer for every live key version and keeps the
// collector on the current one when another process rotates the key store.
type keyring struct {
	ks     *keystore.Store
	logger *slog.Logger

	mu      sync.RWMutex
	live    []*pseudo.Pseudonymizer // ascending; the last is current
	onSwap  func(*pseudo.Pseudonymizer)
	current uint32
}

func newKeyring(ks *keystore.Store, logger *slog.Logger) (*keyring, error) {
	k := &keyring{ks: ks, logger: logger}
	return k, k.rebuild()
}

func (k *keyring) rebuild() error {
	var live []*pseudo.Pseudonymizer
	for _, v := range k.ks.Versions() {
		if !v.Destroyed.IsZero() {
			continue
		}
		secret, err := k.ks.Secret(v.Version)
		if err != nil {
			return fmt.Errorf("load key version %d: %w", v.Version, err)
		}
		ps, err := pseudo.New(pseudo.Key{Version: v.Version, Secret: secret})
		clear(secret)
		if err != nil {
			return err
		}
		live = append(live, ps)
	}
	if len(live) == 0 {
		return errors.New("the key store holds no live key version")
	}
	k.mu.Lock()
	k.live = live
	cur := live[len(live)-1]
	swapped := cur.Version() != k.current
	k.current = cur.Version()
	onSwap := k.onSwap
	k.mu.Unlock()
	if swapped && onSwap != nil {
		onSwap(cur)
		k.logger.Info("pseudonymisation key version in use", "version", cur.Version())
	}
	return nil
}

// Current returns the pseudonymizer of the current version.
func (k *keyring) Current() *pseudo.Pseudonymizer {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.live[len(k.live)-1]
}

// Pseudonymizers returns the pseudonymizers of every live version.
func (k *keyring) Pseudonymizers() []*pseudo.Pseudonymizer {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return append([]*pseudo.Pseudonymizer(nil), k.live...)
}

// KeyVersions describes the versions for the retention job.
func (k *keyring) KeyVersions() []retention.KeyVersion {
	var out []retention.KeyVersion
	for _, v := range k.ks.Versions() {
		out = append(out, retention.KeyVersion{Version: v.Version, Created: v.Created, Current: v.Current, Destroyed: v.Destroyed})
	}
	return out
}

// Destroy destroys a version's secret and forgets its pseudonymizer.
func (k *keyring) Destroy(ctx context.Context, version uint32) error {
	if err := k.ks.Destroy(ctx, version); err != nil {
		return err
	}
	return k.rebuild()
}

// poll rereads the key store (the file, or the cluster's shared document)
// every interval, so a rotation or destruction by "admeter keys" or by
// another node reaches this server within seconds.
func (k *keyring) poll(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rctx, cancel := context.WithTimeout(ctx, max(interval, 5*time.Second))
		changed, err := k.ks.ReloadContext(rctx)
		cancel()
		if err != nil {
			k.logger.Error("reload key store", "err", err)
			continue
		}
		if changed {
			if err := k.rebuild(); err != nil {
				k.logger.Error("reload key store", "err", err)
			}
		}
	}
}
