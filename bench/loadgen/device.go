package main

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// The synthetic device population. bench/collector.lua derives the same
// devices with the same arithmetic (32-bit xorshift), so wrk and loadgen send
// the same identifiers for device d; keep the two in step.

// xorshift32 is Marsaglia's 32-bit xorshift step: a bijection on the non-zero
// uint32 values, cheap to compute in LuaJIT's 32-bit bit library too.
func xorshift32(x uint32) uint32 {
	x ^= x << 13
	x ^= x >> 17
	x ^= x << 5
	return x
}

// deviceWords returns n pseudo-random words for device d (d ≥ 1).
func deviceWords(d uint32, n int) []uint32 {
	w := make([]uint32, n)
	x := d ^ 0x9e3779b9
	if x == 0 {
		x = 1
	}
	for i := range w {
		x = xorshift32(x)
		w[i] = x
	}
	return w
}

// ipPrefixes are /16s of Chinese consumer ISPs, so that the collector's IP →
// region lookup does real work. These addresses only appear inside URLs as
// the relayed client address (ns=); no traffic is ever sent to them.
var ipPrefixes = []string{
	"36.110", "113.108", "117.136", "58.246", "222.73", "183.14", "101.86", "120.229",
	"223.104", "112.96", "125.118", "59.172", "218.30", "111.19", "221.6", "60.12",
}

// models are Android devices with their OS version and build id.
var models = []struct{ model, os, build string }{
	{"V2145A", "12", "SP1A.210812.003"},
	{"PGEM10", "13", "TP1A.220905.001"},
	{"M2012K11AC", "12", "SKQ1.211006.001"},
	{"ELS-AN00", "10", "HUAWEIELS-AN00"},
	{"SM-G9910", "13", "TP1A.220624.014"},
	{"22081212C", "13", "TKQ1.220829.002"},
	{"NOH-AL00", "10", "HUAWEINOH-AL00"},
	{"RMX3370", "12", "RKQ1.211119.001"},
}

// device is one synthetic Android device.
type device struct {
	oaid    string // raw OAID (m11), UUID form as MSA returns it
	imeiMD5 string // md5 of the IMEI (m2), "" for the 90% of devices without one
	ip      string // relayed client address (ns)
	model   string // md
	osv     string // me
	ua      string // User-Agent of the app's HTTP client
}

// deviceOf returns device d of the population (1-based).
func deviceOf(d uint32) device {
	w := deviceWords(d, 9)
	m := models[(w[3]&0x7fffffff)%uint32(len(models))]
	dev := device{
		oaid: fmt.Sprintf("%08x-%04x-%04x-%04x-%04x%08x",
			w[0], w[1]>>16, w[1]&0xffff, w[2]>>16, w[2]&0xffff, w[3]),
		ip: fmt.Sprintf("%s.%d.%d", ipPrefixes[(w[4]&0x7fffffff)%uint32(len(ipPrefixes))],
			(w[5]>>8)&0xff, 1+(w[5]&0xff)%254),
		model: m.model,
		osv:   m.os,
		ua:    "Dalvik/2.1.0 (Linux; U; Android " + m.os + "; " + m.model + " Build/" + m.build + ")",
	}
	if d%10 == 0 {
		dev.imeiMD5 = fmt.Sprintf("%08x%08x%08x%08x", w[5], w[6], w[7], w[8])
	}
	return dev
}

// urlGen makes impression monitoring URLs in the Miaozhen form an Android
// SDK sends: 26 parameters, most identifier macros replaced by nothing, the
// raw OAID always and the IMEI md5 for one device in ten, the current time
// in mt, and a fresh request id, impression id and signature each time.
type urlGen struct {
	k, p    string
	devices uint32
	rng     *rand.Rand
	sb      strings.Builder
}

func newURLGen(k, p string, devices uint32, seed uint64) *urlGen {
	return &urlGen{k: k, p: p, devices: devices, rng: rand.New(rand.NewPCG(seed, 0x5eed))}
}

// next returns the request target (path and parameters) for a random device
// of the population, and that device's User-Agent.
func (g *urlGen) next(now time.Time) (target, ua string) {
	dev := deviceOf(1 + g.rng.Uint32N(g.devices))
	b := &g.sb
	b.Reset()
	b.WriteString("/x/k=")
	b.WriteString(g.k)
	b.WriteString("&p=")
	b.WriteString(g.p)
	b.WriteString("&mo=0&ns=")
	b.WriteString(dev.ip)
	b.WriteString("&m0=&m1a=&m2=")
	b.WriteString(dev.imeiMD5)
	b.WriteString("&m4=&m5=&m6=&m6a=&m11=")
	b.WriteString(dev.oaid)
	b.WriteString("&m11a=&m14=&tr=")
	b.WriteString(strconv.FormatInt(now.UnixMilli(), 10))
	b.WriteString("q")
	b.WriteString(strconv.FormatUint(uint64(g.rng.Uint32()), 10))
	b.WriteString("&mt=")
	b.WriteString(strconv.FormatInt(now.Unix(), 10))
	// 今日头条, URL-encoded as the SDK sends it.
	b.WriteString("&mn=%E4%BB%8A%E6%97%A5%E5%A4%B4%E6%9D%A1&mp=com.ss.android.article.news&md=")
	b.WriteString(dev.model)
	b.WriteString("&me=")
	b.WriteString(dev.osv)
	b.WriteString("&mw=1&mh=1080x2400&mv=V2.2.5&br=1&vf=")
	fmt.Fprintf(b, "%08x%08x", g.rng.Uint32(), g.rng.Uint32())
	b.WriteString("&mf=")
	fmt.Fprintf(b, "%08x%08x%08x%08x", g.rng.Uint32(), g.rng.Uint32(), g.rng.Uint32(), g.rng.Uint32())
	return b.String(), dev.ua
}
