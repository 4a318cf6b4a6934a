package rights

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/admeter/admeter"
)

// Export is an access copy: every event admeter holds about one device in one
// tenant's campaigns. It describes the device by what the events say of it,
// never by its identifier or pseudonym.
type Export struct {
	Request   string           `json:"request"`
	Tenant    admeter.TenantID `json:"tenant"`
	IDType    string           `json:"id_type"`
	Generated time.Time        `json:"generated"`
	// Truncated is true when the device had more events than one copy holds.
	Truncated bool          `json:"truncated"`
	Events    []ExportEvent `json:"events"`
	// SocialRecords are the posts, comments and reposts of a social
	// account (a request of type social) from the tenant's partner feeds,
	// as stored: their text with other people's handles and contact data
	// already cut out.
	SocialRecords []ExportPost `json:"social_records,omitempty"`
}

// ExportPost is one social record of an access copy.
type ExportPost struct {
	Time      time.Time `json:"time"`
	Received  time.Time `json:"received"`
	Source    string    `json:"source"`
	Kind      string    `json:"kind"`
	Text      string    `json:"text"`
	Likes     int64     `json:"likes"`
	Comments  int64     `json:"comments"`
	Shares    int64     `json:"shares"`
	Views     int64     `json:"views"`
	Sentiment float32   `json:"sentiment"`
}

// addPosts adds posts to e; truncated marks that there were more.
func (e *Export) addPosts(posts []admeter.SocialPost, truncated bool) {
	for i := range posts {
		p := &posts[i]
		e.SocialRecords = append(e.SocialRecords, ExportPost{Time: p.At.UTC(), Received: p.Received.UTC(), Source: p.Source, Kind: string(p.Kind),
			Text: p.Text, Likes: p.Likes, Comments: p.Comments, Shares: p.Shares, Views: p.Views, Sentiment: p.Sentiment})
	}
	e.Truncated = e.Truncated || truncated
}

// ExportEvent is one event of an access copy.
type ExportEvent struct {
	Time       time.Time           `json:"time"`
	Received   time.Time           `json:"received"`
	Kind       string              `json:"kind"`
	Campaign   admeter.CampaignID  `json:"campaign"`
	Placement  admeter.PlacementID `json:"placement"`
	Country    string              `json:"country,omitempty"`
	Province   string              `json:"province,omitempty"`
	City       string              `json:"city,omitempty"`
	Network    string              `json:"network_block,omitempty"`
	Area       string              `json:"area,omitempty"`
	OS         string              `json:"os,omitempty"`
	OSVersion  string              `json:"os_version,omitempty"`
	DeviceType string              `json:"device_type,omitempty"`
	Model      string              `json:"model,omitempty"`
	Browser    string              `json:"browser,omitempty"`
	App        string              `json:"app,omitempty"`
	AppPackage string              `json:"app_package,omitempty"`
	Connection string              `json:"connection,omitempty"`
	IDType     string              `json:"id_type"`
	// View is a viewability state (started, viewable, not_viewable,
	// unmeasurable); VideoProgress the point of a video ping (start, 25,
	// 50, 75, 100).
	View          string `json:"view,omitempty"`
	VideoProgress string `json:"video_progress,omitempty"`
	// A conversion's type, value (a decimal) and currency.
	ConversionType string `json:"conversion_type,omitempty"`
	Value          string `json:"value,omitempty"`
	Currency       string `json:"currency,omitempty"`
}

func newExport(r *admeter.RightsRequest, events []admeter.Event, truncated bool, now time.Time) *Export {
	e := &Export{Request: r.ID, Tenant: r.Tenant, IDType: r.IDType.String(), Generated: now.UTC().Truncate(time.Second),
		Truncated: truncated, Events: make([]ExportEvent, len(events))}
	for i := range events {
		ev := &events[i]
		x := ExportEvent{
			Time: ev.At.UTC(), Received: ev.Received.UTC(), Kind: ev.Kind.String(),
			Campaign: ev.Campaign, Placement: ev.Placement,
			Country: ev.Region.Country, Province: ev.Region.Province, City: ev.Region.City,
			OSVersion: ev.OSVersion, Model: ev.Model, Browser: ev.Browser, App: ev.App, AppPackage: ev.AppPackage,
			IDType: ev.UserType.String(),
		}
		x.Network = ev.Net.String()
		if !ev.Area.IsZero() {
			x.Area = ev.Area.String()
		}
		if ev.OS != admeter.OSUnknown {
			x.OS = ev.OS.String()
		}
		if ev.DeviceType != admeter.DeviceUnknown {
			x.DeviceType = ev.DeviceType.String()
		}
		x.Connection = connectionName[ev.Network]
		x.View = ev.View.String()
		switch p := ev.VideoProgress; {
		case p == admeter.ProgressStart:
			x.VideoProgress = "start"
		case p != admeter.ProgressNone:
			x.VideoProgress = strconv.Itoa(p.Percent())
		}
		x.ConversionType, x.Currency = ev.ConversionType, ev.Currency
		if ev.Value != 0 || ev.Currency != "" {
			x.Value = strconv.FormatFloat(float64(ev.Value)/1e6, 'f', -1, 64)
		}
		e.Events[i] = x
	}
	return e
}

// connectionName names the connection types in an access copy.
var connectionName = map[admeter.Network]string{
	admeter.NetworkCellular: "cellular", admeter.NetworkWiFi: "wifi", admeter.NetworkNone: "none",
}

