package player

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Properties observed on every connection, with their observe ids. time-pos is
// not observed (mpv would report it at every frame): the Player samples it with
// get_property (see pollLoop); obsTimePos still reads a time-pos change another
// client's observer id might send.
const (
	obsTimePos int64 = iota + 1
	obsPause
	obsSpeed
	obsDuration
	obsPausedForCache
	obsEOFReached
	obsSeekable
)

var observed = []struct {
	id   int64
	name string
}{
	{obsPause, "pause"},
	{obsSpeed, "speed"},
	{obsDuration, "duration"},
	{obsPausedForCache, "paused-for-cache"},
	{obsEOFReached, "eof-reached"},
	{obsSeekable, "seekable"},
}

// seekTolerance is how close (seconds) playback must restart to one of our
// seek targets for the seek to count as ours. Exact seeks land on the
// target; the margin covers a frame and a late time-pos update.
const seekTolerance = 0.25

// speedTolerance absorbs mpv printing floats with 6 decimals.
const speedTolerance = 1e-6

// errSeekInterrupted: the file ended or was replaced before the seek
// finished.
var errSeekInterrupted = errors.New("seek interrupted: the file ended or was replaced")

// seekStartTimeout bounds the wait for mpv to start a seek it has accepted.
// mpv starts a queued seek on its next playloop iteration (about 1 ms
// measured); on media it cannot seek in it never does (see ErrSeekIgnored).
const seekStartTimeout = 2 * time.Second

// errLoadReplaced: another file was loaded before this one was ready.
var errLoadReplaced = errors.New("replaced by another file before it was ready")

// State is a snapshot of what the Player knows about mpv.
type State struct {
	// Loaded is true while a file is loaded (including paused at its end
	// with keep-open).
	Loaded bool
	// Position is the interpolated media position in seconds (see
	// Player.Position).
	Position float64
	// Duration is the file's length in seconds, 0 when unknown.
	Duration float64
	// Speed is the playback speed (1 is normal).
	Speed float64
	// Paused is mpv's pause property.
	Paused bool
	// Buffering is true while playback waits for the network cache.
	Buffering bool
	// Seeking is true from a seek until playback restarts.
	Seeking bool
	// EndOfFile is true while playback sits at the end of the file.
	EndOfFile bool
	// Seekable is mpv's seekable property: false when mpv says the file
	// cannot be seeked in (it may still seek within its cache), true when
	// it can or while unknown.
	Seekable bool
	// UserActs counts the events with Origin ByUser emitted so far (see
	// Event.UserActs): more than the last event read says one is on its way.
	UserActs uint64
}

// posSamples is how many recent time-pos samples feed the position
// estimate: about 1.6 s of steady polling.
const posSamples = 16

// Sampling time-pos (see pollLoop, docs/design.md §8). While playback
// advances the Player reads time-pos every pollMin–pollMax (random, so the
// reads fall at every phase of the frame period: the estimate keeps the
// least-late one). After a change that restarts the estimate (a seek, a
// resume, the end of buffering) it reads burstPolls times burstMin–burstMax
// apart, so a few frames later the estimate is within a fraction of a frame.
const (
	pollMin     = 60 * time.Millisecond
	pollMax     = 140 * time.Millisecond
	burstPolls  = 12
	burstMin    = 2 * time.Millisecond
	burstMax    = 8 * time.Millisecond
	pollTimeout = 10 * time.Second
)

// stallTolerance: a time-pos this far (seconds) behind the estimate means
// playback really fell behind (a stall mpv did not announce), so the
// estimate restarts from it.
const stallTolerance = 0.1

// sample is a media position and the wall time it was read.
type sample struct {
	pos float64
	at  time.Time
}

// playState is the Player's model of mpv, fed by events.
type playState struct {
	pos      float64   // media seconds at `at`: last time-pos, or folded by rebase
	at       time.Time // wall time of pos
	posKnown bool
	// Recent samples while the position advances (pos/at is the newest).
	// Delivery delays only ever make a sample look late, so the estimate
	// is the largest pos + elapsed×speed among them: the least delayed
	// sample wins, as the fastest round trip does in Cristian's method.
	samples  [posSamples]sample
	nSamples int
	duration float64
	speed    float64

	paused, buffering, eof bool
	unseekable             bool // mpv's seekable property is false
	seeking                bool // seek event seen, playback-restart not yet
	loading                bool // start-file seen, first playback-restart not yet
	loaded                 bool
	closed                 bool // the connection ended: nothing advances any more
	eofSent                bool // EndOfFile already emitted for this file
	entryID                int64
	// sampled: a time-pos has been read since the last seek or start-file event.
	// restartPending: playback restarted before it was, so the restart is
	// handled when the next time-pos read returns (see onPollReply).
	sampled, restartPending bool
	burstLeft               int // fast time-pos reads still due (see burstPolls)
}

