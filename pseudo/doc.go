// Package pseudo de-identifies device identifiers (privacy invariant 2 in
// PRODUCT.md). It is pure computation plus cryptography: no I/O, no logging,
// no clock.
//
// De-identification happens in two steps.
//
//  1. [Canonicalize] turns an identifier as it arrived, raw or already
//     MD5-hashed the MMA way, into a [Canonical] value: the 16 bytes of the
//     MD5 the MMA SDKs would have sent for that device. The same device
//     therefore gives the same Canonical whichever form arrives (raw IDFA,
//     lowercased IDFA, md5 of the IDFA, uppercase md5, ...). Values that carry
//     no identity (empty, "null", all-zero ids, the MAC 02:00:00:00:00:00,
//     unreplaced media macros such as __IMEI__, and the MD5 of every one of
//     them) are rejected with a [Reason] the collector counts in a metric; they
//     are never an error.
//  2. A [Pseudonymizer] holding a secret key turns a Canonical into an
//     [admeter.Pseudonym]: the first 16 bytes of HMAC-SHA256 over a
//     domain-separated input (a fixed label, the identifier type and the
//     canonical bytes). Without the key a pseudonym cannot be tied back to the
//     device, and an MD5 of an IMEI (itself an identifier, since IMEIs can be
//     enumerated) is never stored. [Pseudonymizer.Token] pseudonymises other
//     values, such as the client's impression id or admeter's cookie id, under
//     labels that can never produce a device pseudonym.
//
// [IDSet] gathers the identifiers of one event without allocating and picks
// the user key: the highest-priority identifier type present, in the order of
// the [admeter.IDType] constants.
//
// A Canonical is still an identifier. It lives only in memory, and its String,
// Format and MarshalText methods print "canonical(redacted)" so that an
// accidental log line cannot leak it. Key and Pseudonymizer redact the secret
// the same way.
//
// # Canonical forms
//
// Each type is hashed the way the MMA SDKs and the big Chinese media platforms
// hash it (see docs/mma-protocol.md §1.4 and §3), after fixing the case that
// transport may have changed:
//
//	type        raw value accepted                       hashed as
//	OAID        16–64 of [0-9A-Za-z-]                    as given (case kept)
//	IDFA, IDFV  UUID 8-4-4-4-12 hex, hyphens required    UPPERCASE
//	IMEI        14–17 hex (IMEI, IMEISV, MEID)           lowercase
//	Android ID  13–16 hex                                lowercase
//	AAID        UUID 8-4-4-4-12 hex, hyphens required    lowercase
//	MAC         12 hex, bare or split by ':' or '-'      UPPERCASE, no separators (m6a)
//	MAC colon   12 hex, bare or split by ':' or '-'      UPPERCASE with ':' (m6)
//	OpenUDID    40 hex                                   lowercase
//	CAID        32 hex, in either form                   not hashed: already canonical
//
// An identifier that arrives as an MD5 must be 32 hex digits in either case.
//
// # Decisions
//
// IMEI: the Luhn check digit is not enforced. MEIDs (14 hex) have none,
// IMEISVs (16 digits) replace it with a software version, some Android builds
// return 14 digits without it, and cheap handsets with cloned or malformed
// IMEIs still send the same value every time, which is all a join key needs.
// Luhn also proves nothing against fraud: anyone can compute it. A MEID is
// lowercased before hashing, as Tencent's __MUID__ rule does
// (md5(lower(IMEI))); for decimal IMEIs the case makes no difference.
//
// IDFA, IDFV and AAID without hyphens are rejected as malformed: 32 bare hex
// digits are indistinguishable from an MD5 put in the raw field, and hashing an
// MD5 again would silently split one device into two users. A caller that
// knows a value is an MD5 passes [FormMD5].
//
// Android ID: before Android 8 the id was Long.toHexString of a random long,
// which drops leading zeros, so 13–16 digits are accepted (shorter ids occur
// for about 1 device in 65,000 and are rejected as malformed). The value is
// never zero-padded: the SDKs hash the string the device returns, and padding
// would stop the raw form joining with the MD5 form. The id 9774d56d682e549c,
// shared by many Android 2.2 devices, is a placeholder.
//
// OAID: the MSA value is opaque (UUIDs from Huawei and Samsung, 16 or 64 hex
// digits from Xiaomi, vivo and OPPO), so its case is kept: the MD5 forms
// (Miaozhen m11a, __OAID_MD5__) are the MD5 of the exact string.
//
// Cookie ids are not device identifiers: [Canonicalize] rejects
// [admeter.IDCookie] as malformed, and the collector pseudonymises its cookie
// with [Pseudonymizer.Token].
package pseudo
