package syncbench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/watchparty/watchparty/party"
	"github.com/watchparty/watchparty/room"
)

// SyncConfig configures RunSync. Zero values take the defaults in brackets.
type SyncConfig struct {
	Followers int           // followers besides the host [3]
	Steady    time.Duration // steady play measured [60 s]
	Interval  time.Duration // sampling interval during steady play [100 ms]
	Seeks     int           // host seeks, alternating forward and back [10]
	Pauses    int           // host pause/play cycles [30]
	// Within is the convergence tolerance after a seek [100 ms].
	Within time.Duration
	// Stable is how long every follower must stay within tolerance for a seek to count as
	// converged; the convergence time is the start of that window [300 ms].
	Stable time.Duration
	// Runs is how many times the whole measurement is repeated (a new server, room and mpv
	// players each time, the same clip); the figures are pooled [1].
	Runs int
	// Load is how many busy CPU workers (separate processes) run during the measurement.
	Load int
	// Latency and Jitter put a DelayProxy between every client and the server: each chunk
	// is held Latency ± Jitter one way. Zero: clients reach the server directly.
	Latency, Jitter time.Duration
	// Client, if set, runs an extra follower as a separate watchparty process during steady
	// play to measure its CPU and memory (Linux only).
	Client ClientCommand
	// Progress, if set, receives one line per phase.
	Progress io.Writer
	// Logger receives the sessions' diagnostics; nil discards.
	Logger *slog.Logger
}

func (c *SyncConfig) defaults() {
	if c.Followers <= 0 {
		c.Followers = 3
	}
	if c.Steady <= 0 {
		c.Steady = 60 * time.Second
	}
	if c.Interval <= 0 {
		c.Interval = 100 * time.Millisecond
	}
	c.Seeks, c.Pauses, c.Load = max(0, c.Seeks), max(0, c.Pauses), max(0, c.Load)
	if c.Within <= 0 {
		c.Within = 100 * time.Millisecond
	}
	if c.Stable <= 0 {
		c.Stable = 300 * time.Millisecond
	}
	if c.Runs <= 0 {
		c.Runs = 1
	}
}

// SyncResult holds the measurements of one run (or, from Pool, of several): the samples
// themselves, so that runs pool by concatenation. Times are in milliseconds.
type SyncResult struct {
	Run       int // 1, 2, …; 0 for a pooled result
	Runs      int // runs pooled in it
	Followers int
	Steady    time.Duration

	// SteadyAbs is |follower − host| during steady play, both positions interpolated from
	// mpv's time-pos events on the probes' own connections, taken at the same instants.
	SteadyAbs []float64
	// SteadyRaw is |follower − host| from mpv's playback-time read over IPC at the same
	// instants: it moves in frame steps (10 ms at 100 fps).
	SteadyRaw []float64
	// SteadyRoom is |follower − room's expected position| (interpolated follower position;
	// the room state read from the server, whose clock is this machine's).
	SteadyRoom []float64
	// FollowerMeans is each follower's signed mean of follower − host during steady play
	// (positive: ahead of the host), one per follower per run.
	FollowerMeans []float64
	// FollowerRoomMeans is the same against the room's expected position: with HostRoom it
	// tells a bias of the host's publishing from one of the followers' following.
	FollowerRoomMeans []float64
	// HostRoom is the host's signed offset from the room's expected position at each steady
	// sample (positive: the host's mpv is ahead of what it published).
	HostRoom []float64
	// SteadySeeks and SteadySpeedChanges count the corrections the followers made during
	// steady play (as their mpvs reported them), all followers together.
	SteadySeeks, SteadySpeedChanges int

	// Seeks are the host seeks with their timelines.
	Seeks []SeekTimeline
	// Pauses are the host pauses with their timelines and where everyone stopped.
	Pauses []PauseTimeline
	// Resume is the time from the host's TogglePlay (play) until each follower's mpv reported
	// pause=no.
	Resume      []float64
	PauseFailed int // follower pauses or plays not seen within 5 s
	// Unsettled describes the times the followers were not back within tolerance of the
	// host 10 s after a play, before a pause (each counts as a failure).
	Unsettled []string

	// RoundTrip is the HTTP round trip through the delay proxy (empty without one).
	RoundTrip []float64
	// Cost is the extra follower's cost, one per run (empty without Client).
	Cost []ClientCost

	LoadAverages []string // per run: "before → after" (/proc/loadavg, 1, 5, 15 min)
	MPVVersion   string
}

