package main

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestHTTPErrorLogRedactsAddresses(t *testing.T) {
	var buf bytes.Buffer
	l := httpErrorLog(slog.New(slog.NewTextHandler(&buf, nil)))
	l.Printf("http: panic serving 203.0.113.9:5555: boom")
	l.Printf("http: TLS handshake error from [2408:8756:c52:1b0::7f31]:443: EOF")
	l.Printf("http: TLS handshake error from 2408:8756:c52:1b0:15a1:4b1d:9c2e:7f31: EOF")
	out := buf.String()
	for _, raw := range []string{"203.0.113.9", "2408:8756", "7f31"} {
		if strings.Contains(out, raw) {
			t.Errorf("log holds %s:\n%s", raw, out)
		}
	}
	if strings.Count(out, "[client]") != 3 {
		t.Errorf("addresses not replaced:\n%s", out)
	}
}
