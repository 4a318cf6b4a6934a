package eventlog

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// benchRecord is about the size of an encoded admeter event.
var benchRecord = bytes.Repeat([]byte("e"), 150)

// benchGoroutines is the number of concurrent appenders per GOMAXPROCS in the
// parallel benchmarks, standing in for HTTP handlers.
const benchGoroutines = 32

// BenchmarkAppend measures Append with ~150-byte records. serial/interval is
// the cost of an Append that writes its record itself (one write(2), no
// hand-off). Compare with
// BenchmarkRawWriteFdatasync from the same run: serial/always against
// raw/serial is the cost of the machinery around one write+fdatasync;
// parallel/always against raw/parallel is what group commit gains, and
// against raw/batch32 how close it gets to a bare loop writing as many
// records per fdatasync as the group commit gathered (it reports
// records/batch: with one Append in flight per goroutine, about half the
// goroutines wait while the other half's fdatasync runs).
func BenchmarkAppend(b *testing.B) {
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		mode FsyncMode
	}{
		{"serial/always", FsyncAlways},
		{"serial/interval", FsyncInterval},
	} {
		b.Run(bc.name, func(b *testing.B) {
			l := mustOpen(b, b.TempDir(), Options{Fsync: bc.mode})
			b.SetBytes(int64(len(benchRecord)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := l.Append(ctx, benchRecord); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	for _, bc := range []struct {
		name string
		mode FsyncMode
	}{
		{"parallel/always", FsyncAlways},
		{"parallel/interval", FsyncInterval},
	} {
		b.Run(bc.name, func(b *testing.B) {
			reg := prometheus.NewRegistry()
			l, err := Open(b.TempDir(), Options{Fsync: bc.mode}, nil, reg)
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			b.SetBytes(int64(len(benchRecord)))
			b.ReportAllocs()
			b.SetParallelism(benchGoroutines)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := l.Append(ctx, benchRecord); err != nil {
						b.Error(err)
						return
					}
				}
			})
			// Group commit efficiency: records per write(2).
			m := gather(b, reg)
			b.ReportMetric(m["admeter_eventlog_records_appended_total"]/m["admeter_eventlog_batch_records_count"], "records/batch")
		})
	}
}

// BenchmarkRawWriteFdatasync is the baseline for BenchmarkAppend: the same
// records written to a plain file with write(2) and fdatasync(2) and nothing
// else. serial does one record per fdatasync; parallel has the same
// goroutines as BenchmarkAppend/parallel take a mutex for each
// write+fdatasync; batch32 writes 32 framed records with one write and one
// fdatasync (reported per record).
func BenchmarkRawWriteFdatasync(b *testing.B) {
	framed := appendRecord(nil, benchRecord, false)
	create := func(b *testing.B) *os.File {
		f, err := os.OpenFile(filepath.Join(b.TempDir(), "raw"), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o640)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { f.Close() })
		return f
	}
	write := func(b *testing.B, f *os.File, p []byte) {
		if _, err := f.Write(p); err != nil {
			b.Error(err)
		}
		if err := fdatasync(f); err != nil {
			b.Error(err)
		}
	}
	b.Run("serial", func(b *testing.B) {
		f := create(b)
		b.SetBytes(int64(len(benchRecord)))
		b.ReportAllocs()
		for b.Loop() {
			write(b, f, framed)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		f := create(b)
		var mu sync.Mutex
		b.SetBytes(int64(len(benchRecord)))
		b.ReportAllocs()
		b.SetParallelism(benchGoroutines)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				mu.Lock()
				write(b, f, framed)
				mu.Unlock()
			}
		})
	})
	b.Run("batch32", func(b *testing.B) {
		const n = 32
		f := create(b)
		batch := bytes.Repeat(framed, n)
		b.SetBytes(int64(len(benchRecord)))
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			// One write+fdatasync per n loop iterations, so ns/op is per
			// record.
			if i++; i%n == 0 {
				write(b, f, batch)
			}
		}
	})
}
