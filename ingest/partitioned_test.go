package ingest_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/ingest"
	"github.com/admeter/admeter/store/duckdb"
)

// partitions is an in-memory partitioned log standing in for a Kafka topic:
// each Poll returns up to max records from the read positions, which start
// where the store says (as the Kafka consumer does) and can be rewound to
// replay (as a rebalance does).
type partitions struct {
	mu      sync.Mutex
	recs    map[int32][][]byte
	read    map[int32]int64
	commits int
}

func (p *partitions) Poll(ctx context.Context, max int) ([]ingest.SourceRecord, error) {
	p.mu.Lock()
	var out []ingest.SourceRecord
	for part, recs := range p.recs {
		for o := p.read[part]; o < int64(len(recs)) && len(out) < max; o++ {
			out = append(out, ingest.SourceRecord{Partition: part, Offset: o, Value: recs[o]})
			p.read[part] = o + 1
		}
	}
	p.mu.Unlock()
	if len(out) == 0 {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	return out, nil
}

func (p *partitions) Commit(ctx context.Context, next map[int32]int64) error {
	p.mu.Lock()
	p.commits++
	p.mu.Unlock()
	return nil
}

func (p *partitions) rewind() {
	p.mu.Lock()
	clear(p.read)
	p.mu.Unlock()
}

// TestRunPartitioned loads three partitions (with an undecodable record),
// then replays them from the start as after a rebalance, and checks that
// every event is stored once and the positions are each partition's end;
// a second loader holding stale positions skips what the first stored.
func TestRunPartitioned(t *testing.T) {
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	src := &partitions{recs: map[int32][][]byte{}, read: map[int32]int64{}}
	n := 0
	for part := range int32(3) {
		for range 40 + 10*int(part) {
			ev := event(n, at)
			n++
			b, err := ev.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			src.recs[part] = append(src.recs[part], b)
		}
	}
	src.recs[1][7] = []byte("not an event") // counted and skipped, position passes it
	want := int64(n - 1)

	st, err := duckdb.Open(filepath.Join(t.TempDir(), "store.duckdb"), duckdb.DefaultOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	run := func(replay bool) {
		t.Helper()
		cfg := ingest.DefaultConfig()
		cfg.MaxBatch, cfg.RollupInterval, cfg.RetryDelay = 17, 50*time.Millisecond, 10*time.Millisecond
		ld, err := ingest.New(cfg, nil, nil, st, func(admeter.CampaignID) *time.Location { return time.UTC }, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if replay {
			src.rewind()
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- ld.RunPartitioned(ctx, src, st) }()
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			if pos, _ := st.Positions(ctx); pos[0] == 40 && pos[1] == 50 && pos[2] == 60 {
				break
			}
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("RunPartitioned: %v", err)
		}
	}
	run(false)
	run(true) // everything again: all below the stored positions
	if got := impressions(t, st, at); got != want {
		t.Fatalf("impressions = %d, want %d (each event once)", got, want)
	}
	pos, err := st.Positions(context.Background())
	if err != nil || pos[0] != 40 || pos[1] != 50 || pos[2] != 60 {
		t.Fatalf("Positions = %v, %v; want 0:40 1:50 2:60", pos, err)
	}
	if src.commits == 0 {
		t.Fatal("the loader never committed its offsets to the source")
	}

	// A loader whose positions went stale: another loader stores the
	// next record first, so this one's batch is refused (ECONFLICT); it
	// rereads the positions and skips it.
	cfg := ingest.DefaultConfig()
	cfg.RetryDelay = 10 * time.Millisecond
	ld, err := ingest.New(cfg, nil, nil, st, func(admeter.CampaignID) *time.Location { return time.UTC }, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ld.RunPartitioned(ctx, src, st) }()
	time.Sleep(50 * time.Millisecond) // it has read the positions and polls an idle source
	extra := event(n, at)
	if err := st.InsertFrom(ctx, []admeter.Event{extra}, map[int32]int64{2: 61}); err != nil {
		t.Fatal(err)
	}
	b, _ := extra.MarshalBinary()
	src.mu.Lock()
	src.recs[2] = append(src.recs[2], b)
	src.mu.Unlock()
	time.Sleep(300 * time.Millisecond)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("RunPartitioned: %v", err)
	}
	if got := impressions(t, st, at); got != want+1 {
		t.Fatalf("impressions after the stale loader = %d, want %d", got, want+1)
	}
	if pos, _ := st.Positions(context.Background()); pos[2] != 61 {
		t.Fatalf("partition 2 at %d, want 61", pos[2])
	}
}
