package keystore_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/admeter/admeter/keystore"
)

// randomKey returns 32 random bytes.
func randomKey(tb testing.TB) []byte {
	tb.Helper()
	key := make([]byte, keystore.MasterKeySize)
	if _, err := rand.Read(key); err != nil {
		tb.Fatal(err)
	}
	return key
}

// writeKeyFile writes text to a new file in dir with the given mode.
func writeKeyFile(tb testing.TB, dir, name, text string, mode os.FileMode) string {
	tb.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(text), mode); err != nil {
		tb.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // independent of umask
		tb.Fatal(err)
	}
	return path
}

func TestParseMasterKey(t *testing.T) {
	key := randomKey(t)
	for _, tt := range []struct {
		name, text string
	}{
		{"StdBase64", base64.StdEncoding.EncodeToString(key)},
		{"URLBase64", base64.URLEncoding.EncodeToString(key)},
		{"RawStdBase64", base64.RawStdEncoding.EncodeToString(key)},
		{"RawURLBase64", base64.RawURLEncoding.EncodeToString(key)},
		{"Hex", hex.EncodeToString(key)},
		{"UpperHex", strings.ToUpper(hex.EncodeToString(key))},
		{"SurroundingSpace", "  " + hex.EncodeToString(key) + "\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := keystore.ParseMasterKey([]byte(tt.text))
			if err != nil {
				t.Fatal(err)
			} else if !bytes.Equal(got, key) {
				t.Fatalf("got %x, want %x", got, key)
			}
		})
	}
}

func TestParseMasterKey_Malformed(t *testing.T) {
	key := randomKey(t)
	for _, tt := range []struct {
		name, text string
	}{
		{"Empty", ""},
		{"Password", "correct horse battery staple"},
		{"Base64Of31Bytes", base64.StdEncoding.EncodeToString(key[:31])},
		{"Base64Of33Bytes", base64.StdEncoding.EncodeToString(append(key, 1))},
		{"Hex63", hex.EncodeToString(key)[:63]},
		{"Hex66", hex.EncodeToString(append(key, 1))},
		{"HexWithNonHexDigit", "g" + hex.EncodeToString(key)[1:]},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := keystore.ParseMasterKey([]byte(tt.text))
			if !errors.Is(err, keystore.ErrMalformedMasterKey) {
				t.Fatalf("err = %v, want ErrMalformedMasterKey", err)
			}
			if !strings.Contains(err.Error(), "master key must be 32 bytes encoded as base64 or 64 hex characters") {
				t.Fatalf("unclear error: %v", err)
			}
			if tt.text != "" && strings.Contains(err.Error(), tt.text) {
				t.Fatalf("error %q reveals the key", err)
			}
		})
	}
}

func TestLoadMasterKey_Sources(t *testing.T) {
	valueKey, fileKey, dirKey := randomKey(t), randomKey(t), randomKey(t)
	dir := t.TempDir()
	file := writeKeyFile(t, dir, "operator.key", hex.EncodeToString(fileKey)+"\n", 0o600)
	dataDir := filepath.Join(dir, "data")
	if err := os.Mkdir(dataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	dirFile := writeKeyFile(t, dataDir, keystore.MasterKeyFileName, base64.StdEncoding.EncodeToString(dirKey), 0o600)

	for _, tt := range []struct {
		name       string
		cfg        keystore.MasterKeyConfig
		want       []byte
		wantSource string
	}{
		{"ValueFirst", keystore.MasterKeyConfig{Value: base64.StdEncoding.EncodeToString(valueKey), File: file, DataDir: dataDir}, valueKey, keystore.SourceValue},
		{"FileBeforeDataDir", keystore.MasterKeyConfig{File: file, DataDir: dataDir}, fileKey, keystore.SourceFile + ":" + file},
		{"FileOnly", keystore.MasterKeyConfig{File: file}, fileKey, keystore.SourceFile + ":" + file},
		{"DataDir", keystore.MasterKeyConfig{DataDir: dataDir}, dirKey, keystore.SourceDataDir + ":" + dirFile},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, source, err := keystore.LoadMasterKey(tt.cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.want) {
				t.Fatal("got the key of the wrong source")
			}
			if source != tt.wantSource {
				t.Fatalf("source = %q, want %q", source, tt.wantSource)
			}
		})
	}
}

func TestLoadMasterKey_RawFile(t *testing.T) {
	key := randomKey(t)
	key[0] = 0 // not text, whatever the rest is
	path := writeKeyFile(t, t.TempDir(), "raw.key", string(key), 0o600)
	got, _, err := keystore.LoadMasterKey(keystore.MasterKeyConfig{File: path}, nil)
	if err != nil {
		t.Fatal(err)
	} else if !bytes.Equal(got, key) {
		t.Fatal("raw key file read wrongly")
	}

	// 32 bytes of text are a mistyped key, not a raw one.
	path = writeKeyFile(t, t.TempDir(), "text.key", strings.Repeat("a", 32), 0o600)
	if _, _, err := keystore.LoadMasterKey(keystore.MasterKeyConfig{File: path}, nil); !errors.Is(err, keystore.ErrMalformedMasterKey) {
		t.Fatalf("err = %v, want ErrMalformedMasterKey", err)
	}
}

