package duckdb

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/admeter/admeter"
	duck "github.com/duckdb/duckdb-go/v2"
)

// batchFunction is the table function, registered on the writer's
// connection, through which Insert hands a day of a batch to DuckDB:
// INSERT INTO events_YYYYMMDD SELECT * FROM admeter_batch(). DuckDB calls
// back for the rows a vector (2 048 rows) at a time, from as many of its
// threads as it likes, and inserts them the way it runs INSERT … SELECT,
// in parallel; the row appender, which it replaced, filled and appended
// one row at a time on the caller's thread (see docs/benchmarks.md).
const batchFunction = "admeter_batch"

// batchSource is the rows of one day of a batch, as the source of
// batchFunction. Its fields are set by the writer before the INSERT and
// only read while it runs; next hands out ranges of rows to the threads
// that fill chunks.
type batchSource struct {
	threads int // the most DuckDB threads that fill chunks
	cols    []duck.ColumnInfo
	events  []admeter.Event
	idx     []int     // the events of the day, in order
	ids     []dictIDs // their strings' dictionary ids, by position in idx
	boxed   []driver.Value
	next    atomic.Int64
}

// ColumnInfos returns the columns of a partition, in eventColumns order.
func (s *batchSource) ColumnInfos() []duck.ColumnInfo { return s.cols }

// Cardinality returns the number of rows.
func (s *batchSource) Cardinality() *duck.CardinalityInfo {
	return &duck.CardinalityInfo{Cardinality: uint(len(s.idx)), Exact: true}
}

// Init lets DuckDB fill chunks on up to s.threads threads: left to its
// default, it fills them on one.
func (s *batchSource) Init() duck.ParallelTableSourceInfo {
	return duck.ParallelTableSourceInfo{MaxThreads: s.threads}
}

// NewLocalState returns a thread's row buffer.
func (s *batchSource) NewLocalState() any {
	return &batchState{row: make([]driver.Value, numEventColumns)}
}

// batchState is what one of DuckDB's threads needs to fill chunks.
type batchState struct {
	row []driver.Value
}

// FillChunk fills chunk with the next rows not yet handed out, and sets
// its size to 0 when there are none.
func (s *batchSource) FillChunk(local any, chunk duck.DataChunk) error {
	st, ok := local.(*batchState)
	if !ok {
		return errors.New("fill batch: unexpected local state")
	}
	n := int64(duck.GetDataChunkCapacity())
	start := s.next.Add(n) - n
	end := min(start+n, int64(len(s.idx)))
	if start >= end {
		return chunk.SetSize(0)
	}
	for r := start; r < end; r++ {
		fillRow(st.row, &s.events[s.idx[r]], &s.ids[r], s.boxed)
		for c, v := range st.row {
			if err := chunk.SetValue(c, int(r-start), v); err != nil {
				return fmt.Errorf("fill batch row %d column %d: %w", r, c, err)
			}
		}
	}
	return chunk.SetSize(int(end - start))
}

// eventColumnInfos returns the columns of eventColumns for batchSource.
func eventColumnInfos() ([]duck.ColumnInfo, error) {
	types := map[string]duck.Type{
		"BIGINT": duck.TYPE_BIGINT, "INTEGER": duck.TYPE_INTEGER, "UINTEGER": duck.TYPE_UINTEGER,
		"USMALLINT": duck.TYPE_USMALLINT, "UTINYINT": duck.TYPE_UTINYINT, "UUID": duck.TYPE_UUID,
	}
	var cols []duck.ColumnInfo
	for _, line := range strings.Split(eventColumns, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		t, ok := types[strings.TrimSuffix(f[1], ",")]
		if !ok {
			return nil, fmt.Errorf("column %s: type %s has no table-function type", f[0], f[1])
		}
		info, err := duck.NewTypeInfo(t)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", f[0], err)
		}
		cols = append(cols, duck.ColumnInfo{Name: f[0], T: info})
	}
	if len(cols) != numEventColumns {
		return nil, fmt.Errorf("eventColumns has %d columns, want %d", len(cols), numEventColumns)
	}
	return cols, nil
}
