package party

import (
	"testing"
	"time"
)

var sinkCorrection Correction

// BenchmarkDecide measures one correction decision over a mix of inputs:
// in sync, nudge, seek, paused and at the end.
func BenchmarkDecide(b *testing.B) {
	inputs := []CorrectionInput{
		playing(100.01, 100, 1),
		playing(100.2, 100, 1.5),
		playing(97, 100, 2),
		{Position: 10.2, Paused: true, Speed: 1, Expected: 10, RoomRate: 1, RoomKnown: true},
		{Position: 1439.96, Paused: true, AtEOF: true, Speed: 1, Expected: 1440, RoomPlaying: true, RoomRate: 1, RoomKnown: true},
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		sinkCorrection = Decide(inputs[i%len(inputs)])
	}
}

// BenchmarkTick measures what the room session does per measurement: server
// time from the clock offset, the expected position, the jitter filter,
// Decide and the indicator.
func BenchmarkTick(b *testing.B) {
	room := RoomState{IsPlaying: true, CurrentTime: 100, PlaybackRate: 1, UpdatedAt: t0, MediaDuration: 3600}
	var clock ClockOffset
	_ = clock.AddSample(sample(t0, 5*time.Second, 10*time.Millisecond, 10*time.Millisecond))
	var f DriftFilter
	local := t0.Add(-5 * time.Second)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		now := local.Add(time.Duration(i) * 50 * time.Millisecond)
		in := room.Input(clock.ServerNow(now))
		in.Position = in.Expected + 0.03
		in.Speed = 1
		c := Decide(f.Apply(in))
		_ = Indicate(in, c)
		sinkCorrection = c
	}
}
