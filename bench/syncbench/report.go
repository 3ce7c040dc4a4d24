package syncbench

import (
	"fmt"
	"io"
	"math"
	"runtime"
	"strings"
	"time"
)

// Pool concatenates the measurements of several runs into one result (Run 0).
func Pool(runs []*SyncResult) *SyncResult {
	p := &SyncResult{}
	for _, r := range runs {
		p.Runs += r.Runs
		p.Followers, p.Steady = r.Followers, p.Steady+r.Steady
		p.SteadyAbs = append(p.SteadyAbs, r.SteadyAbs...)
		p.SteadyRaw = append(p.SteadyRaw, r.SteadyRaw...)
		p.SteadyRoom = append(p.SteadyRoom, r.SteadyRoom...)
		p.FollowerMeans = append(p.FollowerMeans, r.FollowerMeans...)
		p.FollowerRoomMeans = append(p.FollowerRoomMeans, r.FollowerRoomMeans...)
		p.HostRoom = append(p.HostRoom, r.HostRoom...)
		p.SteadySeeks += r.SteadySeeks
		p.SteadySpeedChanges += r.SteadySpeedChanges
		p.Seeks = append(p.Seeks, r.Seeks...)
		p.Pauses = append(p.Pauses, r.Pauses...)
		p.Resume = append(p.Resume, r.Resume...)
		p.PauseFailed += r.PauseFailed
		p.Unsettled = append(p.Unsettled, r.Unsettled...)
		p.RoundTrip = append(p.RoundTrip, r.RoundTrip...)
		p.Cost = append(p.Cost, r.Cost...)
		p.LoadAverages = append(p.LoadAverages, r.LoadAverages...)
		if p.MPVVersion == "" {
			p.MPVVersion = r.MPVVersion
		}
	}
	return p
}

// Figures are the summaries the targets and the tables use.
type Figures struct {
	Steady, SteadyRaw, SteadyRoom Dist
	// MeanWorst is the largest |per-follower mean| (ms); NaN without steady samples.
	MeanWorst float64

	// Seek is the convergence of the seeks that converged; the rest of the seek timeline
	// follows it.
	Seek                                                   Dist
	SeekFailed                                             int
	HostRestart, Acked, Received, Issued, Restart, Landing Dist
	Within                                                 Dist

	Pause, PauseReceived, PauseIssued Dist
	// PausedStop and PausedAt500 are |follower − host| while paused (where they stopped,
	// 500 ms after the pause); PausedNotPaused counts followers not paused at +500 ms.
	PausedStop, PausedAt500 Dist
	PausedNotPaused         int

	Resume, RoundTrip Dist
	// CPU (% of a core) and RSS (MB) of the extra follower: the worst run; NaN when not measured.
	CPU, RSS float64
}

// Figures summarises r.
func (r *SyncResult) Figures() Figures {
	f := Figures{Steady: Summarise(r.SteadyAbs), SteadyRaw: Summarise(r.SteadyRaw), SteadyRoom: Summarise(r.SteadyRoom),
		Resume: Summarise(r.Resume), RoundTrip: Summarise(r.RoundTrip), MeanWorst: math.NaN(), CPU: math.NaN(), RSS: math.NaN()}
	for _, m := range r.FollowerMeans {
		if !math.IsNaN(m) && (math.IsNaN(f.MeanWorst) || math.Abs(m) > f.MeanWorst) {
			f.MeanWorst = math.Abs(m)
		}
	}
	var conv, hostRestart, acked, recv, issued, restart, landing, within []float64
	keep := func(xs *[]float64, v float64) {
		if v >= 0 && !math.IsNaN(v) {
			*xs = append(*xs, v)
		}
	}
	for _, s := range r.Seeks {
		if s.Converged < 0 {
			f.SeekFailed++
		}
		keep(&conv, s.Converged)
		keep(&hostRestart, s.HostRestart)
		keep(&acked, s.Acked)
		for _, fs := range s.Followers {
			keep(&recv, fs.Received)
			keep(&issued, fs.Issued)
			keep(&restart, fs.Restart)
			keep(&landing, math.Abs(fs.Landing))
			keep(&within, fs.Within)
		}
	}
	f.Seek, f.HostRestart, f.Acked = Summarise(conv), Summarise(hostRestart), Summarise(acked)
	f.Received, f.Issued, f.Restart = Summarise(recv), Summarise(issued), Summarise(restart)
	f.Landing, f.Within = Summarise(landing), Summarise(within)
	var pause, precv, pissued, stop, at500 []float64
	for _, p := range r.Pauses {
		for _, fp := range p.Followers {
			keep(&pause, fp.Paused)
			keep(&precv, fp.Received)
			keep(&pissued, fp.Issued)
		}
		for _, d := range p.Stop {
			keep(&stop, math.Abs(d))
		}
		for _, d := range p.At500 {
			if math.IsNaN(d) {
				f.PausedNotPaused++
			}
			keep(&at500, math.Abs(d))
		}
	}
	f.Pause, f.PauseReceived, f.PauseIssued = Summarise(pause), Summarise(precv), Summarise(pissued)
	f.PausedStop, f.PausedAt500 = Summarise(stop), Summarise(at500)
	for _, c := range r.Cost {
		if c.NA == "" {
			f.CPU = nanMax(f.CPU, c.CPU)
			f.RSS = nanMax(f.RSS, c.RSSMax)
		}
	}
	return f
}

