package fsutil_test

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/admeter/admeter/internal/fsutil"
)

func TestLock(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no flock")
	}
	path := filepath.Join(t.TempDir(), "lock")
	a, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := fsutil.Lock(a, false); err != nil {
		t.Fatal(err)
	}
	b, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := fsutil.Lock(b, false); !errors.Is(err, fsutil.ErrLocked) {
		t.Fatalf("second lock: %v, want ErrLocked", err)
	}
	a.Close() // releases the lock
	if err := fsutil.Lock(b, true); err != nil {
		t.Fatalf("lock after release: %v", err)
	}
}

func TestSyncs(t *testing.T) {
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString("x"); err != nil {
		t.Fatal(err)
	}
	if err := fsutil.Fdatasync(f); err != nil {
		t.Fatal(err)
	}
	if err := fsutil.SyncDir(dir); err != nil {
		t.Fatal(err)
	}
	if err := fsutil.SyncDir(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("SyncDir of a missing directory succeeded")
	}
	f.Close()
	if err := fsutil.Fdatasync(f); err == nil {
		t.Fatal("Fdatasync of a closed file succeeded")
	}
}
