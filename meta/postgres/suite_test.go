package postgres_test

import (
	"testing"

	"github.com/admeter/admeter/meta/metatest"
	"github.com/admeter/admeter/meta/postgres"
)

// Compile-time check that *postgres.DB has the method set the suite tests.
var _ metatest.Store = (*postgres.DB)(nil)

// openStore opens a store in a fresh schema, with the suite's clock and
// random source, and closes it and drops the schema when the test ends.
func openStore(tb testing.TB, h metatest.Hooks) metatest.Store {
	tb.Helper()
	db := postgres.NewDB(testDSN)
	db.Schema = newSchema(tb)
	db.Now = h.Now
	db.SetIntn(h.Intn)
	if err := db.Open(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Error(err)
		}
	})
	return db
}

func TestTenants(t *testing.T)        { metatest.RunTenants(t, openStore) }
func TestCampaigns(t *testing.T)      { metatest.RunCampaigns(t, openStore) }
func TestGrants(t *testing.T)         { metatest.RunGrants(t, openStore) }
func TestAccounts(t *testing.T)       { metatest.RunAccounts(t, openStore) }
func TestUsers(t *testing.T)          { metatest.RunUsers(t, openStore) }
func TestSessions(t *testing.T)       { metatest.RunSessions(t, openStore) }
func TestTokens(t *testing.T)         { metatest.RunTokens(t, openStore) }
func TestRights(t *testing.T)         { metatest.RunRights(t, openStore) }
func TestIncidents(t *testing.T)      { metatest.RunIncidents(t, openStore) }
func TestSocialSettings(t *testing.T) { metatest.RunSocialSettings(t, openStore) }
