package console

import (
	"context"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/api"
	"github.com/admeter/admeter/console/chart"
	"github.com/admeter/admeter/social"
	"github.com/admeter/admeter/social/analysis"
	"github.com/admeter/admeter/store"
)

// Social answers social insight (issue 13): the tenant's settings (brands,
// competitors, official accounts) and its aggregate social report. It is
// the API's SocialService without uploads (package social), so that the
// console shows what the API and the CLI answer.
type Social interface {
	// Settings returns the tenant's social settings (none yet: empty).
	Settings(ctx context.Context, tenant admeter.TenantID) (*admeter.SocialSettings, error)
	// SaveSettings checks and replaces the tenant's settings; EINVALID
	// says what to correct.
	SaveSettings(ctx context.Context, s *admeter.SocialSettings) error
	// Report answers the aggregate report; EINVALID for a bad range or
	// a tenant without brands, ENOTFOUND for another tenant's campaign.
	Report(ctx context.Context, req social.ReportRequest) (*analysis.Report, error)
}

// SetSocial gives the console the social insight pages (/console/social
// and /console/social/settings) and their link in the header (nil: no
// such pages). Call it before Register: the routes exist only with it.
func (s *Server) SetSocial(soc Social) { s.social = soc }

// registerSocial adds the social pages' routes when the console has them.
func (s *Server) registerSocial(mux *http.ServeMux, xo *http.CrossOriginProtection) {
	if s.social == nil {
		return
	}
	mux.HandleFunc("GET /console/social", s.signed(s.socialPage))
	mux.HandleFunc("GET /console/social/settings", s.signed(s.socialSettingsPage))
	mux.Handle("POST /console/social/settings", xo.Handler(s.signed(s.saveSocialSettings)))
}

// socialDays is the default range of the social page: the last 30 days.
const socialDays = 30

// socialExtraRows is how many blank rows the settings form offers for new
// brands, competitors and accounts (saving gives as many more).
const socialExtraRows = 2

// shanghai is the social report's default time zone (without a campaign).
var shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return chinaTime
	}
	return loc
}()

// socialForm is the social page's form, as sent (or its defaults).
type socialForm struct {
	From, To, Campaign string
}

// socialCell is one number of the report: its text, or "—" when the
// report suppressed it (Suppressed: the page says why in a tooltip).
type socialCell struct {
	Value      string
	Suppressed bool
	// Tip is the tooltip of a suppressed cell ("fewer than k authors").
	Tip string
}

// socialRow is one row of counts: a brand, a competitor, a source or the
// total.
type socialRow struct {
	Name, Role string
	Suppressed bool
	// Cells: mentions, original, authors, positive, negative, neutral,
	// net sentiment, engagement (likes + comments + shares), then, for
	// rules, share of voice by mentions and by engagement.
	Cells []socialCell
}

// socialDay is one day of the daily mentions table: a cell per rule.
type socialDay struct {
	Date  string
	Cells []socialCell
}

// socialKeyword is one keyword, formatted.
type socialKeyword struct {
	Term, Score, Contents, Posts, Authors string
}

// socialTopic is one topic, formatted.
type socialTopic struct {
	Label, Terms string
	Other        bool
	Share        socialCell
	Mentions     socialCell
	Authors      socialCell
	Net          socialCell
}

// socialSearch is one rule's search trend.
type socialSearch struct {
	Rule, Role, Searches string
}

// socialPost is an official account's post: the only text the page shows.
type socialPost struct {
	Account, Source, Kind, At, Text, Rules string
	Likes, Comments, Shares, Views         string
	Label, LabelKey                        string
}

// socialPeriod is one period of the campaign alignment.
type socialPeriod struct {
	Key, Range, Days string
	Mentions, PerDay socialCell
}

// socialAlignment is the campaign alignment section.
type socialAlignment struct {
	Campaign     string
	Delivery     string
	Impressions  string
	Periods      []socialPeriod
	Ratio, CI    string
	Dispersion   string
	Insufficient bool
	Reason       string
}

