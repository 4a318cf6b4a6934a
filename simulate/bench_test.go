package simulate

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkGenerate measures plan generation, URLs and batch bodies built.
func BenchmarkGenerate(b *testing.B) {
	cfg := testConfig(b)
	cfg.Devices = 20000
	b.ReportAllocs()
	var events int
	for b.Loop() {
		p, err := Generate(cfg)
		if err != nil {
			b.Fatal(err)
		}
		events += p.Events()
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkTruth measures counting a plan.
func BenchmarkTruth(b *testing.B) {
	cfg := testConfig(b)
	cfg.Devices = 20000
	p, err := Generate(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		p.Truth()
	}
	b.ReportMetric(float64(p.Events())*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkSender sends a plan to a server that answers at once, over
// loopback: the sender's own ceiling.
func BenchmarkSender(b *testing.B) {
	cfg := testConfig(b)
	cfg.Devices = 2000
	p, err := Generate(cfg)
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "0")
	}))
	defer srv.Close()
	s, err := NewSender(srv.URL, DefaultSenderConfig(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.ReportAllocs()
	var requests int64
	for b.Loop() {
		st, err := s.Send(context.Background(), p)
		if err != nil {
			b.Fatal(err)
		}
		requests += st.Requests
	}
	b.ReportMetric(float64(requests)/b.Elapsed().Seconds(), "requests/s")
}
