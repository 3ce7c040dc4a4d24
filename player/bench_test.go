//go:build !windows

package player

import (
	"context"
	"math"
	"slices"
	"syscall"
	"testing"
	"time"
)

// Benchmarks against real mpv. The figures that matter are the custom
// metrics (milliseconds); ns/op includes pauses between samples.
//
//	go test -bench . -run '^$' ./player/

// reportPercentiles reports p50, p99 and max of xs (seconds) in ms.
func reportPercentiles(b *testing.B, prefix string, xs []float64) {
	if len(xs) == 0 {
		return
	}
	slices.Sort(xs)
	at := func(q float64) float64 { return xs[int(q*float64(len(xs)-1))] * 1000 }
	b.ReportMetric(at(0.50), prefix+"p50-ms")
	b.ReportMetric(at(0.99), prefix+"p99-ms")
	b.ReportMetric(xs[len(xs)-1]*1000, prefix+"max-ms")
}

// BenchmarkIPCRoundTrip: get_property time-pos while playing, from the
// call to the matched reply.
func BenchmarkIPCRoundTrip(b *testing.B) {
	p := launchTest(b, LaunchOptions{ExtraArgs: []string{"--loop-file=inf"}})
	loadTest(b, p, 0, false)
	ctx := context.Background()
	var rtts []float64
	var v float64
	for b.Loop() {
		start := time.Now()
		if err := p.GetProperty(ctx, "time-pos", &v); err != nil {
			b.Fatal(err)
		}
		rtts = append(rtts, time.Since(start).Seconds())
	}
	reportPercentiles(b, "", rtts)
}

// BenchmarkPositionError: Position() against mpv's own playback-time read
// directly (Position taken before and after the read, averaged), every 2 ms
// while playing. "naive-" is the plain last time-pos + elapsed × speed.
// playback-time steps once per frame (40 ms here), so even a perfect
// continuous position leads it by 0–40 ms, 20 ms on average. "spread" is
// the range of Position − wall clock over the run (0 for a perfectly
// smooth position at speed 1), which has no such floor.
func BenchmarkPositionError(b *testing.B) {
	p := launchTest(b, LaunchOptions{})
	loadTest(b, p, 0, false)
	ctx := context.Background()
	waitFor(b, 5*time.Second, func() bool { return p.Position() > 0.5 })
	naive := func() float64 {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.st.pos + time.Since(p.st.at).Seconds()*p.st.speed
	}
	var errs, naiveErrs []float64
	var sum float64
	spread, naiveSpread := newRange(), newRange()
	wall0 := time.Now()
	for b.Loop() {
		wall := time.Since(wall0).Seconds()
		p1, n1 := p.Position(), naive()
		spread.add(p1 - wall)
		naiveSpread.add(n1 - wall)
		var mpv float64
		if err := p.GetProperty(ctx, "playback-time", &mpv); err != nil {
			b.Fatal(err)
		}
		p2, n2 := p.Position(), naive()
		if p.State().EndOfFile {
			b.Fatal("the clip ended during the benchmark: use a -benchtime under 25s")
		}
		e := (p1+p2)/2 - mpv
		sum += e
		errs = append(errs, math.Abs(e))
		naiveErrs = append(naiveErrs, math.Abs((n1+n2)/2-mpv))
		time.Sleep(2 * time.Millisecond)
	}
	reportPercentiles(b, "abs-", errs)
	reportPercentiles(b, "naive-abs-", naiveErrs)
	b.ReportMetric(sum/float64(len(errs))*1000, "mean-ms")
	b.ReportMetric(spread.width()*1000, "spread-ms")
	b.ReportMetric(naiveSpread.width()*1000, "naive-spread-ms")
}

// valueRange tracks the smallest and largest of a series.
type valueRange struct{ lo, hi float64 }

func newRange() *valueRange { return &valueRange{lo: math.Inf(1), hi: math.Inf(-1)} }

func (r *valueRange) add(x float64) { r.lo, r.hi = min(r.lo, x), max(r.hi, x) }

func (r *valueRange) width() float64 { return r.hi - r.lo }

// BenchmarkSeekSettle: Seek from the call until playback restarted at the
// target (mpv's playback-restart), across the file in both directions.
func BenchmarkSeekSettle(b *testing.B) {
	for _, paused := range []bool{true, false} {
		name := "playing"
		if paused {
			name = "paused"
		}
		b.Run(name, func(b *testing.B) {
			p := launchTest(b, LaunchOptions{ExtraArgs: []string{"--loop-file=inf"}})
			loadTest(b, p, 0, paused)
			ctx := context.Background()
			targets := []float64{20, 5, 25.5, 1, 14.2, 28, 9.9, 17, 3.3, 22}
			var settle, miss []float64
			i := 0
			for b.Loop() {
				target := targets[i%len(targets)]
				i++
				start := time.Now()
				if err := p.Seek(ctx, target); err != nil {
					b.Fatal(err)
				}
				settle = append(settle, time.Since(start).Seconds())
				var pos float64
				if paused {
					if err := p.GetProperty(ctx, "time-pos", &pos); err != nil {
						b.Fatal(err)
					}
					miss = append(miss, math.Abs(pos-target))
				}
			}
			reportPercentiles(b, "", settle)
			if paused {
				reportPercentiles(b, "landing-error-", miss)
			}
		})
	}
}

// BenchmarkLifecycle: Launch until the Player is ready, and kill -9 until
// the Closed event.
func BenchmarkLifecycle(b *testing.B) {
	needMPV(b)
	var launch, closed []float64
	for b.Loop() {
		start := time.Now()
		p := launchTest(b, LaunchOptions{})
		launch = append(launch, time.Since(start).Seconds())
		killed := time.Now()
		if err := syscall.Kill(p.Pid(), syscall.SIGKILL); err != nil {
			b.Fatal(err)
		}
		ev := waitEvent(b, p, EventClosed, 2*time.Second)
		closed = append(closed, ev.Time.Sub(killed).Seconds())
		closeAndCheckGone(b, p)
	}
	reportPercentiles(b, "launch-", launch)
	reportPercentiles(b, "kill-to-closed-", closed)
}
