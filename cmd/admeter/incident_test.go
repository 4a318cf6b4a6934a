package main

import (
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/admeter/admeter/api"
	"github.com/admeter/admeter/notify"
	"github.com/admeter/admeter/notify/notifytest"
)

// TestIncidentNotification runs the real binary with a mail server and a
// tenant's webhook in the test process: an operator records an incident
// and notifies the affected tenant, whose owner and notification address
// get the bilingual mail and whose webhook gets a signed delivery after a
// failed first attempt; announcements honour unsubscribing only when they
// are not critical.
func TestIncidentNotification(t *testing.T) {
	mb := notifytest.NewMailbox(t)
	var (
		mu     sync.Mutex
		secret string
		calls  []string // idempotency keys, one per attempt
	)
	hook := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if err := notify.Verify([]byte(secret), r.Header.Get(notify.TimestampHeader), r.Header.Get(notify.SignatureHeader), body, time.Now(), notify.DefaultTolerance); err != nil {
			t.Errorf("webhook: %v", err)
		}
		calls = append(calls, r.Header.Get(notify.IdempotencyHeader))
		if len(calls) == 1 {
			http.Error(w, "try later", http.StatusServiceUnavailable)
		}
	}))
	hook.StartTLS()
	t.Cleanup(hook.Close)
	// The binary trusts the receiver's certificate through SSL_CERT_FILE,
	// as it would trust a tenant's through the system's roots.
	certFile := filepath.Join(t.TempDir(), "hook.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: hook.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SSL_CERT_FILE", certFile)

	dir := t.TempDir()
	p := startBinary(t, dir, "--smtp-addr", mb.Addr, "--smtp-from", "admeter <noreply@admeter.example.com>", "--smtp-tls", "none",
		"--notify-interval", "1s", "--notify-backoff", "1s", "--notify-max-backoff", "2s", "--incident-report-window", "48h")
	opTok, err := os.ReadFile(filepath.Join(dir, "operator.token"))
	if err != nil {
		t.Fatal(err)
	}
	op := accessCred{bearer: strings.TrimSpace(string(opTok))}
	a := accessRegister(t, p.base, op.bearer, "Alpha", 81)
	b := accessRegister(t, p.base, op.bearer, "Beta", 82)

	var set struct {
		Secret string `json:"webhook_secret"`
	}
	accessJSON(t, "PATCH", p.base+"/api/v1/notifications", a.owner,
		map[string]any{"email": "security@alpha.example.com", "webhook_url": hook.URL + "/admeter"}, http.StatusOK, &set)
	mu.Lock()
	secret = set.Secret
	mu.Unlock()
	// Beta unsubscribes from non-critical notifications in the console.
	form := url.Values{"csrf": {b.owner.csrf}, "unsubscribed": {"on"}}
	req, _ := http.NewRequest("POST", p.base+"/console/notices/settings", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: api.SessionCookie, Value: b.owner.cookie})
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("console settings: %d", resp.StatusCode)
	}
	var bset struct {
		Unsubscribed bool `json:"unsubscribed"`
	}
	accessJSON(t, "GET", p.base+"/api/v1/notifications", b.owner, nil, http.StatusOK, &bset)
	if !bset.Unsubscribed {
		t.Fatal("the console did not unsubscribe Beta")
	}

	// Validation: an incident notice without advice and remedies is refused.
	txt := func(s string) map[string]string { return map[string]string{"zh": s + "(中文)", "en": s} }
	discovered := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	in := map[string]any{
		"title": txt("Export bucket exposed"), "summary": txt("An export bucket was publicly readable"),
		"occurred": discovered.Add(-24 * time.Hour), "discovered": discovered, "data_categories": []string{"device_identifiers", "events"},
		"impact": txt("Pseudonymous identifiers could be read"), "measures_taken": txt("Bucket closed"),
		"measures_planned": txt("Access review"), "contact": txt("security@admeter.example.com"), "severity": "high",
		"tenants": []string{a.id},
	}
	r := accessDo(t, "POST", p.base+"/api/v1/admin/incidents", op, in)
	if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "advice.zh, advice.en, remedies.zh, remedies.en") {
		t.Fatalf("incomplete incident: %d %s", r.status, r.body)
	}
	in["advice"], in["remedies"] = txt("Rotate API tokens"), txt("Free security review")
	var inc struct {
		ID        string    `json:"id"`
		ReportDue time.Time `json:"report_due"`
	}
	accessJSON(t, "POST", p.base+"/api/v1/admin/incidents", op, in, http.StatusCreated, &inc)
	if !inc.ReportDue.Equal(discovered.Add(48 * time.Hour)) {
		t.Fatalf("report due %v, want discovery + --incident-report-window", inc.ReportDue)
	}
	accessJSON(t, "POST", p.base+"/api/v1/admin/incidents/"+inc.ID+"/notify", op, nil, http.StatusAccepted, nil)

	msgs := mb.Wait(2, 30*time.Second)
	var to []string
	for _, m := range msgs {
		to = append(to, m.To...)
		for _, want := range []string{"Rotate API tokens(中文)", "Rotate API tokens", "个人自主防范和降低风险的建议", "补救措施", "Free security review", inc.ID} {
			if !strings.Contains(m.Text, want) {
				t.Errorf("mail to %v lacks %q", m.To, want)
			}
		}
	}
	slices.Sort(to)
	if want := []string{"owner@alpha.example.com", "security@alpha.example.com"}; !slices.Equal(to, want) {
		t.Fatalf("incident mail to %v, want %v", to, want)
	}
	waitUntil(t, 30*time.Second, "the webhook's retry", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(calls) >= 2
	})
	mu.Lock()
	if calls[0] != calls[1] || !strings.HasPrefix(calls[0], "dl_") {
		t.Errorf("idempotency keys %v", calls)
	}
	mu.Unlock()
	var shown struct {
		Notices []struct {
			Counts map[string]int `json:"deliveries_by_status"`
		} `json:"notices"`
	}
	waitUntil(t, 10*time.Second, "every delivery sent", func() bool {
		accessJSON(t, "GET", p.base+"/api/v1/admin/incidents/"+inc.ID, op, nil, http.StatusOK, &shown)
		return len(shown.Notices) == 1 && shown.Notices[0].Counts["sent"] == 3
	})

	// News reaches only Alpha (Beta unsubscribed); maintenance reaches both.
	ann := func(kind string) {
		accessJSON(t, "POST", p.base+"/api/v1/admin/announcements", op,
			map[string]any{"kind": kind, "title": txt(kind + " title"), "body": txt(kind + " body")}, http.StatusAccepted, nil)
	}
	ann("news")
	ann("maintenance")
	// news: Alpha's owner and address; maintenance: those and Beta's owner.
	msgs = mb.Wait(7, 30*time.Second)[2:]
	got := map[string][]string{}
	for _, m := range msgs {
		kind := "maintenance"
		if strings.Contains(m.Text, "news body") {
			kind = "news"
		}
		got[kind] = append(got[kind], m.To...)
	}
	if slices.Contains(got["news"], "owner@beta.example.com") || !slices.Contains(got["maintenance"], "owner@beta.example.com") || len(got["news"]) != 2 {
		t.Fatalf("announcement recipients %v", got)
	}

	var notices struct {
		Notices []struct {
			Kind string `json:"kind"`
		} `json:"notices"`
	}
	accessJSON(t, "GET", p.base+"/api/v1/notices", b.owner, nil, http.StatusOK, &notices)
	if len(notices.Notices) != 2 {
		t.Fatalf("Beta sees %d notices, want both announcements (none of Alpha's incident)", len(notices.Notices))
	}
	// The console: the tenant's notices, and the operator's overview.
	page := func(path string, auth func(*http.Request)) (int, string) {
		req, _ := http.NewRequest("GET", p.base+path+"?lang=en", nil)
		auth(req)
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	asAlpha := func(r *http.Request) { r.AddCookie(&http.Cookie{Name: api.SessionCookie, Value: a.owner.cookie}) }
	if status, body := page("/console/notices", asAlpha); status != 200 || !strings.Contains(body, "Export bucket exposed") {
		t.Fatalf("console notices: %d %s", status, body)
	}
	if status, _ := page("/console/admin/incidents", asAlpha); status != http.StatusUnauthorized {
		t.Fatalf("a tenant's session opened the operator overview: %d", status)
	}
	status, body := page("/console/admin/incidents", func(r *http.Request) { r.SetBasicAuth("operator", op.bearer) })
	if status != 200 || !strings.Contains(body, inc.ID) || !strings.Contains(body, "sent 3") {
		t.Fatalf("operator overview: %d %s", status, body)
	}

	var trail struct {
		Entries []struct {
			Action string `json:"action"`
		} `json:"entries"`
	}
	accessJSON(t, "GET", p.base+"/api/v1/admin/audit?action=notify.delivery.failed", op, nil, http.StatusOK, &trail)
	if len(trail.Entries) != 1 {
		t.Fatalf("%d failed deliveries in the audit record, want 1", len(trail.Entries))
	}
	accessJSON(t, "GET", p.base+"/api/v1/admin/audit?action=incident.", op, nil, http.StatusOK, &trail)
	if len(trail.Entries) != 2 {
		t.Fatalf("%d incident entries in the audit record, want the recording and the notice", len(trail.Entries))
	}
	p.stop(t)
}

