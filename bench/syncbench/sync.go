package syncbench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
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
	if c.Seeks < 0 {
		c.Seeks = 0
	}
	if c.Pauses < 0 {
		c.Pauses = 0
	}
	if c.Within <= 0 {
		c.Within = 100 * time.Millisecond
	}
	if c.Stable <= 0 {
		c.Stable = 300 * time.Millisecond
	}
}

// SyncResult holds the figures of one RunSync. Durations are in milliseconds.
type SyncResult struct {
	Followers int
	Steady    time.Duration

	// DriftHost is |follower − host| during steady play, both positions interpolated from
	// mpv's time-pos events on the probes' own connections, taken at the same instants.
	DriftHost Dist
	// DriftHostRaw is |follower − host| from mpv's playback-time property read over IPC at
	// the same instants: it includes up to one frame (40 ms) of quantisation per reading.
	DriftHostRaw Dist
	// DriftRoom is |follower − room's expected position| (interpolated follower position;
	// the room's state read from the server, whose clock is this machine's).
	DriftRoom Dist
	// HostRoom is the host's own signed offset from the room's expected position
	// (positive: the host's mpv is ahead of what it published), p50 and max of |.|.
	HostRoomMean, HostRoomMaxAbs float64
	// SteadySeeks and SteadySpeedChanges count the corrections the followers made during
	// steady play (as their mpvs reported them), all followers together.
	SteadySeeks, SteadySpeedChanges int

	// SeekConverge is the time from calling the host's SeekTo until every follower is
	// within Within of the host (and stays so for Stable).
	SeekConverge Dist
	// HostSeek is how long the host's own SeekTo took (seek settle + publish).
	HostSeek   Dist
	SeekFailed int // seeks that did not converge within 10 s
	// SlowSeeks describes the seeks that took more than 200 ms to converge: where the
	// farthest follower was 200 ms after the host's seek began.
	SlowSeeks []string

	// PauseLatency is the time from calling the host's TogglePlay (pause) until each
	// follower's mpv reported pause=yes on the probe's connection; one value per follower
	// per pause.
	PauseLatency Dist
	// ResumeLatency is the same for play.
	ResumeLatency Dist
	PauseFailed   int
	// SlowPauses describes the pauses where a follower took more than 10 ms: when the host's
	// mpv paused, when its TogglePlay returned (the server acknowledged the control) and each
	// follower's latency, to tell a slow host side from a slow follower.
	SlowPauses []string

	LoadBefore, LoadAfter string // /proc/loadavg
	MPVVersion            string
}

// RunSync runs the sync benchmark: an in-process server on loopback, a host and cfg.Followers
// followers each with a real mpv (--vo=null --ao=null) playing an ffmpeg-made clip, and
// measures steady drift, seek convergence and pause latency.
func RunSync(ctx context.Context, cfg SyncConfig) (*SyncResult, error) {
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
	say("rendering a %d s clip with ffmpeg…", clipLen)
	if err := MakeClip(clip, clipLen); err != nil {
		return nil, err
	}
	srv, err := StartServer(filepath.Join(dir, "server"), nil)
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	pt, err := NewParty(srv, clip, dir)
	if err != nil {
		return nil, err
	}
	pt.Logger = cfg.Logger
	defer pt.Close()

	res := &SyncResult{Followers: cfg.Followers, Steady: cfg.Steady, LoadBefore: loadavg()}
	say("starting the host and %d followers (real mpv, --vo=null --ao=null)…", cfg.Followers)
	host, err := pt.Host(ctx, "host")
	if err != nil {
		return nil, err
	}
	roomID := host.Session.Snapshot().RoomID
	var followers []*Member
	for i := range cfg.Followers {
		f, err := pt.Join(ctx, roomID, fmt.Sprintf("follower%d", i+1))
		if err != nil {
			return nil, err
		}
		followers = append(followers, f)
	}
	b := &syncBench{cfg: cfg, res: res, host: host, roomID: roomID}
	if b.hostProbe, err = Attach(ctx, host.Socket); err != nil {
		return nil, err
	}
	defer b.hostProbe.Close()
	b.hostProbe.p.GetProperty(ctx, "mpv-version", &res.MPVVersion)
	for _, f := range followers {
		pr, err := Attach(ctx, f.Socket)
		if err != nil {
			return nil, err
		}
		defer pr.Close()
		b.probes = append(b.probes, pr)
	}
	// The host's own user, as a script would be: reads the room state for the expected
	// position.
	if b.remote, err = room.Connect(ctx, host.Server); err != nil {
		return nil, err
	}
	defer b.remote.Close()

	if err := host.Session.TogglePlay(ctx); err != nil {
		return nil, fmt.Errorf("play: %w", err)
	}
	if _, err := b.converge(ctx, time.Now(), time.Second, 20*time.Second, nil); err != nil {
		return nil, fmt.Errorf("followers did not reach the host after play: %w", err)
	}
	say("steady play for %s…", cfg.Steady)
	if err := b.steady(ctx); err != nil {
		return nil, err
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
	res.LoadAfter = loadavg()
	return res, nil
}

type syncBench struct {
	cfg       SyncConfig
	res       *SyncResult
	host      *Member
	roomID    string
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
	var vsHost, vsHostRaw, vsRoom []float64
	var hostRoom []float64
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
		hostRoom = append(hostRoom, (h-expected)*1000)
		for _, f := range ss[1:] {
			fi := f.at(t, f.Interp)
			vsHost = append(vsHost, math.Abs(fi-h)*1000)
			vsHostRaw = append(vsHostRaw, math.Abs(f.at(t, f.Raw)-hRaw)*1000)
			vsRoom = append(vsRoom, math.Abs(fi-expected)*1000)
		}
	}
	seeks1, speeds1 := b.followerCounts()
	r := b.res
	r.DriftHost, r.DriftHostRaw, r.DriftRoom = Summarise(vsHost), Summarise(vsHostRaw), Summarise(vsRoom)
	r.SteadySeeks, r.SteadySpeedChanges = seeks1-seeks0, speeds1-speeds0
	var sum float64
	for _, v := range hostRoom {
		sum += v
		r.HostRoomMaxAbs = math.Max(r.HostRoomMaxAbs, math.Abs(v))
	}
	if len(hostRoom) > 0 {
		r.HostRoomMean = sum / float64(len(hostRoom))
	}
	return nil
}

