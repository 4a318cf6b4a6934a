// Package api is admeter's JSON management API: tenants and campaigns now,
// reports and account management as they arrive. Handlers return a value and
// an error; one wrapper turns the value into JSON and the error into the
// {"error":{"code":…,"message":…}} shape with the status from one table.
//
// Two kinds of caller exist: the operator (one token kept in the data
// directory) and tenants (one token each, shown once at creation and stored
// only as a SHA-256 hash). A tenant sees only its own campaigns; another
// tenant's campaign is "not found", never "forbidden", so its existence is not
// revealed.
package api
