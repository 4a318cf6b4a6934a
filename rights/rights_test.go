package rights_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/meta/sqlite"
	"github.com/admeter/admeter/optout"
	"github.com/admeter/admeter/pseudo"
	"github.com/admeter/admeter/rights"
	"github.com/admeter/admeter/store"
	"github.com/admeter/admeter/store/duckdb"
	"github.com/admeter/admeter/store/storetest"
	"github.com/admeter/admeter/workday"
)

// Device identifiers of the tests. They are valid raw OAIDs (victim,
// bystander, other) and a valid raw IDFA.
const (
	victim    = "a1b2c3d4e5f60718aa"
	bystander = "0f1e2d3c4b5a69788f"
	other     = "77665544332211aabb"
	idfa      = "3F2504E0-4F89-11D3-9A0C-0305E82C3301"
)

// md5hex returns the MD5 of s in hex: how SDKs send a hashed identifier.
func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// cst is China Standard Time, the zone of the working-day calendar.
var cst = workday.Location()

// clock is a settable clock, safe for concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// keys is the rights.Keys of the tests: the pseudonymizers of two live key
// versions, current last, as the server's keyring gives them after one
// rotation.
type keys []*pseudo.Pseudonymizer

func (k keys) Pseudonymizers() []*pseudo.Pseudonymizer { return slices.Clone(k) }

// pipeline is the rights.Pipeline of the tests, over the real DuckDB store.
// It does what the server's pipeline (cmd/admeter/rights.go) does, minus
// the event log: the tests Insert events straight into the store, so every
// event "logged" is already loaded and Drain has nothing to wait for, and
// there is no log segment for Purge to remove. Refresh is the server's:
// the campaign's time zone, TimeSpan.Days, RefreshRollups. Like the real
// one, Drain and Purge fail on a cancelled context (the real ones ask the
// store for its offset).
//
// The fail*/on* fields inject faults; set them before the call they affect.
type pipeline struct {
	store *duckdb.DB
	zones map[admeter.CampaignID]*time.Location

	failDrain   atomic.Int32 // Drain calls still to fail
	failRefresh atomic.Int32 // Refresh calls still to fail
	onRefresh   func()       // called at the start of each Refresh
	onPurge     func()       // called at the start of each Purge

	refreshes atomic.Int32
}

var errInjected = errors.New("injected failure")

func (p *pipeline) Drain(ctx context.Context) error {
	if p.failDrain.Add(-1) >= 0 {
		return errInjected
	}
	return ctx.Err()
}

func (p *pipeline) Refresh(ctx context.Context, tenant admeter.TenantID, campaign admeter.CampaignID, from, to time.Time) error {
	if p.onRefresh != nil {
		p.onRefresh()
	}
	if p.failRefresh.Add(-1) >= 0 {
		return errInjected
	}
	p.refreshes.Add(1)
	loc := p.zones[campaign]
	if loc == nil {
		loc = time.UTC
	}
	days := store.TimeSpan{From: from, To: to}.Days(loc)
	if len(days) == 0 {
		return nil
	}
	return p.store.RefreshRollups(ctx, tenant, campaign, loc, days)
}

func (p *pipeline) Purge(ctx context.Context) (int, error) {
	if p.onPurge != nil {
		p.onPurge()
	}
	return 0, ctx.Err()
}

// syncBuffer is a bytes.Buffer safe for concurrent use: the log output of
// the service, checked for identifiers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// harness is a rights service over real components in a temporary
// directory: the SQLite metadata store, the DuckDB store, the opt-out
// registry, the audit record and the embedded working-day calendar.
type harness struct {
	t         testing.TB
	dir       string
	svc       *rights.Service
	cfg       rights.Config
	meta      *sqlite.DB
	store     *duckdb.DB
	registry  *optout.Registry
	audit     *sqlite.AuditLog
	auditKey  ed25519.PrivateKey
	auditPub  ed25519.PublicKey
	optoutPS  *pseudo.Pseudonymizer
	keys      keys
	pipe      *pipeline
	clock     *clock
	logs      *syncBuffer
	next      uint64 // the store offset of the next Insert
	closeOnce sync.Once
}

// start is the time the harness clock starts at: Monday 2026-09-28 10:00
// in China, just before the National Day holiday.
var start = time.Date(2026, 9, 28, 10, 0, 0, 0, cst)

