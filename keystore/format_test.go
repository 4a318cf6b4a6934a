package keystore_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/admeter/admeter/keystore"
)

// fixtureMaster is the master key of testdata/keys-format1.json, a key store
// with versions 1 and 2 written by the format-1 code (before the opt-out
// registry secret existed). It protects nothing but that file.
const fixtureMaster = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

// format1File and format1Key are the layout of a format-1 key store file,
// restated here so that the tests pin it independently of the package.
type format1File struct {
	Format int          `json:"format"`
	Check  []byte       `json:"check"`
	Keys   []format1Key `json:"keys"`
}

type format1Key struct {
	Version    uint32    `json:"version"`
	Created    time.Time `json:"created"`
	Purpose    string    `json:"purpose"`
	Nonce      []byte    `json:"nonce"`
	Ciphertext []byte    `json:"ciphertext"`
}

// testAD is the additional data a secret is sealed with.
func testAD(v uint32, purpose string) []byte {
	ad := []byte("admeter keystore secret\x00")
	ad = binary.BigEndian.AppendUint32(ad, v)
	return append(ad, purpose...)
}

func testGCM(tb testing.TB, master []byte) cipher.AEAD {
	tb.Helper()
	block, err := aes.NewCipher(master)
	if err != nil {
		tb.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		tb.Fatal(err)
	}
	return aead
}

// writeFormat1 writes a format-1 key store file at path holding secrets as
// versions 1, 2, ….
func writeFormat1(tb testing.TB, path string, master []byte, secrets ...[]byte) {
	tb.Helper()
	aead := testGCM(tb, master)
	nonce := make([]byte, aead.NonceSize())
	rand.Read(nonce)
	f := format1File{Format: 1, Check: aead.Seal(bytes.Clone(nonce), nonce, nil, []byte("admeter keystore master key check"))}
	for i, secret := range secrets {
		v := uint32(i + 1)
		nonce := make([]byte, aead.NonceSize())
		rand.Read(nonce)
		f.Keys = append(f.Keys, format1Key{
			Version:    v,
			Created:    time.Date(2025, 1, 1+i, 0, 0, 0, 0, time.UTC),
			Purpose:    "pseudonym",
			Nonce:      nonce,
			Ciphertext: aead.Seal(nil, nonce, secret, testAD(v, "pseudonym")),
		})
	}
	data, err := json.MarshalIndent(f, "", "\t")
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		tb.Fatal(err)
	}
}

// readFormat1 decrypts the format-1 key store file at path without the
// package: the secrets by version.
func readFormat1(tb testing.TB, path string, master []byte) map[uint32][]byte {
	tb.Helper()
	var f format1File
	if err := json.Unmarshal(mustRead(tb, path), &f); err != nil {
		tb.Fatal(err)
	}
	if f.Format != 1 {
		tb.Fatalf("%s is in format %d, want 1", path, f.Format)
	}
	aead := testGCM(tb, master)
	out := make(map[uint32][]byte)
	for _, k := range f.Keys {
		secret, err := aead.Open(nil, k.Nonce, k.Ciphertext, testAD(k.Version, k.Purpose))
		if err != nil {
			tb.Fatalf("version %d: %v", k.Version, err)
		}
		out[k.Version] = secret
	}
	return out
}

