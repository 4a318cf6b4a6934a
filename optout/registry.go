package optout

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/admeter/admeter"
)

// Registry is the durable opt-out registry: a file of pseudonyms and an
// in-memory index of their fingerprints. Contains is lock-free and may be
// called from any number of goroutines while Add runs. One Registry owns its
// file at a time (see [ErrLocked]).
type Registry struct {
	tab    atomic.Pointer[table]
	n      atomic.Int64 // entries in tab
	closed atomic.Bool

	path   string
	logger *slog.Logger

	// mu guards pending, the group that Adds join while a commit runs.
	mu      sync.Mutex
	pending *group

	// writeMu is held by the Add committing a group; it guards the fields
	// below and is the only writer of tab.
	writeMu sync.Mutex
	f       *os.File // nil once closed
	size    int64    // bytes of valid, fsynced data in f
	broken  error    // set when f's tail is unknown after a failed write
	buf     []byte
}

// addReq is one Add call waiting in a group.
type addReq struct {
	ps    []admeter.Pseudonym // non-zero, copied from the caller
	added int                 // set by the commit
}

// group is the Adds committed together with one write and one fdatasync.
type group struct {
	reqs []*addReq
	err  error
	done chan struct{} // closed when the group is committed
}

// Open opens (creating if missing, dir created 0700, file 0600) the registry
// file at path and loads it.
//
// A file that a crash cut short (a partial header, or a tail of at most one
// write that fails its checksums: an Add that never returned) is truncated
// back to its valid part, with a warning in the log. A record failing its
// checksum before valid ones, or a bad tail longer than one write, is damage
// to acknowledged opt-outs: Open returns an error wrapping [ErrCorrupt] and
// leaves the file untouched. If another Registry holds the file, Open returns
// an error wrapping [ErrLocked]. A nil logger discards log output.
func Open(path string, logger *slog.Logger) (_ *Registry, err error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("optout: create registry directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("optout: open registry: %w", err)
	}
	defer func() {
		if err != nil {
			_ = f.Close()
		}
	}()
	if err := lockFile(f); err != nil {
		return nil, fmt.Errorf("optout: open %s: %w", path, err)
	}
	r := &Registry{path: path, logger: logger, f: f}
	if err := r.load(); err != nil {
		return nil, err
	}
	logger.Info("opened opt-out registry", slog.String("path", path), slog.Int("entries", r.Len()))
	return r, nil
}

// load reads r.f into a new table, repairing a torn tail, and sets r.size.
func (r *Registry) load() error {
	fi, err := r.f.Stat()
	if err != nil {
		return fmt.Errorf("optout: open registry: %w", err)
	}
	size := fi.Size()
	hdr := make([]byte, min(size, headerSize))
	if _, err := io.ReadFull(r.f, hdr); err != nil {
		return fmt.Errorf("optout: read %s: %w", r.path, err)
	}
	if size < headerSize {
		// A new file, or the creation of one cut short: write the header.
		if string(hdr) != magic[:size] {
			return checkHeader(r.path, append(hdr, make([]byte, headerSize)...))
		}
		if err := r.writeHeader(); err != nil {
			return err
		}
		if size > 0 {
			r.logger.Warn("completed the header of an opt-out registry whose creation was cut short",
				slog.String("path", r.path), slog.Int64("found_bytes", size))
		}
		r.size = headerSize
		r.tab.Store(newTable(minCapacity))
		return nil
	}
	if err := checkHeader(r.path, hdr); err != nil {
		return err
	}

	t := newTable(min(capacityFor(int((size-headerSize)/recordSize)), maxPresize))
	var n int
	res, err := scanRecords(r.f, size, func(p *admeter.Pseudonym) {
		if p.IsZero() {
			return // never written by Add; carries no opt-out
		}
		if full(n+1, len(t.slots)) {
			t = t.grown(capacityFor(n + 1))
		}
		if t.insert(fingerprint(p), false) {
			n++
		}
	})
	if err != nil {
		return fmt.Errorf("optout: load %s: %w", r.path, err)
	}
	if !res.tornTail() || size-res.goodSize() > maxTorn {
		return corruptError(r.path, size, res)
	}
	if good := res.goodSize(); good < size {
		if err := r.f.Truncate(good); err != nil {
			return fmt.Errorf("optout: truncate the torn tail of %s: %w", r.path, err)
		}
		if err := fdatasync(r.f); err != nil {
			return fmt.Errorf("optout: sync %s: %w", r.path, err)
		}
		r.logger.Warn("truncated the torn tail of the opt-out registry (an Add interrupted by a crash; it had not returned)",
			slog.String("path", r.path), slog.Int64("kept_records", res.firstBad),
			slog.Int64("truncated_bytes", size-good))
	}
	r.size = res.goodSize()
	r.tab.Store(t)
	r.n.Store(int64(n))
	return nil
}

