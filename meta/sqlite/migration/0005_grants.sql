-- Grants: an advertiser (owner) lets an agency (grantee) read or manage one
-- of its campaigns. revoked is NULL while the grant is live; revoked grants
-- stay as the record of who had access when.
--
-- The composite foreign key (campaign_id, owner_id) makes the database itself
-- refuse a grant whose owner does not own the campaign; it needs a unique
-- index on campaigns (id, tenant_id), which id alone already makes unique.
CREATE UNIQUE INDEX campaigns_id_tenant ON campaigns (id, tenant_id);

CREATE TABLE grants (
	id          TEXT PRIMARY KEY,
	owner_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	grantee_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	campaign_id TEXT NOT NULL,
	level       TEXT NOT NULL CHECK (level IN ('read', 'manage')),
	created     TEXT NOT NULL,
	created_by  TEXT NOT NULL,
	revoked     TEXT,
	CHECK (grantee_id <> owner_id),
	FOREIGN KEY (campaign_id, owner_id) REFERENCES campaigns (id, tenant_id) ON DELETE CASCADE
);

-- At most one live grant per agency and campaign; it also serves GrantFor.
CREATE UNIQUE INDEX grants_live ON grants (grantee_id, campaign_id) WHERE revoked IS NULL;
CREATE INDEX grants_owner ON grants (owner_id, created);
CREATE INDEX grants_grantee ON grants (grantee_id, created);
CREATE INDEX grants_campaign ON grants (campaign_id, owner_id);
