package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/api"
	"github.com/admeter/admeter/console"
	"github.com/admeter/admeter/keystore"
	"github.com/admeter/admeter/meta/postgres"
	"github.com/admeter/admeter/meta/sqlite"
	"github.com/admeter/admeter/optout"
	"github.com/admeter/admeter/report"
	"github.com/admeter/admeter/retention"
	"github.com/admeter/admeter/rights"
	"github.com/admeter/admeter/social"
	"github.com/admeter/admeter/store/clickhouse"
	"github.com/admeter/admeter/store/duckdb"
)

// metadata is what the server needs of its metadata store: meta/sqlite on
// one machine, meta/postgres shared by a cluster.
type metadata interface {
	api.TenantService
	api.CampaignService
	api.GrantService
	api.MediaService
	console.Campaigns
	console.CampaignEditor
	report.Campaigns
	retention.Accounts
	rights.RequestStore
	social.Settings

	// The accounts (api.AccountService but for sessions and credentials,
	// which accountStore adapts).
	Tenant(ctx context.Context, id admeter.TenantID) (*admeter.Tenant, error)
	Tenants(ctx context.Context, status admeter.TenantStatus) ([]*admeter.Tenant, error)
	RegisterTenant(ctx context.Context, t *admeter.Tenant, owner *admeter.User, passwordHash string) error
	SetTenantStatus(ctx context.Context, id admeter.TenantID, next admeter.TenantStatus, note string) (*admeter.Tenant, error)
	UpdateRegistration(ctx context.Context, id admeter.TenantID, r admeter.Registration) error
	CreateUser(ctx context.Context, u *admeter.User, passwordHash string) error
	User(ctx context.Context, tenant admeter.TenantID, id admeter.UserID) (*admeter.User, error)
	Users(ctx context.Context, tenant admeter.TenantID) ([]*admeter.User, error)
	UpdateUser(ctx context.Context, u *admeter.User) error
	DeleteUser(ctx context.Context, tenant admeter.TenantID, id admeter.UserID) error
	UserCredentials(ctx context.Context, email string) (*admeter.User, *admeter.Credentials, error)
	SetPassword(ctx context.Context, id admeter.UserID, hash string) error
	SetTOTPLastStep(ctx context.Context, id admeter.UserID, step int64) error
	SetTOTP(ctx context.Context, id admeter.UserID, sealedSecret []byte) error
	RecordLogin(ctx context.Context, id admeter.UserID, ok bool, lockedUntil time.Time) (failed int, err error)
	CreateSession(ctx context.Context, s *admeter.Session, tokenHash [32]byte) error
	SessionByTokenHash(ctx context.Context, hash [32]byte, now time.Time) (*admeter.Session, *admeter.User, error)
	DeleteSession(ctx context.Context, id string) error
	DeleteUserSessions(ctx context.Context, id admeter.UserID) (int, error)
	CreateToken(ctx context.Context, t *admeter.APIToken, hash [32]byte) error
	TokenByHash(ctx context.Context, hash [32]byte) (*admeter.APIToken, *admeter.Tenant, error)
	Tokens(ctx context.Context, tenant admeter.TenantID) ([]*admeter.APIToken, error)
	RevokeToken(ctx context.Context, tenant admeter.TenantID, id admeter.TokenID) error
	TouchToken(ctx context.Context, id admeter.TokenID, at time.Time) error

	AllCampaigns(ctx context.Context) ([]*admeter.Campaign, error)
	// Version changes whenever the metadata does (campaigns, tenants…),
	// so that other processes notice.
	Version(ctx context.Context) (int64, error)
	Close() error
}

// openMeta opens the metadata store: PostgreSQL with --postgres-dsn, else
// SQLite in the data directory.
func (m *Main) openMeta(ctx context.Context) error {
	if dsn := m.Config.PostgresDSN; dsn != "" {
		db := postgres.NewDB(dsn)
		if err := db.Open(); err != nil {
			return fmt.Errorf("open metadata store in PostgreSQL: %w (check --postgres-dsn)", err)
		}
		m.meta = db
		return nil
	}
	db := sqlite.NewDB(filepath.Join(m.Config.DataDir, "meta.db"))
	if err := db.Open(); err != nil {
		return fmt.Errorf("open metadata store: %w", err)
	}
	m.meta = db
	return nil
}

// openStore opens the analytical store: ClickHouse with --clickhouse-dsn,
// else DuckDB in the data directory.
func (m *Main) openStore(ctx context.Context) error {
	logger := m.Logger.With("component", "store")
	if dsn := m.Config.ClickHouseDSN; dsn != "" {
		octx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		opts := clickhouse.DefaultOptions()
		opts.Cluster = m.Config.ClickHouseCluster
		db, err := clickhouse.Open(octx, dsn, opts, logger)
		if err != nil {
			return fmt.Errorf("open analytical store in ClickHouse: %w (check --clickhouse-dsn)", err)
		}
		m.store = db
		return nil
	}
	opts := duckdb.DefaultOptions()
	opts.MemoryLimit = m.Config.StoreMemory
	opts.ClusterMinRows = m.StoreClusterMinRows
	db, err := duckdb.Open(filepath.Join(m.Config.DataDir, "store.duckdb"), opts, logger)
	if err != nil {
		return fmt.Errorf("open analytical store: %w", err)
	}
	m.store = db
	return nil
}

// openKeys opens the pseudonymisation key store: with PostgreSQL, the one
// document every node shares (seeded, the first time, from this data
// directory's keys.json if it has one, so that a machine moving to a
// cluster keeps its pseudonyms and opt-outs); else the data directory's
// keys.json.
func (m *Main) openKeys(ctx context.Context, master []byte) (*keystore.Store, error) {
	logger := m.Logger.With("component", "keys")
	file := filepath.Join(m.Config.DataDir, "keys.json")
	pg, ok := m.meta.(*postgres.DB)
	if !ok {
		ks, err := keystore.Open(file, master, logger)
		if err != nil {
			return nil, fmt.Errorf("open key store: %w", err)
		}
		return ks, nil
	}
	shared := pg.KeystoreBackend("")
	copied, err := keystore.Seed(ctx, shared, keystore.NewFileBackend(file), master)
	if err != nil {
		return nil, fmt.Errorf("open key store in PostgreSQL: %w", err)
	}
	if copied {
		logger.Warn("copied this data directory's key store into PostgreSQL, where every node now shares it; keys.json here is no longer used", "file", file)
	}
	ks, err := keystore.OpenBackend(ctx, shared, master, logger)
	if err != nil {
		return nil, fmt.Errorf("open key store in PostgreSQL: %w", err)
	}
	return ks, nil
}

// shareOptOuts keeps, with PostgreSQL, this node's opt-out registry in step
// with every other node's: opt-outs accepted here are written to the shared
// record first, and those accepted elsewhere are added here within a
// second. It catches up before the server serves: a collector with a stale
// registry would measure people who opted out on another node.
func (m *Main) shareOptOuts(ctx context.Context, reg prometheus.Registerer) error {
	pg, ok := m.meta.(*postgres.DB)
	if !ok {
		return nil
	}
	sh, err := optout.NewShared(m.registry, pg, filepath.Join(m.Config.DataDir, "optout.cursor"), m.Logger.With("component", "optout"), reg)
	if err != nil {
		return fmt.Errorf("share the opt-out registry: %w", err)
	}
	sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := sh.Sync(sctx); err != nil {
		return fmt.Errorf("catch up with the cluster's opt-outs in PostgreSQL: %w", err)
	}
	m.optouts, m.sharedOptOuts = sh, sh
	return nil
}
