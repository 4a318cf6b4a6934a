package sqlite

import (
	"context"

	"github.com/admeter/admeter"
)

// RecordAll appends es in one transaction, so that tests and benchmarks can
// build a long record without an fsync per entry.
func (a *AuditLog) RecordAll(ctx context.Context, es []admeter.AuditEntry) error {
	return a.record(ctx, es)
}
