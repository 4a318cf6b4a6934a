package sqlite_test

import (
	"crypto/sha256"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/meta/sqlite"
)

func BenchmarkSessionByTokenHash(b *testing.B) {
	db := MustOpenDB(b)
	tenant := MustCreateTenant(b, db, "A")
	u := &admeter.User{Tenant: tenant.ID, Email: "u@a.example.com", Name: "U", Role: admeter.RoleOwner}
	if err := db.CreateUser(b.Context(), u, "h"); err != nil {
		b.Fatal(err)
	}
	expires := time.Now().Add(time.Hour)
	for i := range 1000 {
		if err := db.CreateSession(b.Context(), &sqlite.Session{User: u.ID, Expires: expires}, sha256.Sum256([]byte{byte(i), byte(i >> 8)})); err != nil {
			b.Fatal(err)
		}
	}
	hash := sha256.Sum256([]byte{244, 1})
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := db.SessionByTokenHash(b.Context(), hash, now); err != nil {
			b.Fatal(err)
		}
	}
}

// TestCreateSession_NoAddressOnDisk checks that a session refused for
// carrying a full client address leaves no trace of it in the database
// files. The behaviour of CreateSession is tested by the metatest suite.
func TestCreateSession_NoAddressOnDisk(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	db := MustOpenDBAt(t, path)
	a := MustCreateTenant(t, db, "A")
	u := &admeter.User{Tenant: a.ID, Email: "a@a.example.com", Name: "A", Role: admeter.RoleOwner}
	if err := db.CreateUser(t.Context(), u, "h"); err != nil {
		t.Fatal(err)
	}
	const rawIP = "203.0.113.77"
	for i, ip := range []string{rawIP, rawIP + "/32", rawIP + "/24"} {
		s := &sqlite.Session{User: u.ID, Expires: time.Now().Add(time.Hour), IP: ip}
		if err := db.CreateSession(t.Context(), s, sha256.Sum256([]byte{byte(i)})); err == nil {
			t.Fatalf("session with ip %q accepted", ip)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	for _, suffix := range []string{"", "-wal"} {
		buf, err := os.ReadFile(path + suffix)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if strings.Contains(string(buf), rawIP) {
			t.Fatalf("%s holds the raw address", path+suffix)
		}
	}
	if err := db.Open(); err != nil { // for the cleanup's Close
		t.Fatal(err)
	}
}
