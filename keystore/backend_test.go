package keystore_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/keystore"
	"github.com/admeter/admeter/keystore/keystoretest"
)

// TestFileBackend runs the backend suite on key store files: the nodes are
// FileBackends on one path, as processes on one machine would be.
func TestFileBackend(t *testing.T) {
	keystoretest.Run(t, func(t *testing.T) func(*testing.T) keystore.Backend {
		path := filepath.Join(t.TempDir(), "data", "keys.json")
		return func(*testing.T) keystore.Backend { return keystore.NewFileBackend(path) }
	})
}

// TestOpenBackend_File checks that a store opened through OpenBackend with a
// FileBackend is the store Open opens.
func TestOpenBackend_File(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	master := randomKey(t)
	s, err := keystore.OpenBackend(t.Context(), keystore.NewFileBackend(path), master, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Path() != path {
		t.Fatalf("Path() = %q, want %q", s.Path(), path)
	}
	if _, err := s.Rotate(t.Context()); err != nil {
		t.Fatal(err)
	}
	assertSame(t, s, MustOpen(t, path, master))
	assertFiles(t, filepath.Dir(path), "keys.json", "keys.json.lock")
}

func TestOpenBackend_NoBackend(t *testing.T) {
	if _, err := keystore.OpenBackend(t.Context(), nil, randomKey(t), nil); err == nil {
		t.Fatal("OpenBackend(nil) succeeded")
	}
}

// TestFileBackend_Conflicts checks the file backend's conflicts against the
// file directly: a file written behind its back, or removed.
func TestFileBackend_Conflicts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	b := keystore.NewFileBackend(path)
	rev, err := b.Save(t.Context(), []byte("one"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("edited by hand"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = b.Save(t.Context(), []byte("two"), rev)
	if !keystore.IsConflict(err) || admeter.ErrorCode(err) != admeter.ECONFLICT {
		t.Fatalf("Save() over a file changed meanwhile: err = %v, want a conflict", err)
	}
	if got := string(mustRead(t, path)); got != "edited by hand" {
		t.Fatalf("a conflicting Save() wrote %q", got)
	}
	doc, rev, err := b.Load(t.Context())
	if err != nil || string(doc) != "edited by hand" {
		t.Fatalf("Load() = %q, %v", doc, err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Save(t.Context(), []byte("three"), rev); !keystore.IsConflict(err) {
		t.Fatalf("Save() over a removed file: err = %v, want a conflict", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a conflicting Save() recreated the file")
	}

	// An empty file is a document, not the absence of one.
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if doc, rev, err := b.Load(t.Context()); err != nil || doc == nil || rev == 0 {
		t.Fatalf("Load() of an empty file = %q, %d, %v; want an empty document", doc, rev, err)
	}
}

func TestIsConflict(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("conflict"), false},
		{admeter.Errorf(admeter.ECONFLICT, "saved meanwhile"), true},
		{errors.Join(errors.New("save"), admeter.Errorf(admeter.ECONFLICT, "saved meanwhile")), true},
		{admeter.Errorf(admeter.EINVALID, "bad"), false},
	} {
		if got := keystore.IsConflict(tt.err); got != tt.want {
			t.Errorf("IsConflict(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

// assertSame fails tb unless a and b hold the same versions and secrets.
func assertSame(tb testing.TB, a, b *keystore.Store) {
	tb.Helper()
	va, vb := a.Versions(), b.Versions()
	if len(va) != len(vb) {
		tb.Fatalf("%d and %d versions", len(va), len(vb))
	}
	for i := range va {
		sa, ea := a.Secret(va[i].Version)
		sb, eb := b.Secret(vb[i].Version)
		if va[i].Version != vb[i].Version || (ea == nil) != (eb == nil) || string(sa) != string(sb) {
			tb.Fatalf("version %d differs", va[i].Version)
		}
	}
}