// writeHeader writes the file header and makes the file durable.
func (r *Registry) writeHeader() error {
	if _, err := r.f.WriteAt([]byte(magic), 0); err != nil {
		return fmt.Errorf("optout: write header of %s: %w", r.path, err)
	}
	if err := r.f.Truncate(headerSize); err != nil {
		return fmt.Errorf("optout: write header of %s: %w", r.path, err)
	}
	if err := fdatasync(r.f); err != nil {
		return fmt.Errorf("optout: sync %s: %w", r.path, err)
	}
	if err := syncDir(filepath.Dir(r.path)); err != nil {
		return fmt.Errorf("optout: create %s: %w", r.path, err)
	}
	return nil
}

// Add records ps durably (written and fsynced before it returns); duplicates
// and zero pseudonyms are ignored. Returns how many were new.
//
// Once Add returns nil, Contains reports every pseudonym of ps, in every
// goroutine. Adds that run at the same time are committed together, with one
// write and one fdatasync (one per 4096 records for larger commits). A
// pseudonym whose fingerprint is already present counts as a duplicate
// (Contains already reports it). Add copies ps; the caller may reuse it.
//
// ctx is checked before the write starts. If it is done while Add waits for
// another Add's commit, Add returns its error at once, but the pseudonyms may
// still be recorded; adding them again is safe. After a write or sync error
// nothing of that commit counts as added; Add may be retried. Add on a closed
// Registry returns [ErrClosed].
func (r *Registry) Add(ctx context.Context, ps ...admeter.Pseudonym) (added int, err error) {
	if r.closed.Load() {
		return 0, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("optout: add: %w", err)
	}
	var fresh []admeter.Pseudonym
	for i := range ps {
		if !ps[i].IsZero() && !r.Contains(ps[i]) {
			fresh = append(fresh, ps[i])
		}
	}
	if len(fresh) == 0 {
		return 0, nil // every entry of the table is already durable
	}

	req := &addReq{ps: fresh}
	r.mu.Lock()
	g := r.pending
	leader := g == nil
	if leader {
		g = &group{done: make(chan struct{})}
		r.pending = g
	}
	g.reqs = append(g.reqs, req)
	r.mu.Unlock()

	if leader {
		// Wait for the commit in progress; Adds arriving meanwhile join g.
		r.writeMu.Lock()
		r.mu.Lock()
		r.pending = nil
		r.mu.Unlock()
		g.err = r.commit(g.reqs)
		r.writeMu.Unlock()
		close(g.done)
	} else {
		select {
		case <-g.done:
		case <-ctx.Done():
			return 0, fmt.Errorf("optout: add: %w (the opt-out may still be recorded; adding it again is safe)", ctx.Err())
		}
	}
	if g.err != nil {
		return 0, g.err
	}
	return req.added, nil
}