func nanMax(a, b float64) float64 {
	if math.IsNaN(a) {
		return b
	}
	return math.Max(a, b)
}

// Target is one target of the sync benchmark.
type Target struct {
	Name  string
	Limit float64
	Value float64 // NaN: not measured (the target is then not checked)
}

// Met says whether the value is within the limit (or was not measured). Values are compared
// at 0.01 ms: a difference of two frame timestamps (10 ms at 100 fps) reads 10.000000000002.
func (t Target) Met() bool { return math.IsNaN(t.Value) || math.Round(t.Value*100)/100 <= t.Limit }

// A target set: the limits of one condition (quiet, loaded, behind the delay proxy), by
// figure; a figure a condition leaves out has no entry.
type targetSet map[string]float64

// The figures targets apply to.
const (
	tSteadyP95  = "steady |follower-host| p95 (ms)"
	tMeanWorst  = "every follower's mean follower-host within ± (ms)"
	tSeekP95    = "seek convergence p95 (ms)"
	tSeekMax    = "seek convergence max (ms)"
	tPauseP99   = "pause latency p99 (ms)"
	tPausedMax  = "paused position |follower-host| max, 500 ms after the pause (ms)"
	tClientCPU  = "client CPU (% of one core)"
	tClientRSS  = "client RSS (MB)"
	tFailed     = "failed seeks, pauses, plays; not settled after a play"
	tNotPaused  = "followers not paused 500 ms after a pause"
	targetOrder = tSteadyP95 + "\n" + tMeanWorst + "\n" + tSeekP95 + "\n" + tSeekMax + "\n" + tPauseP99 + "\n" +
		tPausedMax + "\n" + tClientCPU + "\n" + tClientRSS + "\n" + tFailed + "\n" + tNotPaused
)

var (
	quietTargets = targetSet{tSteadyP95: 15, tMeanWorst: 5, tSeekP95: 120, tSeekMax: 250, tPauseP99: 20, tPausedMax: 10}
	loadTargets  = targetSet{tSteadyP95: 40, tSeekP95: 250, tSeekMax: 600, tPauseP99: 60}
	// netTargets' pause limit is the nominal round trip + 20 ms, filled in by targetsFor.
	netTargets    = targetSet{tSteadyP95: 20, tMeanWorst: 10, tSeekP95: 250, tPausedMax: 10}
	commonTargets = targetSet{tClientCPU: 1, tClientRSS: 30, tFailed: 0, tNotPaused: 0}
)

// TargetsHelp describes the targets for --help.
const TargetsHelp = `Targets (pooled over the runs; --check exits 1 when one is missed):
  quiet:            steady |follower-host| p95 <= 15 ms, every follower's mean within
                    ±5 ms, seek convergence p95 <= 120 ms and max <= 250 ms, pause
                    latency p99 <= 20 ms, paused position |follower-host| <= 10 ms
                    500 ms after the pause
  --load 1 or more: steady p95 <= 40 ms, seek p95 <= 250 ms and max <= 600 ms,
                    pause p99 <= 60 ms
  --latency L:      steady p95 <= 20 ms, every follower's mean within ±10 ms, seek
                    p95 <= 250 ms, pause p99 <= 2L + 20 ms (the round trip + 20),
                    paused position <= 10 ms
  --load with --latency: the looser limit of the two for each figure
  always:           the extra follower's CPU <= 1 % of one core and RSS <= 30 MB;
                    no failed seek, pause or play, and the followers back within
                    100 ms of the host within 10 s of every play`