func TestLoadMasterKey_Generate(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	dataDir := filepath.Join(t.TempDir(), "new", "data")
	path := filepath.Join(dataDir, keystore.MasterKeyFileName)

	key, source, err := keystore.LoadMasterKey(keystore.MasterKeyConfig{DataDir: dataDir}, logger)
	if err != nil {
		t.Fatal(err)
	}
	if source != keystore.SourceGenerated+":"+path {
		t.Fatalf("source = %q", source)
	}
	if len(key) != keystore.MasterKeySize || bytes.Equal(key, make([]byte, keystore.MasterKeySize)) {
		t.Fatalf("generated key is not 32 random bytes")
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode = %04o, want 0600", fi.Mode().Perm())
	}
	entries, err := os.ReadDir(dataDir)
	if err != nil {
		t.Fatal(err)
	} else if len(entries) != 1 {
		t.Fatalf("data dir holds %d entries, want only %s", len(entries), keystore.MasterKeyFileName)
	}

	out := logs.String()
	for _, want := range []string{"level=WARN", "NEXT TO THE DATA IT PROTECTS", "NOT for production", "--master-key-file", "ADMETER_MASTER_KEY"} {
		if !strings.Contains(out, want) {
			t.Errorf("warning lacks %q:\n%s", want, out)
		}
	}
	assertNoKey(t, "log", []byte(out), key)

	// The second load reads the generated file, silently.
	logs.Reset()
	again, source, err := keystore.LoadMasterKey(keystore.MasterKeyConfig{DataDir: dataDir}, logger)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, key) {
		t.Fatal("reload gave another key")
	}
	if source != keystore.SourceDataDir+":"+path {
		t.Fatalf("source = %q", source)
	}
	if strings.Contains(logs.String(), "WARN") {
		t.Fatalf("reload warned: %s", logs.String())
	}
}

func TestLoadMasterKey_RefusePermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("permission bits do not apply on Windows")
	}
	key := hex.EncodeToString(randomKey(t))
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o620, 0o602, 0o610, 0o700 | 0o070} {
		t.Run(mode.String(), func(t *testing.T) {
			dir := t.TempDir()
			file := writeKeyFile(t, dir, "operator.key", key, mode)
			dirFile := writeKeyFile(t, dir, keystore.MasterKeyFileName, key, mode)
			for _, tt := range []struct {
				cfg  keystore.MasterKeyConfig
				path string
			}{
				{keystore.MasterKeyConfig{File: file}, file},
				{keystore.MasterKeyConfig{DataDir: dir}, dirFile},
			} {
				_, _, err := keystore.LoadMasterKey(tt.cfg, nil)
				if err == nil {
					t.Fatalf("%s with mode %04o accepted", tt.path, mode)
				}
				if !strings.Contains(err.Error(), "chmod 600 "+tt.path) {
					t.Fatalf("error does not say how to fix it: %v", err)
				}
				if strings.Contains(err.Error(), key) {
					t.Fatalf("error reveals the key: %v", err)
				}
			}
		})
	}
}

func TestLoadMasterKey_Errors(t *testing.T) {
	dir := t.TempDir()
	malformed := writeKeyFile(t, dir, "bad.key", "not a key\n", 0o600)
	for _, tt := range []struct {
		name string
		cfg  keystore.MasterKeyConfig
		is   error
	}{
		{"NoSource", keystore.MasterKeyConfig{}, nil},
		{"MalformedValue", keystore.MasterKeyConfig{Value: "hunter2", DataDir: dir}, keystore.ErrMalformedMasterKey},
		{"MalformedFile", keystore.MasterKeyConfig{File: malformed}, keystore.ErrMalformedMasterKey},
		{"MissingFile", keystore.MasterKeyConfig{File: filepath.Join(dir, "missing.key"), DataDir: dir}, os.ErrNotExist},
		{"Directory", keystore.MasterKeyConfig{File: dir}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			key, _, err := keystore.LoadMasterKey(tt.cfg, nil)
			if err == nil {
				t.Fatalf("got key %d bytes, want error", len(key))
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Fatalf("err = %v, want %v", err, tt.is)
			}
		})
	}
	// A missing --master-key-file must not fall back to generating a key.
	if _, err := os.Stat(filepath.Join(dir, keystore.MasterKeyFileName)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a key was generated despite an explicit source: %v", err)
	}
}

// assertNoKey fails if data contains key raw, in hex or in base64.
func assertNoKey(tb testing.TB, what string, data, key []byte) {
	tb.Helper()
	for _, form := range [][]byte{
		key,
		[]byte(hex.EncodeToString(key)),
		[]byte(strings.ToUpper(hex.EncodeToString(key))),
		[]byte(base64.RawStdEncoding.EncodeToString(key)),
		[]byte(base64.RawURLEncoding.EncodeToString(key)),
	} {
		if bytes.Contains(data, form) {
			tb.Fatalf("%s contains the key", what)
		}
	}
}

// malformedRE matches every error ParseMasterKey may return: fixed text and a
// length, never any of the input.
var malformedRE = regexp.MustCompile(`^master key must be 32 bytes encoded as base64 or 64 hex characters( \(it decodes to \d+ bytes\))?$`)

func FuzzParseMasterKey(f *testing.F) {
	key := make([]byte, keystore.MasterKeySize)
	f.Add([]byte(hex.EncodeToString(key)))
	f.Add([]byte(base64.StdEncoding.EncodeToString(key)))
	f.Add([]byte(base64.RawURLEncoding.EncodeToString(key)))
	f.Add([]byte(" \n"))
	f.Fuzz(func(t *testing.T, text []byte) {
		got, err := keystore.ParseMasterKey(text)
		if err == nil && len(got) != keystore.MasterKeySize {
			t.Fatalf("accepted a %d-byte key", len(got))
		}
		if err != nil && !malformedRE.MatchString(err.Error()) {
			t.Fatalf("error %q is not the fixed message; it may reveal its input", err)
		}
	})
}
