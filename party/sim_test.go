package party

import (
	"math"
	"math/rand/v2"
	"testing"
)

// simPlayer is a fake mpv: its clock runs (1+skew) times as fast as the
// room's, a seek freezes it for seekTicks ticks (until playback-restart),
// and it applies the corrections Decide asks for.
type simPlayer struct {
	pos, speed float64
	paused     bool
	skew       float64
	seekTicks  int // ticks a seek takes
	seeking    int // ticks left of the seek in flight
}

func (p *simPlayer) step(dt float64) {
	if p.seeking > 0 {
		p.seeking--
		return
	}
	if !p.paused {
		p.pos += p.speed * (1 + p.skew) * dt
	}
}

func (p *simPlayer) apply(c Correction) {
	if c.Has(ActionPause) {
		p.paused = true
	}
	if c.Has(ActionSeek) {
		p.pos = c.SeekTo
		p.seeking = p.seekTicks
	}
	if c.Has(ActionNudge | ActionRestoreRate) {
		p.speed = c.Speed
	}
	if c.Has(ActionPlay) {
		p.paused = false
	}
}

type simResult struct {
	maxSteady   float64 // max |drift| after convergence
	convergedAt float64 // seconds until |drift| ≤ NudgeThreshold the first time
	seeks       int
	speedCmds   int // after convergence, per minute
}

// simulate runs a follower against a room playing at rate from position 0,
// with the follower starting at start, for dur seconds of fake time in steps
// of dt. noise(i) is added to each measured drift (jittery position
// reports); with filter, measurements go through a DriftFilter.
func simulate(rate, skew, start, dur, dt float64, noise func(i int) float64, filter bool) simResult {
	p := &simPlayer{pos: start, speed: rate, skew: skew, seekTicks: 2}
	var f DriftFilter
	var r simResult
	r.convergedAt = -1
	steadySpeedCmds := 0
	n := int(dur / dt)
	for i := range n {
		now := float64(i) * dt
		expected := now * rate
		in := CorrectionInput{
			Position: p.pos + noise(i), Paused: p.paused, Speed: p.speed,
			Expected: expected, RoomPlaying: true, RoomRate: rate, RoomKnown: true,
			SeekInFlight: p.seeking > 0,
		}
		if filter {
			in = f.Apply(in)
		}
		c := Decide(in)
		trueDrift := p.pos - expected
		if r.convergedAt < 0 && math.Abs(trueDrift) <= steadyBound(rate, skew) && p.seeking == 0 {
			r.convergedAt = now
		}
		if r.convergedAt >= 0 {
			r.maxSteady = max(r.maxSteady, math.Abs(trueDrift))
			if c.Has(ActionNudge | ActionRestoreRate) {
				steadySpeedCmds++
			}
		}
		if c.Has(ActionSeek) {
			r.seeks++
			f.Reset() // playback-restart
		}
		p.apply(c)
		p.step(dt)
	}
	if r.convergedAt >= 0 {
		r.speedCmds = int(math.Round(float64(steadySpeedCmds) / ((dur - r.convergedAt) / 60)))
	}
	return r
}

func noNoise(int) float64 { return 0 }

// steadyBound is the largest steady drift the policy allows against a player whose clock runs
// skew (relative) off at rate: the dead zone, plus the proportional nudge's standing error
// (drift/NudgeHorizon must equal the skew to hold it) and one SpeedStep of rounding.
func steadyBound(rate, skew float64) float64 {
	return NudgeThreshold + (math.Abs(skew)+SpeedStep)*rate*NudgeHorizon
}

