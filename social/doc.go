// Package social is admeter's social insight service (社会化洞察与分析):
// it takes posts, comments, reposts and search-term counts from partner
// feeds, de-identifies them on arrival, stores them, and answers the
// aggregate reports of what people say about a tenant's brands and
// competitors, aligned with its campaigns' delivery.
//
// On arrival (Service.Ingest) every record is parsed and checked (package
// social/feed), its author's handle is pseudonymised exactly like a device
// identifier (an HMAC under the current event key, type
// admeter.IDSocial; the raw handle is never stored or logged, public handles
// included), the partner's record id is pseudonymised too, records of
// authors in the opt-out registry are dropped and counted, other people's
// handles, phone numbers, e-mail addresses, ID and card numbers and links
// are cut out of the text (feed.Redact), and the text is scored for
// sentiment (social/sentiment) and fingerprinted for repost dedup
// (social/textproc). Records are written to the analytical store and
// committed before Ingest returns; a record delivered twice is stored once.
//
// Reports (Service.Report) read a tenant's records for a range and hand
// them with the tenant's keyword rules and official accounts to
// social/analysis, which computes aggregates only: counts of fewer than
// Config.MinAuthors distinct authors are suppressed, and no text or author
// leaves the platform except the posts of the tenant's official accounts.
//
// Social records live as long as raw events (retention's
// Store.DeletePostsBefore) and are deleted with their author on an end
// user's request (Store.DeleteUsers, with the handle named as
// "source:handle" of type social).
package social
