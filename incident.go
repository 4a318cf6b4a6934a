package admeter

import (
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Text is a text in Simplified Chinese and in English: every notice admeter
// sends to tenants is bilingual.
type Text struct {
	ZH string `json:"zh"`
	EN string `json:"en"`
}

// trim removes leading and trailing space from both languages.
func (t *Text) trim() {
	t.ZH, t.EN = strings.TrimSpace(t.ZH), strings.TrimSpace(t.EN)
}

// missing appends to out the names (name.zh, name.en) of t's empty languages.
func (t *Text) missing(name string, out []string) []string {
	t.trim()
	if t.ZH == "" {
		out = append(out, name+".zh")
	}
	if t.EN == "" {
		out = append(out, name+".en")
	}
	return out
}

// IncidentID identifies a security incident: "in_" and 12 base32 characters.
type IncidentID string

// Severity is how serious an incident is.
type Severity string

// Incident severities.
const (
	SeverityLow      Severity = "low"
	SeverityMedium   Severity = "medium"
	SeverityHigh     Severity = "high"
	SeverityCritical Severity = "critical"
)

// Valid reports whether s is a defined severity.
func (s Severity) Valid() bool {
	return s == SeverityLow || s == SeverityMedium || s == SeverityHigh || s == SeverityCritical
}

// Label returns s's name in both languages.
func (s Severity) Label() Text {
	switch s {
	case SeverityLow:
		return Text{"低", "low"}
	case SeverityMedium:
		return Text{"中", "medium"}
	case SeverityHigh:
		return Text{"高", "high"}
	case SeverityCritical:
		return Text{"严重", "critical"}
	}
	return Text{string(s), string(s)}
}

// DataCategories are the categories of personal information an incident may
// involve, with their names in both languages: the kinds of data admeter
// holds (privacy policy 一(二)) and the account data of tenants' users.
var DataCategories = map[string]Text{
	"device_identifiers":  {"设备标识信息(已去标识化)", "device identifiers (pseudonymised)"},
	"network":             {"网络信息(IP 地址段)", "network information (IP address blocks)"},
	"location":            {"位置信息(地区)", "location (region)"},
	"device_software":     {"设备与软件信息", "device and software information"},
	"browsing":            {"访问页面与搜索信息", "visited pages and search terms"},
	"app_info":            {"应用信息", "app information"},
	"events":              {"广告曝光与点击记录", "ad exposure and click records"},
	"conversions":         {"转化数据", "conversion data"},
	"account_contact":     {"企业账号联系信息", "enterprise account contact details"},
	"account_credentials": {"账号登录凭据", "account sign-in credentials"},
	"other":               {"其他(见事件说明)", "other (see the description)"},
}

// IncidentContent is what a notice of a personal information security
// incident must tell the people affected (PIPL art. 57, privacy policy
// 七(五)): what happened and when, the personal information involved, its
// possible impact, the measures taken and planned, advice for protecting
// themselves, remedies, and whom to contact. Every field is required.
type IncidentContent struct {
	Title Text `json:"title"`
	// Summary is what happened (安全事件的基本情况).
	Summary Text `json:"summary"`
	// Occurred is when the incident began (or the best estimate);
	// Discovered is when it was discovered.
	Occurred   time.Time `json:"occurred"`
	Discovered time.Time `json:"discovered"`
	// DataCategories are keys of DataCategories.
	DataCategories []string `json:"data_categories"`
	// Impact is its possible impact (可能的影响).
	Impact Text `json:"impact"`
	// MeasuresTaken and MeasuresPlanned are what was done and what will be
	// done (已采取或将要采取的处置措施).
	MeasuresTaken   Text `json:"measures_taken"`
	MeasuresPlanned Text `json:"measures_planned"`
	// Advice is how individuals can protect themselves and reduce the risk
	// (个人自主防范和降低风险的建议).
	Advice Text `json:"advice"`
	// Remedies are the remedial measures offered (补救措施).
	Remedies Text `json:"remedies"`
	// Contact is whom to contact about the incident: a team, an email
	// address, a telephone number.
	Contact Text `json:"contact"`
}

// Incident is a personal information security incident that operators
// record, notify to the tenants affected and report to the regulator.
type Incident struct {
	ID IncidentID
	IncidentContent
	Severity Severity
	// AllTenants marks an incident that affects every tenant; otherwise
	// Tenants lists those affected.
	AllTenants bool
	Tenants    []TenantID
	// ReportDue is when the report to the regulator is due (Discovered
	// plus the operator's configured window); Reported is when it was
	// made (zero: not yet) and ReportRef the regulator's reference.
	ReportDue time.Time
	Reported  time.Time
	ReportRef string
	// CreatedBy is the actor that recorded it.
	CreatedBy string
	Created   time.Time
	Updated   time.Time
}

// DefaultReportWindow is the default time from an incident's discovery to
// the regulator report's due date. It is an operator setting, not a
// statement of what any law requires: set it to what applies to you.
const DefaultReportWindow = 72 * time.Hour

// Validate checks i and normalises it in place. It returns one EINVALID
// error naming every missing content field at once, or the first other
// problem found.
func (i *Incident) Validate() error {
	var missing []string
	missing = i.Title.missing("title", missing)
	missing = i.Summary.missing("summary", missing)
	if i.Occurred.IsZero() {
		missing = append(missing, "occurred")
	}
	if i.Discovered.IsZero() {
		missing = append(missing, "discovered")
	}
	if len(i.DataCategories) == 0 {
		missing = append(missing, "data_categories")
	}
	missing = i.Impact.missing("impact", missing)
	missing = i.MeasuresTaken.missing("measures_taken", missing)
	missing = i.MeasuresPlanned.missing("measures_planned", missing)
	missing = i.Advice.missing("advice", missing)
	missing = i.Remedies.missing("remedies", missing)
	missing = i.Contact.missing("contact", missing)
	if !i.AllTenants && len(i.Tenants) == 0 {
		missing = append(missing, "tenants (or all_tenants)")
	}
	if i.Severity == "" {
		missing = append(missing, "severity")
	}
	if len(missing) > 0 {
		return Errorf(EINVALID, "an incident notice must state every item the law and the privacy policy 七(五) require; missing: %s", strings.Join(missing, ", "))
	}
	switch {
	case !i.Severity.Valid():
		return Errorf(EINVALID, "severity must be low, medium, high or critical, not %q", i.Severity)
	case i.Discovered.Before(i.Occurred):
		return Errorf(EINVALID, "discovered (%s) is before occurred (%s)", i.Discovered.Format(time.RFC3339), i.Occurred.Format(time.RFC3339))
	case i.AllTenants && len(i.Tenants) > 0:
		return Errorf(EINVALID, "give either tenants or all_tenants, not both")
	case len(i.Tenants) > 10000:
		return Errorf(EINVALID, "an incident lists at most 10000 tenants; use all_tenants")
	}
	if len(i.Title.ZH) > 300 || len(i.Title.EN) > 300 {
		return Errorf(EINVALID, "title is longer than 300 bytes")
	}
	for name, t := range map[string]*Text{"summary": &i.Summary, "impact": &i.Impact, "measures_taken": &i.MeasuresTaken,
		"measures_planned": &i.MeasuresPlanned, "advice": &i.Advice, "remedies": &i.Remedies, "contact": &i.Contact} {
		if len(t.ZH) > 20000 || len(t.EN) > 20000 {
			return Errorf(EINVALID, "%s is longer than 20000 bytes", name)
		}
	}
	for _, c := range i.DataCategories {
		if _, ok := DataCategories[c]; !ok {
			return Errorf(EINVALID, "data_categories: %q is not one of %s", c, strings.Join(DataCategoryKeys(), ", "))
		}
	}
	slices.Sort(i.DataCategories)
	i.DataCategories = slices.Compact(i.DataCategories)
	slices.Sort(i.Tenants)
	i.Tenants = slices.Compact(i.Tenants)
	i.Occurred, i.Discovered = i.Occurred.UTC(), i.Discovered.UTC()
	return nil
}

// DataCategoryKeys returns the keys of DataCategories, sorted.
func DataCategoryKeys() []string {
	keys := make([]string, 0, len(DataCategories))
	for k := range DataCategories {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// ReportOverdue reports whether the regulator report is due before now and
// has not been made.
func (i *Incident) ReportOverdue(now time.Time) bool {
	return i.Reported.IsZero() && !i.ReportDue.IsZero() && now.After(i.ReportDue)
}

// Affects reports whether the incident affects tenant t.
func (i *Incident) Affects(t TenantID) bool {
	return i.AllTenants || slices.Contains(i.Tenants, t)
}

// AnnouncementKind is the kind of a service announcement.
type AnnouncementKind string

// Announcement kinds. Maintenance and security announcements are critical:
// no tenant can unsubscribe from them. News is not.
const (
	AnnounceMaintenance AnnouncementKind = "maintenance"
	AnnounceSecurity    AnnouncementKind = "security"
	AnnounceNews        AnnouncementKind = "news"
)

// Valid reports whether k is a defined kind.
func (k AnnouncementKind) Valid() bool {
	return k == AnnounceMaintenance || k == AnnounceSecurity || k == AnnounceNews
}

// Critical reports whether announcements of kind k reach every tenant,
// whatever its subscription.
func (k AnnouncementKind) Critical() bool { return k == AnnounceMaintenance || k == AnnounceSecurity }

// Announcement is a service announcement to every tenant.
type Announcement struct {
	// ID is "an_" and 12 base32 characters.
	ID    string
	Kind  AnnouncementKind
	Title Text
	Body  Text
	// Starts and Ends bound a maintenance window (zero: none given).
	Starts time.Time
	Ends   time.Time
	// CreatedBy is the actor that made it.
	CreatedBy string
	Created   time.Time
}

// Validate checks a and normalises it in place, returning an EINVALID error
// naming every missing field.
func (a *Announcement) Validate() error {
	var missing []string
	if a.Kind == "" {
		missing = append(missing, "kind")
	}
	missing = a.Title.missing("title", missing)
	missing = a.Body.missing("body", missing)
	if len(missing) > 0 {
		return Errorf(EINVALID, "an announcement needs: %s", strings.Join(missing, ", "))
	}
	switch {
	case !a.Kind.Valid():
		return Errorf(EINVALID, "kind must be maintenance, security or news, not %q", a.Kind)
	case len(a.Title.ZH) > 300 || len(a.Title.EN) > 300:
		return Errorf(EINVALID, "title is longer than 300 bytes")
	case len(a.Body.ZH) > 20000 || len(a.Body.EN) > 20000:
		return Errorf(EINVALID, "body is longer than 20000 bytes")
	case !a.Starts.IsZero() && !a.Ends.IsZero() && a.Ends.Before(a.Starts):
		return Errorf(EINVALID, "ends is before starts")
	}
	return nil
}

// NoticeKind is what a notice is about.
type NoticeKind string

// Notice kinds.
const (
	NoticeIncident       NoticeKind = "incident"        // the first notice of an incident
	NoticeIncidentUpdate NoticeKind = "incident_update" // a follow-up with the incident's current state
	NoticeAnnouncement   NoticeKind = "announcement"
)

// Notice is one message sent to a set of tenants: an incident notice, a
// follow-up, or an announcement. Its text is fixed when it is made, so that
// every retry sends the same words.
type Notice struct {
	// ID is "nt_" and 12 base32 characters.
	ID           string
	Kind         NoticeKind
	Incident     IncidentID
	Announcement string
	// Critical notices go to every tenant concerned; a non-critical one
	// skips the tenants that unsubscribed.
	Critical bool
	Subject  Text
	Body     Text
	// Payload is the JSON document webhook deliveries carry.
	Payload []byte
	// Tenants are the tenants the notice is addressed to.
	Tenants   []TenantID
	CreatedBy string
	Created   time.Time
}

// DeliveryChannel is how a notice reaches a tenant.
type DeliveryChannel string

// Delivery channels.
const (
	ChannelEmail   DeliveryChannel = "email"
	ChannelWebhook DeliveryChannel = "webhook"
)

// DeliveryStatus is where a delivery stands.
type DeliveryStatus string

// Delivery statuses. A failed delivery is tried again at NextAttempt; one
// given up is not tried again.
const (
	DeliveryPending DeliveryStatus = "pending"
	DeliverySent    DeliveryStatus = "sent"
	DeliveryFailed  DeliveryStatus = "failed"
	DeliveryGivenUp DeliveryStatus = "given_up"
)

// Due reports whether a delivery in status s is still to be attempted.
func (s DeliveryStatus) Due() bool { return s == DeliveryPending || s == DeliveryFailed }

// Delivery is one notice to one recipient over one channel: the outbox
// entry that a background job sends, at least once, retrying with backoff.
type Delivery struct {
	// ID is "dl_" and 12 base32 characters: the webhook's idempotency key
	// and the email's Message-ID.
	ID        string
	Notice    string
	Tenant    TenantID
	Channel   DeliveryChannel
	Recipient string // an email address, or the webhook URL
	Status    DeliveryStatus
	Attempts  int
	LastError string
	// NextAttempt is when it is due (pending or failed).
	NextAttempt time.Time
	Sent        time.Time
	Created     time.Time
	Updated     time.Time
}

// NotifySettings are a tenant's notification settings.
type NotifySettings struct {
	Tenant TenantID
	// Email is an address that receives notices besides the tenant's owner
	// and admin users ("": none).
	Email string
	// WebhookURL receives notices as signed JSON ("": none).
	// WebhookSecret is its signing secret, sealed by the caller.
	WebhookURL    string
	WebhookSecret []byte
	// Unsubscribed stops non-critical announcements. Incident notices and
	// critical announcements are sent regardless.
	Unsubscribed bool
	Updated      time.Time
}

// Validate checks s and normalises it in place.
func (s *NotifySettings) Validate() error {
	s.Email, s.WebhookURL = strings.TrimSpace(s.Email), strings.TrimSpace(s.WebhookURL)
	if s.Email != "" {
		a, err := mail.ParseAddress(s.Email)
		if err != nil || a.Name != "" || len(s.Email) > 254 {
			return Errorf(EINVALID, "email must be a plain address such as security@example.com, not %q", s.Email)
		}
	}
	if s.WebhookURL != "" {
		if err := validWebhookURL(s.WebhookURL); err != nil {
			return err
		}
	}
	return nil
}

// validWebhookURL requires an absolute https URL without credentials or a
// fragment: notices travel encrypted, and the signing secret is never sent
// in the clear.
func validWebhookURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.Fragment != "" || len(s) > 2000 {
		return Errorf(EINVALID, "webhook_url must be an absolute https URL such as https://hooks.example.com/admeter, without user, password or fragment, not %q", s)
	}
	return nil
}