// socialView is what the social page shows.
type socialView struct {
	Form      socialForm
	Campaigns []*admeter.Campaign
	// CanEdit is set when the user may change the settings.
	CanEdit bool
	// NoBrands is set when the tenant has named no brand yet: the page
	// explains and links to the settings instead of a report.
	NoBrands bool
	// Loaded is set when the report answered.
	Loaded             bool
	From, To, Timezone string
	K                  int
	// Tip is the tooltip of a suppressed cell ("fewer than k authors").
	Tip       string
	Rules     []socialRow
	Total     socialRow
	Sources   []socialRow
	RuleNames []string
	Days      []socialDay
	Chart     template.HTML
	Gaps      bool
	SoV       template.HTML
	Keywords  []socialKeyword
	Topics    []socialTopic
	Searches  []socialSearch
	SearchSVG template.HTML
	Official  []socialPost
	Alignment *socialAlignment
	Privacy   []string
}

// socialPage serves GET /console/social?from=&to=&campaign=: the tenant's
// social report over a range of days (default the last 30 in
// Asia/Shanghai), aligned with one of its campaigns when one is picked.
func (s *Server) socialPage(w http.ResponseWriter, r *http.Request, sess *api.Session) {
	if !sess.User.Role.Allows(admeter.PermReadReports) || s.social == nil {
		s.fail(w, r, sess, admeter.Errorf(admeter.EFORBIDDEN, "forbidden"))
		return
	}
	// A long range of many records outlasts the server's write timeout:
	// give the page the time the API gives its reports.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(reachWriteTimeout))
	ctx, lang := r.Context(), langOf(r)
	t := translator(lang)
	q := r.URL.Query()
	v := &socialView{Form: socialForm{From: strings.TrimSpace(q.Get("from")), To: strings.TrimSpace(q.Get("to")), Campaign: strings.TrimSpace(q.Get("campaign"))},
		CanEdit: sess.User.Role.Allows(admeter.PermManageCampaigns)}
	if v.Form.To == "" {
		v.Form.To = s.cfg.Now().In(shanghai).Format(time.DateOnly)
	}
	if v.Form.From == "" {
		if d, err := store.ParseDate(v.Form.To); err == nil {
			v.Form.From = d.AddDays(-(socialDays - 1)).String()
		}
	}
	if sess.User.Role.Allows(admeter.PermReadCampaigns) {
		cs, err := s.campaigns.Campaigns(ctx, sess.Tenant.ID)
		if err != nil {
			s.fail(w, r, sess, err)
			return
		}
		v.Campaigns = cs
	}
	set, err := s.social.Settings(ctx, sess.Tenant.ID)
	if err != nil {
		s.fail(w, r, sess, err)
		return
	}
	if len(set.Brands) == 0 {
		v.NoBrands = true
		s.render(w, r, http.StatusOK, "social", "social", sess, v, "")
		return
	}
	from, to, err := store.ParseDateRange(v.Form.From, v.Form.To, 366, "")
	if err != nil {
		s.render(w, r, http.StatusBadRequest, "social", "social", sess, v, admeter.ErrorMessage(err))
		return
	}
	req := social.ReportRequest{Tenant: sess.Tenant.ID, From: from, To: to, Campaign: admeter.CampaignID(v.Form.Campaign)}
	details := map[string]any{"via": "console", "from": from.String(), "to": to.String()}
	target := ""
	if req.Campaign != "" {
		details["campaign"], target = string(req.Campaign), string(req.Campaign)
	}
	rep, err := s.social.Report(ctx, req)
	if err != nil {
		s.sessions.AuditFor(r, sess, "report.social", target, "failed: "+admeter.ErrorCode(err), details)
		if admeter.ErrorCode(err) != admeter.EINVALID {
			s.fail(w, r, sess, err)
			return
		}
		s.render(w, r, http.StatusBadRequest, "social", "social", sess, v, admeter.ErrorMessage(err))
		return
	}
	s.sessions.AuditFor(r, sess, "report.social", target, "ok", details)
	campaign := ""
	for _, c := range v.Campaigns {
		if c.ID == req.Campaign {
			campaign = c.Name
		}
	}
	v.fill(rep, t, lang, campaign)
	s.render(w, r, http.StatusOK, "social", "social", sess, v, "")
}

