package collect_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/collect"
	"github.com/admeter/admeter/pseudo"
)

// The token labels of package collect, written out again so that the tests
// check the values the collector makes rather than reuse its code.
const (
	clickIDLabel    = "admeter/click-id/v1"
	conversionLabel = "admeter/conversion/v1"
)

// convFixture is a collector fixture with the conversion handler and what
// it recorded.
type convFixture struct {
	*fixture
	h    http.Handler
	mu   sync.Mutex
	recs []collect.ConversionUpload
}

func newConvFixture(tb testing.TB) *convFixture {
	tb.Helper()
	f := &convFixture{fixture: newFixture(tb, nil)}
	f.h = f.c.Conversions(func(_ context.Context, u collect.ConversionUpload) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.recs = append(f.recs, u)
	})
	return f
}

// post sends body as tenant ("" for no authenticated tenant) with the
// header pairs hdr.
func (f *convFixture) post(tenant admeter.TenantID, body string, hdr ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("POST", "http://c.example.com/api/v1/conversions", strings.NewReader(body))
	r.RemoteAddr = "198.51.100.7:4444"
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	if tenant != "" {
		r = r.WithContext(collect.WithTenant(r.Context(), tenant))
	}
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	return w
}

func (f *convFixture) result(tb testing.TB, w *httptest.ResponseRecorder) collect.ConversionResult {
	tb.Helper()
	if w.Code != 200 {
		tb.Fatalf("status %d: %s", w.Code, w.Body)
	}
	var res collect.ConversionResult
	if err := json.Unmarshal(w.Body.Bytes(), &res); err != nil {
		tb.Fatalf("decode %s: %v", w.Body, err)
	}
	return res
}

func md5hex(s string) string {
	h := md5.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}

