package pseudo

import (
	"crypto/md5"
	"strings"
)

// placeholderRaw lists raw strings that name no device, each exactly as an
// SDK or media server would hash it (the canonical form of its type, e.g. an
// IDFA in upper case). Their MD5s are rejected in every form, so a placeholder
// is refused whether it arrives raw or hashed (mma-protocol.md §4.2 rules 2
// and 3). Zero ids are listed at the lengths seen in the wild; a raw zero id
// of any length is also refused before hashing.
var placeholderRaw = []string{
	// Absent values, hashed by an SDK that did not check first.
	"", " ", "null", "NULL", "Null", "nil", "none", "unknown", "undefined", "(null)", "<null>", "0", "-",
	// The MMA Android SDK sends md5("OAID") when the OAID is empty.
	"OAID",
	// All-zero ids: IDFA/IDFV/AAID/Huawei OAID with ads personalisation off.
	"00000000-0000-0000-0000-000000000000",
	// The Android ID shared by many Android 2.2 devices.
	"9774d56d682e549c",
	// MACs that Android 6+ and iOS 7+ report instead of the real one, and the
	// zero and broadcast addresses, in the m6a (bare) and m6 (colon) forms.
	"020000000000", "02:00:00:00:00:00",
	"000000000000", "00:00:00:00:00:00",
	"FFFFFFFFFFFF", "FF:FF:FF:FF:FF:FF",
	// Bracket macros of Youku/Tencent-style media and platform templates.
	"[M_MAC]", "[M_IESID]", "{{ANDROID_ID_MD5}}", "{idfa_md5}",
}

// zeroLengths are the lengths of all-zero ids whose MD5s are placeholders:
// Android ID (13–16), IMEI/MEID (14–17), OAID (16, 32, 62, 64), CAID (32),
// OpenUDID (40).
var zeroLengths = []int{13, 14, 15, 16, 17, 32, 40, 62, 64}

// macroNames are the device-id macros of MMA, Miaozhen and the big media
// platforms (mma-protocol.md §2 and §3). An SDK that hashes an unreplaced
// macro sends md5("__IMEI__") and the like.
var macroNames = []string{
	"IMEI", "IMEI2", "IMEI_MD5", "IMEIMD5", "HASH_IMEI", "MUID",
	"IDFA", "IDFA1", "IDFA_MD5", "IDFAMD5", "HASH_IDFA", "IDFV",
	"OAID", "OAID1", "OAID_MD5", "HASH_OAID",
	"ANDROIDID", "ANDROIDID1", "ANDROIDID2", "ANDROID_ID", "HASH_ANDROID_ID",
	"MAC", "MAC1", "MAC2", "AAID", "OPENUDID", "CAID", "CAID1", "DUID",
}

// placeholderStrings returns every raw placeholder string, in the form it
// is hashed.
func placeholderStrings() []string {
	s := append([]string(nil), placeholderRaw...)
	for _, n := range zeroLengths {
		s = append(s, strings.Repeat("0", n))
	}
	for _, m := range macroNames {
		s = append(s, "__"+m+"__", "__"+strings.ToLower(m)+"__")
	}
	return s
}

// placeholderMD5 holds the MD5 of every placeholder string. It is built once
// and only read afterwards.
var placeholderMD5 = func() map[Canonical]struct{} {
	raw := placeholderStrings()
	m := make(map[Canonical]struct{}, len(raw))
	for _, s := range raw {
		m[md5.Sum([]byte(s))] = struct{}{}
	}
	return m
}()

// isPlaceholder reports whether c is the MD5 of a placeholder string.
func isPlaceholder(c Canonical) bool {
	_, ok := placeholderMD5[c]
	return ok
}
