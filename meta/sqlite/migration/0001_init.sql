-- Tenants: customer accounts. The API token itself is never stored, only its
-- SHA-256 hash, by which requests are authenticated.
CREATE TABLE tenants (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	kind       TEXT NOT NULL CHECK (kind IN ('advertiser', 'agency', 'media')),
	token_hash BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 32),
	created    TEXT NOT NULL
);

-- Campaigns belong to exactly one tenant. The id is the k parameter of
-- monitoring URLs; allowed_hosts is a JSON array of host names.
CREATE TABLE campaigns (
	id            TEXT PRIMARY KEY,
	tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	name          TEXT NOT NULL,
	landing_url   TEXT NOT NULL,
	allowed_hosts TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(allowed_hosts)),
	timezone      TEXT NOT NULL,
	created       TEXT NOT NULL
);

CREATE INDEX campaigns_tenant_created ON campaigns (tenant_id, created);

-- Placements: the p parameter of monitoring URLs, unique across the system.
-- position keeps the order in which the campaign listed them.
CREATE TABLE placements (
	id          TEXT PRIMARY KEY,
	campaign_id TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
	position    INTEGER NOT NULL,
	name        TEXT NOT NULL,
	media       TEXT NOT NULL,
	UNIQUE (campaign_id, position)
);

-- change_counter holds one row whose version every write increments, so a
-- reader can tell cheaply whether anything changed since it last looked.
CREATE TABLE change_counter (
	id      INTEGER PRIMARY KEY CHECK (id = 1),
	version INTEGER NOT NULL
);

INSERT INTO change_counter (id, version) VALUES (1, 0);
