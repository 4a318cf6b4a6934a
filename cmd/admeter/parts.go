package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/collect"
	"github.com/admeter/admeter/geoip"
	"github.com/admeter/admeter/ingest"
	"github.com/admeter/admeter/ivt"
	"github.com/admeter/admeter/pseudo"
)

// startLoader starts loading events into the store: from Kafka when this
// server is configured with brokers, else from the local event log.
func (m *Main) startLoader(logger *slog.Logger, reg prometheus.Registerer) error {
	var err error
	m.loader, err = ingest.New(ingest.DefaultConfig(),
		func(from uint64) (ingest.Reader, error) { return m.log.NewReader(from) },
		m.log.NextOffset, m.store,
		func(k admeter.CampaignID) *time.Location { return m.catalog.Location(k) },
		logger.With("component", "ingest"), reg)
	if err != nil {
		return err
	}
	loadCtx, stopLoad := context.WithCancel(context.Background())
	m.stopLoad, m.loadDone = stopLoad, make(chan error, 1)
	if m.kafka != nil {
		go func() { m.loadDone <- m.loader.RunPartitioned(loadCtx, m.kafka, m.store) }()
	} else {
		go func() { m.loadDone <- m.loader.Run(loadCtx) }()
	}
	return nil
}

// newCollector returns the collector of monitoring URLs and the batch
// event API, appending to app, with its IP geolocation and its
// invalid-traffic detector.
func (m *Main) newCollector(app collect.Appender, optoutPS *pseudo.Pseudonymizer, logger *slog.Logger, reg prometheus.Registerer) (*collect.Collector, error) {
	cfg := m.Config
	var geo collect.Locator
	if cfg.GeoIP == "" {
		db, err := geoip.Embedded()
		if err != nil {
			return nil, fmt.Errorf("load embedded geoip database: %w", err)
		}
		geo, m.geo = db, db
	} else {
		db, err := geoip.Open(cfg.GeoIP)
		if err != nil {
			return nil, fmt.Errorf("open geoip database %s: %w", cfg.GeoIP, err)
		}
		geo, m.geo = db, db
	}

	proxies, _ := parsePrefixes(cfg.TrustedProxies)
	ccfg := collect.DefaultConfig()
	ccfg.TrustedProxies = proxies
	ccfg.MaxBatchEvents = cfg.MaxBatchEvents
	ccfg.MaxBodyBytes = cfg.MaxBodyBytes
	ccfg.HonorGPC = cfg.HonorGPC
	col, err := collect.New(ccfg, m.catalog, app, m.keys.Current(), geo, m.optouts, optoutPS, logger.With("component", "collect"), reg)
	if err != nil {
		return nil, err
	}
	m.keys.mu.Lock()
	m.keys.onSwap = col.SetPseudonymizer
	m.keys.mu.Unlock()

	icfg := ivt.DefaultConfig()
	for _, a := range strings.Split(cfg.AllowUA, ",") {
		if a = strings.TrimSpace(a); a != "" {
			icfg.AllowUA = append(icfg.AllowUA, a)
		}
	}
	if m.detector, err = ivt.New(icfg); err != nil {
		return nil, fmt.Errorf("--allow-ua: %w", err)
	}
	if cfg.DataCentres != "" {
		n, err := m.detector.Reload(cfg.DataCentres)
		if err != nil {
			return nil, fmt.Errorf("--datacentres: %w", err)
		}
		logger.Info("data-centre ranges loaded", "file", cfg.DataCentres, "prefixes", n)
	}
	col.SetDetector(m.detector)
	return col, nil
}

// leaderElector runs fn while this process is the cluster's only runner of
// the named work (meta/postgres elects with an advisory lock).
type leaderElector interface {
	RunAsLeader(ctx context.Context, name string, retry time.Duration, fn func(ctx context.Context)) error
}

// runJobs runs the end-user request processor and, with jobs, retention
// and behavioural invalid-traffic detection, until ctx is done. With a
// shared metadata store only one process of the cluster runs them at a
// time; another takes over within seconds when it stops.
func (m *Main) runJobs(ctx context.Context, jobs bool) {
	run := func(ctx context.Context) {
		done := make(chan struct{}, 4)
		n := 1
		go func() { _ = m.rights.Run(ctx, 30*time.Second); done <- struct{}{} }()
		if m.notify != nil {
			n++
			go func() { _ = m.notify.Run(ctx, m.Config.Notify.Interval); done <- struct{}{} }()
		}
		if jobs {
			n++
			go func() { m.retention.Loop(ctx, time.Hour); done <- struct{}{} }()
			if c, ok := m.store.(clusterer); ok && m.Config.StoreCluster > 0 {
				n++
				go func() { m.clustering.loop(ctx, c, m.Config.StoreCluster); done <- struct{}{} }()
			}
			if m.Config.IVTInterval > 0 {
				n++
				go func() { m.behaviour.Loop(ctx, m.Config.IVTInterval); done <- struct{}{} }()
			}
		}
		for range n {
			<-done
		}
	}
	if le, ok := m.meta.(leaderElector); ok {
		if err := le.RunAsLeader(ctx, "admeter-jobs", 5*time.Second, run); err != nil && ctx.Err() == nil {
			m.Logger.Error("background jobs stopped", "err", err)
		}
		return
	}
	run(ctx)
}