// advancing reports whether media time is moving with the wall clock.
func (s *playState) advancing() bool {
	return s.posKnown && !s.paused && !s.buffering && !s.seeking && !s.loading && !s.eof && !s.closed
}

// seekWait is one Seek of ours, from send until playback restarts.
type seekWait struct {
	target  float64
	started chan struct{} // closed at the seek event that executes it
	done    chan struct{}
	err     error
}

// Player is one mpv, controlled over its JSON IPC socket. Create it with
// Launch or Attach and end it with Close.
//
// All methods are safe for concurrent use. Methods that take a context send
// a command to mpv and wait for its reply (Seek and Load wait longer, see
// there); the rest read cached state and never block on mpv. Events arrive
// in mpv's order on Events.
type Player struct {
	c       *conn
	q       *eventQueue
	proc    *process // nil when attached to an mpv we did not start
	socket  string
	version string
	cleanup func() // removes the private socket directory, if any
	now     func() time.Time

	mu       sync.Mutex
	st       playState
	initLeft map[int64]bool // observed properties whose first value is still due
	initDone chan struct{}

	// Our seeks, by stage: sent (no reply yet), replied (queued in mpv, not
	// yet executed), and executed in the seek now in progress.
	seeksSent, seeksReplied, seekGroup []*seekWait
	// Pending expectations from our Play/Pause/Load and SetSpeed. wantPause
	// holds every pause change of ours mpv has not reported yet, oldest first:
	// a Pause then a Play sent before the first change arrives are both ours.
	wantPause []*bool
	wantSpeed *float64
	// userActs counts the events with Origin ByUser emitted.
	userActs uint64
	// Load outcomes by playlist entry id, and a channel closed (and
	// replaced) whenever one is recorded.
	loads      map[int64]error
	loadSignal chan struct{}
	// pollWake asks pollLoop for a time-pos read now (buffered 1).
	pollWake chan struct{}

	closeOnce sync.Once
}

// newPlayer starts the IPC client on nc, registers the observers and waits
// for their first values, so the state is complete when it returns. now is
// the wall clock (time.Now outside tests).
func newPlayer(ctx context.Context, nc net.Conn, socket string, now func() time.Time) (*Player, error) {
	p := &Player{
		q:          newEventQueue(),
		socket:     socket,
		now:        now,
		initLeft:   make(map[int64]bool, len(observed)),
		initDone:   make(chan struct{}),
		loads:      make(map[int64]error),
		loadSignal: make(chan struct{}),
		pollWake:   make(chan struct{}, 1),
	}
	p.st.speed = 1
	for _, o := range observed {
		p.initLeft[o.id] = true
	}
	p.c = newConn(nc, p.onEvent, p.onClose)
	if err := p.init(ctx); err != nil {
		_ = p.c.Close()
		p.q.shutdown()
		return nil, err
	}
	go p.pollLoop()
	return p, nil
}

func (p *Player) init(ctx context.Context) error {
	for _, o := range observed {
		if _, err := p.c.call(ctx, "observe_property "+o.name, []any{"observe_property", o.id, o.name}, nil); err != nil {
			return fmt.Errorf("observe mpv properties: %w", err)
		}
	}
	select {
	case <-p.initDone:
	case <-ctx.Done():
		return fmt.Errorf("wait for mpv's first property values: %w", ctx.Err())
	case <-p.c.Done():
		return p.c.Err()
	}
	if err := p.c.getProperty(ctx, "mpv-version", &p.version); err != nil {
		return err
	}
	if _, err := p.c.call(ctx, "get_property time-pos", []any{"get_property", "time-pos"}, p.onPollReply); err != nil && !errors.Is(err, ErrPropertyUnavailable) {
		return fmt.Errorf("read mpv's position: %w", err)
	}
	p.mu.Lock()
	p.st.loaded = p.st.posKnown // attached to an mpv that is already playing
	p.mu.Unlock()
	return nil
}

