package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/jackc/pgx/v5"
)

// RunAsLeader runs fn while this process is the only one, among all that
// share the database (and schema), running the work called name: it holds
// a PostgreSQL session-level advisory lock on a connection of its own.
// While another process holds the lock it retries every retry. Once it has
// the lock it pings the connection every retry; if the connection fails
// (the database restarted, the network dropped) the lock is gone, so fn's
// context is cancelled and, once fn returns, the election starts again.
// fn should run until its context is done.
//
// The lock ends with the connection, so when a leader is cut off, another
// process may take over before the old leader's fn has noticed: for up to
// one retry interval both may run. Work run this way must tolerate that
// (admeter's background jobs are idempotent) — the lock keeps the work
// single in the steady state, it is not a fence.
//
// RunAsLeader returns nil when ctx is done, and an error only for a bad
// configuration.
func (db *DB) RunAsLeader(ctx context.Context, name string, retry time.Duration, fn func(ctx context.Context)) error {
	if db.pool == nil {
		return errors.New("run as leader: metadata db is not open")
	}
	if retry <= 0 {
		return fmt.Errorf("run as leader %s: retry interval must be positive", name)
	}
	h := fnv.New64a()
	h.Write([]byte(db.Schema + "\x00" + name))
	key := int64(h.Sum64())
	for ctx.Err() == nil {
		led, err := db.lead(ctx, key, retry, fn)
		if err != nil && ctx.Err() == nil {
			db.Logger.Warn("leader election: retrying", "work", name, "err", err)
		}
		if led && ctx.Err() == nil {
			db.Logger.Warn("lost the leadership; trying to win it again", "work", name)
		}
		select {
		case <-ctx.Done():
		case <-time.After(retry):
		}
	}
	return nil
}

// lead takes the advisory lock key if it is free and runs fn until ctx is
// done or the connection fails; led says whether fn ran.
func (db *DB) lead(ctx context.Context, key int64, retry time.Duration, fn func(ctx context.Context)) (led bool, err error) {
	cctx, cancel := context.WithTimeout(ctx, retry+10*time.Second)
	c, err := pgx.ConnectConfig(cctx, db.pool.cfg)
	cancel()
	if err != nil {
		return false, fmt.Errorf("connect to postgres: %w", err)
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = c.Close(closeCtx) // closing the session releases the lock
	}()
	var ok bool
	if err := c.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&ok); err != nil {
		return false, fmt.Errorf("try advisory lock: %w", err)
	}
	if !ok {
		return false, nil
	}
	fctx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan struct{})
	go func() { defer close(done); fn(fctx) }()
	t := time.NewTicker(retry)
	defer t.Stop()
	for {
		select {
		case <-done:
			return true, nil
		case <-t.C:
			pctx, cancel := context.WithTimeout(ctx, retry)
			err := c.Ping(pctx)
			cancel()
			if err != nil && ctx.Err() == nil {
				stop()
				<-done
				return true, fmt.Errorf("leader connection failed: %w", err)
			}
		}
	}
}
