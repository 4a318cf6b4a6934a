package admeter

import "time"

// RequestType is the kind of an end user's rights request (privacy policy
// 四(三)).
type RequestType string

// Rights request types.
const (
	RequestAccess RequestType = "access" // a copy of the data held about the device
	RequestDelete RequestType = "delete" // delete the device's data, and stop collecting it
	RequestOptOut RequestType = "optout" // stop collecting the device's data
)

// Valid reports whether t is a known request type.
func (t RequestType) Valid() bool {
	return t == RequestAccess || t == RequestDelete || t == RequestOptOut
}

// RequestStatus is where a rights request stands.
type RequestStatus string

// Rights request statuses.
const (
	RequestPending    RequestStatus = "pending"    // received, not yet carried out
	RequestProcessing RequestStatus = "processing" // being carried out
	RequestDone       RequestStatus = "done"       // carried out; see the outcome
	RequestFailed     RequestStatus = "failed"     // could not be carried out; see the error
)

// Open reports whether a request in status s still has to be carried out.
func (s RequestStatus) Open() bool { return s == RequestPending || s == RequestProcessing }

// RightsRequest is an end user's request, forwarded by a tenant, about one
// device. It holds the device only as pseudonyms, never the identifier.
type RightsRequest struct {
	ID     string
	Tenant TenantID
	Type   RequestType
	// IDType is the type of the identifier the request named.
	IDType IDType
	// Minor marks a guardian's request about a minor; such requests are
	// carried out first.
	Minor bool
	// Note is the tenant's free-text reference (a ticket number, say).
	Note string
	// Actor is who submitted it, e.g. "tenant:t_…".
	Actor  string
	Status RequestStatus
	// Received is when admeter received it; Due is the day (midnight in
	// China Standard Time) by which it must be carried out; DueExact is
	// false when the working-day calendar lacked holiday data for a year the
	// count crossed, so Due counts Monday to Friday only.
	Received  time.Time
	Due       time.Time
	DueExact  bool
	Completed time.Time
	Outcome   RequestOutcome
	// Error says why a failed request failed.
	Error string
	// Fingerprint identifies the device across requests (the hex of its
	// first opt-out registry pseudonym), to spot replays.
	Fingerprint string
	// OptOut are the device's pseudonyms under the opt-out registry key
	// (two when the identifier's form was ambiguous).
	OptOut []Pseudonym
	// Users are the device's pseudonyms under every pseudonymisation key
	// version alive when the request arrived.
	Users []Pseudonym
}

// RequestOutcome records what carrying out a request did: counts only.
type RequestOutcome struct {
	// Events is the number of events copied (access) or deleted (delete).
	Events int64 `json:"events"`
	// Campaigns is the number of campaigns those events belonged to.
	Campaigns int `json:"campaigns"`
	// SocialRecords is the number of social records (posts, comments,
	// reposts of a social account) copied or deleted.
	SocialRecords int64 `json:"social_records,omitempty"`
	// Truncated is true when an access copy hit its size limit.
	Truncated bool `json:"truncated,omitempty"`
	// OptOutAdded is true when the request put the device in the opt-out
	// registry (false when it was there already).
	OptOutAdded bool `json:"optout_added"`
	// ExportsRemoved counts access copies of the same device deleted with it.
	ExportsRemoved int `json:"exports_removed,omitempty"`
	// LogSegmentsRemoved counts event-log segments removed once loaded, so
	// that no copy of deleted events stays in the log.
	LogSegmentsRemoved int `json:"log_segments_removed,omitempty"`
	// PendingRollups lists, while a deletion is being carried out, the
	// campaigns and time spans whose daily rollups must still be recomputed:
	// saved before the rollups are touched, so that a crash in between
	// cannot leave them counting deleted events.
	PendingRollups []RollupSpan `json:"pending_rollups,omitempty"`
}

// RollupSpan is a campaign and the span of event times [From, To] (UTC)
// whose daily rollups a change affected.
type RollupSpan struct {
	Campaign CampaignID `json:"campaign"`
	From     time.Time  `json:"from"`
	To       time.Time  `json:"to"`
}
