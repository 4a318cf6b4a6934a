-- Security incidents, service announcements, the notices sent about them,
-- and the outbox of their deliveries, as in SQLite migration 0010.
--
-- content holds an incident's notice text (admeter.IncidentContent);
-- tenants the affected tenant ids (all_tenants: every tenant). Incidents
-- outlive the tenants they name, so there is no foreign key on them. A
-- notice's payload is text, not jsonb: webhooks send it byte for byte, and
-- every retry must send the same bytes.
CREATE TABLE incidents (
	id          text COLLATE "C" PRIMARY KEY,
	content     jsonb NOT NULL CHECK (jsonb_typeof(content) = 'object'),
	severity    text NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
	all_tenants boolean NOT NULL,
	tenants     jsonb NOT NULL CHECK (jsonb_typeof(tenants) = 'array'),
	report_due  timestamptz NOT NULL,
	reported    timestamptz,
	report_ref  text NOT NULL DEFAULT '',
	created_by  text NOT NULL,
	created     timestamptz NOT NULL,
	updated     timestamptz NOT NULL
);

CREATE INDEX incidents_created ON incidents (created);

CREATE TABLE announcements (
	id         text COLLATE "C" PRIMARY KEY,
	kind       text NOT NULL CHECK (kind IN ('maintenance', 'security', 'news')),
	content    jsonb NOT NULL CHECK (jsonb_typeof(content) = 'object'),
	starts     timestamptz,
	ends       timestamptz,
	created_by text NOT NULL,
	created    timestamptz NOT NULL
);

CREATE INDEX announcements_created ON announcements (created);

CREATE TABLE notices (
	id              text COLLATE "C" PRIMARY KEY,
	kind            text NOT NULL CHECK (kind IN ('incident', 'incident_update', 'announcement')),
	incident_id     text COLLATE "C" REFERENCES incidents (id),
	announcement_id text COLLATE "C" REFERENCES announcements (id),
	critical        boolean NOT NULL,
	content         jsonb NOT NULL CHECK (jsonb_typeof(content) = 'object'),
	payload         text NOT NULL CHECK (jsonb_typeof(payload::jsonb) = 'object'),
	created_by      text NOT NULL,
	created         timestamptz NOT NULL
);

CREATE INDEX notices_incident ON notices (incident_id, created) WHERE incident_id IS NOT NULL;
CREATE INDEX notices_announcement ON notices (announcement_id) WHERE announcement_id IS NOT NULL;

CREATE TABLE notice_tenants (
	notice_id text COLLATE "C" NOT NULL REFERENCES notices (id) ON DELETE CASCADE,
	tenant_id text COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	PRIMARY KEY (notice_id, tenant_id)
);

CREATE INDEX notice_tenants_tenant ON notice_tenants (tenant_id);

CREATE TABLE deliveries (
	id           text COLLATE "C" PRIMARY KEY,
	notice_id    text COLLATE "C" NOT NULL REFERENCES notices (id) ON DELETE CASCADE,
	tenant_id    text COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	channel      text NOT NULL CHECK (channel IN ('email', 'webhook')),
	recipient    text COLLATE "C" NOT NULL,
	status       text NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'given_up')),
	attempts     integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
	last_error   text NOT NULL DEFAULT '',
	next_attempt timestamptz NOT NULL,
	sent         timestamptz,
	created      timestamptz NOT NULL,
	updated      timestamptz NOT NULL,
	UNIQUE (notice_id, tenant_id, channel, recipient)
);

CREATE INDEX deliveries_notice ON deliveries (notice_id);
CREATE INDEX deliveries_due ON deliveries (next_attempt) WHERE status IN ('pending', 'failed');

CREATE TABLE notify_settings (
	tenant_id      text COLLATE "C" PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
	email          text NOT NULL DEFAULT '',
	webhook_url    text NOT NULL DEFAULT '',
	webhook_secret bytea,
	unsubscribed   boolean NOT NULL DEFAULT false,
	updated        timestamptz NOT NULL
);
