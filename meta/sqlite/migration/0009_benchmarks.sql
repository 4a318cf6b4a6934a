-- A tenant's industry vertical (admeter.Industry): the key by which its
-- campaigns are pooled in industry benchmarks; '' when not set.
ALTER TABLE tenants ADD COLUMN industry TEXT NOT NULL DEFAULT '';

-- Published industry benchmark snapshots (admeter.BenchmarkSnapshot): the
-- period (dates YYYY-MM-DD, inclusive), when it was published and the
-- aggregation rules its cells passed. Only aggregates: no tenant id or name.
CREATE TABLE benchmark_snapshots (
	id          INTEGER PRIMARY KEY,
	period_from TEXT    NOT NULL,
	period_to   TEXT    NOT NULL,
	published   TEXT    NOT NULL,
	min_tenants INTEGER NOT NULL,
	min_users   INTEGER NOT NULL,
	max_share   REAL    NOT NULL,
	withheld    INTEGER NOT NULL
);
CREATE INDEX benchmark_snapshots_period ON benchmark_snapshots (period_from, period_to, id);

-- One row per cell (industry × media, '' = all media) and measure: the
-- cell's tenant count, and the measure's tenant count (0: withheld),
-- pooled value and quartiles.
CREATE TABLE benchmark_values (
	snapshot_id     INTEGER NOT NULL REFERENCES benchmark_snapshots (id) ON DELETE CASCADE,
	industry        TEXT    NOT NULL,
	media           TEXT    NOT NULL,
	tenants         INTEGER NOT NULL,
	measure         TEXT    NOT NULL,
	measure_tenants INTEGER NOT NULL,
	pooled          REAL    NOT NULL,
	p25             REAL    NOT NULL,
	p50             REAL    NOT NULL,
	p75             REAL    NOT NULL,
	PRIMARY KEY (snapshot_id, industry, media, measure)
);
