package postgres_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/admeter/admeter/keystore"
	"github.com/admeter/admeter/keystore/keystoretest"
	"github.com/admeter/admeter/meta/postgres"
)

// Compile-time check that a KeyDocument is a keystore.Backend.
var _ keystore.Backend = (*postgres.KeyDocument)(nil)

// TestKeystoreBackend runs the key store backend suite on PostgreSQL: each
// node is a DB of its own on one schema.
func TestKeystoreBackend(t *testing.T) {
	keystoretest.Run(t, func(t *testing.T) func(*testing.T) keystore.Backend {
		schema := newSchema(t)
		openSchema(t, schema) // migrate once before the nodes race
		return func(t *testing.T) keystore.Backend {
			return openSchema(t, schema).KeystoreBackend("")
		}
	})
}

// TestKeystoreBackend_Names checks that documents of different names are
// kept apart, and that the row holds the sealed document only.
func TestKeystoreBackend_Names(t *testing.T) {
	schema := newSchema(t)
	db := openSchema(t, schema)
	master := keystoretest.NewMasterKey(t)
	a := keystoretest.MustOpen(t, db.KeystoreBackend(""), master)
	b := keystoretest.MustOpen(t, db.KeystoreBackend("other"), master)
	_, sa := a.Current()
	_, sb := b.Current()
	if bytes.Equal(sa, sb) {
		t.Fatal("two documents share a key")
	}
	if _, err := a.Rotate(t.Context()); err != nil {
		t.Fatal(err)
	}
	if v, _ := b.Current(); v != 1 {
		t.Fatalf("rotating one document rotated the other to %d", v)
	}

	got := db.KeystoreBackend("").String()
	if !strings.Contains(got, schema) || !strings.Contains(got, `"keys"`) || strings.Contains(got, "host=") {
		t.Fatalf("String() = %q, want the schema and name, not the DSN", got)
	}

	c, err := pgx.Connect(t.Context(), testDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(t.Context())
	var names []string
	var docs [][]byte
	rows, err := c.Query(t.Context(), `SELECT name, doc FROM `+pgx.Identifier{schema, "keystore_documents"}.Sanitize()+` ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		var doc []byte
		if err := rows.Scan(&name, &doc); err != nil {
			t.Fatal(err)
		}
		names, docs = append(names, name), append(docs, doc)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if strings.Join(names, ",") != "keys,other" {
		t.Fatalf("rows %v, want keys and other", names)
	}
	_, cur := a.Current()
	for i, doc := range docs {
		for _, secret := range [][]byte{master, a.OptOutSecret(), b.OptOutSecret(), sa, sb, cur} {
			keystoretest.AssertNoSecret(t, "row "+names[i], doc, secret)
		}
	}
}

// TestKeystoreBackend_NotOpen checks that a document of a DB that is not
// open fails instead of panicking.
func TestKeystoreBackend_NotOpen(t *testing.T) {
	d := postgres.NewDB(testDSN).KeystoreBackend("")
	if _, _, err := d.Load(t.Context()); err == nil {
		t.Fatal("Load() on a DB that is not open succeeded")
	}
	if _, err := d.Save(t.Context(), []byte("doc"), 0); err == nil || keystore.IsConflict(err) {
		t.Fatalf("Save() on a DB that is not open: err = %v, want an error that is not a conflict", err)
	}
}
