package party

import (
	"math"
	"testing"
)

func TestShouldRepublish(t *testing.T) {
	tests := []struct {
		name      string
		own, pub  float64
		inFlight  bool
		republish bool
	}{
		{"on track", 100, 100, false, false},
		{"0.3 s behind (buffering briefly)", 99.7, 100, false, false},
		{"exactly 0.5 s", 99.5, 100, false, false},
		{"0.6 s behind", 99.4, 100, false, true},
		{"2 s ahead", 102, 100, false, true},
		{"far off but seek in flight", 10, 100, true, false},
		{"NaN own position", math.NaN(), 100, false, false},
		{"infinite published", 100, math.Inf(1), false, false},
		{"at the end, clamped", 1439.96, 1440, false, false},
	}
	for _, tt := range tests {
		if got := ShouldRepublish(tt.own, tt.pub, tt.inFlight); got != tt.republish {
			t.Errorf("%s: ShouldRepublish = %v, want %v", tt.name, got, tt.republish)
		}
	}
}
