package notify_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/meta/sqlite"
	"github.com/admeter/admeter/notify"
	"github.com/admeter/admeter/notify/notifytest"
)

// hookReceiver is a tenant's webhook endpoint: it checks each delivery's
// signature and fails the first failFirst deliveries with 503.
type hookReceiver struct {
	t         *testing.T
	secret    func() []byte
	now       func() time.Time
	failFirst int
	mu        sync.Mutex
	calls     []hookCall
}

type hookCall struct {
	key    string
	body   []byte
	status int
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if err := notify.Verify(h.secret(), r.Header.Get(notify.TimestampHeader), r.Header.Get(notify.SignatureHeader), body, h.now(), notify.DefaultTolerance); err != nil {
		h.t.Errorf("webhook delivery does not verify: %v", err)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	status := http.StatusNoContent
	if len(h.calls) < h.failFirst {
		status = http.StatusServiceUnavailable
	}
	h.calls = append(h.calls, hookCall{key: r.Header.Get(notify.IdempotencyHeader), body: body, status: status})
	w.WriteHeader(status)
}

func (h *hookReceiver) all() []hookCall {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.calls)
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is a notify service on a real SQLite store with a real audit record.
type env struct {
	hook  *notify.Webhook
	db    *sqlite.DB
	audit *sqlite.AuditLog
	svc   *notify.Service
	clock *clock
}

// sealed marks a test-sealed secret; the real sealer encrypts.
const sealed = "sealed:"

func seal(b []byte) ([]byte, error) { return append([]byte(sealed), b...), nil }
func unseal(b []byte) ([]byte, error) {
	if !bytes.HasPrefix(b, []byte(sealed)) {
		return nil, errors.New("not sealed")
	}
	return bytes.Clone(b[len(sealed):]), nil
}

func newEnv(t *testing.T, mailer notify.Mailer, mod func(*notify.Config)) *env {
	t.Helper()
	c := &clock{t: time.Date(2026, 10, 1, 2, 0, 0, 0, time.UTC)}
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "meta.db"))
	db.Now = c.Now
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	audit := sqlite.NewAuditLog(db, nil)
	cfg := notify.DefaultConfig()
	cfg.Now, cfg.Seal, cfg.Open = c.Now, seal, unseal
	cfg.ConsoleURL = "https://admeter.example.com"
	if mod != nil {
		mod(&cfg)
	}
	hook := notify.NewWebhook()
	hook.Now = c.Now
	svc, err := notify.New(cfg, db, mailer, hook, audit, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &env{hook: hook, db: db, audit: audit, svc: svc, clock: c}
}

// tenant creates a tenant with users of the given roles, whose emails are
// role@name.example.
func (e *env) tenant(t *testing.T, name string, roles ...admeter.Role) admeter.TenantID {
	t.Helper()
	tn := &admeter.Tenant{Name: name, Kind: admeter.TenantAdvertiser}
	if err := e.db.CreateTenant(t.Context(), tn, sha256.Sum256([]byte(name))); err != nil {
		t.Fatal(err)
	}
	for _, r := range roles {
		u := &admeter.User{Tenant: tn.ID, Email: string(r) + "@" + strings.ToLower(name) + ".example", Name: string(r), Role: r}
		if err := e.db.CreateUser(t.Context(), u, "x"); err != nil {
			t.Fatal(err)
		}
	}
	return tn.ID
}

func txt(s string) admeter.Text { return admeter.Text{ZH: s + "【中】", EN: s + " [en]"} }

// incident returns a complete incident affecting tenants.
func incident(at time.Time, tenants ...admeter.TenantID) *admeter.Incident {
	return &admeter.Incident{
		IncidentContent: admeter.IncidentContent{
			Title: txt("TITLE"), Summary: txt("SUMMARY"), Occurred: at.Add(-30 * time.Hour), Discovered: at.Add(-time.Hour),
			DataCategories: []string{"events", "device_identifiers"}, Impact: txt("IMPACT"), MeasuresTaken: txt("TAKEN"),
			MeasuresPlanned: txt("PLANNED"), Advice: txt("ADVICE"), Remedies: txt("REMEDIES"), Contact: txt("CONTACT"),
		},
		Severity: admeter.SeverityHigh, Tenants: tenants,
	}
}

