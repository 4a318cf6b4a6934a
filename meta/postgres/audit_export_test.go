package postgres

import (
	"context"

	"github.com/admeter/admeter"
)

// RecordAll appends es in one transaction, so that tests can build a long
// record without a commit per entry.
func (a *AuditLog) RecordAll(ctx context.Context, es []admeter.AuditEntry) error {
	return a.record(ctx, es)
}