// targetsFor returns the limits that apply to a run under cfg.
func targetsFor(cfg SyncConfig) targetSet {
	var sets []targetSet
	if cfg.Load > 0 {
		sets = append(sets, loadTargets)
	}
	if cfg.Latency > 0 || cfg.Jitter > 0 {
		net := targetSet{tPauseP99: ms(2*cfg.Latency) + 20}
		for k, v := range netTargets {
			net[k] = v
		}
		sets = append(sets, net)
	}
	if len(sets) == 0 {
		sets = append(sets, quietTargets)
	}
	out := targetSet{}
	for _, s := range append(sets, commonTargets) {
		for k, v := range s {
			if old, ok := out[k]; !ok || v > old {
				out[k] = v
			}
		}
	}
	return out
}

// Targets returns the targets that apply to the report's conditions, with the pooled values.
func (rep *SyncReport) Targets() []Target {
	f := rep.Pooled.Figures()
	values := map[string]float64{
		tSteadyP95: f.Steady.P95, tMeanWorst: f.MeanWorst, tSeekP95: f.Seek.P95, tSeekMax: f.Seek.Max,
		tPauseP99: f.Pause.P99, tPausedMax: f.PausedAt500.Max, tClientCPU: f.CPU, tClientRSS: f.RSS,
		tFailed: float64(f.SeekFailed + rep.Pooled.PauseFailed + len(rep.Pooled.Unsettled)), tNotPaused: float64(f.PausedNotPaused),
	}
	// A distribution without samples was not measured.
	for name, d := range map[string]Dist{tSteadyP95: f.Steady, tSeekP95: f.Seek, tSeekMax: f.Seek, tPauseP99: f.Pause, tPausedMax: f.PausedAt500} {
		if d.N == 0 {
			values[name] = math.NaN()
		}
	}
	limits := targetsFor(rep.Config)
	var out []Target
	for name := range strings.SplitSeq(targetOrder, "\n") {
		if lim, ok := limits[name]; ok {
			out = append(out, Target{Name: name, Limit: lim, Value: values[name]})
		}
	}
	return out
}

// Met reports whether every target that applies was met.
func (rep *SyncReport) Met() bool {
	for _, t := range rep.Targets() {
		if !t.Met() {
			return false
		}
	}
	return true
}

// conditions describes the load and network of the runs.
func (rep *SyncReport) conditions() string {
	c := rep.Config
	var parts []string
	if c.Load > 0 {
		parts = append(parts, fmt.Sprintf("%d busy CPU workers (separate processes)", c.Load))
	}
	if c.Latency > 0 || c.Jitter > 0 {
		rt := Summarise(rep.Pooled.RoundTrip)
		parts = append(parts, fmt.Sprintf("every client behind a delay proxy holding each chunk %s ± %s one way (HTTP round trip measured p50 %.1f ms, min–max %.1f–%.1f ms)",
			c.Latency, c.Jitter, rt.P50, minOf(rep.Pooled.RoundTrip), rt.Max))
	}
	if len(parts) == 0 {
		return "quiet (no added load, clients straight to the server on loopback)"
	}
	return strings.Join(parts, "; ")
}

func minOf(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	m := xs[0]
	for _, x := range xs[1:] {
		m = math.Min(m, x)
	}
	return m
}

