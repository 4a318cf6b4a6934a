-- A tenant's industry vertical (admeter.Industry): the key by which its
-- campaigns are pooled in industry benchmarks; '' when not set.
ALTER TABLE tenants ADD COLUMN industry text NOT NULL DEFAULT '';

-- Published industry benchmark snapshots (admeter.BenchmarkSnapshot): the
-- period (inclusive dates), when it was published and the aggregation
-- rules its cells passed. Only aggregates: no tenant id or name.
CREATE TABLE benchmark_snapshots (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	period_from date             NOT NULL,
	period_to   date             NOT NULL,
	published   timestamptz      NOT NULL,
	min_tenants integer          NOT NULL,
	min_users   bigint           NOT NULL,
	max_share   double precision NOT NULL,
	withheld    integer          NOT NULL
);
CREATE INDEX benchmark_snapshots_period ON benchmark_snapshots (period_from, period_to, id);

-- One row per cell (industry × media, '' = all media) and measure: the
-- cell's tenant count, and the measure's tenant count (0: withheld),
-- pooled value and quartiles.
CREATE TABLE benchmark_values (
	snapshot_id     bigint           NOT NULL REFERENCES benchmark_snapshots (id) ON DELETE CASCADE,
	industry        text             NOT NULL,
	media           text             NOT NULL,
	tenants         integer          NOT NULL,
	measure         text             NOT NULL,
	measure_tenants integer          NOT NULL,
	pooled          double precision NOT NULL,
	p25             double precision NOT NULL,
	p50             double precision NOT NULL,
	p75             double precision NOT NULL,
	PRIMARY KEY (snapshot_id, industry, media, measure)
);