func TestConversionsBecomeEvents(t *testing.T) {
	f := newConvFixture(t)
	const oaid, imei, click = "3c1a6f0e-6b1f-4b8a-9b0e-1f2d3c4b5a69", "868049039501257", "k7q2m4x9d3c8b5n6v1z0a2s4d6"
	at := f.now.Add(-36 * time.Hour).Truncate(time.Millisecond)
	body := fmt.Sprintf(`[
		{"conversion_id":"ORD-1001","type":"order","time":%d,"value":"129.90","oaid":%q,"imei_md5":%q},
		{"conversion_id":" ORD-1002 ","type":"purchase","time":"%d","value":0.5,"currency":"usd","click_id":%q},
		{"conversion_id":"ACT-1","type":"activation","time":%q,"idfa":"e2dfa89f-9a4b-4d2c-8c5e-3f0a1b2c3d4e","consent_ref":"APP-CONSENT-7"},
		{"conversion_id":"REG-1","type":"registration","caid":"0123456789abcdef0123456789abcdef"}
	]`, at.UnixMilli(), oaid, md5hex(imei), at.Unix(), click, at.Format(time.RFC3339Nano))
	res := f.result(t, f.post("t_a", body, collect.ConsentRefHeader, "CRM-2025-11"))
	if res.Accepted != 4 || len(res.Rejected) != 0 || len(res.Duplicates) != 0 || res.OptedOut != 0 {
		t.Fatalf("result %+v", res)
	}
	evs := f.log.all()
	if len(evs) != 4 {
		t.Fatalf("%d events logged, want 4", len(evs))
	}
	canon := func(typ admeter.IDType, form pseudo.Form, v string) admeter.Pseudonym {
		c, r := pseudo.Canonicalize(typ, form, v)
		if r != pseudo.ReasonOK {
			t.Fatalf("canonicalize %v: %v", typ, r)
		}
		return f.ps.Pseudonym(typ, c)
	}
	conv := func(id string) admeter.Pseudonym { return f.ps.Token(conversionLabel, []byte("t_a\x00"+id)) }
	want := []admeter.Event{
		{User: canon(admeter.IDOAID, pseudo.FormRaw, oaid), UserType: admeter.IDOAID, At: at.Truncate(time.Millisecond),
			ConversionID: conv("ORD-1001"), ConversionType: "order", Value: 129_900_000, Currency: "CNY"},
		{At: at.Truncate(time.Second), ClickID: f.ps.Token(clickIDLabel, []byte(click)),
			ConversionID: conv("ORD-1002"), ConversionType: "purchase", Value: 500_000, Currency: "USD"},
		{User: canon(admeter.IDIDFA, pseudo.FormRaw, "E2DFA89F-9A4B-4D2C-8C5E-3F0A1B2C3D4E"), UserType: admeter.IDIDFA, At: at,
			ConversionID: conv("ACT-1"), ConversionType: "activation"},
		{User: canon(admeter.IDCAID, pseudo.FormMD5, "0123456789abcdef0123456789abcdef"), UserType: admeter.IDCAID, At: f.now,
			ConversionID: conv("REG-1"), ConversionType: "registration"},
	}
	for i, w := range want {
		w.Kind, w.Tenant, w.Received, w.Flags, w.KeyVersion = admeter.KindConversion, "t_a", f.now, admeter.FlagBatch, f.ps.Version()
		got := evs[i]
		if !got.At.Equal(w.At) {
			t.Errorf("event %d at %v, want %v", i, got.At, w.At)
		}
		got.At = w.At
		if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", w) {
			t.Errorf("event %d:\n got %+v\nwant %+v", i, got, w)
		}
		if err := got.Validate(); err != nil {
			t.Errorf("event %d does not validate: %v", i, err)
		}
	}
	if conv("ORD-1001") == f.ps.Token(conversionLabel, []byte("t_b\x00ORD-1001")) {
		t.Error("two tenants' conversion ids collide")
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.recs) != 1 {
		t.Fatalf("%d uploads recorded, want 1", len(f.recs))
	}
	rec := f.recs[0]
	if rec.Tenant != "t_a" || rec.Outcome != "ok" || rec.Rows != 4 || rec.Accepted != 4 || rec.Net != "198.51.100.0/24" ||
		rec.ConsentRefs["CRM-2025-11"] != 3 || rec.ConsentRefs["APP-CONSENT-7"] != 1 {
		t.Errorf("recorded %+v", rec)
	}
	for _, raw := range []string{oaid, md5hex(imei), click, "E2DFA89F", "ORD-1001", "198.51.100.7"} {
		if strings.Contains(fmt.Sprintf("%+v", rec), raw) {
			t.Errorf("the upload record holds %q", raw)
		}
	}
}

func TestConversionsNDJSONAndDuplicates(t *testing.T) {
	f := newConvFixture(t)
	body := `{"conversion_id":"A","type":"order","oaid_md5":"` + md5hex("x") + `","value":"10"}
{"conversion_id":"B","type":"order","click_id":" C1 "}

{"conversion_id":"A","type":"order","click_id":"c2","value":"99"}
{"conversion_id":"C","type":"bad type","click_id":"c3"}
{"conversion_id":"C","type":"order","click_id":"c3"}
{"conversion_id":"A","type":"lead","click_id":"c4"}`
	res := f.result(t, f.post("t_a", body, collect.ConsentRefHeader, "ref"))
	wantDups := []collect.ConversionDuplicate{{Index: 2, ConversionID: "A", First: 0}, {Index: 5, ConversionID: "A", First: 0}}
	if res.Accepted != 3 || fmt.Sprint(res.Duplicates) != fmt.Sprint(wantDups) || len(res.Rejected) != 1 || res.Rejected[0].Index != 3 {
		t.Fatalf("result %+v", res)
	}
	evs := f.log.all()
	if len(evs) != 3 || evs[0].Value != 10_000_000 || evs[2].ClickID != f.ps.Token(clickIDLabel, []byte("c3")) || evs[1].ClickID != f.ps.Token(clickIDLabel, []byte("c1")) {
		t.Fatalf("logged %+v", evs)
	}
}

