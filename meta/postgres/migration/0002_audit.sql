-- The audit record, as in SQLite migration 0003: every sign-in, data access,
-- change and operator action, append-only and hash-chained. Each record
-- stores the hash of the one before it (prev_hash) and its own hash over its
-- fields, seq and prev_hash (admeter.AuditChainHash), so an edited, removed
-- or reordered record breaks the chain. tenant_id has no foreign key:
-- records outlive their tenant. ip is a network block (203.0.113.0/24),
-- never a full address. details is text, not jsonb: it is the canonical JSON
-- that was hashed, byte for byte (jsonb would reorder keys and respell
-- numbers). action uses the "C" collation, so that prefix matches are byte
-- matches.
--
-- Appends are serialised by the appending transaction, which takes a
-- transaction-scoped advisory lock keyed by this table (class 'audt', the
-- table's oid) before it reads the last record, so that processes appending
-- at once extend the chain one after another. The primary key on seq is
-- the backstop: two appends that raced past the lock would collide on seq
-- rather than fork the chain.
CREATE TABLE audit_log (
	seq       bigint PRIMARY KEY CHECK (seq > 0),
	time      timestamptz NOT NULL,
	actor     text NOT NULL,
	action    text COLLATE "C" NOT NULL,
	tenant_id text COLLATE "C" CHECK (tenant_id <> ''),
	target    text NOT NULL,
	ip        text NOT NULL,
	outcome   text NOT NULL,
	details   text NOT NULL CHECK (jsonb_typeof(details::jsonb) = 'object'),
	prev_hash bytea NOT NULL CHECK (length(prev_hash) = 32),
	hash      bytea NOT NULL CHECK (length(hash) = 32)
);

CREATE INDEX audit_log_tenant ON audit_log (tenant_id, seq);

-- Signed checkpoints: an Ed25519 signature over (seq, hash) of a record
-- (admeter.AuditCheckpointMessage). A checkpoint whose record is gone or
-- differs shows that the record was rewritten or the log cut short. No
-- foreign key, so that a checkpoint outlives a removed record.
CREATE TABLE audit_checkpoints (
	seq       bigint PRIMARY KEY CHECK (seq > 0),
	hash      bytea NOT NULL CHECK (length(hash) = 32),
	signature bytea NOT NULL CHECK (length(signature) = 64),
	time      timestamptz NOT NULL
);

-- Append-only: no code path of admeter can change or remove a record or a
-- checkpoint. The triggers fire once per statement, so even an UPDATE or
-- DELETE that matches no row is refused. (The tables' owner can disable or
-- drop them, and DROP TABLE is beyond any trigger; the chain and the
-- checkpoints are what detect that. A deployment can go further and give
-- admeter's role only SELECT and INSERT on these tables: appending needs no
-- more, since it serialises on an advisory lock, not a table lock.)
CREATE FUNCTION audit_append_only() RETURNS trigger
	LANGUAGE plpgsql
	AS $$
BEGIN
	RAISE EXCEPTION '% is append-only', TG_TABLE_NAME
		USING ERRCODE = 'insufficient_privilege',
			HINT = 'The audit record is never changed or removed: append a new record instead.';
END
$$;

CREATE TRIGGER audit_log_append_only
	BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
	FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();

CREATE TRIGGER audit_checkpoints_append_only
	BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_checkpoints
	FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
