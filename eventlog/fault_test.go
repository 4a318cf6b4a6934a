//go:build linux

package eventlog

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

const fsizeDirEnv = "EVENTLOG_FSIZE_DIR"

// TestWriteFailure makes a real write(2) fail half way with EFBIG, by running
// TestHelperFileSizeLimit in a child process under RLIMIT_FSIZE (the limit is
// per process, so it must not constrain the test binary itself).
func TestWriteFailure(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperFileSizeLimit$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), fsizeDirEnv+"="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("--- PASS: TestHelperFileSizeLimit")) {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

// TestHelperFileSizeLimit is the child of TestWriteFailure: a failed write
// fails its own Append only, leaves no partial record behind, and later
// Appends continue at the same offset.
func TestHelperFileSizeLimit(t *testing.T) {
	dir := os.Getenv(fsizeDirEnv)
	if dir == "" {
		t.Skip("helper process for TestWriteFailure")
	}
	l, err := Open(dir, Options{}, testLogger(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		mustAppend(t, l, payload(i))
	}
	seg := filepath.Join(dir, segmentName(0))
	fi, err := os.Stat(seg)
	if err != nil {
		t.Fatal(err)
	}
	size := fi.Size()

	var old unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	limit := unix.Rlimit{Cur: uint64(size) + 100, Max: old.Max}
	if err := unix.Setrlimit(unix.RLIMIT_FSIZE, &limit); err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("B"), 500)
	if _, err := l.Append(t.Context(), payload(100), big); !errors.Is(err, syscall.EFBIG) {
		t.Fatalf("Append over the limit: err = %v, want EFBIG", err)
	}
	if fi, err := os.Stat(seg); err != nil || fi.Size() != size {
		t.Fatalf("segment after failed write: size %d (%v), want %d", fi.Size(), err, size)
	}
	if n := l.NextOffset(); n != 10 {
		t.Fatalf("NextOffset after failed write = %d, want 10", n)
	}
	// The failure is not sticky: a small record still fits.
	if first := mustAppend(t, l, []byte("small")); first != 10 {
		t.Fatalf("Append after failure: first = %d, want 10", first)
	}
	if err := unix.Setrlimit(unix.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	if first := mustAppend(t, l, big); first != 11 {
		t.Fatalf("Append after raising the limit: first = %d, want 11", first)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	l = mustOpen(t, dir, Options{})
	got := readAll(t, l, 0)
	if len(got) != 12 || !bytes.Equal(got[10], []byte("small")) || !bytes.Equal(got[11], big) {
		t.Fatalf("after reopen: %d records", len(got))
	}
}
