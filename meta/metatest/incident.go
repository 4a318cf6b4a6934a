package metatest

import (
	"context"
	"crypto/sha256"
	"reflect"
	"testing"
	"time"

	"github.com/admeter/admeter"
)

// IncidentStore holds security incidents, announcements, the notices sent
// about them, their delivery outbox and tenants' notification settings.
// A store the suite runs must implement it too; it is apart from Store so
// that the suite's other areas stand without it.
type IncidentStore interface {
	CreateIncident(ctx context.Context, i *admeter.Incident) error
	UpdateIncident(ctx context.Context, i *admeter.Incident) error
	Incident(ctx context.Context, id admeter.IncidentID) (*admeter.Incident, error)
	Incidents(ctx context.Context) ([]*admeter.Incident, error)
	CreateAnnouncement(ctx context.Context, a *admeter.Announcement) error
	Announcements(ctx context.Context) ([]*admeter.Announcement, error)
	CreateNotice(ctx context.Context, n *admeter.Notice, ds []*admeter.Delivery) error
	Notice(ctx context.Context, id string) (*admeter.Notice, error)
	IncidentNotices(ctx context.Context, id admeter.IncidentID) ([]*admeter.Notice, error)
	AnnouncementNotices(ctx context.Context, id string) ([]*admeter.Notice, error)
	TenantNotices(ctx context.Context, tenant admeter.TenantID) ([]*admeter.Notice, error)
	Deliveries(ctx context.Context, notice string) ([]*admeter.Delivery, error)
	DueDeliveries(ctx context.Context, now time.Time, limit int) ([]*admeter.Delivery, error)
	UpdateDelivery(ctx context.Context, d *admeter.Delivery) error
	NotifySettings(ctx context.Context, tenant admeter.TenantID) (*admeter.NotifySettings, error)
	SetNotifySettings(ctx context.Context, s *admeter.NotifySettings) error
}

// RunIncidents tests incidents, announcements, notices, deliveries and
// notification settings.
func RunIncidents(t *testing.T, open Opener) {
	runTests(t, open, []test{
		{"Incidents", testIncidents},
		{"NoticesAndDeliveries", testNoticesAndDeliveries},
		{"NotifySettings", testNotifySettings},
	})
}

// incidentStore opens a store and returns it as an IncidentStore.
func incidentStore(t *testing.T, open Opener) (*testDB, IncidentStore) {
	t.Helper()
	db := openDB(t, open)
	s, ok := db.Store.(IncidentStore)
	if !ok {
		t.Fatalf("%T does not implement metatest.IncidentStore", db.Store)
	}
	return db, s
}

// newIncident returns a valid incident affecting tenants.
func newIncident(at time.Time, tenants ...admeter.TenantID) *admeter.Incident {
	txt := func(s string) admeter.Text { return admeter.Text{ZH: s + "(中文)", EN: s} }
	i := &admeter.Incident{
		IncidentContent: admeter.IncidentContent{
			Title: txt("Exposed export bucket"), Summary: txt("An export bucket was readable"),
			Occurred: at.Add(-48 * time.Hour), Discovered: at.Add(-2 * time.Hour),
			DataCategories: []string{"device_identifiers", "events"},
			Impact:         txt("Pseudonymised ids could be linked"), MeasuresTaken: txt("Bucket closed"),
			MeasuresPlanned: txt("Access review"), Advice: txt("Rotate API tokens"), Remedies: txt("Free audit"),
			Contact: txt("security@admeter.example"),
		},
		Severity: admeter.SeverityHigh, Tenants: tenants, ReportDue: at.Add(70 * time.Hour), CreatedBy: "operator",
	}
	return i
}