// Events returns the event stream. There is one stream per Player: use one
// consumer. Reading never holds up mpv: if the consumer lags, Paused and
// Resumed, SpeedChanged, and BufferingStart/End events are coalesced to the
// latest of each group, and order is kept. The channel is closed after
// EventClosed, or by Close (events not yet delivered are then dropped).
func (p *Player) Events() <-chan Event { return p.q.out }

// Done is closed when the connection to mpv has ended (mpv exited, or Close).
func (p *Player) Done() <-chan struct{} { return p.c.Done() }

// Err returns why the connection ended (wrapping ErrClosed), or nil while
// it is open.
func (p *Player) Err() error { return p.c.Err() }

// Version is mpv's version string, e.g. "mpv 0.35.1".
func (p *Player) Version() string { return p.version }

// Socket is the IPC socket path (or pipe name on Windows).
func (p *Player) Socket() string { return p.socket }

// Pid is the process id of the mpv that Launch started, or 0 when the
// Player is attached to an mpv it did not start.
func (p *Player) Pid() int {
	if p.proc == nil {
		return 0
	}
	return p.proc.cmd.Process.Pid
}

// Wait blocks until the mpv that Launch started has exited and returns its
// exit status (an *exec.ExitError, including after Close killed it). For an
// attached Player it waits for the connection to end and returns nil.
func (p *Player) Wait() error {
	if p.proc == nil {
		<-p.c.Done()
		return nil
	}
	<-p.proc.exited
	return p.proc.err
}

// Close ends the Player. If Launch started mpv, Close asks it to quit,
// kills it if it has not exited soon after (about a second in all), and reaps it; an attached
// mpv is left running. Calls in flight fail with ErrClosed. Close is
// idempotent and returns nil.
func (p *Player) Close() error {
	p.closeOnce.Do(func() {
		if p.proc != nil {
			p.proc.stop(p.c)
		}
		_ = p.c.Close()
		p.q.shutdown()
		if p.cleanup != nil {
			p.cleanup()
		}
	})
	return nil
}

// Position returns the media position in seconds: the last time-pos read
// from mpv plus the wall time since then times the speed, while playback
// advances (not paused, seeking, buffering, loading or at the end). time-pos
// moves in whole frames and is read about 10 times a second; interpolating
// from the least-late of the recent reads makes the position continuous and
// finer than a frame. It is clamped to [0, Duration] and 0 when no file is loaded.
func (p *Player) Position() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.positionAt(p.now())
}

// Paused reports mpv's pause property.
func (p *Player) Paused() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.st.paused
}

// Speed reports the playback speed.
func (p *Player) Speed() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.st.speed
}

// Duration reports the loaded file's length in seconds, 0 when unknown.
func (p *Player) Duration() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.st.duration
}

// State returns a consistent snapshot of everything the Player tracks.
func (p *Player) State() State {
	p.mu.Lock()
	defer p.mu.Unlock()
	return State{
		Loaded:    p.st.loaded,
		Position:  p.positionAt(p.now()),
		Duration:  p.st.duration,
		Speed:     p.st.speed,
		Paused:    p.st.paused,
		Buffering: p.st.buffering,
		Seeking:   p.st.seeking,
		EndOfFile: p.st.eof,
		Seekable:  !p.st.unseekable,
		UserActs:  p.userActs,
	}
}

// PauseTarget reports the pause state mpv is heading to: the value asked by a
// Play or Pause whose change mpv has not reported yet (it sends the property
// change after the command's reply), otherwise Paused.
func (p *Player) PauseTarget() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pauseTarget()
}

// pauseTarget is PauseTarget; p.mu must be held.
func (p *Player) pauseTarget() bool {
	if n := len(p.wantPause); n > 0 {
		return *p.wantPause[n-1]
	}
	return p.st.paused
}

// Play resumes playback. The resulting Resumed event has Origin ByUs.
func (p *Player) Play(ctx context.Context) error { return p.setPause(ctx, false) }

// Pause pauses playback. The resulting Paused event has Origin ByUs.
func (p *Player) Pause(ctx context.Context) error { return p.setPause(ctx, true) }

func (p *Player) setPause(ctx context.Context, v bool) error {
	return p.c.setProperty(ctx, "pause", v, p.expectPause(v))
}

