package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/admeter/admeter"
)

// DefaultKeystoreName is the name of the key store document that
// KeystoreBackend("") keeps.
const DefaultKeystoreName = "keys"

// errNotOpen is the error of a KeyDocument whose DB is not open.
var errNotOpen = errors.New("key store document: the metadata db is not open: call Open first, and stop reloading the key store before Close")

// KeyDocument keeps one key store document in the keystore_documents table,
// for package keystore (it has the method set of keystore.Backend, which
// this package does not import: adapters do not import one another). Every
// node of a cluster that opens it shares the document, so that all
// pseudonymise with the same keys and a rotation or destruction saved by
// one reaches the others when they reload.
//
// The document holds no secret in the clear: each is sealed under the
// master key, which stays on the nodes. Save replaces the document's one
// row: no history row keeps a destroyed key's sealed secret. PostgreSQL
// itself keeps the replaced row version until VACUUM reclaims it, and WAL
// archives and backups keep theirs: destroy those copies as the backups of
// a key store file.
type KeyDocument struct {
	db   *DB
	name string
}

// KeystoreBackend returns the key store document called name ("" means
// DefaultKeystoreName) in the database, for keystore.OpenBackend. Open db
// first.
func (db *DB) KeystoreBackend(name string) *KeyDocument {
	if name == "" {
		name = DefaultKeystoreName
	}
	return &KeyDocument{db: db, name: name}
}

// String names the document in errors and logs, without the DSN (which may
// hold a password).
func (d *KeyDocument) String() string {
	if d.db.Schema != "" {
		return fmt.Sprintf("postgres %s.keystore_documents %q", d.db.Schema, d.name)
	}
	return fmt.Sprintf("postgres keystore_documents %q", d.name)
}

// Load returns the document and its revision, or a nil document and
// revision 0 if none was saved.
func (d *KeyDocument) Load(ctx context.Context) (doc []byte, rev int64, err error) {
	if d.db.pool == nil {
		return nil, 0, errNotOpen
	}
	err = d.db.pool.with(ctx, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, `SELECT doc, rev FROM keystore_documents WHERE name = $1`, d.name).Scan(&doc, &rev)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, 0, nil
	} else if err != nil {
		return nil, 0, fmt.Errorf("load key store document %q: %w", d.name, err)
	}
	if doc == nil {
		doc = []byte{}
	}
	return doc, rev, nil
}

// Save replaces the document with doc if it is still at revision prevRev,
// or creates it if prevRev is 0 and there is none, and returns the new
// revision: prevRev + 1, or 1 for a new document. If another node saved
// first, it changes nothing and returns an *admeter.Error with code
// admeter.ECONFLICT (keystore.IsConflict reports true for it).
func (d *KeyDocument) Save(ctx context.Context, doc []byte, prevRev int64) (rev int64, err error) {
	if d.db.pool == nil {
		return 0, errNotOpen
	}
	if doc == nil {
		doc = []byte{}
	}
	now := ts(d.db.Now())
	err = d.db.pool.with(ctx, func(c *pgx.Conn) error {
		// Each statement is its own transaction. At READ COMMITTED an
		// UPDATE that waited for a concurrent one rechecks its WHERE on the
		// row that one committed, and an INSERT that waited for a
		// concurrent insert of the same name does nothing: exactly one of
		// two racing saves wins.
		var err error
		if prevRev == 0 {
			err = c.QueryRow(ctx, `INSERT INTO keystore_documents (name, rev, doc, updated) VALUES ($1, 1, $2, $3)
				ON CONFLICT (name) DO NOTHING RETURNING rev`, d.name, doc, now).Scan(&rev)
		} else {
			err = c.QueryRow(ctx, `UPDATE keystore_documents SET rev = rev + 1, doc = $2, updated = $3
				WHERE name = $1 AND rev = $4 RETURNING rev`, d.name, doc, now, prevRev).Scan(&rev)
		}
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, admeter.Errorf(admeter.ECONFLICT, "The key store document %q was changed by another node meanwhile: reload it and try again.", d.name)
	} else if err != nil {
		return 0, fmt.Errorf("save key store document %q: %w", d.name, err)
	}
	return rev, nil
}