func testIncidents(t *testing.T, open Opener) {
	db, s := incidentStore(t, open)
	ctx := t.Context()
	at := time.Date(2026, 10, 1, 8, 0, 0, 0, time.UTC)
	db.SetNow(func() time.Time { return at })
	a, b := mustCreateTenant(t, db, "A"), mustCreateTenant(t, db, "B")

	i1 := newIncident(at, a.ID, b.ID)
	if err := i1.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateIncident(ctx, i1); err != nil {
		t.Fatal(err)
	}
	if i1.ID == "" || !i1.Created.Equal(at) || !i1.Updated.Equal(at) {
		t.Fatalf("created incident: id %q created %v updated %v", i1.ID, i1.Created, i1.Updated)
	}
	got, err := s.Incident(ctx, i1.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, i1) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, i1)
	}

	i2 := newIncident(at)
	i2.AllTenants = true
	db.SetNow(func() time.Time { return at.Add(time.Minute) })
	if err := s.CreateIncident(ctx, i2); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Incident(ctx, i2.ID); got == nil || !got.AllTenants || got.Tenants != nil {
		t.Fatalf("all-tenant incident read back as %+v", got)
	}

	later := at.Add(3 * time.Hour)
	db.SetNow(func() time.Time { return later })
	i1.MeasuresTaken.EN = "Bucket closed; keys rotated"
	i1.Reported, i1.ReportRef = at.Add(time.Hour), "CAC-2026-0042"
	if err := s.UpdateIncident(ctx, i1); err != nil {
		t.Fatal(err)
	}
	if !i1.Updated.Equal(later) {
		t.Fatalf("Updated = %v, want %v", i1.Updated, later)
	}
	if got, _ := s.Incident(ctx, i1.ID); !reflect.DeepEqual(got, i1) {
		t.Fatalf("after update:\n got %+v\nwant %+v", got, i1)
	}
	list, err := s.Incidents(ctx)
	if err != nil || len(list) != 2 || list[0].ID != i2.ID || list[1].ID != i1.ID {
		t.Fatalf("Incidents not newest first: %d, %v", len(list), err)
	}
	if _, err := s.Incident(ctx, "in_missing"); admeter.ErrorCode(err) != admeter.ENOTFOUND {
		t.Fatalf("missing incident: %v", err)
	}
	ghost := *i1
	ghost.ID = "in_missing"
	if err := s.UpdateIncident(ctx, &ghost); admeter.ErrorCode(err) != admeter.ENOTFOUND {
		t.Fatalf("update of a missing incident: %v", err)
	}

	an := &admeter.Announcement{Kind: admeter.AnnounceMaintenance, Title: admeter.Text{ZH: "维护", EN: "Maintenance"},
		Body: admeter.Text{ZH: "周六维护", EN: "Saturday maintenance"}, Starts: at.Add(24 * time.Hour), Ends: at.Add(26 * time.Hour),
		CreatedBy: "operator"}
	if err := s.CreateAnnouncement(ctx, an); err != nil {
		t.Fatal(err)
	}
	as, err := s.Announcements(ctx)
	if err != nil || len(as) != 1 || !reflect.DeepEqual(as[0], an) {
		t.Fatalf("announcements: %v\n got %+v\nwant %+v", err, as, an)
	}
}