// expectPause marks the change of pause to v that the command about to be
// sent causes as ours, and returns the command's reply hook.
func (p *Player) expectPause(v bool) replyHook {
	want := &v
	p.mu.Lock()
	if p.pauseTarget() == v {
		p.mu.Unlock()
		return nil // no change: mpv reports none
	}
	p.wantPause = append(p.wantPause, want)
	p.mu.Unlock()
	return func(_ json.RawMessage, err error) {
		// mpv sends the property change after the reply, and none at all
		// when the value did not change (the user made the same change
		// first): then expect nothing.
		p.mu.Lock()
		defer p.mu.Unlock()
		i := slices.Index(p.wantPause, want)
		if i >= 0 && (err != nil || i == 0 && p.st.paused == v) {
			p.wantPause = slices.Delete(p.wantPause, i, i+1)
		}
	}
}

// SetSpeed sets the playback speed (mpv accepts 0.01 to 100). The
// resulting SpeedChanged event has Origin ByUs.
func (p *Player) SetSpeed(ctx context.Context, speed float64) error {
	if math.IsNaN(speed) || math.IsInf(speed, 0) || speed <= 0 {
		return fmt.Errorf("set speed %v: must be a positive number", speed)
	}
	want := &speed
	p.mu.Lock()
	p.wantSpeed = want
	p.mu.Unlock()
	return p.c.setProperty(ctx, "speed", speed, func(_ json.RawMessage, err error) {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.wantSpeed == want && (err != nil || sameSpeed(p.st.speed, speed)) {
			p.wantSpeed = nil
		}
	})
}

func sameSpeed(a, b float64) bool { return math.Abs(a-b) <= speedTolerance }

// Seek moves to pos seconds from the start of the file, precisely (mpv's
// absolute+exact), and waits until playback has restarted there (mpv's
// playback-restart), or ctx ends. pos is clamped to [0, Duration]; mpv
// would read a negative target as counted from the end. The resulting
// Seeked event has Origin ByUs.
func (p *Player) Seek(ctx context.Context, pos float64) error {
	if math.IsNaN(pos) || math.IsInf(pos, 0) {
		return fmt.Errorf("seek to %v: not a position", pos)
	}
	pos = max(pos, 0)
	w := &seekWait{target: pos, started: make(chan struct{}), done: make(chan struct{})}
	p.mu.Lock()
	if d := p.st.duration; d > 0 && pos > d {
		pos, w.target = d, d
	}
	p.seeksSent = append(p.seeksSent, w)
	p.mu.Unlock()

	_, err := p.c.call(ctx, "seek", []any{"seek", pos, "absolute+exact"}, func(_ json.RawMessage, err error) {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.seeksSent = remove(p.seeksSent, w)
		if err == nil {
			// Queued in mpv: the next seek event executes it.
			p.seeksReplied = append(p.seeksReplied, w)
		}
	})
	if err != nil {
		return err
	}
	// mpv replies before it executes the seek; on media it cannot seek in it never does.
	timer := time.NewTimer(seekStartTimeout)
	defer timer.Stop()
	select {
	case <-w.started:
	case <-w.done:
		return w.err
	case <-timer.C:
		p.mu.Lock()
		ignored := slices.Contains(p.seeksReplied, w)
		if ignored {
			p.seeksReplied = remove(p.seeksReplied, w)
		}
		p.mu.Unlock()
		if ignored {
			return ErrSeekIgnored
		}
	case <-ctx.Done():
		return ctx.Err()
	case <-p.c.Done():
		return p.c.Err()
	}
	select {
	case <-w.done:
		return w.err
	case <-ctx.Done():
		return ctx.Err()
	case <-p.c.Done():
		return p.c.Err()
	}
}

// Load replaces the current file with url (a path or anything mpv plays),
// starting at start seconds, paused or playing, and waits until playback is
// ready (the first playback-restart), or loading failed, or ctx ends. It uses
// loadfile's named arguments, which mean the same on every mpv version.
// When ctx ends first, the load is stopped (mpv's stop command), so a URL
// that never answers does not start playing later.
//
// url is trusted: it is the user's own choice. Use LoadUntrusted for a URL
// someone else chose.
func (p *Player) Load(ctx context.Context, url string, start float64, paused bool) error {
	return p.load(ctx, url, start, paused, nil)
}

