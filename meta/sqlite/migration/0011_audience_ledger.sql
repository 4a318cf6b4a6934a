-- The privacy ledger of audience insight (package insight): one row per
-- release of a campaign's audience. record is the release as insight wrote
-- it (JSON), including the exact counts, which never leave the ledger;
-- release_key is shared by identical requests, which get the stored answer
-- again; epsilon_milli is the privacy loss charged (thousandths of epsilon,
-- 0 without noise). [range_from, range_to) are UTC instants.
CREATE TABLE audience_releases (
	campaign_id   TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
	tenant_id     TEXT NOT NULL,
	release_key   TEXT NOT NULL,
	range_from    TEXT NOT NULL,
	range_to      TEXT NOT NULL,
	epsilon_milli INTEGER NOT NULL CHECK (epsilon_milli >= 0),
	record        TEXT NOT NULL CHECK (json_valid(record)),
	created       TEXT NOT NULL,
	PRIMARY KEY (campaign_id, release_key)
);

CREATE INDEX audience_releases_range ON audience_releases (campaign_id, range_from, range_to);
