// Package notify records security incidents and service announcements and
// delivers their notices to tenants by email (SMTP) and by signed webhook.
//
// Every notice is written to an outbox first: one delivery per notice,
// recipient and channel, in the metadata store, in the same transaction as
// the notice. A background job (Service.Run, on the cluster's elected
// leader) sends the deliveries that are due, at least once: a failed one is
// tried again after an exponentially growing wait until it has failed
// Config.MaxAttempts times, and is then given up. Receivers deduplicate by
// the delivery id, which is the webhook's Idempotency-Key header and the
// email's Message-ID.
//
// Webhook bodies are signed with HMAC-SHA256 over the timestamp header, a
// dot and the body (see Sign and Verify); the secret is the tenant's,
// sealed at rest by the caller's key.
//
// Incident notices carry what PIPL art. 57 and the privacy policy 七(五)
// require (admeter.IncidentContent) in Chinese and in English. Incident
// notices and critical announcements reach every tenant concerned; tenants
// may unsubscribe only from non-critical announcements.
package notify
