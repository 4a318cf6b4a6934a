package notify

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/admeter/admeter"
)

// chinaTime is the zone times are written in for the Chinese text (UTC+8).
var chinaTime = time.FixedZone("CST", 8*3600)

// incidentData is an incident as webhook payloads carry it: its content and
// severity, never the other tenants it affects.
type incidentData struct {
	ID             admeter.IncidentID `json:"id"`
	Update         int                `json:"update"`
	Severity       admeter.Severity   `json:"severity"`
	Title          admeter.Text       `json:"title"`
	Summary        admeter.Text       `json:"summary"`
	Occurred       time.Time          `json:"occurred"`
	Discovered     time.Time          `json:"discovered"`
	DataCategories []categoryData     `json:"data_categories"`
	Impact         admeter.Text       `json:"impact"`
	MeasuresTaken  admeter.Text       `json:"measures_taken"`
	MeasuresPlan   admeter.Text       `json:"measures_planned"`
	Advice         admeter.Text       `json:"advice"`
	Remedies       admeter.Text       `json:"remedies"`
	Contact        admeter.Text       `json:"contact"`
	Note           *admeter.Text      `json:"note,omitempty"`
}

// categoryData is a data category with its names.
type categoryData struct {
	Key string `json:"key"`
	ZH  string `json:"zh"`
	EN  string `json:"en"`
}

// announcementData is an announcement as webhook payloads carry it.
type announcementData struct {
	ID     string                   `json:"id"`
	Kind   admeter.AnnouncementKind `json:"kind"`
	Title  admeter.Text             `json:"title"`
	Body   admeter.Text             `json:"body"`
	Starts *time.Time               `json:"starts,omitempty"`
	Ends   *time.Time               `json:"ends,omitempty"`
}

// incidentNotice makes the notice of incident i: the first one when prior
// is 0, else follow-up number prior with note.
func incidentNotice(i *admeter.Incident, prior int, note admeter.Text, consoleURL string) *admeter.Notice {
	n := &admeter.Notice{Kind: admeter.NoticeIncident, Incident: i.ID, Critical: true}
	zhHead, enHead := "个人信息安全事件通知", "Personal information security incident notice"
	if prior > 0 {
		n.Kind = admeter.NoticeIncidentUpdate
		zhHead, enHead = fmt.Sprintf("个人信息安全事件进展通知(第 %d 次更新)", prior), fmt.Sprintf("Personal information security incident: update %d", prior)
	}
	n.Subject = admeter.Text{ZH: "[admeter] " + zhHead + ":" + i.Title.ZH, EN: "[admeter] " + enHead + ": " + i.Title.EN}

	var cats []categoryData
	var zhCats, enCats []string
	for _, c := range i.DataCategories {
		name := admeter.DataCategories[c]
		cats = append(cats, categoryData{Key: c, ZH: name.ZH, EN: name.EN})
		zhCats, enCats = append(zhCats, name.ZH), append(enCats, name.EN)
	}
	sev := i.Severity.Label()
	hasNote := note.ZH != "" || note.EN != ""

	var zh strings.Builder
	fmt.Fprintf(&zh, "%s\n\n%s\n\n", zhHead, i.Title.ZH)
	fmt.Fprintf(&zh, "事件编号:%s\n严重程度:%s\n", i.ID, sev.ZH)
	if hasNote {
		fmt.Fprintf(&zh, "\n本次更新:\n%s\n", note.ZH)
	}
	fmt.Fprintf(&zh, "\n一、事件基本情况\n%s\n发生时间:%s(北京时间)\n发现时间:%s(北京时间)\n",
		i.Summary.ZH, i.Occurred.In(chinaTime).Format("2006-01-02 15:04"), i.Discovered.In(chinaTime).Format("2006-01-02 15:04"))
	fmt.Fprintf(&zh, "涉及的个人信息种类:%s\n", strings.Join(zhCats, "、"))
	fmt.Fprintf(&zh, "\n二、可能的影响\n%s\n", i.Impact.ZH)
	fmt.Fprintf(&zh, "\n三、已采取的处置措施\n%s\n", i.MeasuresTaken.ZH)
	fmt.Fprintf(&zh, "\n四、将要采取的处置措施\n%s\n", i.MeasuresPlanned.ZH)
	fmt.Fprintf(&zh, "\n五、个人自主防范和降低风险的建议\n%s\n", i.Advice.ZH)
	fmt.Fprintf(&zh, "\n六、补救措施\n%s\n", i.Remedies.ZH)
	fmt.Fprintf(&zh, "\n七、联系方式\n%s\n", i.Contact.ZH)
	zh.WriteString("\n请您将本通知的相关情况同步告知您的终端用户。此类通知涉及您的数据安全,无法退订。\n")
	if consoleURL != "" {
		fmt.Fprintf(&zh, "在控制台查看:%s/console/notices\n", consoleURL)
	}

	var en strings.Builder
	fmt.Fprintf(&en, "%s\n\n%s\n\n", enHead, i.Title.EN)
	fmt.Fprintf(&en, "Incident: %s\nSeverity: %s\n", i.ID, sev.EN)
	if hasNote {
		fmt.Fprintf(&en, "\nWhat changed:\n%s\n", note.EN)
	}
	fmt.Fprintf(&en, "\n1. What happened\n%s\nOccurred: %s\nDiscovered: %s\n",
		i.Summary.EN, i.Occurred.UTC().Format("2006-01-02 15:04 UTC"), i.Discovered.UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&en, "Personal information involved: %s\n", strings.Join(enCats, "; "))
	fmt.Fprintf(&en, "\n2. Possible impact\n%s\n", i.Impact.EN)
	fmt.Fprintf(&en, "\n3. Measures taken\n%s\n", i.MeasuresTaken.EN)
	fmt.Fprintf(&en, "\n4. Measures planned\n%s\n", i.MeasuresPlanned.EN)
	fmt.Fprintf(&en, "\n5. What individuals can do to protect themselves and reduce the risk\n%s\n", i.Advice.EN)
	fmt.Fprintf(&en, "\n6. Remedies\n%s\n", i.Remedies.EN)
	fmt.Fprintf(&en, "\n7. Contact\n%s\n", i.Contact.EN)
	en.WriteString("\nPlease pass this notice on to your end users as it concerns them. Notices about the security of your data cannot be unsubscribed from.\n")
	if consoleURL != "" {
		fmt.Fprintf(&en, "View in the console: %s/console/notices\n", consoleURL)
	}
	n.Body = admeter.Text{ZH: zh.String(), EN: en.String()}

	d := incidentData{ID: i.ID, Update: prior, Severity: i.Severity, Title: i.Title, Summary: i.Summary,
		Occurred: i.Occurred.UTC(), Discovered: i.Discovered.UTC(), DataCategories: cats, Impact: i.Impact,
		MeasuresTaken: i.MeasuresTaken, MeasuresPlan: i.MeasuresPlanned, Advice: i.Advice, Remedies: i.Remedies, Contact: i.Contact}
	if hasNote {
		d.Note = &note
	}
	n.Payload, _ = json.Marshal(map[string]any{"incident": d})
	return n
}