// A follower whose player clock runs 1 % fast (or slow) converges and then
// stays within the 40 ms dead zone (plus one tick of its own drift), at
// room rates 0.5 to 2, from starts near and far.
func TestSimulationFastClockConverges(t *testing.T) {
	const dt = 0.05 // 20 measurements a second
	for _, rate := range []float64{0.5, 1, 1.5, 2} {
		for _, skew := range []float64{0.01, -0.01} {
			for _, start := range []float64{0, -0.3, 0.45, 5, -12} {
				r := simulate(rate, skew, start, 600, dt, noNoise, false)
				tol := steadyBound(rate, skew) + math.Abs(skew)*rate*(1+MaxNudge)*dt + 1e-9
				if r.convergedAt < 0 || r.convergedAt > 30 {
					t.Errorf("rate %v skew %v start %v: converged at %v s", rate, skew, start, r.convergedAt)
					continue
				}
				if r.maxSteady > tol {
					t.Errorf("rate %v skew %v start %v: max steady drift %.1f ms > %.1f ms", rate, skew, start, r.maxSteady*1000, tol*1000)
				}
				if rate == 1 && skew == 0.01 && (start == 0 || start == 5) || rate == 2 && start == -12 {
					t.Logf("rate %v skew %+v start %v: converged after %.2f s, then max |drift| %.2f ms, %d speed commands/min, %d seeks",
						rate, skew, start, r.convergedAt, r.maxSteady*1000, r.speedCmds, r.seeks)
				}
			}
		}
	}
}

// Jittery position reports: ±10 ms of noise on every report and a stale
// report 0.8 s off every 7 s. With the median filter no seek fires once in
// sync; without it each outlier causes a needless seek.
func TestSimulationJitteryReports(t *testing.T) {
	const dt = 0.05
	rng := rand.New(rand.NewPCG(1, 2))
	noise := make([]float64, int(300/dt)+1)
	for i := range noise {
		noise[i] = (rng.Float64()*2 - 1) * 0.010
		if i > 0 && i%140 == 0 {
			noise[i] = 0.8
		}
	}
	jitter := func(i int) float64 { return noise[i] }
	filtered := simulate(1, 0.01, 0, 300, dt, jitter, true)
	if filtered.seeks != 0 {
		t.Errorf("filtered: %d seeks from outliers", filtered.seeks)
	}
	if filtered.convergedAt < 0 || filtered.maxSteady > steadyBound(1, 0.01)+0.010 {
		t.Errorf("filtered: converged at %v, max drift %.1f ms", filtered.convergedAt, filtered.maxSteady*1000)
	}
	raw := simulate(1, 0.01, 0, 300, dt, jitter, false)
	if raw.seeks < 10 {
		t.Errorf("unfiltered: %d seeks, want one per outlier (the filter would be pointless)", raw.seeks)
	}
	t.Logf("filtered: max |drift| %.1f ms, %d seeks, %d speed commands/min; unfiltered: %d seeks",
		filtered.maxSteady*1000, filtered.seeks, filtered.speedCmds, raw.seeks)
}

// A realistic clock skew (0.05 %, an audio clock against the system clock)
// gives rare corrections.
func TestSimulationSmallSkew(t *testing.T) {
	r := simulate(1, 0.0005, 0, 1800, 0.05, noNoise, false)
	if r.maxSteady > NudgeThreshold+0.001 || r.speedCmds > 8 {
		t.Fatalf("max |drift| %.2f ms, %d speed commands/min", r.maxSteady*1000, r.speedCmds)
	}
	t.Logf("skew 0.05 %%: max |drift| %.2f ms, %d speed commands/min", r.maxSteady*1000, r.speedCmds)
}

// A paused room: the follower seeks once, pauses, and never nudges.
func TestSimulationPausedRoom(t *testing.T) {
	p := &simPlayer{pos: 40.3, speed: 1.03, skew: 0.01}
	for i := range 100 {
		in := CorrectionInput{Position: p.pos, Paused: p.paused, Speed: p.speed, Expected: 40, RoomRate: 1, RoomKnown: true}
		c := Decide(in)
		if c.Has(ActionNudge) {
			t.Fatalf("tick %d: nudge while paused", i)
		}
		p.apply(c)
		p.step(0.05)
	}
	if !p.paused || p.pos != 40 || p.speed != 1 {
		t.Fatalf("player %+v, want paused at 40 at speed 1", *p)
	}
}
