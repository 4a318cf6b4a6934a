package notify

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/admeter/admeter"
)

// Store is the metadata the service keeps: incidents, announcements,
// notices and their deliveries, tenants' settings, and the tenants and
// users it addresses.
type Store interface {
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

	Tenant(ctx context.Context, id admeter.TenantID) (*admeter.Tenant, error)
	Tenants(ctx context.Context, status admeter.TenantStatus) ([]*admeter.Tenant, error)
	Users(ctx context.Context, tenant admeter.TenantID) ([]*admeter.User, error)
}

// AuditLog appends to the audit record.
type AuditLog interface {
	Record(ctx context.Context, e admeter.AuditEntry) error
}

// Mailer sends one email. *SMTP is the implementation.
type Mailer interface {
	Send(ctx context.Context, m *Message) error
}

// Config holds the service's settings.
type Config struct {
	// ReportWindow is the time from an incident's discovery to the due
	// date of its report to the regulator. Default
	// admeter.DefaultReportWindow (72 h): an operator setting, to be set
	// to what applies to the operator, not a statement of the law.
	ReportWindow time.Duration
	// MaxAttempts is how many times a delivery is tried before it is given
	// up. Default 8.
	MaxAttempts int
	// Backoff is the wait after the first failure; each further failure
	// doubles it, up to MaxBackoff. Defaults 1 minute and 6 hours.
	Backoff    time.Duration
	MaxBackoff time.Duration
	// Batch is the most deliveries one pass sends. Default 100.
	Batch int
	// ConsoleURL is the console's base URL (https://admeter.example.com)
	// for links in messages; "" leaves them out.
	ConsoleURL string
	// Seal and Open protect webhook secrets at rest. Required.
	Seal func([]byte) ([]byte, error)
	Open func([]byte) ([]byte, error)
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// DefaultConfig returns the default settings (without Seal and Open).
func DefaultConfig() Config {
	return Config{
		ReportWindow: admeter.DefaultReportWindow,
		MaxAttempts:  8,
		Backoff:      time.Minute,
		MaxBackoff:   6 * time.Hour,
		Batch:        100,
		Now:          time.Now,
	}
}

// Validate reports every problem with c at once.
func (c *Config) Validate() error {
	var errs []error
	if c.ReportWindow <= 0 || c.ReportWindow > 365*24*time.Hour {
		errs = append(errs, fmt.Errorf("the regulator report window must be between 1ns and 8760h, not %s", c.ReportWindow))
	}
	if c.MaxAttempts < 1 || c.MaxAttempts > 100 {
		errs = append(errs, fmt.Errorf("the most delivery attempts must be between 1 and 100, not %d", c.MaxAttempts))
	}
	if c.Backoff <= 0 || c.MaxBackoff < c.Backoff {
		errs = append(errs, fmt.Errorf("the delivery backoff must be positive and at most the maximum backoff (%s, %s)", c.Backoff, c.MaxBackoff))
	}
	if c.Batch < 1 {
		errs = append(errs, errors.New("the delivery batch must be at least 1"))
	}
	if c.Seal == nil || c.Open == nil {
		errs = append(errs, errors.New("a Seal and an Open function are required to keep webhook secrets"))
	}
	return errors.Join(errs...)
}

// Service records incidents and announcements, makes their notices and
// delivers them.
type Service struct {
	cfg    Config
	store  Store
	mail   Mailer
	hook   *Webhook
	audit  AuditLog
	logger *slog.Logger
}

// New returns a Service. mail may be nil: email deliveries then wait until
// a mailer is configured. hook may be nil for NewWebhook's defaults; audit
// and logger may be nil.
func New(cfg Config, store Store, mail Mailer, hook *Webhook, audit AuditLog, logger *slog.Logger) (*Service, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("new notify service: %w", err)
	}
	if store == nil {
		return nil, errors.New("new notify service: a store is required")
	}
	if hook == nil {
		hook = NewWebhook()
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg.ConsoleURL = strings.TrimRight(cfg.ConsoleURL, "/")
	return &Service{cfg: cfg, store: store, mail: mail, hook: hook, audit: audit, logger: logger}, nil
}

// ReportWindow returns the configured time from discovery to the regulator
// report's due date.
func (s *Service) ReportWindow() time.Duration { return s.cfg.ReportWindow }

// MailConfigured reports whether email can be sent.
func (s *Service) MailConfigured() bool { return s.mail != nil }

// Now returns the service's time.
func (s *Service) Now() time.Time { return s.cfg.Now() }

// record appends an audit entry; a failure is logged, since the action
// already happened.
func (s *Service) record(ctx context.Context, e admeter.AuditEntry) {
	if s.audit == nil {
		return
	}
	if e.Outcome == "" {
		e.Outcome = "ok"
	}
	if err := s.audit.Record(context.WithoutCancel(ctx), e); err != nil {
		s.logger.Error("write audit record", "action", e.Action, "err", err)
	}
}

// RecordIncident validates and stores a new incident recorded by actor,
// setting its regulator report due date from its discovery. Every tenant
// it names must exist. Returns EINVALID naming what is missing.
func (s *Service) RecordIncident(ctx context.Context, actor string, i *admeter.Incident) error {
	if err := i.Validate(); err != nil {
		return err
	}
	if err := s.checkTenants(ctx, i.Tenants); err != nil {
		return err
	}
	i.ReportDue = i.Discovered.Add(s.cfg.ReportWindow)
	i.Reported, i.ReportRef, i.CreatedBy = time.Time{}, "", actor
	if err := s.store.CreateIncident(ctx, i); err != nil {
		return fmt.Errorf("record incident: %w", err)
	}
	s.record(ctx, admeter.AuditEntry{Actor: actor, Action: "incident.record", Target: string(i.ID),
		Details: map[string]any{"severity": string(i.Severity), "tenants": len(i.Tenants), "all_tenants": i.AllTenants,
			"report_due": i.ReportDue.Format(time.RFC3339)}})
	s.logger.Info("incident recorded", "incident", i.ID, "severity", i.Severity)
	return nil
}

// checkTenants returns EINVALID if a tenant in ids does not exist.
func (s *Service) checkTenants(ctx context.Context, ids []admeter.TenantID) error {
	for _, id := range ids {
		if _, err := s.store.Tenant(ctx, id); admeter.ErrorCode(err) == admeter.ENOTFOUND {
			return admeter.Errorf(admeter.EINVALID, "tenants: %s does not exist", id)
		} else if err != nil {
			return fmt.Errorf("check tenant: %w", err)
		}
	}
	return nil
}

// UpdateIncident saves changes to an incident's content, severity and
// affected tenants (the regulator report fields are kept; see
// MarkReported). A changed discovery time moves the report's due date.
// Send the change to tenants with NotifyIncident.
func (s *Service) UpdateIncident(ctx context.Context, actor string, i *admeter.Incident) error {
	old, err := s.store.Incident(ctx, i.ID)
	if err != nil {
		return err
	}
	if err := i.Validate(); err != nil {
		return err
	}
	if err := s.checkTenants(ctx, i.Tenants); err != nil {
		return err
	}
	i.ReportDue = i.Discovered.Add(s.cfg.ReportWindow)
	if i.Discovered.Equal(old.Discovered) {
		i.ReportDue = old.ReportDue
	}
	i.Reported, i.ReportRef, i.CreatedBy, i.Created = old.Reported, old.ReportRef, old.CreatedBy, old.Created
	if err := s.store.UpdateIncident(ctx, i); err != nil {
		return fmt.Errorf("update incident: %w", err)
	}
	s.record(ctx, admeter.AuditEntry{Actor: actor, Action: "incident.update", Target: string(i.ID),
		Details: map[string]any{"severity": string(i.Severity), "tenants": len(i.Tenants), "all_tenants": i.AllTenants}})
	return nil
}

// MarkReported records that the incident was reported to the regulator at
// at (zero: now) under reference ref.
func (s *Service) MarkReported(ctx context.Context, actor string, id admeter.IncidentID, at time.Time, ref string) (*admeter.Incident, error) {
	now := s.cfg.Now()
	if at.IsZero() {
		at = now
	}
	ref = strings.TrimSpace(ref)
	switch {
	case at.After(now.Add(time.Minute)):
		return nil, admeter.Errorf(admeter.EINVALID, "reported_at is in the future")
	case len(ref) > 200:
		return nil, admeter.Errorf(admeter.EINVALID, "reference is longer than 200 bytes")
	}
	i, err := s.store.Incident(ctx, id)
	if err != nil {
		return nil, err
	}
	overdue := at.After(i.ReportDue)
	i.Reported, i.ReportRef = at.UTC(), ref
	if err := s.store.UpdateIncident(ctx, i); err != nil {
		return nil, fmt.Errorf("mark incident reported: %w", err)
	}
	s.record(ctx, admeter.AuditEntry{Actor: actor, Action: "incident.regulator_report", Target: string(id),
		Details: map[string]any{"reported": i.Reported.Format(time.RFC3339), "late": overdue}})
	return i, nil
}

// Incident returns an incident. Returns ENOTFOUND if there is none.
func (s *Service) Incident(ctx context.Context, id admeter.IncidentID) (*admeter.Incident, error) {
	return s.store.Incident(ctx, id)
}

// Incidents returns every incident, newest first.
func (s *Service) Incidents(ctx context.Context) ([]*admeter.Incident, error) {
	return s.store.Incidents(ctx)
}

// IncidentNotices returns the notices sent about an incident, oldest first.
func (s *Service) IncidentNotices(ctx context.Context, id admeter.IncidentID) ([]*admeter.Notice, error) {
	return s.store.IncidentNotices(ctx, id)
}

// Announcements returns every announcement, newest first.
func (s *Service) Announcements(ctx context.Context) ([]*admeter.Announcement, error) {
	return s.store.Announcements(ctx)
}

// AnnouncementNotices returns the notices of an announcement.
func (s *Service) AnnouncementNotices(ctx context.Context, id string) ([]*admeter.Notice, error) {
	return s.store.AnnouncementNotices(ctx, id)
}

// Notice returns a notice. Returns ENOTFOUND if there is none.
func (s *Service) Notice(ctx context.Context, id string) (*admeter.Notice, error) {
	return s.store.Notice(ctx, id)
}

// Deliveries returns a notice's deliveries.
func (s *Service) Deliveries(ctx context.Context, notice string) ([]*admeter.Delivery, error) {
	return s.store.Deliveries(ctx, notice)
}

// TenantNotices returns the notices addressed to tenant, newest first.
func (s *Service) TenantNotices(ctx context.Context, tenant admeter.TenantID) ([]*admeter.Notice, error) {
	return s.store.TenantNotices(ctx, tenant)
}

// TenantNotice returns one notice addressed to tenant, with the tenant's own
// deliveries of it. Returns ENOTFOUND for a notice not addressed to it.
func (s *Service) TenantNotice(ctx context.Context, tenant admeter.TenantID, id string) (*admeter.Notice, []*admeter.Delivery, error) {
	n, err := s.store.Notice(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if !slices.Contains(n.Tenants, tenant) {
		return nil, nil, admeter.Errorf(admeter.ENOTFOUND, "Notice %s not found.", id)
	}
	n.Tenants = []admeter.TenantID{tenant}
	all, err := s.store.Deliveries(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	var own []*admeter.Delivery
	for _, d := range all {
		if d.Tenant == tenant {
			own = append(own, d)
		}
	}
	return n, own, nil
}

// NotifyIncident sends the incident's current state to every tenant it
// affects: the first notice, or a follow-up with note saying what changed
// (note may be empty). Incident notices are critical: unsubscribing does
// not stop them.
func (s *Service) NotifyIncident(ctx context.Context, actor string, id admeter.IncidentID, note admeter.Text) (*admeter.Notice, []*admeter.Delivery, error) {
	i, err := s.store.Incident(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	note.ZH, note.EN = strings.TrimSpace(note.ZH), strings.TrimSpace(note.EN)
	if (note.ZH == "") != (note.EN == "") {
		return nil, nil, admeter.Errorf(admeter.EINVALID, "give the note in both languages (note.zh and note.en), or neither")
	} else if len(note.ZH) > 20000 || len(note.EN) > 20000 {
		return nil, nil, admeter.Errorf(admeter.EINVALID, "note is longer than 20000 bytes")
	}
	prior, err := s.store.IncidentNotices(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	tenants, err := s.addressees(ctx, i.AllTenants, i.Tenants)
	if err != nil {
		return nil, nil, err
	}
	n := incidentNotice(i, len(prior), note, s.cfg.ConsoleURL)
	n.CreatedBy = actor
	return s.send(ctx, n, tenants, "incident.notify", string(id))
}

// Announce stores an announcement made by actor and sends it to every
// tenant: a critical one to all, a non-critical one to those that did not
// unsubscribe (the others still see it in the console).
func (s *Service) Announce(ctx context.Context, actor string, a *admeter.Announcement) (*admeter.Notice, []*admeter.Delivery, error) {
	if err := a.Validate(); err != nil {
		return nil, nil, err
	}
	tenants, err := s.addressees(ctx, true, nil)
	if err != nil {
		return nil, nil, err
	}
	a.CreatedBy = actor
	if err := s.store.CreateAnnouncement(ctx, a); err != nil {
		return nil, nil, fmt.Errorf("create announcement: %w", err)
	}
	n := announcementNotice(a, s.cfg.ConsoleURL)
	n.CreatedBy = actor
	return s.send(ctx, n, tenants, "announcement.create", a.ID)
}

// addressees returns the tenants to notify: every tenant that is not closed
// or still pending verification, or the listed ones.
func (s *Service) addressees(ctx context.Context, all bool, ids []admeter.TenantID) ([]*admeter.Tenant, error) {
	if !all {
		out := make([]*admeter.Tenant, 0, len(ids))
		for _, id := range ids {
			t, err := s.store.Tenant(ctx, id)
			if err != nil {
				return nil, fmt.Errorf("find tenant to notify: %w", err)
			}
			out = append(out, t)
		}
		return out, nil
	}
	ts, err := s.store.Tenants(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("list tenants to notify: %w", err)
	}
	return slices.DeleteFunc(ts, func(t *admeter.Tenant) bool {
		return t.Status == admeter.TenantClosed || t.Status == admeter.TenantPending
	}), nil
}

// send addresses n to tenants, queues its deliveries and records it.
func (s *Service) send(ctx context.Context, n *admeter.Notice, tenants []*admeter.Tenant, action, target string) (*admeter.Notice, []*admeter.Delivery, error) {
	var ds []*admeter.Delivery
	skipped := 0
	for _, t := range tenants {
		n.Tenants = append(n.Tenants, t.ID)
		set, err := s.store.NotifySettings(ctx, t.ID)
		if err != nil {
			return nil, nil, err
		}
		if !n.Critical && set.Unsubscribed {
			skipped++
			continue
		}
		emails, err := s.emails(ctx, t.ID, set)
		if err != nil {
			return nil, nil, err
		}
		for _, e := range emails {
			ds = append(ds, &admeter.Delivery{Tenant: t.ID, Channel: admeter.ChannelEmail, Recipient: e})
		}
		if set.WebhookURL != "" && len(set.WebhookSecret) > 0 {
			ds = append(ds, &admeter.Delivery{Tenant: t.ID, Channel: admeter.ChannelWebhook, Recipient: set.WebhookURL})
		}
	}
	if err := s.store.CreateNotice(ctx, n, ds); err != nil {
		return nil, nil, fmt.Errorf("queue notice: %w", err)
	}
	s.record(ctx, admeter.AuditEntry{Actor: n.CreatedBy, Action: action, Target: target,
		Details: map[string]any{"notice": n.ID, "kind": string(n.Kind), "critical": n.Critical, "tenants": len(n.Tenants),
			"deliveries": len(ds), "unsubscribed": skipped}})
	for _, t := range n.Tenants {
		s.record(ctx, admeter.AuditEntry{Actor: n.CreatedBy, Action: "notify.notice", Tenant: string(t), Target: n.ID,
			Details: map[string]any{"kind": string(n.Kind)}})
	}
	for _, d := range ds {
		s.recordDelivery(ctx, d, nil)
	}
	s.logger.Info("notice queued", "notice", n.ID, "kind", n.Kind, "tenants", len(n.Tenants), "deliveries", len(ds))
	return n, ds, nil
}

// emails returns a tenant's email recipients: its enabled owners and
// admins and its notification address, without repeats (ASCII case
// ignored).
func (s *Service) emails(ctx context.Context, tenant admeter.TenantID, set *admeter.NotifySettings) ([]string, error) {
	users, err := s.store.Users(ctx, tenant)
	if err != nil {
		return nil, fmt.Errorf("list users to notify: %w", err)
	}
	var out []string
	seen := map[string]bool{}
	add := func(e string) {
		if k := strings.ToLower(e); e != "" && !seen[k] {
			seen[k] = true
			out = append(out, e)
		}
	}
	for _, u := range users {
		if !u.Disabled && (u.Role == admeter.RoleOwner || u.Role == admeter.RoleAdmin) {
			add(u.Email)
		}
	}
	add(set.Email)
	return out, nil
}

// recordDelivery writes a delivery's status change to the audit record.
// The recipient is not written: the audit record names no person.
func (s *Service) recordDelivery(ctx context.Context, d *admeter.Delivery, extra map[string]any) {
	details := map[string]any{"notice": d.Notice, "channel": string(d.Channel), "attempts": d.Attempts}
	for k, v := range extra {
		details[k] = v
	}
	s.record(ctx, admeter.AuditEntry{Actor: "system", Action: "notify.delivery." + string(d.Status), Tenant: string(d.Tenant),
		Target: d.ID, Details: details})
}

// SettingsUpdate changes a tenant's notification settings. A nil field is
// left as it is.
type SettingsUpdate struct {
	Email        *string `json:"email"`
	WebhookURL   *string `json:"webhook_url"`
	Unsubscribed *bool   `json:"unsubscribed"`
	// RotateSecret makes a new webhook secret; a new webhook URL gets one
	// anyway.
	RotateSecret bool `json:"rotate_secret"`
}

// Settings returns a tenant's notification settings.
func (s *Service) Settings(ctx context.Context, tenant admeter.TenantID) (*admeter.NotifySettings, error) {
	return s.store.NotifySettings(ctx, tenant)
}

// SetSettings applies u to tenant's settings. When it makes a new webhook
// secret it returns it (base64url, "whsec_" prefix): the only time it is
// shown.
func (s *Service) SetSettings(ctx context.Context, actor string, tenant admeter.TenantID, u SettingsUpdate) (*admeter.NotifySettings, string, error) {
	set, err := s.store.NotifySettings(ctx, tenant)
	if err != nil {
		return nil, "", err
	}
	oldURL := set.WebhookURL
	if u.Email != nil {
		set.Email = *u.Email
	}
	if u.WebhookURL != nil {
		set.WebhookURL = *u.WebhookURL
	}
	if u.Unsubscribed != nil {
		set.Unsubscribed = *u.Unsubscribed
	}
	if err := set.Validate(); err != nil {
		return nil, "", err
	}
	var secret string
	switch {
	case set.WebhookURL == "":
		set.WebhookSecret = nil
	case u.RotateSecret || set.WebhookURL != oldURL || len(set.WebhookSecret) == 0:
		raw := make([]byte, 32)
		_, _ = rand.Read(raw)
		secret = "whsec_" + base64.RawURLEncoding.EncodeToString(raw)
		if set.WebhookSecret, err = s.cfg.Seal([]byte(secret)); err != nil {
			return nil, "", fmt.Errorf("seal webhook secret: %w", err)
		}
	}
	if err := s.store.SetNotifySettings(ctx, set); err != nil {
		return nil, "", err
	}
	s.record(ctx, admeter.AuditEntry{Actor: actor, Action: "notify.settings.update", Tenant: string(tenant),
		Details: map[string]any{"email": set.Email != "", "webhook": set.WebhookURL != "", "secret_rotated": secret != "",
			"unsubscribed": set.Unsubscribed}})
	return set, secret, nil
}
