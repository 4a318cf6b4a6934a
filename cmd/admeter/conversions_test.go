package main

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/pseudo"
	"github.com/admeter/admeter/store"
	"github.com/admeter/admeter/store/duckdb"
)

// The collector's token labels of click ids and conversion ids.
const (
	clickIDTokenLabel    = "admeter/click-id/v1"
	conversionTokenLabel = "admeter/conversion/v1"
)

// convPost sends body to the conversion API with a bearer token (none when
// empty) and extra header pairs, and returns the status and the body.
func convPost(t *testing.T, base, token, body string, hdr ...string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest("POST", base+"/api/v1/conversions", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestConversionAPI runs the server-to-server conversion API through the
// real binary: it needs a tenant token; a batch holding a raw phone number
// or IMEI is refused whole, naming the rows; a conversion id repeated in a
// batch is kept once, and one repeated across batches is logged again but
// counted once by the store; the conversions reach the log and the store
// with pseudonymised ids; the upload and its consent reference are in the
// audit record; and no raw value reaches the disk or the process's output.
func TestConversionAPI(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	p := startBinary(t, dataDir, "--log-level", "debug")
	tok, _ := setupCampaign(t, p.base, dataDir, 1)
	var me struct {
		Account struct {
			ID admeter.TenantID `json:"id"`
		} `json:"account"`
	}
	if st := apiCall(t, "GET", p.base+"/api/v1/me", tok, nil, &me); st != 200 || me.Account.ID == "" {
		t.Fatalf("GET /api/v1/me: %d %+v", st, me)
	}
	tenant := me.Account.ID

	const (
		oaid    = "a1b2c3d4-e5f6-4711-8899-aabbccddeeff"
		imei    = "868049039501257"
		phone   = "13912345678"
		clickID = "k7q2m4x9d3c8b5n6v1z0a2s4d6"
		consent = "CRM-CONSENT-2025-11"
	)
	imeiMD5 := fmt.Sprintf("%x", md5.Sum([]byte(imei)))
	now := time.Now()
	ordered := now.Add(-2 * time.Hour).Truncate(time.Millisecond)
	good := fmt.Sprintf(`[
		{"conversion_id":"ORD-1001","type":"order","time":%d,"value":"129.90","oaid":%q},
		{"conversion_id":"ORD-1002","type":"order","time":%q,"value":59,"currency":"usd","click_id":%q},
		{"conversion_id":"ORD-1001","type":"order","time":%d,"value":"1.00","oaid":%q}
	]`, ordered.UnixMilli(), oaid, ordered.Format(time.RFC3339), clickID, ordered.UnixMilli(), oaid)

	// Authentication is required.
	for _, token := range []string{"", "adm_t_nonsense"} {
		if st, body := convPost(t, p.base, token, good, "X-Admeter-Consent-Ref", consent); st != 401 {
			t.Fatalf("token %q: %d %s, want 401", token, st, body)
		}
	}

	// Raw personal identifiers refuse the whole batch, naming the rows.
	for _, tt := range []struct {
		name, body string
		want       []string
	}{
		{"raw imei field", fmt.Sprintf(`[{"conversion_id":"X1","type":"order","imei":%q},{"conversion_id":"X2","type":"order","oaid":%q}]`, imei, oaid),
			[]string{`row 0 field \"imei\"`}},
		{"phone and imei values", fmt.Sprintf(`{"conversion_id":"X1","type":"order","oaid":%q}
{"conversion_id":"X2","type":"order","oaid":"+86 %s"}
{"conversion_id":"X3","type":"order","imei_md5":%q}`, oaid, phone, imei),
			[]string{`row 1 field \"oaid\" looks like a phone number`, `row 2 field \"imei_md5\" looks like a raw IMEI`}},
	} {
		st, body := convPost(t, p.base, tok, tt.body, "X-Admeter-Consent-Ref", consent)
		if st != 400 {
			t.Fatalf("%s: %d %s, want 400", tt.name, st, body)
		}
		for _, w := range tt.want {
			if !strings.Contains(string(body), w) {
				t.Errorf("%s: the answer does not say %s: %s", tt.name, w, body)
			}
		}
		if bytes.Contains(body, []byte(phone)) || bytes.Contains(body, []byte(imei)) {
			t.Errorf("%s: the answer echoes a raw identifier: %s", tt.name, body)
		}
	}

	// A good batch, with a conversion id twice.
	var res struct {
		Accepted   int `json:"accepted"`
		OptedOut   int `json:"opted_out"`
		Duplicates []struct {
			Index        int    `json:"index"`
			ConversionID string `json:"conversion_id"`
			First        int    `json:"first"`
		} `json:"duplicates"`
		Rejected []struct {
			Index  int    `json:"index"`
			Reason string `json:"reason"`
		} `json:"rejected"`
	}
	st, body := convPost(t, p.base, tok, good, "X-Admeter-Consent-Ref", consent)
	if err := json.Unmarshal(body, &res); st != 200 || err != nil || res.Accepted != 2 || len(res.Duplicates) != 1 ||
		res.Duplicates[0].Index != 2 || res.Duplicates[0].First != 0 || len(res.Rejected) != 0 {
		t.Fatalf("good batch: %d %s", st, body)
	}
	// The same order again in a later batch (NDJSON, consent per row),
	// with a row that has no consent reference.
	st, body = convPost(t, p.base, tok, fmt.Sprintf(`{"conversion_id":"ORD-1001","type":"order","value":"999","oaid":%q,"consent_ref":"APP-7"}
{"conversion_id":"ACT-1","type":"activation","imei_md5":%q,"consent_ref":"APP-7"}
{"conversion_id":"ACT-2","type":"activation","imei_md5":%q}`, oaid, imeiMD5, imeiMD5))
	if err := json.Unmarshal(body, &res); st != 200 || err != nil || res.Accepted != 2 || len(res.Rejected) != 1 ||
		res.Rejected[0].Index != 2 || !strings.Contains(res.Rejected[0].Reason, "consent_ref") {
		t.Fatalf("second batch: %d %s", st, body)
	}

	// The uploads are in the tenant's audit trail with their consent
	// references.
	op, err := os.ReadFile(filepath.Join(dataDir, "operator.token"))
	if err != nil {
		t.Fatal(err)
	}
	var trail struct {
		Entries []struct {
			Actor, Tenant, Outcome string
			Details                map[string]any
		} `json:"entries"`
	}
	if st := apiCall(t, "GET", p.base+"/api/v1/admin/audit?action=conversion.upload&limit=100", strings.TrimSpace(string(op)), nil, &trail); st != 200 {
		t.Fatalf("audit trail: %d", st)
	}
	outcomes := []string{}
	refs := map[string]float64{}
	for _, e := range trail.Entries {
		if e.Tenant != string(tenant) {
			t.Errorf("upload recorded for tenant %q, want %q", e.Tenant, tenant)
		}
		outcomes = append(outcomes, e.Outcome)
		if r, ok := e.Details["consent_refs"].(map[string]any); ok {
			for k, v := range r {
				refs[k] += v.(float64)
			}
		}
	}
	if len(outcomes) != 4 || outcomes[0] != "refused: raw personal identifiers" || outcomes[3] != "ok" ||
		refs[consent] != 2 || refs["APP-7"] != 2 {
		t.Errorf("audit trail of the uploads: %+v (consent references %v)", trail.Entries, refs)
	}

	// Wait until the store has loaded the four conversions, then stop.
	loaded := regexp.MustCompile(`(?m)^admeter_ingest_loaded_total (\d+)`)
	waitUntil(t, 20*time.Second, "the conversions to be loaded", func() bool {
		m := loaded.FindStringSubmatch(metricsOf(t, p.base))
		if len(m) != 2 {
			return false
		}
		n, _ := strconv.Atoi(m[1])
		return n >= 4
	})
	if m := metricsOf(t, p.base); !strings.Contains(m, `admeter_collect_logged_total{kind="conversion"} 4`) ||
		!strings.Contains(m, `admeter_collect_rejected_total{reason="raw_identifier"} 5`) ||
		!strings.Contains(m, `admeter_collect_events_received_total{source="conversion"} 11`) {
		t.Errorf("conversion metrics:\n%s", grepLines(m, "admeter_collect_"))
	}
	p.stop(t)

	ps := testPseudonymizer(t, dataDir)
	canon := func(typ admeter.IDType, form pseudo.Form, v string) admeter.Pseudonym {
		c, r := pseudo.Canonicalize(typ, form, v)
		if r != pseudo.ReasonOK {
			t.Fatalf("canonicalize: %v", r)
		}
		return ps.Pseudonym(typ, c)
	}
	userOAID, userIMEI := canon(admeter.IDOAID, pseudo.FormRaw, oaid), canon(admeter.IDIMEI, pseudo.FormMD5, imeiMD5)
	conv := func(id string) admeter.Pseudonym {
		return ps.Token(conversionTokenLabel, []byte(string(tenant)+"\x00"+id))
	}

	var logged []admeter.Event
	for _, ev := range readLog(t, dataDir) {
		if ev.Kind == admeter.KindConversion {
			logged = append(logged, ev)
		}
	}
	if len(logged) != 4 {
		t.Fatalf("%d conversions in the log, want 4", len(logged))
	}
	first := logged[0]
	if first.Tenant != tenant || first.Campaign != "" || first.Placement != "" || first.User != userOAID || first.UserType != admeter.IDOAID ||
		first.ConversionID != conv("ORD-1001") || first.Value != 129_900_000 || first.Currency != "CNY" || !first.At.Equal(ordered) ||
		first.Flags&admeter.FlagBatch == 0 {
		t.Errorf("first conversion logged as %+v", first)
	}
	if c := logged[1]; c.ClickID != ps.Token(clickIDTokenLabel, []byte(clickID)) || !c.User.IsZero() || c.Value != 59_000_000 || c.Currency != "USD" {
		t.Errorf("click-id conversion logged as %+v", c)
	}

	st2, err := duckdb.Open(filepath.Join(dataDir, "store.duckdb"), duckdb.DefaultOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	data, err := st2.Attribution(t.Context(), store.AttributionQuery{Tenant: tenant, From: now.Add(-24 * time.Hour), To: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	got := map[admeter.Pseudonym]store.Conversion{}
	for _, c := range data.Conversions {
		got[c.ID] = c
	}
	if len(data.Conversions) != 3 || got[conv("ORD-1001")].Value != 129_900_000 || got[conv("ORD-1001")].User != userOAID ||
		got[conv("ORD-1002")].ClickID != ps.Token(clickIDTokenLabel, []byte(clickID)) || got[conv("ACT-1")].User != userIMEI ||
		got[conv("ACT-1")].Type != "activation" {
		t.Errorf("stored conversions (deduplicated): %+v", data.Conversions)
	}
	evs, _, err := st2.UserEvents(t.Context(), tenant, []admeter.Pseudonym{userOAID, userIMEI}, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 3 || evs[0].Kind != admeter.KindConversion || evs[0].ConversionType != "order" {
		t.Errorf("an access request would see %d events: %+v", len(evs), evs)
	}
	st2.Close()

	// No raw value anywhere on disk or in the output.
	secrets := []string{oaid, strings.ToUpper(oaid), imei, phone, clickID}
	if err := filepath.WalkDir(dataDir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) || bytes.Contains(b, []byte(hex.EncodeToString([]byte(s)))) {
				t.Errorf("%s holds %q", path, s)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets {
		if bytes.Contains(p.out.Bytes(), []byte(s)) {
			t.Errorf("the process output holds %q", s)
		}
	}
}
