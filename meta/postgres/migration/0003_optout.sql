-- Opt-outs shared by every node of a cluster (package optout's Shared): the
-- opt-out page or a rights request on any node appends here, and every
-- collector follows the table by seq into its local registry. pseudonym is
-- the 16-byte pseudonym under the opt-out registry key, never a raw
-- identifier (nor the zero pseudonym, which stands for none). Rows are
-- only ever inserted: a follower that finds the row at its cursor gone
-- publishes its whole registry again (see optout.Shared.Sync).
CREATE TABLE optouts (
	seq       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	pseudonym bytea NOT NULL UNIQUE
		CHECK (length(pseudonym) = 16 AND pseudonym <> '\x00000000000000000000000000000000'::bytea),
	at        timestamptz NOT NULL
);

-- Followers read "seq > cursor" and move their cursor to the last seq they
-- saw, so rows must become visible in seq order. Two inserting transactions
-- could otherwise commit out of order (seq 11 visible while seq 10 is still
-- in flight, and a follower past 11 would never see 10). optouts_serialise
-- runs before every INSERT statement, before any seq is drawn, and takes a
-- transaction-scoped advisory lock keyed by the table: inserting
-- transactions draw their seqs and commit one after another, and the lock
-- is released only after the commit is visible. The key (class 'opt0', the
-- table's oid) cannot collide with the single-bigint migration lock, and a
-- table in another schema gets its own lock.
CREATE FUNCTION optouts_serialise() RETURNS trigger
	LANGUAGE plpgsql
	AS $$
BEGIN
	PERFORM pg_advisory_xact_lock(1869640752, TG_RELID::integer);
	RETURN NULL;
END
$$;

CREATE TRIGGER optouts_serialise BEFORE INSERT ON optouts
	FOR EACH STATEMENT EXECUTE FUNCTION optouts_serialise();
