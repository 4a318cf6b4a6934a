package api

import (
	"context"
	"crypto/subtle"
	"net/http"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/notify"
)

// IncidentService records security incidents and announcements and
// notifies tenants of them (package notify).
type IncidentService interface {
	RecordIncident(ctx context.Context, actor string, i *admeter.Incident) error
	UpdateIncident(ctx context.Context, actor string, i *admeter.Incident) error
	MarkReported(ctx context.Context, actor string, id admeter.IncidentID, at time.Time, ref string) (*admeter.Incident, error)
	Incident(ctx context.Context, id admeter.IncidentID) (*admeter.Incident, error)
	Incidents(ctx context.Context) ([]*admeter.Incident, error)
	IncidentNotices(ctx context.Context, id admeter.IncidentID) ([]*admeter.Notice, error)
	NotifyIncident(ctx context.Context, actor string, id admeter.IncidentID, note admeter.Text) (*admeter.Notice, []*admeter.Delivery, error)
	Announce(ctx context.Context, actor string, a *admeter.Announcement) (*admeter.Notice, []*admeter.Delivery, error)
	Announcements(ctx context.Context) ([]*admeter.Announcement, error)
	AnnouncementNotices(ctx context.Context, id string) ([]*admeter.Notice, error)
	Notice(ctx context.Context, id string) (*admeter.Notice, error)
	Deliveries(ctx context.Context, notice string) ([]*admeter.Delivery, error)
	TenantNotices(ctx context.Context, tenant admeter.TenantID) ([]*admeter.Notice, error)
	TenantNotice(ctx context.Context, tenant admeter.TenantID, id string) (*admeter.Notice, []*admeter.Delivery, error)
	Settings(ctx context.Context, tenant admeter.TenantID) (*admeter.NotifySettings, error)
	SetSettings(ctx context.Context, actor string, tenant admeter.TenantID, u notify.SettingsUpdate) (*admeter.NotifySettings, string, error)
	ReportWindow() time.Duration
}

// registerIncidents adds the incident, announcement and notice routes.
func (s *Server) registerIncidents(mux *http.ServeMux) {
	mux.Handle("POST /api/v1/admin/incidents", s.wrap(s.requireOperator(s.recordIncident)))
	mux.Handle("GET /api/v1/admin/incidents", s.wrap(s.requireOperator(s.listIncidents)))
	mux.Handle("GET /api/v1/admin/incidents/{id}", s.wrap(s.requireOperator(s.showIncident)))
	mux.Handle("PATCH /api/v1/admin/incidents/{id}", s.wrap(s.requireOperator(s.updateIncident)))
	mux.Handle("POST /api/v1/admin/incidents/{id}/notify", s.wrap(s.requireOperator(s.notifyIncident)))
	mux.Handle("POST /api/v1/admin/incidents/{id}/reported", s.wrap(s.requireOperator(s.reportedIncident)))
	mux.Handle("POST /api/v1/admin/announcements", s.wrap(s.requireOperator(s.announce)))
	mux.Handle("GET /api/v1/admin/announcements", s.wrap(s.requireOperator(s.listAnnouncements)))
	mux.Handle("GET /api/v1/admin/notices/{id}", s.wrap(s.requireOperator(s.showNotice)))
	mux.Handle("GET /api/v1/notices", s.wrap(s.require(admeter.PermReadCampaigns, s.listTenantNotices)))
	mux.Handle("GET /api/v1/notices/{id}", s.wrap(s.require(admeter.PermReadCampaigns, s.showTenantNotice)))
	mux.Handle("GET /api/v1/notifications", s.wrap(s.require(admeter.PermManageAccount, s.notifySettings)))
	mux.Handle("PATCH /api/v1/notifications", s.wrap(s.require(admeter.PermManageAccount, s.setNotifySettings)))
}

// IsOperator reports whether a request carries the operator token, as
// Authorization: Bearer or as the password of HTTP Basic authentication
// (what a browser sends for the console's operator pages).
func (s *Server) IsOperator(r *http.Request) bool {
	tok := bearer(r)
	if tok == "" {
		_, tok, _ = r.BasicAuth()
	}
	if tok == "" {
		return false
	}
	h := HashToken(tok)
	return subtle.ConstantTimeCompare(h[:], s.operatorHash[:]) == 1
}

// incidentInput is the body that records or changes an incident.
type incidentInput struct {
	admeter.IncidentContent
	Severity   admeter.Severity   `json:"severity"`
	AllTenants bool               `json:"all_tenants"`
	Tenants    []admeter.TenantID `json:"tenants"`
}