// newPseudonymizer returns a pseudonymizer of the given version with a
// secret derived from label.
func newPseudonymizer(t testing.TB, version uint32, label string) *pseudo.Pseudonymizer {
	t.Helper()
	secret := sha256.Sum256([]byte(label))
	ps, err := pseudo.New(pseudo.Key{Version: version, Secret: secret[:]})
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

// newHarness opens every component in t.TempDir and returns the service,
// with the clock at start. edit, if not nil, changes the configuration.
func newHarness(t testing.TB, edit func(*rights.Config)) *harness {
	t.Helper()
	dir := t.TempDir()
	h := &harness{t: t, dir: dir, clock: &clock{t: start}, logs: &syncBuffer{}}

	h.meta = sqlite.NewDB(filepath.Join(dir, "meta.db"))
	if err := h.meta.Open(); err != nil {
		t.Fatal(err)
	}
	var err error
	if h.store, err = duckdb.Open(filepath.Join(dir, "events.duckdb"), duckdb.DefaultOptions(), nil); err != nil {
		t.Fatal(err)
	}
	if h.registry, err = optout.Open(filepath.Join(dir, "optout.reg"), nil); err != nil {
		t.Fatal(err)
	}
	h.auditPub, h.auditKey, _ = ed25519.GenerateKey(nil)
	h.audit = sqlite.NewAuditLog(h.meta, h.auditKey)
	t.Cleanup(h.close)

	h.optoutPS = newPseudonymizer(t, 1, "opt-out registry key")
	h.keys = keys{newPseudonymizer(t, 1, "key version 1"), newPseudonymizer(t, 2, "key version 2")}
	h.pipe = &pipeline{store: h.store, zones: map[admeter.CampaignID]*time.Location{}}

	h.cfg = rights.DefaultConfig(filepath.Join(dir, "exports"))
	h.cfg.Now = h.clock.Now
	if edit != nil {
		edit(&h.cfg)
	}
	logger := slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h.svc, err = rights.New(h.cfg, h.meta, h.store, h.registry, h.optoutPS, h.keys, h.pipe, workday.Embedded(), h.audit, logger)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// close closes every component; it may be called more than once.
func (h *harness) close() {
	h.closeOnce.Do(func() {
		for _, err := range []error{h.audit.Checkpoint(context.Background()), h.registry.Close(), h.store.Close(), h.meta.Close()} {
			if err != nil {
				h.t.Error(err)
			}
		}
	})
}

// tenant creates a tenant in the metadata store.
func (h *harness) tenant(name string) admeter.TenantID {
	h.t.Helper()
	tn := &admeter.Tenant{Name: name, Kind: admeter.TenantAdvertiser}
	if err := h.meta.CreateTenant(context.Background(), tn, sha256.Sum256([]byte(name))); err != nil {
		h.t.Fatal(err)
	}
	return tn.ID
}

// canonical returns the canonical form of a raw identifier.
func canonical(t testing.TB, typ admeter.IDType, raw string) pseudo.Canonical {
	t.Helper()
	c, reason := pseudo.Canonicalize(typ, pseudo.FormRaw, raw)
	if reason != pseudo.ReasonOK {
		t.Fatalf("canonicalize test identifier: %v", reason)
	}
	return c
}

// user returns the pseudonym of the raw OAID oaid under key version v
// (1 or 2): the user key of its events.
func (h *harness) user(oaid string, v int) admeter.Pseudonym {
	return h.keys[v-1].Pseudonym(admeter.IDOAID, canonical(h.t, admeter.IDOAID, oaid))
}

// optOutOf returns the opt-out registry pseudonym of an identifier.
func (h *harness) optOutOf(typ admeter.IDType, raw string) admeter.Pseudonym {
	return h.optoutPS.Pseudonym(typ, canonical(h.t, typ, raw))
}

// ev returns an impression of the device with the raw OAID oaid (none if
// empty) in tenant's campaign, made under key version v.
func (h *harness) ev(tenant admeter.TenantID, campaign admeter.CampaignID, oaid string, v int, at time.Time, opts ...storetest.Opt) admeter.Event {
	o := []storetest.Opt{storetest.Tenant(tenant), storetest.Campaign(campaign), storetest.KeyVersion(uint32(v))}
	if oaid != "" {
		u := h.user(oaid, v)
		o = append(o, func(e *admeter.Event) { e.User, e.UserType = u, admeter.IDOAID })
	}
	return storetest.Imp(at, append(o, opts...)...)
}

// insert stores events as one loaded batch.
func (h *harness) insert(events ...admeter.Event) {
	h.t.Helper()
	h.next++
	storetest.Insert(h.t, h.store, h.next, events...)
}

// refresh computes the rollups of a campaign over [from, to].
func (h *harness) refresh(tenant admeter.TenantID, campaign admeter.CampaignID, from, to time.Time) {
	h.t.Helper()
	if err := h.pipe.Refresh(context.Background(), tenant, campaign, from, to); err != nil {
		h.t.Fatal(err)
	}
}

// daily returns the impressions and UV of a campaign's rollups on a day.
func (h *harness) daily(tenant admeter.TenantID, campaign admeter.CampaignID, day string) (imps, uv int64) {
	h.t.Helper()
	d, err := store.ParseDate(day)
	if err != nil {
		h.t.Fatal(err)
	}
	rows, err := h.store.Daily(context.Background(), store.DailyQuery{Tenant: tenant, Campaign: campaign, From: d, To: d})
	if err != nil {
		h.t.Fatal(err)
	}
	for _, r := range rows {
		imps += r.Impressions
		uv += r.UV
	}
	return imps, uv
}

// submit submits a request and fails the test on error.
func (h *harness) submit(tenant admeter.TenantID, in rights.Submission) (*admeter.RightsRequest, bool) {
	h.t.Helper()
	r, dup, err := h.svc.Submit(context.Background(), "tenant:"+string(tenant), tenant, in)
	if err != nil {
		h.t.Fatalf("Submit(%s %s): %v", in.Type, in.IDType, err)
	}
	return r, dup
}

// process carries out every open request and fails the test unless it
// finished want of them without error.
func (h *harness) process(want int) {
	h.t.Helper()
	n, err := h.svc.ProcessOpen(context.Background())
	if err != nil || n != want {
		h.t.Fatalf("ProcessOpen = %d, %v; want %d, nil", n, err, want)
	}
}

// get returns a tenant's request.
func (h *harness) get(tenant admeter.TenantID, id string) *admeter.RightsRequest {
	h.t.Helper()
	r, err := h.svc.Get(context.Background(), tenant, id)
	if err != nil {
		h.t.Fatalf("Get(%s): %v", id, err)
	}
	return r
}

// auditEntries returns the audit record, after checking its chain.
func (h *harness) auditEntries() []admeter.AuditEntry {
	h.t.Helper()
	if _, err := h.meta.VerifyAudit(h.t.Context(), h.auditPub); err != nil {
		h.t.Fatal(err)
	}
	es, err := h.meta.AuditEntries(h.t.Context(), sqlite.AuditQuery{Limit: sqlite.MaxAuditLimit})
	if err != nil {
		h.t.Fatal(err)
	}
	return es
}

// oaid is a submission naming a device by its raw OAID.
func oaid(typ, id string) rights.Submission {
	return rights.Submission{Type: typ, IDType: "oaid", ID: id}
}

func TestNew(t *testing.T) {
	h := newHarness(t, nil)
	cal := workday.Embedded()
	if _, err := rights.New(rights.Config{}, h.meta, h.store, h.registry, h.optoutPS, h.keys, h.pipe, cal, h.audit, nil); err == nil ||
		!strings.Contains(err.Error(), "export directory") {
		t.Errorf("New without an export directory: err = %v", err)
	}
	if _, err := rights.New(rights.DefaultConfig(t.TempDir()), h.meta, h.store, h.registry, h.optoutPS, h.keys, nil, cal, h.audit, nil); err == nil ||
		!strings.Contains(err.Error(), "missing dependency") {
		t.Errorf("New without a pipeline: err = %v", err)
	}

	// A zero configuration but for the directory takes the defaults: 15
	// working days, China's time zone, the real clock.
	s, err := rights.New(rights.Config{ExportDir: t.TempDir()}, h.meta, h.store, h.registry, h.optoutPS, h.keys, h.pipe, cal, h.audit, nil)
	if err != nil {
		t.Fatal(err)
	}
	tn := h.tenant("Defaults")
	before := time.Now()
	r, _, err := s.Submit(t.Context(), "tenant:"+string(tn), tn, oaid("access", victim))
	if err != nil {
		t.Fatal(err)
	}
	if r.Received.Before(before.Add(-time.Second)) || r.Received.After(time.Now()) {
		t.Errorf("Received %v is not the real time", r.Received)
	}
	local := r.Received.In(cst)
	if got := cal.WorkingDaysBetween(local, r.Due.In(cst)); got != 15 {
		t.Errorf("due %v is %d working days after %v, want 15", r.Due, got, local)
	}
	if _, offset := r.Due.Zone(); offset != 8*3600 || r.Due.Hour() != 0 {
		t.Errorf("due %v is not midnight in China", r.Due)
	}
}

// TestSubmitInvalid: bad submissions get an EINVALID error that says what
// is wrong without repeating the identifier, and nothing is stored or
// added to the opt-out registry.
func TestSubmitInvalid(t *testing.T) {
	h := newHarness(t, nil)
	tn := h.tenant("Acme")
	many := func(n int) []rights.SubmissionID {
		var ids []rights.SubmissionID
		for i := range n {
			ids = append(ids, rights.SubmissionID{IDType: "oaid", ID: victim[:16] + string(rune('a'+i)) + "0"})
		}
		return ids
	}
	for _, tc := range []struct {
		name string
		in   rights.Submission
		want string
	}{
		{"unknown type", oaid("erase", victim), "type must be access, delete or optout"},
		{"no type", oaid("", victim), "type must be"},
		{"no device", rights.Submission{Type: "delete"}, "name the device"},
		{"unsupported id type", rights.Submission{Type: "delete", IDType: "phone", ID: victim}, `id_type "phone" is not supported`},
		{"cookie id type", rights.Submission{Type: "delete", IDType: "cookie", ID: victim}, "not supported"},
		{"no id type", rights.Submission{Type: "delete", ID: victim}, "id_type is required"},
		{"no id", rights.Submission{Type: "delete", IDType: "oaid"}, "id is required"},
		{"malformed idfa", rights.Submission{Type: "delete", IDType: "idfa", ID: "not-an-idfa-at-all"}, "the idfa is malformed: expected a UUID"},
		{"malformed oaid", rights.Submission{Type: "delete", IDType: "oaid", ID: "short7"}, "the oaid is malformed"},
		{"raw value declared md5", rights.Submission{Type: "delete", IDType: "oaid", ID: victim, Form: "md5"}, "32 hexadecimal digits"},
		{"unknown form", rights.Submission{Type: "delete", IDType: "oaid", ID: victim, Form: "sha1"}, "form must be raw, md5"},
		{"zero idfa", rights.Submission{Type: "delete", IDType: "idfa", ID: "00000000-0000-0000-0000-000000000000"}, "placeholder"},
		{"zero imei", rights.Submission{Type: "delete", IDType: "imei", ID: "000000000000000"}, "placeholder"},
		{"md5 of a macro", rights.Submission{Type: "delete", IDType: "oaid", ID: md5hex("__OAID__"), Form: "md5"}, "placeholder"},
		{"note too long", rights.Submission{Type: "delete", IDType: "oaid", ID: victim, Note: strings.Repeat("工", 501)}, "at most 500 characters"},
		{"note not UTF-8", rights.Submission{Type: "delete", IDType: "oaid", ID: victim, Note: "ticket \xff"}, "valid UTF-8"},
		{"note repeats id", rights.Submission{Type: "delete", IDType: "oaid", ID: victim, Note: "device " + victim}, "must not repeat the device identifier"},
		{"note repeats id in capitals", rights.Submission{Type: "delete", IDType: "oaid", ID: victim, Note: "device " + strings.ToUpper(victim) + "!"}, "must not repeat"},
		{"note repeats an id of the list", rights.Submission{Type: "delete", IDs: []rights.SubmissionID{{IDType: "idfa", ID: idfa}, {IDType: "oaid", ID: victim}}, Note: "oaid " + victim}, "must not repeat"},
		{"note repeats the md5 given", rights.Submission{Type: "delete", IDType: "oaid", ID: md5hex(victim), Note: "md5 " + md5hex(victim)}, "must not repeat"},
		{"eleven ids", rights.Submission{Type: "delete", IDs: many(11)}, "at most 10 identifiers"},
		{"ten ids and one more", rights.Submission{Type: "delete", IDType: "oaid", ID: victim, IDs: many(10)}, "at most 10 identifiers"},
		{"bad entry in the list", rights.Submission{Type: "delete", IDs: []rights.SubmissionID{{IDType: "oaid", ID: victim}, {IDType: "oaid", ID: bystander}, {IDType: "idfa", ID: "12345678-ZZZZ-4BA4"}}}, "identifier 3: the idfa is malformed"},
		{"bad type in the list", rights.Submission{Type: "delete", IDs: []rights.SubmissionID{{IDType: "oaid", ID: victim}, {IDType: "imsi", ID: bystander}}}, `identifier 2: id_type "imsi" is not supported`},
		{"bad entry after id", rights.Submission{Type: "delete", IDType: "oaid", ID: victim, IDs: []rights.SubmissionID{{IDType: "idfa", ID: idfa}, {IDType: "oaid", ID: "00000000000000000000000000000000"}}}, "identifier 3: the oaid is a placeholder"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, dup, err := h.svc.Submit(t.Context(), "tenant:"+string(tn), tn, tc.in)
			if err == nil {
				t.Fatalf("Submit = %+v (duplicate %v), want an error", r, dup)
			}
			if admeter.ErrorCode(err) != admeter.EINVALID {
				t.Errorf("error code %q, want %q (%v)", admeter.ErrorCode(err), admeter.EINVALID, err)
			}
			msg := admeter.ErrorMessage(err)
			if !strings.Contains(msg, tc.want) {
				t.Errorf("message %q, want it to mention %q", msg, tc.want)
			}
			ids := append([]rights.SubmissionID{{ID: tc.in.ID}}, tc.in.IDs...)
			for _, id := range ids {
				v := strings.ToLower(strings.TrimSpace(id.ID))
				if len(v) >= 6 && (strings.Contains(strings.ToLower(msg), v) || strings.Contains(strings.ToLower(err.Error()), v)) {
					t.Errorf("error %q repeats the identifier", err)
				}
			}
		})
	}
	if list, err := h.svc.List(t.Context(), tn); err != nil || len(list) != 0 {
		t.Errorf("after invalid submissions: %d requests stored, %v", len(list), err)
	}
	if n := h.registry.Len(); n != 0 {
		t.Errorf("after invalid submissions: %d opt-outs registered", n)
	}

	// The limits are inclusive: ten identifiers, and a note of 500
	// characters (not bytes).
	r, _ := h.submit(tn, rights.Submission{Type: "access", IDs: many(10), Note: strings.Repeat("工", 500)})
	if len(r.OptOut) != 10 || len(r.Users) != 20 || r.Note != strings.Repeat("工", 500) {
		t.Errorf("ten identifiers: %d opt-out pseudonyms, %d user pseudonyms, note of %d bytes", len(r.OptOut), len(r.Users), len(r.Note))
	}
}

// TestSubmitPseudonyms: a request holds the device only as pseudonyms: under
// the opt-out key (its fingerprint is the first) and under every live key
// version; the type and the note are normalised.
func TestSubmitPseudonyms(t *testing.T) {
	h := newHarness(t, nil)
	tn := h.tenant("Acme")
	r, dup := h.submit(tn, rights.Submission{Type: " Access ", IDType: "OAID", ID: " " + victim + " ", Note: "  ticket 42  ", Minor: true})
	if dup || r.ID == "" || r.Type != admeter.RequestAccess || r.IDType != admeter.IDOAID || !r.Minor || r.Note != "ticket 42" ||
		r.Actor != "tenant:"+string(tn) || r.Tenant != tn || r.Status != admeter.RequestPending {
		t.Fatalf("request %+v", r)
	}
	wantOpt := h.optOutOf(admeter.IDOAID, victim)
	if len(r.OptOut) != 1 || r.OptOut[0] != wantOpt || r.Fingerprint != hex.EncodeToString(wantOpt[:]) {
		t.Errorf("opt-out pseudonyms %v, fingerprint %s", r.OptOut, r.Fingerprint)
	}
	if want := []admeter.Pseudonym{h.user(victim, 1), h.user(victim, 2)}; !slices.Equal(r.Users, want) {
		t.Errorf("user pseudonyms %v, want one per key version %v", r.Users, want)
	}
	if got := h.get(tn, r.ID); !slices.Equal(got.Users, r.Users) || !slices.Equal(got.OptOut, r.OptOut) || got.Note != r.Note {
		t.Errorf("stored request %+v differs from %+v", got, r)
	}
	if h.registry.Contains(wantOpt) {
		t.Error("an access request put the device in the opt-out registry")
	}

	// 32 hex digits are an MD5, or a raw OAID of that shape: both are
	// looked for; the MD5 form comes first, so the fingerprint is the
	// same as for the raw identifier it is the MD5 of.
	r2, dup := h.submit(tn, rights.Submission{Type: "delete", IDType: "oaid", ID: md5hex(victim)})
	asRaw := h.optOutOf(admeter.IDOAID, md5hex(victim))
	if dup || len(r2.OptOut) != 2 || r2.OptOut[0] != wantOpt || r2.OptOut[1] != asRaw || r2.Fingerprint != r.Fingerprint || len(r2.Users) != 4 {
		t.Errorf("md5 request: %d opt-out pseudonyms, %d user pseudonyms, fingerprint %s (want %s)", len(r2.OptOut), len(r2.Users), r2.Fingerprint, r.Fingerprint)
	}
	if !h.registry.Contains(wantOpt) || !h.registry.Contains(asRaw) || !r2.Outcome.OptOutAdded {
		t.Error("a delete request did not put both readings of the identifier in the opt-out registry at once")
	}

	// Several identifiers of one device: the first names the request.
	r3, _ := h.submit(tn, rights.Submission{Type: "access", IDs: []rights.SubmissionID{{IDType: "idfa", ID: strings.ToLower(idfa)}, {IDType: "oaid", ID: bystander, Form: "raw"}}})
	if r3.IDType != admeter.IDIDFA || len(r3.OptOut) != 2 || r3.OptOut[0] != h.optOutOf(admeter.IDIDFA, idfa) || r3.OptOut[1] != h.optOutOf(admeter.IDOAID, bystander) ||
		!slices.Contains(r3.Users, h.user(bystander, 2)) {
		t.Errorf("request naming two identifiers: %+v", r3)
	}
}

// TestDue: requests are due 15 working days after the local day they
// arrive, on China's calendar; past the calendar's data the count is
// Monday to Friday and flagged as not exact.
func TestDue(t *testing.T) {
	h := newHarness(t, nil)
	tn := h.tenant("Acme")
	for i, tc := range []struct {
		name     string
		received time.Time
		due      string
		exact    bool
	}{
		// Sep 29, 30, then the National Day holiday (Oct 1-7), Oct 8, 9,
		// Saturday Oct 10 (a working day), Oct 12-16 and 19-23.
		{"before National Day", time.Date(2026, 9, 28, 10, 0, 0, 0, cst), "2026-10-23", true},
		// 01:00 in China is still Sunday Sep 27 in UTC (a holiday): the
		// local day counts.
		{"local day, not UTC day", time.Date(2026, 9, 27, 17, 0, 0, 0, time.UTC), "2026-10-23", true},
		// 23:59 on that Sunday in China: a day earlier, so Sep 28 counts.
		{"late on the Sunday before", time.Date(2026, 9, 27, 23, 59, 0, 0, cst), "2026-10-22", true},
		{"during the holiday", time.Date(2026, 10, 3, 12, 0, 0, 0, cst), "2026-10-27", true},
		// Dec 22-25, 28-31, then 2027 without holiday data: Jan 1, 4-8, 11.
		{"crossing into 2027", time.Date(2026, 12, 21, 10, 0, 0, 0, cst), "2027-01-11", false},
	} {
		h.clock.Set(tc.received)
		r, _ := h.submit(tn, oaid("access", []string{victim, bystander, other, "99887766554433221100", "5566778899aabbccdd"}[i]))
		for _, got := range []*admeter.RightsRequest{r, h.get(tn, r.ID)} {
			due := got.Due.In(cst)
			if due.Format(time.DateOnly) != tc.due || due.Hour() != 0 || due.Minute() != 0 || got.DueExact != tc.exact {
				t.Errorf("%s: due %v (exact %v), want %s 00:00 in China (exact %v)", tc.name, due, got.DueExact, tc.due, tc.exact)
			}
			if !got.Received.Equal(tc.received) {
				t.Errorf("%s: received %v, want %v", tc.name, got.Received, tc.received)
			}
		}
	}
}

// TestDeadline: the working days left count down as the clock moves, reach
// 0 on the due day, and the request is overdue from the end of that day
// while it is open, never once it is done.
func TestDeadline(t *testing.T) {
	h := newHarness(t, nil)
	tn := h.tenant("Acme")
	r, _ := h.submit(tn, oaid("access", victim)) // due 2026-10-23
	stored := h.get(tn, r.ID)
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04:05.999999999", s, cst)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		now     string
		left    int
		overdue bool
	}{
		{"2026-09-28 10:00:00", 15, false},
		{"2026-09-28 23:59:59", 15, false},
		{"2026-09-29 00:00:00", 14, false},
		{"2026-09-30 18:00:00", 13, false},
		{"2026-10-01 12:00:00", 13, false}, // a holiday: no working day used up
		{"2026-10-07 12:00:00", 13, false},
		{"2026-10-08 09:00:00", 12, false},
		{"2026-10-10 09:00:00", 10, false}, // the working Saturday
		{"2026-10-22 09:00:00", 1, false},
		{"2026-10-23 00:00:00", 0, false},
		{"2026-10-23 23:59:59.999999999", 0, false},
		{"2026-10-24 00:00:00", 0, true}, // the due day is over (a Saturday)
		{"2026-10-25 12:00:00", 0, true},
		{"2026-10-26 09:00:00", -1, true},
		{"2026-10-30 09:00:00", -5, true},
	} {
		h.clock.Set(at(tc.now))
		for _, req := range []*admeter.RightsRequest{r, stored} {
			if got := h.svc.Deadline(req); got.DaysLeft != tc.left || got.Overdue != tc.overdue {
				t.Errorf("at %s: %+v, want %d days left, overdue %v", tc.now, got, tc.left, tc.overdue)
			}
		}
	}

	// Done: never overdue, however late.
	h.clock.Set(at("2026-10-30 09:00:00"))
	h.process(1)
	done := h.get(tn, r.ID)
	if done.Status != admeter.RequestDone {
		t.Fatalf("status %s", done.Status)
	}
	for _, now := range []string{"2026-10-23 12:00:00", "2026-10-30 09:00:00", "2027-06-01 09:00:00"} {
		h.clock.Set(at(now))
		if got := h.svc.Deadline(done); got.Overdue {
			t.Errorf("done request at %s: %+v, want not overdue", now, got)
		}
	}
}

