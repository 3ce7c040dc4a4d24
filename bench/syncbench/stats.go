package syncbench

import (
	"math"
	"sort"
)

// Dist summarises a set of measurements.
type Dist struct {
	N                  int
	P50, P95, P99, Max float64
}

// Summarise computes the nearest-rank percentiles of xs (xs is not modified).
func Summarise(xs []float64) Dist {
	if len(xs) == 0 {
		return Dist{}
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	rank := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(s)))) - 1
		return s[max(0, min(i, len(s)-1))]
	}
	return Dist{N: len(s), P50: rank(0.50), P95: rank(0.95), P99: rank(0.99), Max: s[len(s)-1]}
}