// fill lays out rep in lang.
func (v *socialView) fill(rep *analysis.Report, t func(string) string, lang, campaign string) {
	v.Loaded = true
	v.From, v.To, v.Timezone = rep.From, rep.To, rep.Timezone
	v.K = rep.Privacy.MinAuthors
	v.Tip = fmt.Sprintf(t("social_suppressed_tip"), v.K)
	locale, sep := "zh-CN", "、"
	if lang == langEN {
		locale, sep = "en", ", "
	}

	shares := make(map[string]analysis.Share, len(rep.ShareOfVoice.Rules))
	for _, sh := range rep.ShareOfVoice.Rules {
		shares[sh.Rule] = sh
	}
	var sov []chart.Item
	for _, rr := range rep.Rules {
		row := countsRow(rr.Rule, t("social_role_"+rr.Role), rr.Cell)
		sh := shares[rr.Rule]
		row.Cells = append(row.Cells, shareCell(sh.Mentions, sh.Suppressed || rr.Suppressed), shareCell(sh.Engagement, sh.Suppressed || rr.Suppressed))
		v.Rules = append(v.Rules, row)
		v.RuleNames = append(v.RuleNames, rr.Rule)
		if !rr.Suppressed && rr.Counts != nil && rr.Counts.Mentions > 0 {
			sov = append(sov, chart.Item{Label: rr.Rule, Value: float64(rr.Counts.Mentions)})
		}
	}
	v.Total = countsRow(t("social_total"), "", rep.Total)
	for _, sc := range rep.Sources {
		v.Sources = append(v.Sources, countsRow(sc.Source, "", sc.Cell))
	}

	// Daily mentions: a line per rule, a suppressed day a gap.
	var labels []string
	var series []chart.Series
	if len(rep.Rules) > 0 {
		for _, d := range rep.Rules[0].Days {
			v.Days = append(v.Days, socialDay{Date: d.Date})
			labels = append(labels, dayLabel(d.Date))
		}
	}
	seen := false
	for _, rr := range rep.Rules {
		pts := make([]float64, len(labels))
		for i := range pts {
			pts[i] = math.NaN()
		}
		for i, d := range rr.Days {
			if i >= len(v.Days) {
				break
			}
			c := mentionsCell(d.Cell)
			v.Days[i].Cells = append(v.Days[i].Cells, c)
			if c.Suppressed {
				v.Gaps = true
				continue
			}
			if d.Counts != nil {
				pts[i] = float64(d.Counts.Mentions)
				seen = seen || d.Counts.Mentions > 0
			}
		}
		series = append(series, chart.Series{Name: rr.Rule, Points: pts})
	}
	if !seen {
		series = nil
	}
	v.Chart = chart.Line(chart.LineOptions{Frame: chart.Frame{Title: t("social_daily"), Locale: locale, Empty: t("no_data")}, Labels: labels, Series: series})
	v.SoV = chart.Bars(chart.BarOptions{Frame: chart.Frame{Title: t("social_sov"), Locale: locale, Empty: t("no_data")}, Items: sov, Share: true})

	for _, k := range rep.Keywords {
		v.Keywords = append(v.Keywords, socialKeyword{Term: k.Term, Score: strconv.FormatFloat(k.Score, 'f', 2, 64),
			Contents: groupDigits(k.Contents), Posts: groupDigits(k.Posts), Authors: groupDigits(k.Authors)})
	}
	for _, tp := range rep.Topics {
		st := socialTopic{Label: tp.Label, Terms: strings.Join(tp.Terms, sep), Other: tp.Other, Share: shareCell(tp.Share, tp.Suppressed)}
		if tp.Other {
			st.Label = t("social_topic_other")
		}
		st.Mentions, st.Authors, st.Net = dashCell(tp.Suppressed), dashCell(tp.Suppressed), dashCell(tp.Suppressed)
		if c := tp.Counts; !tp.Suppressed && c != nil {
			st.Mentions, st.Authors, st.Net = socialCell{Value: groupDigits(c.Mentions)}, socialCell{Value: groupDigits(c.Authors)}, socialCell{Value: signed(c.NetSentiment)}
		}
		v.Topics = append(v.Topics, st)
	}

	var searchSeries []chart.Series
	at := make(map[string]int, len(v.Days))
	for i, d := range v.Days {
		at[d.Date] = i
	}
	searched := false
	for _, st := range rep.Searches {
		v.Searches = append(v.Searches, socialSearch{Rule: st.Rule, Role: t("social_role_" + st.Role), Searches: groupDigits(st.Searches)})
		pts := make([]float64, len(labels))
		for _, d := range st.Days {
			if i, ok := at[d.Date]; ok {
				pts[i] += float64(d.Searches)
			}
		}
		searched = searched || st.Searches > 0
		searchSeries = append(searchSeries, chart.Series{Name: st.Rule, Points: pts})
	}
	if searched {
		v.SearchSVG = chart.Line(chart.LineOptions{Frame: chart.Frame{Title: t("social_searches"), Locale: locale, Empty: t("no_data")}, Labels: labels, Series: searchSeries})
	}

	for _, p := range rep.Official {
		label := p.Label
		if label == "" {
			label = "neutral"
		}
		v.Official = append(v.Official, socialPost{Account: p.Account, Source: p.Source, Kind: t("social_kind_" + p.Kind), At: p.At.In(chinaTime).Format("2006-01-02 15:04"),
			Text: p.Text, Rules: strings.Join(p.Rules, sep), Likes: groupDigits(p.Likes), Comments: groupDigits(p.Comments), Shares: groupDigits(p.Shares),
			Views: groupDigits(p.Views), LabelKey: label, Label: t("social_label_" + label)})
	}

	if al := rep.Alignment; al != nil {
		a := &socialAlignment{Campaign: campaign, Delivery: dash, Impressions: groupDigits(al.Impressions), Insufficient: al.Lift.Insufficient}
		if al.DeliveryFrom != "" {
			a.Delivery = al.DeliveryFrom + " – " + al.DeliveryTo
		}
		for _, p := range []struct {
			key string
			p   analysis.Period
		}{{"social_before", al.Before}, {"social_during", al.During}, {"social_after", al.After}} {
			sp := socialPeriod{Key: p.key, Range: dash, Days: strconv.Itoa(p.p.Days), Mentions: mentionsCell(p.p.Cell), PerDay: dashCell(p.p.Suppressed)}
			if p.p.From != "" {
				sp.Range = p.p.From + " – " + p.p.To
			}
			if p.p.PerDay != nil {
				sp.PerDay = socialCell{Value: strconv.FormatFloat(*p.p.PerDay, 'f', 1, 64)}
			} else if p.p.Days == 0 {
				sp.Mentions = socialCell{Value: dash}
			}
			a.Periods = append(a.Periods, sp)
		}
		if al.Lift.Insufficient {
			a.Reason = liftReason(t, al, v.K)
		} else {
			a.Ratio = strconv.FormatFloat(al.Lift.Ratio, 'f', 2, 64)
			a.CI = strconv.FormatFloat(al.Lift.Low, 'f', 2, 64) + " – " + strconv.FormatFloat(al.Lift.High, 'f', 2, 64)
			a.Dispersion = strconv.FormatFloat(al.Lift.Dispersion, 'f', 2, 64)
		}
		v.Alignment = a
	}

	v.tipSuppressed()

	pr := rep.Privacy
	v.Privacy = append(v.Privacy, fmt.Sprintf(t("social_privacy_cells"), v.K, pr.SuppressedCells, pr.Complementary))
	if pr.DroppedKeywords > 0 {
		v.Privacy = append(v.Privacy, fmt.Sprintf(t("social_privacy_keywords"), pr.DroppedKeywords, v.K))
	}
	if pr.MergedTopics > 0 {
		v.Privacy = append(v.Privacy, fmt.Sprintf(t("social_privacy_topics"), pr.MergedTopics, v.K))
	}
	if len(rep.Official) >= analysis.MaxOfficialPosts {
		v.Privacy = append(v.Privacy, fmt.Sprintf(t("social_privacy_official_cap"), analysis.MaxOfficialPosts))
	}
}

