package main

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/admeter/admeter"
)

// TestNoRawValuesOnDisk is privacy invariant 1: it feeds known raw device
// identifiers, IP addresses, user agents and locations through the real
// binary (pixels, clicks, the batch API, conversions, bad requests), stops it, and searches
// every file under the data directory and everything the process logged for
// them, in text, hex and binary forms. There must be no hit.
func TestNoRawValuesOnDisk(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	pixelPort := freePort(t)
	pixelBase := fmt.Sprintf("http://127.0.0.1:%d", pixelPort)
	p := startBinary(t, dataDir, "--log-level", "debug", "--trusted-proxies", "127.0.0.1/32", "--social-preload",
		"--pixel-addr", fmt.Sprintf("127.0.0.1:%d", pixelPort))
	tok, c := setupCampaign(t, p.base, dataDir, 1)
	pl := c.Placements[0].ID

	const (
		oaid      = "a1b2c3d4-e5f6-4711-8899-aabbccddeeff"
		idfa      = "6D92078A-8246-4BA4-AE5B-76104861E7DC"
		idfv      = "0B1C2D3E-4F50-6172-8394-A5B6C7D8E9F0"
		imei      = "868049039501257"
		androidID = "9f8e7d6c5b4a3921"
		openUDID  = "0123456789abcdef0123456789abcdef01234567"
		ipv4      = "202.96.128.86"
		ipv6      = "2408:8756:c52:1b0:15a1:4b1d:9c2e:7f31"
		xffIP     = "61.135.169.121"
		uaCanary  = "Mozilla/5.0 (Linux; Android 14; PRIVCANARY-X9) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.6723.58 Mobile Safari/537.36 CanaryApp/7.7.7"
		lat, lon  = "39.904211", "116.407395"
		vf        = "f00dfeedcafe4242"
		cookieID  = "Zm9vYmFyYmF6cXV4cXV1eA"
	)
	macLower := "a4:5e:60:c2:1b:9d"
	macNoColonMD5 := md5hex(strings.ToUpper(strings.ReplaceAll(macLower, ":", "")))
	macColonMD5 := md5hex(strings.ToUpper(macLower))

	send := func(method, url, body string, hdr map[string]string) {
		req, _ := http.NewRequest(method, url, strings.NewReader(body))
		req.Header.Set("User-Agent", uaCanary)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	mt := fmt.Sprint(time.Now().Unix())
	base := p.base
	send("GET", fmt.Sprintf("%s/x/k=%s&p=%s&mo=0&m11=%s&m3=%s&m1=%s&m6a=%s&m6=%s&ns=%s&mm=%sx%sx20&vf=%s&mt=%s&md=SM-G9910",
		base, c.ID, pl, oaid, imei, androidID, macNoColonMD5, macColonMD5, ipv4, lat, lon, vf, mt), "", nil)
	send("GET", fmt.Sprintf("%s/x?k=%s&p=%s&mo=1&m5=%s&m5a=%s&m0=%s&ns=%s", base, c.ID, pl, idfa, idfv, openUDID, ipv6), "", nil)
	send("GET", fmt.Sprintf("%s/r/k=%s&p=%s&m2=%s&m11a=%s&o=https://m.shop.example.com/?x=1", base, c.ID, pl, md5hex(imei), md5hex(oaid)), "",
		map[string]string{"X-Forwarded-For": xffIP})
	send("GET", fmt.Sprintf("%s/x/k=%s&p=%s", base, c.ID, pl), "", map[string]string{"Cookie": "admeter_uid=" + cookieID})
	send("POST", base+"/v1/events", fmt.Sprintf(`[{"campaign":%q,"placement":%q,"oaid":%q,"idfa":%q,"imei":%q,"android_id":%q,"ip":%q,"ua":%q,"location":"%s,%s","impression_id":%q}]`,
		c.ID, pl, oaid, idfa, imei, androidID, ipv4, uaCanary, lat, lon, vf), nil)
	// The same through the fasthttp listener, and requests it cannot read.
	send("GET", fmt.Sprintf("%s/x/k=%s&p=%s&mo=0&m11=%s&m3=%s&m1=%s&ns=%s&mm=%sx%sx20&vf=%s-fast",
		pixelBase, c.ID, pl, oaid, imei, androidID, ipv4, lat, lon, vf), "", map[string]string{"Cookie": "admeter_uid=" + cookieID})
	send("GET", fmt.Sprintf("%s/r/k=%s&p=%s&m5=%s&o=https://m.shop.example.com/", pixelBase, c.ID, pl, idfa), "", map[string]string{"X-Forwarded-For": xffIP})
	for _, raw := range []string{
		fmt.Sprintf("GET /x/k=%s&p=%s&m11=%s&pad=%s HTTP/1.1\r\nHost: t\r\nUser-Agent: %s\r\nConnection: close\r\n\r\n", c.ID, pl, oaid, strings.Repeat("a", 20<<10), uaCanary),
		fmt.Sprintf("GET /x/k=%s&p=%s&m3=%s HTTP/1.1\r\nHost: t\r\nContent-Length: -%s\r\nConnection: close\r\n\r\n", c.ID, pl, imei, imei),
		fmt.Sprintf("GET /x/k=%s&p=%s&m11=%s HTTP/1.1\r\nHost: t\r\nX-Forwarded-For: %s\r\n\x00bad\r\n\r\n", c.ID, pl, oaid, xffIP),
	} {
		conn, err := net.Dial("tcp", strings.TrimPrefix(pixelBase, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
		_, _ = io.WriteString(conn, raw)
		_, _ = io.Copy(io.Discard, conn)
		conn.Close()
	}
	// Bad requests that make the server log and reject.
	send("GET", fmt.Sprintf("%s/x/k=99&p=zz&m11=%s&ns=%s", base, oaid, ipv4), "", nil)
	send("POST", base+"/v1/events", fmt.Sprintf(`[{"campaign":"99","placement":"zz","oaid":%q,"ip":%q,"bogus":%q}]`, oaid, ipv4, imei), nil)
	send("POST", base+"/v1/events", fmt.Sprintf(`{"oaid":%q`, oaid), nil)
	// Conversions: device ids, a click id and the advertiser's order id
	// arrive raw; a batch with a raw phone number is refused whole.
	const (
		clickID = "c0ffee00c0ffee00c0ffee00c0ffee00"
		orderID = "ORDER-PRIVCANARY-20261205"
		phone   = "13912345678"
	)
	conv := map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "application/json", "X-Admeter-Consent-Ref": "consent-1"}
	send("POST", base+"/api/v1/conversions", fmt.Sprintf(`[{"conversion_id":%q,"type":"order","value":"99.5","oaid":%q,"idfa":%q,"imei_md5":%q,"click_id":%q}]`,
		orderID, oaid, idfa, md5hex(imei), clickID), conv)
	send("POST", base+"/api/v1/conversions", fmt.Sprintf(`[{"conversion_id":%q,"type":"order","oaid":%q},{"conversion_id":"x2","type":"order","oaid":%q}]`,
		orderID+"-2", oaid, phone), conv)
	// Social records: the author's handle, the partner's post id, and
	// another person's handle and phone number in the text arrive raw.
	const (
		socialHandle = "PrivCanaryWeiboUser"
		socialPostID = "POSTCANARY4711"
		mentioned    = "MentionCanary"
		socialPhone  = "13711112222"
	)
	waitSocialReady(t, base)
	send("POST", base+"/api/v1/social/posts", fmt.Sprintf(`[{"source":"weibo","id":%q,"time":%q,"author":%q,"text":"华为真好 //@%s: 打 %s"}]`,
		socialPostID, time.Now().UTC().Format(time.RFC3339), socialHandle, mentioned, socialPhone),
		map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "application/json"})
	send("POST", base+"/api/v1/social/posts", "source,id,time,author,text\nweibo,x,yesterday,"+socialHandle+",bad time\n",
		map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "text/csv"})
	send("GET", base+"/metrics", "", nil)

	// End-user rights: opt-outs by raw id and by browser, status queries, and
	// access requests whose copies are written to disk.
	const (
		optIDFA = "11111111-2222-4333-8444-555555555555"
		optIMEI = "352099001761481"
	)
	send("POST", base+"/api/v1/optout", fmt.Sprintf(`{"id_type":"idfa","id":%q}`, optIDFA), map[string]string{"Content-Type": "application/json"})
	send("POST", base+"/api/v1/optout", fmt.Sprintf(`{"id_type":"imei","id":%q}`, optIMEI), map[string]string{"Content-Type": "application/json"})
	send("POST", base+"/api/v1/optout", `{"id_type":"imei","id":"bogus-`+optIMEI+`"}`, map[string]string{"Content-Type": "application/json"})
	send("GET", base+"/api/v1/optout/status?id_type=imei&id="+optIMEI, "", nil)
	send("POST", base+"/optout", "action=device&id_type=oaid&id="+oaid, map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": base})
	day := time.Now().In(shanghai()).Format(time.DateOnly)
	var rep struct{ Total struct{ Impressions int64 } }
	for deadline := time.Now().Add(5 * time.Second); rep.Total.Impressions < 3 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		apiCall(t, "GET", fmt.Sprintf("%s/api/v1/campaigns/%s/report?from=%s&to=%s", base, c.ID, day, day), tok, nil, &rep)
	}
	var accIMEI, accIDFA rightsRequest
	apiCall(t, "POST", base+"/api/v1/requests", tok, map[string]any{"type": "access", "ids": []map[string]string{{"id_type": "imei", "id": imei}, {"id_type": "oaid", "id": oaid}}, "note": "ticket 1"}, &accIMEI)
	apiCall(t, "POST", base+"/api/v1/requests", tok, map[string]any{"type": "access", "id_type": "idfa", "id": md5hex(idfa)}, &accIDFA)
	apiCall(t, "POST", base+"/api/v1/requests", tok, map[string]any{"type": "optout", "id_type": "android_id", "id": androidID, "minor": true}, nil)
	apiCall(t, "POST", base+"/api/v1/requests", tok, map[string]any{"type": "access", "id_type": "openudid", "id": openUDID, "note": "about " + openUDID}, nil) // refused
	var accSocial rightsRequest
	apiCall(t, "POST", base+"/api/v1/requests", tok, map[string]any{"type": "access", "id_type": "social", "id": "weibo:" + socialHandle}, &accSocial)
	waitRequest(t, base, tok, accSocial.ID)
	if b, err := os.ReadFile(filepath.Join(dataDir, "exports", accSocial.ID+".json")); err != nil || !bytes.Contains(b, []byte("华为真好")) {
		t.Fatalf("the access copy by social handle lacks the post (%v); the scan would not look at a real copy", err)
	}
	if r := waitRequest(t, base, tok, accIMEI.ID); r.Outcome.Events < 1 {
		t.Fatalf("access copy for the IMEI holds %d events; the scan would not look at a real copy", r.Outcome.Events)
	}
	waitRequest(t, base, tok, accIDFA.ID)
	p.stop(t)

	// Everything the system wrote: the data directory and the process output.
	files := map[string][]byte{"process output": p.out.Bytes()}
	err := filepath.WalkDir(dataDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		files[path] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"optout.reg", "audit.pub", filepath.Join("exports", accIMEI.ID+".json"), "meta.db"} {
		if _, ok := files[filepath.Join(dataDir, want)]; !ok {
			t.Errorf("no %s written; the scan would miss it", want)
		}
	}
	if len(files) < 4 {
		t.Fatalf("only %d files written; the test is not looking at the real data", len(files))
	}

	needles := map[string][]byte{}
	addText := func(name, v string) {
		needles[name] = []byte(v)
		needles[name+" (lower)"] = []byte(strings.ToLower(v))
		needles[name+" (upper)"] = []byte(strings.ToUpper(v))
	}
	addMD5 := func(name, raw string) {
		sum := md5.Sum([]byte(raw))
		addText(name+" md5", hex.EncodeToString(sum[:]))
		needles[name+" md5 (binary)"] = sum[:]
	}
	for name, v := range map[string]string{"oaid": oaid, "idfa": idfa, "idfv": idfv, "imei": imei, "android id": androidID,
		"openudid": openUDID, "ipv4": ipv4, "ipv6": ipv6, "x-forwarded-for ip": xffIP, "user agent": uaCanary, "ua canary": "PRIVCANARY",
		"latitude": lat, "longitude": lon, "impression id": vf, "cookie id": cookieID, "mac": macLower,
		"opted-out idfa": optIDFA, "opted-out imei": optIMEI, "click id": clickID, "order id": orderID, "phone": phone,
		"social handle": socialHandle, "social post id": socialPostID, "mentioned handle": mentioned, "phone in a post": socialPhone} {
		addText(name, v)
	}
	for name, raw := range map[string]string{"oaid": oaid, "idfa": idfa, "imei": imei, "android id": androidID, "openudid": openUDID,
		"idfv": idfv, "impression id": vf, "opted-out idfa": optIDFA, "opted-out imei": optIMEI} {
		addMD5(name, raw)
	}
	addText("mac m6a md5", macNoColonMD5)
	addText("mac m6 md5", macColonMD5)
	ip4 := netip.MustParseAddr(ipv4).As4()
	needles["ipv4 (binary)"] = ip4[:]
	ip6 := netip.MustParseAddr(ipv6).As16()
	needles["ipv6 (binary, first 8 bytes)"] = ip6[:8]
	xff := netip.MustParseAddr(xffIP).As4()
	needles["x-forwarded-for ip (binary)"] = xff[:]

	for path, b := range files {
		for name, n := range needles {
			if i := bytes.Index(b, n); i >= 0 {
				t.Errorf("%s holds the raw %s at byte %d", path, name, i)
			}
		}
	}

	// And the events really were stored, de-identified.
	events := readLog(t, dataDir)
	if len(events) != 7 {
		t.Fatalf("log has %d events, want 7 (the batch impression repeats the first one's vf; the conversion batch with a phone number is refused)", len(events))
	}
	if events[4].Net.String() != "202.96.128.0/24" || events[5].Net.String() != "61.135.169.0/24" {
		t.Errorf("events through --pixel-addr: nets %s and %s", events[4].Net, events[5].Net)
	}
	if c := events[6]; c.Kind != admeter.KindConversion || c.ConversionID.IsZero() || c.ClickID.IsZero() || c.User.IsZero() {
		t.Errorf("conversion not stored de-identified: %+v", c)
	}
	if events[0].Net.String() != "202.96.128.0/24" || events[0].Area.String() != "39.90,116.41" || events[0].Region.Province == "" {
		t.Errorf("first event place: net %s area %s region %+v", events[0].Net, events[0].Area, events[0].Region)
	}
	if events[1].Net.String() != "2408:8756:c52::/48" {
		t.Errorf("IPv6 not truncated to /48: %s", events[1].Net)
	}
	if events[2].Net.String() != "61.135.169.0/24" {
		t.Errorf("X-Forwarded-For from a trusted proxy not used: %s", events[2].Net)
	}
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}
