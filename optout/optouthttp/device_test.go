package optouthttp_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/optout/optouthttp"
	"github.com/admeter/admeter/pseudo"
)

// idCase is a device identifier as a person might type it, and the MMA
// canonical string whose MD5 SDKs send for it.
type idCase struct {
	typ   admeter.IDType
	raw   string
	canon string
}

var idCases = []idCase{
	{admeter.IDOAID, "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9", "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"},
	{admeter.IDOAID, "fb7f8ec2-1c3d-4f2e-bb9a-3e6c0d5a7b21", "fb7f8ec2-1c3d-4f2e-bb9a-3e6c0d5a7b21"},
	{admeter.IDIDFA, "6d92078a-8246-4ba4-ae5b-76104861e7dc", "6D92078A-8246-4BA4-AE5B-76104861E7DC"},
	{admeter.IDIMEI, "864120035761243", "864120035761243"},
	{admeter.IDIMEI, "A10000009296F2", "a10000009296f2"}, // a MEID
	{admeter.IDAndroidID, " 3F8A2C9D1E7B4A60 ", "3f8a2c9d1e7b4a60"},
	{admeter.IDAAID, "CDDA802E-FB9C-47AD-9866-0794D394C912", "cdda802e-fb9c-47ad-9866-0794d394c912"},
	{admeter.IDIDFV, "5b8e2a1c-9d4f-4e7a-8c3b-2f1d0e9a7b65", "5B8E2A1C-9D4F-4E7A-8C3B-2F1D0E9A7B65"},
	{admeter.IDOpenUDID, "0d9c4e7a1b2f3e8d5c6a7b9e0f1d2c3b4a5e6f71", "0d9c4e7a1b2f3e8d5c6a7b9e0f1d2c3b4a5e6f71"},
}

// TestDeviceOptOutMatchesCollector opts out each identifier raw through the
// page and checks that the registry holds exactly the pseudonym the collector
// computes, then sends its MD5 through the API and checks that it names the
// same entry (privacy invariant 2).
func TestDeviceOptOutMatchesCollector(t *testing.T) {
	for _, tc := range idCases {
		t.Run(tc.typ.String()+"_"+strings.TrimSpace(tc.raw)[:6], func(t *testing.T) {
			e := newEnv(t, nil)
			want := collectorPseudonym(t, e.ps, tc.typ, pseudo.FormRaw, tc.raw)
			sum := md5Hex(tc.canon)
			if fromMD5 := collectorPseudonym(t, e.ps, tc.typ, pseudo.FormMD5, sum); fromMD5 != want {
				t.Fatalf("test data: the MD5 of %q is not the collector's MD5 form of %q", tc.canon, tc.raw)
			}
			if e.reg.Contains(want) {
				t.Fatal("opted out before the test")
			}

			// The page form, raw.
			rec := e.postForm(url.Values{"action": {"device"}, "id_type": {tc.typ.String()}, "id": {tc.raw}, "lang": {"en"}})
			if rec.Code != http.StatusSeeOther {
				t.Fatalf("page POST: status %d: %s", rec.Code, rec.Body)
			}
			if got, want := rec.Header().Get("Location"), "/optout?done=device&id_type="+tc.typ.String()+"&lang=en"; got != want {
				t.Errorf("Location = %q, want %q", got, want)
			}
			if c := rec.Header().Values("Set-Cookie"); len(c) != 0 {
				t.Errorf("a device opt-out set cookies: %q", c)
			}
			if !e.reg.Contains(want) {
				t.Fatal("the registry does not hold the collector's pseudonym after the raw opt-out")
			}
			if e.reg.Len() != 1 {
				t.Errorf("%d entries after one raw opt-out, want 1", e.reg.Len())
			}
			if got := e.counter("page", "device", "ok"); got != 1 {
				t.Errorf("page/device/ok = %v", got)
			}
			e.noLeak(rec, tc.raw, tc.canon, sum)

			// The API, the MD5 in upper case, the form left to the server.
			rec = e.postJSON("/api/v1/optout", `{"id_type":"`+tc.typ.String()+`","id":"`+strings.ToUpper(sum)+`"}`)
			if rec.Code != http.StatusOK {
				t.Fatalf("API: status %d: %s", rec.Code, rec.Body)
			}
			var got struct {
				OptedOut bool   `json:"opted_out"`
				IDType   string `json:"id_type"`
				Added    bool   `json:"added"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if !got.OptedOut || got.IDType != tc.typ.String() {
				t.Errorf("API answer %s", rec.Body)
			}
			// 32 hex digits can be a raw OAID too, so for an OAID both
			// readings are opted out; for every other type the MD5 names
			// the entry the raw opt-out made.
			if tc.typ != admeter.IDOAID && (got.Added || e.reg.Len() != 1) {
				t.Errorf("the MD5 made a new entry (added=%v, %d entries): raw and MD5 disagree", got.Added, e.reg.Len())
			}
			e.noLeak(rec, tc.raw, tc.canon, sum)

			// With form md5 it was already there.
			rec = e.postJSON("/api/v1/optout", `{"id_type":"`+tc.typ.String()+`","id":"`+sum+`","form":"md5"}`)
			if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"added":false`) {
				t.Errorf("API form=md5: %d %s, want 200 with added:false", rec.Code, rec.Body)
			}
			if got := e.counter("api", "device", "ok"); got != 2 {
				t.Errorf("api/device/ok = %v", got)
			}
		})
	}
}

