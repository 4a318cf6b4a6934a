// Package metatest is the conformance suite of admeter's metadata stores:
// the behavioural tests that every implementation (package sqlite, package
// postgres) must pass, so that the rest of admeter can run on either.
//
// A store's test file calls Run, or the per-area functions (RunTenants,
// RunCampaigns, RunGrants, RunAccounts, RunUsers, RunSessions, RunTokens,
// RunRights), with an Opener that returns a new, empty store for each test:
//
//	func TestMetadataStore(t *testing.T) {
//		metatest.Run(t, func(tb testing.TB, h metatest.Hooks) metatest.Store {
//			db := mystore.New(...)
//			db.Now = h.Now     // the suite controls the clock
//			db.SetIntn(h.Intn) // and the random source of ids
//			...open, tb.Cleanup(close)...
//			return db
//		})
//	}
//
// Store lists the methods the suite exercises, grouped in one interface per
// area. Tests particular to one implementation (files, migrations from older
// schemas, raw SQL against the schema's constraints) stay in its package.
//
// RunAudit tests the audit record (AuditLog, AuditEntries, VerifyAudit) of
// either implementation through the hooks of AuditDB, tampering included.
// Session and Credentials are domain types
// (admeter.Session, admeter.Credentials), so neither store imports the
// other.
package metatest
