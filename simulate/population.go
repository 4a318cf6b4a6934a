package simulate

import (
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/admeter/admeter"
)

// class is what kind of client a device is.
type class uint8

const (
	classAndroid class = iota // Android (and HarmonyOS 2–4, which is Android underneath), Miaozhen mo=0
	classIOS                  // iOS, mo=1
	classHarmony              // HarmonyOS NEXT apps, mo=3
	classWeb                  // a web browser: no device id, keyed by admeter's cookie
	classCrawler              // IVTCrawler: a spider or headless browser
	classMacro                // IVTMacro: a media client that replaces no macro
)

// Device flags.
const (
	flagOAIDZero     uint8 = 1 << iota // the OAID is all zeros (ad tracking limited)
	flagPerApp                         // the Android ID differs per app (Android 8+)
	flagCookies                        // a browser that returns third-party cookies
	flagPlaceholders                   // IVTPlaceholder: sends placeholder ids only
	flagForceSDK                       // always sends through the MMA SDK (svl)
)

// device is one simulated device. Its identifiers are derived from the seed
// and its index when needed (see ids.go), so it stays small.
type device struct {
	class class
	ivt   uint8          // 0, or the index in ivtKinds plus one
	key   admeter.IDType // the user key the collector will pick; IDCookie for browsers, IDNone for none
	has   uint16         // 1<<IDType for each valid identifier the device has
	flags uint8
	brand uint8 // index in brands (Android)
	ver   uint8 // index in androidVersions or iosVersions
	model uint8
	agent uint8 // index in webAgents or crawlerAgents
	prov  uint8 // index in provinces
	risk  uint8 // svl flags: 1 root, 2 emulator, 4 hook, 8 adb
	home  [4]byte
	cell  [4]byte
}

func (d *device) hasID(t admeter.IDType) bool { return d.has&(1<<t) != 0 }

// app reports whether the device is an app client that relays a device IP.
func (d *device) app() bool { return d.class <= classHarmony }

// Shares of the population; see docs/simulation.md.
const (
	shareAndroid  = 0.77 // of app devices
	shareIOS      = 0.20 // of app devices; the rest is HarmonyOS NEXT
	shareLAT      = 0.07 // Android devices whose OAID is zeroed
	shareIMEIPerm = 0.60 // pre-Android-10 devices whose apps may read the IMEI
	shareATT      = 0.30 // iOS devices that authorised tracking (IDFA)
	shareCAID     = 0.65 // iOS devices whose apps carry the CAA's CAID
	shareHarmonyO = 0.50 // HarmonyOS NEXT devices that allow the OAID
	shareWiFi     = 0.60 // app events sent over Wi-Fi
	paretoAlpha   = 1.6  // tail index of per-device exposure
	paretoCap     = 400  // largest exposure weight, in multiples of the smallest
)

// population is the devices of a Generator and the weights by which normal
// traffic picks them.
type population struct {
	devices []device
	normal  alias   // over the first nNormal devices
	nNormal int     // normal devices come first
	byIVT   [][]int // device indices of each IVT kind (index in ivtKinds)
}

// newPopulation builds n normal devices and the invalid-traffic devices for
// ivtEvents events of each kind.
func newPopulation(rng *rand.Rand, n int, web float64, ivtEvents [len(ivtKinds)]int) *population {
	p := &population{devices: make([]device, 0, n), nNormal: n, byIVT: make([][]int, len(ivtKinds))}
	weights := make([]float64, n)
	for i := range n {
		var d device
		if rng.Float64() < web {
			d = newWebDevice(rng)
		} else {
			switch r := rng.Float64(); {
			case r < shareAndroid:
				d = newAndroid(rng)
			case r < shareAndroid+shareIOS:
				d = newIOS(rng)
			default:
				d = newHarmony(rng)
			}
		}
		placeDevice(rng, &d)
		d.key = userKey(&d)
		p.devices = append(p.devices, d)
		// Pareto exposure: most devices see an ad once or twice, a few
		// dozens of times.
		weights[i] = math.Min(math.Pow(1-rng.Float64(), -1/paretoAlpha), paretoCap)
	}
	p.normal = newAlias(weights)

	for k, events := range ivtEvents {
		if events == 0 {
			continue
		}
		kind := ivtKinds[k]
		for range ivtDevices(kind, events) {
			d := newIVTDevice(rng, kind)
			d.ivt = uint8(k + 1)
			d.key = userKey(&d)
			p.byIVT[k] = append(p.byIVT[k], len(p.devices))
			p.devices = append(p.devices, d)
		}
	}
	return p
}