// commit writes the new pseudonyms of reqs with one write and one fdatasync
// per maxWrite bytes, then inserts them into the table. The caller holds
// writeMu.
func (r *Registry) commit(reqs []*addReq) error {
	if r.f == nil {
		return ErrClosed
	}
	if r.broken != nil {
		return r.broken
	}
	t := r.tab.Load()
	var (
		buf  = r.buf[:0]
		fps  []uint64
		seen map[uint64]struct{}
	)
	if len(reqs) > 1 || len(reqs[0].ps) > 1 {
		seen = make(map[uint64]struct{})
	}
	for _, q := range reqs {
		for i := range q.ps {
			fp := fingerprint(&q.ps[i])
			if t.contains(fp) {
				continue
			}
			if seen != nil {
				if _, dup := seen[fp]; dup {
					continue
				}
				seen[fp] = struct{}{}
			}
			buf = appendRecord(buf, &q.ps[i])
			fps = append(fps, fp)
			q.added++
		}
	}
	if len(fps) == 0 {
		return nil
	}
	if cap(buf) <= maxWrite {
		r.buf = buf // keep small buffers for the next commit
	}
	// Write and sync at most maxWrite bytes at a time, so that a crash
	// leaves at most that much unsynced data: Open relies on it to tell a
	// torn tail from damage.
	for off := 0; off < len(buf); off += maxWrite {
		chunk := buf[off:min(off+maxWrite, len(buf))]
		if _, err := r.f.WriteAt(chunk, r.size+int64(off)); err != nil {
			return r.failed(fmt.Errorf("optout: write %s: %w", r.path, err))
		}
		if err := fdatasync(r.f); err != nil {
			return r.failed(fmt.Errorf("optout: sync %s: %w", r.path, err))
		}
	}
	r.size += int64(len(buf))

	n := int(r.n.Load())
	if full(n+len(fps), len(t.slots)) {
		t = t.grown(capacityFor(n + len(fps)))
		for _, fp := range fps {
			t.insert(fp, false)
		}
		r.tab.Store(t)
	} else {
		for _, fp := range fps {
			t.insert(fp, true)
		}
	}
	r.n.Add(int64(len(fps)))
	return nil
}

// failed handles a failed write or sync: it cuts the file back to the last
// durable record so that a retry writes the records again. If even that
// fails, the file's tail is unknown and the Registry refuses further Adds.
func (r *Registry) failed(err error) error {
	if terr := r.f.Truncate(r.size); terr != nil {
		r.broken = fmt.Errorf("%w; then truncating it back failed (%w): close the registry and open it again", err, terr)
		r.logger.Error("opt-out registry stopped accepting opt-outs", slog.String("path", r.path), slog.Any("error", r.broken))
		return r.broken
	}
	return fmt.Errorf("%w (nothing was added; retry)", err)
}

// Contains reports whether p opted out. Lock-free, allocation-free, safe with
// concurrent Add.
//
// The answer compares 64-bit fingerprints (see the package documentation):
// a pseudonym that did not opt out is reported with probability about
// Len()/2^64. The zero pseudonym never opted out. After Close, Contains keeps
// answering from the entries loaded or added before.
func (r *Registry) Contains(p admeter.Pseudonym) bool {
	if p.IsZero() {
		return false
	}
	return r.tab.Load().contains(fingerprint(&p))
}

// Len returns the number of opted-out pseudonyms (distinct fingerprints).
func (r *Registry) Len() int { return int(r.n.Load()) }

// Close waits for a commit in progress, then closes the file and releases its
// lock. Adds waiting to commit fail with [ErrClosed]; so does a second Close.
func (r *Registry) Close() error {
	if !r.closed.CompareAndSwap(false, true) {
		return ErrClosed
	}
	r.writeMu.Lock()
	defer r.writeMu.Unlock()
	err := r.f.Close()
	r.f = nil
	if err != nil {
		return fmt.Errorf("optout: close %s: %w", r.path, err)
	}
	return nil
}
