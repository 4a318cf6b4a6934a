package kafka

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
)

// positionName is the file, in the spill directory, that holds the offset
// of the first spilled record not yet delivered to Kafka. The eventlog
// ignores files that are not segments, and its LOCK file keeps a second
// Producer out of the directory.
const positionName = "FORWARDED"

// positionMagic starts the position file: "AMKF" and a version byte.
var positionMagic = [5]byte{'A', 'M', 'K', 'F', 1}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// positionSize is the size of the position file: magic, offset, CRC32C of
// both.
const positionSize = len(positionMagic) + 8 + 4

// errNoPosition reports that the position file does not exist.
var errNoPosition = errors.New("no forwarder position file")

// readPosition returns the offset saved in dir's position file.
func readPosition(dir string) (uint64, error) {
	b, err := os.ReadFile(filepath.Join(dir, positionName))
	if errors.Is(err, os.ErrNotExist) {
		return 0, errNoPosition
	}
	if err != nil {
		return 0, fmt.Errorf("read forwarder position: %w", err)
	}
	n := len(positionMagic)
	if len(b) != positionSize || [5]byte(b[:n]) != positionMagic ||
		crc32.Checksum(b[:n+8], castagnoli) != binary.LittleEndian.Uint32(b[n+8:]) {
		return 0, fmt.Errorf("read forwarder position %s: damaged file", filepath.Join(dir, positionName))
	}
	return binary.LittleEndian.Uint64(b[n:]), nil
}

// writePosition saves off in dir's position file atomically: it writes and
// fsyncs a temporary file, renames it over the old one and fsyncs dir.
func writePosition(dir string, off uint64) error {
	b := make([]byte, 0, positionSize)
	b = append(b, positionMagic[:]...)
	b = binary.LittleEndian.AppendUint64(b, off)
	b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))

	path := filepath.Join(dir, positionName)
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return fmt.Errorf("write forwarder position: %w", err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write forwarder position: %w", err)
	}
	return nil
}

// syncDir fsyncs a directory, making a rename in it durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