func (b *syncBench) followerCounts() (seeks, speeds int) {
	for _, pr := range b.probes {
		s, v := pr.Counts()
		seeks, speeds = seeks+s, speeds+v
	}
	return seeks, speeds
}

// converge polls until every follower is within cfg.Within of the host and has stayed so
// for stable, and returns the time from t0 to the start of that window. If worst is not nil,
// it receives the farthest follower's offset from the host (ms) at the first reading 200 ms
// or more after t0, with whether that follower was still seeking.
func (b *syncBench) converge(ctx context.Context, t0 time.Time, stable, timeout time.Duration, worst *string) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	within := b.cfg.Within.Seconds()
	var since time.Time // start of the current in-tolerance window
	for {
		ss, err := b.readAll(ctx)
		if err != nil {
			return 0, err
		}
		t := ss[0].At
		h := ss[0].at(t, ss[0].Interp)
		ok := !ss[0].Seeking
		var offsets []string
		for _, f := range ss[1:] {
			d := f.at(t, f.Interp) - h
			if f.Seeking || math.Abs(d) > within || f.Paused != ss[0].Paused {
				ok = false
			}
			o := fmt.Sprintf("%+.0f", d*1000)
			if f.Seeking {
				o += " (seeking)"
			}
			offsets = append(offsets, o)
		}
		if worst != nil && *worst == "" && t.Sub(t0) >= 200*time.Millisecond {
			*worst = fmt.Sprintf("at +%d ms the followers were %s ms from the host", t.Sub(t0).Milliseconds(), strings.Join(offsets, ", "))
			if rs, err := b.roomState(ctx); err == nil {
				*worst += fmt.Sprintf(", the host %+.0f ms from the room", (h-rs.ExpectedPosition(t))*1000)
			}
		}
		switch {
		case !ok:
			since = time.Time{}
		case since.IsZero():
			since = t
		case t.Sub(since) >= stable:
			return since.Sub(t0), nil
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("not within %s: %w", b.cfg.Within, ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func (b *syncBench) seeks(ctx context.Context) error {
	var conv, hostSeek []float64
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
		hostSeek = append(hostSeek, ms(time.Since(t0)))
		var worst string
		d, err := b.converge(ctx, t0, b.cfg.Stable, 10*time.Second, &worst)
		if err != nil {
			b.res.SeekFailed++
			continue
		}
		conv = append(conv, ms(d))
		if d > 200*time.Millisecond {
			b.res.SlowSeeks = append(b.res.SlowSeeks, fmt.Sprintf("seek %d (%+.0f s): %.0f ms; %s", i+1, target-pos, ms(d), worst))
		}
	}
	b.res.SeekConverge, b.res.HostSeek = Summarise(conv), Summarise(hostSeek)
	return nil
}

func (b *syncBench) pauses(ctx context.Context) error {
	var pause, resume []float64
	n := 0
	toggle := func(paused bool, into *[]float64) error {
		t0 := time.Now()
		if err := b.host.Session.TogglePlay(ctx); err != nil {
			return err
		}
		acked := time.Since(t0)
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		var lat []string
		slow := false
		hostAt := "?"
		if at, err := b.hostProbe.WaitPaused(wctx, paused, t0); err == nil {
			hostAt = fmt.Sprintf("%.1f", ms(at.Sub(t0)))
		}
		for _, pr := range b.probes {
			at, err := pr.WaitPaused(wctx, paused, t0)
			if err != nil {
				b.res.PauseFailed++
				continue
			}
			d := ms(at.Sub(t0))
			*into = append(*into, d)
			lat = append(lat, fmt.Sprintf("%.1f", d))
			slow = slow || d > 10
		}
		if paused {
			n++
			if slow {
				b.res.SlowPauses = append(b.res.SlowPauses, fmt.Sprintf("pause %d: host's mpv paused after %s ms, its TogglePlay returned after %.1f ms; followers paused after %s ms",
					n, hostAt, ms(acked), strings.Join(lat, ", ")))
			}
		}
		return nil
	}
	for i := range b.cfg.Pauses {
		if _, err := b.converge(ctx, time.Now(), b.cfg.Stable, 10*time.Second, nil); err != nil {
			return fmt.Errorf("before pause %d: %w", i+1, err)
		}
		jitter(ctx, 500*time.Millisecond, 1500*time.Millisecond)
		if err := toggle(true, &pause); err != nil {
			return fmt.Errorf("pause %d: %w", i+1, err)
		}
		jitter(ctx, 300*time.Millisecond, 600*time.Millisecond)
		if err := toggle(false, &resume); err != nil {
			return fmt.Errorf("play %d: %w", i+1, err)
		}
	}
	b.res.PauseLatency, b.res.ResumeLatency = Summarise(pause), Summarise(resume)
	return nil
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

// Print writes the result as a table with the targets of issue 5.
func (r *SyncResult) Print(w io.Writer) {
	fmt.Fprintf(w, "sync benchmark: host + %d followers, real mpv (%s, --vo=null --ao=null), in-process server on loopback\n", r.Followers, r.MPVVersion)
	fmt.Fprintf(w, "machine: %d CPUs, load average %s before, %s after\n\n", runtime.NumCPU(), r.LoadBefore, r.LoadAfter)
	row := func(name string, d Dist, target string) {
		fmt.Fprintf(w, "%-44s %5d  %8.1f  %8.1f  %8.1f  %8.1f  %s\n", name, d.N, d.P50, d.P95, d.P99, d.Max, target)
	}
	fmt.Fprintf(w, "%-44s %5s  %8s  %8s  %8s  %8s  %s\n", "measure (ms)", "n", "p50", "p95", "p99", "max", "target")
	row(fmt.Sprintf("steady |follower-host| (%s, interpolated)", r.Steady), r.DriftHost, "p95 <= 50")
	row("steady |follower-host| (raw playback-time)", r.DriftHostRaw, "")
	row("steady |follower-room expected|", r.DriftRoom, "")
	row("seek: all followers within 100 ms of host", r.SeekConverge, "p95 <= 200")
	row("seek: host's own SeekTo (settle + publish)", r.HostSeek, "")
	row("host pause -> follower paused", r.PauseLatency, "p99 <= 100")
	row("host play -> follower playing", r.ResumeLatency, "")
	fmt.Fprintf(w, "\nhost mpv vs the room state it published: mean %+.1f ms, max |%.1f| ms\n", r.HostRoomMean, r.HostRoomMaxAbs)
	fmt.Fprintf(w, "follower corrections during steady play: %d seeks, %d speed changes\n", r.SteadySeeks, r.SteadySpeedChanges)
	for _, s := range r.SlowSeeks {
		fmt.Fprintln(w, "slow "+s)
	}
	for _, s := range r.SlowPauses {
		fmt.Fprintln(w, "slow "+s)
	}
	if r.SeekFailed > 0 || r.PauseFailed > 0 {
		fmt.Fprintf(w, "FAILURES: %d seeks did not converge within 10 s, %d follower pauses/plays not seen within 5 s\n", r.SeekFailed, r.PauseFailed)
	}
	fmt.Fprintln(w, `
interpolated: each mpv's position from its time-pos property changes on a separate IPC
connection (least-delayed recent report + wall time x speed), at one instant for all;
raw: get_property playback-time on each mpv at (nearly) the same instant, which moves in
frame steps of 40 ms, so two raw readings differ by up to a frame even in perfect sync.`)
}

// Met reports whether the targets were met.
func (r *SyncResult) Met() bool {
	return r.DriftHost.P95 <= 50 && r.SeekConverge.P95 <= 200 && r.PauseLatency.P99 <= 100 &&
		r.SeekFailed == 0 && r.PauseFailed == 0
}
