package keystore_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/admeter/admeter/keystore"
)

// MustOpen opens the key store at path under master, failing tb on error.
func MustOpen(tb testing.TB, path string, master []byte) *keystore.Store {
	tb.Helper()
	s, err := keystore.Open(path, master, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func TestOpen_Create(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "keys.json")
	master := randomKey(t)
	s := MustOpen(t, path, master)

	v, secret := s.Current()
	if v != 1 {
		t.Fatalf("first version = %d, want 1", v)
	}
	if len(secret) != keystore.SecretSize || bytes.Equal(secret, make([]byte, keystore.SecretSize)) {
		t.Fatal("secret is not 32 random bytes")
	}
	infos := s.Versions()
	if len(infos) != 1 || infos[0].Version != 1 || !infos[0].Current || infos[0].Purpose != keystore.PurposePseudonym || infos[0].Created.IsZero() || !infos[0].Destroyed.IsZero() {
		t.Fatalf("Versions() = %+v", infos)
	}
	optOut := s.OptOutSecret()
	if len(optOut) != keystore.SecretSize || bytes.Equal(optOut, secret) {
		t.Fatal("no opt-out registry secret of its own")
	}

	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode = %04o, want 0600", fi.Mode().Perm())
	}
	assertFiles(t, filepath.Dir(path), "keys.json")

	// Reopening gives the same secret.
	again := MustOpen(t, path, master)
	v2, secret2 := again.Current()
	if v2 != v || !bytes.Equal(secret2, secret) || !bytes.Equal(again.OptOutSecret(), optOut) {
		t.Fatal("reopened store has another secret")
	}
}

func TestOpen_WrongMasterKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	MustOpen(t, path, randomKey(t))

	_, err := keystore.Open(path, randomKey(t), nil)
	if !errors.Is(err, keystore.ErrWrongMasterKey) {
		t.Fatalf("err = %v, want ErrWrongMasterKey", err)
	}
	if want := "cannot decrypt key store " + path + ": wrong master key?"; err.Error() != want {
		t.Fatalf("err = %q, want %q", err, want)
	}

	if _, err := keystore.Open(path, randomKey(t)[:16], nil); err == nil {
		t.Fatal("a 16-byte master key was accepted")
	}
}

func TestOpen_Tampered(t *testing.T) {
	master := randomKey(t)
	for _, tt := range []struct {
		name   string
		tamper func(f map[string]any)
	}{
		{"FlipCiphertextBit", func(f map[string]any) {
			k := keyAt(f, 1)
			ct := mustB64(t, k["ciphertext"])
			ct[3] ^= 1
			k["ciphertext"] = ct
		}},
		{"FlipNonceBit", func(f map[string]any) {
			k := keyAt(f, 0)
			n := mustB64(t, k["nonce"])
			n[0] ^= 0x80
			k["nonce"] = n
		}},
		{"TruncateNonce", func(f map[string]any) {
			k := keyAt(f, 0)
			k["nonce"] = mustB64(t, k["nonce"])[:4]
		}},
		{"ChangeVersion", func(f map[string]any) { keyAt(f, 1)["version"] = 7 }},
		{"ChangePurpose", func(f map[string]any) { keyAt(f, 0)["purpose"] = "session" }},
		{"SwapCiphertexts", func(f map[string]any) {
			a, b := keyAt(f, 0), keyAt(f, 1)
			a["ciphertext"], b["ciphertext"] = b["ciphertext"], a["ciphertext"]
			a["nonce"], b["nonce"] = b["nonce"], a["nonce"]
		}},
		{"ReorderVersions", func(f map[string]any) {
			keys := f["keys"].([]any)
			keys[0], keys[1] = keys[1], keys[0]
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
			if err == nil {
				t.Fatal("tampered key store opened")
			}
			if errors.Is(err, keystore.ErrWrongMasterKey) {
				t.Fatalf("tampering reported as a wrong master key: %v", err)
			}
			if !strings.Contains(err.Error(), "cannot decrypt key store "+path) {
				t.Fatalf("unclear error: %v", err)
			}
		})
	}
}

