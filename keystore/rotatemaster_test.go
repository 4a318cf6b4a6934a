package keystore_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/admeter/admeter/keystore"
)

func TestRotateMaster(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	oldMaster, newMaster := randomKey(t), randomKey(t)
	s := MustOpen(t, path, oldMaster)
	for range 2 {
		if _, err := s.Rotate(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Destroy(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	secrets := map[uint32][]byte{}
	for _, v := range []uint32{2, 3} {
		secret, err := s.Secret(v)
		if err != nil {
			t.Fatal(err)
		}
		secrets[v] = secret
	}
	optOut := s.OptOutSecret()
	before := mustRead(t, path)

	var logs bytes.Buffer
	if err := keystore.RotateMaster(path, oldMaster, newMaster, slog.New(slog.NewTextHandler(&logs, nil))); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "restart every admeter process") {
		t.Fatalf("the log does not say to restart:\n%s", logs.String())
	}

	// The new key opens the same secrets, versions and destroyed versions.
	r := MustOpen(t, path, newMaster)
	for v, want := range secrets {
		if got, err := r.Secret(v); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("version %d after rotating the master key: %v", v, err)
		}
	}
	if _, err := r.Secret(1); !errors.Is(err, keystore.ErrDestroyed) {
		t.Fatalf("Secret(1) err = %v, want ErrDestroyed", err)
	}
	if !bytes.Equal(r.OptOutSecret(), optOut) {
		t.Fatal("the opt-out registry secret changed")
	}
	if v, _ := r.Current(); v != 3 {
		t.Fatalf("current = %d, want 3", v)
	}
	if got, want := r.Versions(), s.Versions(); len(got) != len(want) || !got[0].Destroyed.Equal(want[0].Destroyed) || !got[2].Created.Equal(want[2].Created) {
		t.Fatalf("versions changed: %+v, want %+v", got, want)
	}

	// The old key no longer does.
	if _, err := keystore.Open(path, oldMaster, nil); !errors.Is(err, keystore.ErrWrongMasterKey) {
		t.Fatalf("Open with the old master key: err = %v, want ErrWrongMasterKey", err)
	}

	// Every nonce is fresh.
	after := mustRead(t, path)
	oldNonces, newNonces := nonces(t, before), nonces(t, after)
	if len(newNonces) != 4 { // check, versions 2 and 3, opt-out
		t.Fatalf("%d nonces in the new file, want 4", len(newNonces))
	}
	for _, n := range newNonces {
		if slices.Contains(oldNonces, n) {
			t.Fatal("a nonce was reused under the new master key")
		}
	}

	// No secret and neither master key in the file or the log.
	for _, secret := range append([][]byte{optOut, oldMaster, newMaster}, secrets[2], secrets[3]) {
		assertNoKey(t, "key store file", after, secret)
		assertNoKey(t, "log", logs.Bytes(), secret)
	}
	assertFiles(t, filepath.Dir(path), "keys.json", "keys.json.lock")

	// A running store learns on its next reload that it must restart.
	_, err := s.Reload()
	if !errors.Is(err, keystore.ErrWrongMasterKey) {
		t.Fatalf("Reload() after RotateMaster: err = %v, want ErrWrongMasterKey", err)
	}
	if !strings.Contains(err.Error(), "the master key was rotated? restart with the new key") {
		t.Fatalf("Reload() error does not say to restart: %v", err)
	}
	if got, err := s.Secret(3); err != nil || !bytes.Equal(got, secrets[3]) {
		t.Fatal("a running store lost its secrets when the master key was rotated")
	}
	if _, err := s.Rotate(t.Context()); !errors.Is(err, keystore.ErrWrongMasterKey) {
		t.Fatalf("Rotate() after RotateMaster: err = %v, want ErrWrongMasterKey", err)
	}
}

func TestRotateMaster_Refused(t *testing.T) {
	master := randomKey(t)
	for _, tt := range []struct {
		name       string
		old, new   []byte
		missing    bool
		is         error
		text       string
		noFileMade bool
	}{
		{name: "WrongOldKey", old: randomKey(t), new: randomKey(t), is: keystore.ErrWrongMasterKey, text: "with the old key"},
		{name: "SameKey", old: master, new: master, text: "the new master key is the old one"},
		{name: "ShortNewKey", old: master, new: randomKey(t)[:16], text: "new key: master key is 16 bytes, want 32"},
		{name: "ShortOldKey", old: master[:31], new: randomKey(t), text: "old key: master key is 31 bytes, want 32"},
		{name: "NoKeyStore", old: master, new: randomKey(t), missing: true, is: os.ErrNotExist},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "keys.json")
			var before []byte
			if !tt.missing {
				s := MustOpen(t, path, master)
				if _, err := s.Rotate(t.Context()); err != nil {
					t.Fatal(err)
				}
				before = mustRead(t, path)
			}
			entries := listDir(t, dir)

			err := keystore.RotateMaster(path, tt.old, tt.new, nil)
			if err == nil {
				t.Fatal("RotateMaster succeeded")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Fatalf("err = %v, want %v", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("err = %q, want it to say %q", err, tt.text)
			}
			for _, key := range [][]byte{tt.old, tt.new} {
				if strings.Contains(err.Error(), hex.EncodeToString(key)) {
					t.Fatal("the error reveals a master key")
				}
			}
			if tt.missing {
				if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
					t.Fatal("RotateMaster created a key store")
				}
				return
			}
			if !bytes.Equal(mustRead(t, path), before) {
				t.Fatal("a refused RotateMaster changed the file")
			}
			if got := listDir(t, dir); !slices.Equal(got, entries) && !slices.Equal(got, append(entries, "keys.json.lock")) {
				t.Fatalf("directory holds %v, was %v", got, entries)
			}
			MustOpen(t, path, master)
		})
	}
}

func TestRotateMaster_Format1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	oldMaster, newMaster := randomKey(t), randomKey(t)
	want := map[uint32][]byte{1: randomKey(t), 2: randomKey(t)}
	writeFormat1(t, path, oldMaster, want[1], want[2])
	if err := keystore.RotateMaster(path, oldMaster, newMaster, nil); err != nil {
		t.Fatal(err)
	}
	s := MustOpen(t, path, newMaster)
	assertSecrets(t, s, want)
	if len(s.OptOutSecret()) != keystore.SecretSize {
		t.Fatal("no opt-out registry secret after rotating the master key of a format-1 file")
	}
}

// nonces returns every nonce in a key store file: the check's prefix and each
// sealed secret's.
func nonces(tb testing.TB, file []byte) []string {
	tb.Helper()
	var f struct {
		Check  []byte
		Keys   []struct{ Nonce []byte }
		OptOut struct{ Nonce []byte }
	}
	if err := json.Unmarshal(file, &f); err != nil {
		tb.Fatal(err)
	}
	out := []string{string(f.Check[:12]), string(f.OptOut.Nonce)}
	for _, k := range f.Keys {
		if k.Nonce != nil {
			out = append(out, string(k.Nonce))
		}
	}
	return out
}

func listDir(tb testing.TB, dir string) []string {
	tb.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}
