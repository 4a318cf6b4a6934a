package eventlog

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

const (
	segmentHeaderSize = 16
	recordHeaderSize  = 8
	segmentVersion    = 1
	segmentSuffix     = ".seg"
	tmpSuffix         = ".tmp"
	segmentNameDigits = 20

	// flagMore marks a record that is followed by another record of the
	// same Append.
	flagMore uint32 = 1 << 31
	// maxRecordLen is the largest payload the header can describe.
	maxRecordLen = 1<<31 - 1
)

var (
	segmentMagic = [4]byte{'A', 'M', 'E', 'L'}
	castagnoli   = crc32.MakeTable(crc32.Castagnoli)
)

// segmentName returns the file name of the segment whose first record has
// offset first.
func segmentName(first uint64) string {
	return fmt.Sprintf("%0*d%s", segmentNameDigits, first, segmentSuffix)
}

// parseSegmentName returns the first offset encoded in a segment file name.
func parseSegmentName(name string) (uint64, bool) {
	if len(name) != segmentNameDigits+len(segmentSuffix) || !strings.HasSuffix(name, segmentSuffix) {
		return 0, false
	}
	first, err := strconv.ParseUint(name[:segmentNameDigits], 10, 64)
	if err != nil {
		return 0, false
	}
	return first, true
}

// appendSegmentHeader appends the header of a segment starting at offset first.
func appendSegmentHeader(b []byte, first uint64) []byte {
	b = append(b, segmentMagic[:]...)
	b = append(b, segmentVersion, 0, 0, 0)
	return binary.LittleEndian.AppendUint64(b, first)
}

// checkSegmentHeader verifies a segment header read from the segment named
// after offset first.
func checkSegmentHeader(h []byte, first uint64) error {
	if len(h) < segmentHeaderSize {
		return fmt.Errorf("short segment header: %d bytes", len(h))
	}
	if [4]byte(h[:4]) != segmentMagic {
		return fmt.Errorf("bad segment magic %q", h[:4])
	}
	if h[4] != segmentVersion {
		return fmt.Errorf("unsupported segment version %d", h[4])
	}
	if got := binary.LittleEndian.Uint64(h[8:16]); got != first {
		return fmt.Errorf("segment header names first offset %d, file name %d", got, first)
	}
	return nil
}

// appendRecord appends rec framed as one record; more marks that another
// record of the same Append follows it.
func appendRecord(b, rec []byte, more bool) []byte {
	word := uint32(len(rec))
	if more {
		word |= flagMore
	}
	b = binary.LittleEndian.AppendUint32(b, word)
	// The checksum reads the word from b: a local array passed to crc32
	// would escape, costing an allocation per record.
	crc := crc32.Update(crc32.Checksum(b[len(b)-4:], castagnoli), castagnoli, rec)
	b = binary.LittleEndian.AppendUint32(b, crc)
	return append(b, rec...)
}

// recordHeader is a decoded record header.
type recordHeader struct {
	length  uint32
	more    bool
	crc     uint32
	wordCRC uint32 // CRC32C of the 4 bytes of word, which the checksum starts with
}

func parseRecordHeader(h []byte) recordHeader {
	word := binary.LittleEndian.Uint32(h[0:4])
	return recordHeader{
		length:  word &^ flagMore,
		more:    word&flagMore != 0,
		crc:     binary.LittleEndian.Uint32(h[4:8]),
		wordCRC: crc32.Checksum(h[0:4], castagnoli),
	}
}

// valid reports whether payload matches the header's checksum.
func (h recordHeader) valid(payload []byte) bool {
	return crc32.Update(h.wordCRC, castagnoli, payload) == h.crc
}

// scanResult is what scanning a segment found.
type scanResult struct {
	size    int64  // file size
	good    int64  // byte length of the segment up to the end of the last complete Append
	records uint64 // records in [segmentHeaderSize, good)
	reason  string // why the scan stopped before size; "" if good == size
}

// scanSegment reads the whole segment f named after offset first, verifying
// every record, and reports where the last complete Append ends. A bad segment
// header is returned as an error; a bad record ends the scan.
func scanSegment(f *os.File, first uint64) (scanResult, error) {
	fi, err := f.Stat()
	if err != nil {
		return scanResult{}, fmt.Errorf("stat segment: %w", err)
	}
	res := scanResult{size: fi.Size()}
	br := bufio.NewReaderSize(io.NewSectionReader(f, 0, res.size), 1<<20)
	hdr := make([]byte, segmentHeaderSize)
	if _, err := io.ReadFull(br, hdr); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return res, fmt.Errorf("short segment header: %d bytes", res.size)
		}
		return res, fmt.Errorf("read segment header: %w", err)
	}
	if err := checkSegmentHeader(hdr, first); err != nil {
		return res, err
	}
	res.good = segmentHeaderSize
	var (
		pos     = int64(segmentHeaderSize)
		records uint64
		payload []byte
		rh      [recordHeaderSize]byte
	)
	for pos < res.size {
		if res.size-pos < recordHeaderSize {
			res.reason = "incomplete record header"
			break
		}
		if _, err := io.ReadFull(br, rh[:]); err != nil {
			return res, fmt.Errorf("read record header: %w", err)
		}
		h := parseRecordHeader(rh[:])
		if int64(h.length) > res.size-pos-recordHeaderSize {
			res.reason = "record extends past end of file"
			break
		}
		if cap(payload) < int(h.length) {
			payload = make([]byte, h.length)
		}
		payload = payload[:h.length]
		if _, err := io.ReadFull(br, payload); err != nil {
			return res, fmt.Errorf("read record: %w", err)
		}
		if !h.valid(payload) {
			res.reason = "checksum mismatch"
			break
		}
		pos += recordHeaderSize + int64(h.length)
		records++
		if !h.more {
			res.good, res.records = pos, records
		}
	}
	if res.reason == "" && res.good < res.size {
		res.reason = "incomplete append (last record flagged as continued)"
	}
	return res, nil
}

// createSegment creates the segment starting at offset first and returns it
// open for reading and writing. The header is made durable under a temporary
// name before the rename, and the directory is fsynced afterwards, so a
// segment file either does not exist or has a valid header.
func createSegment(dir string, first uint64) (_ *os.File, err error) {
	name := filepath.Join(dir, segmentName(first))
	tmp := name + tmpSuffix
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return nil, fmt.Errorf("create segment: %w", err)
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if _, err := f.Write(appendSegmentHeader(nil, first)); err != nil {
		return nil, fmt.Errorf("write segment header: %w", err)
	}
	if err := fdatasync(f); err != nil {
		return nil, fmt.Errorf("sync segment header: %w", err)
	}
	if err := os.Rename(tmp, name); err != nil {
		return nil, fmt.Errorf("rename segment: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return nil, err
	}
	return f, nil
}
