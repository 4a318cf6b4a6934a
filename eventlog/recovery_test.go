package eventlog

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// writeLog creates a log in a new directory with the given Appends, closes it
// and returns the directory and the path of its last segment.
func writeLog(t *testing.T, opts Options, batches ...[][]byte) (dir, last string) {
	t.Helper()
	dir = t.TempDir()
	l, err := Open(dir, opts, testLogger(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range batches {
		mustAppend(t, l, b...)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	segs := segments(t, dir)
	return dir, filepath.Join(dir, segmentName(segs[len(segs)-1]))
}

func TestRecoverTornTail(t *testing.T) {
	batches := [][][]byte{
		{payload(0)},
		{payload(1), payload(2)},
		{payload(3)},
		{payload(4), payload(5), payload(6)},
	}
	all := slices.Concat(batches...)
	lastBatch := len(all) - len(batches[len(batches)-1])
	sizeOf := func(recs ...[]byte) int64 {
		n := int64(0)
		for _, r := range recs {
			n += recordHeaderSize + int64(len(r))
		}
		return n
	}
	end := segmentHeaderSize + sizeOf(all...)

	tests := []struct {
		name     string
		damage   func(t *testing.T, path string)
		keep     int  // records that survive
		repaired bool // whether Open must truncate
	}{
		{"intact", func(*testing.T, string) {}, len(all), false},
		{"truncated mid payload", func(t *testing.T, p string) { truncate(t, p, end-3) }, lastBatch, true},
		{"truncated mid header", func(t *testing.T, p string) { truncate(t, p, end-sizeOf(payload(6))+3) }, lastBatch, true},
		{"truncated between records of an append", func(t *testing.T, p string) { truncate(t, p, end-sizeOf(payload(6))) }, lastBatch, true},
		{"truncated at append boundary", func(t *testing.T, p string) { truncate(t, p, end-sizeOf(batches[3]...)) }, lastBatch, false},
		{"garbage appended", func(t *testing.T, p string) { appendBytes(t, p, []byte("\x17garbage!\xff\x00\x42")) }, len(all), true},
		// What mapped appends allocated ahead: cut without counting a torn tail.
		{"zeros appended", func(t *testing.T, p string) { appendBytes(t, p, make([]byte, 4096)) }, len(all), false},
		{"torn record, then zeros", func(t *testing.T, p string) {
			truncate(t, p, end-3)
			appendBytes(t, p, make([]byte, 4096))
		}, lastBatch, true},
		{"valid-looking record claiming more", func(t *testing.T, p string) { appendBytes(t, p, appendRecord(nil, []byte("x"), true)) }, len(all), true},
		{"flipped byte in last record", func(t *testing.T, p string) { flip(t, p, end-5) }, lastBatch, true},
		{"flipped length in last record", func(t *testing.T, p string) { flip(t, p, end-sizeOf(payload(6))) }, lastBatch, true},
		{"flipped byte in first record", func(t *testing.T, p string) { flip(t, p, segmentHeaderSize+recordHeaderSize+2) }, 0, true},
		{"only the header left", func(t *testing.T, p string) { truncate(t, p, segmentHeaderSize) }, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, last := writeLog(t, Options{}, batches...)
			tt.damage(t, last)

			reg := prometheus.NewRegistry()
			l, err := Open(dir, Options{}, testLogger(t), reg)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer l.Close()
			if got := l.NextOffset(); got != uint64(tt.keep) {
				t.Fatalf("NextOffset = %d, want %d", got, tt.keep)
			}
			want := 0.0
			if tt.repaired {
				want = 1
			}
			if got := gather(t, reg)["admeter_eventlog_torn_tail_truncations_total"]; got != want {
				t.Errorf("torn_tail_truncations_total = %v, want %v", got, want)
			}
			// Appends continue after the last good record.
			extra := []byte("after recovery")
			if first := mustAppend(t, l, extra); first != uint64(tt.keep) {
				t.Fatalf("Append after recovery: first = %d, want %d", first, tt.keep)
			}
			want2 := append(slices.Clone(all[:tt.keep]), extra)
			if got := readAll(t, l, 0); !slices.EqualFunc(got, want2, bytes.Equal) {
				t.Fatalf("read back %d records, want %d (or contents differ)", len(got), len(want2))
			}
		})
	}
}

func TestRecoverLeftovers(t *testing.T) {
	t.Run("temporary segment removed", func(t *testing.T) {
		dir, _ := writeLog(t, Options{}, [][]byte{payload(1)})
		tmp := filepath.Join(dir, segmentName(1)+tmpSuffix)
		if err := os.WriteFile(tmp, []byte("AMEL"), 0o640); err != nil {
			t.Fatal(err)
		}
		l := mustOpen(t, dir, Options{})
		if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("temporary segment still there: %v", err)
		}
		if got := l.NextOffset(); got != 1 {
			t.Errorf("NextOffset = %d, want 1", got)
		}
	})
	t.Run("empty last segment after rollover", func(t *testing.T) {
		dir, _ := writeLog(t, Options{}, [][]byte{payload(1)}, [][]byte{payload(2)})
		f, err := createSegment(dir, 2)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		l := mustOpen(t, dir, Options{})
		if first := mustAppend(t, l, payload(3)); first != 2 {
			t.Errorf("Append first = %d, want 2", first)
		}
		if got := readAll(t, l, 0); len(got) != 3 {
			t.Errorf("read %d records, want 3", len(got))
		}
	})
	t.Run("bad header of last segment", func(t *testing.T) {
		dir, last := writeLog(t, Options{}, [][]byte{payload(1)})
		flip(t, last, 0)
		_, err := Open(dir, Options{}, testLogger(t), nil)
		var ce *CorruptionError
		if !errors.As(err, &ce) || ce.Segment != last || ce.Offset != 0 {
			t.Fatalf("Open: err = %v, want *CorruptionError for %s", err, last)
		}
	})
}

func TestCorruptSealedSegment(t *testing.T) {
	opts := Options{SegmentSize: 1024}
	var batches [][][]byte
	for i := range 40 {
		batches = append(batches, [][]byte{payload(i)})
	}
	tests := []struct {
		name       string
		damage     func(t *testing.T, path string, size int64)
		wantOffset func(segFirst, segEnd uint64) uint64
	}{
		{
			name:       "flipped payload byte in the middle",
			damage:     func(t *testing.T, p string, size int64) { flip(t, p, size/2) },
			wantOffset: nil, // somewhere inside
		},
		{
			name:       "truncated",
			damage:     func(t *testing.T, p string, size int64) { truncate(t, p, size-10) },
			wantOffset: func(_, end uint64) uint64 { return end - 1 },
		},
		{
			name:       "bad segment header",
			damage:     func(t *testing.T, p string, _ int64) { flip(t, p, 9) },
			wantOffset: func(first, _ uint64) uint64 { return first },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, _ := writeLog(t, opts, batches...)
			segs := segments(t, dir)
			if len(segs) < 3 {
				t.Fatalf("only %d segments", len(segs))
			}
			victim := filepath.Join(dir, segmentName(segs[1]))
			fi, err := os.Stat(victim)
			if err != nil {
				t.Fatal(err)
			}
			tt.damage(t, victim, fi.Size())

			// Open does not read sealed segments, and must not drop
			// acknowledged records by "repairing" them.
			l := mustOpen(t, dir, opts)
			if got := l.NextOffset(); got != 40 {
				t.Fatalf("NextOffset = %d, want 40", got)
			}

			check := func(err error) {
				t.Helper()
				var ce *CorruptionError
				if !errors.As(err, &ce) {
					t.Fatalf("err = %v, want *CorruptionError", err)
				}
				if ce.Segment != victim {
					t.Errorf("Segment = %s, want %s", ce.Segment, victim)
				}
				if ce.Offset < segs[1] || ce.Offset >= segs[2] {
					t.Errorf("Offset = %d, want in [%d, %d)", ce.Offset, segs[1], segs[2])
				}
				if tt.wantOffset != nil {
					if want := tt.wantOffset(segs[1], segs[2]); ce.Offset != want {
						t.Errorf("Offset = %d, want %d", ce.Offset, want)
					}
				}
				if ce.Unwrap() == nil {
					t.Error("Unwrap() = nil")
				}
			}

			// A reader gets every record before the damage, then the error.
			r, err := l.NewReader(0)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var rerr error
			for {
				rec, off, err := r.TryNext()
				if err != nil {
					rerr = err
					break
				}
				if !bytes.Equal(rec, payload(int(off))) {
					t.Fatalf("record %d differs", off)
				}
			}
			check(rerr)
			// The error is stable: the reader does not skip the damage.
			_, _, err = r.TryNext()
			check(err)
			// Records are skipped without verifying their payloads, so a
			// reader opened past a damaged payload reads on.
			if r2, err := l.NewReader(segs[2] - 1); err == nil {
				rec, off, err := r2.TryNext()
				if err != nil {
					check(err)
				} else if !bytes.Equal(rec, payload(int(off))) {
					t.Errorf("record %d differs", off)
				}
				r2.Close()
			}
			// The next segment is readable.
			if got := readAll(t, l, segs[2]); len(got) != 40-int(segs[2]) {
				t.Errorf("read %d records after the damaged segment, want %d", len(got), 40-int(segs[2]))
			}
			check(l.Verify(t.Context()))
		})
	}
}

