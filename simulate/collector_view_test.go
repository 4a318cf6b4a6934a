package simulate

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/collect/macro"
	"github.com/admeter/admeter/pseudo"
	"github.com/admeter/admeter/useragent"
)

// view is one event as the collector sees it: what it picks as the user,
// with every identifier value it was offered and its verdict.
type view struct {
	kind    admeter.Kind
	ids     pseudo.IDSet
	offered []offered
	relayed bool // ns / ip present: no cookie
	ua      useragent.Info
	cookie  bool // the collector would key it by its cookie
	hasTime bool
	vf      string
}

type offered struct {
	typ    admeter.IDType
	form   pseudo.Form
	value  string
	reason pseudo.Reason
}

func (v *view) add(t admeter.IDType, f pseudo.Form, value string) {
	if value == "" {
		return
	}
	v.offered = append(v.offered, offered{t, f, value, v.ids.Add(t, f, value)})
}

// collectorViews parses request i of p the way the collector does
// (collect/hit.go and batch.go) and returns one view per event.
func collectorViews(tb testing.TB, ua *useragent.Parser, r *Request) []view {
	tb.Helper()
	if r.Method == "POST" {
		var items []map[string]any
		if err := json.Unmarshal(r.Body, &items); err != nil {
			tb.Fatalf("batch body: %v", err)
		}
		out := make([]view, len(items))
		for i, it := range items {
			str := func(k string) string { s, _ := it[k].(string); return s }
			v := &out[i]
			switch {
			case str("type") == "click":
				v.kind = admeter.KindClick
			case str("type") == "served" || it["rendered"] == false:
				v.kind = admeter.KindServed
			default:
				v.kind = admeter.KindImpression
			}
			v.relayed = str("ip") != ""
			v.hasTime = it["ts"] != nil
			v.vf = str("impression_id")
			for _, f := range []struct {
				key  string
				typ  admeter.IDType
				form pseudo.Form
			}{
				{"oaid", admeter.IDOAID, pseudo.FormRaw}, {"oaid_md5", admeter.IDOAID, pseudo.FormMD5},
				{"idfa", admeter.IDIDFA, pseudo.FormRaw}, {"idfa_md5", admeter.IDIDFA, pseudo.FormMD5},
				{"imei", admeter.IDIMEI, pseudo.FormRaw}, {"imei_md5", admeter.IDIMEI, pseudo.FormMD5},
				{"android_id", admeter.IDAndroidID, pseudo.FormRaw}, {"android_id_md5", admeter.IDAndroidID, pseudo.FormMD5},
				{"caid", admeter.IDCAID, pseudo.FormMD5},
			} {
				v.add(f.typ, f.form, str(f.key))
			}
			for k := range it {
				switch k {
				case "type", "campaign", "placement", "ts", "rendered", "os", "os_version", "model", "app", "package",
					"network", "ip", "ua", "oaid", "oaid_md5", "idfa", "idfa_md5", "imei", "imei_md5",
					"android_id", "android_id_md5", "caid", "impression_id", "svl":
				default:
					tb.Fatalf("batch event has field %q, which the batch API refuses", k)
				}
			}
		}
		return out
	}
	ep, p, err := macro.ParseTarget(r.Target)
	if err != nil {
		tb.Fatalf("parse %s: %v", r.Target, err)
	}
	v := view{relayed: p.NS != "", ua: ua.Parse(r.UserAgent), hasTime: p.MT != "", vf: p.VF}
	switch {
	case ep == macro.EndpointClick:
		v.kind = admeter.KindClick
	case !macro.ParseRender(p.BR):
		v.kind = admeter.KindServed
	default:
		v.kind = admeter.KindImpression
	}
	v.add(admeter.IDOAID, pseudo.FormRaw, p.M11)
	v.add(admeter.IDOAID, pseudo.FormMD5, p.M11A)
	v.add(admeter.IDIDFA, pseudo.FormRaw, p.M5)
	v.add(admeter.IDIMEI, pseudo.FormMD5, p.M2)
	v.add(admeter.IDIMEI, pseudo.FormRaw, p.M3)
	v.add(admeter.IDAndroidID, pseudo.FormRaw, p.M1)
	v.add(admeter.IDAndroidID, pseudo.FormMD5, p.M1A)
	v.add(admeter.IDMAC, pseudo.FormMD5, p.M6A)
	v.add(admeter.IDMACColon, pseudo.FormMD5, p.M6)
	v.add(admeter.IDOpenUDID, pseudo.FormRaw, p.M0)
	v.add(admeter.IDIDFV, pseudo.FormRaw, p.M5A)
	v.add(admeter.IDCAID, pseudo.FormMD5, p.M14)
	if p.M4 != "" {
		tb.Fatalf("m4 (AAID) is filled in %s: Chinese Android devices have no Google services", r.Target)
	}
	if p.NS == "" && len(v.offered) == 0 {
		v.cookie = v.ua.Browser != "" && !v.ua.NonBrowser() && v.ua.DeviceType != admeter.DeviceBot
	}
	return []view{v}
}

