package syncbench

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"
)

func TestTargetsFor(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  SyncConfig
		want map[string]float64 // limits checked; a NaN value: the figure has no target
	}{
		{"quiet", SyncConfig{}, map[string]float64{tSteadyP95: 15, tMeanWorst: 5, tSeekP95: 120, tSeekMax: 250, tPauseP99: 20, tPausedMax: 10, tClientCPU: 1, tClientRSS: 30}},
		{"loaded", SyncConfig{Load: 2}, map[string]float64{tSteadyP95: 40, tMeanWorst: math.NaN(), tSeekP95: 250, tSeekMax: 600, tPauseP99: 60, tPausedMax: math.NaN()}},
		{"latency", SyncConfig{Latency: 40 * time.Millisecond, Jitter: 10 * time.Millisecond},
			map[string]float64{tSteadyP95: 20, tMeanWorst: 10, tSeekP95: 250, tSeekMax: math.NaN(), tPauseP99: 100, tPausedMax: 10}},
		{"both: the looser", SyncConfig{Load: 1, Latency: 40 * time.Millisecond},
			map[string]float64{tSteadyP95: 40, tMeanWorst: 10, tSeekP95: 250, tSeekMax: 600, tPauseP99: 100, tPausedMax: 10}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := targetsFor(tc.cfg)
			for name, want := range tc.want {
				v, ok := got[name]
				switch {
				case math.IsNaN(want) && ok:
					t.Errorf("%s: limit %g, want none", name, v)
				case !math.IsNaN(want) && (!ok || v != want):
					t.Errorf("%s: limit %g (set: %v), want %g", name, v, ok, want)
				}
			}
		})
	}
}

// Pooling concatenates the runs' samples; the targets see the pooled figures, and a figure
// nobody measured does not fail them.
func TestPoolAndTargets(t *testing.T) {
	run := func(steady float64, conv float64, mean float64) *SyncResult {
		r := &SyncResult{Runs: 1, Followers: 1, Steady: time.Second, FollowerMeans: []float64{mean}}
		for range 100 {
			r.SteadyAbs = append(r.SteadyAbs, steady)
		}
		r.Seeks = []SeekTimeline{{N: 1, Converged: conv, HostRestart: 20, Acked: 25,
			Followers: []FollowerSeek{{Received: 27, Issued: 28, Restart: 60, Landing: -4, Within: conv}}}}
		r.Pauses = []PauseTimeline{{N: 1, Followers: []FollowerPause{{Paused: 5, Received: 3, Issued: 4}}, Stop: []float64{-30}, At500: []float64{-3}}}
		return r
	}
	rep := &SyncReport{Runs: []*SyncResult{run(2, 80, 1), run(3, 90, -4)}}
	rep.Pooled = Pool(rep.Runs)
	f := rep.Pooled.Figures()
	if f.Steady.N != 200 || f.Seek.N != 2 || f.Seek.Max != 90 || f.MeanWorst != 4 || f.Landing.Max != 4 || f.PausedAt500.Max != 3 || f.PausedStop.Max != 30 {
		t.Fatalf("pooled figures %+v", f)
	}
	if !rep.Met() {
		t.Errorf("targets missed: %+v", rep.Targets())
	}
	for _, tg := range rep.Targets() {
		if (tg.Name == tClientCPU || tg.Name == tClientRSS) && !math.IsNaN(tg.Value) {
			t.Errorf("%s: %g, want not measured", tg.Name, tg.Value)
		}
	}
	rep.Runs[1].Seeks[0].Converged = -1 // a seek that never converged
	rep.Pooled = Pool(rep.Runs)
	if rep.Met() {
		t.Error("a failed seek met the targets")
	}
	var out bytes.Buffer
	rep.Print(&out)
	for _, want := range []string{"2 runs; each run's figures", "slow seek 1 (+0 s): not all within 100 ms", "FAILURES: 1 seeks", "MISSED"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// A paused follower one frame from the host reads 10.000000000002 ms: that is 10, within ≤ 10.
func TestTargetMetAtTheLimit(t *testing.T) {
	if !(Target{Limit: 10, Value: (45.23 - 45.22) * 1000}).Met() {
		t.Error("one 10 ms frame missed a 10 ms limit")
	}
	if (Target{Limit: 10, Value: 10.02}).Met() {
		t.Error("10.02 met a 10 ms limit")
	}
}