func TestConversionRowsRejected(t *testing.T) {
	f := newConvFixture(t)
	md5 := md5hex("device")
	tests := []struct {
		name, row, reason string
	}{
		{"no conversion id", `{"type":"order","oaid_md5":"` + md5 + `"}`, "conversion_id is required"},
		{"blank conversion id", `{"conversion_id":"  ","type":"order","oaid_md5":"` + md5 + `"}`, "conversion_id is required"},
		{"long conversion id", `{"conversion_id":"` + strings.Repeat("x", 129) + `","type":"order","oaid_md5":"` + md5 + `"}`, "at most 128 bytes"},
		{"control character in id", `{"conversion_id":"a\u0001b","type":"order","oaid_md5":"` + md5 + `"}`, "printable"},
		{"no type", `{"conversion_id":"x","oaid_md5":"` + md5 + `"}`, "conversion type"},
		{"uppercase type", `{"conversion_id":"x","type":"Order","oaid_md5":"` + md5 + `"}`, "conversion type"},
		{"no user", `{"conversion_id":"x","type":"order"}`, "needs a device identifier or a click_id"},
		{"malformed id only", `{"conversion_id":"x","type":"order","oaid_md5":"xyz"}`, "not usable: oaid_md5"},
		{"placeholder id only", `{"conversion_id":"x","type":"order","idfa":"00000000-0000-0000-0000-000000000000"}`, "not usable: idfa"},
		{"91 days old", fmt.Sprintf(`{"conversion_id":"x","type":"order","click_id":"c","time":%d}`, f.now.Add(-91*24*time.Hour).Unix()), "more than 90 days ago"},
		{"ten minutes ahead", fmt.Sprintf(`{"conversion_id":"x","type":"order","click_id":"c","time":%d}`, f.now.Add(10*time.Minute).UnixMilli()), "in the future"},
		{"microseconds", fmt.Sprintf(`{"conversion_id":"x","type":"order","click_id":"c","time":%d}`, f.now.UnixMicro()), "time must be"},
		{"negative value", `{"conversion_id":"x","type":"order","click_id":"c","value":"-1"}`, "not negative"},
		{"exponent value", `{"conversion_id":"x","type":"order","click_id":"c","value":1e3}`, "plain decimal"},
		{"seven decimals", `{"conversion_id":"x","type":"order","click_id":"c","value":"1.0000001"}`, "6 digits after"},
		{"huge value", `{"conversion_id":"x","type":"order","click_id":"c","value":"1234567890123"}`, "12 digits before"},
		{"bad currency", `{"conversion_id":"x","type":"order","click_id":"c","value":"1","currency":"yuan"}`, "ISO 4217"},
		{"unknown field", `{"conversion_id":"x","type":"order","click_id":"c","campaign":"1"}`, `unknown field "campaign"`},
		{"not an object", `42`, "not a valid conversion object"},
		{"long consent ref", `{"conversion_id":"x","type":"order","click_id":"c","consent_ref":"` + strings.Repeat("r", 129) + `"}`, "consent_ref must be"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(f.log.all())
			res := f.result(t, f.post("t_a", "["+tt.row+"]", collect.ConsentRefHeader, "ref"))
			if res.Accepted != 0 || len(res.Rejected) != 1 || !strings.Contains(res.Rejected[0].Reason, tt.reason) {
				t.Fatalf("result %+v, want one rejection saying %q", res, tt.reason)
			}
			if n := len(f.log.all()); n != before {
				t.Fatalf("%d events logged for a rejected row", n-before)
			}
		})
	}
	t.Run("no consent reference anywhere", func(t *testing.T) {
		res := f.result(t, f.post("t_a", `[{"conversion_id":"x","type":"order","click_id":"c"},{"conversion_id":"y","type":"order","click_id":"c","consent_ref":"r"}]`))
		if res.Accepted != 1 || len(res.Rejected) != 1 || res.Rejected[0].Index != 0 || !strings.Contains(res.Rejected[0].Reason, "consent_ref is required") {
			t.Fatalf("result %+v", res)
		}
	})
}