// userIdentity is a user as the collector keys it.
type userIdentity struct {
	typ admeter.IDType
	can pseudo.Canonical
}

// TestCollectorAgrees parses every request of a plan as the collector
// would and checks that the generator's idea of each event (its kind, its
// user, whether it is anonymous) is what the collector will conclude, and
// that every identifier is valid unless it is meant to be a placeholder.
func TestCollectorAgrees(t *testing.T) {
	cfg := testConfig(t)
	cfg.Web = 0.2
	cfg.BatchFraction = 0.3
	g, err := NewGenerator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p, err := g.Plan(cfg.Start, cfg.End, cfg.Now)
	if err != nil {
		t.Fatal(err)
	}
	ua := useragent.New()
	byKey := map[uint64]userIdentity{}
	byID := map[userIdentity]uint64{}
	cookieUser := map[int32]uint64{}
	var seen [pseudo.ReasonMalformed + 1]int
	forms := map[admeter.IDType]map[pseudo.Form]bool{}
	for i := range p.Requests {
		r := &p.Requests[i]
		if r.OptOutAPI {
			continue // no event: TestAppOptOut checks these
		}
		views := collectorViews(t, ua, r)
		evs := p.eventsOf(i)
		if len(views) != len(evs) {
			t.Fatalf("request %d carries %d events, the plan says %d", i, len(views), len(evs))
		}
		for j, v := range views {
			ev := &evs[j]
			dev := &g.pop.devices[ev.dev]
			if v.kind != ev.kind {
				t.Fatalf("request %d event %d: collector sees a %s, plan says %s", i, j, v.kind, ev.kind)
			}
			if v.hasTime != (ev.mt != 0) {
				t.Fatalf("request %d: time sent %v, plan mt %d", i, v.hasTime, ev.mt)
			}
			if (v.vf != "") != (ev.vf != 0) {
				t.Fatalf("request %d: vf %q, plan vf %d", i, v.vf, ev.vf)
			}
			for _, o := range v.offered {
				seen[o.reason]++
				if forms[o.typ] == nil {
					forms[o.typ] = map[pseudo.Form]bool{}
				}
				forms[o.typ][o.form] = true
				switch o.reason {
				case pseudo.ReasonOK, pseudo.ReasonEmpty:
				case pseudo.ReasonPlaceholder:
					legit := o.typ == admeter.IDMAC || o.typ == admeter.IDMACColon ||
						o.typ == admeter.IDOAID && dev.flags&flagOAIDZero != 0
					if !legit && dev.flags&flagPlaceholders == 0 {
						t.Fatalf("request %d: %s %s value is a placeholder but the device is not meant to send one", i, o.typ, o.form)
					}
				default:
					t.Fatalf("request %d: %s %s value %q is %s", i, o.typ, o.form, o.value, o.reason)
				}
			}
			typ, can, ok := v.ids.Best()
			switch {
			case ok:
				if typ != dev.key {
					t.Fatalf("request %d: collector keys the user by %s, the device's key is %s", i, typ, dev.key)
				}
			case v.cookie:
				if dev.class != classWeb {
					t.Fatalf("request %d: collector would key class %d by a cookie", i, dev.class)
				}
				// A browser that keeps the cookie is one user; one that
				// refuses it is a new user on every request.
				if r.Cookies {
					if k, ok := cookieUser[ev.dev]; ok && k != ev.key {
						t.Fatalf("request %d: browser %d keeps its cookie but is two users", i, ev.dev)
					}
					cookieUser[ev.dev] = ev.key
				} else if _, ok := byKey[ev.key]; ok {
					t.Fatalf("request %d: browser %d refuses cookies but its user %x was seen before", i, ev.dev, ev.key)
				}
				typ, can = admeter.IDCookie, pseudo.Canonical{}
				// A cookie user is the device (or the request, for a
				// browser without cookies): identify it by the plan's key.
				can[0], can[1], can[2], can[3] = byte(ev.key>>56), byte(ev.key>>48), byte(ev.key>>40), byte(ev.key>>32)
				can[4], can[5], can[6], can[7] = byte(ev.key>>24), byte(ev.key>>16), byte(ev.key>>8), byte(ev.key)
			default:
				if ev.key != 0 {
					t.Fatalf("request %d (%s, class %d): collector sees no user, plan says user %x", i, r.Target, dev.class, ev.key)
				}
				continue
			}
			if ev.key == 0 {
				t.Fatalf("request %d: collector sees user type %s, plan says anonymous", i, typ)
			}
			id := userIdentity{typ, can}
			if prev, ok := byKey[ev.key]; ok && prev != id {
				t.Fatalf("request %d: plan user %x arrives as two collector users", i, ev.key)
			}
			if prev, ok := byID[id]; ok && prev != ev.key {
				t.Fatalf("request %d: plan users %x and %x are one collector user", i, prev, ev.key)
			}
			byKey[ev.key], byID[id] = id, ev.key
		}
	}
	if seen[pseudo.ReasonOK] == 0 || seen[pseudo.ReasonPlaceholder] == 0 {
		t.Errorf("identifier verdicts %v: want valid ones and (legitimate or injected) placeholders", seen)
	}
	for _, want := range []struct {
		typ  admeter.IDType
		form pseudo.Form
	}{
		{admeter.IDOAID, pseudo.FormRaw}, {admeter.IDOAID, pseudo.FormMD5}, {admeter.IDIDFA, pseudo.FormRaw},
		{admeter.IDIDFA, pseudo.FormMD5}, {admeter.IDIMEI, pseudo.FormMD5}, {admeter.IDIMEI, pseudo.FormRaw},
		{admeter.IDAndroidID, pseudo.FormMD5}, {admeter.IDAndroidID, pseudo.FormRaw}, {admeter.IDCAID, pseudo.FormMD5},
	} {
		if !forms[want.typ][want.form] {
			t.Errorf("no %s identifier in %s form: media should send both forms", want.typ, want.form)
		}
	}
}