// SeekTimeline is one host seek: milliseconds from the host's SeekTo call (-1: not seen).
type SeekTimeline struct {
	N           int
	Jump        float64 // s, the seek's distance
	HostRestart float64 // the host's mpv reported playback-restart
	Acked       float64 // SeekTo returned: the server acknowledged the publish
	Converged   float64 // every follower within tolerance of the host (-1: not within 10 s)
	Followers   []FollowerSeek
	// At200 describes where everyone was at the first reading 200 ms or more after the call.
	At200 string
}

// FollowerSeek is one follower's part of a seek timeline, in ms from the host's SeekTo call
// (-1: not seen).
type FollowerSeek struct {
	Name     string
	Received float64 // the session's RoomChanged event reached the benchmark
	Issued   float64 // the session logged a "correct" with a seek
	Restart  float64 // the follower's mpv reported playback-restart (its first in the window)
	// Landing is follower − host (signed) at the first reading ≥ 150 ms after Restart, when
	// the follower's position has settled (NaN: no such reading).
	Landing float64
	Within  float64 // the start of the follower's last in-tolerance stretch
	Updates int     // room changes received in the window (the seek, then republishes)
	Seeks   int     // playback restarts in the window (more than 1: a correction seek)
	Speeds  int     // speed changes in the window (nudges and their ends)
}

// PauseTimeline is one host pause: milliseconds from the host's TogglePlay call (-1: not
// seen).
type PauseTimeline struct {
	N          int
	HostPaused float64 // the host's mpv reported pause=yes
	Acked      float64 // TogglePlay returned
	Followers  []FollowerPause
	// Stop is follower − host (signed, ms) once every mpv reports paused: where they stopped.
	// At500 is the same 500 ms after the call. NaN: that follower was not paused then.
	Stop, At500 []float64
}

// FollowerPause is one follower's part of a pause timeline (ms, -1: not seen).
type FollowerPause struct {
	Received float64 // RoomChanged (paused) reached the benchmark
	Issued   float64 // the session logged a "correct" with a pause
	Paused   float64 // the follower's mpv reported pause=yes
}

// SyncReport is the result of RunSync: every run and the figures pooled over them.
type SyncReport struct {
	Config SyncConfig
	Runs   []*SyncResult
	Pooled *SyncResult
}

// RunSync runs the sync benchmark cfg.Runs times (when a run fails after others completed,
// it returns the completed ones with the error): each run an in-process server on loopback,
// a host and cfg.Followers followers each with a real mpv (--vo=null --ao=null) playing a
// 100 fps ffmpeg-made clip, measuring steady drift, seek convergence and pause latency and
// position, with cfg.Load busy workers running and, with cfg.Latency, every client behind a
// delay proxy.
func RunSync(ctx context.Context, cfg SyncConfig) (*SyncReport, error) {
	cfg.defaults()
	if err := NeedPrograms(); err != nil {
		return nil, err
	}
	say := func(format string, args ...any) {
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, format+"\n", args...)
		}
	}
	dir, err := os.MkdirTemp("", "watchparty-bench-sync-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)

	// Enough media for the whole run: steady play, seeks drifting forward, pause cycles.
	clipLen := 30 + int(cfg.Steady.Seconds()) + cfg.Seeks*8 + cfg.Pauses*3 + 60
	clip := filepath.Join(dir, "clip.mp4")
	say("rendering a %d s clip at %d fps with ffmpeg…", clipLen, BenchFPS)
	if err := MakeClipRate(clip, clipLen, BenchFPS); err != nil {
		return nil, err
	}
	load, err := StartLoad(cfg.Load)
	if err != nil {
		return nil, err
	}
	defer load.Stop()
	if cfg.Load > 0 {
		say("%d busy CPU workers running (pids %v)", cfg.Load, load.Pids())
	}
	rep := &SyncReport{Config: cfg}
	for i := range cfg.Runs {
		if cfg.Runs > 1 {
			say("run %d of %d", i+1, cfg.Runs)
		}
		runDir := filepath.Join(dir, fmt.Sprintf("run%d", i+1))
		r, err := runOnce(ctx, cfg, clip, runDir, say)
		if err != nil {
			if cfg.Runs > 1 {
				err = fmt.Errorf("run %d: %w", i+1, err)
			}
			if len(rep.Runs) == 0 {
				return nil, err
			}
			rep.Pooled = Pool(rep.Runs)
			return rep, err
		}
		r.Run = i + 1
		rep.Runs = append(rep.Runs, r)
	}
	rep.Pooled = Pool(rep.Runs)
	return rep, nil
}

