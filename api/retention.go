package api

import (
	"context"
	"net/http"

	"github.com/admeter/admeter/retention"
)

// RetentionService enforces the raw-data retention on demand.
type RetentionService interface {
	Run(ctx context.Context, dryRun bool) (*retention.Result, error)
}

// runRetention serves POST /api/v1/admin/retention: {"dry_run": true} shows
// what would go; without it the job runs now.
func (s *Server) runRetention(r *http.Request) (int, any, error) {
	var in struct {
		DryRun bool `json:"dry_run"`
	}
	if r.ContentLength != 0 {
		if err := s.decode(r, &in); err != nil {
			return 0, nil, err
		}
	}
	res, err := s.cfg.Retention.Run(r.Context(), in.DryRun)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, res, nil
}