func (e *env) deliver(t *testing.T) notify.DeliverResult {
	t.Helper()
	res, err := e.svc.Deliver(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func (e *env) actions(t *testing.T, prefix string) []admeter.AuditEntry {
	t.Helper()
	es, err := e.db.AuditEntries(t.Context(), admeter.AuditQuery{Action: prefix, Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func TestIncidentNotification(t *testing.T) {
	mb := notifytest.NewMailbox(t)
	mailer, err := notify.NewSMTP(notify.SMTPConfig{Addr: mb.Addr, From: "admeter <noreply@admeter.example.com>", TLS: notify.TLSNone})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, mailer, func(c *notify.Config) { c.Backoff, c.MaxBackoff, c.MaxAttempts = time.Minute, time.Hour, 5 })
	ctx := t.Context()
	a := e.tenant(t, "Alpha", admeter.RoleOwner, admeter.RoleAdmin, admeter.RoleAnalyst, admeter.RoleViewer)
	b := e.tenant(t, "Beta", admeter.RoleOwner)
	c := e.tenant(t, "Gamma", admeter.RoleOwner)

	var secret []byte
	hook := &hookReceiver{t: t, secret: func() []byte { return secret }, now: e.clock.Now, failFirst: 2}
	hs := httptest.NewTLSServer(hook)
	t.Cleanup(hs.Close)
	e.hook.Client = hs.Client()
	email, url := "security@alpha.example", hs.URL+"/hook"
	_, sec, err := e.svc.SetSettings(ctx, "user:u_test", a, notify.SettingsUpdate{Email: &email, WebhookURL: &url})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(sec, "whsec_") {
		t.Fatalf("new webhook secret %q", sec)
	}
	secret = []byte(sec)
	if set, _ := e.db.NotifySettings(ctx, a); !bytes.HasPrefix(set.WebhookSecret, []byte(sealed)) {
		t.Fatal("webhook secret stored unsealed")
	}

	in := incident(e.clock.Now(), a, b)
	if err := e.svc.RecordIncident(ctx, "operator", in); err != nil {
		t.Fatal(err)
	}
	if want := in.Discovered.Add(72 * time.Hour); !in.ReportDue.Equal(want) {
		t.Fatalf("report due %v, want discovery + 72h = %v", in.ReportDue, want)
	}
	n, ds, err := e.svc.NotifyIncident(ctx, "operator", in.ID, admeter.Text{})
	if err != nil {
		t.Fatal(err)
	}
	if n.Kind != admeter.NoticeIncident || !n.Critical || len(n.Tenants) != 2 {
		t.Fatalf("notice %+v", n)
	}
	// Alpha: owner, admin, its notification address, its webhook; Beta: owner.
	if len(ds) != 5 {
		t.Fatalf("%d deliveries, want 5", len(ds))
	}

	res := e.deliver(t)
	if res.Sent != 4 || res.Failed != 1 {
		t.Fatalf("first pass %+v, want 4 sent and the webhook failed", res)
	}
	msgs := mb.All()
	var rcpts []string
	for _, m := range msgs {
		rcpts = append(rcpts, m.To...)
		if m.From != "noreply@admeter.example.com" {
			t.Errorf("envelope sender %q", m.From)
		}
	}
	slices.Sort(rcpts)
	if want := []string{"admin@alpha.example", "owner@alpha.example", "owner@beta.example", "security@alpha.example"}; !slices.Equal(rcpts, want) {
		t.Fatalf("recipients %v, want %v (no analyst, viewer or unaffected tenant)", rcpts, want)
	}
	ids := map[string]bool{}
	for _, d := range ds {
		ids[d.ID] = true
	}
	for _, m := range msgs {
		mid := strings.Trim(m.Header.Get("Message-Id"), "<>")
		if !ids[strings.SplitN(mid, "@", 2)[0]] || !strings.HasSuffix(mid, "@admeter.example.com") {
			t.Errorf("Message-ID %q is not a delivery id", mid)
		}
		if !strings.Contains(m.Subject, "个人信息安全事件通知") || !strings.Contains(m.Subject, "Personal information security incident notice") {
			t.Errorf("subject not bilingual: %q", m.Subject)
		}
		for _, want := range []string{
			"TITLE【中】", "SUMMARY【中】", "IMPACT【中】", "TAKEN【中】", "PLANNED【中】", "ADVICE【中】", "REMEDIES【中】", "CONTACT【中】",
			"TITLE [en]", "SUMMARY [en]", "IMPACT [en]", "TAKEN [en]", "PLANNED [en]", "ADVICE [en]", "REMEDIES [en]", "CONTACT [en]",
			"事件基本情况", "可能的影响", "个人自主防范和降低风险的建议", "补救措施", "发现时间", "广告曝光与点击记录",
			"What happened", "Possible impact", "protect themselves", "Remedies", "Discovered", "ad exposure and click records",
			string(in.ID),
		} {
			if !strings.Contains(m.Text, want) {
				t.Errorf("mail to %v lacks %q", m.To, want)
			}
		}
		if strings.Contains(m.Text, string(b)) || strings.Contains(m.Text, string(c)) {
			t.Errorf("mail to %v names a tenant", m.To)
		}
	}

	// The webhook failed once; it is not retried before its backoff.
	calls := hook.all()
	if len(calls) != 1 || calls[0].status != http.StatusServiceUnavailable {
		t.Fatalf("webhook calls %+v", calls)
	}
	e.clock.Add(59 * time.Second)
	if res := e.deliver(t); res != (notify.DeliverResult{}) {
		t.Fatalf("retried before the backoff: %+v", res)
	}
	e.clock.Add(time.Second)
	if res := e.deliver(t); res.Failed != 1 {
		t.Fatalf("second attempt %+v, want failed", res)
	}
	// The second failure doubles the wait.
	e.clock.Add(119 * time.Second)
	if res := e.deliver(t); res != (notify.DeliverResult{}) {
		t.Fatalf("retried before the doubled backoff: %+v", res)
	}
	e.clock.Add(time.Second)
	if res := e.deliver(t); res.Sent != 1 {
		t.Fatalf("third attempt %+v, want sent", res)
	}
	calls = hook.all()
	if len(calls) != 3 {
		t.Fatalf("%d webhook calls, want 3", len(calls))
	}
	for _, c := range calls[1:] {
		if c.key != calls[0].key || !bytes.Equal(c.body, calls[0].body) {
			t.Fatalf("retry changed the idempotency key or body")
		}
	}
	var body struct {
		ID       string           `json:"id"`
		Tenant   admeter.TenantID `json:"tenant"`
		Type     string           `json:"type"`
		Critical bool             `json:"critical"`
		Data     struct {
			Incident struct {
				ID     admeter.IncidentID `json:"id"`
				Advice admeter.Text       `json:"advice"`
			} `json:"incident"`
		} `json:"data"`
	}
	if err := json.Unmarshal(calls[0].body, &body); err != nil {
		t.Fatal(err)
	}
	if !ids[body.ID] || body.ID != calls[0].key || body.Tenant != a || body.Type != "incident" || !body.Critical ||
		body.Data.Incident.ID != in.ID || body.Data.Incident.Advice != in.Advice {
		t.Fatalf("webhook body %s", calls[0].body)
	}
	all, _ := e.svc.Deliveries(ctx, n.ID)
	for _, d := range all {
		if d.Status != admeter.DeliverySent || d.Sent.IsZero() {
			t.Errorf("delivery %s %s: %s", d.Channel, d.Recipient, d.Status)
		}
		if d.Channel == admeter.ChannelWebhook && d.Attempts != 3 {
			t.Errorf("webhook attempts %d, want 3", d.Attempts)
		}
	}
	if n := len(mb.All()); n != 4 {
		t.Fatalf("%d mails after the retries, want still 4", n)
	}

	// A follow-up goes to the same tenants, with what changed.
	in.MeasuresTaken = txt("TAKEN2")
	if err := e.svc.UpdateIncident(ctx, "operator", in); err != nil {
		t.Fatal(err)
	}
	up, _, err := e.svc.NotifyIncident(ctx, "operator", in.ID, txt("NOTE"))
	if err != nil {
		t.Fatal(err)
	}
	if up.Kind != admeter.NoticeIncidentUpdate || !strings.Contains(up.Body.ZH, "NOTE【中】") || !strings.Contains(up.Body.EN, "TAKEN2 [en]") ||
		!strings.Contains(up.Subject.EN, "update 1") {
		t.Fatalf("follow-up %+v", up)
	}
	e.deliver(t)
	if n := len(mb.All()); n != 8 {
		t.Fatalf("%d mails after the follow-up, want 8", n)
	}

	// The audit record has the recording, the notice and every status change.
	if n := len(e.actions(t, "incident.record")); n != 1 {
		t.Errorf("%d incident.record entries", n)
	}
	if n := len(e.actions(t, "incident.notify")); n != 2 {
		t.Errorf("%d incident.notify entries", n)
	}
	if n := len(e.actions(t, "notify.delivery.pending")); n != 10 {
		t.Errorf("%d queued deliveries in the audit record, want 10", n)
	}
	if n := len(e.actions(t, "notify.delivery.failed")); n != 2 {
		t.Errorf("%d failed deliveries in the audit record, want 2", n)
	}
	if n := len(e.actions(t, "notify.delivery.sent")); n != 10 {
		t.Errorf("%d sent deliveries in the audit record, want 10", n)
	}
	for _, en := range e.actions(t, "notify.") {
		raw, _ := json.Marshal(en)
		if bytes.Contains(raw, []byte("@")) {
			t.Errorf("audit entry names an email address: %s", raw)
		}
	}
	tn, err := e.db.AuditEntries(ctx, admeter.AuditQuery{Tenant: c, Limit: 100})
	if err != nil || len(tn) != 0 {
		t.Errorf("the unaffected tenant's trail has %d entries", len(tn))
	}
}

func TestDeliveryGivenUp(t *testing.T) {
	e := newEnv(t, nil, func(c *notify.Config) { c.Backoff, c.MaxBackoff, c.MaxAttempts = time.Second, 4*time.Second, 4 })
	ctx := t.Context()
	var hits int
	var mu sync.Mutex
	hs := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
		http.Error(w, "down", http.StatusInternalServerError)
	}))
	t.Cleanup(hs.Close)
	e.hook.Client = hs.Client()
	a := e.tenant(t, "Alpha", admeter.RoleOwner)
	url := hs.URL
	if _, _, err := e.svc.SetSettings(ctx, "user:u_test", a, notify.SettingsUpdate{WebhookURL: &url}); err != nil {
		t.Fatal(err)
	}
	in := incident(e.clock.Now(), a)
	if err := e.svc.RecordIncident(ctx, "operator", in); err != nil {
		t.Fatal(err)
	}
	_, ds, err := e.svc.NotifyIncident(ctx, "operator", in.ID, admeter.Text{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 2 {
		t.Fatalf("%d deliveries, want email and webhook", len(ds))
	}
	var waits []time.Duration
	for range 10 {
		e.deliver(t)
		got, _ := e.svc.Deliveries(ctx, ds[0].Notice)
		for _, d := range got {
			if d.Channel == admeter.ChannelEmail && (d.Status != admeter.DeliveryPending || d.Attempts != 0 || !strings.Contains(d.LastError, "SMTP")) {
				t.Fatalf("email without a mail server: %+v", d)
			}
			if d.Channel == admeter.ChannelWebhook && d.Status == admeter.DeliveryFailed {
				waits = append(waits, d.NextAttempt.Sub(e.clock.Now()))
			}
		}
		e.clock.Add(4 * time.Second)
	}
	got, _ := e.svc.Deliveries(ctx, ds[0].Notice)
	var hook *admeter.Delivery
	for _, d := range got {
		if d.Channel == admeter.ChannelWebhook {
			hook = d
		}
	}
	if hook.Status != admeter.DeliveryGivenUp || hook.Attempts != 4 || !strings.Contains(hook.LastError, "500") {
		t.Fatalf("permanently failing webhook ended as %+v", hook)
	}
	if want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}; !slices.Equal(waits, want) {
		t.Fatalf("backoff %v, want %v", waits, want)
	}
	if hits != 4 {
		t.Fatalf("%d webhook requests, want 4", hits)
	}
	if n := len(e.actions(t, "notify.delivery.given_up")); n != 1 {
		t.Fatalf("%d given_up audit entries", n)
	}
}

func TestAnnouncements(t *testing.T) {
	mb := notifytest.NewMailbox(t)
	mailer, err := notify.NewSMTP(notify.SMTPConfig{Addr: mb.Addr, From: "noreply@admeter.example.com", TLS: notify.TLSNone})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, mailer, nil)
	ctx := t.Context()
	a := e.tenant(t, "Alpha", admeter.RoleOwner)
	b := e.tenant(t, "Beta", admeter.RoleOwner)
	yes := true
	if _, _, err := e.svc.SetSettings(ctx, "user:u_b", b, notify.SettingsUpdate{Unsubscribed: &yes}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		kind  admeter.AnnouncementKind
		mails []string
	}{
		{admeter.AnnounceNews, []string{"owner@alpha.example"}},
		{admeter.AnnounceMaintenance, []string{"owner@alpha.example", "owner@beta.example"}},
		{admeter.AnnounceSecurity, []string{"owner@alpha.example", "owner@beta.example"}},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			e.clock.Add(time.Minute)
			before := len(mb.All())
			an := &admeter.Announcement{Kind: tt.kind, Title: txt("ANN"), Body: txt("BODY")}
			n, _, err := e.svc.Announce(ctx, "operator", an)
			if err != nil {
				t.Fatal(err)
			}
			if n.Critical != tt.kind.Critical() || len(n.Tenants) != 2 {
				t.Fatalf("notice critical=%v tenants=%d", n.Critical, len(n.Tenants))
			}
			e.deliver(t)
			var to []string
			for _, m := range mb.All()[before:] {
				to = append(to, m.To...)
				if !strings.Contains(m.Text, "BODY【中】") || !strings.Contains(m.Text, "BODY [en]") {
					t.Errorf("announcement not bilingual: %q", m.Text)
				}
				if unsub := m.Header.Get("List-Unsubscribe"); (unsub != "") == tt.kind.Critical() {
					t.Errorf("List-Unsubscribe %q on a %s announcement", unsub, tt.kind)
				}
			}
			slices.Sort(to)
			if !slices.Equal(to, tt.mails) {
				t.Fatalf("mails to %v, want %v", to, tt.mails)
			}
			// The unsubscribed tenant still sees it in its console.
			if ns, _ := e.svc.TenantNotices(ctx, b); len(ns) == 0 || ns[0].Announcement != an.ID {
				t.Fatalf("tenant B's notices lack the announcement")
			}
		})
	}
	_ = a
}