// tipSuppressed gives every suppressed cell the tooltip that says why.
func (v *socialView) tipSuppressed() {
	var cells [][]socialCell
	for _, r := range append(append(append([]socialRow(nil), v.Rules...), v.Total), v.Sources...) {
		cells = append(cells, r.Cells)
	}
	for _, d := range v.Days {
		cells = append(cells, d.Cells)
	}
	for i := range v.Topics {
		tp := &v.Topics[i]
		for _, c := range []*socialCell{&tp.Share, &tp.Mentions, &tp.Authors, &tp.Net} {
			if c.Suppressed {
				c.Tip = v.Tip
			}
		}
	}
	if v.Alignment != nil {
		for i := range v.Alignment.Periods {
			p := &v.Alignment.Periods[i]
			for _, c := range []*socialCell{&p.Mentions, &p.PerDay} {
				if c.Suppressed {
					c.Tip = v.Tip
				}
			}
		}
	}
	for _, cs := range cells {
		for i := range cs {
			if cs[i].Suppressed {
				cs[i].Tip = v.Tip
			}
		}
	}
}

// liftReason says in the page's language why no lift is given. The
// report's reasons are English sentences; each known one has a label, and
// one this program does not know shows as the report gives it.
func liftReason(t func(string) string, al *analysis.Alignment, k int) string {
	r := al.Lift.Reason
	switch {
	case al.DeliveryFrom == "" || strings.HasPrefix(r, "the campaign has no impressions"):
		return t("social_lift_no_delivery")
	case strings.Contains(r, "days before delivery in the range"):
		return fmt.Sprintf(t("social_lift_few_days"), al.Before.Days)
	case strings.Contains(r, "fewer than"):
		return fmt.Sprintf(t("social_lift_few_authors"), k)
	case r == "no brand mentions before delivery":
		return t("social_lift_none_before")
	case r == "no brand mentions during delivery":
		return t("social_lift_none_during")
	}
	return r
}

