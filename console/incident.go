package console

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/api"
	"github.com/admeter/admeter/notify"
)

// Notices is what the notice screens need of the notify service: a
// tenant's notices and settings, and for operators the incidents and
// announcements with their deliveries.
type Notices interface {
	TenantNotices(ctx context.Context, tenant admeter.TenantID) ([]*admeter.Notice, error)
	TenantNotice(ctx context.Context, tenant admeter.TenantID, id string) (*admeter.Notice, []*admeter.Delivery, error)
	Settings(ctx context.Context, tenant admeter.TenantID) (*admeter.NotifySettings, error)
	SetSettings(ctx context.Context, actor string, tenant admeter.TenantID, u notify.SettingsUpdate) (*admeter.NotifySettings, string, error)
	Incidents(ctx context.Context) ([]*admeter.Incident, error)
	IncidentNotices(ctx context.Context, id admeter.IncidentID) ([]*admeter.Notice, error)
	Deliveries(ctx context.Context, notice string) ([]*admeter.Delivery, error)
	Announcements(ctx context.Context) ([]*admeter.Announcement, error)
	AnnouncementNotices(ctx context.Context, id string) ([]*admeter.Notice, error)
	ReportWindow() time.Duration
}

// noticeMessages are the notice screens' labels, merged into messages.
var noticeMessages = map[string]map[string]string{
	langZH: {
		"notices":              "通知",
		"notice":               "通知",
		"no_notices":           "暂无通知。",
		"critical":             "重要",
		"kind_incident":        "安全事件",
		"kind_incident_update": "安全事件进展",
		"kind_announcement":    "公告",
		"notify_settings":      "通知设置",
		"notify_email":         "额外的通知邮箱(所有者和管理员总会收到)",
		"webhook_url":          "Webhook 地址(https)",
		"rotate_secret":        "生成新的签名密钥",
		"unsubscribe_news":     "退订非关键通知(安全事件通知和关键公告不可退订)",
		"save":                 "保存",
		"webhook_secret_once":  "Webhook 签名密钥只显示这一次,请立即保存:",
		"webhook_secret_set":   "已设置签名密钥",
		"deliveries":           "投递",
		"channel":              "渠道",
		"recipient":            "接收方",
		"attempts":             "尝试次数",
		"last_error":           "最近错误",
		"dl_pending":           "待发送",
		"dl_sent":              "已发送",
		"dl_failed":            "失败,将重试",
		"dl_given_up":          "已放弃",
		"other_language":       "English",
		"incidents":            "安全事件",
		"no_incidents":         "暂无安全事件。",
		"severity":             "严重程度",
		"discovered":           "发现时间",
		"report_due":           "监管报告期限",
		"reported":             "已报告",
		"not_reported":         "未报告",
		"report_window_note":   "监管报告期限为发现后的小时数(运营方配置,非法律意见):",
		"announcements":        "公告",
		"sent_to":              "发送对象",
	},
	langEN: {
		"notices":              "Notices",
		"notice":               "Notice",
		"no_notices":           "No notices yet.",
		"critical":             "critical",
		"kind_incident":        "Security incident",
		"kind_incident_update": "Incident update",
		"kind_announcement":    "Announcement",
		"notify_settings":      "Notification settings",
		"notify_email":         "Extra notification address (owners and admins always receive notices)",
		"webhook_url":          "Webhook URL (https)",
		"rotate_secret":        "Make a new signing secret",
		"unsubscribe_news":     "Unsubscribe from non-critical notifications (incident notices and critical announcements always arrive)",
		"save":                 "Save",
		"webhook_secret_once":  "The webhook signing secret is shown only this once; store it now:",
		"webhook_secret_set":   "signing secret set",
		"deliveries":           "Deliveries",
		"channel":              "Channel",
		"recipient":            "Recipient",
		"attempts":             "Attempts",
		"last_error":           "Last error",
		"dl_pending":           "pending",
		"dl_sent":              "sent",
		"dl_failed":            "failed, will retry",
		"dl_given_up":          "given up",
		"other_language":       "中文",
		"incidents":            "Security incidents",
		"no_incidents":         "No incidents recorded.",
		"severity":             "Severity",
		"discovered":           "Discovered",
		"report_due":           "Regulator report due",
		"reported":             "reported",
		"not_reported":         "not reported",
		"report_window_note":   "The regulator report is due this many hours after discovery (an operator setting, not legal advice):",
		"announcements":        "Announcements",
		"sent_to":              "Sent to",
	},
}