// incidentView is an incident as the operator API shows it.
type incidentView struct {
	ID admeter.IncidentID `json:"id"`
	admeter.IncidentContent
	Severity      admeter.Severity   `json:"severity"`
	AllTenants    bool               `json:"all_tenants"`
	Tenants       []admeter.TenantID `json:"tenants"`
	ReportDue     time.Time          `json:"report_due"`
	ReportedAt    *time.Time         `json:"reported_at"`
	ReportRef     string             `json:"report_ref,omitempty"`
	ReportOverdue bool               `json:"report_overdue"`
	CreatedBy     string             `json:"created_by"`
	Created       time.Time          `json:"created"`
	Updated       time.Time          `json:"updated"`
	Notices       []noticeView       `json:"notices,omitempty"`
}

func (s *Server) incidentView(i *admeter.Incident) incidentView {
	v := incidentView{ID: i.ID, IncidentContent: i.IncidentContent, Severity: i.Severity, AllTenants: i.AllTenants,
		Tenants: i.Tenants, ReportDue: i.ReportDue, ReportRef: i.ReportRef, ReportOverdue: i.ReportOverdue(s.now()),
		CreatedBy: i.CreatedBy, Created: i.Created, Updated: i.Updated}
	if v.Tenants == nil {
		v.Tenants = []admeter.TenantID{}
	}
	if !i.Reported.IsZero() {
		t := i.Reported
		v.ReportedAt = &t
	}
	return v
}

// noticeView is a notice as the API shows it. Tenants and Counts are for
// operators only.
type noticeView struct {
	ID           string             `json:"id"`
	Kind         admeter.NoticeKind `json:"kind"`
	Incident     admeter.IncidentID `json:"incident,omitempty"`
	Announcement string             `json:"announcement,omitempty"`
	Critical     bool               `json:"critical"`
	Subject      admeter.Text       `json:"subject"`
	Body         *admeter.Text      `json:"body,omitempty"`
	Created      time.Time          `json:"created"`
	Tenants      int                `json:"tenants,omitempty"`
	Counts       map[string]int     `json:"deliveries_by_status,omitempty"`
	Deliveries   []deliveryView     `json:"deliveries,omitempty"`
}

// deliveryView is a delivery as the API shows it.
type deliveryView struct {
	ID          string                  `json:"id"`
	Tenant      admeter.TenantID        `json:"tenant"`
	Channel     admeter.DeliveryChannel `json:"channel"`
	Recipient   string                  `json:"recipient"`
	Status      admeter.DeliveryStatus  `json:"status"`
	Attempts    int                     `json:"attempts"`
	LastError   string                  `json:"last_error,omitempty"`
	NextAttempt *time.Time              `json:"next_attempt,omitempty"`
	Sent        *time.Time              `json:"sent,omitempty"`
}

func noticeOf(n *admeter.Notice, body bool) noticeView {
	v := noticeView{ID: n.ID, Kind: n.Kind, Incident: n.Incident, Announcement: n.Announcement, Critical: n.Critical,
		Subject: n.Subject, Created: n.Created}
	if body {
		b := n.Body
		v.Body = &b
	}
	return v
}

func deliveriesOf(ds []*admeter.Delivery) []deliveryView {
	out := make([]deliveryView, 0, len(ds))
	for _, d := range ds {
		v := deliveryView{ID: d.ID, Tenant: d.Tenant, Channel: d.Channel, Recipient: d.Recipient, Status: d.Status,
			Attempts: d.Attempts, LastError: d.LastError}
		if d.Status.Due() {
			t := d.NextAttempt
			v.NextAttempt = &t
		}
		if !d.Sent.IsZero() {
			t := d.Sent
			v.Sent = &t
		}
		out = append(out, v)
	}
	return out
}

// operatorNotices returns notices with their tenant and delivery counts.
func (s *Server) operatorNotices(ctx context.Context, ns []*admeter.Notice) ([]noticeView, error) {
	out := make([]noticeView, 0, len(ns))
	for _, n := range ns {
		ds, err := s.cfg.Incidents.Deliveries(ctx, n.ID)
		if err != nil {
			return nil, err
		}
		v := noticeOf(n, false)
		v.Tenants, v.Counts = len(n.Tenants), map[string]int{}
		for _, d := range ds {
			v.Counts[string(d.Status)]++
		}
		out = append(out, v)
	}
	return out, nil
}

