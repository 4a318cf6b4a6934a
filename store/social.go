package store

import (
	"time"

	"github.com/admeter/admeter"
)

// PostQuery selects a tenant's social records for ScanPosts.
type PostQuery struct {
	Tenant admeter.TenantID
	// From and To bound the records' times (admeter.SocialPost.At):
	// From <= At < To. Both are required.
	From, To time.Time
	// Sources and Kinds, when not empty, keep only records of those sources
	// and kinds.
	Sources []string
	Kinds   []admeter.SocialKind
}

// Validate returns an EINVALID error for a query without a tenant, without
// a range or with From after To.
func (q PostQuery) Validate() error {
	switch {
	case q.Tenant == "":
		return admeter.Errorf(admeter.EINVALID, "a social query needs a tenant")
	case q.From.IsZero() || q.To.IsZero():
		return admeter.Errorf(admeter.EINVALID, "a social query needs a time range")
	case q.To.Before(q.From):
		return admeter.Errorf(admeter.EINVALID, "a social query's range ends before it starts")
	}
	return nil
}
