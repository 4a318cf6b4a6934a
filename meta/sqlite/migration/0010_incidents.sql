-- Security incidents, service announcements, the notices sent about them,
-- and the outbox of their deliveries by email and webhook (admeter.Incident,
-- admeter.Announcement, admeter.Notice, admeter.Delivery).
--
-- content holds an incident's notice text (admeter.IncidentContent) as JSON;
-- tenants is a JSON array of the affected tenant ids (all_tenants = 1: every
-- tenant). Incidents outlive the tenants they name, so there is no foreign
-- key on them.
CREATE TABLE incidents (
	id          TEXT PRIMARY KEY,
	content     TEXT NOT NULL CHECK (json_valid(content)),
	severity    TEXT NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
	all_tenants INTEGER NOT NULL CHECK (all_tenants IN (0, 1)),
	tenants     TEXT NOT NULL CHECK (json_valid(tenants) AND json_type(tenants) = 'array'),
	report_due  TEXT NOT NULL,
	reported    TEXT,
	report_ref  TEXT NOT NULL DEFAULT '',
	created_by  TEXT NOT NULL,
	created     TEXT NOT NULL,
	updated     TEXT NOT NULL
);

CREATE INDEX incidents_created ON incidents (created);

CREATE TABLE announcements (
	id         TEXT PRIMARY KEY,
	kind       TEXT NOT NULL CHECK (kind IN ('maintenance', 'security', 'news')),
	content    TEXT NOT NULL CHECK (json_valid(content)),
	starts     TEXT,
	ends       TEXT,
	created_by TEXT NOT NULL,
	created    TEXT NOT NULL
);

CREATE INDEX announcements_created ON announcements (created);

-- A notice's text is fixed when it is made (content: subject and body in
-- both languages); payload is the JSON document webhooks carry.
CREATE TABLE notices (
	id              TEXT PRIMARY KEY,
	kind            TEXT NOT NULL CHECK (kind IN ('incident', 'incident_update', 'announcement')),
	incident_id     TEXT REFERENCES incidents (id),
	announcement_id TEXT REFERENCES announcements (id),
	critical        INTEGER NOT NULL CHECK (critical IN (0, 1)),
	content         TEXT NOT NULL CHECK (json_valid(content)),
	payload         TEXT NOT NULL CHECK (json_valid(payload)),
	created_by      TEXT NOT NULL,
	created         TEXT NOT NULL
);

CREATE INDEX notices_incident ON notices (incident_id, created) WHERE incident_id IS NOT NULL;
CREATE INDEX notices_announcement ON notices (announcement_id) WHERE announcement_id IS NOT NULL;

-- The tenants a notice is addressed to (what each tenant's console lists).
CREATE TABLE notice_tenants (
	notice_id TEXT NOT NULL REFERENCES notices (id) ON DELETE CASCADE,
	tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	PRIMARY KEY (notice_id, tenant_id)
);

CREATE INDEX notice_tenants_tenant ON notice_tenants (tenant_id);

-- The outbox: one row per notice, recipient and channel.
CREATE TABLE deliveries (
	id           TEXT PRIMARY KEY,
	notice_id    TEXT NOT NULL REFERENCES notices (id) ON DELETE CASCADE,
	tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	channel      TEXT NOT NULL CHECK (channel IN ('email', 'webhook')),
	recipient    TEXT NOT NULL,
	status       TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'given_up')),
	attempts     INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
	last_error   TEXT NOT NULL DEFAULT '',
	next_attempt TEXT NOT NULL,
	sent         TEXT,
	created      TEXT NOT NULL,
	updated      TEXT NOT NULL,
	UNIQUE (notice_id, tenant_id, channel, recipient)
);

CREATE INDEX deliveries_notice ON deliveries (notice_id);
CREATE INDEX deliveries_due ON deliveries (next_attempt) WHERE status IN ('pending', 'failed');

-- A tenant's notification settings. webhook_secret is sealed by the caller.
CREATE TABLE notify_settings (
	tenant_id      TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
	email          TEXT NOT NULL DEFAULT '',
	webhook_url    TEXT NOT NULL DEFAULT '',
	webhook_secret BLOB,
	unsubscribed   INTEGER NOT NULL DEFAULT 0 CHECK (unsubscribed IN (0, 1)),
	updated        TEXT NOT NULL
);
