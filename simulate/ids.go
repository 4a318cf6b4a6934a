package simulate

import (
	"crypto/md5"
	"encoding/hex"
	"strings"
)

// Identifiers are not stored per device: each is derived on demand from the
// seed, the device and a salt by a keyed mix, so a population of millions of
// devices costs a few dozen bytes each and a device always gets the same
// values. They are fake but valid: the formats below are the ones package
// pseudo accepts.

// mix64 is the splitmix64 finaliser: a bijective mix of 64 bits.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// bits is a splitmix64 stream of pseudo-random bits.
type bits struct{ state uint64 }

// newBits returns the stream for (seed, device, salt).
func newBits(seed uint64, dev int32, salt uint64) bits {
	return bits{state: mix64(seed ^ mix64(uint64(uint32(dev))<<24^salt))}
}

func (b *bits) next() uint64 {
	b.state += 0x9e3779b97f4a7c15
	return mix64(b.state)
}

const hexLower = "0123456789abcdef"
const hexUpper = "0123456789ABCDEF"

// appendHex appends n random hex digits.
func (b *bits) appendHex(dst []byte, n int, digits string) []byte {
	var v uint64
	for i := range n {
		if i%16 == 0 {
			v = b.next()
		}
		dst = append(dst, digits[v&15])
		v >>= 4
	}
	return dst
}

// uuid returns a random version-4 UUID, 8-4-4-4-12 hex digits.
func (b *bits) uuid(digits string) string {
	var buf [36]byte
	h := b.appendHex(make([]byte, 0, 32), 32, digits)
	h[12] = '4'
	h[16] = digits[8+h[16]%4]
	j := 0
	for i := range 32 {
		if i == 8 || i == 12 || i == 16 || i == 20 {
			buf[j] = '-'
			j++
		}
		buf[j] = h[i]
		j++
	}
	return string(buf[:])
}

// hexID returns n random hex digits, the first one not zero (an Android ID
// from Long.toHexString never starts with 0).
func (b *bits) hexID(n int, digits string) string {
	h := b.appendHex(make([]byte, 0, n), n, digits)
	if h[0] == '0' {
		h[0] = digits[1+b.next()%15]
	}
	return string(h)
}

// imei returns a 15-digit IMEI: a type allocation code from the Chinese
// reporting body (86), a serial number and the Luhn check digit.
func (b *bits) imei() string {
	var d [15]byte
	d[0], d[1] = '8', '6'
	v := b.next()
	for i := 2; i < 14; i++ {
		d[i] = '0' + byte(v%10)
		v /= 10
	}
	d[14] = luhn(d[:14])
	return string(d[:])
}

// luhn returns the Luhn check digit of the decimal digits in payload.
func luhn(payload []byte) byte {
	sum := 0
	for i, c := range payload {
		n := int(c - '0')
		if (len(payload)-i)%2 == 1 { // double every second digit from the right
			n *= 2
			if n > 9 {
				n -= 9
			}
		}
		sum += n
	}
	return '0' + byte((10-sum%10)%10)
}

// md5Hex is the MMA MD5: lowercase hex of the MD5 of s.
func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// Canonical raw forms, as the MMA SDKs hash them (pseudo package): IDFA
// uppercased, IMEI and Android ID lowercased, OAID as it is.
func idfaMD5(v string) string      { return md5Hex(strings.ToUpper(v)) }
func imeiMD5(v string) string      { return md5Hex(strings.ToLower(v)) }
func androidIDMD5(v string) string { return md5Hex(strings.ToLower(v)) }
func oaidMD5(v string) string      { return md5Hex(v) }

// Placeholder values that legitimate and invalid traffic send.
const (
	zeroUUID = "00000000-0000-0000-0000-000000000000"
	zeroIMEI = "000000000000000"
	// placeholderMAC is the MAC Android 6+ and iOS 7+ report instead of the
	// real one.
	placeholderMAC      = "020000000000"
	placeholderMACColon = "02:00:00:00:00:00"
)

// zeroOAID returns the OAID a device of that shape reports when the user
// limited ad tracking.
func zeroOAID(s oaidShape) string {
	switch s {
	case oaidHex16:
		return strings.Repeat("0", 16)
	case oaidHex64, oaidHex64U:
		return strings.Repeat("0", 64)
	}
	return zeroUUID
}

// oaidOf returns a random OAID of the given shape.
func (b *bits) oaid(s oaidShape) string {
	switch s {
	case oaidHex16:
		return b.hexID(16, hexLower)
	case oaidHex64:
		return b.hexID(64, hexLower)
	case oaidHex64U:
		return b.hexID(64, hexUpper)
	}
	return b.uuid(hexLower)
}