// ivtDevices is how many devices carry events invalid events of a kind.
func ivtDevices(kind IVTKind, events int) int {
	per := map[IVTKind]int{
		IVTCrawler: 40, IVTDataCentre: 15, IVTFrequency: 150, IVTOrphanClick: 3,
		IVTRiskyDevice: 8, IVTPlaceholder: 5, IVTMacro: 20,
	}[kind]
	if per == 0 {
		return 0 // fast clicks ride on valid devices
	}
	return max(1, (events+per-1)/per)
}

func pick[T any](rng *rand.Rand, items []T, weight func(T) float64) int {
	var total float64
	for _, it := range items {
		total += weight(it)
	}
	r := rng.Float64() * total
	for i, it := range items {
		if r -= weight(it); r < 0 {
			return i
		}
	}
	return len(items) - 1
}

func newAndroid(rng *rand.Rand) device {
	d := device{class: classAndroid}
	d.brand = uint8(pick(rng, brands, func(b brand) float64 { return b.weight }))
	d.ver = uint8(pick(rng, androidVersions, func(v androidVersion) float64 { return v.weight }))
	b, v := &brands[d.brand], &androidVersions[d.ver]
	d.model = uint8(rng.IntN(len(b.models)))
	if rng.Float64() < b.msa {
		if rng.Float64() < shareLAT {
			d.flags |= flagOAIDZero
		} else {
			d.has |= 1 << admeter.IDOAID
		}
	}
	if v.api < 29 && rng.Float64() < shareIMEIPerm {
		d.has |= 1 << admeter.IDIMEI
	}
	d.has |= 1 << admeter.IDAndroidID
	if v.api >= 26 {
		d.flags |= flagPerApp
	}
	return d
}

func newIOS(rng *rand.Rand) device {
	d := device{class: classIOS}
	d.ver = uint8(pick(rng, iosVersions, func(v iosVersion) float64 { return v.weight }))
	d.model = uint8(rng.IntN(len(iphoneModels)))
	if rng.Float64() < shareATT {
		d.has |= 1 << admeter.IDIDFA
	}
	if rng.Float64() < shareCAID {
		d.has |= 1 << admeter.IDCAID
	}
	return d
}

func newHarmony(rng *rand.Rand) device {
	d := device{class: classHarmony, brand: 0} // Huawei
	if rng.Float64() < shareHarmonyO {
		d.has |= 1 << admeter.IDOAID
	}
	return d
}

func newWebDevice(rng *rand.Rand) device {
	d := device{class: classWeb}
	d.agent = uint8(pick(rng, webAgents, func(a webAgent) float64 { return a.weight }))
	if webAgents[d.agent].cookies {
		d.flags |= flagCookies
	}
	return d
}

// placeDevice gives d a province and two addresses there: home Wi-Fi and
// cellular.
func placeDevice(rng *rand.Rand, d *device) {
	d.prov = uint8(pick(rng, provinces, func(p province) float64 { return p.weight }))
	blocks := &provinces[d.prov].blocks
	host := func() [4]byte {
		b := blocks[rng.IntN(len(blocks))]
		return [4]byte{b[0], b[1], byte(rng.IntN(256)), byte(1 + rng.IntN(254))}
	}
	d.home, d.cell = host(), host()
}

