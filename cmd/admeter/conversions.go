package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/collect"
)

// conversionRecorder writes every conversion upload to the audit record, in
// the trail of the tenant that sent it: counts, the sender's network and the
// consent references the customer gave, never an identifier. With no audit
// record it writes the same to the log.
func conversionRecorder(a auditLog, logger *slog.Logger) collect.ConversionRecorder {
	return func(ctx context.Context, u collect.ConversionUpload) {
		details := map[string]any{"rows": u.Rows, "accepted": u.Accepted, "duplicates": u.Duplicates, "opted_out": u.OptedOut, "rejected": u.Rejected}
		if u.RawIdentifiers > 0 {
			details["raw_identifiers"] = u.RawIdentifiers
		}
		if len(u.ConsentRefs) > 0 {
			details["consent_refs"] = u.ConsentRefs
		}
		if u.OtherConsentRows > 0 {
			details["other_consent_rows"] = u.OtherConsentRows
		}
		if a == nil {
			logger.Info("conversion upload", "tenant", u.Tenant, "outcome", u.Outcome, "details", details)
			return
		}
		e := admeter.AuditEntry{Actor: "tenant:" + string(u.Tenant), Action: "conversion.upload", Tenant: string(u.Tenant),
			IP: u.Net, Outcome: u.Outcome, Details: details}
		if err := a.Record(ctx, e); err != nil {
			logger.Error("write audit record", "action", e.Action, "err", err)
		}
	}
}

// conversionsOnCollectors answers the conversion API on a node that does not
// collect (--role api): conversions go where the event log is.
func conversionsOnCollectors(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusNotFound)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": admeter.ENOTFOUND,
		"message": "this node does not collect: send POST /api/v1/conversions to a collector node (--role collector or all), like /v1/events; see docs/deploy.md"}})
}