// TestReplay: a tenant's open request of the same type about the same
// device is returned again, not duplicated; once it is done a new one is
// made, and another tenant's request is its own.
func TestReplay(t *testing.T) {
	h := newHarness(t, nil)
	a, b := h.tenant("A"), h.tenant("B")
	first, dup := h.submit(a, rights.Submission{Type: "access", IDType: "oaid", ID: victim, Note: "ticket 1"})
	if dup {
		t.Fatal("first request reported as a duplicate")
	}
	h.clock.Add(time.Hour)
	for _, in := range []rights.Submission{
		{Type: "access", IDType: "oaid", ID: victim, Note: "ticket 2"},
		{Type: "ACCESS", IDType: "oaid", ID: md5hex(victim)},                                                   // the same device, hashed
		{Type: "access", IDs: []rights.SubmissionID{{IDType: "oaid", ID: victim}, {IDType: "idfa", ID: idfa}}}, // named first
	} {
		r, dup := h.submit(a, in)
		if !dup || r.ID != first.ID || r.Note != "ticket 1" || !r.Received.Equal(first.Received) {
			t.Errorf("replay %+v: got request %s (duplicate %v), want %s again", in, r.ID, dup, first.ID)
		}
	}
	del, dup := h.submit(a, oaid("delete", victim))
	if dup || del.ID == first.ID {
		t.Error("a delete request was taken for a replay of an access request")
	}
	atB, dup := h.submit(b, oaid("access", victim))
	if dup || atB.ID == first.ID || atB.Tenant != b {
		t.Error("another tenant's identical request was taken for a replay")
	}
	if again, dup := h.submit(b, oaid("access", victim)); !dup || again.ID != atB.ID {
		t.Error("the other tenant's replay made a new request")
	}
	if list, _ := h.svc.List(t.Context(), a); len(list) != 2 || list[0].ID != del.ID || list[1].ID != first.ID {
		t.Errorf("tenant A lists %d requests, want 2, newest first", len(list))
	}

	h.process(3)
	next, dup := h.submit(a, oaid("access", victim))
	if dup || next.ID == first.ID || next.Status != admeter.RequestPending {
		t.Errorf("after the first was done: got %s (duplicate %v), want a new pending request", next.ID, dup)
	}
	submits := 0
	for _, e := range h.auditEntries() {
		if e.Action == "rights.request.submit" {
			submits++
		}
	}
	if submits != 4 {
		t.Errorf("%d submissions audited, want 4 (replays are not new requests)", submits)
	}
}

