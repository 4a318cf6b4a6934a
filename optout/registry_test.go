package optout_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/optout"
)

// pseudonymAt returns a deterministic, uniformly random-looking pseudonym
// (splitmix64 of i), like the HMAC outputs the registry holds.
func pseudonymAt(i int) admeter.Pseudonym {
	var p admeter.Pseudonym
	x := uint64(i)*2 + 1
	for k := 0; k < 16; k += 8 {
		x += 0x9e3779b97f4a7c15
		z := x
		z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
		z = (z ^ z>>27) * 0x94d049bb133111eb
		binary.LittleEndian.PutUint64(p[k:], z^z>>31)
	}
	return p
}

func regPath(t *testing.T) string {
	return filepath.Join(t.TempDir(), "optout.reg")
}

// mustOpen opens the registry at path and closes it when the test ends.
func mustOpen(t *testing.T, path string, logger *slog.Logger) *optout.Registry {
	t.Helper()
	r, err := optout.Open(path, logger)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil && !errors.Is(err, optout.ErrClosed) {
			t.Errorf("Close: %v", err)
		}
	})
	return r
}

func mustAdd(t *testing.T, r *optout.Registry, ps ...admeter.Pseudonym) int {
	t.Helper()
	n, err := r.Add(t.Context(), ps...)
	if err != nil {
		t.Fatalf("Add: %v", err)
	}
	return n
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func wantSize(records int) int64 {
	return int64(optout.HeaderSize + records*optout.RecordSize)
}

// writeRegistry writes a registry file holding ps, followed by tail.
func writeRegistry(t *testing.T, path string, tail []byte, ps ...admeter.Pseudonym) []byte {
	t.Helper()
	b := []byte(optout.Magic)
	for _, p := range ps {
		b = optout.AppendRecord(b, p)
	}
	b = append(b, tail...)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return b
}

func logTo(buf *bytes.Buffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(buf, nil))
}

func TestOpenAddReopen(t *testing.T) {
	path := regPath(t)
	a, b, c, d := pseudonymAt(1), pseudonymAt(2), pseudonymAt(3), pseudonymAt(4)

	r, err := optout.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Len() != 0 || r.Contains(a) {
		t.Fatalf("new registry: Len = %d, Contains(a) = %v", r.Len(), r.Contains(a))
	}
	if got := fileSize(t, path); got != wantSize(0) {
		t.Fatalf("new file is %d bytes, want %d (the header)", got, wantSize(0))
	}
	if n := mustAdd(t, r, a, b, c); n != 3 {
		t.Fatalf("Add = %d, want 3", n)
	}
	for _, p := range []admeter.Pseudonym{a, b, c} {
		if !r.Contains(p) {
			t.Fatalf("Contains(%v) = false after Add", p)
		}
	}
	if r.Contains(d) {
		t.Fatal("Contains(d) = true, d was never added")
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}

	r = mustOpen(t, path, nil)
	if r.Len() != 3 {
		t.Fatalf("reopened: Len = %d, want 3", r.Len())
	}
	for _, p := range []admeter.Pseudonym{a, b, c} {
		if !r.Contains(p) {
			t.Fatalf("reopened: Contains(%v) = false", p)
		}
	}
	if r.Contains(d) {
		t.Fatal("reopened: Contains(d) = true")
	}
	if got := fileSize(t, path); got != wantSize(3) {
		t.Fatalf("file is %d bytes, want %d", got, wantSize(3))
	}
	// The file holds the pseudonyms and nothing derived from anything else.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, writeRegistry(t, filepath.Join(t.TempDir(), "want"), nil, a, b, c)) {
		t.Fatal("file content differs from header + records of a, b, c")
	}
}

