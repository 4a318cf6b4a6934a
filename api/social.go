package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/social"
	"github.com/admeter/admeter/social/analysis"
	"github.com/admeter/admeter/store"
)

// SocialService ingests partner social feeds and answers social insight
// reports (package social).
type SocialService interface {
	Ingest(ctx context.Context, tenant admeter.TenantID, format social.Format, r io.Reader) (*social.IngestResult, error)
	Settings(ctx context.Context, tenant admeter.TenantID) (*admeter.SocialSettings, error)
	SaveSettings(ctx context.Context, s *admeter.SocialSettings) error
	Report(ctx context.Context, req social.ReportRequest) (*analysis.Report, error)
}

// MaxSocialUpload bounds the body of one social feed upload.
const MaxSocialUpload = 32 << 20

// socialParams are the query parameters of the social report.
var socialParams = []string{"from", "to", "campaign", "sources", "keywords", "topics", "format"}

// registerSocial adds the social insight endpoints when the server has a
// SocialService: uploads need the collect permission, settings reading
// campaigns (and managing them to change), the report reading reports.
// Uploads, changes of settings and reports are audit entries.
func (s *Server) registerSocial(mux *http.ServeMux) {
	if s.cfg.Social == nil {
		return
	}
	mux.Handle("POST /api/v1/social/posts", s.wrap(s.require(admeter.PermCollect, s.socialUpload)))
	mux.Handle("GET /api/v1/social/settings", s.wrap(s.require(admeter.PermReadCampaigns, s.socialSettings)))
	mux.Handle("PUT /api/v1/social/settings", s.wrap(s.require(admeter.PermManageCampaigns, s.audited("social.settings.update", s.saveSocialSettings))))
	mux.Handle("GET /api/v1/social/report", s.wrap(s.require(admeter.PermReadReports, s.audited("report.social", s.socialReport))))
}

// socialUpload serves POST /api/v1/social/posts: a JSON array, NDJSON
// (Content-Type application/x-ndjson) or CSV (text/csv) of partner
// records. The answer counts what was stored, what was a duplicate, what
// was dropped for its author's opt-out and what was rejected, with the
// first errors.
func (s *Server) socialUpload(r *http.Request) (int, any, error) {
	// 10 000 records take about a second, but the first upload after a
	// start waits for the dictionary: give it the long deadline.
	extendWriteDeadline(r)
	format, res, err := s.ingestUpload(r)
	if err != nil {
		s.audit(r, "social.upload", "", "failed: "+admeter.ErrorCode(err), map[string]any{"format": string(format)})
		return 0, nil, err
	}
	// Counts only: the records' authors and texts stay out of the trail.
	s.audit(r, "social.upload", "", "ok", map[string]any{"format": string(format), "received": res.Received, "stored": res.Stored,
		"duplicates": res.Duplicates, "opted_out": res.OptedOut, "rejected": res.Rejected})
	return http.StatusOK, res, nil
}

// ingestUpload reads the upload's format from its Content-Type and hands
// the body to the service.
func (s *Server) ingestUpload(r *http.Request) (social.Format, *social.IngestResult, error) {
	format := social.FormatJSON
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		switch {
		case err != nil:
			return "", nil, admeter.Errorf(admeter.EINVALID, "Content-Type %q cannot be read: send application/json, application/x-ndjson or text/csv", ct)
		case mt == "text/csv":
			format = social.FormatCSV
		case mt == "application/json" || mt == "application/x-ndjson" || mt == "application/jsonl" || mt == "application/json-seq":
		default:
			return "", nil, admeter.Errorf(admeter.EINVALID, "Content-Type %q: send application/json (an array), application/x-ndjson (one object per line) or text/csv", mt)
		}
	}
	body := http.MaxBytesReader(nil, r.Body, MaxSocialUpload)
	res, err := s.cfg.Social.Ingest(r.Context(), tenantFrom(r.Context()).ID, format, body)
	if err != nil {
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			err = admeter.Errorf(admeter.EINVALID, "the upload is larger than %d MiB: send it in parts (admeter social import splits files)", MaxSocialUpload>>20)
		}
		return format, nil, err
	}
	return format, res, nil
}

// socialSettings serves GET /api/v1/social/settings.
func (s *Server) socialSettings(r *http.Request) (int, any, error) {
	set, err := s.cfg.Social.Settings(r.Context(), tenantFrom(r.Context()).ID)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, set, nil
}

// saveSocialSettings serves PUT /api/v1/social/settings: the whole
// settings (brands, competitors, official accounts) replace the old ones.
func (s *Server) saveSocialSettings(r *http.Request) (int, any, error) {
	var set admeter.SocialSettings
	if err := s.decode(r, &set); err != nil {
		return 0, nil, err
	}
	set.Tenant = tenantFrom(r.Context()).ID
	if err := s.cfg.Social.SaveSettings(r.Context(), &set); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, &set, nil
}

// socialReport serves GET /api/v1/social/report.
func (s *Server) socialReport(r *http.Request) (int, any, error) {
	extendWriteDeadline(r)
	q := r.URL.Query()
	for k := range q {
		if !slices.Contains(socialParams, k) {
			return 0, nil, admeter.Errorf(admeter.EINVALID, "unknown parameter %q; this report takes %s", k, strings.Join(socialParams, ", "))
		}
	}
	csv, _, err := exportFormat(r, false)
	if err != nil {
		return 0, nil, err
	}
	from, to, err := store.ParseDateRange(q.Get("from"), q.Get("to"), 366, "")
	if err != nil {
		return 0, nil, err
	}
	req := social.ReportRequest{Tenant: tenantFrom(r.Context()).ID, From: from, To: to, Campaign: admeter.CampaignID(q.Get("campaign"))}
	if v := q.Get("sources"); v != "" {
		for _, src := range strings.Split(v, ",") {
			req.Sources = append(req.Sources, strings.TrimSpace(src))
		}
	}
	for _, p := range []struct {
		name string
		dst  *int
	}{{"keywords", &req.Keywords}, {"topics", &req.Topics}} {
		if v := q.Get(p.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 100 {
				return 0, nil, admeter.Errorf(admeter.EINVALID, "%s=%q: give a number from 1 to 100", p.name, v)
			}
			*p.dst = n
		}
	}
	res, err := s.cfg.Social.Report(r.Context(), req)
	if err != nil {
		return 0, nil, err
	}
	if csv {
		var b bytes.Buffer
		if err := res.WriteCSV(&b); err != nil {
			return 0, nil, fmt.Errorf("render csv: %w", err)
		}
		return http.StatusOK, csvBody{name: fmt.Sprintf("admeter-social-%s-%s.csv", res.From, res.To), data: b.Bytes()}, nil
	}
	return http.StatusOK, res, nil
}
