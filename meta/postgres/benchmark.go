package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/admeter/admeter"
)

// SetTenantIndustry sets tenant id's industry vertical ("" clears it) and
// returns the tenant as stored.
//
// Returns EINVALID for an undefined industry, ENOTFOUND if there is no such
// tenant and ECONFLICT if it is closed.
func (db *DB) SetTenantIndustry(ctx context.Context, id admeter.TenantID, industry admeter.Industry) (*admeter.Tenant, error) {
	if err := admeter.CheckIndustry(industry); err != nil {
		return nil, err
	}
	var t *admeter.Tenant
	err := db.update(ctx, func(tx *writeTx) error {
		cur, err := txTenant(ctx, tx, id)
		if err != nil {
			return err
		} else if cur.Status == admeter.TenantClosed {
			return admeter.Errorf(admeter.ECONFLICT, "The account is closed: its industry can no longer change.")
		}
		if _, err := tx.Exec(ctx, `UPDATE tenants SET industry = $1 WHERE id = $2`, string(industry), string(id)); err != nil {
			return fmt.Errorf("update industry: %w", err)
		}
		cur.Industry = industry
		t = cur
		return nil
	})
	if err != nil {
		return nil, wrap("set tenant industry", err)
	}
	return t, nil
}

// SaveBenchmarks stores a published benchmark snapshot, assigning s.ID
// and s.Published. Returns EINVALID for a snapshot without a period or
// with an undefined industry.
func (db *DB) SaveBenchmarks(ctx context.Context, s *admeter.BenchmarkSnapshot) error {
	if s.From.IsZero() || s.To.Before(s.From) {
		return admeter.Errorf(admeter.EINVALID, "a benchmark snapshot needs a period")
	}
	for _, c := range s.Cells {
		if !c.Industry.Valid() {
			return admeter.Errorf(admeter.EINVALID, "benchmark cell of undefined industry %q", c.Industry)
		}
	}
	var id int64
	var published time.Time
	err := db.update(ctx, func(tx *writeTx) error {
		published = tx.now
		if err := tx.QueryRow(ctx, `
			INSERT INTO benchmark_snapshots (period_from, period_to, published, min_tenants, min_users, max_share, withheld)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			s.From.Format(time.DateOnly), s.To.Format(time.DateOnly), tx.now, s.MinTenants, s.MinUsers, s.MaxShare, s.Withheld).Scan(&id); err != nil {
			return fmt.Errorf("insert snapshot: %w", err)
		}
		var rows [][]any
		for _, c := range s.Cells {
			for _, m := range admeter.BenchmarkMeasures {
				v := c.Value(m)
				rows = append(rows, []any{id, string(c.Industry), c.Media, c.Tenants, m, v.Tenants, v.Pooled, v.P25, v.P50, v.P75})
			}
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"benchmark_values"},
			[]string{"snapshot_id", "industry", "media", "tenants", "measure", "measure_tenants", "pooled", "p25", "p50", "p75"},
			pgx.CopyFromRows(rows)); err != nil {
			return fmt.Errorf("insert cells: %w", err)
		}
		return nil
	})
	if err != nil {
		return wrap("save benchmarks", err)
	}
	s.ID, s.Published = id, published
	return nil
}

// snapshotColumns are the columns scanSnapshot reads.
const snapshotColumns = `id, to_char(period_from, 'YYYY-MM-DD'), to_char(period_to, 'YYYY-MM-DD'), published, min_tenants, min_users, max_share, withheld`

// scanSnapshot scans snapshotColumns. It returns ENOTFOUND for
// pgx.ErrNoRows.
func scanSnapshot(row pgx.Row) (*admeter.BenchmarkSnapshot, error) {
	var s admeter.BenchmarkSnapshot
	var from, to string
	err := row.Scan(&s.ID, &from, &to, &s.Published, &s.MinTenants, &s.MinUsers, &s.MaxShare, &s.Withheld)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, admeter.Errorf(admeter.ENOTFOUND, "No benchmarks are published for that period.")
	} else if err != nil {
		return nil, fmt.Errorf("query snapshot: %w", err)
	}
	if s.From, err = time.Parse(time.DateOnly, from); err != nil {
		return nil, fmt.Errorf("parse stored date: %w", err)
	}
	if s.To, err = time.Parse(time.DateOnly, to); err != nil {
		return nil, fmt.Errorf("parse stored date: %w", err)
	}
	s.Published = s.Published.UTC()
	return &s, nil
}

// Benchmarks returns the latest snapshot of the period [from, to] (dates,
// as midnight UTC) with its cells, or the latest of any period when both
// are zero. Returns ENOTFOUND if there is none.
func (db *DB) Benchmarks(ctx context.Context, from, to time.Time) (*admeter.BenchmarkSnapshot, error) {
	var s *admeter.BenchmarkSnapshot
	err := db.view(ctx, func(tx pgx.Tx) error {
		var err error
		if from.IsZero() && to.IsZero() {
			s, err = scanSnapshot(tx.QueryRow(ctx, `SELECT `+snapshotColumns+` FROM benchmark_snapshots ORDER BY id DESC LIMIT 1`))
		} else {
			s, err = scanSnapshot(tx.QueryRow(ctx, `
				SELECT `+snapshotColumns+` FROM benchmark_snapshots
				WHERE period_from = $1::date AND period_to = $2::date ORDER BY id DESC LIMIT 1`,
				from.UTC().Format(time.DateOnly), to.UTC().Format(time.DateOnly)))
		}
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `
			SELECT industry, media, tenants, measure, measure_tenants, pooled, p25, p50, p75
			FROM benchmark_values WHERE snapshot_id = $1 ORDER BY industry, media, measure`, s.ID)
		if err != nil {
			return fmt.Errorf("query cells: %w", err)
		}
		defer rows.Close()
		var cells []admeter.BenchmarkCell
		for rows.Next() {
			var c admeter.BenchmarkCell
			var m string
			var v admeter.BenchmarkValue
			if err := rows.Scan(&c.Industry, &c.Media, &c.Tenants, &m, &v.Tenants, &v.Pooled, &v.P25, &v.P50, &v.P75); err != nil {
				return fmt.Errorf("scan cell: %w", err)
			}
			cells = admeter.AppendBenchmarkValue(cells, c, m, v)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("query cells: %w", err)
		}
		admeter.SortBenchmarkCells(cells)
		s.Cells = cells
		return nil
	})
	if err != nil {
		return nil, wrap("get benchmarks", err)
	}
	return s, nil
}

// BenchmarkSnapshots lists the published snapshots, newest first, without
// their cells.
func (db *DB) BenchmarkSnapshots(ctx context.Context) ([]*admeter.BenchmarkSnapshot, error) {
	var out []*admeter.BenchmarkSnapshot
	err := db.view(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+snapshotColumns+` FROM benchmark_snapshots ORDER BY id DESC`)
		if err != nil {
			return fmt.Errorf("query snapshots: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			s, err := scanSnapshot(rows)
			if err != nil {
				return err
			}
			out = append(out, s)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("query snapshots: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, wrap("list benchmarks", err)
	}
	return out, nil
}
