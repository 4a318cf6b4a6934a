-- The audit record: every sign-in, data access, change and operator action,
-- append-only and hash-chained. Each record stores the hash of the one
-- before it (prev_hash) and its own hash over its fields, seq and prev_hash
-- (admeter.AuditChainHash), so an edited, removed or reordered record breaks
-- the chain. tenant_id has no foreign key: records outlive their tenant. ip
-- is a network block (203.0.113.0/24), never a full address. details is the
-- canonical JSON that was hashed, byte for byte.
CREATE TABLE audit_log (
	seq       INTEGER PRIMARY KEY CHECK (seq > 0),
	time      TEXT NOT NULL,
	actor     TEXT NOT NULL,
	action    TEXT NOT NULL,
	tenant_id TEXT CHECK (tenant_id <> ''),
	target    TEXT NOT NULL,
	ip        TEXT NOT NULL,
	outcome   TEXT NOT NULL,
	details   TEXT NOT NULL CHECK (json_valid(details)),
	prev_hash BLOB NOT NULL CHECK (length(prev_hash) = 32),
	hash      BLOB NOT NULL CHECK (length(hash) = 32)
);

CREATE INDEX audit_log_tenant ON audit_log (tenant_id, seq);

-- Signed checkpoints: an Ed25519 signature over (seq, hash) of a record
-- (admeter.AuditCheckpointMessage). A checkpoint whose record is gone or
-- differs shows that the record was rewritten or the log cut short. No
-- foreign key, so that a checkpoint outlives a removed record.
CREATE TABLE audit_checkpoints (
	seq       INTEGER PRIMARY KEY CHECK (seq > 0),
	hash      BLOB NOT NULL CHECK (length(hash) = 32),
	signature BLOB NOT NULL CHECK (length(signature) = 64),
	time      TEXT NOT NULL
);

-- Append-only: no code path of admeter can change or remove a record or a
-- checkpoint. (Someone with the file can drop these triggers; the chain and
-- the checkpoints are what detect that.)
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
	SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
	SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN
	SELECT RAISE(ABORT, 'audit_checkpoints is append-only');
END;

CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN
	SELECT RAISE(ABORT, 'audit_checkpoints is append-only');
END;
