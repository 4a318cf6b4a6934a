package eventlog

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzSegment feeds arbitrary bytes to recovery (as the body of the last
// segment) and to a Reader (as the body of a sealed segment). Neither may
// panic; recovery must keep only whole, valid Appends and accept appends
// after them; the Reader must return valid records or a *CorruptionError.
func FuzzSegment(f *testing.F) {
	valid := appendRecord(appendRecord(nil, []byte("first"), true), []byte("second"), false)
	f.Add(valid)
	f.Add(append(bytes.Clone(valid), 0, 0, 0))
	f.Add(appendRecord(nil, []byte("continued"), true))
	f.Add(valid[:len(valid)-1])
	f.Add([]byte{0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0})
	f.Add(make([]byte, 64))

	f.Fuzz(func(t *testing.T, body []byte) {
		// Expected result: the records of the longest prefix of whole,
		// valid Appends.
		var want [][]byte
		var pending [][]byte
		for rest := body; len(rest) >= recordHeaderSize; {
			h := parseRecordHeader(rest)
			if int(h.length) > len(rest)-recordHeaderSize || !h.valid(rest[recordHeaderSize:recordHeaderSize+int(h.length)]) {
				break
			}
			pending = append(pending, rest[recordHeaderSize:recordHeaderSize+int(h.length)])
			if !h.more {
				want, pending = append(want, pending...), nil
			}
			rest = rest[recordHeaderSize+int(h.length):]
		}

		t.Run("recover", func(t *testing.T) {
			dir := t.TempDir()
			writeSegment(t, dir, 0, body)
			l, err := Open(dir, Options{}, nil, nil)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer l.Close()
			if got := l.NextOffset(); got != uint64(len(want)) {
				t.Fatalf("NextOffset = %d, want %d", got, len(want))
			}
			if first := mustAppend(t, l, []byte("next")); first != uint64(len(want)) {
				t.Fatalf("Append first = %d, want %d", first, len(want))
			}
			got := readAll(t, l, 0)
			for i, w := range want {
				if !bytes.Equal(got[i], w) {
					t.Fatalf("record %d differs", i)
				}
			}
		})

		t.Run("sealed", func(t *testing.T) {
			// Segment 0 holds body and claims the records up to 3.
			dir := t.TempDir()
			writeSegment(t, dir, 0, body)
			writeSegment(t, dir, 3, nil)
			l, err := Open(dir, Options{}, nil, nil)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer l.Close()
			r, err := l.NewReader(0)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			for {
				rec, off, err := r.TryNext()
				if errors.Is(err, ErrNoRecord) {
					if off := r.Offset(); off != 3 {
						t.Fatalf("reader stopped at %d, want 3", off)
					}
					return
				}
				var ce *CorruptionError
				if errors.As(err, &ce) {
					return
				}
				if err != nil {
					t.Fatalf("TryNext: %v", err)
				}
				// A record read from a sealed segment passed its checksum;
				// the flags of Appends don't matter there.
				var all [][]byte
				for rest := body; len(rest) >= recordHeaderSize && len(all) <= int(off); {
					h := parseRecordHeader(rest)
					all = append(all, rest[recordHeaderSize:recordHeaderSize+int(h.length)])
					rest = rest[recordHeaderSize+int(h.length):]
				}
				if !bytes.Equal(rec, all[off]) {
					t.Fatalf("record %d = %q, want %q", off, rec, all[off])
				}
			}
		})
	})
}

// writeSegment writes a segment file holding a valid header and body.
func writeSegment(t *testing.T, dir string, first uint64, body []byte) {
	t.Helper()
	b := append(appendSegmentHeader(nil, first), body...)
	if err := os.WriteFile(filepath.Join(dir, segmentName(first)), b, 0o640); err != nil {
		t.Fatal(err)
	}
}