func TestAddDuplicatesAndZero(t *testing.T) {
	a, b, zero := pseudonymAt(10), pseudonymAt(11), admeter.Pseudonym{}
	tests := []struct {
		name      string
		adds      [][]admeter.Pseudonym
		wantAdded []int
		wantLen   int
	}{
		{"duplicates in one call", [][]admeter.Pseudonym{{a, a, b, a}}, []int{2}, 2},
		{"duplicates across calls", [][]admeter.Pseudonym{{a}, {a, b}, {b}, {b, a}}, []int{1, 1, 0, 0}, 2},
		{"zero ignored", [][]admeter.Pseudonym{{zero}, {zero, a, zero}}, []int{0, 1}, 1},
		{"nothing", [][]admeter.Pseudonym{{}, nil}, []int{0, 0}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := regPath(t)
			r := mustOpen(t, path, nil)
			for i, ps := range tt.adds {
				if got := mustAdd(t, r, ps...); got != tt.wantAdded[i] {
					t.Fatalf("Add #%d = %d, want %d", i, got, tt.wantAdded[i])
				}
			}
			if r.Len() != tt.wantLen {
				t.Fatalf("Len = %d, want %d", r.Len(), tt.wantLen)
			}
			if r.Contains(zero) {
				t.Fatal("Contains(zero) = true")
			}
			if got := fileSize(t, path); got != wantSize(tt.wantLen) {
				t.Fatalf("file is %d bytes, want %d: duplicates or zero written", got, wantSize(tt.wantLen))
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			if r2 := mustOpen(t, path, nil); r2.Len() != tt.wantLen {
				t.Fatalf("reopened: Len = %d, want %d", r2.Len(), tt.wantLen)
			}
		})
	}
}

func TestTornTail(t *testing.T) {
	a, b, c := pseudonymAt(20), pseudonymAt(21), pseudonymAt(22)
	badCRC := optout.AppendRecord(nil, pseudonymAt(23))
	badCRC[len(badCRC)-1] ^= 0x40
	tests := []struct {
		name string
		tail []byte
	}{
		{"7 garbage bytes", []byte{1, 2, 3, 4, 5, 6, 7}},
		{"bad checksum on the last record", badCRC},
		{"zeroed records then a partial one", make([]byte, 2*optout.RecordSize+5)},
		{"bad record then a partial one", append(bytes.Clone(badCRC), 9, 9, 9)},
		{"the longest write, zeroed", make([]byte, optout.MaxTorn)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := regPath(t)
			writeRegistry(t, path, tt.tail, a, b, c)
			var log bytes.Buffer
			r := mustOpen(t, path, logTo(&log))
			if r.Len() != 3 || !r.Contains(a) || !r.Contains(b) || !r.Contains(c) {
				t.Fatalf("Len = %d; want a, b, c loaded", r.Len())
			}
			if got := fileSize(t, path); got != wantSize(3) {
				t.Fatalf("file is %d bytes after Open, want %d (tail truncated)", got, wantSize(3))
			}
			if !strings.Contains(log.String(), "level=WARN") || !strings.Contains(log.String(), "torn tail") {
				t.Fatalf("no torn-tail warning logged:\n%s", log.String())
			}
			d := pseudonymAt(24)
			if n := mustAdd(t, r, d); n != 1 {
				t.Fatalf("Add after recovery = %d, want 1", n)
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			log.Reset()
			r = mustOpen(t, path, logTo(&log))
			if r.Len() != 4 || !r.Contains(d) {
				t.Fatalf("reopened: Len = %d, Contains(d) = %v; want 4, true", r.Len(), r.Contains(d))
			}
			if strings.Contains(log.String(), "level=WARN") {
				t.Fatalf("second Open warned:\n%s", log.String())
			}
		})
	}
}

func TestTornHeader(t *testing.T) {
	for _, n := range []int{1, 4, optout.HeaderSize - 1} {
		path := regPath(t)
		if err := os.WriteFile(path, []byte(optout.Magic[:n]), 0o600); err != nil {
			t.Fatal(err)
		}
		r := mustOpen(t, path, nil)
		if r.Len() != 0 || fileSize(t, path) != wantSize(0) {
			t.Fatalf("%d header bytes: Len = %d, size = %d; want 0, %d", n, r.Len(), fileSize(t, path), wantSize(0))
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCorruptMiddleRecord(t *testing.T) {
	a, b, c := pseudonymAt(30), pseudonymAt(31), pseudonymAt(32)
	tests := []struct {
		name   string
		flip   int // byte to damage
		offset string
		lost   admeter.Pseudonym
	}{
		{"pseudonym byte of the second record", optout.HeaderSize + optout.RecordSize + 3, "byte offset 28", b},
		{"checksum byte of the first record", optout.HeaderSize + 17, "byte offset 8", a},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := regPath(t)
			data := writeRegistry(t, path, nil, a, b, c)
			data[tt.flip] ^= 0x01
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := optout.Open(path, nil)
			if !errors.Is(err, optout.ErrCorrupt) {
				t.Fatalf("Open error = %v, want ErrCorrupt", err)
			}
			for _, s := range []string{tt.offset, "restore the file from a backup", "Repair"} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
			if got, _ := os.ReadFile(path); !bytes.Equal(got, data) {
				t.Fatal("Open changed a damaged file it refused")
			}

			var log bytes.Buffer
			dropped, err := optout.Repair(path, logTo(&log))
			if err != nil || dropped != 1 {
				t.Fatalf("Repair = %d, %v; want 1, nil", dropped, err)
			}
			if !strings.Contains(log.String(), "dropped_records=1") {
				t.Fatalf("Repair did not log what it dropped:\n%s", log.String())
			}
			r := mustOpen(t, path, nil)
			if r.Len() != 2 || r.Contains(tt.lost) {
				t.Fatalf("after Repair: Len = %d, Contains(damaged) = %v; want 2, false", r.Len(), r.Contains(tt.lost))
			}
			for _, p := range []admeter.Pseudonym{a, b, c} {
				if p != tt.lost && !r.Contains(p) {
					t.Fatalf("after Repair: intact record %v lost", p)
				}
			}
			if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("repaired file: %v, %v; want mode 0600", fi.Mode(), err)
			}
		})
	}
}

