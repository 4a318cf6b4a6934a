package main

import (
	"log"
	"log/slog"
	"strings"

	"github.com/admeter/admeter/internal/redact"
)

// redactingWriter writes the net/http server's error log lines (such as
// "http: panic serving 203.0.113.9:5555: …", which name the client's address)
// to slog with every IP address replaced, so that privacy invariant 1 (no raw IP in a log
// line) holds for messages admeter does not write itself.
type redactingWriter struct{ logger *slog.Logger }

func (w redactingWriter) Write(p []byte) (int, error) {
	msg := strings.TrimRight(string(p), "\n")
	w.logger.Warn(redact.IPs(msg), "component", "http")
	return len(p), nil
}

// httpErrorLog returns the net/http server's error logger.
func httpErrorLog(logger *slog.Logger) *log.Logger {
	return log.New(redactingWriter{logger}, "", 0)
}