// TestOptOut: an optout request is done when Submit returns: the device's
// opt-out pseudonym is in the registry. A second one finds it there.
func TestOptOut(t *testing.T) {
	h := newHarness(t, nil)
	a, b := h.tenant("A"), h.tenant("B")
	r, dup := h.submit(a, rights.Submission{Type: "optout", IDType: "idfa", ID: idfa})
	want := h.optOutOf(admeter.IDIDFA, idfa)
	if dup || r.Status != admeter.RequestDone || !r.Completed.Equal(r.Received) || !r.Outcome.OptOutAdded {
		t.Fatalf("optout request %+v, want done at once and added", r)
	}
	if !h.registry.Contains(want) || h.registry.Len() != 1 {
		t.Fatalf("registry holds %d pseudonyms, not the device's", h.registry.Len())
	}
	if got := h.get(a, r.ID); got.Status != admeter.RequestDone || !got.Outcome.OptOutAdded || !got.Completed.Equal(r.Completed) {
		t.Errorf("stored optout request %+v", got)
	}
	if n, err := h.svc.ProcessOpen(t.Context()); n != 0 || err != nil {
		t.Errorf("ProcessOpen after an optout = %d, %v; want nothing to do", n, err)
	}

	// The same device again, hashed, and at another tenant: new requests
	// (the first is done), and the registry already has it.
	for _, tn := range []admeter.TenantID{a, b} {
		again, dup := h.submit(tn, rights.Submission{Type: "optout", IDType: "idfa", ID: md5hex(idfa), Form: "md5"})
		if dup || again.ID == r.ID || again.Status != admeter.RequestDone || again.Outcome.OptOutAdded {
			t.Errorf("repeated optout at %s: %+v, want a new done request, not added", tn, again)
		}
	}
	if h.registry.Len() != 1 {
		t.Errorf("registry holds %d pseudonyms, want 1", h.registry.Len())
	}
	actions := map[string]int{}
	for _, e := range h.auditEntries() {
		actions[e.Action]++
	}
	if actions["rights.request.submit"] != 3 || actions["rights.request.done"] != 3 {
		t.Errorf("audit actions %v, want 3 submissions and 3 done", actions)
	}
}