// countsRow formats a cell's counts as a table row.
func countsRow(name, role string, c analysis.Cell) socialRow {
	row := socialRow{Name: name, Role: role, Suppressed: c.Suppressed}
	if c.Suppressed || c.Counts == nil {
		for range 8 {
			row.Cells = append(row.Cells, dashCell(c.Suppressed))
		}
		return row
	}
	n := c.Counts
	for _, x := range []int64{n.Mentions, n.Original, n.Authors, n.Positive, n.Negative, n.Neutral} {
		row.Cells = append(row.Cells, socialCell{Value: groupDigits(x)})
	}
	row.Cells = append(row.Cells, socialCell{Value: signed(n.NetSentiment)}, socialCell{Value: groupDigits(n.Likes + n.Comments + n.Shares)})
	return row
}

// mentionsCell is a cell's mentions.
func mentionsCell(c analysis.Cell) socialCell {
	if c.Suppressed || c.Counts == nil {
		return dashCell(c.Suppressed)
	}
	return socialCell{Value: groupDigits(c.Counts.Mentions)}
}

// shareCell is a share, or a dash (suppressed or not available).
func shareCell(p *float64, suppressed bool) socialCell {
	if suppressed {
		return dashCell(true)
	}
	return socialCell{Value: share(p)}
}

// dashCell is a number left out; suppressed when the threshold left it
// out.
func dashCell(suppressed bool) socialCell { return socialCell{Value: dash, Suppressed: suppressed} }

// signed formats a net sentiment (−1…+1) with its sign and two decimals.
func signed(x float64) string {
	if x > 0 {
		return "+" + strconv.FormatFloat(x, 'f', 2, 64)
	}
	if x == 0 {
		return "0.00"
	}
	return strconv.FormatFloat(x, 'f', 2, 64)
}

// dayLabel is a chart's label of date YYYY-MM-DD: MM-DD.
func dayLabel(date string) string {
	if len(date) == len(time.DateOnly) {
		return date[5:]
	}
	return date
}

// socialRuleRow is one rule of the settings form, as shown or sent.
type socialRuleRow struct {
	Name, Terms, Exclusions string
}

// socialAccountRow is one official account of the settings form.
type socialAccountRow struct {
	Source, Handle, Name string
}

// socialRuleGroup is the brands or the competitors of the settings form;
// Prefix names their fields (brand_name, competitor_terms...).
type socialRuleGroup struct {
	Prefix string
	Rows   []socialRuleRow
}

// socialSettingsView is what the settings page shows.
type socialSettingsView struct {
	Groups   []socialRuleGroup
	Accounts []socialAccountRow
	CanEdit  bool
	Saved    bool
	Updated  time.Time
	// Error is why the settings were not saved (the form keeps what was
	// typed).
	Error string
}

// socialSettingsPage serves GET /console/social/settings: the tenant's
// brands, competitors and official accounts in a form (read-only for a
// role that may not manage campaigns).
func (s *Server) socialSettingsPage(w http.ResponseWriter, r *http.Request, sess *api.Session) {
	if !sess.User.Role.Allows(admeter.PermReadCampaigns) || s.social == nil {
		s.fail(w, r, sess, admeter.Errorf(admeter.EFORBIDDEN, "forbidden"))
		return
	}
	set, err := s.social.Settings(r.Context(), sess.Tenant.ID)
	if err != nil {
		s.fail(w, r, sess, err)
		return
	}
	v := settingsView(set, sess.User.Role.Allows(admeter.PermManageCampaigns))
	v.Saved = r.URL.Query().Get("saved") == "1"
	s.render(w, r, http.StatusOK, "social_settings", "social_settings", sess, v, "")
}