// TestIdentifierFormats checks each generator against pseudo.Canonicalize:
// valid, and the raw and MD5 forms name the same device.
func TestIdentifierFormats(t *testing.T) {
	for i := range 2000 {
		b := newBits(7, int32(i), 1)
		check := func(typ admeter.IDType, raw, md5 string) {
			t.Helper()
			c1, r1 := pseudo.Canonicalize(typ, pseudo.FormRaw, raw)
			c2, r2 := pseudo.Canonicalize(typ, pseudo.FormMD5, md5)
			if r1 != pseudo.ReasonOK || r2 != pseudo.ReasonOK || c1 != c2 {
				t.Fatalf("%s %q: raw %s, md5 %s, same device %v", typ, raw, r1, r2, c1 == c2)
			}
		}
		for _, s := range []oaidShape{oaidUUID, oaidHex16, oaidHex64, oaidHex64U} {
			v := b.oaid(s)
			check(admeter.IDOAID, v, oaidMD5(v))
		}
		idfa := b.uuid(hexUpper)
		check(admeter.IDIDFA, idfa, idfaMD5(idfa))
		check(admeter.IDIDFA, strings.ToLower(idfa), idfaMD5(idfa))
		imei := b.imei()
		check(admeter.IDIMEI, imei, imeiMD5(imei))
		aid := b.hexID(16, hexLower)
		check(admeter.IDAndroidID, aid, androidIDMD5(aid))
		caid := string(b.appendHex(nil, 32, hexLower))
		if _, r := pseudo.Canonicalize(admeter.IDCAID, pseudo.FormMD5, caid); r != pseudo.ReasonOK {
			t.Fatalf("caid %q: %s", caid, r)
		}
	}
	for _, s := range []oaidShape{oaidUUID, oaidHex16, oaidHex64, oaidHex64U} {
		if _, r := pseudo.Canonicalize(admeter.IDOAID, pseudo.FormRaw, zeroOAID(s)); r != pseudo.ReasonPlaceholder {
			t.Errorf("zero OAID %q: %s, want placeholder", zeroOAID(s), r)
		}
	}
	for _, v := range []struct {
		typ  admeter.IDType
		form pseudo.Form
		val  string
	}{
		{admeter.IDOAID, pseudo.FormMD5, md5Hex("OAID")},
		{admeter.IDIMEI, pseudo.FormMD5, imeiMD5(zeroIMEI)},
		{admeter.IDIDFA, pseudo.FormRaw, zeroUUID},
		{admeter.IDMAC, pseudo.FormMD5, md5Hex(placeholderMAC)},
		{admeter.IDMACColon, pseudo.FormMD5, md5Hex(placeholderMACColon)},
	} {
		if _, r := pseudo.Canonicalize(v.typ, v.form, v.val); r != pseudo.ReasonPlaceholder {
			t.Errorf("%s %s %q: %s, want placeholder", v.typ, v.form, v.val, r)
		}
	}
}

func TestLuhn(t *testing.T) {
	// An IMEI from Tencent's documentation (mma-protocol.md §3).
	if got := luhn([]byte("86804903950125")); got != '7' {
		t.Fatalf("luhn = %c, want 7", got)
	}
}

func TestEscapedSVL(t *testing.T) {
	for risk := range uint8(16) {
		if got, want := string(appendEscapedSVL(nil, risk)), escape(svl(risk)); got != want {
			t.Errorf("risk %d: %s, want %s", risk, got, want)
		}
	}
}