func init() {
	for lang, m := range noticeMessages {
		for k, v := range m {
			messages[lang][k] = v
		}
	}
}

// pick returns t in the page's language.
func pick(lang string, t admeter.Text) string {
	if lang == langEN {
		return t.EN
	}
	return t.ZH
}

// noticeRow is a notice as the screens list it.
type noticeRow struct {
	ID, Kind, Subject, Body, OtherBody string
	Critical                           bool
	Created                            time.Time
	Counts                             map[string]int
	Tenants                            int
}

func noticeRowOf(lang string, n *admeter.Notice) noticeRow {
	other := langEN
	if lang == langEN {
		other = langZH
	}
	return noticeRow{ID: n.ID, Kind: string(n.Kind), Subject: pick(lang, n.Subject), Body: pick(lang, n.Body),
		OtherBody: pick(other, n.Body), Critical: n.Critical, Created: n.Created, Tenants: len(n.Tenants)}
}

// RegisterNotices adds the notice screens to mux: a tenant's notices and
// notification settings (/console/notices) and the operator's incident
// overview (/console/admin/incidents, for a browser that sends the
// operator token as the HTTP Basic password, as isOperator checks).
func (s *Server) RegisterNotices(mux *http.ServeMux, n Notices, isOperator func(*http.Request) bool) error {
	for _, name := range []string{"notices", "notice", "incidents"} {
		t, err := template.New("layout").ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return fmt.Errorf("parse %s: %w", name, err)
		}
		s.pages[name] = t
	}
	xo := http.NewCrossOriginProtection()
	if s.cfg.PublicURL != "" {
		_ = xo.AddTrustedOrigin(s.cfg.PublicURL)
	}
	mux.HandleFunc("GET /console/notices", s.signed(func(w http.ResponseWriter, r *http.Request, sess *api.Session) {
		s.noticesPage(w, r, sess, n, "", nil)
	}))
	mux.Handle("POST /console/notices/settings", xo.Handler(s.signed(func(w http.ResponseWriter, r *http.Request, sess *api.Session) {
		s.saveNoticeSettings(w, r, sess, n)
	})))
	mux.HandleFunc("GET /console/notices/{id}", s.signed(func(w http.ResponseWriter, r *http.Request, sess *api.Session) {
		s.noticePage(w, r, sess, n)
	}))
	mux.HandleFunc("GET /console/admin/incidents", func(w http.ResponseWriter, r *http.Request) {
		if !isOperator(r) {
			w.Header().Set("WWW-Authenticate", `Basic realm="admeter operator", charset="UTF-8"`)
			http.Error(w, "Sign in with any user name and the operator token as the password.", http.StatusUnauthorized)
			return
		}
		s.incidentsPage(w, r, n)
	})
	return nil
}

func (s *Server) noticesPage(w http.ResponseWriter, r *http.Request, sess *api.Session, n Notices, secret string, formErr error) {
	ctx, lang := r.Context(), langOf(r)
	ns, err := n.TenantNotices(ctx, sess.Tenant.ID)
	if err != nil {
		s.fail(w, r, sess, err)
		return
	}
	rows := make([]noticeRow, 0, len(ns))
	for _, x := range ns {
		rows = append(rows, noticeRowOf(lang, x))
	}
	data := map[string]any{"Notices": rows, "NewSecret": secret}
	if sess.User.Role.Allows(admeter.PermManageAccount) {
		if data["Settings"], err = n.Settings(ctx, sess.Tenant.ID); err != nil {
			s.fail(w, r, sess, err)
			return
		}
	}
	status, msg := http.StatusOK, ""
	if formErr != nil {
		status, msg = http.StatusBadRequest, admeter.ErrorMessage(formErr)
	}
	s.render(w, r, status, "notices", "notices", sess, data, msg)
}

