package admeter

import "time"

// Limits on the number of records a metadata store's AuditEntries returns
// at once.
const (
	DefaultAuditLimit = 100
	MaxAuditLimit     = 1000
)

// DefaultAuditCheckpointEvery is how many records a metadata store's audit
// log appends between two signed checkpoints unless told otherwise.
const DefaultAuditCheckpointEvery = 1000

// AuditQuery selects audit records. The zero value selects the oldest
// DefaultAuditLimit records of every tenant.
type AuditQuery struct {
	// Tenant restricts the records to those naming this tenant; "" selects
	// every record, for operators. A tenant's API must always set it.
	Tenant TenantID
	// After and Before, if not 0, keep only records with a sequence number
	// greater than After and less than Before. They are the paging cursors:
	// oldest first, the next page has After = the last record's Seq; newest
	// first, Before = the last record's Seq.
	After, Before uint64
	// Action keeps only records whose action starts with it, e.g. "auth."
	// or "rights.request.submit".
	Action string
	// From and To, if not zero, keep only records with From <= Time < To.
	From, To time.Time
	// Newest returns the records newest first (descending Seq) instead of
	// oldest first.
	Newest bool
	// Limit is the number of records to return at most: 0 or less means
	// DefaultAuditLimit, more than MaxAuditLimit means MaxAuditLimit.
	Limit int
}

// EffectiveLimit returns the number of records q returns at most: Limit
// brought into [1, MaxAuditLimit], DefaultAuditLimit if Limit is 0 or less.
func (q AuditQuery) EffectiveLimit() int {
	if q.Limit <= 0 {
		return DefaultAuditLimit
	}
	return min(q.Limit, MaxAuditLimit)
}
