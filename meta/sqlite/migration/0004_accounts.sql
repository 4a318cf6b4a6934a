-- Enterprise accounts: tenant status and registration data, API tokens with
-- scopes, users, sessions, and the media tenant of a placement.
--
-- Migrations run inside a transaction, where PRAGMA foreign_keys cannot be
-- turned off; rebuilding tenants (to drop token_hash, which is UNIQUE and so
-- cannot be dropped with ALTER TABLE DROP COLUMN) would make DROP TABLE delete
-- every tenant first and cascade to campaigns, placements and requests. So this
-- migration only adds columns and tables. tenants.token_hash stays but is
-- vestigial: its hashes move to api_tokens, and it is overwritten, now and on
-- every new tenant, with randomblob(32), to which no token hashes.

-- Where the account stands. Tenants created so far were created by the
-- operator and are active.
ALTER TABLE tenants ADD COLUMN status TEXT NOT NULL DEFAULT 'active'
	CHECK (status IN ('pending', 'verified', 'active', 'suspended', 'closed'));
ALTER TABLE tenants ADD COLUMN status_note TEXT NOT NULL DEFAULT '';
-- Registration data ('' when the operator created the tenant without it).
ALTER TABLE tenants ADD COLUMN company TEXT NOT NULL DEFAULT '';
ALTER TABLE tenants ADD COLUMN credit_code TEXT NOT NULL DEFAULT '';
ALTER TABLE tenants ADD COLUMN licence_ref TEXT NOT NULL DEFAULT '';
ALTER TABLE tenants ADD COLUMN contact TEXT NOT NULL DEFAULT '';
ALTER TABLE tenants ADD COLUMN phone TEXT NOT NULL DEFAULT '';
ALTER TABLE tenants ADD COLUMN email TEXT NOT NULL DEFAULT '';
ALTER TABLE tenants ADD COLUMN closed TEXT;

-- A company has at most one open account; a closed account frees its code.
CREATE UNIQUE INDEX tenants_credit_code ON tenants (credit_code)
	WHERE credit_code <> '' AND status <> 'closed';
CREATE INDEX tenants_status ON tenants (status, created);

-- API tokens. The token itself is never stored, only its SHA-256 hash.
-- scopes is a JSON array of token scopes; revoked is NULL while it is live.
CREATE TABLE api_tokens (
	id         TEXT PRIMARY KEY,
	tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	name       TEXT NOT NULL,
	scopes     TEXT NOT NULL CHECK (json_valid(scopes) AND json_type(scopes) = 'array'),
	token_hash BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 32),
	created    TEXT NOT NULL,
	created_by TEXT NOT NULL,
	last_used  TEXT,
	revoked    TEXT
);

CREATE INDEX api_tokens_tenant ON api_tokens (tenant_id, created);

-- Each tenant's token becomes its "bootstrap" token, with every scope.
INSERT INTO api_tokens (id, tenant_id, name, scopes, token_hash, created, created_by)
SELECT 'tk_' || substr(id, 3), id, 'bootstrap', '["collect","reports:read","manage"]', token_hash, created, 'operator'
FROM tenants;

UPDATE tenants SET token_hash = randomblob(32);

-- Users sign in with their email, unique across tenants (ASCII case
-- ignored). password_hash is a self-describing hash string; totp_secret is
-- sealed by the caller with a key store key and opaque here (NULL: no second
-- factor); totp_last_step is the last time step a code was accepted for.
CREATE TABLE users (
	id             TEXT PRIMARY KEY,
	tenant_id      TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	email          TEXT NOT NULL UNIQUE COLLATE NOCASE,
	name           TEXT NOT NULL,
	role           TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'analyst', 'viewer')),
	password_hash  TEXT NOT NULL,
	totp_secret    BLOB,
	totp_last_step INTEGER NOT NULL DEFAULT 0,
	failed_logins  INTEGER NOT NULL DEFAULT 0,
	locked_until   TEXT,
	disabled       INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
	created        TEXT NOT NULL
);

CREATE INDEX users_tenant ON users (tenant_id, created);

-- Signed-in sessions, found by the SHA-256 hash of the session cookie. ip is
-- the client's /24 or /48 network block, never its address;
-- user_agent_family a short browser family name, never the header.
CREATE TABLE sessions (
	id                TEXT PRIMARY KEY,
	token_hash        BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 32),
	user_id           TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	tenant_id         TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	created           TEXT NOT NULL,
	expires           TEXT NOT NULL,
	last_seen         TEXT NOT NULL,
	ip                TEXT NOT NULL DEFAULT '',
	user_agent_family TEXT NOT NULL DEFAULT '' CHECK (length(user_agent_family) <= 64)
);

CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires);

-- The media tenant whose placement it is (NULL: the media has no account).
ALTER TABLE placements ADD COLUMN media_tenant_id TEXT REFERENCES tenants (id) ON DELETE SET NULL;

CREATE INDEX placements_media_tenant ON placements (media_tenant_id) WHERE media_tenant_id IS NOT NULL;