// Print writes every run's main figures, then the pooled table, the timelines of slow seeks
// and pauses and the targets.
func (rep *SyncReport) Print(w io.Writer) {
	p := rep.Pooled
	fmt.Fprintf(w, "sync benchmark: host + %d followers, real mpv (%s, --vo=null --ao=null), in-process server on loopback\n", p.Followers, p.MPVVersion)
	fmt.Fprintf(w, "media: %d fps H.264 clip (ffmpeg testsrc2 160x120, keyframe every 25 frames): mpv positions move in %d ms steps\n", BenchFPS, 1000/BenchFPS)
	fmt.Fprintf(w, "conditions: %s\n", rep.conditions())
	fmt.Fprintf(w, "machine: %d CPUs; load average (1, 5, 15 min) before → after each run: %s\n", runtime.NumCPU(), strings.Join(p.LoadAverages, "; "))
	if len(rep.Runs) > 1 {
		fmt.Fprintf(w, "\n%d runs; each run's figures (ms):\n", len(rep.Runs))
		for _, r := range rep.Runs {
			fmt.Fprintln(w, "  "+r.line())
		}
		fmt.Fprintf(w, "\npooled over the %d runs:\n", len(rep.Runs))
	}
	fmt.Fprintln(w)
	f := p.Figures()
	limits := targetsFor(rep.Config)
	lim := func(name, how string) string {
		if v, ok := limits[name]; ok {
			return fmt.Sprintf("%s <= %g", how, v)
		}
		return ""
	}
	row := func(name string, d Dist, target string) {
		fmt.Fprintf(w, "%-52s %5d  %8.1f  %8.1f  %8.1f  %8.1f  %s\n", name, d.N, d.P50, d.P95, d.P99, d.Max, target)
	}
	fmt.Fprintf(w, "%-52s %5s  %8s  %8s  %8s  %8s  %s\n", "measure (ms)", "n", "p50", "p95", "p99", "max", "target")
	row(fmt.Sprintf("steady |follower-host| (%s, interpolated)", p.Steady), f.Steady, lim(tSteadyP95, "p95"))
	row("steady |follower-host| (raw playback-time)", f.SteadyRaw, "")
	row("steady |follower-room expected|", f.SteadyRoom, "")
	row("seek: all followers within 100 ms of host", f.Seek, strings.TrimSpace(lim(tSeekP95, "p95")+" "+lim(tSeekMax, "max")))
	row("seek: host's mpv restarted (playback-restart)", f.HostRestart, "")
	row("seek: host's SeekTo returned (publish acked)", f.Acked, "")
	row("seek: follower got the room change", f.Received, "")
	row("seek: follower issued its seek", f.Issued, "")
	row("seek: follower's mpv restarted (first)", f.Restart, "")
	row("seek: |follower-host| 150 ms after that restart", f.Landing, "")
	row("seek: follower within 100 ms for good", f.Within, "")
	row("host pause -> follower paused", f.Pause, lim(tPauseP99, "p99"))
	row("pause: follower got the room change", f.PauseReceived, "")
	row("pause: follower issued its pause", f.PauseIssued, "")
	row("paused: |follower-host| once all are paused", f.PausedStop, "")
	row("paused: |follower-host| 500 ms after the pause", f.PausedAt500, lim(tPausedMax, "max"))
	row("host play -> follower playing", f.Resume, "")
	if len(p.RoundTrip) > 0 {
		row("HTTP round trip through the delay proxy", f.RoundTrip, "")
	}
	fmt.Fprintf(w, "\nsteady mean follower-host per follower (ms): %s  %s\n", signedList(p.FollowerMeans), lim(tMeanWorst, "every |mean|"))
	fmt.Fprintf(w, "steady mean follower-room expected per follower (ms): %s\n", signedList(p.FollowerRoomMeans))
	fmt.Fprintf(w, "host mpv vs the room state it published: mean %+.1f ms, max |%.1f| ms\n", mean(p.HostRoom), maxAbs(p.HostRoom))
	fmt.Fprintf(w, "follower corrections during steady play: %d seeks, %d speed changes\n", p.SteadySeeks, p.SteadySpeedChanges)
	for _, c := range p.Cost {
		if c.NA != "" {
			fmt.Fprintf(w, "client cost (an extra follower, watchparty process without mpv): %s\n", c.NA)
			continue
		}
		fmt.Fprintf(w, "client cost (an extra follower, watchparty process without mpv, %.0f s of steady play): CPU %.2f %% of one core, RSS max %.1f MB (mean %.1f)  %s, %s\n",
			c.Window.Seconds(), c.CPU, c.RSSMax, c.RSSMean, lim(tClientCPU, "CPU"), lim(tClientRSS, "RSS"))
	}
	slowSeek := 200 + ms(2*rep.Config.Latency)
	for _, s := range p.Seeks {
		if s.Converged < 0 || s.Converged > slowSeek {
			fmt.Fprintln(w, "slow "+s.String())
		}
	}
	slowPause := 20 + ms(2*(rep.Config.Latency+rep.Config.Jitter))
	for _, pl := range p.Pauses {
		for _, fp := range pl.Followers {
			if fp.Paused < 0 || fp.Paused > slowPause {
				fmt.Fprintln(w, "slow "+pl.String())
				break
			}
		}
	}
	for _, u := range p.Unsettled {
		fmt.Fprintln(w, "unsettled "+u)
	}
	if f.SeekFailed > 0 || p.PauseFailed > 0 || f.PausedNotPaused > 0 || len(p.Unsettled) > 0 {
		fmt.Fprintf(w, "FAILURES: %d seeks did not converge within 10 s, %d follower pauses/plays not seen within 5 s, %d followers not paused 500 ms after a pause, %d times not settled 10 s after a play\n",
			f.SeekFailed, p.PauseFailed, f.PausedNotPaused, len(p.Unsettled))
	}
	fmt.Fprintln(w, "\ntargets for these conditions:")
	for _, t := range rep.Targets() {
		state := "met"
		switch {
		case math.IsNaN(t.Value):
			state = "not measured"
		case !t.Met():
			state = "MISSED"
		}
		fmt.Fprintf(w, "  %-66s <= %-6g %8.2f  %s\n", t.Name, t.Limit, t.Value, state)
	}
	fmt.Fprintf(w, `
interpolated: each mpv's position from its time-pos property changes on a separate IPC
connection (least-delayed recent report + wall time x speed), at one instant for all;
raw: get_property playback-time on each mpv at (nearly) the same instant, which moves in
frame steps of %d ms, so two raw readings differ by up to a frame even in perfect sync.
Seek and pause timelines are from the probes (mpv's playback-restart and pause events), the
sessions' RoomChanged events (when they reached the benchmark) and their debug log
("correct" records with a seek or pause).
`, 1000/BenchFPS)
}

