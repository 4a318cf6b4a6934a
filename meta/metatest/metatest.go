package metatest

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/admeter/admeter"
)

// Session is the signed-in session type the stores share (admeter.Session).
type Session = admeter.Session

// Credentials are what signing in checks, as the stores keep them
// (admeter.Credentials).
type Credentials = admeter.Credentials

// Versioner is the change counter that collectors poll to reload their
// campaign catalog.
type Versioner interface {
	Version(ctx context.Context) (int64, error)
}

// TenantStore creates and finds tenants.
type TenantStore interface {
	CreateTenant(ctx context.Context, t *admeter.Tenant, tokenHash [32]byte) error
	Tenant(ctx context.Context, id admeter.TenantID) (*admeter.Tenant, error)
	TenantByTokenHash(ctx context.Context, hash [32]byte) (*admeter.Tenant, error)
}

// CampaignStore holds campaigns and their placements: the catalog that
// collectors load.
type CampaignStore interface {
	CreateCampaign(ctx context.Context, c *admeter.Campaign) error
	Campaign(ctx context.Context, tenant admeter.TenantID, id admeter.CampaignID) (*admeter.Campaign, error)
	Campaigns(ctx context.Context, tenant admeter.TenantID) ([]*admeter.Campaign, error)
	AllCampaigns(ctx context.Context) ([]*admeter.Campaign, error)
	UpdateCampaign(ctx context.Context, c *admeter.Campaign) error
	PlacementsOfMedia(ctx context.Context, media admeter.TenantID) ([]admeter.Placement, error)
	MediaCampaigns(ctx context.Context, media admeter.TenantID) ([]*admeter.Campaign, error)
	MediaCampaign(ctx context.Context, media admeter.TenantID, id admeter.CampaignID) (*admeter.Campaign, error)
	PlacementCategories(ctx context.Context) (map[admeter.PlacementID][]string, error)
}

// GrantStore holds the grants by which advertisers let agencies read or
// manage campaigns.
type GrantStore interface {
	CreateGrant(ctx context.Context, g *admeter.Grant) error
	Grants(ctx context.Context, tenant admeter.TenantID) ([]*admeter.Grant, error)
	RevokeGrant(ctx context.Context, owner admeter.TenantID, id admeter.GrantID) error
	GrantFor(ctx context.Context, grantee admeter.TenantID, campaign admeter.CampaignID) (*admeter.Grant, error)
	GrantedCampaigns(ctx context.Context, grantee admeter.TenantID) ([]*admeter.Campaign, error)
}

// AccountStore holds self-service registration and the account life cycle.
type AccountStore interface {
	RegisterTenant(ctx context.Context, t *admeter.Tenant, owner *admeter.User, passwordHash string) error
	SetTenantStatus(ctx context.Context, id admeter.TenantID, next admeter.TenantStatus, note string) (*admeter.Tenant, error)
	UpdateRegistration(ctx context.Context, id admeter.TenantID, r admeter.Registration) error
	Tenants(ctx context.Context, status admeter.TenantStatus) ([]*admeter.Tenant, error)
	ClosedTenants(ctx context.Context, before time.Time) ([]admeter.TenantID, error)
	DeleteTenant(ctx context.Context, id admeter.TenantID) error
}

// UserStore holds users and their credentials.
type UserStore interface {
	CreateUser(ctx context.Context, u *admeter.User, passwordHash string) error
	User(ctx context.Context, tenant admeter.TenantID, id admeter.UserID) (*admeter.User, error)
	Users(ctx context.Context, tenant admeter.TenantID) ([]*admeter.User, error)
	UpdateUser(ctx context.Context, u *admeter.User) error
	DeleteUser(ctx context.Context, tenant admeter.TenantID, id admeter.UserID) error
	UserCredentials(ctx context.Context, email string) (*admeter.User, *Credentials, error)
	SetPassword(ctx context.Context, id admeter.UserID, hash string) error
	SetTOTP(ctx context.Context, id admeter.UserID, secret []byte) error
	SetTOTPLastStep(ctx context.Context, id admeter.UserID, step int64) error
	RecordLogin(ctx context.Context, id admeter.UserID, ok bool, lockedUntil time.Time) (failed int, err error)
}

// SessionStore holds signed-in sessions.
type SessionStore interface {
	CreateSession(ctx context.Context, s *Session, tokenHash [32]byte) error
	SessionByTokenHash(ctx context.Context, hash [32]byte, now time.Time) (*Session, *admeter.User, error)
	TouchSession(ctx context.Context, id string, at time.Time) error
	DeleteSession(ctx context.Context, id string) error
	DeleteUserSessions(ctx context.Context, user admeter.UserID) (int, error)
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error)
}

