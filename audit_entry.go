package admeter

import "time"

// AuditEntry is one action in the audit record: who did what to which
// object, and the outcome. It names actors and objects by id and holds
// counts, never personal data.
type AuditEntry struct {
	// Time is when it happened; the recorder sets it if zero.
	Time time.Time `json:"time"`
	// Actor is who did it: "tenant:t_…", "operator", "system".
	Actor string `json:"actor"`
	// Action names what was done, e.g. "rights.request.submit".
	Action string `json:"action"`
	// Tenant is the tenant whose data was concerned, if any.
	Tenant string `json:"tenant,omitempty"`
	// Target is the object acted on, e.g. a request id.
	Target string `json:"target,omitempty"`
	// Outcome is "ok", "failed: …" or another short result.
	Outcome string `json:"outcome"`
	// Details holds counts and other non-personal facts.
	Details map[string]any `json:"details,omitempty"`
}