// TestLongBadTail checks that a bad tail longer than one Add's write, which
// a crash cannot leave, is refused as damage rather than truncated.
func TestLongBadTail(t *testing.T) {
	a, b := pseudonymAt(40), pseudonymAt(41)
	path := regPath(t)
	data := writeRegistry(t, path, make([]byte, optout.MaxTorn+optout.RecordSize), a, b)
	_, err := optout.Open(path, nil)
	if !errors.Is(err, optout.ErrCorrupt) || !strings.Contains(err.Error(), "more than a crash") {
		t.Fatalf("Open error = %v, want ErrCorrupt about the tail", err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, data) {
		t.Fatal("Open changed a damaged file it refused")
	}
	dropped, err := optout.Repair(path, nil)
	if want := int64(optout.MaxTorn/optout.RecordSize + 1); err != nil || dropped != want {
		t.Fatalf("Repair = %d, %v; want %d, nil", dropped, err, want)
	}
	r := mustOpen(t, path, nil)
	if r.Len() != 2 || !r.Contains(a) || !r.Contains(b) {
		t.Fatalf("after Repair: Len = %d; want a and b", r.Len())
	}
}

func TestNotARegistry(t *testing.T) {
	tests := []struct {
		name, content, want string
	}{
		{"other file", "just some text, not a registry\n", "not an opt-out registry"},
		{"short other file", "{}\n", "not an opt-out registry"},
		{"future version", "ADMOPT2\n" + strings.Repeat("x", 40), "unknown format version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := regPath(t)
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := optout.Open(path, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Open error = %v, want one saying %q", err, tt.want)
			}
			if got, _ := os.ReadFile(path); string(got) != tt.content {
				t.Fatal("Open changed a file it refused")
			}
		})
	}
}