// TokenStore holds API tokens.
type TokenStore interface {
	CreateToken(ctx context.Context, t *admeter.APIToken, hash [32]byte) error
	TokenByHash(ctx context.Context, hash [32]byte) (*admeter.APIToken, *admeter.Tenant, error)
	Tokens(ctx context.Context, tenant admeter.TenantID) ([]*admeter.APIToken, error)
	RevokeToken(ctx context.Context, tenant admeter.TenantID, id admeter.TokenID) error
	TouchToken(ctx context.Context, id admeter.TokenID, at time.Time) error
}

// RightsStore holds end users' rights requests.
type RightsStore interface {
	CreateRequest(ctx context.Context, r *admeter.RightsRequest) error
	UpdateRequest(ctx context.Context, r *admeter.RightsRequest) error
	Request(ctx context.Context, tenant admeter.TenantID, id string) (*admeter.RightsRequest, error)
	Requests(ctx context.Context, tenant admeter.TenantID) ([]*admeter.RightsRequest, error)
	DeviceRequests(ctx context.Context, tenant admeter.TenantID, fingerprint string) ([]*admeter.RightsRequest, error)
	OpenRequests(ctx context.Context) ([]*admeter.RightsRequest, error)
	AllRequests(ctx context.Context) ([]*admeter.RightsRequest, error)
}

// Store is the metadata store the suite exercises: every method the rest of
// admeter consumes, except the audit record (see RunAudit).
type Store interface {
	Versioner
	TenantStore
	CampaignStore
	GrantStore
	AccountStore
	UserStore
	SessionStore
	TokenStore
	RightsStore
}

// Hooks are the test's handles on a store's clock and random source. An
// Opener must make the store take every time it stamps from Now and every
// random number of its ids from Intn.
type Hooks struct {
	// Now returns the current time.
	Now func() time.Time
	// Intn returns a random int in [0, n): the random ids are drawn from
	// it, character by character, so that tests can force collisions.
	Intn func(n int) int
}

// Opener opens a new, empty store for one test, with hooks h, and closes it
// when tb ends. It calls tb.Fatal if it cannot.
type Opener func(tb testing.TB, h Hooks) Store

// testDB is a store opened for one test, with its clock and random source
// under the test's control.
type testDB struct {
	Store
	mu   sync.Mutex
	now  func() time.Time
	intn func(n int) int
}

// openDB opens a new store with open.
func openDB(tb testing.TB, open Opener) *testDB {
	tb.Helper()
	db := &testDB{now: time.Now, intn: rand.IntN}
	db.Store = open(tb, Hooks{
		Now: func() time.Time {
			db.mu.Lock()
			f := db.now
			db.mu.Unlock()
			return f()
		},
		Intn: func(n int) int {
			db.mu.Lock()
			f := db.intn
			db.mu.Unlock()
			return f(n)
		},
	})
	return db
}

// SetNow replaces the store's clock.
func (db *testDB) SetNow(f func() time.Time) {
	db.mu.Lock()
	defer db.mu.Unlock()
	db.now = f
}

// SetIntn replaces the store's random source.
func (db *testDB) SetIntn(f func(n int) int) {
	db.mu.Lock()
	defer db.mu.Unlock()
	db.intn = f
}

// test is one behavioural test of the suite.
type test struct {
	name string
	fn   func(t *testing.T, open Opener)
}

// runTests runs tests as subtests of t.
func runTests(t *testing.T, open Opener, tests []test) {
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open) })
	}
}

// Run runs every area of the suite against the stores open returns, except
// the audit record (RunAudit).
func Run(t *testing.T, open Opener) {
	t.Run("Tenants", func(t *testing.T) { RunTenants(t, open) })
	t.Run("Campaigns", func(t *testing.T) { RunCampaigns(t, open) })
	t.Run("Grants", func(t *testing.T) { RunGrants(t, open) })
	t.Run("Accounts", func(t *testing.T) { RunAccounts(t, open) })
	t.Run("Users", func(t *testing.T) { RunUsers(t, open) })
	t.Run("Sessions", func(t *testing.T) { RunSessions(t, open) })
	t.Run("Tokens", func(t *testing.T) { RunTokens(t, open) })
	t.Run("Rights", func(t *testing.T) { RunRights(t, open) })
	t.Run("AudienceLedger", func(t *testing.T) { RunAudienceLedger(t, open) })
	t.Run("Incidents", func(t *testing.T) { RunIncidents(t, open) })
	t.Run("SocialSettings", func(t *testing.T) { RunSocialSettings(t, open) })
}

