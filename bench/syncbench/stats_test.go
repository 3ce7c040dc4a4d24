package syncbench

import "testing"

func TestSummarise(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []float64
		want Dist
	}{
		{"empty", nil, Dist{}},
		{"one", []float64{7}, Dist{N: 1, P50: 7, P95: 7, P99: 7, Max: 7}},
		// Nearest rank: p50 of 1..10 is the 5th value, p95 and p99 the 10th.
		{"ten unsorted", []float64{10, 1, 9, 2, 8, 3, 7, 4, 6, 5}, Dist{N: 10, P50: 5, P95: 10, P99: 10, Max: 10}},
		{"hundred", seq(100), Dist{N: 100, P50: 50, P95: 95, P99: 99, Max: 100}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := append([]float64(nil), tc.in...)
			if got := Summarise(in); got != tc.want {
				t.Errorf("Summarise = %+v, want %+v", got, tc.want)
			}
			for i := range in {
				if in[i] != tc.in[i] {
					t.Fatal("Summarise modified its input")
				}
			}
		})
	}
}

func seq(n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = float64(i + 1)
	}
	return out
}
