// Package redact removes what must never reach a log line from messages
// that admeter does not write itself: the error messages of the HTTP
// servers it runs (net/http's, fasthttp's), which name the client's
// address. Privacy invariant 1 forbids a raw IP address in any log.
package redact

import "regexp"

// ipPattern matches IPv4 and IPv6 addresses, with an optional port and
// brackets, such as "203.0.113.9:5555" or "[2408:8756::7f31]:443".
var ipPattern = regexp.MustCompile(`\[?(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F]{0,4}(?::[0-9a-fA-F]{0,4}){2,7})\]?(?::\d+)?`)

// IPs returns msg with every IP address (and its port) replaced by
// "[client]".
func IPs(msg string) string { return ipPattern.ReplaceAllString(msg, "[client]") }