// RunTenants tests creating and finding tenants, and the change counter.
func RunTenants(t *testing.T, open Opener) {
	runTests(t, open, []test{
		{"Version", testVersion},
		{"CreateTenant", testCreateTenant},
		{"Tenant_NotFound", testTenant_NotFound},
	})
}

// RunCampaigns tests campaigns and placements.
func RunCampaigns(t *testing.T, open Opener) {
	runTests(t, open, []test{
		{"CreateCampaign", testCreateCampaign},
		{"Campaign_TenantIsolation", testCampaign_TenantIsolation},
		{"Campaign_CanceledContext", testCampaign_CanceledContext},
		{"ConcurrentWrites", testConcurrentWrites},
		{"UpdateCampaign", testUpdateCampaign},
		{"PlacementMediaTenant", testPlacementMediaTenant},
		{"CampaignAttribution", testCampaignAttribution},
		{"PlacementCategories", testPlacementCategories},
		{"PlacementPrice", testPlacementPrice},
		{"CampaignFrequencyThreshold", testCampaignFrequencyThreshold},
	})
}

// RunGrants tests grants and the campaigns they open to agencies.
func RunGrants(t *testing.T, open Opener) {
	runTests(t, open, []test{
		{"CreateGrant", testCreateGrant},
		{"CreateGrant_UpdatesLiveGrant", testCreateGrant_UpdatesLiveGrant},
		{"Grants_IsolationAndRevocation", testGrants_IsolationAndRevocation},
		{"CreateGrant_Concurrent", testCreateGrant_Concurrent},
	})
}

// RunAccounts tests registration and the account life cycle.
func RunAccounts(t *testing.T, open Opener) {
	runTests(t, open, []test{
		{"CreditCodeHelper", testCreditCodeHelper},
		{"RegisterTenant", testRegisterTenant},
		{"SetTenantStatus", testSetTenantStatus},
		{"UpdateRegistration", testUpdateRegistration},
		{"Tenants", testTenants},
		{"TenantByTokenHash_Scopes", testTenantByTokenHash_Scopes},
		{"CreateTenant_Registration", testCreateTenant_Registration},
	})
}

// RunUsers tests users and their credentials.
func RunUsers(t *testing.T, open Opener) {
	runTests(t, open, []test{
		{"CreateUser", testCreateUser},
		{"User_TenantIsolation", testUser_TenantIsolation},
		{"UpdateUser", testUpdateUser},
		{"DeleteUser", testDeleteUser},
		{"Credentials", testCredentials},
	})
}

// RunSessions tests signed-in sessions.
func RunSessions(t *testing.T, open Opener) {
	runTests(t, open, []test{
		{"CreateSession", testCreateSession},
		{"SessionByTokenHash", testSessionByTokenHash},
		{"Session_PendingTenant", testSession_PendingTenant},
		{"TouchSession", testTouchSession},
		{"DeleteSessions", testDeleteSessions},
	})
}

// RunTokens tests API tokens.
func RunTokens(t *testing.T, open Opener) {
	runTests(t, open, []test{
		{"CreateTenant_BootstrapToken", testCreateTenant_BootstrapToken},
		{"CreateToken", testCreateToken},
		{"Tokens_TenantIsolationAndRevocation", testTokens_TenantIsolationAndRevocation},
		{"TokenByHash_TenantStatus", testTokenByHash_TenantStatus},
		{"TouchToken", testTouchToken},
		{"TokenExpiry", testTokenExpiry},
	})
}

// RunRights tests end users' rights requests.
func RunRights(t *testing.T, open Opener) {
	runTests(t, open, []test{
		{"RightsRequests", testRightsRequests},
	})
}

// mustCreateTenant creates an advertiser named name whose token is
// "token-"+name.
func mustCreateTenant(tb testing.TB, db *testDB, name string) *admeter.Tenant {
	tb.Helper()
	t := &admeter.Tenant{Name: name, Kind: admeter.TenantAdvertiser}
	if err := db.CreateTenant(context.Background(), t, sha256.Sum256([]byte("token-"+name))); err != nil {
		tb.Fatal(err)
	}
	return t
}

// mustVersion returns the change counter.
func mustVersion(tb testing.TB, db *testDB) int64 {
	tb.Helper()
	v, err := db.Version(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// newCampaign returns a valid campaign of tenant with n placements.
func newCampaign(tenant admeter.TenantID, name string, n int) *admeter.Campaign {
	c := &admeter.Campaign{
		Tenant:     tenant,
		Name:       name,
		LandingURL: "https://shop.example.com/spring?utm_source=admeter",
	}
	for i := range n {
		c.Placements = append(c.Placements, admeter.Placement{
			Name:  fmt.Sprintf("banner %d", i),
			Media: fmt.Sprintf("media-%d.example.com", i%3),
		})
	}
	return c
}