// announcementNotice makes the notice of announcement a.
func announcementNotice(a *admeter.Announcement, consoleURL string) *admeter.Notice {
	n := &admeter.Notice{Kind: admeter.NoticeAnnouncement, Announcement: a.ID, Critical: a.Kind.Critical()}
	kinds := map[admeter.AnnouncementKind]admeter.Text{
		admeter.AnnounceMaintenance: {ZH: "服务维护公告", EN: "Maintenance announcement"},
		admeter.AnnounceSecurity:    {ZH: "安全公告", EN: "Security announcement"},
		admeter.AnnounceNews:        {ZH: "服务公告", EN: "Service news"},
	}
	k := kinds[a.Kind]
	n.Subject = admeter.Text{ZH: "[admeter] " + k.ZH + ":" + a.Title.ZH, EN: "[admeter] " + k.EN + ": " + a.Title.EN}

	var zh, en strings.Builder
	fmt.Fprintf(&zh, "%s\n\n%s\n\n", k.ZH, a.Title.ZH)
	fmt.Fprintf(&en, "%s\n\n%s\n\n", k.EN, a.Title.EN)
	if !a.Starts.IsZero() || !a.Ends.IsZero() {
		fmt.Fprintf(&zh, "时间:%s 至 %s(北京时间)\n\n", cstOrDash(a.Starts), cstOrDash(a.Ends))
		fmt.Fprintf(&en, "When: %s to %s\n\n", utcOrDash(a.Starts), utcOrDash(a.Ends))
	}
	fmt.Fprintf(&zh, "%s\n", a.Body.ZH)
	fmt.Fprintf(&en, "%s\n", a.Body.EN)
	if n.Critical {
		zh.WriteString("\n此公告影响服务的使用或安全,发送给所有客户,无法退订。\n")
		en.WriteString("\nThis announcement concerns the service's availability or security; it goes to every customer and cannot be unsubscribed from.\n")
	} else {
		zh.WriteString("\n如不希望接收此类非关键通知,可在控制台“通知”页面退订。\n")
		en.WriteString("\nTo stop non-critical notifications like this one, unsubscribe on the console's Notices page.\n")
	}
	if consoleURL != "" {
		fmt.Fprintf(&zh, "%s/console/notices\n", consoleURL)
		fmt.Fprintf(&en, "%s/console/notices\n", consoleURL)
	}
	n.Body = admeter.Text{ZH: zh.String(), EN: en.String()}

	d := announcementData{ID: a.ID, Kind: a.Kind, Title: a.Title, Body: a.Body}
	if !a.Starts.IsZero() {
		t := a.Starts.UTC()
		d.Starts = &t
	}
	if !a.Ends.IsZero() {
		t := a.Ends.UTC()
		d.Ends = &t
	}
	n.Payload, _ = json.Marshal(map[string]any{"announcement": d})
	return n
}

func cstOrDash(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(chinaTime).Format("2006-01-02 15:04")
}

func utcOrDash(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// webhookBody is the JSON document a webhook delivery posts. It is built
// from stored values only, so every attempt posts the same bytes.
func webhookBody(n *admeter.Notice, d *admeter.Delivery) ([]byte, error) {
	return json.Marshal(struct {
		ID       string             `json:"id"`
		Notice   string             `json:"notice"`
		Tenant   admeter.TenantID   `json:"tenant"`
		Type     admeter.NoticeKind `json:"type"`
		Critical bool               `json:"critical"`
		Created  time.Time          `json:"created"`
		Subject  admeter.Text       `json:"subject"`
		Body     admeter.Text       `json:"body"`
		Data     json.RawMessage    `json:"data"`
	}{d.ID, n.ID, d.Tenant, n.Kind, n.Critical, n.Created.UTC(), n.Subject, n.Body, json.RawMessage(n.Payload)})
}
