package api

import (
	"context"
	"net/http"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/benchmark"
)

// BenchmarkService publishes industry benchmarks and compares campaigns
// against them (package benchmark).
type BenchmarkService interface {
	Publish(ctx context.Context, req benchmark.PublishRequest) (*admeter.BenchmarkSnapshot, error)
	Snapshot(ctx context.Context, period string) (*admeter.BenchmarkSnapshot, error)
	Snapshots(ctx context.Context) ([]*admeter.BenchmarkSnapshot, error)
	Compare(ctx context.Context, req benchmark.CompareRequest) (*benchmark.Comparison, error)
}

// IndustryService sets a tenant's industry vertical.
type IndustryService interface {
	SetTenantIndustry(ctx context.Context, id admeter.TenantID, industry admeter.Industry) (*admeter.Tenant, error)
}

// registerBenchmarks adds the benchmark and industry routes.
func (s *Server) registerBenchmarks(mux *http.ServeMux) {
	mux.Handle("GET /api/v1/industries", s.wrap(s.require(admeter.PermReadCampaigns, s.listIndustries)))
	if s.cfg.Industries != nil {
		mux.Handle("PATCH /api/v1/admin/tenants/{id}", s.wrap(s.requireOperator(s.adminTenantIndustry)))
	}
	if s.cfg.Benchmarks == nil {
		return
	}
	mux.Handle("POST /api/v1/admin/benchmarks", s.wrap(s.requireOperator(s.audited("admin.benchmarks.publish", s.publishBenchmarks))))
	mux.Handle("GET /api/v1/admin/benchmarks", s.wrap(s.requireOperator(s.listBenchmarkSnapshots)))
	mux.Handle("GET /api/v1/benchmarks", s.wrap(s.require(admeter.PermReadReports, s.audited("report.benchmarks", s.benchmarks))))
	mux.Handle("GET /api/v1/campaigns/{id}/benchmark", s.wrap(s.require(admeter.PermReadReports, s.onCampaign(admeter.PermReadReports, s.audited("report.benchmark", s.campaignBenchmark)))))
}

// listIndustries serves GET /api/v1/industries: the industry verticals
// with their Chinese and English names.
func (s *Server) listIndustries(*http.Request) (int, any, error) {
	return http.StatusOK, map[string]any{"industries": admeter.Industries}, nil
}

// adminTenantIndustry serves PATCH /api/v1/admin/tenants/{id}
// {"industry": "gaming"} (operator): set or clear ("") a tenant's industry.
func (s *Server) adminTenantIndustry(r *http.Request) (int, any, error) {
	var in struct {
		Industry *admeter.Industry `json:"industry"`
	}
	if err := s.decode(r, &in); err != nil {
		return 0, nil, err
	}
	if in.Industry == nil {
		return 0, nil, admeter.Errorf(admeter.EINVALID, "send {\"industry\": …}: one of the ids GET /api/v1/industries lists, or \"\" to clear it")
	}
	id := admeter.TenantID(r.PathValue("id"))
	t, err := s.cfg.Industries.SetTenantIndustry(r.Context(), id, *in.Industry)
	if err != nil {
		s.auditFor(r, id, "admin.tenant.industry", string(id), "failed: "+admeter.ErrorCode(err), map[string]any{"industry": string(*in.Industry)})
		return 0, nil, err
	}
	s.auditFor(r, id, "admin.tenant.industry", string(id), "ok", map[string]any{"industry": string(t.Industry)})
	return http.StatusOK, accountView(t), nil
}

// setOwnIndustry sets the industry of the caller's tenant, for PATCH
// /api/v1/account.
func (s *Server) setOwnIndustry(r *http.Request, id admeter.TenantID, industry admeter.Industry) error {
	if s.cfg.Industries == nil {
		return admeter.Errorf(admeter.EINVALID, "this server does not keep industries")
	}
	if _, err := s.cfg.Industries.SetTenantIndustry(r.Context(), id, industry); err != nil {
		return err
	}
	s.audit(r, "account.industry", string(id), "ok", map[string]any{"industry": string(industry)})
	return nil
}

// benchmarkValueJSON is one measure of a cell; a withheld measure is null.
type benchmarkValueJSON struct {
	Pooled  float64 `json:"pooled"`
	P25     float64 `json:"p25"`
	P50     float64 `json:"p50"`
	P75     float64 `json:"p75"`
	Tenants int     `json:"tenants"`
}

func benchmarkValue(v admeter.BenchmarkValue) *benchmarkValueJSON {
	if !v.Published() {
		return nil
	}
	return &benchmarkValueJSON{Pooled: v.Pooled, P25: v.P25, P50: v.P50, P75: v.P75, Tenants: v.Tenants}
}