// TestAuditRecord: every submission and outcome is in the audit record,
// with the tenant, the request and counts; no file the service wrote, nor
// its log, holds the identifier, its MD5 or a pseudonym of it.
func TestAuditRecord(t *testing.T) {
	h := newHarness(t, nil)
	tn := h.tenant("Acme")
	h.insert(h.ev(tn, "10000001", victim, 1, start.Add(-48*time.Hour)), h.ev(tn, "10000001", victim, 2, start.Add(-24*time.Hour)))
	acc, _ := h.submit(tn, rights.Submission{Type: "access", IDType: "oaid", ID: victim, Note: "ticket 42"})
	h.process(1)
	del, _ := h.submit(tn, rights.Submission{Type: "delete", IDType: "oaid", ID: md5hex(victim), Minor: true})
	h.process(1)

	type key struct{ action, target string }
	got := map[key]admeter.AuditEntry{}
	for _, e := range h.auditEntries() {
		got[key{e.Action, e.Target}] = e
	}
	for _, tc := range []struct {
		action string
		r      *admeter.RightsRequest
		actor  string
		events float64
	}{
		{"rights.request.submit", acc, "tenant:" + string(tn), -1},
		{"rights.request.done", acc, "system", 2},
		{"rights.request.submit", del, "tenant:" + string(tn), -1},
		{"rights.request.done", del, "system", 2},
	} {
		e, ok := got[key{tc.action, tc.r.ID}]
		if !ok {
			t.Errorf("no %s entry for %s", tc.action, tc.r.ID)
			continue
		}
		if e.Actor != tc.actor || e.Tenant != string(tn) || e.Outcome != "ok" || e.Time.IsZero() {
			t.Errorf("%s entry %+v", tc.action, e)
		}
		if tc.events >= 0 && e.Details["events"] != tc.events {
			t.Errorf("%s entry details %v, want %v events", tc.action, e.Details, tc.events)
		}
		if tc.events < 0 && (e.Details["type"] != string(tc.r.Type) || e.Details["id_type"] != "oaid" || e.Details["minor"] != tc.r.Minor) {
			t.Errorf("%s entry details %v", tc.action, e.Details)
		}
	}
	if len(got) != 4 {
		t.Errorf("%d audit entries, want 4", len(got))
	}

	logs := h.logs.String()
	if !strings.Contains(logs, "rights request carried out") {
		t.Errorf("no log of the outcome:\n%s", logs)
	}
	h.close()
	// Files hold pseudonyms by design (the request, the store); the log
	// holds none.
	secrets := map[string][]byte{"the raw identifier": []byte(victim), "its MD5 in hex": []byte(md5hex(victim))}
	sum := md5.Sum([]byte(victim))
	secrets["its MD5"] = sum[:]
	inLog := maps.Clone(secrets)
	for i, p := range append(acc.Users, acc.OptOut...) {
		inLog[fmt.Sprintf("pseudonym %d in hex", i)] = []byte(hex.EncodeToString(p[:]))
	}
	for what, s := range inLog {
		if bytes.Contains(bytes.ToLower([]byte(logs)), bytes.ToLower(s)) {
			t.Errorf("the log holds %s", what)
		}
	}
	err := filepath.WalkDir(h.dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for what, s := range secrets {
			if bytes.Contains(data, s) || bytes.Contains(bytes.ToLower(data), bytes.ToLower(s)) {
				t.Errorf("%s holds %s", path, what)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// FuzzSubmit: Submit never panics, refuses bad input with EINVALID, and
// never repeats the identifier in an error.
func FuzzSubmit(f *testing.F) {
	for _, s := range [][5]string{
		{"access", "oaid", victim, "", "ticket 1"},
		{"delete", "oaid", md5hex(victim), "md5", ""},
		{"optout", "idfa", idfa, "raw", ""},
		{"delete", "idfa", "not-an-idfa-1234567", "", ""},
		{"access", "imei", "86753090000000", "", ""},
		{"access", "mac", "3C:A9:F4:00:11:22", "", ""},
		{"delete", "android_id", "0123456789abcdef", "", "see " + "0123456789abcdef"},
		{"access", "openudid", strings.Repeat("ab", 20), "", ""},
		{"erase", "oaid", victim, "", ""},
		{"access", "caid", md5hex("caid"), "", ""},
		{"access", "oaid", "\xff\xfe" + victim, "", "\xff"},
	} {
		f.Add(s[0], s[1], s[2], s[3], s[4])
	}
	h := newHarness(f, nil)
	tn := h.tenant("Fuzz")
	f.Fuzz(func(t *testing.T, typ, idType, id, form, note string) {
		in := rights.Submission{Type: typ, IDType: idType, ID: id, Form: form, Note: note}
		r, _, err := h.svc.Submit(context.Background(), "tenant:fuzz", tn, in)
		if err != nil {
			if code := admeter.ErrorCode(err); code != admeter.EINVALID {
				t.Fatalf("Submit(%+v) error code %q: %v", in, code, err)
			}
			v := strings.ToLower(strings.TrimSpace(id))
			if len(v) >= 13 && !strings.Contains(strings.ToLower(typ+idType+form+note), v) && !inHelpText(v) &&
				strings.Contains(strings.ToLower(err.Error()), v) {
				t.Fatalf("error %q repeats the identifier", err)
			}
			return
		}
		if r.ID == "" || len(r.OptOut) == 0 || len(r.Users) != 2*len(r.OptOut) || r.Fingerprint == "" {
			t.Fatalf("accepted request %+v", r)
		}
	})
}

// inHelpText reports whether s is part of an example in the help that
// error messages give (which the fuzzer may happen to produce as an id).
func inHelpText(s string) bool {
	for _, ex := range []string{"6d92078a-8246-4ba4-ae5b-76104861e7dc", "3c:a9:f4:00:11:22", "32 hexadecimal digits (the md5)"} {
		if strings.Contains(ex, s) {
			return true
		}
	}
	return false
}
