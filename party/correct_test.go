package party

import (
	"math"
	"strings"
	"testing"
	"time"
)

// playing is a follower playing at speed rate against a playing room at
// rate, drift = pos − exp.
func playing(pos, exp, rate float64) CorrectionInput {
	return CorrectionInput{Position: pos, Speed: rate, Expected: exp, RoomPlaying: true, RoomRate: rate, RoomKnown: true}
}

// with returns in changed by f, for table rows.
func with(in CorrectionInput, f func(*CorrectionInput)) CorrectionInput {
	f(&in)
	return in
}

func TestDecide(t *testing.T) {
	tests := []struct {
		name    string
		in      CorrectionInput
		actions Action
		seekTo  float64
		speed   float64 // checked when a speed action is set
		reason  string  // substring of Reason
	}{
		// Dead zone and thresholds at rate 1.
		{"in sync", playing(100, 100, 1), 0, 0, 0, "in sync"},
		{"drift 8 ms: dead zone", playing(100.008, 100, 1), 0, 0, 0, "in sync"},
		{"drift exactly 10 ms: dead zone", playing(100.010, 100, 1), 0, 0, 0, ""},
		{"drift 11 ms ahead: slow down", playing(100.011, 100, 1), ActionNudge, 0, 0.9927, "speed 0.9927"},
		{"drift 16 ms ahead: slow down", playing(100.016, 100, 1), ActionNudge, 0, 0.9893, "speed 0.9893"},
		{"drift 41 ms ahead: slow down", playing(100.041, 100, 1), ActionNudge, 0, 0.9727, "speed 0.9727"},
		{"drift 60 ms behind: speed up", playing(99.94, 100, 1), ActionNudge, 0, 1.04, ""},
		{"drift 0.3 s ahead: bounded to -5 %", playing(100.3, 100, 1), ActionNudge, 0, 0.95, ""},
		{"drift 0.5 s behind: bounded to +5 %", playing(99.5, 100, 1), ActionNudge, 0, 1.05, ""},
		{"drift 0.51 s ahead: seek", playing(100.51, 100, 1), ActionSeek, 100, 0, "seek to 100.000"},
		{"drift 3 s behind: seek", playing(97, 100, 1), ActionSeek, 100, 0, ""},
		{"late joiner at 0: seek", playing(0, 1312.4, 1), ActionSeek, 1312.4, 0, ""},
		{"landing 0.16 s behind: seek again", with(playing(99.84, 100, 1), func(in *CorrectionInput) { in.Landing = true }),
			ActionSeek, 100, 0, "landed late"},
		{"landing 60 ms behind: nudge", with(playing(99.94, 100, 1), func(in *CorrectionInput) { in.Landing = true }),
			ActionNudge, 0, 1.04, ""},

		// Rates other than 1: the bound is ±5 % of the room rate.
		{"rate 0.5, 0.2 s ahead", playing(50.2, 50, 0.5), ActionNudge, 0, 0.475, ""},
		{"rate 0.5, 45 ms behind", playing(49.955, 50, 0.5), ActionNudge, 0, 0.525, ""},
		{"rate 1.5, 60 ms ahead", playing(50.06, 50, 1.5), ActionNudge, 0, 1.46, ""},
		{"rate 1.5, 0.4 s behind", playing(49.6, 50, 1.5), ActionNudge, 0, 1.575, ""},
		{"rate 2, 0.1 s ahead", playing(50.1, 50, 2), ActionNudge, 0, 1.9333, ""},
		{"rate 2, 0.45 s behind", playing(49.55, 50, 2), ActionNudge, 0, 2.1, ""},
		{"rate 2, 0.6 s ahead: seek", playing(50.6, 50, 2), ActionSeek, 50, 0, ""},
		{"rate 2, in sync", playing(50.004, 50, 2), 0, 0, 0, ""},

		// Hysteresis: a running nudge (speed ≠ rate) continues down to 20 ms.
		{"nudging, drift 30 ms: continue", with(playing(100.03, 100, 1), func(in *CorrectionInput) { in.Speed = 0.9727 }),
			ActionNudge, 0, 0.98, ""},
		{"nudging, drift 30 ms, speed close: hold", with(playing(100.03, 100, 1), func(in *CorrectionInput) { in.Speed = 0.981 }),
			0, 0, 0, "nudge holds"},
		{"nudging, drift 1.5 ms: restore", with(playing(100.0015, 100, 1), func(in *CorrectionInput) { in.Speed = 0.98 }),
			ActionRestoreRate, 0, 1, "speed 1"},
		{"nudging, drift -1.5 ms: restore", with(playing(99.9985, 100, 1), func(in *CorrectionInput) { in.Speed = 1.03 }),
			ActionRestoreRate, 0, 1, ""},
		{"nudging at rate 2, drift 1.5 ms: restore 2", with(playing(50.0015, 50, 2), func(in *CorrectionInput) { in.Speed = 1.95 }),
			ActionRestoreRate, 0, 2, ""},
		{"not nudging, drift 9 ms: nothing", playing(100.009, 100, 1), 0, 0, 0, ""},
		{"overshoot past zero while nudging", with(playing(99.97, 100, 1), func(in *CorrectionInput) { in.Speed = 0.96 }),
			ActionNudge, 0, 1.02, ""},

		// Room rate changed (host set 1.5) while the player is at 1.
		{"rate change, in sync: set the room rate", with(playing(10, 10, 1.5), func(in *CorrectionInput) { in.Speed = 1 }),
			ActionRestoreRate, 0, 1.5, ""},
		{"rate change, drift 0.8 s: seek and set rate", with(playing(9.2, 10, 1.5), func(in *CorrectionInput) { in.Speed = 1 }),
			ActionSeek | ActionRestoreRate, 10, 1.5, ""},
		{"unknown speed reads as the room rate", with(playing(10, 10, 1), func(in *CorrectionInput) { in.Speed = 0 }), 0, 0, 0, ""},
		{"room rate 0 reads as 1", with(playing(10.3, 10, 0), func(in *CorrectionInput) { in.Speed = 1 }), ActionNudge, 0, 0.95, ""},

		// Play/pause.
		{"room plays, player paused in place", with(playing(100.05, 100, 1), func(in *CorrectionInput) { in.Paused = true }),
			ActionPlay, 0, 0, "room plays: play"},
		{"room plays, player paused 0.3 s off: seek then play", with(playing(99.7, 100, 1), func(in *CorrectionInput) { in.Paused = true }),
			ActionSeek | ActionPlay, 100, 0, ""},
		{"room paused, player plays 50 ms on: pause, and seek to the host's frame", with(playing(100.05, 100, 1), func(in *CorrectionInput) { in.RoomPlaying = false }),
			ActionPause | ActionSeek, 100, 0, "room paused: pause; drift +0.050 s > 0.002 s: to the room's paused frame"},
		{"room paused, player plays 50 ms on, already aligned once: pause only", with(playing(100.05, 100, 1), func(in *CorrectionInput) { in.RoomPlaying, in.Aligned = false, true }),
			ActionPause, 0, 0, "room paused: pause"},
		{"room paused, paused 1 ms off: nothing", CorrectionInput{Position: 10.001, Paused: true, Speed: 1, Expected: 10, RoomRate: 1, RoomKnown: true},
			0, 0, 0, "in sync"},
		{"room paused, player plays 2 s off: pause and seek", with(playing(102, 100, 1), func(in *CorrectionInput) { in.RoomPlaying = false }),
			ActionPause | ActionSeek, 100, 0, ""},

		// Paused room: only seeks, tighter dead zone, no nudges.
		{"room paused, drift 90 ms: to the host's frame", CorrectionInput{Position: 10.09, Paused: true, Speed: 1, Expected: 10, RoomRate: 1, RoomKnown: true},
			ActionSeek, 10, 0, "to the room's paused frame"},
		{"room paused, drift 90 ms, aligned: nothing", CorrectionInput{Position: 10.09, Paused: true, Speed: 1, Expected: 10, RoomRate: 1, RoomKnown: true, Aligned: true},
			0, 0, 0, "in sync"},
		{"room plays, player paused 90 ms off: play, no seek", CorrectionInput{Position: 10.09, Paused: true, Speed: 1, Expected: 10, RoomPlaying: true, RoomRate: 1, RoomKnown: true},
			ActionPlay, 0, 0, "room plays: play"},
		{"paused, drift 0.2 s: seek, no nudge", CorrectionInput{Position: 10.2, Paused: true, Speed: 1, Expected: 10, RoomRate: 1, RoomKnown: true},
			ActionSeek, 10, 0, "while paused"},
		{"paused, nudged speed left over: restore", CorrectionInput{Position: 10, Paused: true, Speed: 0.95, Expected: 10, RoomRate: 1, RoomKnown: true},
			ActionRestoreRate, 0, 1, ""},
		{"paused at rate 0.5, drift 0.15 s: seek", CorrectionInput{Position: 9.85, Paused: true, Speed: 0.5, Expected: 10, RoomRate: 0.5, RoomKnown: true},
			ActionSeek, 10, 0, ""},

		// Seek in flight: only play/pause.
		{"seek in flight, drift 3 s: wait", with(playing(3, 100, 1), func(in *CorrectionInput) { in.SeekInFlight = true }),
			0, 0, 0, "seek in flight"},
		{"seek in flight, drift 0.2 s: no nudge", with(playing(100.2, 100, 1), func(in *CorrectionInput) { in.SeekInFlight = true }),
			0, 0, 0, ""},
		{"seek in flight, room paused: pause", with(playing(100.2, 100, 1), func(in *CorrectionInput) { in.SeekInFlight = true; in.RoomPlaying = false }),
			ActionPause, 0, 0, ""},

		// Detached and unknown: nothing at all.
		{"detached, drift 30 s", with(playing(70, 100, 1), func(in *CorrectionInput) { in.Detached = true }), 0, 0, 0, "detached"},
		{"detached, paused while room plays", with(playing(100, 100, 1), func(in *CorrectionInput) { in.Detached = true; in.Paused = true }),
			0, 0, 0, ""},
		{"room not known: never seek to 0", CorrectionInput{Position: 1234, Speed: 1}, 0, 0, 0, "not known"},
		{"room not known, room fields set", with(playing(1234, 0, 1), func(in *CorrectionInput) { in.RoomKnown = false }), 0, 0, 0, ""},
		{"room says 0: seek to 0", playing(1234, 0, 1), ActionSeek, 0, 0, "seek to 0.000"},
		{"NaN position", playing(math.NaN(), 100, 1), 0, 0, 0, "no valid position"},
		{"infinite expected", playing(10, math.Inf(1), 1), 0, 0, 0, "no valid position"},

		// Media end.
		{"at EOF, room at the end", with(playing(1439.96, 1440, 1), func(in *CorrectionInput) { in.AtEOF = true; in.Paused = true }),
			0, 0, 0, "at end of media"},
		{"at EOF, room copy longer (expected past our end)", with(playing(1400, 1440, 1), func(in *CorrectionInput) { in.AtEOF = true; in.Paused = true }),
			0, 0, 0, "at end"},
		{"at EOF, unknown duration, room further", with(playing(600, 650, 1), func(in *CorrectionInput) { in.AtEOF = true; in.Paused = true }),
			0, 0, 0, "at end"},
		{"at EOF, room paused at the end", CorrectionInput{Position: 1439.96, Paused: true, AtEOF: true, Speed: 1, Expected: 1440, RoomRate: 1, RoomKnown: true},
			0, 0, 0, ""},
		{"at EOF, host seeked back", with(playing(1439.96, 600, 1), func(in *CorrectionInput) { in.AtEOF = true; in.Paused = true }),
			ActionSeek | ActionPlay, 600, 0, ""},
		{"at EOF, nudged speed: leave it", with(playing(1439.96, 1440, 1), func(in *CorrectionInput) { in.AtEOF = true; in.Paused = true; in.Speed = 1.05 }),
			0, 0, 0, ""},
		{"near end, still playing, in sync", playing(1439.915, 1439.92, 1), 0, 0, 0, ""},
		{"room clamped at end, player far behind", playing(1300, 1440, 1), ActionSeek, 1440, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Decide(tt.in)
			if c.Actions != tt.actions {
				t.Fatalf("actions %v, want %v (%s)", c.Actions, tt.actions, c.Reason)
			}
			if c.Has(ActionSeek) && c.SeekTo != tt.seekTo {
				t.Fatalf("seek to %v, want %v", c.SeekTo, tt.seekTo)
			}
			if c.Has(ActionNudge | ActionRestoreRate) {
				if !near(c.Speed, tt.speed, 1e-9) {
					t.Fatalf("speed %v, want %v (%s)", c.Speed, tt.speed, c.Reason)
				}
				rate := tt.in.rate()
				if c.Speed < rate*(1-MaxNudge)-1e-12 || c.Speed > rate*(1+MaxNudge)+1e-12 {
					t.Fatalf("speed %v outside ±5 %% of %v", c.Speed, rate)
				}
			}
			if !strings.Contains(c.Reason, tt.reason) || c.Reason == "" && tt.in.RoomKnown {
				t.Fatalf("reason %q, want it to contain %q", c.Reason, tt.reason)
			}
		})
	}
}