// runOnce is one whole measurement.
func runOnce(ctx context.Context, cfg SyncConfig, clip, dir string, say func(string, ...any)) (*SyncResult, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	srv, err := StartServer(filepath.Join(dir, "server"), nil)
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	res := &SyncResult{Runs: 1, Followers: cfg.Followers, Steady: cfg.Steady}
	loadBefore := loadavg()
	clientURL := srv.URL
	if cfg.Latency > 0 || cfg.Jitter > 0 {
		u, err := url.Parse(srv.URL)
		if err != nil {
			return nil, err
		}
		px, err := StartDelayProxy(u.Host, cfg.Latency, cfg.Jitter)
		if err != nil {
			return nil, err
		}
		defer px.Close()
		clientURL = px.URL
		if res.RoundTrip, err = roundTrips(ctx, px.URL, 20); err != nil {
			return nil, fmt.Errorf("round trip through the delay proxy: %w", err)
		}
		say("delay proxy: %s ± %s one way, HTTP round trip p50 %.1f ms", cfg.Latency, cfg.Jitter, Summarise(res.RoundTrip).P50)
	}
	pt, err := NewParty(srv, clip, dir)
	if err != nil {
		return nil, err
	}
	pt.Logger, pt.Trace, pt.ClientURL = cfg.Logger, NewTrace(), clientURL
	defer pt.Close()

	say("starting the host and %d followers (real mpv, --vo=null --ao=null)…", cfg.Followers)
	host, err := pt.Host(ctx, "host")
	if err != nil {
		return nil, err
	}
	roomID := host.Session.Snapshot().RoomID
	b := &syncBench{cfg: cfg, res: res, host: host, roomID: roomID, trace: pt.Trace}
	for i := range cfg.Followers {
		f, err := pt.Join(ctx, roomID, fmt.Sprintf("follower%d", i+1))
		if err != nil {
			return nil, err
		}
		b.followers = append(b.followers, f)
	}
	if b.hostProbe, err = Attach(ctx, host.Socket); err != nil {
		return nil, err
	}
	defer b.hostProbe.Close()
	b.hostProbe.p.GetProperty(ctx, "mpv-version", &res.MPVVersion)
	for _, f := range b.followers {
		pr, err := Attach(ctx, f.Socket)
		if err != nil {
			return nil, err
		}
		defer pr.Close()
		b.probes = append(b.probes, pr)
	}
	// The host's own user, as a script would be, straight to the server (not through the
	// proxy): reads the room state for the expected position.
	direct := host.Server
	direct.URL, direct.Logger = srv.URL, cfg.Logger
	if b.remote, err = room.Connect(ctx, direct); err != nil {
		return nil, err
	}
	defer b.remote.Close()

	if err := host.Session.TogglePlay(ctx); err != nil {
		return nil, fmt.Errorf("play: %w", err)
	}
	if _, _, err := b.converge(ctx, time.Now(), time.Second, 20*time.Second); err != nil {
		return nil, fmt.Errorf("followers did not reach the host after play: %w", err)
	}
	var cc *costClient
	switch {
	case cfg.Client == nil:
	case runtime.GOOS != "linux":
		res.Cost = append(res.Cost, ClientCost{NA: "n/a (reads /proc: Linux only)"})
	default:
		say("an extra follower as its own process (watchparty join --headless) for the client cost…")
		if cc, err = startCostClient(ctx, cfg.Client, clientURL, roomID, host.Session.InviteSecret(), clip, dir); err != nil {
			return nil, err
		}
		defer cc.end()
		cc.begin()
	}
	say("steady play for %s…", cfg.Steady)
	if err := b.steady(ctx); err != nil {
		return nil, err
	}
	if cc != nil {
		res.Cost = append(res.Cost, cc.finish())
		cc.end()
	}
	if cfg.Seeks > 0 {
		say("%d host seeks…", cfg.Seeks)
		if err := b.seeks(ctx); err != nil {
			return nil, err
		}
	}
	if cfg.Pauses > 0 {
		say("%d host pause/play cycles…", cfg.Pauses)
		if err := b.pauses(ctx); err != nil {
			return nil, err
		}
	}
	res.LoadAverages = []string{loadBefore + " → " + loadavg()}
	return res, nil
}

