package optout

import (
	"sync"

	"github.com/admeter/admeter"
)

// Set is a concurrency-safe set of opted-out pseudonyms. The zero value is an
// empty set ready to use. Reads take a shared lock only, so Contains scales
// across the collector's request goroutines.
type Set struct {
	mu sync.RWMutex
	m  map[admeter.Pseudonym]struct{}
}

// Contains reports whether p has opted out. The zero pseudonym never has.
func (s *Set) Contains(p admeter.Pseudonym) bool {
	if p.IsZero() {
		return false
	}
	s.mu.RLock()
	_, ok := s.m[p]
	s.mu.RUnlock()
	return ok
}

// Add records that p opted out. Adding the zero pseudonym does nothing.
func (s *Set) Add(ps ...admeter.Pseudonym) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = make(map[admeter.Pseudonym]struct{}, len(ps))
	}
	for _, p := range ps {
		if !p.IsZero() {
			s.m[p] = struct{}{}
		}
	}
}

// Len returns the number of opted-out pseudonyms.
func (s *Set) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.m)
}