func (s *Server) recordIncident(r *http.Request) (int, any, error) {
	var in incidentInput
	if err := s.decode(r, &in); err != nil {
		return 0, nil, err
	}
	i := &admeter.Incident{IncidentContent: in.IncidentContent, Severity: in.Severity, AllTenants: in.AllTenants, Tenants: in.Tenants}
	if err := s.cfg.Incidents.RecordIncident(r.Context(), "operator", i); err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, s.incidentView(i), nil
}

func (s *Server) listIncidents(r *http.Request) (int, any, error) {
	is, err := s.cfg.Incidents.Incidents(r.Context())
	if err != nil {
		return 0, nil, err
	}
	out := make([]incidentView, 0, len(is))
	overdue := 0
	for _, i := range is {
		v := s.incidentView(i)
		if v.ReportOverdue {
			overdue++
		}
		out = append(out, v)
	}
	return http.StatusOK, map[string]any{"incidents": out, "reports_overdue": overdue,
		"report_window_hours": s.cfg.Incidents.ReportWindow().Hours()}, nil
}

func (s *Server) showIncident(r *http.Request) (int, any, error) {
	i, err := s.cfg.Incidents.Incident(r.Context(), admeter.IncidentID(r.PathValue("id")))
	if err != nil {
		return 0, nil, err
	}
	ns, err := s.cfg.Incidents.IncidentNotices(r.Context(), i.ID)
	if err != nil {
		return 0, nil, err
	}
	v := s.incidentView(i)
	if v.Notices, err = s.operatorNotices(r.Context(), ns); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, v, nil
}

// updateIncident serves PATCH: the fields given replace the incident's (a
// text's zh or en alone may be given); the rest stay.
func (s *Server) updateIncident(r *http.Request) (int, any, error) {
	i, err := s.cfg.Incidents.Incident(r.Context(), admeter.IncidentID(r.PathValue("id")))
	if err != nil {
		return 0, nil, err
	}
	in := incidentInput{IncidentContent: i.IncidentContent, Severity: i.Severity, AllTenants: i.AllTenants, Tenants: i.Tenants}
	if err := s.decode(r, &in); err != nil {
		return 0, nil, err
	}
	i.IncidentContent, i.Severity, i.AllTenants, i.Tenants = in.IncidentContent, in.Severity, in.AllTenants, in.Tenants
	if err := s.cfg.Incidents.UpdateIncident(r.Context(), "operator", i); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.incidentView(i), nil
}

func (s *Server) notifyIncident(r *http.Request) (int, any, error) {
	var in struct {
		Note admeter.Text `json:"note"`
	}
	if r.ContentLength != 0 {
		if err := s.decode(r, &in); err != nil {
			return 0, nil, err
		}
	}
	n, ds, err := s.cfg.Incidents.NotifyIncident(r.Context(), "operator", admeter.IncidentID(r.PathValue("id")), in.Note)
	if err != nil {
		return 0, nil, err
	}
	v := noticeOf(n, true)
	v.Tenants, v.Deliveries = len(n.Tenants), deliveriesOf(ds)
	return http.StatusAccepted, v, nil
}

func (s *Server) reportedIncident(r *http.Request) (int, any, error) {
	var in struct {
		ReportedAt time.Time `json:"reported_at"`
		Reference  string    `json:"reference"`
	}
	if r.ContentLength != 0 {
		if err := s.decode(r, &in); err != nil {
			return 0, nil, err
		}
	}
	i, err := s.cfg.Incidents.MarkReported(r.Context(), "operator", admeter.IncidentID(r.PathValue("id")), in.ReportedAt, in.Reference)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.incidentView(i), nil
}

// announcementView is an announcement as the operator API shows it.
type announcementView struct {
	ID        string                   `json:"id"`
	Kind      admeter.AnnouncementKind `json:"kind"`
	Critical  bool                     `json:"critical"`
	Title     admeter.Text             `json:"title"`
	Body      admeter.Text             `json:"body"`
	Starts    *time.Time               `json:"starts,omitempty"`
	Ends      *time.Time               `json:"ends,omitempty"`
	CreatedBy string                   `json:"created_by"`
	Created   time.Time                `json:"created"`
	Notices   []noticeView             `json:"notices,omitempty"`
}

func announcementOf(a *admeter.Announcement) announcementView {
	v := announcementView{ID: a.ID, Kind: a.Kind, Critical: a.Kind.Critical(), Title: a.Title, Body: a.Body,
		CreatedBy: a.CreatedBy, Created: a.Created}
	if !a.Starts.IsZero() {
		t := a.Starts
		v.Starts = &t
	}
	if !a.Ends.IsZero() {
		t := a.Ends
		v.Ends = &t
	}
	return v
}