func TestDeviceOptOutAmbiguous(t *testing.T) {
	t.Run("32 hex digits as an OAID opt out both readings", func(t *testing.T) {
		e := newEnv(t, nil)
		v := "0123456789abcdef0123456789abcdef"
		rec := e.postJSON("/api/v1/optout", `{"id_type":"oaid","id":"`+v+`"}`)
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		for _, f := range []pseudo.Form{pseudo.FormRaw, pseudo.FormMD5} {
			if !e.reg.Contains(collectorPseudonym(t, e.ps, admeter.IDOAID, f, v)) {
				t.Errorf("the %s reading is not opted out", f)
			}
		}
		if e.reg.Len() != 2 {
			t.Errorf("%d entries, want 2", e.reg.Len())
		}
		// With the form given, only that reading.
		e2 := newEnv(t, nil)
		e2.postJSON("/api/v1/optout", `{"id_type":"oaid","id":"`+v+`","form":"raw"}`)
		if e2.reg.Len() != 1 || !e2.reg.Contains(collectorPseudonym(t, e2.ps, admeter.IDOAID, pseudo.FormRaw, v)) {
			t.Errorf("form=raw: %d entries, want the raw reading only", e2.reg.Len())
		}
	})
	t.Run("a raw MAC opts out both MAC forms", func(t *testing.T) {
		e := newEnv(t, nil)
		rec := e.postForm(url.Values{"action": {"device"}, "id_type": {"mac"}, "id": {"ac-de-48-00-11-22"}})
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		bare := collectorPseudonym(t, e.ps, admeter.IDMAC, pseudo.FormMD5, md5Hex("ACDE48001122"))
		colon := collectorPseudonym(t, e.ps, admeter.IDMACColon, pseudo.FormMD5, md5Hex("AC:DE:48:00:11:22"))
		if !e.reg.Contains(bare) || !e.reg.Contains(colon) || e.reg.Len() != 2 {
			t.Errorf("bare %v, colon %v, %d entries; want both and 2", e.reg.Contains(bare), e.reg.Contains(colon), e.reg.Len())
		}
	})
	t.Run("a CAID raw and as MD5 is one entry", func(t *testing.T) {
		e := newEnv(t, nil)
		v := "9f86d081884c7d659a2feaa0c55ad015"
		for _, form := range []string{"", "raw", "md5"} {
			rec := e.postJSON("/api/v1/optout", `{"id_type":"caid","id":"`+v+`","form":"`+form+`"}`)
			if rec.Code != http.StatusOK {
				t.Fatalf("form %q: status %d: %s", form, rec.Code, rec.Body)
			}
		}
		if e.reg.Len() != 1 || !e.reg.Contains(collectorPseudonym(t, e.ps, admeter.IDCAID, pseudo.FormMD5, v)) {
			t.Errorf("%d entries, want the collector's one", e.reg.Len())
		}
	})
}

