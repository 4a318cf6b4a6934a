package main

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/admeter/admeter/api"
	"github.com/admeter/admeter/benchmark"
)

// benchmarkMeta is what the industry benchmarks need of the metadata
// store beyond the metadata interface: both stores have it.
type benchmarkMeta interface {
	benchmark.Meta
	api.IndustryService
}

// benchmarkServices returns the industry benchmark service over the
// metadata and event stores, and the metadata store as the API's
// industry service. rawFrom is the raw-data retention's start.
func (m *Main) benchmarkServices(rawFrom func() time.Time, logger *slog.Logger) (*benchmark.Service, api.IndustryService, error) {
	meta, ok := m.meta.(benchmarkMeta)
	if !ok {
		return nil, nil, fmt.Errorf("metadata store %T keeps no industry benchmarks", m.meta)
	}
	cfg := benchmark.DefaultConfig()
	cfg.RawFrom = rawFrom
	// One threshold k for every report that describes people across
	// customers: audience insight's (which may only be raised).
	cfg.Rules.MinUsers = max(cfg.Rules.MinUsers, int64(m.Config.Audience.MinUsers))
	svc, err := benchmark.New(cfg, meta, m.store, logger)
	if err != nil {
		return nil, nil, err
	}
	return svc, meta, nil
}
