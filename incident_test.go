package admeter

import (
	"strings"
	"testing"
	"time"
)

func TestNotifySettingsValidate(t *testing.T) {
	for _, tt := range []struct {
		email, url string
		ok         bool
	}{
		{"", "", true},
		{" sec@example.com ", "https://hooks.example.com/x?a=1", true},
		{"", "https://127.0.0.1:8443/hook", true},
		{"", "http://127.0.0.1:8080/hook", false},
		{"", "http://localhost/hook", false},
		{"Sec <sec@example.com>", "", false},
		{"nope", "", false},
		{"", "http://hooks.example.com/x", false},
		{"", "https://u:p@hooks.example.com/x", false},
		{"", "https://hooks.example.com/x#frag", false},
		{"", "ftp://hooks.example.com/x", false},
		{"", "hooks.example.com/x", false},
	} {
		s := &NotifySettings{Email: tt.email, WebhookURL: tt.url}
		err := s.Validate()
		if (err == nil) != tt.ok {
			t.Errorf("email %q url %q: err = %v, want ok=%v", tt.email, tt.url, err, tt.ok)
		}
		if err != nil && ErrorCode(err) != EINVALID {
			t.Errorf("email %q url %q: code %s", tt.email, tt.url, ErrorCode(err))
		}
	}
}

func TestIncidentValidateNormalises(t *testing.T) {
	txt := Text{ZH: " 中 ", EN: " en "}
	at := time.Date(2026, 10, 1, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))
	i := &Incident{
		IncidentContent: IncidentContent{Title: txt, Summary: txt, Occurred: at, Discovered: at.Add(time.Hour),
			DataCategories: []string{"events", "network", "events"}, Impact: txt, MeasuresTaken: txt, MeasuresPlanned: txt,
			Advice: txt, Remedies: txt, Contact: txt},
		Severity: SeverityLow, Tenants: []TenantID{"t_b", "t_a", "t_b"},
	}
	if err := i.Validate(); err != nil {
		t.Fatal(err)
	}
	if i.Title != (Text{ZH: "中", EN: "en"}) || strings.Join(i.DataCategories, ",") != "events,network" ||
		len(i.Tenants) != 2 || i.Tenants[0] != "t_a" || i.Occurred.Location() != time.UTC {
		t.Fatalf("not normalised: %+v", i)
	}
	i.ReportDue = i.Discovered.Add(DefaultReportWindow)
	for _, tt := range []struct {
		now      time.Time
		reported time.Time
		want     bool
	}{
		{i.ReportDue, time.Time{}, false},
		{i.ReportDue.Add(time.Second), time.Time{}, true},
		{i.ReportDue.Add(time.Second), i.ReportDue, false},
	} {
		i.Reported = tt.reported
		if got := i.ReportOverdue(tt.now); got != tt.want {
			t.Errorf("ReportOverdue(%v) with reported %v = %v", tt.now, tt.reported, got)
		}
	}
	if !i.Affects("t_a") || i.Affects("t_c") {
		t.Error("Affects")
	}
}

func TestAnnouncementKinds(t *testing.T) {
	for k, critical := range map[AnnouncementKind]bool{AnnounceMaintenance: true, AnnounceSecurity: true, AnnounceNews: false} {
		if k.Critical() != critical || !k.Valid() {
			t.Errorf("%s: critical %v valid %v", k, k.Critical(), k.Valid())
		}
	}
	a := &Announcement{Kind: "party", Title: Text{"a", "b"}, Body: Text{"a", "b"}}
	if err := a.Validate(); ErrorCode(err) != EINVALID {
		t.Fatalf("unknown kind: %v", err)
	}
	a = &Announcement{Kind: AnnounceNews}
	if err := a.Validate(); !strings.Contains(ErrorMessage(err), "title.zh, title.en, body.zh, body.en") {
		t.Fatalf("missing text: %v", err)
	}
}