func TestOpen_UpgradesFormat1(t *testing.T) {
	fixture, err := hex.DecodeString(fixtureMaster)
	if err != nil {
		t.Fatal(err)
	}
	fresh := randomKey(t)
	for _, tt := range []struct {
		name   string
		master []byte
		write  func(t *testing.T, path string)
	}{
		// Written by the format-1 code itself.
		{"Fixture", fixture, func(t *testing.T, path string) {
			if err := os.WriteFile(path, mustRead(t, filepath.Join("testdata", "keys-format1.json")), 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		// Written by the layout restated in this test.
		{"Written", fresh, func(t *testing.T, path string) {
			writeFormat1(t, path, fresh, randomKey(t), randomKey(t), randomKey(t))
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "keys.json")
			tt.write(t, path)
			want := readFormat1(t, path, tt.master)

			var logs bytes.Buffer
			s, err := keystore.Open(path, tt.master, slog.New(slog.NewTextHandler(&logs, nil)))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(logs.String(), "upgraded key store file") {
				t.Fatalf("upgrade not logged:\n%s", logs.String())
			}
			assertSecrets(t, s, want)
			optOut := s.OptOutSecret()
			if len(optOut) != keystore.SecretSize || bytes.Equal(optOut, make([]byte, keystore.SecretSize)) {
				t.Fatal("opt-out registry secret is not 32 random bytes")
			}
			for v, secret := range want {
				if bytes.Equal(secret, optOut) {
					t.Fatalf("opt-out registry secret equals version %d", v)
				}
			}

			var f struct {
				Format int
				OptOut struct {
					Version uint32
					Purpose string
				}
			}
			if err := json.Unmarshal(mustRead(t, path), &f); err != nil {
				t.Fatal(err)
			}
			if f.Format != 2 || f.OptOut.Purpose != keystore.PurposeOptOut || f.OptOut.Version != 1 {
				t.Fatalf("upgraded file: %+v", f)
			}
			assertFiles(t, filepath.Dir(path), "keys.json", "keys.json.lock")

			// Reopening reads the upgraded file as it is.
			logs.Reset()
			before := mustRead(t, path)
			again, err := keystore.Open(path, tt.master, slog.New(slog.NewTextHandler(&logs, nil)))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(logs.String(), "upgraded") || !bytes.Equal(mustRead(t, path), before) {
				t.Fatal("a format-2 file was upgraded again")
			}
			assertSecrets(t, again, want)
			if !bytes.Equal(again.OptOutSecret(), optOut) {
				t.Fatal("the opt-out registry secret changed on reopening")
			}
		})
	}
}

// TestOpen_UpgradeRace opens one format-1 file from several stores at once:
// they must all end up with the one opt-out registry secret in the file.
func TestOpen_UpgradeRace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	master := randomKey(t)
	writeFormat1(t, path, master, randomKey(t))

	got := make([][]byte, 6)
	var wg sync.WaitGroup
	for i := range got {
		wg.Go(func() {
			s, err := keystore.Open(path, master, nil)
			if err != nil {
				t.Error(err)
				return
			}
			got[i] = s.OptOutSecret()
		})
	}
	wg.Wait()
	want := MustOpen(t, path, master).OptOutSecret()
	for i, secret := range got {
		if !bytes.Equal(secret, want) {
			t.Fatalf("store %d holds an opt-out registry secret that is not in the file", i)
		}
	}
}

func TestOptOutSecret(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	master := randomKey(t)
	s := MustOpen(t, path, master)
	optOut := s.OptOutSecret()
	if len(optOut) != keystore.SecretSize || bytes.Equal(optOut, make([]byte, keystore.SecretSize)) {
		t.Fatal("opt-out registry secret is not 32 random bytes")
	}
	_, first := s.Current()
	if bytes.Equal(first, optOut) {
		t.Fatal("opt-out registry secret equals the pseudonym key")
	}

	// A copy: changing it changes nothing.
	copied := s.OptOutSecret()
	copied[0] ^= 0xff
	if !bytes.Equal(s.OptOutSecret(), optOut) {
		t.Fatal("OptOutSecret returned the store's own slice")
	}

	// Never rotated: the same after rotations, destruction and reopening,
	// and in another store.
	for range 2 {
		if _, err := s.Rotate(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Destroy(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	for _, st := range []*keystore.Store{s, MustOpen(t, path, master)} {
		if !bytes.Equal(st.OptOutSecret(), optOut) {
			t.Fatal("the opt-out registry secret changed")
		}
	}
	if other := MustOpen(t, filepath.Join(t.TempDir(), "keys.json"), master).OptOutSecret(); bytes.Equal(other, optOut) {
		t.Fatal("two key stores share an opt-out registry secret")
	}
}

func TestOpen_TamperedOptOut(t *testing.T) {
	master := randomKey(t)
	for _, tt := range []struct {
		name   string
		tamper func(f map[string]any)
	}{
		// The opt-out secret and version 1 are both sealed as version 1;
		// only the purpose in the additional data tells them apart.
		{"SwapWithPseudonymKey", func(f map[string]any) {
			o, k := f["optout"].(map[string]any), keyAt(f, 0)
			o["ciphertext"], k["ciphertext"] = k["ciphertext"], o["ciphertext"]
			o["nonce"], k["nonce"] = k["nonce"], o["nonce"]
		}},
		{"CopyIntoPseudonymKey", func(f map[string]any) {
			o, k := f["optout"].(map[string]any), keyAt(f, 0)
			k["ciphertext"], k["nonce"] = o["ciphertext"], o["nonce"]
		}},
		{"RelabelAsPseudonym", func(f map[string]any) { f["optout"].(map[string]any)["purpose"] = keystore.PurposePseudonym }},
		{"ChangeVersion", func(f map[string]any) { f["optout"].(map[string]any)["version"] = 2 }},
		{"Remove", func(f map[string]any) { delete(f, "optout") }},
		{"Destroy", func(f map[string]any) { f["optout"].(map[string]any)["destroyed"] = time.Now() }},
		{"BackToFormat1", func(f map[string]any) { f["format"] = 1 }},
		{"DestroyedKeepsCiphertext", func(f map[string]any) { keyAt(f, 0)["destroyed"] = time.Now() }},
		{"CurrentDestroyed", func(f map[string]any) {
			k := keyAt(f, 1)
			k["destroyed"] = time.Now()
			delete(k, "nonce")
			delete(k, "ciphertext")
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "keys.json")
			s := MustOpen(t, path, master)
			if _, err := s.Rotate(t.Context()); err != nil {
				t.Fatal(err)
			}
			var f map[string]any
			if err := json.Unmarshal(mustRead(t, path), &f); err != nil {
				t.Fatal(err)
			}
			tt.tamper(f)
			data, err := json.Marshal(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err = keystore.Open(path, master, nil)
			if !errors.Is(err, keystore.ErrCorrupt) {
				t.Fatalf("err = %v, want ErrCorrupt", err)
			}
			if !strings.Contains(err.Error(), "cannot decrypt key store "+path) {
				t.Fatalf("unclear error: %v", err)
			}
			if !bytes.Equal(mustRead(t, path), data) {
				t.Fatal("Open rewrote a file it could not read")
			}
		})
	}
}

// assertSecrets fails unless s holds exactly the live versions want, the
// last of them current.
func assertSecrets(tb testing.TB, s *keystore.Store, want map[uint32][]byte) {
	tb.Helper()
	infos := s.Versions()
	if len(infos) != len(want) {
		tb.Fatalf("%d versions, want %d", len(infos), len(want))
	}
	for _, info := range infos {
		got, err := s.Secret(info.Version)
		if err != nil {
			tb.Fatal(err)
		}
		if !bytes.Equal(got, want[info.Version]) {
			tb.Fatalf("version %d has another secret", info.Version)
		}
	}
	if v, _ := s.Current(); v != uint32(len(want)) {
		tb.Fatalf("current = %d, want %d", v, len(want))
	}
}
