-- The metadata schema as of SQLite migration 0006, in one step. Times are
-- timestamptz, kept to the microsecond and read back in UTC; JSON columns
-- are jsonb; flags are boolean. Identifiers and other text that is ordered
-- or compared by range use the "C" collation, so that order is byte order
-- as in SQLite whatever the database's collation. Each table that lists
-- "oldest first" has a seq identity column standing for SQLite's rowid:
-- the tie-break between rows created in the same microsecond.

-- ascii_lower folds ASCII letters only, like SQLite's NOCASE collation: an
-- email's case is ignored for A-Z and nothing else.
CREATE FUNCTION ascii_lower(s text) RETURNS text
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	AS $$ SELECT translate(s, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') $$;

-- Tenants: customer accounts, with their status and registration data.
CREATE TABLE tenants (
	id          text COLLATE "C" PRIMARY KEY,
	seq         bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
	name        text NOT NULL,
	kind        text NOT NULL CHECK (kind IN ('advertiser', 'agency', 'media')),
	created     timestamptz NOT NULL,
	status      text NOT NULL DEFAULT 'active'
		CHECK (status IN ('pending', 'verified', 'active', 'suspended', 'closed')),
	status_note text NOT NULL DEFAULT '',
	company     text NOT NULL DEFAULT '',
	credit_code text NOT NULL DEFAULT '',
	licence_ref text NOT NULL DEFAULT '',
	contact     text NOT NULL DEFAULT '',
	phone       text NOT NULL DEFAULT '',
	email       text NOT NULL DEFAULT '',
	closed      timestamptz
);

-- A company has at most one open account; a closed account frees its code.
CREATE UNIQUE INDEX tenants_credit_code ON tenants (credit_code)
	WHERE credit_code <> '' AND status <> 'closed';
CREATE INDEX tenants_status ON tenants (status, created, seq);

-- Campaigns belong to exactly one tenant. The id is the k parameter of
-- monitoring URLs; allowed_hosts is a JSON array of host names.
CREATE TABLE campaigns (
	id            text COLLATE "C" PRIMARY KEY,
	seq           bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
	tenant_id     text COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	name          text NOT NULL,
	landing_url   text NOT NULL,
	allowed_hosts jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(allowed_hosts) = 'array'),
	timezone      text NOT NULL,
	created       timestamptz NOT NULL,
	UNIQUE (id, tenant_id)
);

CREATE INDEX campaigns_tenant_created ON campaigns (tenant_id, created, seq);

-- Placements: the p parameter of monitoring URLs, unique across the system.
-- position keeps the order in which the campaign listed them;
-- media_tenant_id is the media tenant whose placement it is (NULL: the
-- media has no account).
CREATE TABLE placements (
	id              text COLLATE "C" PRIMARY KEY,
	campaign_id     text COLLATE "C" NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
	position        integer NOT NULL,
	name            text NOT NULL,
	media           text NOT NULL,
	media_tenant_id text COLLATE "C" REFERENCES tenants (id) ON DELETE SET NULL,
	UNIQUE (campaign_id, position)
);

CREATE INDEX placements_media_tenant ON placements (media_tenant_id) WHERE media_tenant_id IS NOT NULL;

-- change_counter holds one row whose version every write increments, so a
-- reader can tell cheaply whether anything changed since it last looked.
-- Every write transaction increments it first: the row lock it takes
-- serialises writers, as SQLite's single writer does.
CREATE TABLE change_counter (
	id      integer PRIMARY KEY CHECK (id = 1),
	version bigint NOT NULL
);

INSERT INTO change_counter (id, version) VALUES (1, 0);

-- API tokens. The token itself is never stored, only its SHA-256 hash.
-- scopes is a JSON array of token scopes; revoked is NULL while it is live;
-- expires NULL means never.
CREATE TABLE api_tokens (
	id         text COLLATE "C" PRIMARY KEY,
	seq        bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
	tenant_id  text COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	name       text NOT NULL,
	scopes     jsonb NOT NULL CHECK (jsonb_typeof(scopes) = 'array'),
	token_hash bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
	created    timestamptz NOT NULL,
	created_by text NOT NULL,
	last_used  timestamptz,
	revoked    timestamptz,
	expires    timestamptz
);

