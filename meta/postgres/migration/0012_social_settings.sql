-- A tenant's social insight settings (package social): its brand and
-- competitor keyword rules and its official accounts, as JSON
-- (admeter.SocialSettings).
CREATE TABLE social_settings (
	tenant_id text COLLATE "C" PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
	settings  jsonb NOT NULL,
	updated   timestamptz NOT NULL
);