// LoadUntrusted is Load for a URL chosen by someone else (a room's media).
// The caller checks the URL itself (an http or https URL: mpv protocols and
// paths are instructions to mpv, not media); LoadUntrusted makes sure that
// what the URL serves cannot reach further. It refuses (ErrUnsafePlaylists)
// when mpv runs with load-unsafe-playlists=yes, and loads the file with
// load-unsafe-playlists=no. With that, mpv opens the entries of a playlist
// and the parts of an EDL that came from the network only when they are
// network URLs themselves: no local files, no av://, lavfi, edl:// or file://
// (measured with mpv 0.35.1, see docs/player.md).
func (p *Player) LoadUntrusted(ctx context.Context, url string, start float64, paused bool) error {
	var unsafe bool
	if err := p.c.getProperty(ctx, "load-unsafe-playlists", &unsafe); err != nil {
		return fmt.Errorf("load %s: read load-unsafe-playlists: %w", url, err)
	}
	if unsafe {
		return fmt.Errorf("load %s: %w", url, ErrUnsafePlaylists)
	}
	return p.load(ctx, url, start, paused, map[string]string{"load-unsafe-playlists": "no"})
}

func (p *Player) load(ctx context.Context, url string, start float64, paused bool, extra map[string]string) error {
	if url == "" {
		return errors.New("load: empty url")
	}
	if math.IsNaN(start) || math.IsInf(start, 0) {
		return fmt.Errorf("load %s: start %v is not a position", url, start)
	}
	pause := "no"
	if paused {
		pause = "yes"
	}
	options := map[string]string{
		"start": strconv.FormatFloat(max(start, 0), 'f', -1, 64),
		"pause": pause,
	}
	for k, v := range extra {
		options[k] = v
	}
	cmd := map[string]any{
		"name":    "loadfile",
		"url":     url,
		"flags":   "replace",
		"options": options,
	}
	data, err := p.c.call(ctx, "loadfile", cmd, p.expectPause(paused))
	if err != nil {
		return err
	}
	var r struct {
		EntryID int64 `json:"playlist_entry_id"`
	}
	if err := json.Unmarshal(data, &r); err != nil || r.EntryID == 0 {
		return fmt.Errorf("load %s: unexpected loadfile reply %s", url, data)
	}
	for {
		p.mu.Lock()
		res, ok := p.loads[r.EntryID]
		signal := p.loadSignal
		p.mu.Unlock()
		if ok {
			if res != nil {
				return fmt.Errorf("load %s: %w", url, res)
			}
			return nil
		}
		select {
		case <-signal:
		case <-ctx.Done():
			p.abortLoad(r.EntryID)
			return fmt.Errorf("load %s: %w", url, ctx.Err())
		case <-p.c.Done():
			return p.c.Err()
		}
	}
}

