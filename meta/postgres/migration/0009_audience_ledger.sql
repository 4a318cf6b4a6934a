-- The privacy ledger of audience insight (package insight): one row per
-- release of a campaign's audience. record is the release as insight wrote
-- it (JSON, kept as text so that it is returned byte for byte), including
-- the exact counts, which never leave the ledger; release_key is shared by
-- identical requests, which get the stored answer again; epsilon_milli is
-- the privacy loss charged (thousandths of epsilon, 0 without noise).
CREATE TABLE audience_releases (
	campaign_id   text COLLATE "C" NOT NULL,
	tenant_id     text COLLATE "C" NOT NULL,
	release_key   text COLLATE "C" NOT NULL,
	range_from    timestamptz NOT NULL,
	range_to      timestamptz NOT NULL,
	epsilon_milli bigint NOT NULL CHECK (epsilon_milli >= 0),
	record        text NOT NULL,
	created       timestamptz NOT NULL,
	PRIMARY KEY (campaign_id, release_key),
	FOREIGN KEY (campaign_id, tenant_id) REFERENCES campaigns (id, tenant_id) ON DELETE CASCADE
);

CREATE INDEX audience_releases_range ON audience_releases (campaign_id, range_from, range_to);
