-- A tenant's social insight settings (package social): its brand and
-- competitor keyword rules and its official accounts, as JSON
-- (admeter.SocialSettings).
CREATE TABLE social_settings (
	tenant_id TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
	settings  TEXT NOT NULL CHECK (json_valid(settings)),
	updated   TEXT NOT NULL
);