func TestVerifyClean(t *testing.T) {
	dir, _ := writeLog(t, Options{SegmentSize: 1024}, [][]byte{payload(1)}, [][]byte{payload(2), payload(3)})
	l := mustOpen(t, dir, Options{SegmentSize: 1024})
	if err := l.Verify(t.Context()); err != nil {
		t.Fatalf("Verify: %v", err)
	}
}

func truncate(t *testing.T, path string, size int64) {
	t.Helper()
	if err := os.Truncate(path, size); err != nil {
		t.Fatal(err)
	}
}

func appendBytes(t *testing.T, path string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
}

func flip(t *testing.T, path string, at int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[at] ^= 0x5a
	if err := os.WriteFile(path, b, 0o640); err != nil {
		t.Fatal(err)
	}
}

func TestRecordFraming(t *testing.T) {
	// The checksum covers the length: a zeroed header is not a valid empty
	// record, and the "more" flag cannot be flipped unnoticed.
	zero := make([]byte, recordHeaderSize)
	if parseRecordHeader(zero).valid(nil) {
		t.Error("zeroed header passes as an empty record")
	}
	rec := appendRecord(nil, []byte("payload"), false)
	h := parseRecordHeader(rec)
	if !h.valid(rec[recordHeaderSize:]) || h.more || h.length != 7 {
		t.Fatalf("header = %+v", h)
	}
	binary.LittleEndian.PutUint32(rec, binary.LittleEndian.Uint32(rec)|flagMore)
	if parseRecordHeader(rec).valid(rec[recordHeaderSize:]) {
		t.Error("flipped more flag passes the checksum")
	}
	for _, first := range []uint64{0, 1, 41235, 1<<64 - 1} {
		got, ok := parseSegmentName(segmentName(first))
		if !ok || got != first {
			t.Errorf("parseSegmentName(segmentName(%d)) = %d, %v", first, got, ok)
		}
	}
	for _, name := range []string{"0.seg", "0000000000000000000x.seg", "00000000000000000000.tmp", "00000000000000000000.seg.tmp"} {
		if _, ok := parseSegmentName(name); ok {
			t.Errorf("parseSegmentName(%q) accepted", name)
		}
	}
}