func (s *Server) announce(r *http.Request) (int, any, error) {
	var in struct {
		Kind   admeter.AnnouncementKind `json:"kind"`
		Title  admeter.Text             `json:"title"`
		Body   admeter.Text             `json:"body"`
		Starts time.Time                `json:"starts"`
		Ends   time.Time                `json:"ends"`
	}
	if err := s.decode(r, &in); err != nil {
		return 0, nil, err
	}
	a := &admeter.Announcement{Kind: in.Kind, Title: in.Title, Body: in.Body, Starts: in.Starts, Ends: in.Ends}
	n, ds, err := s.cfg.Incidents.Announce(r.Context(), "operator", a)
	if err != nil {
		return 0, nil, err
	}
	v := announcementOf(a)
	nv := noticeOf(n, false)
	nv.Tenants, nv.Counts = len(n.Tenants), map[string]int{string(admeter.DeliveryPending): len(ds)}
	v.Notices = []noticeView{nv}
	return http.StatusAccepted, v, nil
}

func (s *Server) listAnnouncements(r *http.Request) (int, any, error) {
	as, err := s.cfg.Incidents.Announcements(r.Context())
	if err != nil {
		return 0, nil, err
	}
	out := make([]announcementView, 0, len(as))
	for _, a := range as {
		v := announcementOf(a)
		ns, err := s.cfg.Incidents.AnnouncementNotices(r.Context(), a.ID)
		if err != nil {
			return 0, nil, err
		}
		if v.Notices, err = s.operatorNotices(r.Context(), ns); err != nil {
			return 0, nil, err
		}
		out = append(out, v)
	}
	return http.StatusOK, map[string]any{"announcements": out}, nil
}

func (s *Server) showNotice(r *http.Request) (int, any, error) {
	n, err := s.cfg.Incidents.Notice(r.Context(), r.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	ds, err := s.cfg.Incidents.Deliveries(r.Context(), n.ID)
	if err != nil {
		return 0, nil, err
	}
	v := noticeOf(n, true)
	v.Tenants, v.Deliveries = len(n.Tenants), deliveriesOf(ds)
	return http.StatusOK, v, nil
}

func (s *Server) listTenantNotices(r *http.Request) (int, any, error) {
	ns, err := s.cfg.Incidents.TenantNotices(r.Context(), tenantFrom(r.Context()).ID)
	if err != nil {
		return 0, nil, err
	}
	out := make([]noticeView, 0, len(ns))
	for _, n := range ns {
		out = append(out, noticeOf(n, false))
	}
	return http.StatusOK, map[string]any{"notices": out}, nil
}

func (s *Server) showTenantNotice(r *http.Request) (int, any, error) {
	n, ds, err := s.cfg.Incidents.TenantNotice(r.Context(), tenantFrom(r.Context()).ID, r.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	v := noticeOf(n, true)
	v.Deliveries = deliveriesOf(ds)
	return http.StatusOK, v, nil
}

// settingsView is a tenant's notification settings; Secret is there only
// when a new webhook secret was just made.
type settingsView struct {
	Email         string     `json:"email"`
	WebhookURL    string     `json:"webhook_url"`
	WebhookSecret string     `json:"webhook_secret,omitempty"`
	SecretSet     bool       `json:"webhook_secret_set"`
	Unsubscribed  bool       `json:"unsubscribed"`
	Updated       *time.Time `json:"updated,omitempty"`
}

func settingsOf(set *admeter.NotifySettings, secret string) settingsView {
	v := settingsView{Email: set.Email, WebhookURL: set.WebhookURL, WebhookSecret: secret, SecretSet: len(set.WebhookSecret) > 0,
		Unsubscribed: set.Unsubscribed}
	if !set.Updated.IsZero() {
		t := set.Updated
		v.Updated = &t
	}
	return v
}

func (s *Server) notifySettings(r *http.Request) (int, any, error) {
	set, err := s.cfg.Incidents.Settings(r.Context(), tenantFrom(r.Context()).ID)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, settingsOf(set, ""), nil
}

func (s *Server) setNotifySettings(r *http.Request) (int, any, error) {
	var in notify.SettingsUpdate
	if err := s.decode(r, &in); err != nil {
		return 0, nil, err
	}
	p := principalFrom(r.Context())
	set, secret, err := s.cfg.Incidents.SetSettings(r.Context(), p.actor(), p.tenant.ID, in)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, settingsOf(set, secret), nil
}
