// Package optouthttp serves admeter's public opt-out page and API (privacy
// policy 一(一)2 (6)–(7)): the way end users, and the apps and media acting
// for them, stop admeter from processing their data.
//
// The page, GET /optout, is in Chinese by default and in English with
// ?lang=en or an Accept-Language that prefers English. It explains what
// admeter measures and what opting out does, shows whether this browser has
// opted out, and offers two forms that work without JavaScript, frames or any
// outside resource:
//
//   - "opt out this browser" sets a long-lived opt-out cookie on the
//     collector's domain and expires the collector's browser id cookie in the
//     same response; no other cookie is ever set;
//   - "opt out a device" takes an advertising identifier (OAID, IDFA, IMEI,
//     Android ID and the other types the collector knows), raw or as its MD5.
//
// Both answer with a 303 redirect back to the page (post/redirect/get).
// Cross-site POSTs to the page are refused (Sec-Fetch-Site, then Origin).
//
// The JSON API is for apps and media and is open to any origin (CORS without
// credentials):
//
//	POST /api/v1/optout         {"id_type":"idfa","id":"…","form":"raw|md5"}
//	                            → 200 {"opted_out":true,"id_type":"idfa","added":true}
//	GET  /api/v1/optout/status  ?id_type=idfa&id=…  → {"opted_out":bool,"scope":"device","id_type":"idfa"}
//	GET  /api/v1/optout/status  (no id)             → {"opted_out":bool,"scope":"browser"}
//	POST /api/v1/optout/status  with the JSON body of POST /api/v1/optout,
//	                            which keeps the id out of URLs and access logs.
//
// Errors have the shape of package api: {"error":{"code":"invalid","message":"…"}}.
//
// An identifier is canonicalised exactly as the collector does it
// (pseudo.Canonicalize) and only its keyed pseudonym is stored in the
// registry, so a device opted out by its raw IDFA is also opted out when it
// arrives MD5-hashed (privacy invariant 2). When the form is omitted, 32 hex
// digits are read as an MD5 and, if they are also a valid raw identifier of
// the type (an OAID can be), both pseudonyms are opted out: over-opting out is
// the safe direction. A raw MAC is opted out in both of the collector's MAC
// forms. The raw identifier is never stored, logged or echoed back, not even
// in error messages.
//
// Opting out stops processing from then on; it does not delete what was
// processed before (that is a deletion request, which goes through the
// advertiser or media app), and the page says so.
//
// All state-changing requests and status lookups are rate limited per client
// network block (admeter.BlockOf: /24 or /48) with a token bucket. The
// limiter lives in memory only, is bounded, forgets idle blocks and never logs
// an address.
package optouthttp
