package api

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/report"
)

// ReportService answers report requests for a tenant's campaigns.
type ReportService interface {
	Report(ctx context.Context, req report.Request) (*report.Report, error)
	Frequency(ctx context.Context, req report.Request) (*report.Frequency, error)
	Daily(ctx context.Context, req report.Request) (*report.Daily, error)
	InvalidTraffic(ctx context.Context, req report.Request, examples int) (*report.Invalid, error)
	Conversions(ctx context.Context, req report.Request) (*report.Conversions, error)
}

// csvBody is a response body already rendered as CSV (or, with a content
// type, as another download such as XLSX).
type csvBody struct {
	name        string
	data        []byte
	contentType string
}

// wantsCSV reports whether the caller asked for CSV (format=csv or an Accept
// header preferring text/csv).
func wantsCSV(r *http.Request) (bool, error) {
	switch f := r.URL.Query().Get("format"); f {
	case "csv":
		return true, nil
	case "json":
		return false, nil
	case "":
		return strings.Contains(r.Header.Get("Accept"), "text/csv"), nil
	default:
		return false, admeter.Errorf(admeter.EINVALID, "format must be json, csv or xlsx, not %q", f)
	}
}

// exportFormat returns whether the caller asked for CSV or XLSX (xlsx only
// where allowXLSX), and refuses an export to a caller without the export
// permission.
func exportFormat(r *http.Request, allowXLSX bool) (csv, xlsx bool, err error) {
	switch {
	case r.URL.Query().Get("format") != "xlsx":
		if csv, err = wantsCSV(r); err != nil {
			return false, false, err
		}
	case allowXLSX:
		xlsx = true
	default:
		return false, false, admeter.Errorf(admeter.EINVALID, "format must be json or csv for this report, not xlsx")
	}
	if p := principalFrom(r.Context()); (csv || xlsx) && p != nil && !p.allows(admeter.PermExport) {
		return false, false, admeter.Errorf(admeter.EFORBIDDEN, "%s may read reports but not export them (needs %s)", p.describe(), admeter.PermExport)
	}
	return csv, xlsx, nil
}

func (s *Server) report(r *http.Request) (int, any, error) {
	q := r.URL.Query()
	csv, xlsx, err := exportFormat(r, true)
	if err != nil {
		return 0, nil, err
	}
	rep, err := s.reports.Report(r.Context(), report.Request{
		Tenant: ownerFrom(r.Context()), Campaign: admeter.CampaignID(r.PathValue("id")),
		From: q.Get("from"), To: q.Get("to"), By: q.Get("by"), Placements: placementsFrom(r.Context()), Filter: q.Get("filter"),
		Currency: q.Get("currency"),
	})
	if err != nil {
		return 0, nil, err
	}
	if xlsx {
		lang := q.Get("lang")
		if lang == "" {
			lang = "zh"
		}
		var b bytes.Buffer
		if err := rep.WriteXLSX(&b, lang); err != nil {
			return 0, nil, fmt.Errorf("render xlsx: %w", err)
		}
		return http.StatusOK, csvBody{name: fmt.Sprintf("admeter-%s-%s-%s.xlsx", rep.Campaign, rep.From, rep.To), data: b.Bytes(),
			contentType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}, nil
	}
	if csv {
		var b bytes.Buffer
		if err := rep.WriteCSV(&b); err != nil {
			return 0, nil, fmt.Errorf("render csv: %w", err)
		}
		return http.StatusOK, csvBody{name: fmt.Sprintf("admeter-%s-%s-%s.csv", rep.Campaign, rep.From, rep.To), data: b.Bytes()}, nil
	}
	return http.StatusOK, rep, nil
}

// conversions answers the conversions report: the conversions attributed
// to the campaign (to the caller's placements, for a media partner), as
// JSON or CSV.
func (s *Server) conversions(r *http.Request) (int, any, error) {
	q := r.URL.Query()
	csv, _, err := exportFormat(r, false)
	if err != nil {
		return 0, nil, err
	}
	c, err := s.reports.Conversions(r.Context(), report.Request{
		Tenant: ownerFrom(r.Context()), Campaign: admeter.CampaignID(r.PathValue("id")),
		From: q.Get("from"), To: q.Get("to"), By: q.Get("by"), Placements: placementsFrom(r.Context()), Currency: q.Get("currency"),
	})
	if err != nil {
		return 0, nil, err
	}
	if csv {
		var b bytes.Buffer
		if err := c.WriteCSV(&b); err != nil {
			return 0, nil, fmt.Errorf("render csv: %w", err)
		}
		return http.StatusOK, csvBody{name: fmt.Sprintf("admeter-%s-conversions-%s-%s.csv", c.Campaign, c.From, c.To), data: b.Bytes()}, nil
	}
	return http.StatusOK, c, nil
}

func (s *Server) frequency(r *http.Request) (int, any, error) {
	q := r.URL.Query()
	f, err := s.reports.Frequency(r.Context(), report.Request{
		Tenant: ownerFrom(r.Context()), Campaign: admeter.CampaignID(r.PathValue("id")),
		From: q.Get("from"), To: q.Get("to"), Placements: placementsFrom(r.Context()), Filter: q.Get("filter"),
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, f, nil
}

func (s *Server) daily(r *http.Request) (int, any, error) {
	q := r.URL.Query()
	d, err := s.reports.Daily(r.Context(), report.Request{
		Tenant: ownerFrom(r.Context()), Campaign: admeter.CampaignID(r.PathValue("id")),
		From: q.Get("from"), To: q.Get("to"), Placements: placementsFrom(r.Context()), Filter: q.Get("filter"),
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, d, nil
}

// invalidTraffic answers the transparency request: per invalid-traffic
// reason, the events and example devices with the windows of their flagged
// events, of the caller's placements (a media partner sees its own only).
func (s *Server) invalidTraffic(r *http.Request) (int, any, error) {
	q := r.URL.Query()
	examples := report.DefaultExamples
	if v := q.Get("examples"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 20 {
			return 0, nil, admeter.Errorf(admeter.EINVALID, "examples must be a number from 0 to 20, not %q", v)
		}
		examples = n
	}
	placements := placementsFrom(r.Context())
	if p := q.Get("placement"); p != "" {
		id := admeter.PlacementID(p)
		if placements != nil && !slices.Contains(placements, id) {
			return 0, nil, admeter.Errorf(admeter.ENOTFOUND, "placement %s is not in your view of this campaign", p)
		}
		placements = []admeter.PlacementID{id}
	}
	v, err := s.reports.InvalidTraffic(r.Context(), report.Request{
		Tenant: ownerFrom(r.Context()), Campaign: admeter.CampaignID(r.PathValue("id")),
		From: q.Get("from"), To: q.Get("to"), Placements: placements,
	}, examples)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, v, nil
}
