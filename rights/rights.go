package rights

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/pseudo"
	"github.com/admeter/admeter/store"
)

// RequestStore keeps rights requests. Reads by tenant return ENOTFOUND for
// another tenant's request.
type RequestStore interface {
	CreateRequest(ctx context.Context, r *admeter.RightsRequest) error
	UpdateRequest(ctx context.Context, r *admeter.RightsRequest) error
	Request(ctx context.Context, tenant admeter.TenantID, id string) (*admeter.RightsRequest, error)
	Requests(ctx context.Context, tenant admeter.TenantID) ([]*admeter.RightsRequest, error)
	DeviceRequests(ctx context.Context, tenant admeter.TenantID, fingerprint string) ([]*admeter.RightsRequest, error)
	OpenRequests(ctx context.Context) ([]*admeter.RightsRequest, error)
	AllRequests(ctx context.Context) ([]*admeter.RightsRequest, error)
}

// EventStore finds and deletes a tenant's events by user pseudonym.
type EventStore interface {
	UserEvents(ctx context.Context, tenant admeter.TenantID, users []admeter.Pseudonym, limit int) ([]admeter.Event, bool, error)
	DeleteUsers(ctx context.Context, tenant admeter.TenantID, users []admeter.Pseudonym) (store.Deleted, error)
	UserPosts(ctx context.Context, tenant admeter.TenantID, authors []admeter.Pseudonym, limit int) ([]admeter.SocialPost, bool, error)
}

// Registry is the opt-out registry.
type Registry interface {
	Add(ctx context.Context, ps ...admeter.Pseudonym) (added int, err error)
}

// Keys gives the pseudonymizers of every pseudonymisation key version still
// alive (not destroyed), current last.
type Keys interface {
	Pseudonymizers() []*pseudo.Pseudonymizer
}

// Pipeline is the part of the event pipeline a deletion must coordinate
// with.
type Pipeline interface {
	// Drain returns once every event logged before the call is in the store.
	Drain(ctx context.Context) error
	// Refresh recomputes a campaign's daily rollups for the local days that
	// [from, to] (UTC instants) touch.
	Refresh(ctx context.Context, tenant admeter.TenantID, campaign admeter.CampaignID, from, to time.Time) error
	// Purge removes from the event log every record already in the store,
	// returning the number of segments removed.
	Purge(ctx context.Context) (int, error)
}

// Calendar is a working-day calendar (package workday).
type Calendar interface {
	AddWorkingDays(d time.Time, n int) time.Time
	WorkingDaysBetween(from, to time.Time) int
	// CoversSpan reports whether the calendar has holiday data for every
	// year from a's through b's.
	CoversSpan(a, b time.Time) bool
}

// Recorder writes the audit record.
type Recorder interface {
	Record(ctx context.Context, e admeter.AuditEntry) error
}

// Config holds the service's settings.
type Config struct {
	// DueWorkingDays is the deadline, in working days after the day a
	// request arrives. Default 15 (privacy policy 四(三)).
	DueWorkingDays int
	// Location is the time zone of the calendar. Default Asia/Shanghai.
	Location *time.Location
	// ExportDir holds access copies, one file per request.
	ExportDir string
	// ExportTTL is how long an access copy is kept. Default 30 days.
	ExportTTL time.Duration
	// MaxExportEvents bounds one access copy. Default 1,000,000.
	MaxExportEvents int
	// MaxNote bounds the note, in characters. Default 500.
	MaxNote int
	// Now returns the current time. Default time.Now.
	Now func() time.Time
}

// DefaultConfig returns the defaults, with exports in dir.
func DefaultConfig(dir string) Config {
	return Config{
		DueWorkingDays:  15,
		Location:        chinaTime(),
		ExportDir:       dir,
		ExportTTL:       30 * 24 * time.Hour,
		MaxExportEvents: 1_000_000,
		MaxNote:         500,
		Now:             time.Now,
	}
}

// chinaTime returns Asia/Shanghai, or a fixed UTC+8 zone without tzdata
// (China has had no daylight saving time since 1991).
func chinaTime() *time.Location {
	if loc, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return loc
	}
	return time.FixedZone("CST", 8*3600)
}

// Service carries out rights requests. It is safe for concurrent use.
type Service struct {
	cfg      Config
	requests RequestStore
	events   EventStore
	registry Registry
	optoutPS *pseudo.Pseudonymizer
	keys     Keys
	pipeline Pipeline
	cal      Calendar
	audit    Recorder
	logger   *slog.Logger
	wake     chan struct{}
}

