package optout

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/admeter/admeter"
)

// On-disk format (see the package documentation):
//
//	header: "ADMOPT1\n"
//	record: pseudonym [16]byte | crc uint32 little-endian
//	        crc = CRC-32C (Castagnoli) of the 16 pseudonym bytes
const (
	headerSize = 8
	recordSize = 16 + 4
	// magicPrefix identifies the file; the byte after it is the format
	// version.
	magicPrefix = "ADMOPT"
	magic       = magicPrefix + "1\n"
	// scanChunk is how many records the loader reads per read(2) (80 KiB).
	scanChunk = 4096
	// maxWrite is the most Add writes before an fdatasync (80 KiB, 4096
	// records); a larger commit is written and synced in pieces.
	maxWrite = 4096 * recordSize
	// maxTorn is the longest bad tail a crash can leave: everything before
	// the write in progress was synced, and writes start on a record
	// boundary. Open treats a longer bad tail as damage.
	maxTorn = maxWrite
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// appendRecord appends the record of p to b.
func appendRecord(b []byte, p *admeter.Pseudonym) []byte {
	b = append(b, p[:]...)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(p[:], castagnoli))
}

// checkHeader reports whether the first headerSize bytes of a file, hdr, are
// the registry header; the error says what is wrong without quoting the
// bytes (the file might be something else entirely).
func checkHeader(path string, hdr []byte) error {
	switch {
	case string(hdr) == magic:
		return nil
	case string(hdr[:len(magicPrefix)]) == magicPrefix:
		return fmt.Errorf("optout: %s is an opt-out registry of an unknown format version: upgrade admeter to a version that reads it", path)
	default:
		return fmt.Errorf("optout: %s is not an opt-out registry (it does not start with the registry header): check the path, or move the file away", path)
	}
}

// scanResult describes the records of a registry file, its header excluded.
type scanResult struct {
	records  int64 // whole records in the file
	firstBad int64 // index of the first record failing its checksum; records if none
	lastGood int64 // index of the last record passing it; -1 if none
	bad      int64 // records failing their checksum
}

// tornTail reports whether all damage is at the end of the file: a partial
// record, and records failing their checksum with no valid record after
// them. That is what a crash in the middle of an Add leaves behind.
func (s scanResult) tornTail() bool { return s.lastGood < s.firstBad }

// goodSize returns the length of the file up to its first bad record.
func (s scanResult) goodSize() int64 { return headerSize + s.firstBad*recordSize }

// scanRecords reads the records of a registry file of size bytes from rd,
// positioned after the header, and calls each for every record that passes
// its checksum. It fails only on read errors.
func scanRecords(rd io.Reader, size int64, each func(p *admeter.Pseudonym)) (scanResult, error) {
	res := scanResult{records: (size - headerSize) / recordSize, lastGood: -1}
	res.firstBad = res.records
	buf := make([]byte, scanChunk*recordSize)
	for i := int64(0); i < res.records; {
		n := min(res.records-i, scanChunk)
		chunk := buf[:n*recordSize]
		if _, err := io.ReadFull(rd, chunk); err != nil {
			return res, fmt.Errorf("read record %d: %w", i, err)
		}
		for ; len(chunk) > 0; chunk, i = chunk[recordSize:], i+1 {
			p := (*admeter.Pseudonym)(chunk[:16])
			if crc32.Checksum(p[:], castagnoli) != binary.LittleEndian.Uint32(chunk[16:recordSize]) {
				res.bad++
				res.firstBad = min(res.firstBad, i)
				continue
			}
			res.lastGood = i
			each(p)
		}
	}
	return res, nil
}

// corruptError describes damage to the file at path, of size bytes: a bad
// record before valid ones, or a bad tail longer than a crash can leave.
func corruptError(path string, size int64, res scanResult) error {
	what := "valid records follow it, so this is damage to stored opt-outs, not a write torn by a crash"
	if res.tornTail() {
		what = fmt.Sprintf("the %d bytes from there to the end are more than a crash during an Add can leave (%d), so this is damage to stored opt-outs", size-res.goodSize(), maxTorn)
	}
	return fmt.Errorf("%w: %s: record %d (byte offset %d) fails its checksum and %s (%d of %d records fail): "+
		"restore the file from a backup, or run Repair (admeter optout repair) to drop the damaged records "+
		"and then add those opt-outs again from their source",
		ErrCorrupt, path, res.firstBad, res.goodSize(), what, res.bad, res.records)
}

// Repair rewrites the registry file at path keeping every record that passes
// its checksum and dropping the others and any partial record, and returns
// how many records it dropped. The opt-outs in dropped records are lost: add
// them again from their source. Use it when Open refuses a file with
// [ErrCorrupt] and no backup is at hand. The file must not be open (Repair
// takes the same lock as Open, and fails with [ErrLocked] otherwise). The new
// file is written and fsynced under a temporary name, then renamed over the
// old one, so a crash leaves either file intact.
func Repair(path string, logger *slog.Logger) (dropped int64, err error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return 0, fmt.Errorf("optout: repair: %w", err)
	}
	defer f.Close() // releases the lock, after the rename
	if err := lockFile(f); err != nil {
		return 0, fmt.Errorf("optout: repair %s: %w", path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("optout: repair: %w", err)
	}
	size := fi.Size()
	hdr := make([]byte, min(size, headerSize))
	if _, err := io.ReadFull(f, hdr); err != nil {
		return 0, fmt.Errorf("optout: repair: read %s: %w", path, err)
	}
	if size < headerSize {
		if string(hdr) == magic[:size] {
			return 0, nil // a creation cut short: Open completes it
		}
		return 0, checkHeader(path, append(hdr, make([]byte, headerSize)...))
	}
	if err := checkHeader(path, hdr); err != nil {
		return 0, err
	}

	tmp := path + ".repair"
	out, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return 0, fmt.Errorf("optout: repair: create temporary file: %w", err)
	}
	defer func() {
		if out != nil {
			_ = out.Close()
			_ = os.Remove(tmp)
		}
	}()
	w := &bytes.Buffer{}
	w.WriteString(magic)
	var werr error
	res, err := scanRecords(f, size, func(p *admeter.Pseudonym) {
		if w.Len() >= scanChunk*recordSize {
			_, werr = w.WriteTo(out)
		}
		if werr == nil {
			appendRecordTo(w, p)
		}
	})
	if err != nil {
		return 0, fmt.Errorf("optout: repair %s: %w", path, err)
	}
	if werr == nil {
		_, werr = w.WriteTo(out)
	}
	if werr == nil {
		werr = fdatasync(out)
	}
	if werr != nil {
		return 0, fmt.Errorf("optout: repair: write %s: %w", tmp, werr)
	}
	if err := out.Close(); err != nil {
		return 0, fmt.Errorf("optout: repair: close %s: %w", tmp, err)
	}
	out = nil
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return 0, fmt.Errorf("optout: repair: replace %s: %w", path, err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return 0, fmt.Errorf("optout: repair %s: %w", path, err)
	}
	dropped = res.bad
	partial := (size - headerSize) % recordSize
	logger.Warn("repaired opt-out registry: dropped damaged records; add those opt-outs again from their source",
		slog.String("path", path), slog.Int64("dropped_records", dropped),
		slog.Int64("dropped_partial_bytes", partial), slog.Int64("kept_records", res.records-res.bad))
	return dropped, nil
}

func appendRecordTo(w *bytes.Buffer, p *admeter.Pseudonym) {
	var rec [recordSize]byte
	w.Write(appendRecord(rec[:0], p))
}