// writeExport writes exp to path atomically, readable by the owner only,
// with now, the service's clock, as its modification time: ExpireExports
// compares it with the same clock.
func writeExport(path string, exp *Export, now time.Time) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("write access copy: %w", err)
	}
	data, err := json.Marshal(exp)
	if err != nil {
		return fmt.Errorf("write access copy: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".export-*")
	if err != nil {
		return fmt.Errorf("write access copy: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write access copy: %w", err)
	}
	if err := errors.Join(tmp.Sync(), tmp.Close()); err != nil {
		return fmt.Errorf("write access copy: %w", err)
	}
	if err := os.Chtimes(tmp.Name(), now, now); err != nil {
		return fmt.Errorf("write access copy: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write access copy: %w", err)
	}
	return nil
}

// Export returns the access copy of one of tenant's access requests. Returns
// ENOTFOUND for another tenant's request, ECONFLICT if the copy is not ready
// yet, and ENOTFOUND if it expired or was removed by a deletion request.
func (s *Service) Export(ctx context.Context, tenant admeter.TenantID, id string) (*Export, error) {
	r, err := s.requests.Request(ctx, tenant, id)
	if err != nil {
		return nil, err
	}
	if r.Type != admeter.RequestAccess {
		return nil, admeter.Errorf(admeter.EINVALID, "request %s is a %s request; only access requests have a copy", id, r.Type)
	}
	if r.Status.Open() {
		return nil, admeter.Errorf(admeter.ECONFLICT, "the copy for request %s is not ready yet; its status is %s", id, r.Status)
	}
	data, err := os.ReadFile(s.exportPath(r.ID))
	if errors.Is(err, os.ErrNotExist) {
		return nil, admeter.Errorf(admeter.ENOTFOUND, "the copy for request %s is gone: copies are kept %d days, and a deletion request for the same device removes them", id, int(s.cfg.ExportTTL.Hours()/24))
	} else if err != nil {
		return nil, fmt.Errorf("read access copy: %w", err)
	}
	var exp Export
	if err := json.Unmarshal(data, &exp); err != nil {
		return nil, fmt.Errorf("read access copy %s: %w", id, err)
	}
	if exp.Tenant != tenant {
		return nil, admeter.Errorf(admeter.ENOTFOUND, "Rights request %s not found.", id)
	}
	return &exp, nil
}

// CSV renders the copy as CSV with a UTF-8 byte order mark (so that Excel
// opens Chinese text correctly) and one row per event. A cell that a
// spreadsheet would take for a formula (it begins with =, +, -, @, a tab or
// a carriage return: app names and the like come from ad requests) is
// prefixed with an apostrophe, so that it shows as text.
//
// The copy of a social account (id_type social) has one row per social
// record instead: time, received, source, kind, text, engagement and
// sentiment.
func (e *Export) CSV() []byte {
	var b bytes.Buffer
	b.WriteString("\ufeff")
	w := csv.NewWriter(&b)
	if e.IDType == admeter.IDSocial.String() {
		_ = w.Write([]string{"time", "received", "source", "kind", "text", "likes", "comments", "shares", "views", "sentiment"})
		for _, x := range e.SocialRecords {
			// Only the text cells can hold what a spreadsheet runs; the
			// numbers (a negative sentiment too) stay numbers.
			_ = w.Write(append([]string{x.Time.Format(time.RFC3339Nano), x.Received.Format(time.RFC3339Nano)},
				append(textCells([]string{x.Source, x.Kind, x.Text}),
					strconv.FormatInt(x.Likes, 10), strconv.FormatInt(x.Comments, 10), strconv.FormatInt(x.Shares, 10), strconv.FormatInt(x.Views, 10),
					strconv.FormatFloat(float64(x.Sentiment), 'f', 3, 32))...))
		}
		w.Flush()
		if e.Truncated {
			b.WriteString("# truncated: the account has more records than one copy holds (" + strconv.Itoa(len(e.SocialRecords)) + ")\n")
		}
		return b.Bytes()
	}
	_ = w.Write([]string{"time", "received", "kind", "campaign", "placement", "country", "province", "city",
		"network_block", "area", "os", "os_version", "device_type", "model", "browser", "app", "app_package", "connection", "id_type",
		"view", "video_progress", "conversion_type", "value", "currency"})
	for _, x := range e.Events {
		row := []string{x.Time.Format(time.RFC3339Nano), x.Received.Format(time.RFC3339Nano), x.Kind,
			string(x.Campaign), string(x.Placement), x.Country, x.Province, x.City, x.Network, x.Area, x.OS,
			x.OSVersion, x.DeviceType, x.Model, x.Browser, x.App, x.AppPackage, x.Connection, x.IDType,
			x.View, x.VideoProgress, x.ConversionType, x.Value, x.Currency}
		_ = w.Write(textCells(row))
	}
	w.Flush()
	if e.Truncated {
		b.WriteString("# truncated: the device has more events than one copy holds (" + strconv.Itoa(len(e.Events)) + ")\n")
	}
	return b.Bytes()
}

// textCells prefixes with an apostrophe each cell that a spreadsheet would
// take for a formula (it begins with =, +, -, @, a tab or a carriage
// return), so that it shows as text.
func textCells(row []string) []string {
	for i, v := range row {
		if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
			row[i] = "'" + v
		}
	}
	return row
}
