// Package auth holds the credential rules for enterprise user accounts
// (privacy policy 七(六): strong passwords, rate-limited login). It is a pure
// service package: no HTTP, no database, no logging; the API stores what it
// returns and calls it on each login.
//
//   - Passwords are hashed with argon2id (HashPassword, VerifyPassword) in PHC
//     format, $argon2id$v=19$m=65536,t=2,p=1$<salt>$<hash>. DefaultParams are
//     m=64 MiB, t=2, p=1: about 100 ms of one core per hash on the deployment
//     machine, above the OWASP floor (m=19 MiB, t=2, p=1). Each hash records
//     its parameters, and VerifyPassword reports when a stored hash should be
//     upgraded. VerifyDummy evens out the time of logins to unknown accounts.
//   - CheckPassword applies the password policy: 12 to 128 characters, at
//     least 5 distinct ones, not containing the user's name, email or
//     company, not a common password, and not a common word with only
//     digits or symbols around it. Its list of common passwords is generated
//     from the patterns of published leak lists (see common.go); it is not a
//     breach corpus.
//   - TOTP second factor (RFC 6238: SHA-1, 6 digits, 30 s): NewTOTPSecret,
//     TOTPURI for authenticator apps, and VerifyTOTP, which accepts one step
//     of clock skew and refuses replays of a used step.
//   - Throttle limits logins in memory: an account is locked after 5
//     consecutive failures for 15 minutes, doubling per further failure up to
//     24 hours (LockoutFor, also for failure counts persisted by the API), and
//     each client network (/24 or /48, via admeter.BlockOf) gets 20 attempts a
//     minute.
//   - Session tokens (NewSessionToken: only the SHA-256 is stored) and
//     HMAC-based CSRF tokens bound to the session (CSRFToken, CheckCSRF).
//
// Secrets are compared in constant time throughout. Nothing here keeps a raw
// client address (Throttle keeps only the network) or logs anything.
package auth
