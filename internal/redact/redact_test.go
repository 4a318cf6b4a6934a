package redact

import (
	"strings"
	"testing"
)

func TestIPs(t *testing.T) {
	tests := []struct {
		msg  string
		raws []string
	}{
		{"http: panic serving 203.0.113.9:5555: boom", []string{"203.0.113.9"}},
		{"http: TLS handshake error from [2408:8756:c52:1b0::7f31]:443: EOF", []string{"2408:8756", "7f31"}},
		{"http: TLS handshake error from 2408:8756:c52:1b0:15a1:4b1d:9c2e:7f31: EOF", []string{"2408:8756", "7f31"}},
		{`error when serving connection "127.0.0.1:18091"<->"61.135.169.121:40412": error when reading request headers`, []string{"127.0.0.1", "61.135.169.121", "40412"}},
		{"no address here", nil},
	}
	for _, tt := range tests {
		got := IPs(tt.msg)
		for _, raw := range tt.raws {
			if strings.Contains(got, raw) {
				t.Errorf("IPs(%q) = %q: still holds %s", tt.msg, got, raw)
			}
		}
		if len(tt.raws) == 0 && got != tt.msg {
			t.Errorf("IPs(%q) = %q, want it unchanged", tt.msg, got)
		}
	}
}