// TestRawIDNeverEchoed sends one identifier through every route, accepted
// and refused, and checks that no answer and no log line carries it, in any
// case, without its dashes or as its MD5.
func TestRawIDNeverEchoed(t *testing.T) {
	const raw = "E3B0C442-98FC-4C14-9AFB-F4C8996FB924"
	sum := md5Hex(raw)
	secrets := []string{raw, strings.ReplaceAll(raw, "-", ""), sum}
	e := newEnv(t, func(c *optouthttp.Config) { c.RatePerMinute, c.Burst = 60, 6 })
	recs := []*httptest.ResponseRecorder{
		e.postForm(url.Values{"action": {"device"}, "id_type": {"idfa"}, "id": {raw}}),
		e.postForm(url.Values{"action": {"device"}, "id_type": {"imei"}, "id": {raw}}),
		e.postForm(url.Values{"action": {"device"}, "id_type": {raw}, "id": {raw}}),
		e.postJSON("/api/v1/optout", `{"id_type":"idfa","id":"`+sum+`"}`),
		e.postJSON("/api/v1/optout", `{"id_type":"android_id","id":"`+raw+`"}`),
		e.postJSON("/api/v1/optout", `{"id_type":"idfa","id":"`+raw+`","`+raw+`":"`+sum+`"}`),
		e.do(httptest.NewRequest(http.MethodGet, "/api/v1/optout/status?id_type=idfa&id="+raw, nil)), // limited
		e.do(httptest.NewRequest(http.MethodGet, "/optout?done=device&id_type="+raw, nil)),
	}
	if !e.reg.Contains(collectorPseudonym(t, e.ps, admeter.IDIDFA, pseudo.FormRaw, raw)) {
		t.Fatal("the IDFA was not opted out")
	}
	wantCodes := []int{303, 400, 400, 200, 400, 400, 429, 200}
	for i, rec := range recs {
		if rec.Code != wantCodes[i] {
			t.Errorf("request %d: status %d, want %d", i, rec.Code, wantCodes[i])
		}
		e.noLeak(rec, secrets...)
	}
}

// TestSocialAccountOptOut opts a social account out through the page and
// the API and checks that the registry holds the pseudonym the social
// service asks about when a post of that author arrives.
func TestSocialAccountOptOut(t *testing.T) {
	e := newEnv(t, nil)
	c, r := pseudo.CanonicalHandle("weibo", "fan_abc")
	if r != pseudo.ReasonOK {
		t.Fatal(r)
	}
	want := e.ps.Pseudonym(admeter.IDSocial, c)
	rec := e.postForm(url.Values{"action": {"device"}, "id_type": {"social"}, "id": {"weibo:@Fan_ABC"}, "lang": {"zh"}})
	if rec.Code != http.StatusSeeOther || !e.reg.Contains(want) {
		t.Fatalf("page POST: status %d, registry holds the account: %v", rec.Code, e.reg.Contains(want))
	}
	e.noLeak(rec, "fan_abc", "Fan_ABC")
	rec = e.postJSON("/api/v1/optout", `{"id_type":"social","id":" weibo: fan_abc "}`)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"added":false`) {
		t.Errorf("API: %d %s, want the same entry", rec.Code, rec.Body)
	}
	rec = e.postJSON("/api/v1/optout", `{"id_type":"social","id":"fan_abc"}`)
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "weibo:@name") || strings.Contains(rec.Body.String(), "fan_abc") {
		t.Errorf("handle without a platform: %d %s, want 400 showing the form, not the handle", rec.Code, rec.Body)
	}
}
