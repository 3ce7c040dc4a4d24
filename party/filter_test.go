package party

import (
	"math"
	"testing"
)

func TestDriftFilter(t *testing.T) {
	tests := []struct {
		name    string
		samples []float64
		want    float64 // median after the last sample
	}{
		{"empty", nil, 0},
		{"one sample is used alone", []float64{0.7}, 0.7},
		{"two: mean of both", []float64{0.01, 0.03}, 0.02},
		{"one outlier ignored", []float64{0.01, 0.012, 0.8, 0.011, 0.009}, 0.011},
		{"two outliers ignored", []float64{0.01, 3, 0.012, -2, 0.011}, 0.011},
		{"window slides: old samples drop out", []float64{5, 5, 5, 0.01, 0.02, 0.03, 0.01, 0.02}, 0.02},
		{"a real step shows after 3 samples", []float64{0, 0, 0, 0, 0, 1, 1, 1}, 1},
		{"non-finite samples ignored", []float64{0.01, nan(), 0.02, inf()}, 0.015},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f DriftFilter
			for _, s := range tt.samples {
				f.Add(s)
			}
			if got := f.Median(); !near(got, tt.want, 1e-12) {
				t.Fatalf("Median = %v, want %v", got, tt.want)
			}
		})
	}
}

// A single jittery position report must not turn into a seek: the raw input
// would seek, the filtered one does not.
func TestDriftFilterStopsJitterSeek(t *testing.T) {
	var f DriftFilter
	var seeks int
	for i, pos := range []float64{100.01, 101.02, 102.012, 103.8, 104.011, 105.0, 106.02} {
		exp := 100 + float64(i)
		raw := playing(pos, exp, 1)
		c := Decide(f.Apply(raw))
		if c.Has(ActionSeek) {
			seeks++
		}
		if i == 3 && !Decide(raw).Has(ActionSeek) {
			t.Fatal("the raw outlier should have asked for a seek")
		}
	}
	if seeks != 0 {
		t.Fatalf("%d seeks from one outlier", seeks)
	}
	// A real jump (host seek) after Reset acts on the first sample.
	f.Reset()
	if f.Len() != 0 {
		t.Fatal("Reset kept samples")
	}
	if c := Decide(f.Apply(playing(50, 300, 1))); !c.Has(ActionSeek) || c.SeekTo != 300 {
		t.Fatalf("after Reset: %v", c.Actions)
	}
}

func TestDriftFilterApplySkips(t *testing.T) {
	var f DriftFilter
	for _, in := range []CorrectionInput{
		{Position: 5, Expected: 1, RoomKnown: true, Detached: true},
		{Position: 5, Expected: 1},
		{Position: 5, Expected: 1, RoomKnown: true, SeekInFlight: true},
		{Position: nan(), Expected: 1, RoomKnown: true},
	} {
		if out := f.Apply(in); math.Float64bits(out.Position) != math.Float64bits(in.Position) {
			t.Fatalf("Apply changed %+v", in)
		}
	}
	if f.Len() != 0 {
		t.Fatalf("skipped inputs were recorded: %d", f.Len())
	}
}