// roundTrips times n HTTP requests through the proxy on one kept-alive connection (after a
// first one that opens it).
func roundTrips(ctx context.Context, base string, n int) ([]float64, error) {
	tr := &http.Transport{MaxIdleConnsPerHost: 1}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	var out []float64
	for i := range n + 1 {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/watchparty/v1/info", nil)
		if err != nil {
			return nil, err
		}
		t0 := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if i > 0 {
			out = append(out, ms(time.Since(t0)))
		}
	}
	return out, nil
}

type syncBench struct {
	cfg       SyncConfig
	res       *SyncResult
	host      *Member
	followers []*Member
	roomID    string
	trace     *Trace
	hostProbe *Probe
	probes    []*Probe
	remote    *room.Remote
}

// readAll samples the host (index 0) and every follower at (nearly) the same instant.
func (b *syncBench) readAll(ctx context.Context) ([]Sample, error) {
	all := append([]*Probe{b.hostProbe}, b.probes...)
	out := make([]Sample, len(all))
	errs := make([]error, len(all))
	var wg sync.WaitGroup
	for i, pr := range all {
		wg.Go(func() { out[i], errs[i] = pr.Read(ctx) })
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// at moves a sample's position to instant t (while playing).
func (s Sample) at(t time.Time, v float64) float64 {
	if s.Paused || s.Seeking {
		return v
	}
	return v + t.Sub(s.At).Seconds()*s.Speed
}

func (b *syncBench) roomState(ctx context.Context) (party.RoomState, error) {
	st, err := b.remote.Status(ctx, b.roomID)
	if err != nil {
		return party.RoomState{}, err
	}
	return party.ParseRoomRow(st.Room)
}

func (b *syncBench) steady(ctx context.Context) error {
	r := b.res
	signed := make([][]float64, len(b.probes))
	signedRoom := make([][]float64, len(b.probes))
	seeks0, speeds0 := b.followerCounts()
	rs, err := b.roomState(ctx)
	if err != nil {
		return err
	}
	lastRoom := time.Now()
	tick := time.NewTicker(b.cfg.Interval)
	defer tick.Stop()
	end := time.Now().Add(b.cfg.Steady)
	for time.Now().Before(end) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		if time.Since(lastRoom) >= time.Second {
			if rs, err = b.roomState(ctx); err != nil {
				return err
			}
			lastRoom = time.Now()
		}
		ss, err := b.readAll(ctx)
		if err != nil {
			return err
		}
		t := ss[0].At
		h, hRaw := ss[0].at(t, ss[0].Interp), ss[0].at(t, ss[0].Raw)
		expected := rs.ExpectedPosition(t)
		r.HostRoom = append(r.HostRoom, (h-expected)*1000)
		for i, f := range ss[1:] {
			fi := f.at(t, f.Interp)
			signed[i] = append(signed[i], (fi-h)*1000)
			signedRoom[i] = append(signedRoom[i], (fi-expected)*1000)
			r.SteadyAbs = append(r.SteadyAbs, math.Abs(fi-h)*1000)
			r.SteadyRaw = append(r.SteadyRaw, math.Abs(f.at(t, f.Raw)-hRaw)*1000)
			r.SteadyRoom = append(r.SteadyRoom, math.Abs(fi-expected)*1000)
		}
	}
	for i := range signed {
		r.FollowerMeans = append(r.FollowerMeans, mean(signed[i]))
		r.FollowerRoomMeans = append(r.FollowerRoomMeans, mean(signedRoom[i]))
	}
	seeks1, speeds1 := b.followerCounts()
	r.SteadySeeks, r.SteadySpeedChanges = seeks1-seeks0, speeds1-speeds0
	return nil
}

func (b *syncBench) followerCounts() (seeks, speeds int) {
	for _, pr := range b.probes {
		s, v := pr.Counts()
		seeks, speeds = seeks+s, speeds+v
	}
	return seeks, speeds
}

// convSample is one reading during converge: each follower's offset from the host (s).
type convSample struct {
	t       time.Time
	off     []float64
	ok      []bool // not seeking, within tolerance, same pause state as the host
	seeking []bool
}

// converge polls until every follower is within cfg.Within of the host and has stayed so
// for stable, and returns the time from t0 to the start of that window, with the readings.
func (b *syncBench) converge(ctx context.Context, t0 time.Time, stable, timeout time.Duration) (time.Duration, []convSample, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	within := b.cfg.Within.Seconds()
	var since time.Time // start of the current in-tolerance window
	var samples []convSample
	for {
		ss, err := b.readAll(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return 0, samples, fmt.Errorf("not within %s: %w", b.cfg.Within, ctx.Err())
			}
			return 0, samples, err
		}
		t := ss[0].At
		h := ss[0].at(t, ss[0].Interp)
		all := !ss[0].Seeking
		cs := convSample{t: t}
		for _, f := range ss[1:] {
			d := f.at(t, f.Interp) - h
			ok := !f.Seeking && math.Abs(d) <= within && f.Paused == ss[0].Paused
			all = all && ok
			cs.off, cs.ok, cs.seeking = append(cs.off, d), append(cs.ok, ok), append(cs.seeking, f.Seeking)
		}
		samples = append(samples, cs)
		switch {
		case !all:
			since = time.Time{}
		case since.IsZero():
			since = t
		case t.Sub(since) >= stable:
			return since.Sub(t0), samples, nil
		}
		select {
		case <-ctx.Done():
			return 0, samples, fmt.Errorf("not within %s: %w", b.cfg.Within, ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func (b *syncBench) seeks(ctx context.Context) error {
	dur := b.hostProbe.p.Duration()
	for i := range b.cfg.Seeks {
		jitter(ctx, time.Second, 2*time.Second)
		pos := b.hostProbe.Position()
		target := pos + 15
		if i%2 == 1 {
			target = pos - 10
		}
		target = math.Max(5, math.Min(target, dur-20))
		t0 := time.Now()
		if err := b.host.Session.SeekTo(ctx, target); err != nil {
			return fmt.Errorf("seek %d: %w", i+1, err)
		}
		acked := time.Since(t0)
		d, samples, err := b.converge(ctx, t0, b.cfg.Stable, 10*time.Second)
		if err != nil && ctx.Err() != nil {
			return ctx.Err()
		}
		tl := b.seekTimeline(t0, time.Now(), samples)
		tl.N, tl.Jump, tl.Acked, tl.Converged = i+1, target-pos, ms(acked), ms(d)
		if err != nil {
			tl.Converged = -1
		}
		b.res.Seeks = append(b.res.Seeks, tl)
	}
	return nil
}

// landDelay: a follower's landing is read this long after its playback restart.
const landDelay = 150 * time.Millisecond

// seekTimeline puts together what the probes, the sessions' events and their logs saw of
// the seek called at t0.
func (b *syncBench) seekTimeline(t0, end time.Time, samples []convSample) SeekTimeline {
	since := func(t time.Time) float64 { return ms(t.Sub(t0)) }
	first := func(ts []time.Time) float64 {
		if len(ts) == 0 {
			return -1
		}
		return since(ts[0])
	}
	tl := SeekTimeline{HostRestart: first(b.hostProbe.Seeked(t0, end))}
	for j, f := range b.followers {
		fs := FollowerSeek{Name: f.Name, Received: -1, Issued: -1, Landing: math.NaN(), Within: -1}
		rcs := f.RoomChanges(t0)
		if len(rcs) > 0 {
			fs.Received = since(rcs[0].At)
		}
		for _, rc := range rcs {
			if rc.At.Before(end) {
				fs.Updates++
			}
		}
		if cs := b.trace.Find(f.Name, "correct", t0, end, hasAction("seek")); len(cs) > 0 {
			fs.Issued = since(cs[0].Time)
		}
		restarts := b.probes[j].Seeked(t0, end)
		fs.Restart, fs.Seeks = first(restarts), len(restarts)
		fs.Speeds = len(b.probes[j].SpeedChanges(t0, end))
		var in time.Time
		for _, s := range samples {
			if len(restarts) > 0 && math.IsNaN(fs.Landing) && !s.seeking[j] && !s.t.Before(restarts[0].Add(landDelay)) {
				fs.Landing = s.off[j] * 1000
			}
			switch {
			case !s.ok[j]:
				in = time.Time{}
			case in.IsZero():
				in = s.t
			}
		}
		if !in.IsZero() {
			fs.Within = since(in)
		}
		tl.Followers = append(tl.Followers, fs)
	}
	for _, s := range samples {
		if s.t.Sub(t0) < 200*time.Millisecond {
			continue
		}
		tl.At200 = fmt.Sprintf("at +%.0f ms %s", since(s.t), s.offsets())
		break
	}
	return tl
}

// lastOffsets describes the last reading of a converge.
func lastOffsets(samples []convSample) string {
	if len(samples) == 0 {
		return "no reading"
	}
	return samples[len(samples)-1].offsets()
}

// offsets describes a reading: each follower's offset from the host.
func (s convSample) offsets() string {
	var offs []string
	for j, d := range s.off {
		o := fmt.Sprintf("%+.0f", d*1000)
		if s.seeking[j] {
			o += " (seeking)"
		}
		offs = append(offs, o)
	}
	return "the followers were " + strings.Join(offs, ", ") + " ms from the host"
}

// hasAction keeps "correct" records whose actions include a.
func hasAction(a string) func(map[string]string) bool {
	return func(attrs map[string]string) bool {
		for part := range strings.SplitSeq(attrs["actions"], "+") {
			if part == a {
				return true
			}
		}
		return false
	}
}

func (b *syncBench) pauses(ctx context.Context) error {
	n := 0
	toggle := func(paused bool) error {
		t0 := time.Now()
		if err := b.host.Session.TogglePlay(ctx); err != nil {
			return err
		}
		acked := time.Since(t0)
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		pl := PauseTimeline{HostPaused: -1, Acked: ms(acked)}
		if at, err := b.hostProbe.WaitPaused(wctx, paused, t0); err == nil {
			pl.HostPaused = ms(at.Sub(t0))
		}
		for _, pr := range b.probes {
			fp := FollowerPause{Received: -1, Issued: -1, Paused: -1}
			at, err := pr.WaitPaused(wctx, paused, t0)
			if err != nil {
				b.res.PauseFailed++
			} else {
				fp.Paused = ms(at.Sub(t0))
			}
			pl.Followers = append(pl.Followers, fp)
		}
		if !paused {
			for _, fp := range pl.Followers {
				if fp.Paused >= 0 {
					b.res.Resume = append(b.res.Resume, fp.Paused)
				}
			}
			return nil
		}
		n++
		pl.N = n
		// Where everyone stopped, then where they are 500 ms after the pause.
		pl.Stop = b.pausedOffsets(ctx)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Until(t0.Add(500 * time.Millisecond))):
		}
		pl.At500 = b.pausedOffsets(ctx)
		end := time.Now()
		for j, f := range b.followers {
			for _, rc := range f.RoomChanges(t0) {
				if !rc.Playing && rc.At.Before(end) {
					pl.Followers[j].Received = ms(rc.At.Sub(t0))
					break
				}
			}
			if cs := b.trace.Find(f.Name, "correct", t0, end, hasAction("pause")); len(cs) > 0 {
				pl.Followers[j].Issued = ms(cs[0].Time.Sub(t0))
			}
		}
		b.res.Pauses = append(b.res.Pauses, pl)
		return nil
	}
	for i := range b.cfg.Pauses {
		if _, samples, err := b.converge(ctx, time.Now(), b.cfg.Stable, 10*time.Second); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			// Not settled after 10 s: a failure of the run's figures, not the end of the run.
			b.res.Unsettled = append(b.res.Unsettled, fmt.Sprintf("before pause %d, not all within %s of the host for %s within 10 s: %s",
				i+1, b.cfg.Within, b.cfg.Stable, lastOffsets(samples)))
		}
		jitter(ctx, 500*time.Millisecond, 1500*time.Millisecond)
		if err := toggle(true); err != nil {
			return fmt.Errorf("pause %d: %w", i+1, err)
		}
		jitter(ctx, 100*time.Millisecond, 300*time.Millisecond)
		if err := toggle(false); err != nil {
			return fmt.Errorf("play %d: %w", i+1, err)
		}
	}
	return nil
}

// pausedOffsets reads every mpv's playback-time and returns follower − host (ms) for each
// follower; NaN for a follower (or all, for the host) not paused or not read.
func (b *syncBench) pausedOffsets(ctx context.Context) []float64 {
	all := append([]*Probe{b.hostProbe}, b.probes...)
	pos := make([]float64, len(all))
	var wg sync.WaitGroup
	for i, pr := range all {
		wg.Go(func() {
			p, paused, err := pr.ReadPosition(ctx)
			if err != nil || !paused {
				p = math.NaN()
			}
			pos[i] = p
		})
	}
	wg.Wait()
	out := make([]float64, len(b.probes))
	for i := range out {
		out[i] = (pos[i+1] - pos[0]) * 1000 // NaN propagates
	}
	return out
}

// jitter waits a random time in [lo, hi), so actions do not line up with the session's ticks.
func jitter(ctx context.Context, lo, hi time.Duration) {
	d := lo + rand.N(hi-lo)
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "n/a"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "n/a"
	}
	return strings.Join(f[:3], " ")
}

func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}