// benchmarkCellJSON is a published cell.
type benchmarkCellJSON struct {
	Industry     admeter.Industry    `json:"industry"`
	IndustryZH   string              `json:"industry_zh"`
	IndustryEN   string              `json:"industry_en"`
	Media        string              `json:"media"`
	Tenants      int                 `json:"tenants"`
	CTR          *benchmarkValueJSON `json:"ctr"`
	ViewableRate *benchmarkValueJSON `json:"viewable_rate"`
	IVTRate      *benchmarkValueJSON `json:"ivt_rate"`
	Frequency    *benchmarkValueJSON `json:"frequency"`
}

// snapshotJSON is a snapshot: its description and, when shown, its cells.
type snapshotJSON struct {
	benchmark.SnapshotInfo
	Cells []benchmarkCellJSON `json:"cells"`
}

// snapshotView returns snap as the API shows it, with the cells of
// industry only when it is not "".
func snapshotView(snap *admeter.BenchmarkSnapshot, industry admeter.Industry) snapshotJSON {
	out := snapshotJSON{SnapshotInfo: benchmark.Info(snap), Cells: []benchmarkCellJSON{}}
	for _, c := range snap.Cells {
		if industry != "" && c.Industry != industry {
			continue
		}
		info, _ := c.Industry.Info()
		out.Cells = append(out.Cells, benchmarkCellJSON{Industry: c.Industry, IndustryZH: info.ZH, IndustryEN: info.EN, Media: c.Media, Tenants: c.Tenants,
			CTR: benchmarkValue(c.CTR), ViewableRate: benchmarkValue(c.ViewableRate), IVTRate: benchmarkValue(c.IVTRate), Frequency: benchmarkValue(c.Frequency)})
	}
	return out
}

// publishBenchmarks serves POST /api/v1/admin/benchmarks {"from", "to",
// "min_tenants", "min_users", "max_share"} (operator; the rules are
// optional and may only be stricter than the server's).
func (s *Server) publishBenchmarks(r *http.Request) (int, any, error) {
	var in struct {
		From       string  `json:"from"`
		To         string  `json:"to"`
		MinTenants int     `json:"min_tenants"`
		MinUsers   int64   `json:"min_users"`
		MaxShare   float64 `json:"max_share"`
	}
	if err := s.decode(r, &in); err != nil {
		return 0, nil, err
	}
	if in.MinTenants < 0 || in.MinUsers < 0 || in.MaxShare < 0 || in.MaxShare > 1 {
		return 0, nil, admeter.Errorf(admeter.EINVALID, "min_tenants and min_users must not be negative, max_share must be between 0 and 1")
	}
	snap, err := s.cfg.Benchmarks.Publish(r.Context(), benchmark.PublishRequest{From: in.From, To: in.To,
		Rules: benchmark.Rules{MinTenants: in.MinTenants, MinUsers: in.MinUsers, MaxShare: in.MaxShare}})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, snapshotView(snap, ""), nil
}

// listBenchmarkSnapshots serves GET /api/v1/admin/benchmarks (operator):
// the published snapshots, newest first, without cells.
func (s *Server) listBenchmarkSnapshots(r *http.Request) (int, any, error) {
	list, err := s.cfg.Benchmarks.Snapshots(r.Context())
	if err != nil {
		return 0, nil, err
	}
	out := []benchmark.SnapshotInfo{}
	for _, snap := range list {
		out = append(out, benchmark.Info(snap))
	}
	return http.StatusOK, map[string]any{"snapshots": out}, nil
}

// benchmarks serves GET /api/v1/benchmarks[?period=FROM/TO][&industry=…]:
// the published cells of the latest snapshot (of the period).
func (s *Server) benchmarks(r *http.Request) (int, any, error) {
	q := r.URL.Query()
	ind := admeter.Industry(q.Get("industry"))
	if err := admeter.CheckIndustry(ind); err != nil {
		return 0, nil, err
	}
	snap, err := s.cfg.Benchmarks.Snapshot(r.Context(), q.Get("period"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, snapshotView(snap, ind), nil
}

// campaignBenchmark serves GET /api/v1/campaigns/{id}/benchmark
// [?from&to][&period]: the campaign beside its industry's benchmarks.
func (s *Server) campaignBenchmark(r *http.Request) (int, any, error) {
	q := r.URL.Query()
	c, err := s.cfg.Benchmarks.Compare(r.Context(), benchmark.CompareRequest{
		Tenant: ownerFrom(r.Context()), Campaign: admeter.CampaignID(r.PathValue("id")),
		From: q.Get("from"), To: q.Get("to"), Period: q.Get("period"), Placements: placementsFrom(r.Context()),
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, c, nil
}
