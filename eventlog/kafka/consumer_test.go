package kafka

import (
	"context"
	"slices"
	"testing"
	"time"
)

// pollN polls c until it has at least n records.
func pollN(t *testing.T, c *Consumer, n int) []Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var recs []Record
	for len(recs) < n {
		rs, err := c.Poll(ctx, n-len(recs))
		if err != nil {
			t.Fatalf("Poll after %d of %d records: %v", len(recs), n, err)
		}
		recs = append(recs, rs...)
	}
	return recs
}

// TestConsumerCommitResume commits part of the topic and checks that the
// next member of the group starts right after the committed offsets.
func TestConsumerCommitResume(t *testing.T) {
	_, addr := newCluster(t, 3, 0)
	cfg := testConfig(t, addr)
	p := newProducer(t, cfg, nil)
	const n = 90
	appendStream(t, p, 0, n, 7)

	c1, err := NewConsumer(cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	first := pollN(t, c1, 30)
	committed := NextOffsets(first)
	if err := c1.Commit(context.Background(), committed); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if err := c1.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c1.Poll(context.Background(), 1); err != ErrClosed {
		t.Errorf("Poll after Close = %v, want ErrClosed", err)
	}

	c2, err := NewConsumer(cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	rest := pollN(t, c2, n-len(first))
	lowest := map[int32]int64{}
	for _, r := range rest {
		if o, ok := lowest[r.Partition]; !ok || r.Offset < o {
			lowest[r.Partition] = r.Offset
		}
	}
	for part, next := range committed {
		if lo, ok := lowest[part]; ok && lo != next {
			t.Errorf("partition %d resumed at %d, committed %d", part, lo, next)
		}
	}
	checkStream(t, append(first, rest...), n, 7, false)

	// Nothing more: the second member got exactly the rest.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if extra, err := c2.Poll(ctx, 0); len(extra) != 0 || err == nil {
		t.Errorf("Poll after the end returned %d records, %v", len(extra), err)
	}
}

// TestConsumerStartOffsets: StartOffsets overrides the committed offsets.
func TestConsumerStartOffsets(t *testing.T) {
	_, addr := newCluster(t, 2, 0)
	cfg := testConfig(t, addr)
	p := newProducer(t, cfg, nil)
	const n = 60
	appendStream(t, p, 0, n, 5)

	// Partition 0 from offset 3, partition 1 from the committed offset
	// (none: the start).
	var asked []int32
	start := func(_ context.Context, parts []int32) (map[int32]int64, error) {
		asked = append(asked, parts...)
		return map[int32]int64{0: 3}, nil
	}
	c, err := NewConsumer(cfg, start, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	recs := pollN(t, c, n-3)
	low := map[int32]int64{0: -1, 1: -1}
	for _, r := range recs {
		if low[r.Partition] == -1 || r.Offset < low[r.Partition] {
			low[r.Partition] = r.Offset
		}
	}
	if low[0] != 3 || low[1] != 0 {
		t.Errorf("started at %v, want partition 0 at 3 and partition 1 at 0", low)
	}
	slices.Sort(asked)
	if !slices.Equal(asked, []int32{0, 1}) {
		t.Errorf("StartOffsets asked for %v, want [0 1]", asked)
	}
}

func TestNextOffsets(t *testing.T) {
	got := NextOffsets([]Record{{Partition: 0, Offset: 4}, {Partition: 1, Offset: 9}, {Partition: 0, Offset: 7}, {Partition: 0, Offset: 5}})
	if len(got) != 2 || got[0] != 8 || got[1] != 10 {
		t.Errorf("NextOffsets = %v, want map[0:8 1:10]", got)
	}
}