// saveSocialSettings takes the settings form: the whole settings replace
// the old ones, as PUT /api/v1/social/settings does. Blank rows are
// skipped; terms and exclusions are comma- or newline-separated. What the
// service refuses is shown on the form, with what was typed.
func (s *Server) saveSocialSettings(w http.ResponseWriter, r *http.Request, sess *api.Session) {
	if !sess.User.Role.Allows(admeter.PermManageCampaigns) || s.social == nil {
		s.fail(w, r, sess, admeter.Errorf(admeter.EFORBIDDEN, "forbidden"))
		return
	}
	set := settingsFromForm(r)
	set.Tenant = sess.Tenant.ID
	if err := s.social.SaveSettings(r.Context(), set); err != nil {
		s.sessions.AuditFor(r, sess, "social.settings.update", "", "failed: "+admeter.ErrorCode(err), map[string]any{"via": "console"})
		if admeter.ErrorCode(err) != admeter.EINVALID {
			s.fail(w, r, sess, err)
			return
		}
		v := settingsView(set, true)
		v.Error = admeter.ErrorMessage(err)
		s.render(w, r, http.StatusBadRequest, "social_settings", "social_settings", sess, v, "")
		return
	}
	s.sessions.AuditFor(r, sess, "social.settings.update", "", "ok", map[string]any{"via": "console",
		"brands": len(set.Brands), "competitors": len(set.Competitors), "official_accounts": len(set.Official)})
	http.Redirect(w, r, "/console/social/settings?saved=1", http.StatusSeeOther)
}

// settingsView lays out set in the form, with blank rows to add more.
func settingsView(set *admeter.SocialSettings, canEdit bool) *socialSettingsView {
	v := &socialSettingsView{CanEdit: canEdit, Updated: set.Updated}
	rules := func(rs []admeter.SocialRule) []socialRuleRow {
		var out []socialRuleRow
		for _, r := range rs {
			out = append(out, socialRuleRow{Name: r.Name, Terms: strings.Join(r.Terms, ", "), Exclusions: strings.Join(r.Exclusions, ", ")})
		}
		if canEdit {
			out = append(out, make([]socialRuleRow, socialExtraRows)...)
		}
		return out
	}
	v.Groups = []socialRuleGroup{{Prefix: "brand", Rows: rules(set.Brands)}, {Prefix: "competitor", Rows: rules(set.Competitors)}}
	for _, a := range set.Official {
		v.Accounts = append(v.Accounts, socialAccountRow{Source: a.Source, Handle: a.Handle, Name: a.Name})
	}
	if canEdit {
		v.Accounts = append(v.Accounts, make([]socialAccountRow, socialExtraRows)...)
	}
	return v
}

// settingsFromForm reads the settings form: brand_name, brand_terms and
// brand_exclusions (competitor_… likewise) and account_source,
// account_handle and account_name, one value per row, in order.
func settingsFromForm(r *http.Request) *admeter.SocialSettings {
	_ = r.ParseForm()
	f := r.PostForm
	at := func(key string, i int) string {
		if vs := f[key]; i < len(vs) {
			return strings.TrimSpace(vs[i])
		}
		return ""
	}
	rules := func(prefix string) []admeter.SocialRule {
		var out []admeter.SocialRule
		n := max(len(f[prefix+"_name"]), len(f[prefix+"_terms"]), len(f[prefix+"_exclusions"]))
		for i := range n {
			rule := admeter.SocialRule{Name: at(prefix+"_name", i), Terms: splitTerms(at(prefix+"_terms", i)), Exclusions: splitTerms(at(prefix+"_exclusions", i))}
			if rule.Name == "" && len(rule.Terms) == 0 && len(rule.Exclusions) == 0 {
				continue
			}
			out = append(out, rule)
		}
		return out
	}
	set := &admeter.SocialSettings{Brands: rules("brand"), Competitors: rules("competitor")}
	n := max(len(f["account_source"]), len(f["account_handle"]), len(f["account_name"]))
	for i := range n {
		a := admeter.SocialAccount{Source: strings.ToLower(at("account_source", i)), Handle: at("account_handle", i), Name: at("account_name", i)}
		if a.Source == "" && a.Handle == "" && a.Name == "" {
			continue
		}
		set.Official = append(set.Official, a)
	}
	return set
}

// splitTerms splits a list of terms at commas (, ， 、) and line breaks,
// dropping blanks.
func splitTerms(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == '，' || r == '、' || r == '\n' || r == '\r'
	}) {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