// Every nudge speed is within ±5 % of the room rate and on the side that
// closes the drift, for all rates and drifts in the nudge band.
func TestNudgeBoundsAndDirection(t *testing.T) {
	for _, rate := range []float64{0.25, 0.5, 1, 1.25, 1.5, 2, 4} {
		for d := -0.5; d <= 0.5; d += 0.001 {
			c := Decide(playing(100+d, 100, rate))
			if !beyond(d, NudgeThreshold) || beyond(d, SeekThreshold) {
				continue
			}
			if c.Actions != ActionNudge {
				t.Fatalf("rate %v drift %v: %v", rate, d, c.Actions)
			}
			if c.Speed < rate*(1-MaxNudge)-1e-12 || c.Speed > rate*(1+MaxNudge)+1e-12 {
				t.Fatalf("rate %v drift %v: speed %v out of bounds", rate, d, c.Speed)
			}
			if (d > 0) != (c.Speed < rate) {
				t.Fatalf("rate %v drift %v: speed %v goes the wrong way", rate, d, c.Speed)
			}
		}
	}
}

// A nudge closes a drift within its horizon when unbounded: 60 ms at rate 1
// with speed 1.04 closes in 1.5 s.
func TestNudgeClosesOverHorizon(t *testing.T) {
	for _, d := range []float64{0.045, 0.06, 0.075} {
		c := Decide(playing(100-d, 100, 1))
		closeIn := d / (c.Speed - 1)
		if closeIn < 1 || closeIn > 2 {
			t.Errorf("drift %v: speed %v closes in %.2f s, want 1–2 s", d, c.Speed, closeIn)
		}
	}
}

