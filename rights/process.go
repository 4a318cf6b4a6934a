package rights

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/admeter/admeter"
)

// Run carries out open requests until ctx is cancelled: at once when one is
// submitted, and every interval otherwise (to retry failures of the moment).
// Requests left processing by a crash are carried out again; every step is
// idempotent. Expired access copies are removed as it goes.
func (s *Service) Run(ctx context.Context, interval time.Duration) error {
	if interval <= 0 {
		interval = 30 * time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := s.ProcessOpen(ctx); err != nil && ctx.Err() == nil {
			s.logger.Error("carry out rights requests", "err", err)
		}
		if _, err := s.ExpireExports(ctx); err != nil && ctx.Err() == nil {
			s.logger.Error("remove expired access copies", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.wake:
		case <-t.C:
		}
	}
}

// ProcessOpen carries out every open request, minors' first, then oldest
// first, and returns how many it finished. A request that cannot be carried
// out now (a component is unavailable) keeps its place, with the error
// recorded, for the next round; the others go on.
func (s *Service) ProcessOpen(ctx context.Context) (int, error) {
	open, err := s.requests.OpenRequests(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, r := range open {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		if err := s.process(ctx, r); err != nil {
			errs = append(errs, err)
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

// process carries out one request and records the outcome.
func (s *Service) process(ctx context.Context, r *admeter.RightsRequest) error {
	if r.Status == admeter.RequestPending {
		r.Status = admeter.RequestProcessing
		if err := s.requests.UpdateRequest(ctx, r); err != nil {
			return err
		}
	}
	start := s.cfg.Now()
	var err error
	switch r.Type {
	case admeter.RequestAccess:
		err = s.access(ctx, r)
	case admeter.RequestDelete:
		err = s.delete(ctx, r)
	case admeter.RequestOptOut:
		var n int
		n, err = s.registry.Add(ctx, r.OptOut...)
		r.Outcome.OptOutAdded = r.Outcome.OptOutAdded || n > 0
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.logger.Error("rights request not carried out; it will be retried", "request", r.ID, "type", r.Type, "err", err)
		r.Error = err.Error()
		_ = s.requests.UpdateRequest(context.WithoutCancel(ctx), r)
		return fmt.Errorf("carry out request %s: %w", r.ID, err)
	}
	r.Status, r.Completed, r.Error = admeter.RequestDone, s.cfg.Now().UTC().Truncate(time.Microsecond), ""
	if err := s.requests.UpdateRequest(context.WithoutCancel(ctx), r); err != nil {
		return err
	}
	s.record(ctx, r, "rights.request.done", "ok", outcomeDetails(r.Outcome))
	s.logger.Info("rights request carried out", "request", r.ID, "tenant", r.Tenant, "type", r.Type,
		"events", r.Outcome.Events, "took", s.cfg.Now().Sub(start).Round(time.Millisecond))
	return nil
}

// access writes the access copy of r.
func (s *Service) access(ctx context.Context, r *admeter.RightsRequest) error {
	events, truncated, err := s.events.UserEvents(ctx, r.Tenant, r.Users, s.cfg.MaxExportEvents)
	if err != nil {
		return fmt.Errorf("find events: %w", err)
	}
	camps := map[admeter.CampaignID]bool{}
	for i := range events {
		camps[events[i].Campaign] = true
	}
	r.Outcome.Events, r.Outcome.Campaigns, r.Outcome.Truncated = int64(len(events)), len(camps), truncated
	now := s.cfg.Now()
	exp := newExport(r, events, truncated, now)
	if r.IDType == admeter.IDSocial {
		posts, more, err := s.events.UserPosts(ctx, r.Tenant, r.Users, s.cfg.MaxExportEvents)
		if err != nil {
			return fmt.Errorf("find social records: %w", err)
		}
		exp.addPosts(posts, more)
		r.Outcome.SocialRecords, r.Outcome.Truncated = int64(len(posts)), r.Outcome.Truncated || more
	}
	if err := writeExport(s.exportPath(r.ID), exp, now); err != nil {
		return err
	}
	return nil
}

// delete carries out a deletion request: the device is already in the
// opt-out registry (Submit put it there), so no new event of it is logged;
// every event logged before is loaded, then deleted with its rollups
// recomputed, and the loaded log segments and earlier access copies go too.
func (s *Service) delete(ctx context.Context, r *admeter.RightsRequest) error {
	n, err := s.registry.Add(ctx, r.OptOut...)
	if err != nil {
		return fmt.Errorf("add to opt-out registry: %w", err)
	}
	r.Outcome.OptOutAdded = r.Outcome.OptOutAdded || n > 0
	if err := s.pipeline.Drain(ctx); err != nil {
		return fmt.Errorf("wait for logged events to load: %w", err)
	}
	d, err := s.events.DeleteUsers(ctx, r.Tenant, r.Users)
	if err != nil {
		return fmt.Errorf("delete events: %w", err)
	}
	// A retry finds nothing left to delete; keep the first count. The count
	// and the rollups still to recompute are saved at once, before the
	// rollups are touched: a retry after an interruption or a crash finds
	// no events and so no spans of its own, and must use these.
	if d.Events > 0 || r.Outcome.Events == 0 {
		r.Outcome.Events, r.Outcome.Campaigns = d.Events, len(d.Campaigns)
	}
	if d.Posts > 0 {
		r.Outcome.SocialRecords = d.Posts
	}
	for c, span := range d.Campaigns {
		r.Outcome.PendingRollups = append(r.Outcome.PendingRollups, admeter.RollupSpan{Campaign: c, From: span.From, To: span.To})
	}
	// Shutdown must not interrupt saving the count or recomputing rollups.
	keep := context.WithoutCancel(ctx)
	if d.Events > 0 || d.Posts > 0 {
		if err := s.requests.UpdateRequest(keep, r); err != nil {
			return fmt.Errorf("save deletion count: %w", err)
		}
	}
	for len(r.Outcome.PendingRollups) > 0 {
		p := r.Outcome.PendingRollups[0]
		if err := s.pipeline.Refresh(keep, r.Tenant, p.Campaign, p.From, p.To); err != nil {
			return fmt.Errorf("recompute rollups of campaign %s: %w", p.Campaign, err)
		}
		r.Outcome.PendingRollups = r.Outcome.PendingRollups[1:]
	}
	r.Outcome.PendingRollups = nil
	segs, err := s.pipeline.Purge(ctx)
	if err != nil {
		return fmt.Errorf("remove loaded event-log segments: %w", err)
	}
	r.Outcome.LogSegmentsRemoved += segs
	prior, err := s.requests.DeviceRequests(ctx, r.Tenant, r.Fingerprint)
	if err != nil {
		return err
	}
	for _, p := range prior {
		if p.Type != admeter.RequestAccess {
			continue
		}
		err := os.Remove(s.exportPath(p.ID))
		if err == nil {
			r.Outcome.ExportsRemoved++
		} else if !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove access copy %s: %w", p.ID, err)
		}
	}
	return nil
}

// ExpireExports removes access copies older than the export TTL and returns
// how many it removed.
func (s *Service) ExpireExports(ctx context.Context) (int, error) {
	entries, err := os.ReadDir(s.cfg.ExportDir)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	} else if err != nil {
		return 0, fmt.Errorf("list access copies: %w", err)
	}
	cut := s.cfg.Now().Add(-s.cfg.ExportTTL)
	n := 0
	for _, e := range entries {
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
		fi, err := e.Info()
		if err != nil || fi.IsDir() || !fi.ModTime().Before(cut) {
			continue
		}
		if err := os.Remove(filepath.Join(s.cfg.ExportDir, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
			return n, fmt.Errorf("remove expired access copy: %w", err)
		}
		n++
	}
	if n > 0 {
		s.logger.Info("removed expired access copies", "count", n, "ttl", s.cfg.ExportTTL)
	}
	return n, nil
}

func (s *Service) exportPath(id string) string {
	return filepath.Join(s.cfg.ExportDir, id+".json")
}
