package macro

import (
	"math"
	"strconv"
	"time"

	"github.com/admeter/admeter"
)

// ParseTime parses an mt event time: 10 digits of Unix seconds (what the MMA
// SDK sends) or 13 digits of Unix milliseconds (what some media send). It
// returns the time in UTC and false for anything else. It does not judge
// whether the time is plausible; the collector compares it with its clock.
func ParseTime(mt string) (time.Time, bool) {
	if len(mt) != 10 && len(mt) != 13 {
		return time.Time{}, false
	}
	var n int64
	for i := 0; i < len(mt); i++ {
		c := mt[i]
		if c < '0' || c > '9' {
			return time.Time{}, false
		}
		n = n*10 + int64(c-'0')
	}
	if len(mt) == 10 {
		return time.Unix(n, 0).UTC(), true
	}
	return time.UnixMilli(n).UTC(), true
}

// ParseOS maps an mo value to an OS: 0 Android, 1 iOS, 2 Windows Phone,
// 3 other. Anything else, "" included, is OSUnknown.
func ParseOS(mo string) admeter.OS {
	switch mo {
	case "0":
		return admeter.OSAndroid
	case "1":
		return admeter.OSIOS
	case "2":
		return admeter.OSWindowsPhone
	case "3":
		return admeter.OSOther
	}
	return admeter.OSUnknown
}

// ParseNetwork maps an mw value to a Network: 0 cellular, 1 Wi-Fi, 2 none.
// Anything else, "" included, is NetworkUnknown.
func ParseNetwork(mw string) admeter.Network {
	switch mw {
	case "0":
		return admeter.NetworkCellular
	case "1":
		return admeter.NetworkWiFi
	case "2":
		return admeter.NetworkNone
	}
	return admeter.NetworkUnknown
}

// ParseRender reports whether a br value means the ad was rendered. Only
// "0" (the MMA SDK's "tracked ad" ping: served, not yet rendered) is false;
// an absent br is a plain rendered impression.
func ParseRender(br string) (rendered bool) { return br != "0" }

// maxLocationLen bounds the mm values ParseLocation reads.
const maxLocationLen = 96

// ParseLocation parses an mm location: the MMA form "lat x lon x accuracy"
// (Android SDK: 39.904211x116.407395x30.0), "lat x lon", or "lat,lon"
// (optionally ",accuracy"), in decimal degrees, latitude first. Spaces
// around the numbers are allowed. The accuracy is ignored. It reports false
// for anything else, for a point off the Earth, and for 0,0, which devices
// report when they have no fix.
func ParseLocation(mm string) (lat, lon float64, ok bool) {
	if len(mm) > maxLocationLen {
		return 0, 0, false
	}
	sep := byte('x')
	for i := 0; i < len(mm); i++ {
		if c := mm[i]; c == 'x' || c == 'X' || c == ',' {
			sep = c
			break
		}
	}
	var parts [3]string
	n := 0
	for start, i := 0, 0; i <= len(mm); i++ {
		if i < len(mm) && mm[i] != sep {
			continue
		}
		if n == len(parts) {
			return 0, 0, false
		}
		parts[n] = mm[start:i]
		n++
		start = i + 1
	}
	if n < 2 {
		return 0, 0, false
	}
	lat, ok1 := parseDegrees(parts[0])
	lon, ok2 := parseDegrees(parts[1])
	if !ok1 || !ok2 || lat < -90 || lat > 90 || lon < -180 || lon > 180 || lat == 0 && lon == 0 {
		return 0, 0, false
	}
	return lat, lon, true
}

