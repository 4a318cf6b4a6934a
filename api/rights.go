package api

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/rights"
)

// RightsService records and carries out end users' rights requests.
type RightsService interface {
	Submit(ctx context.Context, actor string, tenant admeter.TenantID, in rights.Submission) (*admeter.RightsRequest, bool, error)
	Get(ctx context.Context, tenant admeter.TenantID, id string) (*admeter.RightsRequest, error)
	List(ctx context.Context, tenant admeter.TenantID) ([]*admeter.RightsRequest, error)
	Deadline(r *admeter.RightsRequest) rights.Deadline
	Export(ctx context.Context, tenant admeter.TenantID, id string) (*rights.Export, error)
}

// requestJSON is a rights request as the API shows it. The device appears
// only as its identifier type.
type requestJSON struct {
	ID        string                 `json:"id"`
	Type      admeter.RequestType    `json:"type"`
	IDType    string                 `json:"id_type"`
	Minor     bool                   `json:"minor"`
	Note      string                 `json:"note"`
	Status    admeter.RequestStatus  `json:"status"`
	Received  time.Time              `json:"received"`
	Due       string                 `json:"due"`
	DueExact  bool                   `json:"due_exact"`
	DaysLeft  int                    `json:"working_days_left"`
	Overdue   bool                   `json:"overdue"`
	Completed *time.Time             `json:"completed,omitempty"`
	Outcome   admeter.RequestOutcome `json:"outcome"`
	Error     string                 `json:"error,omitempty"`
	ExportURL string                 `json:"export_url,omitempty"`
	Duplicate bool                   `json:"duplicate,omitempty"`
}

func (s *Server) requestView(r *admeter.RightsRequest) requestJSON {
	d := s.cfg.Rights.Deadline(r)
	v := requestJSON{
		ID: r.ID, Type: r.Type, IDType: r.IDType.String(), Minor: r.Minor, Note: r.Note, Status: r.Status,
		Received: r.Received, Due: r.Due.Format(time.DateOnly), DueExact: r.DueExact, DaysLeft: d.DaysLeft, Overdue: d.Overdue,
		Outcome: r.Outcome, Error: r.Error,
	}
	if !r.Completed.IsZero() {
		c := r.Completed
		v.Completed = &c
	}
	if r.Type == admeter.RequestAccess && r.Status == admeter.RequestDone {
		v.ExportURL = "/api/v1/requests/" + r.ID + "/export"
	}
	return v
}

func (s *Server) submitRequest(r *http.Request) (int, any, error) {
	var in rights.Submission
	if err := s.decode(r, &in); err != nil {
		return 0, nil, err
	}
	t := tenantFrom(r.Context())
	req, dup, err := s.cfg.Rights.Submit(r.Context(), "tenant:"+string(t.ID), t.ID, in)
	if err != nil {
		return 0, nil, err
	}
	v := s.requestView(req)
	if dup {
		v.Duplicate = true
		return http.StatusOK, v, nil
	}
	return http.StatusAccepted, v, nil
}

func (s *Server) listRequests(r *http.Request) (int, any, error) {
	t := tenantFrom(r.Context())
	filter := r.URL.Query().Get("status")
	switch filter {
	case "", "open", "overdue", "done", "pending", "processing", "failed":
	default:
		return 0, nil, admeter.Errorf(admeter.EINVALID, "status must be open, overdue, pending, processing, done or failed, not %q", filter)
	}
	rs, err := s.cfg.Rights.List(r.Context(), t.ID)
	if err != nil {
		return 0, nil, err
	}
	out := struct {
		Requests []requestJSON `json:"requests"`
		Overdue  int           `json:"overdue"`
	}{Requests: []requestJSON{}}
	for _, req := range rs {
		v := s.requestView(req)
		if v.Overdue {
			out.Overdue++
		}
		switch {
		case filter == "open" && !req.Status.Open(),
			filter == "overdue" && !v.Overdue,
			filter != "" && filter != "open" && filter != "overdue" && string(req.Status) != filter:
			continue
		}
		out.Requests = append(out.Requests, v)
	}
	return http.StatusOK, out, nil
}

func (s *Server) showRequest(r *http.Request) (int, any, error) {
	req, err := s.cfg.Rights.Get(r.Context(), tenantFrom(r.Context()).ID, r.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.requestView(req), nil
}

func (s *Server) exportRequest(r *http.Request) (int, any, error) {
	id := r.PathValue("id")
	exp, err := s.cfg.Rights.Export(r.Context(), tenantFrom(r.Context()).ID, id)
	if err != nil {
		return 0, nil, err
	}
	switch f := r.URL.Query().Get("format"); f {
	case "", "json":
		return http.StatusOK, exp, nil
	case "csv":
		return http.StatusOK, csvBody{name: fmt.Sprintf("admeter-access-%s.csv", id), data: exp.CSV()}, nil
	default:
		return 0, nil, admeter.Errorf(admeter.EINVALID, "format must be json or csv, not %q", f)
	}
}