// TestConcurrentAddContains runs overlapping Adds (so groups hold duplicates
// across callers, and the table doubles under the readers) against readers
// that check an opt-out, once seen, never disappears. Run it with -race.
func TestConcurrentAddContains(t *testing.T) {
	const (
		writers = 4
		stride  = 200
		span    = 400 // writer w adds [w*stride, w*stride+span): neighbours overlap
		total   = stride*(writers-1) + span
	)
	path := regPath(t)
	r := mustOpen(t, path, nil)
	startCap := r.Capacity()

	var (
		added   atomic.Int64
		writing sync.WaitGroup
		reading sync.WaitGroup
		done    = make(chan struct{})
	)
	for w := range writers {
		writing.Go(func() {
			for i := 0; i < span; {
				k := min(1+(i+w)%7, span-i)
				batch := make([]admeter.Pseudonym, 0, k)
				for j := range k {
					batch = append(batch, pseudonymAt(w*stride+i+j))
				}
				n, err := r.Add(t.Context(), batch...)
				if err != nil {
					t.Errorf("Add: %v", err)
					return
				}
				added.Add(int64(n))
				for _, p := range batch {
					if !r.Contains(p) {
						t.Errorf("Contains(%v) = false after its Add returned", p)
					}
				}
				i += k
			}
		})
	}
	for range 2 {
		reading.Go(func() {
			var seen [total]bool
			lastLen := 0
			for {
				select {
				case <-done:
					return
				default:
				}
				for i := range total {
					got := r.Contains(pseudonymAt(i))
					if seen[i] && !got {
						t.Errorf("Contains(pseudonymAt(%d)) went from true to false", i)
						return
					}
					seen[i] = got
				}
				if n := r.Len(); n < lastLen {
					t.Errorf("Len went from %d to %d", lastLen, n)
					return
				} else {
					lastLen = n
				}
			}
		})
	}
	writing.Wait()
	close(done)
	reading.Wait()

	if added.Load() != total || r.Len() != total {
		t.Fatalf("added %d in all, Len = %d; want %d each", added.Load(), r.Len(), total)
	}
	if r.Capacity() <= startCap {
		t.Fatalf("capacity %d, started at %d: the test did not grow the table", r.Capacity(), startCap)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	r = mustOpen(t, path, nil)
	for i := range total {
		if !r.Contains(pseudonymAt(i)) {
			t.Fatalf("reopened: pseudonymAt(%d) lost", i)
		}
	}
	if got := fileSize(t, path); got != wantSize(total) {
		t.Fatalf("file is %d bytes, want %d", got, wantSize(total))
	}
}

func TestGrowth(t *testing.T) {
	const n, batch = 20_000, 1_000
	path := regPath(t)
	r := mustOpen(t, path, nil)
	caps := []int{r.Capacity()}
	for i := 0; i < n; i += batch {
		ps := make([]admeter.Pseudonym, batch)
		for j := range ps {
			ps[j] = pseudonymAt(i + j)
		}
		if got := mustAdd(t, r, ps...); got != batch {
			t.Fatalf("Add = %d, want %d", got, batch)
		}
		if c := r.Capacity(); c != caps[len(caps)-1] {
			caps = append(caps, c)
		}
		for j := 0; j < i+batch; j++ {
			if !r.Contains(pseudonymAt(j)) {
				t.Fatalf("after %d entries (capacities %v): pseudonymAt(%d) lost", i+batch, caps, j)
			}
		}
	}
	if len(caps) < 5 {
		t.Fatalf("capacities %v: want several growths", caps)
	}
	for i := 1; i < len(caps); i++ {
		if caps[i] <= caps[i-1] || caps[i]%8 != 0 {
			t.Fatalf("capacities %v: want growing multiples of 8 (whole buckets)", caps)
		}
	}
	if last := caps[len(caps)-1]; 10*n > 7*last {
		t.Fatalf("capacity %d for %d entries: load above 0.7", last, n)
	}
	for i := n; i < 2*n; i++ {
		if r.Contains(pseudonymAt(i)) {
			t.Fatalf("Contains(pseudonymAt(%d)) = true, never added", i)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	r = mustOpen(t, path, nil)
	if load := float64(n) / float64(r.Capacity()); r.Len() != n || load < 0.5 || load > 0.53 {
		t.Fatalf("reopened: Len = %d, Capacity = %d (load %.3f); want %d at a load of 0.52 (sized from the file)", r.Len(), r.Capacity(), load, n)
	}
	for i := range n {
		if !r.Contains(pseudonymAt(i)) {
			t.Fatalf("reopened: pseudonymAt(%d) lost", i)
		}
	}
}

// TestAddLargeBatch adds more pseudonyms in one call than one write holds,
// so Add writes and syncs them in pieces.
func TestAddLargeBatch(t *testing.T) {
	n := 3*optout.MaxTorn/optout.RecordSize + 5
	ps := make([]admeter.Pseudonym, n)
	for i := range ps {
		ps[i] = pseudonymAt(i)
	}
	path := regPath(t)
	r := mustOpen(t, path, nil)
	if got := mustAdd(t, r, ps...); got != n {
		t.Fatalf("Add = %d, want %d", got, n)
	}
	if got := fileSize(t, path); got != wantSize(n) {
		t.Fatalf("file is %d bytes, want %d", got, wantSize(n))
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	r = mustOpen(t, path, nil)
	for i, p := range ps {
		if !r.Contains(p) {
			t.Fatalf("reopened: pseudonymAt(%d) lost", i)
		}
	}
}

// TestAddWriteFailure makes writes fail: Add must report that nothing was
// added, keep the table as it was, and succeed once writes work again; and
// when the file cannot even be cut back, refuse further Adds.
func TestAddWriteFailure(t *testing.T) {
	path := regPath(t)
	r := mustOpen(t, path, nil)
	a, b, c := pseudonymAt(1), pseudonymAt(2), pseudonymAt(3)
	mustAdd(t, r, a)

	// WriteAt fails on a file opened for appending; Truncate still works.
	app, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	good := r.SwapFile(app)
	if n, err := r.Add(t.Context(), b); err == nil || n != 0 || !strings.Contains(err.Error(), "retry") {
		t.Fatalf("Add with failing writes = %d, %v; want 0 and an error saying to retry", n, err)
	}
	if r.Len() != 1 || r.Contains(b) {
		t.Fatalf("after a failed Add: Len = %d, Contains(b) = %v; want 1, false", r.Len(), r.Contains(b))
	}
	r.SwapFile(good)
	if err := app.Close(); err != nil {
		t.Fatal(err)
	}
	if n := mustAdd(t, r, b); n != 1 {
		t.Fatalf("retried Add = %d, want 1", n)
	}

	// A closed file fails both the write and the truncation.
	dead, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	_ = dead.Close()
	good = r.SwapFile(dead)
	_, err1 := r.Add(t.Context(), c)
	r.SwapFile(good)
	_, err2 := r.Add(t.Context(), c)
	for _, err := range []error{err1, err2} {
		if err == nil || !strings.Contains(err.Error(), "open it again") {
			t.Fatalf("Add after a failed cleanup: error = %v, want one saying to reopen", err)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	r = mustOpen(t, path, nil)
	if r.Len() != 2 || !r.Contains(a) || !r.Contains(b) || r.Contains(c) {
		t.Fatalf("reopened: Len = %d; want a and b only", r.Len())
	}
	if n := mustAdd(t, r, c); n != 1 {
		t.Fatalf("Add after reopening = %d, want 1", n)
	}
}

func TestFileMode(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions")
	}
	dir := filepath.Join(t.TempDir(), "data", "optout")
	path := filepath.Join(dir, "optout.reg")
	r := mustOpen(t, path, nil)
	mustAdd(t, r, pseudonymAt(1))
	for _, c := range []struct {
		path string
		want os.FileMode
	}{{path, 0o600}, {dir, 0o700}, {filepath.Dir(dir), 0o700}} {
		fi, err := os.Stat(c.path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != c.want {
			t.Errorf("%s: mode %v, want %v", c.path, got, c.want)
		}
	}
}

func TestSecondOpenFails(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no flock")
	}
	path := regPath(t)
	r := mustOpen(t, path, nil)
	mustAdd(t, r, pseudonymAt(1))
	if _, err := optout.Open(path, nil); !errors.Is(err, optout.ErrLocked) {
		t.Fatalf("second Open error = %v, want ErrLocked", err)
	}
	if _, err := optout.Repair(path, nil); !errors.Is(err, optout.ErrLocked) {
		t.Fatalf("Repair of an open registry: error = %v, want ErrLocked", err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if r2 := mustOpen(t, path, nil); r2.Len() != 1 {
		t.Fatalf("Open after Close: Len = %d, want 1", r2.Len())
	}
}

func TestAddAfterClose(t *testing.T) {
	r := mustOpen(t, regPath(t), nil)
	a := pseudonymAt(1)
	mustAdd(t, r, a)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	for _, ps := range [][]admeter.Pseudonym{{pseudonymAt(2)}, {a}, nil} {
		if _, err := r.Add(t.Context(), ps...); !errors.Is(err, optout.ErrClosed) {
			t.Fatalf("Add%v after Close: error = %v, want ErrClosed", ps, err)
		}
	}
	if err := r.Close(); !errors.Is(err, optout.ErrClosed) {
		t.Fatalf("second Close = %v, want ErrClosed", err)
	}
	if !r.Contains(a) {
		t.Fatal("Contains(a) = false after Close; it must keep answering")
	}
}

func TestAddCanceled(t *testing.T) {
	path := regPath(t)
	r := mustOpen(t, path, nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if n, err := r.Add(ctx, pseudonymAt(1)); !errors.Is(err, context.Canceled) || n != 0 {
		t.Fatalf("Add with a canceled context = %d, %v; want 0, context.Canceled", n, err)
	}
	if r.Len() != 0 || fileSize(t, path) != wantSize(0) {
		t.Fatal("Add with a canceled context recorded something")
	}
}

func TestRepairTornTail(t *testing.T) {
	path := regPath(t)
	a, b := pseudonymAt(1), pseudonymAt(2)
	writeRegistry(t, path, []byte{1, 2, 3}, a, b)
	dropped, err := optout.Repair(path, nil)
	if err != nil || dropped != 0 {
		t.Fatalf("Repair = %d, %v; want 0 records dropped", dropped, err)
	}
	if got := fileSize(t, path); got != wantSize(2) {
		t.Fatalf("repaired file is %d bytes, want %d", got, wantSize(2))
	}
	if _, err := os.Stat(path + ".repair"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("temporary file left behind: %v", err)
	}
}