// TestNotifyFlags checks the mail and notification flags: bad
// combinations are reported, and every flag reads its ADMETER_* variable.
func TestNotifyFlags(t *testing.T) {
	pw := filepath.Join(t.TempDir(), "smtp.pw")
	if err := os.WriteFile(pw, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		mod  func(*NotifyConfig)
		want string
	}{
		{"Defaults", func(*NotifyConfig) {}, ""},
		{"Full", func(c *NotifyConfig) {
			c.SMTPAddr, c.SMTPFrom, c.SMTPUsername, c.SMTPPasswordFile = "smtp.example.com:587", "admeter <n@example.com>", "n", pw
		}, ""},
		{"NoFrom", func(c *NotifyConfig) { c.SMTPAddr = "smtp.example.com:587" }, "SMTP sender"},
		{"NoPort", func(c *NotifyConfig) { c.SMTPAddr, c.SMTPFrom = "smtp.example.com", "n@example.com" }, "host:port"},
		{"BadTLS", func(c *NotifyConfig) {
			c.SMTPAddr, c.SMTPFrom, c.SMTPTLS = "smtp.example.com:25", "n@example.com", "maybe"
		}, "starttls, tls or none"},
		{"FromWithoutAddr", func(c *NotifyConfig) { c.SMTPFrom = "n@example.com" }, "need --smtp-addr"},
		{"PasswordTwice", func(c *NotifyConfig) { c.SMTPPassword, c.SMTPPasswordFile = "x", pw }, "not both"},
		{"MissingPasswordFile", func(c *NotifyConfig) {
			c.SMTPAddr, c.SMTPFrom, c.SMTPUsername, c.SMTPPasswordFile = "smtp.example.com:587", "n@example.com", "n", pw+".missing"
		}, "--smtp-password-file"},
		{"ZeroWindow", func(c *NotifyConfig) { c.ReportWindow = 0 }, "report window"},
		{"FastInterval", func(c *NotifyConfig) { c.Interval = time.Millisecond }, "--notify-interval"},
		{"BackoffOverMax", func(c *NotifyConfig) { c.Backoff, c.MaxBackoff = time.Hour, time.Minute }, "backoff"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultServeConfig()
			tt.mod(&cfg.Notify)
			err := cfg.Validate()
			if tt.want == "" && err != nil {
				t.Fatal(err)
			} else if tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
	t.Setenv("ADMETER_SMTP_ADDR", "mx.example.com:25")
	t.Setenv("ADMETER_SMTP_USERNAME", "n")
	t.Setenv("ADMETER_SMTP_PASSWORD", "from-env")
	t.Setenv("ADMETER_INCIDENT_REPORT_WINDOW", "24h")
	cfg := DefaultServeConfig()
	fs := newFlagSet("serve", "")
	registerServeFlags(fs, &cfg)
	if err := parseFlags(fs, []string{"--smtp-from", "n@example.com"}); err != nil {
		t.Fatal(err)
	}
	if cfg.Notify.SMTPAddr != "mx.example.com:25" || cfg.Notify.SMTPPassword != "from-env" || cfg.Notify.ReportWindow != 24*time.Hour {
		t.Fatalf("environment not read: %+v", cfg.Notify)
	}
	sc, err := cfg.Notify.smtpConfig()
	if err != nil || sc.Password != "from-env" {
		t.Fatalf("smtp config %+v, %v", sc, err)
	}
}