CREATE INDEX api_tokens_tenant ON api_tokens (tenant_id, created, seq);

-- Users sign in with their email, unique across tenants (ASCII case
-- ignored). password_hash is a self-describing hash string; totp_secret is
-- sealed by the caller and opaque here (NULL: no second factor).
CREATE TABLE users (
	id             text COLLATE "C" PRIMARY KEY,
	seq            bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
	tenant_id      text COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	email          text NOT NULL,
	name           text NOT NULL,
	role           text NOT NULL CHECK (role IN ('owner', 'admin', 'analyst', 'viewer')),
	password_hash  text NOT NULL,
	totp_secret    bytea,
	totp_last_step bigint NOT NULL DEFAULT 0,
	failed_logins  integer NOT NULL DEFAULT 0,
	locked_until   timestamptz,
	disabled       boolean NOT NULL DEFAULT false,
	created        timestamptz NOT NULL
);

CREATE UNIQUE INDEX users_email ON users (ascii_lower(email));
CREATE INDEX users_tenant ON users (tenant_id, created, seq);

-- Signed-in sessions, found by the SHA-256 hash of the session cookie. ip is
-- the client's /24 or /48 network block, never its address.
CREATE TABLE sessions (
	id                text COLLATE "C" PRIMARY KEY,
	token_hash        bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
	user_id           text COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	tenant_id         text COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	created           timestamptz NOT NULL,
	expires           timestamptz NOT NULL,
	last_seen         timestamptz NOT NULL,
	ip                text NOT NULL DEFAULT '',
	user_agent_family text NOT NULL DEFAULT '' CHECK (length(user_agent_family) <= 64)
);

CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires);

-- Grants: an advertiser (owner) lets an agency (grantee) read or manage one
-- of its campaigns. The composite foreign key makes the database refuse a
-- grant whose owner does not own the campaign.
CREATE TABLE grants (
	id          text COLLATE "C" PRIMARY KEY,
	seq         bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
	owner_id    text COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	grantee_id  text COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	campaign_id text COLLATE "C" NOT NULL,
	level       text NOT NULL CHECK (level IN ('read', 'manage')),
	created     timestamptz NOT NULL,
	created_by  text NOT NULL,
	revoked     timestamptz,
	CHECK (grantee_id <> owner_id),
	FOREIGN KEY (campaign_id, owner_id) REFERENCES campaigns (id, tenant_id) ON DELETE CASCADE
);

-- At most one live grant per agency and campaign.
CREATE UNIQUE INDEX grants_live ON grants (grantee_id, campaign_id) WHERE revoked IS NULL;
CREATE INDEX grants_owner ON grants (owner_id, created);
CREATE INDEX grants_grantee ON grants (grantee_id, created);
CREATE INDEX grants_campaign ON grants (campaign_id, owner_id);

-- End users' rights requests forwarded by tenants. The device appears only as
-- pseudonyms, 16 bytes each, concatenated.
CREATE TABLE rights_requests (
	id          text COLLATE "C" PRIMARY KEY,
	tenant_id   text COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	type        text NOT NULL CHECK (type IN ('access', 'delete', 'optout')),
	id_type     text NOT NULL,
	minor       boolean NOT NULL,
	note        text NOT NULL,
	actor       text NOT NULL,
	status      text NOT NULL CHECK (status IN ('pending', 'processing', 'done', 'failed')),
	received    timestamptz NOT NULL,
	due         timestamptz NOT NULL,
	due_exact   boolean NOT NULL,
	completed   timestamptz,
	outcome     jsonb NOT NULL DEFAULT '{}',
	error       text NOT NULL DEFAULT '',
	fingerprint text COLLATE "C" NOT NULL,
	optout      bytea NOT NULL CHECK (length(optout) % 16 = 0),
	users       bytea NOT NULL CHECK (length(users) % 16 = 0)
);

CREATE INDEX rights_requests_tenant ON rights_requests (tenant_id, received);
CREATE INDEX rights_requests_queue ON rights_requests (status, minor DESC, received);
CREATE INDEX rights_requests_device ON rights_requests (tenant_id, fingerprint);
