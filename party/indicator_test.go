package party

import (
	"math"
	"testing"
)

func TestIndicate(t *testing.T) {
	tests := []struct {
		name   string
		in     CorrectionInput
		want   Indicator
		inSync bool
		text   string
	}{
		{"in sync", playing(100.008, 100, 1), Indicator{StatusInSync, 8}, true, "in sync +8 ms"},
		{"in sync behind", playing(99.992, 100, 1), Indicator{StatusInSync, -8}, true, "in sync -8 ms"},
		{"zero drift", playing(100, 100, 1), Indicator{StatusInSync, 0}, true, "in sync +0 ms"},
		{"nudging is syncing", playing(100.3, 100, 1), Indicator{StatusSyncing, 300}, true, "syncing +300 ms"},
		{"nudge holding is syncing", with(playing(100.03, 100, 1), func(in *CorrectionInput) { in.Speed = 0.98 }),
			Indicator{StatusSyncing, 30}, true, ""},
		{"restoring rate is in sync", with(playing(100.002, 100, 1), func(in *CorrectionInput) { in.Speed = 0.98 }),
			Indicator{StatusInSync, 2}, true, ""},
		{"seek is syncing", playing(103.5, 100, 1), Indicator{StatusSyncing, 3500}, false, "syncing +3500 ms"},
		{"seek in flight is syncing", with(playing(100, 100, 1), func(in *CorrectionInput) { in.SeekInFlight = true }),
			Indicator{StatusSyncing, 0}, true, ""},
		{"out of sync while a seek waits", with(playing(97, 100, 1), func(in *CorrectionInput) { in.SeekInFlight = true }),
			Indicator{StatusSyncing, -3000}, false, ""},
		{"detached shows drift", with(playing(95.79, 100, 1), func(in *CorrectionInput) { in.Detached = true }),
			Indicator{StatusDetached, -4210}, false, "detached -4210 ms"},
		{"detached in place", with(playing(100, 100, 1), func(in *CorrectionInput) { in.Detached = true }),
			Indicator{StatusDetached, 0}, false, ""},
		{"unknown room", CorrectionInput{Position: 5}, Indicator{StatusUnknown, 0}, false, "unknown"},
		{"unknown room, detached", CorrectionInput{Position: 5, Detached: true}, Indicator{StatusDetached, 0}, false, "detached +0 ms"},
		{"at end is in sync", with(playing(1399, 1440, 1), func(in *CorrectionInput) { in.AtEOF = true; in.Paused = true }),
			Indicator{StatusInSync, 0}, true, ""},
		{"paused 1.5 s off: syncing (seek)", CorrectionInput{Position: 11.5, Paused: true, Speed: 1, Expected: 10, RoomRate: 1, RoomKnown: true},
			Indicator{StatusSyncing, 1500}, true, ""},
		{"NaN position", playing(math.NaN(), 100, 1), Indicator{StatusUnknown, 0}, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Indicate(tt.in, Decide(tt.in))
			if got != tt.want {
				t.Fatalf("Indicate = %+v, want %+v", got, tt.want)
			}
			if got.InSync() != tt.inSync {
				t.Fatalf("InSync = %v, want %v", got.InSync(), tt.inSync)
			}
			if tt.text != "" && got.String() != tt.text {
				t.Fatalf("String = %q, want %q", got.String(), tt.text)
			}
		})
	}
}

// In sync up to 2 s inclusive (docs/design.md §7.7). Decide itself always
// corrects beyond 0.5 s, so the edges are tested on the indicator directly.
func TestIndicatorThreshold(t *testing.T) {
	tests := []struct {
		ind  Indicator
		want bool
	}{
		{Indicator{StatusSyncing, 2000}, true},
		{Indicator{StatusSyncing, -2000}, true},
		{Indicator{StatusSyncing, 2001}, false},
		{Indicator{StatusOutOfSync, 2500}, false},
		{Indicator{StatusDetached, 0}, false},
		{Indicator{StatusUnknown, 0}, false},
	}
	for _, tt := range tests {
		if got := tt.ind.InSync(); got != tt.want {
			t.Errorf("%v: InSync %v, want %v", tt.ind, got, tt.want)
		}
	}
	// A drift beyond 2 s with no correction running shows out of sync.
	in := playing(102.5, 100, 1)
	if got := Indicate(in, Correction{Drift: 2.5}); got.Status != StatusOutOfSync || got.String() != "out of sync +2500 ms" {
		t.Fatalf("got %v", got)
	}
	if s := Status(99).String(); s != "status(99)" {
		t.Fatalf("bad status string %q", s)
	}
}
