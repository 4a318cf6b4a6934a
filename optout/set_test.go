package optout_test

import (
	"sync"
	"testing"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/optout"
)

func TestSet(t *testing.T) {
	var s optout.Set
	a, b := admeter.Pseudonym{1}, admeter.Pseudonym{2}
	if s.Contains(a) {
		t.Fatal("empty set contains a")
	}
	s.Add(a, admeter.Pseudonym{})
	if !s.Contains(a) || s.Contains(b) || s.Contains(admeter.Pseudonym{}) {
		t.Fatalf("after Add(a): Contains(a)=%v Contains(b)=%v", s.Contains(a), s.Contains(b))
	}
	if s.Len() != 1 {
		t.Fatalf("Len = %d, want 1 (the zero pseudonym is not stored)", s.Len())
	}
}

func TestSetConcurrent(t *testing.T) {
	var s optout.Set
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 1000 {
				p := admeter.Pseudonym{byte(i) + 1, byte(j), byte(j >> 8)}
				s.Add(p)
				if !s.Contains(p) {
					t.Errorf("lost %v", p)
				}
			}
		})
	}
	wg.Wait()
	if s.Len() != 8000 {
		t.Fatalf("Len = %d, want 8000", s.Len())
	}
}

func BenchmarkContains(b *testing.B) {
	var s optout.Set
	for i := range 100_000 {
		s.Add(admeter.Pseudonym{byte(i), byte(i >> 8), byte(i >> 16), 1})
	}
	p := admeter.Pseudonym{7, 7, 7, 7}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			s.Contains(p)
		}
	})
}
