package syncbench

import (
	"context"
	"sync"
	"time"

	"github.com/watchparty/watchparty/player"
)

// Probe is a second IPC connection to a member's mpv, independent of the session's own: it
// reads what mpv really does. Its methods are safe for concurrent use.
type Probe struct {
	p *player.Player

	mu        sync.Mutex
	pausedAt  []time.Time // when mpv reported pause=yes, as read from the socket
	resumedAt []time.Time
	seekedAt  []time.Time // playback restarts after a seek (anyone's), as read from the socket
	speededAt []time.Time // speed changes (anyone's)
	changed   chan struct{}
	done      chan struct{}
}

// Attach connects a probe to the mpv listening on socket.
func Attach(ctx context.Context, socket string) (*Probe, error) {
	p, err := player.Attach(ctx, socket)
	if err != nil {
		return nil, err
	}
	pr := &Probe{p: p, changed: make(chan struct{}), done: make(chan struct{})}
	go pr.watch()
	return pr, nil
}

func (pr *Probe) watch() {
	defer close(pr.done)
	for ev := range pr.p.Events() {
		pr.mu.Lock()
		switch ev.Kind {
		case player.EventPaused:
			pr.pausedAt = append(pr.pausedAt, ev.Time)
		case player.EventResumed:
			pr.resumedAt = append(pr.resumedAt, ev.Time)
		case player.EventSeeked:
			pr.seekedAt = append(pr.seekedAt, ev.Time)
		case player.EventSpeedChanged:
			pr.speededAt = append(pr.speededAt, ev.Time)
		}
		close(pr.changed)
		pr.changed = make(chan struct{})
		pr.mu.Unlock()
	}
}

// Close closes the probe's connection; mpv keeps running.
func (pr *Probe) Close() {
	pr.p.Close()
	<-pr.done
}

// Done is closed when the connection to mpv has ended (mpv exited, or Close).
func (pr *Probe) Done() <-chan struct{} { return pr.p.Done() }

// Pid is mpv's process id, read over IPC.
func (pr *Probe) Pid(ctx context.Context) (int, error) {
	var pid int
	err := pr.p.GetProperty(ctx, "pid", &pid)
	return pid, err
}

// SetPause sets mpv's pause property from this connection, as a user acting in mpv's window.
func (pr *Probe) SetPause(ctx context.Context, paused bool) error {
	return pr.p.SetProperty(ctx, "pause", paused)
}

// Property reads one of mpv's properties into v, from this connection.
func (pr *Probe) Property(ctx context.Context, name string, v any) error {
	return pr.p.GetProperty(ctx, name, v)
}

// SetProperty sets one of mpv's properties from this connection, as a user acting in mpv's
// window (choosing an audio or subtitle track, say).
func (pr *Probe) SetProperty(ctx context.Context, name string, v any) error {
	return pr.p.SetProperty(ctx, name, v)
}

// Sample is one reading of an mpv.
type Sample struct {
	// At is the midpoint between sending get_property playback-time and its reply.
	At time.Time
	// Raw is mpv's playback-time at At: the timestamp of the frame on screen, so it moves in
	// frame steps (10 ms with the benchmark's 100 fps clip, 40 ms at 25 fps).
	Raw float64
	// Interp is the position at At interpolated from mpv's time-pos property changes seen on
	// this connection (the least-delayed recent one, advanced by wall time × speed): it has
	// no frame-step error.
	Interp  float64
	Paused  bool
	Seeking bool
	Speed   float64
}

// Read takes one sample.
func (pr *Probe) Read(ctx context.Context) (Sample, error) {
	var raw float64
	sent := time.Now()
	err := pr.p.GetProperty(ctx, "playback-time", &raw)
	recv := time.Now()
	if err != nil {
		return Sample{}, err
	}
	st := pr.p.State()
	at := sent.Add(recv.Sub(sent) / 2)
	interp := st.Position
	if !st.Paused && !st.Seeking && !st.EndOfFile {
		interp -= time.Since(at).Seconds() * st.Speed // State was read after at
	}
	return Sample{At: at, Raw: raw, Interp: interp, Paused: st.Paused, Seeking: st.Seeking, Speed: st.Speed}, nil
}

// Counts reports how many seeks (playback restarts) and speed changes mpv has reported on
// this connection so far, whoever made them.
func (pr *Probe) Counts() (seeks, speedChanges int) {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	return len(pr.seekedAt), len(pr.speededAt)
}

// Seeked returns when mpv reported playback restarts after a seek (playback-restart), at or
// after since and before until (zero: no end), in order.
func (pr *Probe) Seeked(since, until time.Time) []time.Time {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	return between(pr.seekedAt, since, until)
}

// SpeedChanges returns when mpv reported speed changes at or after since and before until
// (zero: no end).
func (pr *Probe) SpeedChanges(since, until time.Time) []time.Time {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	return between(pr.speededAt, since, until)
}

func between(ts []time.Time, since, until time.Time) []time.Time {
	var out []time.Time
	for _, t := range ts {
		if !t.Before(since) && (until.IsZero() || t.Before(until)) {
			out = append(out, t)
		}
	}
	return out
}

// ReadPosition reads mpv's playback-time (the timestamp of the frame on screen) and pause
// state: exact while paused, in frame steps.
func (pr *Probe) ReadPosition(ctx context.Context) (pos float64, paused bool, err error) {
	if err := pr.p.GetProperty(ctx, "playback-time", &pos); err != nil {
		return 0, false, err
	}
	if err := pr.p.GetProperty(ctx, "pause", &paused); err != nil {
		return 0, false, err
	}
	return pos, paused, nil
}

// Position is the interpolated position now (no IPC round trip).
func (pr *Probe) Position() float64 { return pr.p.Position() }

// Paused is mpv's pause state as last reported on this connection.
func (pr *Probe) Paused() bool { return pr.p.Paused() }

// WaitPaused waits until mpv reports pause=want on this connection after since, and returns
// when it was reported (read from the socket). A state already reached counts.
func (pr *Probe) WaitPaused(ctx context.Context, want bool, since time.Time) (time.Time, error) {
	for {
		pr.mu.Lock()
		list, ch := pr.resumedAt, pr.changed
		if want {
			list = pr.pausedAt
		}
		var at time.Time
		for i := len(list) - 1; i >= 0; i-- {
			if list[i].Before(since) {
				break
			}
			at = list[i] // the first report at or after since
		}
		pr.mu.Unlock()
		if !at.IsZero() {
			return at, nil
		}
		select {
		case <-ch:
		case <-pr.done:
			return time.Time{}, player.ErrClosed
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		}
	}
}
