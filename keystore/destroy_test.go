package keystore_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/admeter/admeter/keystore"
)

func TestDestroy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	master := randomKey(t)
	s := MustOpen(t, path, master)
	destroyedAt := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { return destroyedAt }
	for range 2 {
		if _, err := s.Rotate(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	gone, err := s.Secret(1)
	if err != nil {
		t.Fatal(err)
	}
	kept, err := s.Secret(2)
	if err != nil {
		t.Fatal(err)
	}

	if err := s.Destroy(t.Context(), 1); err != nil {
		t.Fatal(err)
	}

	for name, st := range map[string]*keystore.Store{"Same": s, "Reopened": MustOpen(t, path, master)} {
		t.Run(name, func(t *testing.T) {
			_, err := st.Secret(1)
			if !errors.Is(err, keystore.ErrDestroyed) {
				t.Fatalf("Secret(1) err = %v, want ErrDestroyed", err)
			}
			if got, err := st.Secret(2); err != nil || !bytes.Equal(got, kept) {
				t.Fatalf("Secret(2) = %v; another secret or error", err)
			}
			infos := st.Versions()
			if len(infos) != 3 {
				t.Fatalf("%d versions, want 3 (a destroyed version stays listed)", len(infos))
			}
			for _, info := range infos {
				wantDestroyed := time.Time{}
				if info.Version == 1 {
					wantDestroyed = destroyedAt
				}
				if !info.Destroyed.Equal(wantDestroyed) {
					t.Fatalf("version %d destroyed = %v, want %v", info.Version, info.Destroyed, wantDestroyed)
				}
			}
			if v, _ := st.Current(); v != 3 {
				t.Fatalf("current = %d, want 3", v)
			}
		})
	}

	// The file keeps the version's number and times, not its ciphertext.
	file := mustRead(t, path)
	assertNoKey(t, "key store file", file, gone)
	var f map[string]any
	if err := json.Unmarshal(file, &f); err != nil {
		t.Fatal(err)
	}
	k := keyAt(f, 0)
	if _, ok := k["ciphertext"]; ok {
		t.Fatal("destroyed version 1 still has a ciphertext in the file")
	}
	if _, ok := k["nonce"]; ok {
		t.Fatal("destroyed version 1 still has a nonce in the file")
	}
	if k["version"] != 1.0 || k["destroyed"] != "2026-04-01T12:00:00Z" {
		t.Fatalf("destroyed version in the file: %v", k)
	}

	// Destroying again changes nothing; numbering goes on after it.
	if err := s.Destroy(t.Context(), 1); err != nil {
		t.Fatalf("second Destroy(1): %v", err)
	}
	if !bytes.Equal(mustRead(t, path), file) {
		t.Fatal("destroying a destroyed version rewrote the file")
	}
	if v, err := s.Rotate(t.Context()); err != nil || v != 4 {
		t.Fatalf("Rotate() = %d, %v; want 4", v, err)
	}
	if err := s.Destroy(t.Context(), 3); err != nil {
		t.Fatal(err)
	}
	if got := s.String(); !strings.Contains(got, "destroyed: 2") {
		t.Fatalf("String() = %s", got)
	}
}

func TestDestroy_Refused(t *testing.T) {
	for _, tt := range []struct {
		name    string
		version uint32
		cancel  bool
		is      error
		text    string
	}{
		{"Current", 2, false, nil, "version 2 is the current version, which new pseudonyms are made with; rotate to a new version first"},
		{"Unknown", 3, false, keystore.ErrUnknownVersion, "destroy key version 3: unknown key version"},
		{"Zero", 0, false, keystore.ErrUnknownVersion, ""},
		{"Canceled", 1, true, context.Canceled, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "keys.json")
			s := MustOpen(t, path, randomKey(t))
			if _, err := s.Rotate(t.Context()); err != nil {
				t.Fatal(err)
			}
			before := mustRead(t, path)
			ctx, cancel := context.WithCancel(t.Context())
			if tt.cancel {
				cancel()
			}
			defer cancel()

			err := s.Destroy(ctx, tt.version)
			if err == nil {
				t.Fatalf("Destroy(%d) succeeded", tt.version)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Fatalf("err = %v, want %v", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("err = %q, want it to say %q", err, tt.text)
			}
			if !bytes.Equal(mustRead(t, path), before) {
				t.Fatal("a refused Destroy changed the file")
			}
			for _, info := range s.Versions() {
				if !info.Destroyed.IsZero() {
					t.Fatalf("version %d marked destroyed", info.Version)
				}
				if _, err := s.Secret(info.Version); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// TestDestroy_ByOtherProcess checks that a store accepts a version another
// process destroyed, both when it reloads and when it rotates without
// reloading first.
func TestDestroy_ByOtherProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	master := randomKey(t)
	server, keys := MustOpen(t, path, master), MustOpen(t, path, master)

	if changed, err := server.Reload(); err != nil || changed {
		t.Fatalf("Reload() of an unchanged file = %v, %v; want false, nil", changed, err)
	}

	if _, err := keys.Rotate(t.Context()); err != nil {
		t.Fatal(err)
	}
	if changed, err := server.Reload(); err != nil || !changed {
		t.Fatalf("Reload() after another store's Rotate = %v, %v; want true, nil", changed, err)
	}
	if v, _ := server.Current(); v != 2 {
		t.Fatalf("current = %d after reload, want 2", v)
	}
	if changed, err := server.Reload(); err != nil || changed {
		t.Fatalf("second Reload() = %v, %v; want false, nil", changed, err)
	}

	if err := keys.Destroy(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	if changed, err := server.Reload(); err != nil || !changed {
		t.Fatalf("Reload() after another store's Destroy = %v, %v; want true, nil", changed, err)
	}
	if _, err := server.Secret(1); !errors.Is(err, keystore.ErrDestroyed) {
		t.Fatalf("Secret(1) after reload: err = %v, want ErrDestroyed", err)
	}

	// Rotate without reloading first: keys still holds version 2 live.
	if _, err := server.Rotate(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := server.Destroy(t.Context(), 2); err != nil {
		t.Fatal(err)
	}
	if v, err := keys.Rotate(t.Context()); err != nil || v != 4 {
		t.Fatalf("keys.Rotate() = %d, %v; want 4", v, err)
	}
	if _, err := keys.Secret(2); !errors.Is(err, keystore.ErrDestroyed) {
		t.Fatalf("Secret(2) err = %v, want ErrDestroyed", err)
	}
}

func TestReload_RefusesRollback(t *testing.T) {
	for _, tt := range []struct {
		name, text string
		// prepare changes the file under s and returns what to restore.
		prepare func(t *testing.T, path string, master []byte, s *keystore.Store)
	}{
		{"DestroyedComesBack", "version 1 was destroyed but the file holds it again", func(t *testing.T, path string, _ []byte, s *keystore.Store) {
			backup := mustRead(t, path)
			if err := s.Destroy(t.Context(), 1); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, backup, 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{"VersionDisappears", "version 3 disappeared", func(t *testing.T, path string, _ []byte, s *keystore.Store) {
			backup := mustRead(t, path)
			if _, err := s.Rotate(t.Context()); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, backup, 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{"FileReplaced", "version 1 changed", func(t *testing.T, path string, master []byte, _ *keystore.Store) {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			other := MustOpen(t, path, master)
			if _, err := other.Rotate(t.Context()); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "keys.json")
			master := randomKey(t)
			s := MustOpen(t, path, master)
			if _, err := s.Rotate(t.Context()); err != nil {
				t.Fatal(err)
			}
			tt.prepare(t, path, master, s)
			before := s.Versions()
			wantCur, wantSecret := s.Current()

			changed, err := s.Reload()
			if err == nil || changed {
				t.Fatalf("Reload() = %v, %v; want an error", changed, err)
			}
			if !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("err = %q, want it to say %q", err, tt.text)
			}
			if _, err := s.Rotate(t.Context()); err == nil || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("Rotate() err = %v, want it to say %q", err, tt.text)
			}
			if err := s.Destroy(t.Context(), 2); err == nil || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("Destroy() err = %v, want it to say %q", err, tt.text)
			}
			cur, secret := s.Current()
			if cur != wantCur || !bytes.Equal(secret, wantSecret) || len(s.Versions()) != len(before) {
				t.Fatal("a refused reload changed the store")
			}
		})
	}
}

func TestReload_Errors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	s := MustOpen(t, path, randomKey(t))
	if err := os.Rename(path, path+".moved"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Reload(); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Reload() of a missing file: err = %v, want ErrNotExist", err)
	}
	if err := os.WriteFile(path, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Reload(); err == nil {
		t.Fatal("Reload() of a damaged file succeeded")
	}
	if v, secret := s.Current(); v != 1 || len(secret) != keystore.SecretSize {
		t.Fatal("a failed reload changed the store")
	}
}

// TestStore_ConcurrentReload runs a server that reads and reloads while a
// keys command rotates and destroys versions in the same file.
func TestStore_ConcurrentReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	master := randomKey(t)
	server, keys := MustOpen(t, path, master), MustOpen(t, path, master)
	optOut := server.OptOutSecret()

	var wg sync.WaitGroup
	done := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				v, secret := server.Current()
				// v may be destroyed by now, but never changes its secret.
				if got, err := server.Secret(v); err != nil && !errors.Is(err, keystore.ErrDestroyed) {
					t.Error(err)
					return
				} else if err == nil && !bytes.Equal(got, secret) {
					t.Error("Secret(Current()) differs from Current()")
					return
				}
				if !bytes.Equal(server.OptOutSecret(), optOut) {
					t.Error("opt-out registry secret changed")
					return
				}
				_ = server.Versions()
				_ = server.String()
			}
		})
	}
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			if _, err := server.Reload(); err != nil {
				t.Error(err)
				return
			}
		}
	})
	for v := uint32(1); v <= 10; v++ {
		if _, err := keys.Rotate(t.Context()); err != nil {
			t.Fatal(err)
		}
		if err := keys.Destroy(t.Context(), v); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	wg.Wait()

	if _, err := server.Reload(); err != nil {
		t.Fatal(err)
	}
	got, want := server.Versions(), keys.Versions()
	if len(got) != 11 || len(got) != len(want) {
		t.Fatalf("server has %d versions, keys %d; want 11", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Version != w.Version || g.Current != w.Current || !g.Created.Equal(w.Created) || !g.Destroyed.Equal(w.Destroyed) {
			t.Fatalf("version %d: server %+v, keys %+v", i+1, got[i], want[i])
		}
	}
}
