package main

import (
	"math"
	"slices"
	"time"
)

// quantile returns the q-quantile (0 < q ≤ 1) of the sorted latencies by the
// nearest-rank method, or 0 when there are none.
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// merge concatenates the per-worker latencies and sorts them.
func merge(parts [][]time.Duration) []time.Duration {
	var all []time.Duration
	for _, p := range parts {
		all = append(all, p...)
	}
	slices.Sort(all)
	return all
}