func TestRecordIncidentValidation(t *testing.T) {
	e := newEnv(t, nil, nil)
	ctx := t.Context()
	a := e.tenant(t, "Alpha")
	now := e.clock.Now()
	tests := []struct {
		name string
		mod  func(*admeter.Incident)
		want []string
	}{
		{"Empty", func(i *admeter.Incident) { *i = admeter.Incident{} }, []string{"title.zh", "summary.en", "occurred", "discovered",
			"data_categories", "impact.zh", "measures_taken.en", "measures_planned.zh", "advice.zh", "remedies.en", "contact.zh", "tenants", "severity"}},
		{"AdviceEnglishMissing", func(i *admeter.Incident) { i.Advice.EN = " " }, []string{"advice.en"}},
		{"DiscoveredBeforeOccurred", func(i *admeter.Incident) { i.Discovered = i.Occurred.Add(-time.Hour) }, []string{"before occurred"}},
		{"UnknownCategory", func(i *admeter.Incident) { i.DataCategories = []string{"dna"} }, []string{`"dna" is not one of`}},
		{"BadSeverity", func(i *admeter.Incident) { i.Severity = "meh" }, []string{"severity must be"}},
		{"UnknownTenant", func(i *admeter.Incident) { i.Tenants = []admeter.TenantID{"t_nobody"} }, []string{"t_nobody does not exist"}},
		{"BothTenantsAndAll", func(i *admeter.Incident) { i.AllTenants = true }, []string{"not both"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := incident(now, a)
			tt.mod(in)
			err := e.svc.RecordIncident(ctx, "operator", in)
			if admeter.ErrorCode(err) != admeter.EINVALID {
				t.Fatalf("err = %v, want invalid", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(admeter.ErrorMessage(err), w) {
					t.Errorf("message %q lacks %q", admeter.ErrorMessage(err), w)
				}
			}
		})
	}
	if list, _ := e.svc.Incidents(ctx); len(list) != 0 {
		t.Fatalf("%d invalid incidents stored", len(list))
	}
}

func TestRegulatorDeadline(t *testing.T) {
	e := newEnv(t, nil, func(c *notify.Config) { c.ReportWindow = 24 * time.Hour })
	ctx := t.Context()
	a := e.tenant(t, "Alpha")
	in := incident(e.clock.Now(), a)
	if err := e.svc.RecordIncident(ctx, "operator", in); err != nil {
		t.Fatal(err)
	}
	if want := in.Discovered.Add(24 * time.Hour); !in.ReportDue.Equal(want) {
		t.Fatalf("due %v, want %v", in.ReportDue, want)
	}
	if in.ReportOverdue(e.clock.Now()) {
		t.Fatal("overdue at once")
	}
	e.clock.Add(24 * time.Hour)
	got, _ := e.svc.Incident(ctx, in.ID)
	if !got.ReportOverdue(e.clock.Now()) {
		t.Fatal("not overdue a day after discovery with a 24h window")
	}
	if _, err := e.svc.MarkReported(ctx, "operator", in.ID, e.clock.Now().Add(time.Hour), "x"); admeter.ErrorCode(err) != admeter.EINVALID {
		t.Fatalf("report in the future: %v", err)
	}
	got, err := e.svc.MarkReported(ctx, "operator", in.ID, time.Time{}, "CAC-1")
	if err != nil {
		t.Fatal(err)
	}
	if got.ReportOverdue(e.clock.Now()) || got.ReportRef != "CAC-1" || !got.Reported.Equal(e.clock.Now()) {
		t.Fatalf("after reporting: %+v", got)
	}
	es := e.actions(t, "incident.regulator_report")
	if len(es) != 1 || es[0].Details["late"] != true {
		t.Fatalf("audit %+v", es)
	}
}

func TestBackoff(t *testing.T) {
	e := newEnv(t, nil, func(c *notify.Config) { c.Backoff, c.MaxBackoff = time.Minute, 10*time.Minute })
	for _, tt := range []struct {
		attempts int
		want     time.Duration
	}{{1, time.Minute}, {2, 2 * time.Minute}, {3, 4 * time.Minute}, {4, 8 * time.Minute}, {5, 10 * time.Minute}, {60, 10 * time.Minute}} {
		if got := e.svc.Backoff(tt.attempts); got != tt.want {
			t.Errorf("Backoff(%d) = %s, want %s", tt.attempts, got, tt.want)
		}
	}
}

func TestSettingsValidation(t *testing.T) {
	e := newEnv(t, nil, nil)
	ctx := t.Context()
	a := e.tenant(t, "Alpha")
	for _, tt := range []struct{ email, url string }{
		{"not an address", ""},
		{"Name <x@example.com>", ""},
		{"", "ftp://example.com/x"},
		{"", "http://hooks.example.com/x"},
		{"", "http://127.0.0.1:8080/x"},
		{"", "https://user:pw@hooks.example.com/x"},
		{"", "/relative"},
	} {
		if _, _, err := e.svc.SetSettings(ctx, "u", a, notify.SettingsUpdate{Email: &tt.email, WebhookURL: &tt.url}); admeter.ErrorCode(err) != admeter.EINVALID {
			t.Errorf("email %q url %q: err = %v, want invalid", tt.email, tt.url, err)
		}
	}
	url := "https://hooks.example.com/x"
	_, s1, err := e.svc.SetSettings(ctx, "u", a, notify.SettingsUpdate{WebhookURL: &url})
	if err != nil || s1 == "" {
		t.Fatalf("set webhook: %v %q", err, s1)
	}
	if _, s2, _ := e.svc.SetSettings(ctx, "u", a, notify.SettingsUpdate{WebhookURL: &url}); s2 != "" {
		t.Fatal("the same URL made a new secret")
	}
	if _, s3, _ := e.svc.SetSettings(ctx, "u", a, notify.SettingsUpdate{RotateSecret: true}); s3 == "" || s3 == s1 {
		t.Fatal("rotation made no new secret")
	}
	empty := ""
	set, _, err := e.svc.SetSettings(ctx, "u", a, notify.SettingsUpdate{WebhookURL: &empty})
	if err != nil || set.WebhookSecret != nil {
		t.Fatalf("removing the webhook kept its secret: %v", err)
	}
}

func TestSignVerify(t *testing.T) {
	secret, body := []byte("whsec_x"), []byte(`{"a":1}`)
	now := time.Unix(1_800_000_000, 0)
	sig := notify.Sign(secret, now.Unix(), body)
	ts := "1800000000"
	for _, tt := range []struct {
		name         string
		secret       []byte
		ts, sig      string
		body         []byte
		now          time.Time
		wantOK       bool
		wantContains string
	}{
		{"OK", secret, ts, sig, body, now, true, ""},
		{"RotationList", secret, ts, "v1=00," + sig, body, now, true, ""},
		{"WrongSecret", []byte("other"), ts, sig, body, now, false, "no signature"},
		{"ChangedBody", secret, ts, sig, []byte(`{"a":2}`), now, false, "no signature"},
		{"Replay", secret, ts, sig, body, now.Add(6 * time.Minute), false, "replay"},
		{"BadTimestamp", secret, "soon", sig, body, now, false, "Unix time"},
		{"OtherTimestamp", secret, "1800000001", sig, body, now, false, "no signature"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := notify.Verify(tt.secret, tt.ts, tt.sig, tt.body, tt.now, notify.DefaultTolerance)
			if (err == nil) != tt.wantOK || (err != nil && !strings.Contains(err.Error(), tt.wantContains)) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func FuzzVerify(f *testing.F) {
	f.Add("1800000000", "v1=abc", []byte("{}"))
	f.Add("-1", ",,,", []byte(""))
	f.Add("99999999999999999999", "v1="+strings.Repeat("0", 64), []byte("x"))
	secret := []byte("k")
	now := time.Unix(1_800_000_000, 0)
	f.Fuzz(func(t *testing.T, ts, sig string, body []byte) {
		if notify.Verify(secret, ts, sig, body, now, notify.DefaultTolerance) != nil {
			return
		}
		// Only the real signature of this body at this time may pass.
		n, err := strconv.ParseInt(strings.TrimSpace(ts), 10, 64)
		if err != nil || !strings.Contains(sig, notify.Sign(secret, n, body)) {
			t.Fatalf("accepted a forged signature %q at %q for %q", sig, ts, body)
		}
	})
}
