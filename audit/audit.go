package audit

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/admeter/admeter"
)

// Entry is one audited action.
type Entry = admeter.AuditEntry

// line is an Entry as written, chained to the line before.
type line struct {
	Seq  uint64 `json:"seq"`
	Prev string `json:"prev"`
	Entry
}

// Log is an open audit record. It is safe for concurrent use.
type Log struct {
	mu   sync.Mutex
	f    *os.File
	seq  uint64
	prev [sha256.Size]byte
	now  func() time.Time
}

// Open opens the record at path, creating it (mode 0600, directory 0700) if
// needed, checks its chain and cuts off a torn last line.
func Open(path string) (*Log, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	seq, prev, good, err := scan(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open audit log %s: %w", path, err)
	}
	if fi, err := f.Stat(); err == nil && fi.Size() > good {
		if err := f.Truncate(good); err != nil {
			f.Close()
			return nil, fmt.Errorf("open audit log: cut torn line: %w", err)
		}
	}
	f.Close()
	f, err = os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	return &Log{f: f, seq: seq, prev: prev, now: time.Now}, nil
}

// Record appends e and makes it durable before returning.
func (l *Log) Record(ctx context.Context, e Entry) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return errors.New("audit: log is closed")
	}
	if e.Time.IsZero() {
		e.Time = l.now()
	}
	e.Time = e.Time.UTC()
	b, err := json.Marshal(line{Seq: l.seq + 1, Prev: hex.EncodeToString(l.prev[:]), Entry: e})
	if err != nil {
		return fmt.Errorf("audit: encode entry: %w", err)
	}
	b = append(b, '\n')
	if _, err := l.f.Write(b); err != nil {
		return fmt.Errorf("audit: write: %w", err)
	}
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("audit: sync: %w", err)
	}
	l.seq++
	l.prev = sha256.Sum256(b[:len(b)-1])
	return nil
}

// Close closes the record.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

// Verify checks the chain of the record at path and returns the number of
// entries, or an error naming the first line that does not follow from the
// one before.
func Verify(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("verify audit log: %w", err)
	}
	defer f.Close()
	seq, _, good, err := scan(f)
	if err != nil {
		return 0, fmt.Errorf("verify audit log %s: %w", path, err)
	}
	if fi, err := f.Stat(); err == nil && fi.Size() > good {
		return int(seq), fmt.Errorf("verify audit log %s: %d bytes after entry %d are not a complete entry", path, fi.Size()-good, seq)
	}
	return int(seq), nil
}

// Entries reads every entry of the record at path, oldest first.
func Entries(path string) ([]Entry, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	var out []Entry
	for _, b := range bytes.Split(data, []byte{'\n'}) {
		if len(b) == 0 {
			continue
		}
		var l line
		if err := json.Unmarshal(b, &l); err != nil {
			break // a torn last line
		}
		out = append(out, l.Entry)
	}
	return out, nil
}

// scan reads r from the start and checks every complete line's chain. It
// returns the last sequence number, the hash of the last line and the length
// of the complete, valid prefix. A broken chain is an error; an incomplete
// last line (no newline) is not.
func scan(r io.Reader) (seq uint64, prev [sha256.Size]byte, good int64, err error) {
	br := bufio.NewReader(r)
	for {
		b, rerr := br.ReadBytes('\n')
		if len(b) > 0 && b[len(b)-1] == '\n' {
			body := b[:len(b)-1]
			var l line
			if err := json.Unmarshal(body, &l); err != nil {
				return 0, prev, 0, fmt.Errorf("entry %d is not valid JSON: the file was edited", seq+1)
			}
			if l.Seq != seq+1 || l.Prev != hex.EncodeToString(prev[:]) {
				return 0, prev, 0, fmt.Errorf("entry %d does not follow entry %d: the file was edited or entries were removed", seq+1, seq)
			}
			seq++
			prev = sha256.Sum256(body)
			good += int64(len(b))
		}
		if rerr == io.EOF {
			return seq, prev, good, nil
		} else if rerr != nil {
			return 0, prev, 0, rerr
		}
	}
}
