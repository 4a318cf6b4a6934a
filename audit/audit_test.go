package audit_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/admeter/admeter/audit"
)

func TestRecordReopenVerify(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit", "audit.log")
	l, err := audit.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			if err := l.Record(ctx, audit.Entry{Actor: "tenant:t_a", Action: "test", Outcome: "ok", Details: map[string]any{"i": i}}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	if n, err := audit.Verify(path); err != nil || n != 20 {
		t.Fatalf("Verify = %d, %v; want 20, nil", n, err)
	}
	// A torn line is cut off on reopen and the chain continues.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"seq":21,"pr`)
	f.Close()
	if _, err := audit.Verify(path); err == nil {
		t.Fatal("Verify accepted a torn last line")
	}
	l, err = audit.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Record(ctx, audit.Entry{Actor: "operator", Action: "test", Outcome: "ok"}); err != nil {
		t.Fatal(err)
	}
	l.Close()
	if n, err := audit.Verify(path); err != nil || n != 21 {
		t.Fatalf("after reopen Verify = %d, %v; want 21, nil", n, err)
	}
	es, err := audit.Entries(path)
	if err != nil || len(es) != 21 || es[20].Actor != "operator" || es[0].Time.IsZero() {
		t.Fatalf("Entries = %d entries, %v", len(es), err)
	}
}

func TestTamperDetected(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tamper func(lines []string) []string
	}{
		{"edit", func(ls []string) []string { ls[1] = strings.Replace(ls[1], `"ok"`, `"no"`, 1); return ls }},
		{"remove", func(ls []string) []string { return append(ls[:1], ls[2:]...) }},
		{"swap", func(ls []string) []string { ls[0], ls[1] = ls[1], ls[0]; return ls }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "audit.log")
			l, err := audit.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			for range 3 {
				if err := l.Record(context.Background(), audit.Entry{Actor: "system", Action: "x", Outcome: "ok"}); err != nil {
					t.Fatal(err)
				}
			}
			l.Close()
			data, _ := os.ReadFile(path)
			lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
			if err := os.WriteFile(path, []byte(strings.Join(tc.tamper(lines), "\n")+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := audit.Verify(path); err == nil {
				t.Fatal("Verify accepted a tampered log")
			}
			if _, err := audit.Open(path); err == nil {
				t.Fatal("Open accepted a tampered log")
			}
		})
	}
}
