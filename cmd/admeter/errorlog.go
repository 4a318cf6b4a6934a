package main

import (
	"log"
	"log/slog"
	"regexp"
	"strings"
)

// ipPattern matches IPv4 and IPv6 addresses (with an optional port) in the
// net/http server's own error messages, such as "http: panic serving
// 203.0.113.9:5555: …" or TLS handshake errors, which name the client's
// address.
var ipPattern = regexp.MustCompile(`\[?(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F]{0,4}(?::[0-9a-fA-F]{0,4}){2,7})\]?(?::\d+)?`)

// redactingWriter writes the net/http server's error log lines to slog with
// every IP address replaced, so that privacy invariant 1 (no raw IP in a log
// line) holds for messages admeter does not write itself.
type redactingWriter struct{ logger *slog.Logger }

func (w redactingWriter) Write(p []byte) (int, error) {
	msg := strings.TrimRight(string(p), "\n")
	w.logger.Warn(ipPattern.ReplaceAllString(msg, "[client]"), "component", "http")
	return len(p), nil
}

// httpErrorLog returns the net/http server's error logger.
func httpErrorLog(logger *slog.Logger) *log.Logger {
	return log.New(redactingWriter{logger}, "", 0)
}
