package admeter

import (
	"encoding/hex"
)

// Pseudonym is the keyed hash (HMAC) of a canonical device identifier or of a
// cookie id. It is opaque: without the key it cannot be tied back to the
// device. Sixteen bytes keep collisions negligible (about one in 2^64 pairs
// among billions of devices) and let stores count distinct users on a native
// 128-bit value. The zero Pseudonym means "no identifier".
type Pseudonym [16]byte

// IsZero reports whether p is the zero Pseudonym.
func (p Pseudonym) IsZero() bool { return p == Pseudonym{} }

// String returns the first 8 hex digits only, so that a pseudonym printed in a
// log line or an error cannot be used as a join key.
func (p Pseudonym) String() string {
	if p.IsZero() {
		return "none"
	}
	return hex.EncodeToString(p[:4])
}

// Hex returns the full hex form, for storage adapters and exports that need it.
func (p Pseudonym) Hex() string { return hex.EncodeToString(p[:]) }

// IDType names the kind of identifier a pseudonym was made from. The order of
// the constants is the priority order for choosing an event's user key: the
// highest-priority identifier present wins.
type IDType uint8

// Identifier types, in user-key priority order (see [IDType]).
const (
	IDNone      IDType = iota
	IDOAID             // Android MSA open anonymous device id
	IDIDFA             // iOS advertising id
	IDIMEI             // Android IMEI (or MEID)
	IDAndroidID        // Android ID
	IDAAID             // Google advertising id
	IDMAC              // Wi-Fi MAC (MMA form: no colons, uppercase, then MD5)
	IDMACColon         // Wi-Fi MAC with colons, MD5 (Miaozhen m6); cannot be joined with IDMAC
	IDOpenUDID         // legacy iOS OpenUDID
	IDIDFV             // iOS identifier for vendor
	IDCAID             // China Advertising Association iOS id
	IDCookie           // admeter's first-party browser cookie
	IDSocial           // a social media handle ("weibo:name"); authors of social posts, never a user key
	numIDTypes
)

var idTypeNames = [...]string{
	IDNone:      "none",
	IDOAID:      "oaid",
	IDIDFA:      "idfa",
	IDIMEI:      "imei",
	IDAndroidID: "android_id",
	IDAAID:      "aaid",
	IDMAC:       "mac",
	IDMACColon:  "mac_colon",
	IDOpenUDID:  "openudid",
	IDIDFV:      "idfv",
	IDCAID:      "caid",
	IDCookie:    "cookie",
	IDSocial:    "social",
}

// String returns the lowercase name used in APIs and metrics.
func (t IDType) String() string {
	if int(t) < len(idTypeNames) {
		return idTypeNames[t]
	}
	return "unknown"
}

// Valid reports whether t is a defined identifier type other than IDNone.
func (t IDType) Valid() bool { return t > IDNone && t < numIDTypes }

// ParseIDType returns the IDType named s (as printed by String).
func ParseIDType(s string) (IDType, bool) {
	for i, n := range idTypeNames {
		if n == s && i != int(IDNone) {
			return IDType(i), true
		}
	}
	return IDNone, false
}
