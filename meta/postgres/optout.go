package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/admeter/admeter"
)

// AppendOptOuts records that the end users behind ps opted out, in the
// optouts table that every node of a cluster follows (package optout's
// Shared). Pseudonyms already recorded and zero pseudonyms are ignored, so
// appending again is safe. When it returns nil the rows are committed and
// durable: the transaction raises synchronous_commit to on if the server
// runs with it off. An error means nothing may be assumed: the rows may or
// may not be recorded (a commit whose answer was lost), and appending again
// is the way to find out.
//
// Appends are serialised by the table's insert trigger, so that rows become
// visible in seq order (see OptOutsSince). They do not change Version: the
// collectors' campaign catalog does not depend on opt-outs.
func (db *DB) AppendOptOuts(ctx context.Context, ps []admeter.Pseudonym) error {
	rows := make([][]byte, 0, len(ps))
	for i := range ps {
		if !ps[i].IsZero() {
			rows = append(rows, ps[i][:])
		}
	}
	if len(rows) == 0 {
		return nil
	}
	at := ts(db.Now())
	err := db.pool.with(ctx, func(c *pgx.Conn) error {
		tx, err := c.Begin(ctx)
		if err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		defer tx.Rollback(context.WithoutCancel(ctx))
		// An acknowledged opt-out must survive a crash of the server.
		if _, err := tx.Exec(ctx, `SELECT set_config('synchronous_commit', 'on', true)
			WHERE current_setting('synchronous_commit') = 'off'`); err != nil {
			return fmt.Errorf("set synchronous_commit: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO optouts (pseudonym, at)
			SELECT p, $2 FROM unnest($1::bytea[]) AS p
			ON CONFLICT (pseudonym) DO NOTHING`, rows, at); err != nil {
			return fmt.Errorf("insert: %w", err)
		}
		if err := tx.Commit(ctx); err != nil {
			return fmt.Errorf("commit: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("append opt-outs: %w (they may not be recorded: append them again)", err)
	}
	return nil
}

// OptOutsSince returns, in seq order, at most limit opted-out pseudonyms
// recorded after position after (0 for the start), and the position of the
// last one returned (after itself if none). A follower passes that position
// back next time: it never misses a row, because rows become visible in seq
// order (the insert trigger serialises appends and releases its lock only
// once the commit is visible), and never sees one twice. Positions have
// gaps. limit must be positive.
func (db *DB) OptOutsSince(ctx context.Context, after int64, limit int) (ps []admeter.Pseudonym, last int64, err error) {
	if limit <= 0 {
		return nil, after, errors.New("read opt-outs: limit must be positive")
	}
	last = after
	err = db.pool.with(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, `SELECT seq, pseudonym FROM optouts
			WHERE seq > $1 ORDER BY seq LIMIT $2`, after, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		var (
			seq int64
			b   []byte
		)
		for rows.Next() {
			if err := rows.Scan(&seq, &b); err != nil {
				return err
			}
			if len(b) != len(admeter.Pseudonym{}) {
				return fmt.Errorf("row %d holds a pseudonym of %d bytes, not 16: the optouts table was written by something other than admeter", seq, len(b))
			}
			ps = append(ps, admeter.Pseudonym(b))
			last = seq
		}
		return rows.Err()
	})
	if err != nil {
		return nil, after, fmt.Errorf("read opt-outs: %w", err)
	}
	return ps, last, nil
}
