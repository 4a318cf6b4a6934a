-- End users' rights requests forwarded by tenants. The device appears only as
-- pseudonyms: optout holds its pseudonyms under the opt-out registry key and
-- users those under each live pseudonymisation key, 16 bytes each,
-- concatenated. fingerprint is the hex of the first opt-out pseudonym.
CREATE TABLE rights_requests (
	id          TEXT PRIMARY KEY,
	tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	type        TEXT NOT NULL CHECK (type IN ('access', 'delete', 'optout')),
	id_type     TEXT NOT NULL,
	minor       INTEGER NOT NULL CHECK (minor IN (0, 1)),
	note        TEXT NOT NULL,
	actor       TEXT NOT NULL,
	status      TEXT NOT NULL CHECK (status IN ('pending', 'processing', 'done', 'failed')),
	received    TEXT NOT NULL,
	due         TEXT NOT NULL,
	due_exact   INTEGER NOT NULL CHECK (due_exact IN (0, 1)),
	completed   TEXT,
	outcome     TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(outcome)),
	error       TEXT NOT NULL DEFAULT '',
	fingerprint TEXT NOT NULL,
	optout      BLOB NOT NULL CHECK (length(optout) % 16 = 0),
	users       BLOB NOT NULL CHECK (length(users) % 16 = 0)
);

CREATE INDEX rights_requests_tenant ON rights_requests (tenant_id, received);
CREATE INDEX rights_requests_queue ON rights_requests (status, minor DESC, received);
CREATE INDEX rights_requests_device ON rights_requests (tenant_id, fingerprint);