func newIVTDevice(rng *rand.Rand, kind IVTKind) device {
	var d device
	switch kind {
	case IVTCrawler:
		d = device{class: classCrawler, agent: uint8(rng.IntN(len(crawlerAgents)))}
	case IVTMacro:
		d = newAndroid(rng)
		d.class, d.has = classMacro, 0
	case IVTPlaceholder:
		if rng.IntN(2) == 0 {
			d = newAndroid(rng)
		} else {
			d = newIOS(rng)
		}
		d.has, d.flags = 0, flagPlaceholders
	case IVTRiskyDevice:
		d = newAndroid(rng)
		d.has |= 1 << admeter.IDOAID
		d.flags = d.flags&^flagOAIDZero | flagForceSDK
		d.risk = 1 // rooted
		if rng.IntN(2) == 0 {
			d.risk = 2 | 8 // an emulator with adb on
			d.model = uint8(rng.IntN(len(emulatorModels)))
		}
	case IVTFrequency, IVTOrphanClick:
		if rng.Float64() < shareAndroid {
			d = newAndroid(rng)
			d.has |= 1 << admeter.IDOAID
			d.flags &^= flagOAIDZero
		} else {
			d = newIOS(rng)
			d.has |= 1 << admeter.IDIDFA
		}
	default: // IVTDataCentre: a device farm of fresh Android ids
		d = newAndroid(rng)
		d.has |= 1 << admeter.IDOAID
		d.flags &^= flagOAIDZero
	}
	placeDevice(rng, &d)
	if kind == IVTDataCentre {
		b := dataCentreBlocks[rng.IntN(len(dataCentreBlocks))]
		span := 1 << (32 - b.bits)
		off := rng.IntN(span-2) + 1
		base := uint32(b.a)<<24 | uint32(b.b)<<16
		ip := base + uint32(off)
		d.home = [4]byte{byte(ip >> 24), byte(ip >> 16), byte(ip >> 8), byte(ip)}
		d.cell = d.home
	}
	return d
}

// userKey returns the identifier type the collector will key d's events by:
// the highest-priority valid identifier it sends, admeter's cookie for a
// browser, or none.
func userKey(d *device) admeter.IDType {
	for t := admeter.IDOAID; t < admeter.IDCookie; t++ {
		if d.hasID(t) {
			return t
		}
	}
	if d.class == classWeb {
		return admeter.IDCookie
	}
	return admeter.IDNone
}

// ip returns the address an app event relays in ns.
func (d *device) ip(wifi bool) string {
	a := d.cell
	if wifi {
		a = d.home
	}
	b := make([]byte, 0, 15)
	for i, x := range a {
		if i > 0 {
			b = append(b, '.')
		}
		b = strconv.AppendUint(b, uint64(x), 10)
	}
	return string(b)
}

// alias is Vose's alias table: O(1) sampling from a discrete distribution.
type alias struct {
	prob  []float64
	alias []int32
}

func newAlias(w []float64) alias {
	n := len(w)
	a := alias{prob: make([]float64, n), alias: make([]int32, n)}
	if n == 0 {
		return a
	}
	var sum float64
	for _, x := range w {
		sum += x
	}
	scaled := make([]float64, n)
	var small, large []int32
	for i, x := range w {
		scaled[i] = x * float64(n) / sum
		if scaled[i] < 1 {
			small = append(small, int32(i))
		} else {
			large = append(large, int32(i))
		}
	}
	for len(small) > 0 && len(large) > 0 {
		s, l := small[len(small)-1], large[len(large)-1]
		small = small[:len(small)-1]
		a.prob[s], a.alias[s] = scaled[s], l
		scaled[l] += scaled[s] - 1
		if scaled[l] < 1 {
			large = large[:len(large)-1]
			small = append(small, l)
		}
	}
	for _, i := range large {
		a.prob[i] = 1
	}
	for _, i := range small {
		a.prob[i] = 1
	}
	return a
}

func (a *alias) sample(rng *rand.Rand) int {
	i := rng.IntN(len(a.prob))
	if rng.Float64() < a.prob[i] {
		return i
	}
	return int(a.alias[i])
}