// line is one run's main figures on one line.
func (r *SyncResult) line() string {
	f := r.Figures()
	s := fmt.Sprintf("run %d (load %s): steady p50/p95/p99 %.1f/%.1f/%.1f, means %s; seek p50/p95/max %.0f/%.0f/%.0f; pause p50/p99 %.1f/%.1f; paused position p50/max %.0f/%.0f",
		r.Run, strings.Join(r.LoadAverages, ""), f.Steady.P50, f.Steady.P95, f.Steady.P99, signedList(r.FollowerMeans),
		f.Seek.P50, f.Seek.P95, f.Seek.Max, f.Pause.P50, f.Pause.P99, f.PausedAt500.P50, f.PausedAt500.Max)
	if len(r.RoundTrip) > 0 {
		s += fmt.Sprintf("; round trip p50 %.1f", Summarise(r.RoundTrip).P50)
	}
	for _, c := range r.Cost {
		if c.NA == "" {
			s += fmt.Sprintf("; client CPU %.2f %%, RSS %.1f MB", c.CPU, c.RSSMax)
		}
	}
	if f.SeekFailed > 0 || r.PauseFailed > 0 || len(r.Unsettled) > 0 {
		s += fmt.Sprintf("; FAILED %d seeks, %d pauses/plays, %d not settled", f.SeekFailed, r.PauseFailed, len(r.Unsettled))
	}
	return s
}

func signedList(xs []float64) string {
	if len(xs) == 0 {
		return "none"
	}
	var parts []string
	for _, x := range xs {
		parts = append(parts, fmt.Sprintf("%+.1f", x))
	}
	return strings.Join(parts, ", ")
}

func maxAbs(xs []float64) float64 {
	var m float64
	for _, x := range xs {
		m = math.Max(m, math.Abs(x))
	}
	return m
}

// msOrDash formats a timeline time (-1: not seen).
func msOrDash(v float64) string {
	if v < 0 || math.IsNaN(v) {
		return "—"
	}
	return fmt.Sprintf("+%.0f", v)
}

// String is the seek's timeline on one line.
func (s SeekTimeline) String() string {
	conv := fmt.Sprintf("all within 100 ms at %.0f ms", s.Converged)
	if s.Converged < 0 {
		conv = "not all within 100 ms after 10 s"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "seek %d (%+.0f s): %s; host's mpv restarted %s, publish acked %s", s.N, s.Jump, conv, msOrDash(s.HostRestart), msOrDash(s.Acked))
	for _, f := range s.Followers {
		land := "—"
		if !math.IsNaN(f.Landing) {
			land = fmt.Sprintf("%+.0f ms", f.Landing)
		}
		fmt.Fprintf(&b, "; %s: room change %s, seek issued %s, restarted %s, landed %s, within from %s (%d restarts, %d speed changes, %d room changes)",
			f.Name, msOrDash(f.Received), msOrDash(f.Issued), msOrDash(f.Restart), land, msOrDash(f.Within), f.Seeks, f.Speeds, f.Updates)
	}
	if s.At200 != "" {
		b.WriteString("; " + s.At200)
	}
	return b.String()
}

// String is the pause's timeline on one line.
func (p PauseTimeline) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "pause %d: host's mpv paused %s, TogglePlay returned %s", p.N, msOrDash(p.HostPaused), msOrDash(p.Acked))
	for i, f := range p.Followers {
		fmt.Fprintf(&b, "; follower%d: room change %s, pause issued %s, paused %s", i+1, msOrDash(f.Received), msOrDash(f.Issued), msOrDash(f.Paused))
		if i < len(p.Stop) && i < len(p.At500) {
			fmt.Fprintf(&b, ", stopped %s ms from the host, %s ms at +500 ms", signedOrDash(p.Stop[i]), signedOrDash(p.At500[i]))
		}
	}
	return b.String()
}

func signedOrDash(v float64) string {
	if math.IsNaN(v) {
		return "—"
	}
	return fmt.Sprintf("%+.0f", v)
}

// ms converts a duration to milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