// abortLoad stops playback if mpv is still opening playlist entry id (or an
// entry a playlist behind it added), so that a load given up on does not
// start later.
func (p *Player) abortLoad(id int64) {
	p.mu.Lock()
	opening := p.st.entryID >= id && !p.st.loaded
	p.mu.Unlock()
	if !opening {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, _ = p.c.call(ctx, "stop", []any{"stop"}, nil)
}

// ShowText shows text on mpv's OSD for d (mpv's default when d <= 0).
// Properties in text are not expanded. Sanitise remote text before.
func (p *Player) ShowText(ctx context.Context, text string, d time.Duration) error {
	ms := int64(-1)
	if d > 0 {
		ms = d.Milliseconds()
	}
	_, err := p.c.call(ctx, "show-text", []any{"show-text", text, ms}, nil)
	return err
}

// GetProperty reads any mpv property into v (as encoding/json would).
func (p *Player) GetProperty(ctx context.Context, name string, v any) error {
	return p.c.getProperty(ctx, name, v)
}

// SetProperty sets any mpv property. Changes made this way are not tagged:
// use Play, Pause and SetSpeed for those the sync engine watches.
func (p *Player) SetProperty(ctx context.Context, name string, v any) error {
	return p.c.setProperty(ctx, name, v, nil)
}

// Command runs any mpv command (positional arguments) and returns its data.
// Seeks and pauses made this way are reported with Origin ByUser.
func (p *Player) Command(ctx context.Context, args ...any) (json.RawMessage, error) {
	if len(args) == 0 {
		return nil, errors.New("mpv command: no arguments")
	}
	return p.c.call(ctx, fmt.Sprint(args[0]), args, nil)
}

// positionAt is Position at wall time now; p.mu must be held.
func (p *Player) positionAt(now time.Time) float64 {
	s := &p.st
	if !s.posKnown {
		return 0
	}
	pos := s.pos
	if s.advancing() {
		pos = s.estimate(now)
	}
	if s.duration > 0 && pos > s.duration {
		pos = s.duration
	}
	return max(pos, 0)
}

// rebase folds the elapsed time into pos before a change of whether or how
// fast the position advances; p.mu must be held. The folded position is
// provisional: the next time-pos from mpv replaces it.
func (p *Player) rebase(now time.Time) {
	p.st.pos, p.st.at = p.positionAt(now), now
	p.st.nSamples = 0
}

// fold is rebase for a change of speed only: the estimate so far stays the
// best one (a sample at now), so the next time-pos read does not replace it.
func (p *Player) fold(now time.Time) {
	s := &p.st
	if !s.advancing() || s.nSamples == 0 {
		p.rebase(now)
		return
	}
	s.pos, s.at = s.estimate(now), now
	s.samples[0] = sample{s.pos, now}
	s.nSamples = 1
}

// addSample records a time-pos from mpv read at now. It reports whether the
// sample showed a stall (the estimate restarts from it while playing).
func (s *playState) addSample(pos float64, now time.Time) (stalled bool) {
	s.sampled = true
	stalled = s.posKnown && s.advancing() && s.nSamples > 0 && s.estimate(now)-pos > stallTolerance
	s.pos, s.at = pos, now
	if stalled || !s.posKnown || !s.advancing() || s.nSamples == 0 {
		s.posKnown = true
		s.samples[0] = sample{pos, now}
		s.nSamples = 1
		return stalled
	}
	copy(s.samples[1:], s.samples[:posSamples-1])
	s.samples[0] = sample{pos, now}
	s.nSamples = min(s.nSamples+1, posSamples)
	return false
}

// estimate is the media position at now while advancing.
func (s *playState) estimate(now time.Time) float64 {
	if s.nSamples == 0 {
		return s.pos + now.Sub(s.at).Seconds()*s.speed
	}
	best := math.Inf(-1)
	for _, x := range s.samples[:s.nSamples] {
		best = max(best, x.pos+now.Sub(x.at).Seconds()*s.speed)
	}
	return best
}

// emit queues an event stamped with the current state; p.mu must be held.
func (p *Player) emit(now time.Time, ev Event) {
	ev.Time = now
	ev.Position = p.positionAt(now)
	ev.Speed = p.st.speed
	if ev.Origin == ByUser {
		p.userActs++
	}
	ev.UserActs = p.userActs
	p.q.push(ev)
}

// onEvent handles one event line on the reader goroutine.
func (p *Player) onEvent(m message) {
	now := p.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	switch m.Event {
	case "property-change":
		p.onProperty(m, now)
	case "start-file":
		p.rebase(now)
		p.st.loading, p.st.loaded, p.st.seeking = true, false, false
		p.st.eof, p.st.eofSent = false, false
		p.st.entryID = m.PlaylistEntryID
		p.st.sampled = false
	case "file-loaded":
		p.st.loaded = true
		p.pollNow()
	case "seek":
		p.rebase(now)
		p.st.seeking = true
		p.st.sampled = false
		p.pollNow()
		// Every seek of ours that mpv has queued is executed by this one
		// (mpv merges seeks queued together into one).
		for _, w := range p.seeksReplied {
			close(w.started)
		}
		p.seekGroup = append(p.seekGroup, p.seeksReplied...)
		p.seeksReplied = nil
	case "playback-restart":
		if !p.st.sampled {
			// Where playback restarted is not known yet: the next time-pos
			// read (made after this event) says, and finishes the restart.
			p.st.restartPending = true
			p.pollNow()
			return
		}
		p.onRestart(now)
	case "end-file":
		p.onEndFile(m, now)
	}
}

func (p *Player) onRestart(now time.Time) {
	s := &p.st
	p.rebase(now)
	wasLoading, wasSeeking := s.loading, s.seeking
	s.loading, s.seeking, s.restartPending = false, false, false
	p.burst()
	group := p.seekGroup
	p.seekGroup = nil
	for _, w := range group {
		close(w.done)
	}
	if wasLoading {
		s.loaded = true
		p.recordLoad(s.entryID, nil)
		p.emit(now, Event{Kind: EventFileLoaded, Duration: s.duration})
	}
	// The seek that a load's start option makes is part of the load.
	if wasSeeking && (!wasLoading || len(group) > 0) {
		origin := ByUser
		if n := len(group); n > 0 && math.Abs(s.pos-group[n-1].target) <= seekTolerance {
			origin = ByUs
		}
		p.emit(now, Event{Kind: EventSeeked, Origin: origin})
	}
}

func (p *Player) onEndFile(m message, now time.Time) {
	s := &p.st
	p.rebase(now)
	if s.loading {
		switch m.Reason {
		case "error":
			msg := m.FileError
			if msg == "" {
				msg = "loading failed"
			}
			p.recordLoad(m.PlaylistEntryID, errors.New(msg))
		default:
			p.recordLoad(m.PlaylistEntryID, errLoadReplaced)
		}
	}
	switch m.Reason {
	case "eof":
		if !s.eofSent {
			s.eofSent = true
			p.emit(now, Event{Kind: EventEndOfFile, Reason: "eof"})
		}
	case "error":
		msg := m.FileError
		if msg == "" {
			msg = "playback failed"
		}
		p.emit(now, Event{Kind: EventEndOfFile, Reason: "error", Err: errors.New(msg)})
	}
	s.loading, s.loaded, s.seeking, s.posKnown = false, false, false, false
	s.restartPending = false
	for _, w := range append(p.seekGroup, p.seeksReplied...) {
		w.err = errSeekInterrupted
		close(w.done)
	}
	p.seekGroup, p.seeksReplied = nil, nil
}

// recordLoad stores the outcome of loading playlist entry id and wakes
// Load callers; p.mu must be held.
func (p *Player) recordLoad(id int64, err error) {
	p.loads[id] = err
	for old := range p.loads {
		if old < id-16 { // nobody waits that long ago
			delete(p.loads, old)
		}
	}
	close(p.loadSignal)
	p.loadSignal = make(chan struct{})
}

func (p *Player) onProperty(m message, now time.Time) {
	s := &p.st
	first := p.initLeft[m.ID]
	if first {
		delete(p.initLeft, m.ID)
		if len(p.initLeft) == 0 {
			close(p.initDone)
		}
	}
	switch m.ID {
	case obsTimePos:
		var v float64
		if !m.hasData() || json.Unmarshal(m.Data, &v) != nil {
			s.posKnown = false
			return
		}
		s.addSample(v, now)
	case obsDuration:
		var v float64
		if !m.hasData() || json.Unmarshal(m.Data, &v) != nil {
			v = 0
		}
		s.duration = v
	case obsPause:
		v := decodeBool(m)
		if first || v == s.paused {
			s.paused = v
			return
		}
		p.rebase(now)
		s.paused = v
		p.burst() // resumed: fix the phase again; paused: read the frame it stopped on
		kind := EventResumed
		if v {
			kind = EventPaused
		}
		p.emit(now, Event{Kind: kind, Origin: p.pauseOrigin(v)})
	case obsSpeed:
		var v float64
		if !m.hasData() || json.Unmarshal(m.Data, &v) != nil || v <= 0 {
			return
		}
		if first || v == s.speed {
			s.speed = v
			return
		}
		p.fold(now)
		s.speed = v
		origin := ByUser
		if w := p.wantSpeed; w != nil && sameSpeed(*w, v) {
			p.wantSpeed, origin = nil, ByUs
		}
		p.emit(now, Event{Kind: EventSpeedChanged, Origin: origin})
	case obsPausedForCache:
		v := decodeBool(m)
		if first || v == s.buffering {
			s.buffering = v
			return
		}
		p.rebase(now)
		s.buffering = v
		p.burst()
		kind := EventBufferingEnd
		if v {
			kind = EventBufferingStart
		}
		p.emit(now, Event{Kind: kind})
	case obsSeekable:
		s.unseekable = m.hasData() && !decodeBool(m)
	case obsEOFReached:
		v := decodeBool(m)
		if first || v == s.eof {
			s.eof = v
			return
		}
		p.rebase(now)
		s.eof = v
		p.burst()
		if !v {
			s.eofSent = false // seeked back: the next end is news again
		}
		if v && !s.eofSent {
			s.eofSent = true
			p.emit(now, Event{Kind: EventEndOfFile, Reason: "eof"})
		}
	}
}

// burst starts the fast time-pos reads that follow a restart of the
// estimate (or, when playback does not advance, one read); p.mu must be held.
func (p *Player) burst() {
	p.st.burstLeft = burstPolls
	p.pollNow()
}

// pollNow asks pollLoop for a time-pos read now; p.mu need not be held.
func (p *Player) pollNow() {
	select {
	case p.pollWake <- struct{}{}:
	default:
	}
}

// nextPoll is how long pollLoop waits before its next read, and false when
// it reads only when woken (playback does not advance); p.mu must be held.
func (p *Player) nextPoll() (time.Duration, bool) {
	s := &p.st
	switch {
	case s.restartPending:
		return 0, true
	case !s.advancing():
		return 0, false
	case s.burstLeft > 0:
		return randBetween(burstMin, burstMax), true
	}
	return randBetween(pollMin, pollMax), true
}

func randBetween(lo, hi time.Duration) time.Duration {
	return lo + rand.N(hi-lo)
}

// pollLoop reads time-pos on its own cadence (nextPoll) and when woken
// (pollNow), until the connection ends. One read is in flight at a time.
// Reading instead of observing time-pos spares a wake-up for every frame:
// mpv reports an observed time-pos 25 to 100 times a second.
func (p *Player) pollLoop() {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		p.mu.Lock()
		d, timed := p.nextPoll()
		p.mu.Unlock()
		timer.Stop()
		if timed {
			timer.Reset(d)
		}
		select {
		case <-p.c.Done():
			return
		case <-p.pollWake:
		case <-timer.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), pollTimeout)
		_, _ = p.c.call(ctx, "get_property time-pos", []any{"get_property", "time-pos"}, p.onPollReply)
		cancel()
	}
}