// parseDegrees parses a plain decimal number: an optional sign, digits and
// at most one '.', surrounded by optional spaces. It refuses what
// strconv.ParseFloat would also take (exponents, hex, Inf, NaN, '_').
func parseDegrees(s string) (float64, bool) {
	for len(s) > 0 && s[0] == ' ' {
		s = s[1:]
	}
	for len(s) > 0 && s[len(s)-1] == ' ' {
		s = s[:len(s)-1]
	}
	digits, dots := 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case '0' <= c && c <= '9':
			digits++
		case c == '.':
			dots++
		case (c == '-' || c == '+') && i == 0:
		default:
			return 0, false
		}
	}
	if digits == 0 || dots > 1 {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// maxRiskLen bounds the svl values ParseRisk reads; the real value is about
// 60 bytes encoded.
const maxRiskLen = 512

// ParseRisk parses the svl device-risk flags the MMA SDK sends,
// {"l1":1,"l2":0,"l3":0,"l4":0}: l1 root, l2 emulator, l3 hook (Xposed or
// Substrate), l4 adb enabled. It accepts the JSON URL-encoded (once or
// twice) or with its quotes removed ({l1:1,l2:0}), and a flag of 1 or true.
// Unknown keys are ignored, and anything it cannot read adds no flag.
func ParseRisk(svl string) admeter.Risk {
	if len(svl) > maxRiskLen {
		return 0
	}
	var buf [maxRiskLen]byte
	n := copy(buf[:], svl)
	for range 2 {
		m, ok := unescapeInPlace(buf[:n])
		if !ok || m == n {
			break
		}
		n = m
	}
	b := buf[:n]
	var risk admeter.Risk
	for start, i := 0, 0; i <= len(b); i++ {
		if i < len(b) && b[i] != ',' {
			continue
		}
		risk |= riskFlag(b[start:i])
		start = i + 1
	}
	return risk
}

// riskFlag returns the flag that one "key":value member sets, if any.
func riskFlag(m []byte) admeter.Risk {
	colon := -1
	for i, c := range m {
		if c == ':' {
			colon = i
			break
		}
	}
	if colon < 0 {
		return 0
	}
	key, val := trimJSON(m[:colon]), trimJSON(m[colon+1:])
	if len(key) != 2 || key[0] != 'l' || !(string(val) == "1" || string(val) == "true") {
		return 0
	}
	switch key[1] {
	case '1':
		return admeter.RiskRoot
	case '2':
		return admeter.RiskEmulator
	case '3':
		return admeter.RiskHook
	case '4':
		return admeter.RiskADB
	}
	return 0
}

// trimJSON removes braces, quotes and white space around b.
func trimJSON(b []byte) []byte {
	junk := func(c byte) bool {
		return c == '{' || c == '}' || c == '"' || c == '\'' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '+'
	}
	for len(b) > 0 && junk(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && junk(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// Viewability and video thresholds a URL may set (Miaozhen vh, vi).
const (
	// MaxViewSeconds is the longest viewable-time threshold (vi) accepted:
	// the MMA SDK stops monitoring after 120 s, so a longer one could never
	// be met.
	MaxViewSeconds = 120
)

// ParseViewArea parses a vh viewable-area threshold: a whole percentage
// from 1 to 100. An absent vh ("") gives 0 (the MMA standard's 50 %) and
// true; anything else gives false.
func ParseViewArea(vh string) (uint8, bool) {
	return parseSmall(vh, 100)
}

// ParseViewSeconds parses a vi viewable-time threshold: whole seconds from
// 1 to MaxViewSeconds. An absent vi ("") gives 0 (the MMA standard's 1 s,
// 2 s for video) and true; anything else gives false.
func ParseViewSeconds(vi string) (uint8, bool) {
	return parseSmall(vi, MaxViewSeconds)
}

// parseSmall parses a whole number from 1 to max (at most 255) written with
// at most three digits; "" is 0 and true.
func parseSmall(s string, max int) (uint8, bool) {
	if s == "" {
		return 0, true
	}
	if len(s) > 3 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	if n < 1 || n > max {
		return 0, false
	}
	return uint8(n), true
}

// ParseInteraction parses vk: "1" reports a strong interaction (the user
// clicked the ad while it was monitored), "0" or "" none. It reports false
// for anything else.
func ParseInteraction(vk string) (strong, ok bool) {
	switch vk {
	case "1":
		return true, true
	case "", "0":
		return false, true
	}
	return false, false
}

// ParseVideoPlay parses vg, how a video ad started: 0 unknown, 1 auto,
// 2 manual. An absent vg ("") gives admeter.PlayNone and true; anything
// else gives false.
func ParseVideoPlay(vg string) (admeter.VideoPlay, bool) {
	switch vg {
	case "":
		return admeter.PlayNone, true
	case "0":
		return admeter.PlayUnknown, true
	case "1":
		return admeter.PlayAuto, true
	case "2":
		return admeter.PlayManual, true
	}
	return admeter.PlayNone, false
}

// ParseVideoDuration parses vb, a video ad's length in seconds: digits with
// at most one '.', rounded to the millisecond, at most
// admeter.MaxVideoDuration. An absent vb ("") and "0" give 0 (not
// reported) and true; anything else (a sign, an exponent, a longer length)
// gives false.
func ParseVideoDuration(vb string) (time.Duration, bool) {
	if vb == "" {
		return 0, true
	}
	if len(vb) > 32 {
		return 0, false
	}
	var whole, frac int64
	fracDigits, digits, dot := 0, 0, false
	for i := 0; i < len(vb); i++ {
		c := vb[i]
		switch {
		case c == '.' && !dot:
			dot = true
		case c >= '0' && c <= '9':
			digits++
			if !dot {
				whole = whole*10 + int64(c-'0')
				if whole > int64(admeter.MaxVideoDuration/time.Second) {
					return 0, false
				}
			} else if fracDigits < 4 { // one digit past the millisecond, to round
				frac = frac*10 + int64(c-'0')
				fracDigits++
			}
		default:
			return 0, false
		}
	}
	if digits == 0 {
		return 0, false
	}
	for ; fracDigits < 4; fracDigits++ {
		frac *= 10
	}
	ms := whole*1000 + (frac+5)/10 // frac is in tenths of a millisecond
	d := time.Duration(ms) * time.Millisecond
	if d > admeter.MaxVideoDuration {
		return 0, false
	}
	return d, true
}
