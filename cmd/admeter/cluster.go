package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/admeter/admeter/store/duckdb"
)

// clusterGrace is how long after a UTC day ends its partition waits to be
// clustered: most of its late events have arrived by then.
const clusterGrace = time.Hour

// clusterer is a store whose day partitions can be rewritten in campaign
// order and indexed for ReachSets (the embedded DuckDB store; ClickHouse
// keeps its own order).
type clusterer interface {
	Cluster(ctx context.Context, before time.Time) (duckdb.ClusterResult, error)
	BuildReachIndex(ctx context.Context, before time.Time) (int, error)
}

// clusterJob runs a clusterer's Cluster, then its BuildReachIndex,
// periodically and counts what they do.
type clusterJob struct {
	now    func() time.Time
	logger *slog.Logger

	runs, errors, partitions, rows, reachFiles prometheus.Counter
	duration                                   prometheus.Histogram
}

func newClusterJob(now func() time.Time, logger *slog.Logger, reg prometheus.Registerer) *clusterJob {
	const ns, sub = "admeter", "store_cluster"
	j := &clusterJob{
		now:    now,
		logger: logger,
		runs: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "runs_total",
			Help: "Runs of the embedded store's clustering (day partitions rewritten in campaign order)."}),
		errors: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "errors_total",
			Help: "Clustering runs that failed (retried at the next interval)."}),
		partitions: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "partitions_total",
			Help: "Day partitions rewritten in campaign order."}),
		rows: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "rows_total",
			Help: "Raw events in the day partitions rewritten."}),
		reachFiles: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "reach_index_files_total",
			Help: "Reach index files (one per ended day, for cross-media reach) built or rebuilt by the job."}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub, Name: "duration_seconds",
			Help: "Duration of a clustering run.", Buckets: prometheus.ExponentialBuckets(0.01, 4, 10)}),
	}
	reg.MustRegister(j.runs, j.errors, j.partitions, j.rows, j.reachFiles, j.duration)
	return j
}

// run clusters the partitions of the days that ended clusterGrace ago or
// earlier, then builds their reach index files that are missing or out of
// date, once.
func (j *clusterJob) run(ctx context.Context, c clusterer) error {
	start := time.Now()
	before := j.now().Add(-clusterGrace)
	res, err := c.Cluster(ctx, before)
	j.partitions.Add(float64(res.Partitions))
	j.rows.Add(float64(res.Rows))
	if err == nil {
		var n int
		n, err = c.BuildReachIndex(ctx, before)
		j.reachFiles.Add(float64(n))
		if n > 0 {
			j.logger.Info("reach index built", "files", n, "elapsed", time.Since(start).Round(time.Millisecond))
		}
	}
	if err != nil {
		if ctx.Err() == nil {
			j.errors.Inc()
		}
		return err
	}
	j.runs.Inc()
	j.duration.Observe(time.Since(start).Seconds())
	if res.Partitions > 0 {
		j.logger.Info("store clustered", "partitions", res.Partitions, "rows", res.Rows, "elapsed", time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// loop runs the job now and then every interval until ctx is done.
func (j *clusterJob) loop(ctx context.Context, c clusterer, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := j.run(ctx, c); err != nil && ctx.Err() == nil {
			j.logger.Error("clustering the store failed; will retry", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
