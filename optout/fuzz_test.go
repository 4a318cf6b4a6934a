package optout_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/optout"
)

// FuzzOpen feeds arbitrary bytes to Open as the registry file. Open must
// never panic, and must do what the format says, checked against a separate
// reading of the format: refuse a file that is not a registry, is damaged in
// the middle or has a bad tail longer than one write (leaving it untouched),
// and otherwise load every valid record up to the first bad one and cut the
// file there.
func FuzzOpen(f *testing.F) {
	a, b, c := pseudonymAt(1), pseudonymAt(2), pseudonymAt(3)
	valid := []byte(optout.Magic)
	for _, p := range []admeter.Pseudonym{a, b, c} {
		valid = optout.AppendRecord(valid, p)
	}
	middle := bytes.Clone(valid)
	middle[optout.HeaderSize+optout.RecordSize] ^= 1
	f.Add(valid)
	f.Add(append(bytes.Clone(valid), 1, 2, 3, 4, 5, 6, 7))
	f.Add(middle)
	f.Add(valid[:len(valid)-optout.RecordSize+1])
	f.Add([]byte{})
	f.Add([]byte(optout.Magic[:3]))
	f.Add([]byte(optout.Magic))
	f.Add(optout.AppendRecord([]byte(optout.Magic), admeter.Pseudonym{}))
	f.Add(append([]byte(optout.Magic), make([]byte, 3*optout.RecordSize)...))
	f.Add([]byte("ADMOPT2\n"))
	f.Add([]byte("not a registry at all"))
	f.Add(append(bytes.Clone(valid), make([]byte, optout.MaxTorn+1)...))

	castagnoli := crc32.MakeTable(crc32.Castagnoli)
	f.Fuzz(func(t *testing.T, data []byte) {
		// The expected outcome.
		ok, corrupt, size := true, false, int64(optout.HeaderSize)
		var good []admeter.Pseudonym
		switch {
		case len(data) < optout.HeaderSize:
			ok = string(data) == optout.Magic[:len(data)]
		case string(data[:optout.HeaderSize]) != optout.Magic:
			ok = false
		default:
			badSeen := false
			for rec := data[optout.HeaderSize:]; len(rec) >= optout.RecordSize; rec = rec[optout.RecordSize:] {
				valid := crc32.Checksum(rec[:16], castagnoli) == binary.LittleEndian.Uint32(rec[16:20])
				switch {
				case valid && badSeen:
					ok, corrupt = false, true // damage in the middle
				case valid:
					good = append(good, admeter.Pseudonym(rec[:16]))
					size += optout.RecordSize
				default:
					badSeen = true
				}
			}
			if ok && int64(len(data))-size > optout.MaxTorn {
				ok, corrupt = false, true // a bad tail longer than a crash leaves
			}
		}

		path := filepath.Join(t.TempDir(), "optout.reg")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		r, err := optout.Open(path, nil)
		if !ok {
			if err == nil {
				r.Close()
				t.Fatal("Open accepted a file that is not a registry or is damaged in the middle")
			}
			if errors.Is(err, optout.ErrCorrupt) != corrupt {
				t.Fatalf("Open error %q: want ErrCorrupt exactly when a valid record follows a bad one (%v)", err, corrupt)
			}
			if got, _ := os.ReadFile(path); !bytes.Equal(got, data) {
				t.Fatal("Open changed a file it refused")
			}
			return
		}
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		n := r.Len()
		for _, p := range good {
			if !p.IsZero() && !r.Contains(p) {
				t.Fatalf("valid record %v not loaded", p)
			}
		}
		if r.Contains(admeter.Pseudonym{}) || n > len(good) {
			t.Fatalf("Len = %d with %d valid records", n, len(good))
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(path); err != nil || fi.Size() != size {
			t.Fatalf("file after Open: %v, %v; want %d bytes", fi.Size(), err, size)
		}
		r, err = optout.Open(path, nil)
		if err != nil {
			t.Fatalf("reopening the recovered file: %v", err)
		}
		defer r.Close()
		if r.Len() != n {
			t.Fatalf("reopened: Len = %d, want %d", r.Len(), n)
		}
	})
}