func TestConversionsRefuseRawIdentifiers(t *testing.T) {
	f := newConvFixture(t)
	good := `{"conversion_id":"ok","type":"order","oaid_md5":"` + md5hex("d") + `"}`
	tests := []struct {
		name    string
		rows    []string
		header  string
		secrets []string // values the answer must not echo
		want    []collect.RawIdentifier
	}{
		{"imei field", []string{good, `{"conversion_id":"x","type":"order","imei":"868049039501257"}`}, "",
			[]string{"868049039501257"}, []collect.RawIdentifier{{Index: 1, Field: "imei", Kind: "raw_field"}}},
		{"imei field in capitals", []string{`{"conversion_id":"x","type":"order","IMEI":"86804903950125"}`}, "",
			[]string{"86804903950125"}, []collect.RawIdentifier{{Index: 0, Field: "imei", Kind: "raw_field"}}},
		{"imei digits in imei_md5", []string{`{"conversion_id":"x","type":"order","imei_md5":"8680490395012501"}`}, "",
			[]string{"8680490395012501"}, []collect.RawIdentifier{{Index: 0, Field: "imei_md5", Kind: "imei"}}},
		{"imei as a JSON number", []string{good, good, `{"conversion_id":"x","type":"order","android_id_md5":868049039501257}`}, "",
			[]string{"868049039501257"}, []collect.RawIdentifier{{Index: 2, Field: "android_id_md5", Kind: "imei"}}},
		{"imei with dashes in oaid", []string{`{"conversion_id":"x","type":"order","oaid":"86-804903-950125-7"}`}, "",
			[]string{"950125"}, []collect.RawIdentifier{{Index: 0, Field: "oaid", Kind: "imei"}}},
		{"mobile in oaid", []string{`{"conversion_id":"x","type":"order","oaid":"13800138000"}`}, "",
			[]string{"13800138000"}, []collect.RawIdentifier{{Index: 0, Field: "oaid", Kind: "phone"}}},
		{"+86 mobile with spaces in idfa_md5", []string{good, `{"conversion_id":"x","type":"order","idfa_md5":"+86 139 1234 5678"}`}, "",
			[]string{"1234 5678", "13912345678"}, []collect.RawIdentifier{{Index: 1, Field: "idfa_md5", Kind: "phone"}}},
		{"0086 mobile in click_id", []string{`{"conversion_id":"x","type":"order","click_id":"0086-150-0000-1111"}`}, "",
			[]string{"0000-1111"}, []collect.RawIdentifier{{Index: 0, Field: "click_id", Kind: "phone"}}},
		{"E.164 number in consent_ref", []string{`{"conversion_id":"x","type":"order","click_id":"c","consent_ref":"+1 (415) 555-0100"}`}, "",
			[]string{"555-0100"}, []collect.RawIdentifier{{Index: 0, Field: "consent_ref", Kind: "phone"}}},
		{"phone field", []string{`{"conversion_id":"x","type":"order","click_id":"c","phone":"021-555"}`}, "",
			[]string{"021-555"}, []collect.RawIdentifier{{Index: 0, Field: "phone", Kind: "raw_field"}}},
		{"mobile in an unknown field", []string{`{"conversion_id":"x","type":"order","click_id":"c","user_tel":"18612345678"}`}, "",
			[]string{"18612345678"}, []collect.RawIdentifier{{Index: 0, Field: "user_tel", Kind: "phone"}}},
		{"several rows", []string{`{"conversion_id":"x","type":"order","imei_md5":"868049039501257","oaid":"13800138000"}`, good,
			`{"conversion_id":"y","type":"order","android_id":"9f8e7d6c5b4a3921"}`}, "",
			[]string{"868049039501257", "13800138000", "9f8e7d6c5b4a3921"}, []collect.RawIdentifier{
				{Index: 0, Field: "imei_md5", Kind: "imei"}, {Index: 0, Field: "oaid", Kind: "phone"}, {Index: 2, Field: "android_id", Kind: "raw_field"}}},
		{"phone in the consent header", []string{good}, "13800138000",
			[]string{"13800138000"}, []collect.RawIdentifier{{Index: -1, Field: collect.ConsentRefHeader, Kind: "phone"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(f.log.all())
			hdr := []string{collect.ConsentRefHeader, "ref"}
			if tt.header != "" {
				hdr[1] = tt.header
			}
			w := f.post("t_a", "["+strings.Join(tt.rows, ",")+"]", hdr...)
			if w.Code != 400 {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			var ans struct {
				Error          struct{ Code, Message string }
				RawIdentifiers []collect.RawIdentifier `json:"raw_identifiers"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &ans); err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(ans.RawIdentifiers) != fmt.Sprint(tt.want) || ans.Error.Code != "invalid" {
				t.Errorf("raw identifiers %+v, want %+v", ans.RawIdentifiers, tt.want)
			}
			for _, ri := range tt.want {
				where := fmt.Sprintf("row %d field %q", ri.Index, ri.Field)
				if ri.Index < 0 {
					where = "header " + ri.Field
				}
				if !strings.Contains(ans.Error.Message, where) {
					t.Errorf("message does not name %s: %s", where, ans.Error.Message)
				}
			}
			for _, s := range tt.secrets {
				if strings.Contains(w.Body.String(), s) {
					t.Errorf("the answer echoes %q: %s", s, w.Body)
				}
			}
			if n := len(f.log.all()); n != before {
				t.Fatalf("%d events logged from a refused batch", n-before)
			}
		})
	}
}

func TestConversionsTakeLookalikes(t *testing.T) {
	// Values near the raw-identifier shapes that are legitimate: a Xiaomi
	// OAID of 16 decimal digits, an order number of 15 digits with a valid
	// Luhn digit, a 15-digit OAID without one.
	f := newConvFixture(t)
	body := `[{"conversion_id":"868049039501257","type":"order","oaid":"1234567890123456"},
		{"conversion_id":"x2","type":"order","click_id":"123456789012345","time":"1764300000"}]`
	f.now = time.Unix(1764300000, 0).UTC()
	res := f.result(t, f.post("t_a", body, collect.ConsentRefHeader, "ref"))
	if res.Accepted != 2 {
		t.Fatalf("result %+v", res)
	}
}

func TestConversionsOptOut(t *testing.T) {
	f := newConvFixture(t)
	const oaid = "abcdef0123456789"
	can, _ := pseudo.Canonicalize(admeter.IDOAID, pseudo.FormRaw, oaid)
	f.opt.Add(f.optPS.Pseudonym(admeter.IDOAID, can))
	body := fmt.Sprintf(`[{"conversion_id":"a","type":"order","oaid":%q,"click_id":"c"},
		{"conversion_id":"b","type":"order","oaid_md5":%q,"idfa":"e2dfa89f-9a4b-4d2c-8c5e-3f0a1b2c3d4e"},
		{"conversion_id":"c","type":"order","oaid_md5":%q}]`, oaid, md5hex(oaid), md5hex("someone else"))
	res := f.result(t, f.post("t_a", body, collect.ConsentRefHeader, "ref"))
	if res.Accepted != 1 || res.OptedOut != 2 {
		t.Fatalf("result %+v", res)
	}
	if evs := f.log.all(); len(evs) != 1 || evs[0].ConversionID != f.ps.Token(conversionLabel, []byte("t_a\x00c")) {
		t.Fatalf("logged %+v", evs)
	}
}

func TestConversionsRequests(t *testing.T) {
	f := newConvFixture(t)
	row := `[{"conversion_id":"a","type":"order","click_id":"c","consent_ref":"r"}]`
	if w := f.post("", row); w.Code != 401 || w.Header().Get("WWW-Authenticate") == "" || !strings.Contains(w.Body.String(), "unauthorized") {
		t.Errorf("without a tenant: %d %s", w.Code, w.Body)
	}
	r := httptest.NewRequest("GET", "/api/v1/conversions", nil)
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r.WithContext(collect.WithTenant(r.Context(), "t_a")))
	if w.Code != 405 {
		t.Errorf("GET: %d", w.Code)
	}
	for _, body := range []string{"", "[", `{"a":1}{`, "[]"} {
		if w := f.post("t_a", body); w.Code != 400 {
			t.Errorf("body %q: %d %s", body, w.Code, w.Body)
		}
	}
	if w := f.post("t_a", "["+strings.Repeat(`{},`, 1000)+"{}]"); w.Code != 413 {
		t.Errorf("1001 rows: %d", w.Code)
	}
	if len(f.log.all()) != 0 {
		t.Fatal("events logged from refused requests")
	}

	f.log.err = errors.New("disk full")
	if w := f.post("t_a", row); w.Code != 503 || w.Header().Get("Retry-After") == "" {
		t.Errorf("log failure: %d %s", w.Code, w.Body)
	}
	f.mu.Lock()
	last := f.recs[len(f.recs)-1]
	f.mu.Unlock()
	if !strings.HasPrefix(last.Outcome, "failed") {
		t.Errorf("log failure recorded as %+v", last)
	}
	f.log.err = nil
	if res := f.result(t, f.post("t_a", row)); res.Accepted != 1 {
		t.Errorf("retry after the log failure: %+v", res)
	}
}

// FuzzConversions feeds arbitrary bodies and consent headers through the
// conversion API: it must answer 200, 400 or 413 and nothing else, account
// for every row of a 200, and log only valid conversions of the sender's
// tenant.
func FuzzConversions(f *testing.F) {
	f.Add(`[{"conversion_id":"ORD-1","type":"order","time":1764300000,"value":"129.90","oaid":"abcdef0123456789","click_id":"c"}]`, "ref")
	f.Add(`{"conversion_id":"a","type":"lead","imei_md5":"868049039501257"}`+"\n"+`{"conversion_id":"a","type":"lead","click_id":"x"}`, "")
	f.Add(`[{"conversion_id":"a","type":"order","value":1e400,"idfa":"+86 138 0013 8000"}]`, "+44 20 7946 0000")
	f.Add(`[{"conversion_id":"a","type":"order","time":"2026-11-28T10:00:00+08:00","currency":"cny","value":0.000001,"caid":"0123456789abcdef0123456789abcdef"}]`, "r")
	fx := newConvFixture(f)
	f.Fuzz(func(t *testing.T, body, ref string) {
		fx.log.mu.Lock()
		fx.log.events = nil
		fx.log.mu.Unlock()
		var hdr []string
		if ref != "" && !strings.ContainsAny(ref, "\r\n\x00") {
			hdr = []string{collect.ConsentRefHeader, ref}
		}
		w := fx.post("t_a", body, hdr...)
		evs := fx.log.all()
		switch w.Code {
		case 200:
			var res collect.ConversionResult
			if err := json.Unmarshal(w.Body.Bytes(), &res); err != nil {
				t.Fatalf("200 with %q: %v", w.Body, err)
			}
			if res.Accepted != len(evs) {
				t.Fatalf("accepted %d, logged %d", res.Accepted, len(evs))
			}
			seen := map[admeter.Pseudonym]bool{}
			for _, ev := range evs {
				if err := ev.Validate(); err != nil || ev.Kind != admeter.KindConversion || ev.Tenant != "t_a" || seen[ev.ConversionID] {
					t.Fatalf("logged %+v (%v)", ev, err)
				}
				seen[ev.ConversionID] = true
			}
		case 400, 413:
			if len(evs) != 0 {
				t.Fatalf("%d events logged with status %d", len(evs), w.Code)
			}
		default:
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
	})
}
