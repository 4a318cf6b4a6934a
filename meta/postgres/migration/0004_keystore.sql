-- The key store document (package keystore): the pseudonymisation keys and
-- the opt-out registry secret, each sealed under the master key, which never
-- leaves the nodes; one row per document name, replaced whole by
-- compare-and-swap on rev. There are no history rows on purpose: a destroyed
-- key's sealed secret must not survive in the table.
CREATE TABLE keystore_documents (
	name    text COLLATE "C" PRIMARY KEY,
	rev     bigint NOT NULL CHECK (rev > 0),
	doc     bytea NOT NULL,
	updated timestamptz NOT NULL
);