// Hysteresis: a drift wobbling around the thresholds switches between
// nudging and not nudging once on the way in and once on the way out.
func TestHysteresisDoesNotFlap(t *testing.T) {
	wobble := func(center, amp float64, n int) []float64 {
		var d []float64
		for i := range n {
			d = append(d, center+amp*float64(1-2*(i%2)))
		}
		return d
	}
	// Around the entry (NudgeThreshold), inside the band, around the exit
	// (RestoreThreshold), then below it and back up inside the band (must
	// not re-enter).
	var drifts []float64
	band := NudgeThreshold - RestoreThreshold
	drifts = append(drifts, wobble(NudgeThreshold, band/4, 20)...)
	drifts = append(drifts, wobble(RestoreThreshold+band/2, band/5, 20)...)
	drifts = append(drifts, wobble(RestoreThreshold, band/5, 20)...)
	drifts = append(drifts, wobble(RestoreThreshold*0.6, RestoreThreshold*0.1, 10)...)
	drifts = append(drifts, wobble(RestoreThreshold+band/2, band*0.45, 20)...)
	for _, sign := range []float64{1, -1} {
		speed := 1.0
		var transitions, commands int
		nudging := false
		for _, d := range drifts {
			in := playing(100+sign*d, 100, 1)
			in.Speed = speed
			c := Decide(in)
			if c.Has(ActionNudge | ActionRestoreRate) {
				commands++
				speed = c.Speed
			}
			if now := speed != 1; now != nudging {
				transitions++
				nudging = now
			}
		}
		if transitions != 2 || nudging {
			t.Fatalf("sign %v: %d transitions, nudging at the end %v; want 2, false", sign, transitions, nudging)
		}
		t.Logf("sign %v: %d speed commands over %d samples", sign, commands, len(drifts))
	}
}

