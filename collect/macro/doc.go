// Package macro parses Miaozhen / MMA China monitoring URLs: the impression
// pixel (/x) and the click redirect (/r) that media and the MMA China SDK
// call. It is pure: no I/O, no logging, no clock. The collector calls
// [ParseTarget] with the raw request target on every request, so the parser
// is allocation-light: a value is a substring of the target unless it had to
// be percent-decoded.
//
// # URL forms
//
// All of these are accepted, for /x (impression) and /r (click) alike:
//
//	/x/k=2299094&p=8AGuD&mo=0&m2=…       parameters right after the path, no '?'
//	/x?k=2299094&p=8AGuD&mo=0&m2=…       ordinary query string
//	/x/k=2299094&p=8AGuD?mo=0&m2=…       both; the two parts are merged
//	/x.gif?k=…  /r.gif?k=…               JS tracker and legacy pixel paths
//	/r.gif?^k=2000238^p=6qAku^o=…        legacy PC form, '^'-separated
//
// An absolute-form target (http://host/x/…) is accepted too. [Parse] takes
// what follows the endpoint prefix when the caller has already routed on it.
//
// # Values
//
//   - o= is the redirect of a click. It is always the last parameter and its
//     value is everything after "o=", verbatim and not decoded: it may hold
//     its own '&', '=', '?' and '#'. Any parameter after it is part of it.
//     [DecodeRedirect] decodes it when it is itself URL-encoded.
//   - Every other value is percent-decoded once, and '+' decodes to a space.
//     The path form is treated as form encoding like the query form because
//     the MMA SDK builds it with Java's URLEncoder, which writes a space as
//     '+' (device models such as "Redmi+Note+8").
//   - A value with an invalid escape (a '%' not followed by two hex digits)
//     is kept raw, undecoded.
//   - A value that is empty, longer than [MaxValueLen] bytes before decoding,
//     or still an unreplaced media macro ([IsUnreplacedMacro], checked before
//     and after decoding) is absent: its field stays "".
//   - When a parameter appears more than once, the first present value wins;
//     an absent first occurrence (empty or a macro) does not hide a later
//     real one.
//   - Keys are case-sensitive and lowercase, as Miaozhen and the MMA SDK write
//     them: "K" is not "k". Keys are not percent-decoded. Unknown keys are
//     ignored without decoding their values.
//   - A target longer than [MaxTargetLen] bytes is refused with [ErrTooLong].
//
// # Errors
//
// The errors are sentinel [*admeter.Error] values, so errors.Is and
// admeter.ErrorCode both work on them. A URL without a campaign (k) or a
// placement (p) is an error, but ParseTarget still returns the endpoint and
// everything else it parsed, so that a click can still be redirected.
//
// # Privacy
//
// [Params] holds raw device identifiers, the raw client IP and a precise
// location, in memory only. Its String, GoString and LogValue methods print
// the campaign, the placement and the names of the fields present, never a
// value, so a Params passed to a logger or a format verb leaks nothing. The
// error messages never quote the URL.
package macro