// New returns a Service. optoutPS makes pseudonyms under the opt-out
// registry key. logger may be nil.
func New(cfg Config, requests RequestStore, events EventStore, registry Registry, optoutPS *pseudo.Pseudonymizer,
	keys Keys, pipeline Pipeline, cal Calendar, rec Recorder, logger *slog.Logger) (*Service, error) {
	if requests == nil || events == nil || registry == nil || optoutPS == nil || keys == nil || pipeline == nil || cal == nil || rec == nil {
		return nil, errors.New("new rights service: missing dependency")
	}
	if cfg.ExportDir == "" {
		return nil, errors.New("new rights service: export directory required")
	}
	def := DefaultConfig(cfg.ExportDir)
	if cfg.DueWorkingDays <= 0 {
		cfg.DueWorkingDays = def.DueWorkingDays
	}
	if cfg.Location == nil {
		cfg.Location = def.Location
	}
	if cfg.ExportTTL <= 0 {
		cfg.ExportTTL = def.ExportTTL
	}
	if cfg.MaxExportEvents <= 0 {
		cfg.MaxExportEvents = def.MaxExportEvents
	}
	if cfg.MaxNote <= 0 {
		cfg.MaxNote = def.MaxNote
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Service{cfg: cfg, requests: requests, events: events, registry: registry, optoutPS: optoutPS,
		keys: keys, pipeline: pipeline, cal: cal, audit: rec, logger: logger, wake: make(chan struct{}, 1)}, nil
}

// Submission is a request as a tenant sends it. It names the device by one
// identifier (IDType, ID, Form) or by several of the same device (IDs):
// admeter keys each event by the device's highest-priority identifier (OAID,
// then IDFA, IMEI, ...), so a request should name every identifier the
// customer knows for the device.
type Submission struct {
	Type   string `json:"type"`
	IDType string `json:"id_type,omitempty"`
	ID     string `json:"id,omitempty"`
	// Form is "raw", "md5", or empty to detect it.
	Form  string         `json:"form,omitempty"`
	IDs   []SubmissionID `json:"ids,omitempty"`
	Minor bool           `json:"minor"`
	Note  string         `json:"note"`
}

// SubmissionID is one identifier of the device a request is about.
type SubmissionID struct {
	IDType string `json:"id_type"`
	ID     string `json:"id"`
	Form   string `json:"form,omitempty"`
}

// MaxSubmissionIDs bounds the identifiers of one request.
const MaxSubmissionIDs = 10

// Submit validates and records a request from actor on behalf of tenant. An
// optout or delete request puts the device in the opt-out registry before
// Submit returns. If the tenant already has an open request of the same type
// about the same device, Submit returns that one and duplicate is true; no
// new request is made.
func (s *Service) Submit(ctx context.Context, actor string, tenant admeter.TenantID, in Submission) (r *admeter.RightsRequest, duplicate bool, err error) {
	typ := admeter.RequestType(strings.ToLower(strings.TrimSpace(in.Type)))
	if !typ.Valid() {
		return nil, false, admeter.Errorf(admeter.EINVALID, "type must be access, delete or optout")
	}
	ids := in.IDs
	if in.IDType != "" || in.ID != "" {
		ids = append([]SubmissionID{{IDType: in.IDType, ID: in.ID, Form: in.Form}}, ids...)
	}
	if len(ids) == 0 {
		return nil, false, admeter.Errorf(admeter.EINVALID, "name the device: id_type and id, or ids: [{id_type, id}, ...]")
	}
	if len(ids) > MaxSubmissionIDs {
		return nil, false, admeter.Errorf(admeter.EINVALID, "at most %d identifiers per request", MaxSubmissionIDs)
	}
	type subject struct {
		t    admeter.IDType
		cans []pseudo.Canonical
	}
	var subjects []subject
	for i, id := range ids {
		idType, err := pseudo.ParseSubjectType(id.IDType)
		if err == nil {
			var form pseudo.Form
			if form, err = pseudo.ParseForm(id.Form); err == nil {
				var cans []pseudo.Canonical
				if cans, err = pseudo.CanonicalizeSubject(idType, form, id.ID); err == nil {
					subjects = append(subjects, subject{idType, cans})
					continue
				}
			}
		}
		if len(ids) > 1 {
			return nil, false, admeter.Errorf(admeter.EINVALID, "identifier %d: %s", i+1, admeter.ErrorMessage(err))
		}
		return nil, false, err
	}
	note := strings.TrimSpace(in.Note)
	if !utf8.ValidString(note) || utf8.RuneCountInString(note) > s.cfg.MaxNote {
		return nil, false, admeter.Errorf(admeter.EINVALID, "note must be valid UTF-8 of at most %d characters", s.cfg.MaxNote)
	}
	for _, id := range ids {
		if v := strings.TrimSpace(id.ID); len(v) >= 6 && strings.Contains(strings.ToLower(note), strings.ToLower(v)) {
			return nil, false, admeter.Errorf(admeter.EINVALID, "note must not repeat the device identifier: admeter never stores it; put a ticket number there instead")
		}
	}

	r = &admeter.RightsRequest{
		Tenant: tenant, Type: typ, IDType: subjects[0].t, Minor: in.Minor, Note: note, Actor: actor,
		Status: admeter.RequestPending, Received: s.cfg.Now().UTC().Truncate(time.Microsecond),
	}
	for _, sub := range subjects {
		for _, c := range sub.cans {
			r.OptOut = append(r.OptOut, s.optoutPS.Pseudonym(sub.t, c))
			for _, ps := range s.keys.Pseudonymizers() {
				r.Users = append(r.Users, ps.Pseudonym(sub.t, c))
			}
		}
	}
	r.Fingerprint = hex.EncodeToString(r.OptOut[0][:])
	r.Due, r.DueExact = s.due(r.Received)

	prior, err := s.requests.DeviceRequests(ctx, tenant, r.Fingerprint)
	if err != nil {
		return nil, false, err
	}
	for _, p := range prior {
		if p.Type == typ && p.Status.Open() {
			return p, true, nil
		}
	}

	if typ == admeter.RequestOptOut || typ == admeter.RequestDelete {
		n, err := s.registry.Add(ctx, r.OptOut...)
		if err != nil {
			return nil, false, fmt.Errorf("submit %s request: add to opt-out registry: %w", typ, err)
		}
		r.Outcome.OptOutAdded = n > 0
	}
	if typ == admeter.RequestOptOut {
		r.Status, r.Completed = admeter.RequestDone, r.Received
	}
	if err := s.requests.CreateRequest(ctx, r); err != nil {
		return nil, false, err
	}
	s.record(ctx, r, "rights.request.submit", "ok", map[string]any{"type": string(typ), "minor": r.Minor, "id_type": r.IDType.String(), "identifiers": len(subjects)})
	if r.Status == admeter.RequestDone {
		s.record(ctx, r, "rights.request.done", "ok", outcomeDetails(r.Outcome))
	}
	s.logger.Info("rights request received", "request", r.ID, "tenant", tenant, "type", typ, "minor", r.Minor, "due", r.Due.Format(time.DateOnly))
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return r, false, nil
}

// due returns the due day of a request received at t, and whether the
// calendar had holiday data for every year the count crossed.
func (s *Service) due(t time.Time) (time.Time, bool) {
	local := t.In(s.cfg.Location)
	d := s.cal.AddWorkingDays(local, s.cfg.DueWorkingDays)
	return d, s.cal.CoversSpan(local, d)
}

// Get returns one of tenant's requests.
func (s *Service) Get(ctx context.Context, tenant admeter.TenantID, id string) (*admeter.RightsRequest, error) {
	return s.requests.Request(ctx, tenant, id)
}

// List returns tenant's requests, newest first.
func (s *Service) List(ctx context.Context, tenant admeter.TenantID) ([]*admeter.RightsRequest, error) {
	return s.requests.Requests(ctx, tenant)
}

// Deadline describes where a request stands against its due day.
type Deadline struct {
	// DaysLeft is the number of working days from today to the due day
	// (0 on the due day itself), negative once overdue.
	DaysLeft int
	// Overdue is true for an open request past its due day.
	Overdue bool
}

// Deadline returns where r stands against its due day now.
func (s *Service) Deadline(r *admeter.RightsRequest) Deadline {
	today := s.cfg.Now().In(s.cfg.Location)
	due := r.Due.In(s.cfg.Location)
	left := s.cal.WorkingDaysBetween(today, due)
	if sameDay(today, due) {
		left = 0
	}
	// The due day ends at the midnight after it: from that instant on, the
	// request is late.
	past := !today.Before(endOfDay(due))
	if past && left > 0 {
		left = 0
	}
	return Deadline{DaysLeft: left, Overdue: past && r.Status.Open()}
}

func sameDay(a, b time.Time) bool {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return ay == by && am == bm && ad == bd
}

func endOfDay(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, t.Location())
}

// record writes an audit entry; a failure is logged, and does not undo the
// action (the action is already durable, and losing the request would be
// worse).
func (s *Service) record(ctx context.Context, r *admeter.RightsRequest, action, outcome string, details map[string]any) {
	actor := r.Actor
	if action != "rights.request.submit" {
		actor = "system"
	}
	if err := s.audit.Record(context.WithoutCancel(ctx), admeter.AuditEntry{
		Actor: actor, Action: action, Tenant: string(r.Tenant), Target: r.ID, Outcome: outcome, Details: details,
	}); err != nil {
		s.logger.Error("write audit record", "request", r.ID, "action", action, "err", err)
	}
}

func outcomeDetails(o admeter.RequestOutcome) map[string]any {
	return map[string]any{
		"events": o.Events, "campaigns": o.Campaigns, "truncated": o.Truncated, "optout_added": o.OptOutAdded,
		"exports_removed": o.ExportsRemoved, "log_segments_removed": o.LogSegmentsRemoved, "social_records": o.SocialRecords,
	}
}