// onPollReply takes a time-pos read, on the reader goroutine in stream order:
// the value is mpv's after every event that came before it.
func (p *Player) onPollReply(data json.RawMessage, err error) {
	if err != nil && !errors.Is(err, ErrPropertyUnavailable) {
		return // the connection ended
	}
	now := p.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	s := &p.st
	if s.burstLeft > 0 {
		s.burstLeft--
	}
	var v float64
	switch {
	case err != nil:
		s.posKnown = false // nothing playing
	case string(data) == "null" || len(data) == 0:
		// mpv always sends a value or an error: nothing to learn from this reply
	case json.Unmarshal(data, &v) != nil || math.IsNaN(v) || math.IsInf(v, 0):
		s.posKnown = false
	default:
		if s.addSample(v, now) {
			p.burst() // the estimate restarted: fix the phase again
		}
	}
	if s.restartPending {
		p.onRestart(now)
	}
}

// pauseOrigin says who changed pause to v; p.mu must be held.
func (p *Player) pauseOrigin(v bool) Origin {
	switch {
	case slices.ContainsFunc(p.wantPause, func(w *bool) bool { return *w == v }):
		// mpv may report only the last of changes made in a row: the ones
		// before it are done too.
		i := slices.IndexFunc(p.wantPause, func(w *bool) bool { return *w == v })
		p.wantPause = p.wantPause[i+1:]
		return ByUs
	case v && p.st.eof:
		return ByPlayer // keep-open pauses at the end
	case p.st.loading:
		return ByPlayer // per-file options applied at start-file
	}
	return ByUser
}

// onClose runs once on the reader goroutine when the connection ends.
func (p *Player) onClose(err error) {
	now := p.now()
	p.mu.Lock()
	for _, w := range append(append(p.seekGroup, p.seeksReplied...), p.seeksSent...) {
		w.err = err
		close(w.done)
	}
	p.seekGroup, p.seeksReplied, p.seeksSent = nil, nil, nil
	p.rebase(now)
	p.st.closed = true
	p.emit(now, Event{Kind: EventClosed, Err: err})
	p.mu.Unlock()
}

func decodeBool(m message) bool {
	var v bool
	if m.hasData() {
		_ = json.Unmarshal(m.Data, &v)
	}
	return v
}

func remove(ws []*seekWait, w *seekWait) []*seekWait {
	for i, x := range ws {
		if x == w {
			return append(ws[:i], ws[i+1:]...)
		}
	}
	return ws
}