func TestOpen_Garbage(t *testing.T) {
	for _, tt := range []struct{ name, text string }{
		{"Empty", ""},
		{"NotJSON", "master=xyz"},
		{"FutureFormat", `{"format": 3}`},
		{"Format2WithoutCheck", `{"format": 2}`},
		{"NoCheck", `{"format": 1, "keys": []}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "keys.json")
			if err := os.WriteFile(path, []byte(tt.text), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := keystore.Open(path, randomKey(t), nil); err == nil {
				t.Fatal("opened")
			}
			if got := string(mustRead(t, path)); got != tt.text {
				t.Fatal("Open rewrote a file it could not read")
			}
		})
	}
}

func TestRotate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	master := randomKey(t)
	s := MustOpen(t, path, master)
	now := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { return now }

	_, first := s.Current()
	secrets := map[uint32][]byte{1: first}
	for want := uint32(2); want <= 4; want++ {
		v, err := s.Rotate(t.Context())
		if err != nil {
			t.Fatal(err)
		} else if v != want {
			t.Fatalf("Rotate() = %d, want %d", v, want)
		}
		cur, secret := s.Current()
		if cur != v {
			t.Fatalf("current = %d after rotating to %d", cur, v)
		}
		for old, oldSecret := range secrets {
			if bytes.Equal(secret, oldSecret) {
				t.Fatalf("version %d repeats the secret of version %d", v, old)
			}
		}
		secrets[v] = secret
	}

	for _, st := range []*keystore.Store{s, MustOpen(t, path, master)} {
		for v, want := range secrets {
			got, err := st.Secret(v)
			if err != nil {
				t.Fatal(err)
			} else if !bytes.Equal(got, want) {
				t.Fatalf("version %d changed", v)
			}
		}
		infos := st.Versions()
		if len(infos) != 4 {
			t.Fatalf("%d versions, want 4", len(infos))
		}
		for i, info := range infos {
			if info.Version != uint32(i+1) || info.Current != (i == 3) {
				t.Fatalf("Versions()[%d] = %+v", i, info)
			}
		}
		if !infos[3].Created.Equal(now) {
			t.Fatalf("created = %v, want %v", infos[3].Created, now)
		}
	}
	if _, err := s.Secret(5); !errors.Is(err, keystore.ErrUnknownVersion) {
		t.Fatalf("Secret(5) err = %v, want ErrUnknownVersion", err)
	}
	if _, err := s.Secret(0); !errors.Is(err, keystore.ErrUnknownVersion) {
		t.Fatalf("Secret(0) err = %v, want ErrUnknownVersion", err)
	}
	assertFiles(t, filepath.Dir(path), "keys.json", "keys.json.lock")
}

func TestRotate_KeepsOtherProcessVersions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	master := randomKey(t)
	a, b := MustOpen(t, path, master), MustOpen(t, path, master)

	if v, err := b.Rotate(t.Context()); err != nil || v != 2 {
		t.Fatalf("b.Rotate() = %d, %v", v, err)
	}
	if v, err := a.Rotate(t.Context()); err != nil || v != 3 {
		t.Fatalf("a.Rotate() = %d, %v; want 3", v, err)
	}
	fromA, err := a.Secret(2)
	if err != nil {
		t.Fatal(err)
	}
	fromB, err := b.Secret(2)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fromA, fromB) {
		t.Fatal("version 2 differs between processes")
	}
}

func TestRotate_RefusesRolledBackFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	s := MustOpen(t, path, randomKey(t))
	backup := mustRead(t, path)
	if _, err := s.Rotate(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, backup, 0o600); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Rotate(t.Context()); err == nil {
		t.Fatalf("Rotate() = %d over a restored backup; version 2 would name two secrets", v)
	}
	if v, _ := s.Current(); v != 2 {
		t.Fatalf("current = %d after a failed rotation, want 2", v)
	}
}

func TestRotate_Canceled(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	s := MustOpen(t, path, randomKey(t))
	before := mustRead(t, path)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.Rotate(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if !bytes.Equal(mustRead(t, path), before) {
		t.Fatal("a canceled rotation changed the file")
	}
}

func TestStore_NoSecretsOnDiskOrInText(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	master := randomKey(t)
	var logs bytes.Buffer
	s, err := keystore.Open(path, master, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := s.Rotate(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	secrets := [][]byte{s.OptOutSecret(), master}
	for _, info := range s.Versions() {
		secret, err := s.Secret(info.Version)
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, secret)
	}
	if err := s.Destroy(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("store", "store", s)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("store", "store", s)

	file := mustRead(t, path)
	text := []byte(fmt.Sprintf("%v %+v %#v %s %+v", s, s, s, s, s.Versions()))
	for _, secret := range secrets {
		assertNoKey(t, "key store file", file, secret)
		assertNoKey(t, "String()", text, secret)
		assertNoKey(t, "log", logs.Bytes(), secret)
	}
	if !strings.Contains(string(text), "versions: 3, current: 3, destroyed: 1") {
		t.Fatalf("String() = %s", text)
	}
}

func TestStore_Concurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	s := MustOpen(t, path, randomKey(t))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				v, secret := s.Current()
				got, err := s.Secret(v)
				if err != nil {
					t.Error(err)
					return
				}
				if !bytes.Equal(got, secret) {
					t.Error("Secret(Current()) differs from Current()")
					return
				}
				_ = s.Versions()
				_ = s.String()
			}
		})
	}
	for range 2 {
		wg.Go(func() {
			for range 5 {
				if _, err := s.Rotate(t.Context()); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if v, _ := s.Current(); v != 11 {
		t.Fatalf("current = %d after 10 rotations, want 11", v)
	}
}

func BenchmarkCurrent(b *testing.B) {
	s := MustOpen(b, filepath.Join(b.TempDir(), "keys.json"), randomKey(b))
	b.ReportAllocs()
	for b.Loop() {
		s.Current()
	}
}

func BenchmarkSecret(b *testing.B) {
	s := MustOpen(b, filepath.Join(b.TempDir(), "keys.json"), randomKey(b))
	for range 15 {
		if _, err := s.Rotate(b.Context()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Secret(7); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRotate(b *testing.B) {
	s := MustOpen(b, filepath.Join(b.TempDir(), "keys.json"), randomKey(b))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Rotate(b.Context()); err != nil {
			b.Fatal(err)
		}
	}
}

// keyAt returns the i-th sealed version of a decoded key store file.
func keyAt(f map[string]any, i int) map[string]any {
	return f["keys"].([]any)[i].(map[string]any)
}

// mustB64 decodes a base64 JSON string.
func mustB64(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := base64.StdEncoding.DecodeString(v.(string))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func mustRead(tb testing.TB, path string) []byte {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// assertFiles fails unless dir holds exactly the entries names, in sorted
// order: no temporary file is left behind.
func assertFiles(tb testing.TB, dir string, names ...string) {
	tb.Helper()
	if got := listDir(tb, dir); !slices.Equal(got, names) {
		tb.Fatalf("%s holds %v, want %v", dir, listDir(tb, dir), names)
	}
}