func testNoticesAndDeliveries(t *testing.T, open Opener) {
	db, s := incidentStore(t, open)
	ctx := t.Context()
	at := time.Date(2026, 10, 1, 8, 0, 0, 0, time.UTC)
	db.SetNow(func() time.Time { return at })
	a, b := mustCreateTenant(t, db, "A"), mustCreateTenant(t, db, "B")
	inc := newIncident(at, a.ID, b.ID)
	if err := s.CreateIncident(ctx, inc); err != nil {
		t.Fatal(err)
	}
	n := &admeter.Notice{Kind: admeter.NoticeIncident, Incident: inc.ID, Critical: true,
		Subject: admeter.Text{ZH: "安全事件通知", EN: "Security incident notice"}, Body: admeter.Text{ZH: "正文", EN: "Body"},
		Payload: []byte(`{"type":"incident","b":1,"a":2}`), Tenants: []admeter.TenantID{b.ID, a.ID}, CreatedBy: "operator"}
	ds := []*admeter.Delivery{
		{Tenant: a.ID, Channel: admeter.ChannelEmail, Recipient: "owner@a.example"},
		{Tenant: a.ID, Channel: admeter.ChannelWebhook, Recipient: "https://hooks.a.example/x"},
		{Tenant: b.ID, Channel: admeter.ChannelEmail, Recipient: "owner@b.example"},
	}
	if err := s.CreateNotice(ctx, n, ds); err != nil {
		t.Fatal(err)
	}
	if n.ID == "" || !n.Created.Equal(at) {
		t.Fatalf("notice id %q created %v", n.ID, n.Created)
	}
	for _, d := range ds {
		if d.ID == "" || d.Notice != n.ID || d.Status != admeter.DeliveryPending || !d.NextAttempt.Equal(at) {
			t.Fatalf("delivery after create: %+v", d)
		}
	}
	got, err := s.Notice(ctx, n.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := *n
	want.Tenants = []admeter.TenantID{min(a.ID, b.ID), max(a.ID, b.ID)}
	if !reflect.DeepEqual(got, &want) {
		t.Fatalf("notice round trip:\n got %+v\nwant %+v", got, &want)
	}
	if string(got.Payload) != string(n.Payload) {
		t.Fatalf("payload changed: %s", got.Payload)
	}
	if ns, _ := s.IncidentNotices(ctx, inc.ID); len(ns) != 1 || ns[0].ID != n.ID {
		t.Fatalf("incident notices: %d", len(ns))
	}
	tn, err := s.TenantNotices(ctx, a.ID)
	if err != nil || len(tn) != 1 || len(tn[0].Tenants) != 1 || tn[0].Tenants[0] != a.ID {
		t.Fatalf("tenant notices reveal other tenants or are missing: %v %+v", err, tn)
	}

	due, err := s.DueDeliveries(ctx, at, 10)
	if err != nil || len(due) != 3 {
		t.Fatalf("due deliveries: %d, %v", len(due), err)
	}
	if due, _ := s.DueDeliveries(ctx, at, 2); len(due) != 2 {
		t.Fatalf("limit not applied: %d", len(due))
	}
	if due, _ := s.DueDeliveries(ctx, at.Add(-time.Second), 10); len(due) != 0 {
		t.Fatalf("deliveries due before they were made: %d", len(due))
	}

	d := ds[1]
	db.SetNow(func() time.Time { return at.Add(time.Minute) })
	d.Status, d.Attempts, d.LastError, d.NextAttempt = admeter.DeliveryFailed, 1, "503 Service Unavailable", at.Add(2*time.Minute)
	if err := s.UpdateDelivery(ctx, d); err != nil {
		t.Fatal(err)
	}
	ds[0].Status, ds[0].Attempts, ds[0].Sent = admeter.DeliverySent, 1, at.Add(time.Minute)
	if err := s.UpdateDelivery(ctx, ds[0]); err != nil {
		t.Fatal(err)
	}
	due, _ = s.DueDeliveries(ctx, at.Add(time.Minute), 10)
	if len(due) != 1 || due[0].ID != ds[2].ID {
		t.Fatalf("due after one sent and one failed: %+v", due)
	}
	due, _ = s.DueDeliveries(ctx, at.Add(2*time.Minute), 10)
	if len(due) != 2 || due[0].ID != ds[2].ID || due[1].ID != d.ID || !reflect.DeepEqual(due[1], d) {
		t.Fatalf("due once the retry is due:\n got %+v\nwant [%+v %+v]", due, ds[2], d)
	}
	all, err := s.Deliveries(ctx, n.ID)
	if err != nil || len(all) != 3 {
		t.Fatalf("deliveries: %d, %v", len(all), err)
	}
	ghost := *d
	ghost.ID = "dl_missing"
	if err := s.UpdateDelivery(ctx, &ghost); admeter.ErrorCode(err) != admeter.ENOTFOUND {
		t.Fatalf("update of a missing delivery: %v", err)
	}

	an := &admeter.Announcement{Kind: admeter.AnnounceNews, Title: admeter.Text{ZH: "新功能", EN: "New"}, Body: admeter.Text{ZH: "内容", EN: "Body"}}
	if err := s.CreateAnnouncement(ctx, an); err != nil {
		t.Fatal(err)
	}
	an2 := &admeter.Notice{Kind: admeter.NoticeAnnouncement, Announcement: an.ID, Subject: an.Title, Body: an.Body,
		Tenants: []admeter.TenantID{a.ID}}
	if err := s.CreateNotice(ctx, an2, nil); err != nil {
		t.Fatal(err)
	}
	if ns, _ := s.AnnouncementNotices(ctx, an.ID); len(ns) != 1 || ns[0].ID != an2.ID || ns[0].Critical || string(ns[0].Payload) != "{}" {
		t.Fatalf("announcement notices: %+v", ns)
	}
	if tn, _ := s.TenantNotices(ctx, a.ID); len(tn) != 2 || tn[0].ID != an2.ID {
		t.Fatalf("tenant notices not newest first: %d", len(tn))
	}
	if tn, _ := s.TenantNotices(ctx, b.ID); len(tn) != 1 {
		t.Fatalf("tenant B sees %d notices, want 1", len(tn))
	}

	bad := &admeter.Notice{Kind: admeter.NoticeIncident, Incident: inc.ID, Tenants: []admeter.TenantID{"t_missing"}}
	if err := s.CreateNotice(ctx, bad, nil); err == nil {
		t.Fatal("a notice to a tenant that does not exist was stored")
	}
	if ns, _ := s.IncidentNotices(ctx, inc.ID); len(ns) != 1 {
		t.Fatalf("a failed notice left %d notices", len(ns))
	}
}

func testNotifySettings(t *testing.T, open Opener) {
	db, s := incidentStore(t, open)
	ctx := t.Context()
	at := time.Date(2026, 10, 1, 8, 0, 0, 0, time.UTC)
	db.SetNow(func() time.Time { return at })
	a := mustCreateTenant(t, db, "A")
	got, err := s.NotifySettings(ctx, a.ID)
	if err != nil || !reflect.DeepEqual(got, &admeter.NotifySettings{Tenant: a.ID}) {
		t.Fatalf("default settings: %+v, %v", got, err)
	}
	secret := sha256.Sum256([]byte("sealed"))
	set := &admeter.NotifySettings{Tenant: a.ID, Email: "sec@a.example", WebhookURL: "https://hooks.a.example/x",
		WebhookSecret: secret[:], Unsubscribed: true}
	if err := s.SetNotifySettings(ctx, set); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.NotifySettings(ctx, a.ID); !reflect.DeepEqual(got, set) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, set)
	}
	set.WebhookURL, set.WebhookSecret, set.Unsubscribed = "", nil, false
	if err := s.SetNotifySettings(ctx, set); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.NotifySettings(ctx, a.ID); !reflect.DeepEqual(got, set) {
		t.Fatalf("after clearing:\n got %+v\nwant %+v", got, set)
	}
	if err := s.SetNotifySettings(ctx, &admeter.NotifySettings{Tenant: "t_missing"}); err == nil {
		t.Fatal("settings for a tenant that does not exist were stored")
	}
}
