package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

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
		if _, err := tx.ExecContext(ctx, `UPDATE tenants SET industry = ? WHERE id = ?`, string(industry), string(id)); err != nil {
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
// with an undefined industry or measure.
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
		res, err := tx.ExecContext(ctx, `
			INSERT INTO benchmark_snapshots (period_from, period_to, published, min_tenants, min_users, max_share, withheld)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			s.From.Format(time.DateOnly), s.To.Format(time.DateOnly), formatTime(tx.now), s.MinTenants, s.MinUsers, s.MaxShare, s.Withheld)
		if err != nil {
			return fmt.Errorf("insert snapshot: %w", err)
		}
		if id, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("snapshot id: %w", err)
		}
		stmt, err := tx.PrepareContext(ctx, `
			INSERT INTO benchmark_values (snapshot_id, industry, media, tenants, measure, measure_tenants, pooled, p25, p50, p75)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return fmt.Errorf("prepare cell insert: %w", err)
		}
		defer stmt.Close()
		for _, c := range s.Cells {
			for _, m := range admeter.BenchmarkMeasures {
				v := c.Value(m)
				if _, err := stmt.ExecContext(ctx, id, string(c.Industry), c.Media, c.Tenants, m, v.Tenants, v.Pooled, v.P25, v.P50, v.P75); err != nil {
					return fmt.Errorf("insert cell: %w", err)
				}
			}
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
const snapshotColumns = `id, period_from, period_to, published, min_tenants, min_users, max_share, withheld`

// scanSnapshot scans snapshotColumns. It returns ENOTFOUND for
// sql.ErrNoRows.
func scanSnapshot(row rowScanner) (*admeter.BenchmarkSnapshot, error) {
	var s admeter.BenchmarkSnapshot
	var from, to, published string
	err := row.Scan(&s.ID, &from, &to, &published, &s.MinTenants, &s.MinUsers, &s.MaxShare, &s.Withheld)
	if errors.Is(err, sql.ErrNoRows) {
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
	if s.Published, err = parseTime(published); err != nil {
		return nil, err
	}
	return &s, nil
}

// Benchmarks returns the latest snapshot of the period [from, to] (dates,
// as midnight UTC) with its cells, or the latest of any period when both
// are zero. Returns ENOTFOUND if there is none.
func (db *DB) Benchmarks(ctx context.Context, from, to time.Time) (*admeter.BenchmarkSnapshot, error) {
	var s *admeter.BenchmarkSnapshot
	err := db.view(ctx, func(tx *sql.Tx) error {
		var err error
		if from.IsZero() && to.IsZero() {
			s, err = scanSnapshot(tx.QueryRowContext(ctx, `SELECT `+snapshotColumns+` FROM benchmark_snapshots ORDER BY id DESC LIMIT 1`))
		} else {
			s, err = scanSnapshot(tx.QueryRowContext(ctx, `
				SELECT `+snapshotColumns+` FROM benchmark_snapshots
				WHERE period_from = ? AND period_to = ? ORDER BY id DESC LIMIT 1`,
				from.UTC().Format(time.DateOnly), to.UTC().Format(time.DateOnly)))
		}
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `
			SELECT industry, media, tenants, measure, measure_tenants, pooled, p25, p50, p75
			FROM benchmark_values WHERE snapshot_id = ? ORDER BY industry, media, measure`, s.ID)
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
	err := db.view(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+snapshotColumns+` FROM benchmark_snapshots ORDER BY id DESC`)
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
		return rows.Err()
	})
	if err != nil {
		return nil, wrap("list benchmarks", err)
	}
	return out, nil
}