func TestActionString(t *testing.T) {
	tests := map[Action]string{
		0:                        "none",
		ActionSeek:               "seek",
		ActionSeek | ActionPlay:  "seek+play",
		ActionPause | ActionSeek: "seek+pause",
		ActionNudge:              "nudge",
		ActionRestoreRate:        "restore-rate",
		ActionSeek | ActionRestoreRate | ActionPlay: "seek+restore-rate+play",
	}
	for a, want := range tests {
		if got := a.String(); got != want {
			t.Errorf("%d: %q, want %q", a, got, want)
		}
	}
}

// Decide must use the room's position at the client's server-time estimate:
// with clock offsets of ±5 s corrected, a follower at the true position is in
// sync; uncorrected, it would be told to seek.
func TestDecideWithClockOffset(t *testing.T) {
	for _, skew := range []time.Duration{-5 * time.Second, 5 * time.Second} {
		for _, rate := range []float64{0.5, 1, 1.5, 2} {
			room := RoomState{IsPlaying: true, CurrentTime: 100, PlaybackRate: rate, UpdatedAt: t0, MediaDuration: 3600}
			var c ClockOffset
			if err := c.AddSample(sample(t0.Add(time.Second), skew, 15*time.Millisecond, 15*time.Millisecond)); err != nil {
				t.Fatal(err)
			}
			local := t0.Add(10*time.Second - skew) // server time t0+10 s
			truth := 100 + 10*rate
			in := room.Input(c.ServerNow(local))
			in.Position, in.Speed = truth+0.01, rate
			if got := Decide(in); got.Actions != 0 {
				t.Errorf("skew %v rate %v: %v (%s)", skew, rate, got.Actions, got.Reason)
			}
			naive := room.Input(local)
			naive.Position, naive.Speed = truth, rate
			if got := Decide(naive); !got.Has(ActionSeek) {
				t.Errorf("skew %v rate %v: uncorrected clock should seek, got %v", skew, rate, got.Actions)
			}
		}
	}
}