func (s *Server) saveNoticeSettings(w http.ResponseWriter, r *http.Request, sess *api.Session, n Notices) {
	if !sess.User.Role.Allows(admeter.PermManageAccount) {
		s.fail(w, r, sess, admeter.Errorf(admeter.EFORBIDDEN, "forbidden"))
		return
	}
	email, url := strings.TrimSpace(r.PostFormValue("email")), strings.TrimSpace(r.PostFormValue("webhook_url"))
	unsub := r.PostFormValue("unsubscribed") == "on"
	u := notify.SettingsUpdate{Email: &email, WebhookURL: &url, Unsubscribed: &unsub, RotateSecret: r.PostFormValue("rotate_secret") == "on"}
	_, secret, err := n.SetSettings(r.Context(), "user:"+string(sess.User.ID), sess.Tenant.ID, u)
	if code := admeter.ErrorCode(err); code == admeter.EINVALID {
		s.noticesPage(w, r, sess, n, "", err)
		return
	} else if err != nil {
		s.fail(w, r, sess, err)
		return
	}
	if secret == "" {
		http.Redirect(w, r, "/console/notices", http.StatusSeeOther)
		return
	}
	s.noticesPage(w, r, sess, n, secret, nil)
}

func (s *Server) noticePage(w http.ResponseWriter, r *http.Request, sess *api.Session, n Notices) {
	x, ds, err := n.TenantNotice(r.Context(), sess.Tenant.ID, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, sess, err)
		return
	}
	s.render(w, r, http.StatusOK, "notice", "notice", sess, map[string]any{"Notice": noticeRowOf(langOf(r), x), "Deliveries": ds}, "")
}

// incidentRow is an incident as the operator's overview lists it.
type incidentRow struct {
	*admeter.Incident
	Title    string
	Overdue  bool
	Affected string
	Notices  []noticeRow
}

func (s *Server) incidentsPage(w http.ResponseWriter, r *http.Request, n Notices) {
	ctx, lang, now := r.Context(), langOf(r), s.cfg.Now()
	is, err := n.Incidents(ctx)
	if err != nil {
		s.fail(w, r, nil, err)
		return
	}
	counted := func(ns []*admeter.Notice) ([]noticeRow, error) {
		var out []noticeRow
		for _, x := range ns {
			row := noticeRowOf(lang, x)
			ds, err := n.Deliveries(ctx, x.ID)
			if err != nil {
				return nil, err
			}
			row.Counts = map[string]int{}
			for _, d := range ds {
				row.Counts[string(d.Status)]++
			}
			out = append(out, row)
		}
		return out, nil
	}
	var rows []incidentRow
	for _, i := range is {
		row := incidentRow{Incident: i, Title: pick(lang, i.Title), Overdue: i.ReportOverdue(now), Affected: fmt.Sprint(len(i.Tenants))}
		if i.AllTenants {
			row.Affected = "*"
		}
		ns, err := n.IncidentNotices(ctx, i.ID)
		if err == nil {
			row.Notices, err = counted(ns)
		}
		if err != nil {
			s.fail(w, r, nil, err)
			return
		}
		rows = append(rows, row)
	}
	as, err := n.Announcements(ctx)
	if err != nil {
		s.fail(w, r, nil, err)
		return
	}
	var anns []noticeRow
	for _, a := range as {
		ns, err := n.AnnouncementNotices(ctx, a.ID)
		if err != nil {
			s.fail(w, r, nil, err)
			return
		}
		got, err := counted(ns)
		if err != nil {
			s.fail(w, r, nil, err)
			return
		}
		anns = append(anns, got...)
	}
	s.render(w, r, http.StatusOK, "incidents", "incidents", nil, map[string]any{"Incidents": rows, "Announcements": anns,
		"WindowHours": n.ReportWindow().Hours()}, "")
}
