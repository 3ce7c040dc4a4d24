package room

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/watchparty/watchparty/party"
	"github.com/watchparty/watchparty/player"
)

// Cadences.
const (
	correctionTick   = 50 * time.Millisecond // how often a follower measures drift
	livenessInterval = 3 * time.Second       // track_user_presence, as the JS guide
	clockRefresh     = 60 * time.Second      // one more clock sample
	snapshotInterval = time.Second           // StateChanged at least this often
	clockSamples     = 5                     // samples taken on join
	historySize      = 50
	mediaMismatch    = 2.5 // s: durations further apart than this are not the same video
	playerOpTimeout  = 2 * time.Second
	// DefaultLoadTimeout bounds opening the media (Options.LoadTimeout): a URL that never
	// answers must not hold up joining forever. mpv's own network timeout is 60 s; a video
	// that takes half a minute to start is not one to watch together anyway.
	DefaultLoadTimeout = 30 * time.Second

	// Seek back-off: a follower whose correction seeks do not work (mpv cannot seek in the
	// media, or a seek lands nowhere near its target) retries after seekBackoffMin, doubling
	// up to seekBackoffMax, instead of seeking on every correction tick.
	seekBackoffMin = time.Second
	seekBackoffMax = 30 * time.Second
	// seekNoEffect: a seek is taken as not having worked when, this soon after it finished,
	// the same room state asks for a seek again.
	seekNoEffect = time.Second

	// Host publish lag (see Session.pubLag): measured this long after a publish, when mpv's
	// position has settled; a residual above lagTolerance is republished at once, at most
	// maxLagFixes times in a row; the learnt lag is bounded to [-maxLag, maxLag].
	lagCheckDelay = 100 * time.Millisecond
	// landCheckDelay: a follower measures where its correction seek landed this long after
	// playback restarted (a few time-pos reports later).
	landCheckDelay = 150 * time.Millisecond
	// Priors for the learnt offsets, until the first measurement replaces them: typical
	// values with mpv 0.35 on the development machine (watchparty bench sync). Starting at 0
	// instead put every follower 100+ ms ahead of the host after the party's first seek.
	restartLagPrior = 0.045 // s: host, play/seek publish lag (see Session.pubLag)
	landBiasPrior   = 0.06  // s: follower, correction seek landing (see engine.landBias)
	lagTolerance    = 0.025
	maxLagFixes     = 2
	maxLag          = 0.3
)

// Options configure a session.
type Options struct {
	RoomID   string
	Username string
	// Media is what our mpv plays: a local copy of the room's video or a URL. Empty: the room's
	// media_url, which is opened only when it passes party.CheckMediaURL (an http or https URL)
	// and ConfirmMedia accepts it, and is loaded with player.LoadUntrusted.
	Media string
	// ConfirmMedia is asked before the room's media URL is opened (never about Media, the
	// user's own choice). It sees the URL as the server sent it (sanitise before showing it)
	// and returns true to open it. A nil ConfirmMedia opens nothing: joining a room without
	// Media then fails with ErrRoomMediaNotAccepted.
	ConfirmMedia func(ctx context.Context, url string) (bool, error)
	// LoadTimeout bounds opening the media in mpv; default DefaultLoadTimeout.
	LoadTimeout time.Duration
	// MPV says how to start (and, if it dies, restart) our mpv.
	MPV MPV
	// Logger receives diagnostics; default discards.
	Logger *slog.Logger
}

// MPV configures the mpv a session runs.
type MPV struct {
	Binary string   // default "mpv"
	Socket string   // IPC socket; attach when an mpv already listens there
	Args   []string // extra mpv arguments (tests: --vo=null --ao=null)
	Output io.Writer
}

func (m MPV) launchOptions() player.LaunchOptions {
	return player.LaunchOptions{Binary: m.Binary, Socket: m.Socket, ExtraArgs: m.Args, Output: m.Output}
}

// Session is one room session. Create it with Join; it implements Controls.
// All methods are safe for concurrent use.
type Session struct {
	opts Options
	be   backend
	log  *slog.Logger

	inbox  chan any // everything the loop reacts to
	events *eventQueue

	mu     sync.Mutex // guards player and snap
	player *player.Player
	snap   Snapshot

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	done   chan struct{}
	closed sync.Once

	leaveOnce sync.Once
	leaveErr  error
	ownsPl    bool // we launched the player (so we relaunch it and stop it on Leave)
	roomMedia bool // opts.Media is the room's URL (load it untrusted), not the user's own

	// pubLag is how far (wall seconds, float64 bits) the room's published state ends up
	// behind the host's own mpv, per lagKind: the server stamps updated_at when the control
	// arrives, not when we read the position, and mpv shows the next frame at once when it
	// restarts after a seek or unpause (40 ms at 25 fps). Left alone, every follower would
	// trail the host by that much. The loop learns it after each publish; publish adds it.
	pubLag [lagKinds]atomic.Uint64
	lags   [lagKinds]party.DriftFilter // the loop's recent lag measurements, per lagKind
}

// lagKind says which publish lag applies: a resume (play), a seek, or a state published
// while mpv keeps playing (sync, rate). They differ: mpv restarts differently after an
// unpause and after a seek, and a running player has no restart at all.
type lagKind int

const (
	lagPlay lagKind = iota
	lagSeek
	lagRunning
	lagKinds
)

func kindOf(action string) lagKind {
	switch action {
	case "play":
		return lagPlay
	case "seek":
		return lagSeek
	}
	return lagRunning
}

func (s *Session) lag(k lagKind) float64 { return math.Float64frombits(s.pubLag[k].Load()) }

func (s *Session) setLag(k lagKind, v float64) { s.pubLag[k].Store(math.Float64bits(v)) }

var _ Controls = (*Session)(nil)

// loop-internal messages
type (
	playerEvent struct {
		p  *player.Player
		ev player.Event
	}
	playerReady struct {
		p   *player.Player
		err error
	}
	seekDone struct {
		err     error
		started time.Time
		version int64 // the room state the seek was aimed at
	}
	publishBegin struct{}
	publishEnd   struct {
		action string
		room   map[string]any
		err    error
	}
	syncResult struct {
		st       State
		err      error
		reattach bool
	}
	livenessDone struct{}
	snapshotReq  struct{ reply chan Snapshot }
	leaveReq     struct{}
)

// engine is the loop's state. Only the loop goroutine touches it.
type engine struct {
	selfID       string
	room         party.RoomState
	hostName     string
	mediaURL     string
	title        string
	clock        party.ClockOffset
	members      party.Members
	online       map[string]bool
	drift        party.DriftFilter
	lastPresence string // the presence payload last tracked
	detached     bool
	conn         Connection
	subscribe    bool // subscribed at least once

	seekInFlight bool
	settle       float64 // estimated seek settle time, s (median of recent seeks), to aim ahead of a playing room
	settles      party.DriftFilter
	// landBias is where our correction seeks end up relative to the room once playback has
	// restarted (s, learnt): mpv shows the next frame at once after a seek (40 ms at 25 fps).
	// Seeks aim that much short. It is the median of recent landings (what each would have
	// been without the bias), so one slow seek on a busy machine does not move it.
	landBias    float64
	landings    party.DriftFilter
	landCheckAt time.Time // when to measure the last correction seek's landing (zero: none due)
	landVersion int64     // the room state that seek was aimed at

	publishing     int
	lastOwnVersion int64
	stashed        *party.RoomState

	lastPublished   party.RoomState // host: what we last published
	hostQuietUntil  time.Time       // host: no republish before this (a change is settling)
	lagCheckAt      time.Time       // host: when to measure the last publish's lag (zero: none due)
	lagCheckKind    lagKind
	lagCheckVersion int64 // the state version the measurement is about
	lagFixes        int   // host: republishes in a row made to correct a lag
	livenessBusy    bool
	lastIndicator   party.Indicator
	relaunching     bool
	durationWarned  bool
	seekFails       int       // correction seeks in a row that did not work
	seekRetryAt     time.Time // no correction seek before this (back-off)
	seekDoneAt      time.Time // when the last correction seek finished
	seekVersion     int64     // the room state it was aimed at
	seekWarned      bool      // the "cannot seek" notice was shown
	lastSnapshotAt  time.Time
	snapshotChanged bool
}

// Join joins a room with a backend, starts (or takes over) mpv, loads the media at the room's
// position and follows the room until Leave or ctx ends.
func join(ctx context.Context, be backend, opts Options, preloaded *player.Player) (_ *Session, err error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Session{
		opts: opts, be: be, log: opts.Logger,
		inbox: make(chan any, 256), events: newEventQueue(),
		done: make(chan struct{}),
	}
	defer func() {
		if err != nil {
			s.events.discard()
		}
	}()
	e := &engine{selfID: be.UserID(), online: map[string]bool{}, settle: 0.05, landBias: landBiasPrior}
	s.setLag(lagPlay, restartLagPrior)
	s.setLag(lagSeek, restartLagPrior)

	name, err := CheckUsername(opts.Username)
	if err != nil {
		return nil, err
	}
	opts.Username, s.opts.Username = name, name
	roomRow, memberRows, err := be.Join(ctx, opts.RoomID, opts.Username)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			// Joined on the server but not here (media refused, mpv failed): don't stay listed.
			lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			if lerr := be.Leave(lctx, opts.RoomID); lerr != nil {
				s.log.Debug("leave after a failed join", "err", lerr)
			}
			cancel()
		}
	}()
	if err := e.applyRoomRow(roomRow); err != nil {
		return nil, fmt.Errorf("read room: %w", err)
	}
	for _, r := range memberRows {
		e.putListedMember(r, opts.RoomID)
	}
	// Clock: several samples, keep the best (Cristian).
	for i := 0; i < clockSamples; i++ {
		st, err := be.SyncState(ctx, opts.RoomID)
		if err != nil {
			return nil, fmt.Errorf("read room state: %w", err)
		}
		e.clock.AddSample(st.Sent, st.Received, st.ServerTime)
		if i == clockSamples-1 {
			e.applySync(st)
		}
	}

	// The room's URL came from the server: it is opened only if it is a plain http(s) URL
	// and the user accepts it, before any mpv is started or touched (docs/security.md).
	media := opts.Media
	if media == "" && e.mediaURL != "" {
		if err := acceptRoomMedia(ctx, opts, e.mediaURL); err != nil {
			return nil, err
		}
		media, s.roomMedia = e.mediaURL, true
	}

	p := preloaded
	if p == nil {
		p, err = player.Launch(ctx, opts.MPV.launchOptions())
		if err != nil {
			return nil, err
		}
	}
	s.ownsPl = p.Pid() != 0 // an mpv we attached to is the user's: never restart or stop it
	s.player = p
	if media == "" && !p.State().Loaded {
		s.closePlayer()
		return nil, errors.New("the room has no media URL: pass your copy of the video with --media")
	}
	if media != "" {
		s.opts.Media = media
		start := e.room.ExpectedPosition(e.clock.ServerNow(time.Now()))
		// A host's mpv was loaded by Host already; everyone else opens the media at the room's position.
		if !(e.isHost() && p.State().Loaded) {
			if err := s.load(ctx, p, start+e.aheadFor(), !e.room.IsPlaying); err != nil {
				s.closePlayer()
				return nil, err
			}
		}
	}

	s.ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	if err := be.Subscribe(ctx, opts.RoomID, s.post); err != nil {
		s.closePlayer()
		s.cancel()
		return nil, fmt.Errorf("subscribe to the room: %w", err)
	}
	history, err := be.History(ctx, opts.RoomID, historySize)
	if err == nil {
		s.events.push(CommentsLoaded{Comments: commentsOldestFirst(history)})
	}
	s.snap = s.buildSnapshot(e)
	s.wg.Add(2)
	go func() { defer s.wg.Done(); s.forwardPlayer(p) }()
	go func() { defer s.wg.Done(); s.loop(e) }()
	return s, nil
}

// acceptRoomMedia decides whether the room's media URL u may be opened: it must pass
// party.CheckMediaURL (whatever the server says), then opts.ConfirmMedia must accept it.
func acceptRoomMedia(ctx context.Context, opts Options, u string) error {
	if err := party.CheckMediaURL(u); err != nil {
		return &userError{
			msg: fmt.Sprintf("not opening the room's media %s: %v; pass your own copy of the video with --media", ShowURL(u), err),
			err: ErrRoomMediaRefused,
		}
	}
	accepted := false
	if opts.ConfirmMedia != nil {
		var err error
		if accepted, err = opts.ConfirmMedia(ctx, u); err != nil {
			return err
		}
	}
	if !accepted {
		return &userError{
			msg: fmt.Sprintf("the room's media %s was not opened: pass your own copy of the video with --media", ShowURL(u)),
			err: ErrRoomMediaNotAccepted,
		}
	}
	return nil
}

// ShowURL is a URL from the server made fit for one line of a message: sanitised (see
// Sanitize) and cut to 96 characters.
func ShowURL(u string) string {
	u = Sanitize(u)
	if r := []rune(u); len(r) > 96 {
		u = string(r[:95]) + "…"
	}
	return u
}

// load opens s.opts.Media in p at start, within the load timeout: the room's URL as untrusted,
// the user's own media as it is.
func (s *Session) load(ctx context.Context, p *player.Player, start float64, paused bool) error {
	timeout := s.opts.LoadTimeout
	if timeout <= 0 {
		timeout = DefaultLoadTimeout
	}
	lctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	media := s.opts.Media
	var err error
	if s.roomMedia {
		err = p.LoadUntrusted(lctx, media, start, paused)
	} else {
		err = p.Load(lctx, media, start, paused)
	}
	shown := media
	if s.roomMedia {
		shown = ShowURL(media)
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
		return fmt.Errorf("play %s: it did not start within %s", shown, timeout)
	case errors.Is(err, player.ErrUnsafePlaylists):
		return fmt.Errorf("not opening the room's media %s: %w; pass your own copy of the video with --media", shown, player.ErrUnsafePlaylists)
	}
	if s.roomMedia {
		// The error quotes the URL as mpv was given it; say it once, cleaned.
		return fmt.Errorf("play %s: could not open it (see the log for mpv's message)", shown)
	}
	return fmt.Errorf("play %s: %w", shown, err)
}

// post hands an item to the loop; it drops it only when the session has ended.
func (s *Session) post(item any) {
	select {
	case s.inbox <- item:
	case <-s.done:
	}
}

func (s *Session) forwardPlayer(p *player.Player) {
	for ev := range p.Events() {
		s.post(playerEvent{p, ev})
	}
}

func (s *Session) currentPlayer() *player.Player {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.player
}

// closePlayer stops the mpv we started, or only closes our connection to an mpv we attached
// to (the user's, which keeps running).
func (s *Session) closePlayer() {
	if p := s.currentPlayer(); p != nil {
		p.Close()
	}
}

// Events implements Controls.
func (s *Session) Events() <-chan Event { return s.events.out }

// Snapshot implements Controls.
func (s *Session) Snapshot() Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.snap
}

func (e *engine) isHost() bool { return e.room.HostUserID != "" && e.room.HostUserID == e.selfID }

// aheadFor is how far ahead of the room's position to aim a seek so that, once mpv has
// settled, we are where the room is.
func (e *engine) aheadFor() float64 {
	if !e.room.IsPlaying {
		return 0
	}
	return e.settle*e.room.Rate() - e.landBias
}

func (e *engine) applyRoomRow(row map[string]any) error {
	st, err := party.ParseRoomRow(row)
	if err != nil {
		return err
	}
	e.room = st
	if v, ok := row["media_url"].(string); ok {
		e.mediaURL = v
	}
	if v, ok := row["media_title"].(string); ok {
		e.title = Sanitize(v)
	}
	return nil
}

func (e *engine) applySync(st State) {
	if st.Room != nil {
		if rs, err := party.ParseRoomRow(st.Room); err == nil && (rs.Newer(e.room) || !e.room.Known()) {
			e.applyRoomRow(st.Room)
		}
	}
	for _, r := range st.Members {
		e.putListedMember(r, st.RoomID)
	}
}

// putListedMember applies one row of a member list (a join reply or get_room_sync_state):
// a current member of roomID is added or updated; a row of a member who has left (left_at
// set) removes them; a row of another room is ignored. It reports whether the list changed.
func (e *engine) putListedMember(r map[string]any, roomID string) bool {
	m, err := party.ParseMemberRow(r)
	if err != nil || m.RoomID != "" && m.RoomID != roomID {
		return false
	}
	if m.Left() {
		return e.members.Remove(m.UserID)
	}
	e.members.Put(m)
	return true
}

func (s *Session) loop(e *engine) {
	defer s.finish()
	tick := time.NewTicker(correctionTick)
	defer tick.Stop()
	live := time.NewTicker(livenessInterval)
	defer live.Stop()
	clk := time.NewTicker(clockRefresh)
	defer clk.Stop()
	s.trackPresence(e)
	s.liveness(e)
	s.emitSnapshot(e, true)
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-tick.C:
			s.correct(e)
			s.checkPublishLag(e)
			s.maybeRepublish(e)
			s.emitSnapshot(e, false)
		case <-live.C:
			s.liveness(e)
		case <-clk.C:
			go s.sampleClock(false)
		case item := <-s.inbox:
			if _, ok := item.(leaveReq); ok {
				return
			}
			s.handle(e, item)
		}
	}
}

func (s *Session) handle(e *engine, item any) {
	switch m := item.(type) {
	case playerEvent:
		s.onPlayerEvent(e, m)
	case playerReady:
		e.relaunching = false
		if m.err != nil {
			s.events.push(Notice{NoticeError, "mpv could not be restarted: " + m.err.Error()})
			return
		}
		s.mu.Lock()
		s.player = m.p
		s.mu.Unlock()
		s.wg.Add(1)
		go func() { defer s.wg.Done(); s.forwardPlayer(m.p) }()
		e.drift.Reset()
		s.events.push(Notice{NoticeInfo, "mpv restarted at the room's position"})
	case seekDone:
		e.seekInFlight = false
		if m.err != nil && s.ctx.Err() == nil {
			s.seekFailed(e, m.err)
		}
		if m.err == nil {
			e.seekDoneAt, e.seekVersion = time.Now(), m.version
			took := time.Since(m.started).Seconds()
			if took > 0 && took < 2 {
				e.settle = e.settles.Add(took)
			}
			if e.room.IsPlaying {
				e.landCheckAt, e.landVersion = time.Now().Add(landCheckDelay), e.room.StateVersion
			}
		}
		e.drift.Reset()
	case publishBegin:
		e.publishing++
	case publishEnd:
		e.publishing--
		e.quiet()
		if m.err == nil && m.room != nil {
			if st, err := party.ParseRoomRow(m.room); err == nil {
				if st.StateVersion > e.lastOwnVersion {
					e.lastOwnVersion = st.StateVersion
				}
				if st.Newer(e.room) {
					e.room = st
					e.lastPublished = st
					s.roomChanged(e)
				}
				if st.IsPlaying && m.action != "" {
					e.lagCheckAt = time.Now().Add(lagCheckDelay)
					e.lagCheckKind, e.lagCheckVersion = kindOf(m.action), st.StateVersion
				}
			}
		}
		if e.publishing == 0 && e.stashed != nil {
			st := *e.stashed
			e.stashed = nil
			s.onRoomState(e, st)
		}
	case syncResult:
		if m.err != nil {
			s.events.push(Notice{NoticeError, "sync failed: " + m.err.Error()})
			return
		}
		e.clock.AddSample(m.st.Sent, m.st.Received, m.st.ServerTime)
		before := e.room
		e.applySync(m.st)
		if m.reattach && e.detached {
			e.detached = false
			e.drift.Reset()
			s.events.push(Notice{NoticeInfo, "synced to live"})
			s.trackPresence(e)
		}
		if e.room != before {
			if e.room.HostUserID != before.HostUserID && before.Known() {
				s.hostChanged(e) // handed over while we were not listening
			}
			s.roomChanged(e)
			if e.isHost() && e.publishing == 0 {
				// Someone else (a script, or the server after a hand-over) changed our room.
				s.applyRoomToHost(e)
			}
		}
		s.correct(e)
	case livenessDone:
		e.livenessBusy = false
	case snapshotReq:
		m.reply <- s.buildSnapshot(e)
	case feedRoomUpdate:
		st, err := party.ParseRoomRow(m.Row)
		if err != nil {
			s.log.Warn("bad room update", "err", err)
			return
		}
		if v, ok := m.Row["media_title"].(string); ok {
			e.title = Sanitize(v)
		}
		s.onRoomState(e, st)
	case feedMember:
		s.onMember(e, m)
	case feedComment:
		c := toComment(m.Row)
		s.events.push(CommentReceived{Comment: c})
	case feedPresence:
		e.online = map[string]bool{}
		if m.Online == nil {
			m.Online = []string{}
		}
		for _, id := range m.Online {
			e.online[id] = true
		}
		s.events.push(PresenceChanged{Online: append([]string(nil), m.Online...)})
		e.snapshotChanged = true
	case feedSubscribed:
		// (Re)joined: the server forgot our presence, and we may have missed changes.
		first := !e.subscribe
		e.subscribe = true
		if first {
			// The room may have changed between our first read and now (mpv was starting),
			// and that change was broadcast before we listened: read the state once more.
			go s.sampleClock(false)
		} else {
			go s.resync(false)
			s.events.push(Notice{NoticeInfo, "reconnected"})
		}
	case feedClosed:
		s.events.push(Notice{NoticeWarn, "the server closed the room channel (" + m.Reason + "); rejoining"})
		go func() {
			if err := s.be.Subscribe(s.ctx, s.opts.RoomID, s.post); err != nil {
				s.events.push(Notice{NoticeError, "rejoin failed: " + err.Error()})
			}
		}()
	case feedConn:
		e.conn = m.Conn
		s.events.push(ConnectionChanged(m))
		e.snapshotChanged = true
	}
}

// onRoomState handles a room state from the channel.
func (s *Session) onRoomState(e *engine, st party.RoomState) {
	if !st.Newer(e.room) {
		return
	}
	if e.isHost() || st.HostUserID == e.selfID {
		// Our own publish echoes back; while one is in flight we can't tell, so wait for it.
		if e.publishing > 0 {
			e.stashed = &st
			return
		}
		if st.StateVersion <= e.lastOwnVersion {
			return
		}
	}
	hostChanged := st.HostUserID != e.room.HostUserID
	acted := hostActed(e.room, st)
	e.room = st
	e.seekRetryAt = time.Time{} // a new room state is worth a seek at once, back-off or not
	// A new host action re-attaches everyone (the JS guide's behaviour). The host's own
	// corrective "sync" republishes are not actions: they must not pull back a follower who
	// chose to detach.
	if e.detached && acted {
		e.detached = false
		s.events.push(Notice{NoticeInfo, "the host acted: following the room again"})
	}
	e.drift.Reset()
	if hostChanged {
		s.hostChanged(e)
	}
	s.roomChanged(e)
	if e.isHost() {
		// A script (watchparty play/seek) or a hand-over changed our room: apply it to our player.
		s.applyRoomToHost(e)
		return
	}
	s.correct(e)
}

func (s *Session) hostChanged(e *engine) {
	name := s.memberName(e, e.room.HostUserID)
	e.hostName = name
	if e.isHost() {
		s.events.push(Notice{NoticeInfo, "you are now the host"})
	} else {
		s.events.push(Notice{NoticeInfo, name + " is now the host"})
	}
	s.trackPresence(e)
}

func (s *Session) roomChanged(e *engine) {
	s.events.push(RoomChanged{
		Playing: e.room.IsPlaying, Position: e.room.CurrentTime, Rate: e.room.Rate(),
		Version: e.room.StateVersion, HostID: e.room.HostUserID, HostName: s.memberName(e, e.room.HostUserID),
	})
	e.snapshotChanged = true
}

func (s *Session) memberName(e *engine, id string) string {
	if m, ok := e.members.Get(id); ok {
		return Sanitize(m.Username)
	}
	return "someone"
}

// applyRoomToHost makes the host's player match a room state it did not publish itself.
func (s *Session) applyRoomToHost(e *engine) {
	p := s.currentPlayer()
	if p == nil {
		return
	}
	in := e.room.Input(e.clock.ServerNow(time.Now()))
	in.Position, in.Paused, in.Speed = p.Position(), p.Paused(), p.Speed()
	c := party.Decide(in)
	// The host's player is the room's clock: it never nudges, it only takes the room's rate.
	c.Actions &^= party.ActionNudge | party.ActionRestoreRate
	if rate := e.room.Rate(); math.Abs(in.Speed-rate) > 1e-3 {
		c.Actions |= party.ActionRestoreRate
		c.Speed = rate
	}
	s.apply(e, p, c)
	e.lastPublished = e.room
	e.quiet()
}

// quiet holds off the host's republish rule while a change settles in mpv (its pause and
// position properties arrive a moment after the command's reply).
func (e *engine) quiet() { e.hostQuietUntil = time.Now().Add(1500 * time.Millisecond) }

// onMember applies a room_members change. Every row must be of this room (a hostile server
// could send other rooms' rows). Members leave softly: an UPDATE that sets left_at is a leave;
// an INSERT or UPDATE without it is a current member (added or updated); a DELETE still
// removes (older servers).
func (s *Session) onMember(e *engine, m feedMember) {
	row := m.New
	if m.Type == "DELETE" {
		row = m.Old
	}
	if rid, _ := row["room_id"].(string); rid != s.opts.RoomID {
		s.log.Warn("member change of another room ignored", "type", m.Type, "room_id", Sanitize(rid))
		return
	}
	switch m.Type {
	case "INSERT", "UPDATE":
		mem, err := party.ParseMemberRow(m.New)
		if err != nil {
			return
		}
		if mem.Left() {
			s.memberLeft(e, mem)
			break
		}
		added := e.members.Put(mem)
		change := "update"
		if added {
			change = "join"
			if mem.UserID != e.selfID {
				s.events.push(Notice{NoticeInfo, Sanitize(mem.Username) + " joined"})
			}
		}
		s.events.push(MemberChanged{Change: change, Member: s.memberView(e, mem, time.Now())})
	case "DELETE":
		mem, err := party.ParseMemberRow(m.Old)
		if err != nil {
			id, _ := m.Old["user_id"].(string)
			mem = party.Member{UserID: id}
		}
		s.memberLeft(e, mem)
	default:
		return
	}
	e.snapshotChanged = true
}

// memberLeft removes a member who left ("X left", as before soft leaves). A leave of someone
// not in the list changes nothing.
func (s *Session) memberLeft(e *engine, mem party.Member) {
	if old, ok := e.members.Get(mem.UserID); ok && mem.Username == "" {
		mem = old // a DELETE's old row may carry only the key
	}
	if !e.members.Remove(mem.UserID) {
		return
	}
	if mem.UserID != e.selfID {
		s.events.push(Notice{NoticeInfo, Sanitize(mem.Username) + " left"})
	}
	s.events.push(MemberChanged{Change: "leave", Member: s.memberView(e, mem, time.Now())})
}

func (s *Session) onPlayerEvent(e *engine, m playerEvent) {
	ev := m.ev
	if m.p != s.currentPlayer() {
		return // an old mpv's last events
	}
	switch ev.Kind {
	case player.EventClosed:
		if s.ownsPl && !e.relaunching && s.ctx.Err() == nil {
			e.relaunching = true
			s.events.push(Notice{NoticeWarn, "mpv exited: restarting it"})
			go s.relaunch(e.room, e.clock)
		} else if !s.ownsPl {
			s.events.push(Notice{NoticeError, "mpv closed"})
		}
		return
	case player.EventFileLoaded:
		if d := e.room.MediaDuration; d > 0 && ev.Duration > 0 && math.Abs(d-ev.Duration) > mediaMismatch && !e.durationWarned {
			e.durationWarned = true
			s.events.push(Notice{NoticeWarn, fmt.Sprintf("your video is %s long but the room's is %s: is it the same file?", clock(ev.Duration), clock(d))})
		}
		return
	}
	if ev.Origin == player.ByUs {
		return // our own commands: corrections (follower) or actions already published (host)
	}
	switch ev.Kind {
	case player.EventPaused, player.EventResumed, player.EventSeeked, player.EventSpeedChanged:
	default:
		return
	}
	if e.isHost() {
		e.quiet()
		// The host paused, played or seeked in mpv's own window (or mpv paused at the end):
		// publish it so everyone follows.
		action, rate := "", (*float64)(nil)
		switch ev.Kind {
		case player.EventPaused:
			action = "pause"
		case player.EventResumed:
			action = "play"
		case player.EventSeeked:
			action = "seek"
		case player.EventSpeedChanged:
			action, rate = "rate", &ev.Speed
		}
		go s.publish(action, ev.Position, rate)
		return
	}
	if ev.Origin == player.ByUser && !e.detached {
		e.detached = true
		e.drift.Reset()
		s.events.push(Notice{NoticeWarn, "you " + ev.Kind.String() + " in mpv: detached from the room (press s to sync to live)"})
		s.trackPresence(e)
		e.snapshotChanged = true
	}
}

// correct runs the follower correction policy once.
func (s *Session) correct(e *engine) {
	if e.isHost() || !e.room.Known() {
		return
	}
	p := s.currentPlayer()
	if p == nil || e.relaunching {
		return
	}
	st := p.State()
	if !st.Loaded {
		return
	}
	in := e.room.Input(e.clock.ServerNow(time.Now()))
	in.Position, in.Paused, in.Speed, in.AtEOF = st.Position, st.Paused, st.Speed, st.EndOfFile
	in.Detached, in.SeekInFlight = e.detached, e.seekInFlight
	s.checkLanding(e, in, st)
	c := party.Decide(e.drift.Apply(in))
	if e.seekFails > 0 && !c.Has(party.ActionSeek) && math.Abs(in.Drift()) < party.SeekThreshold {
		e.seekFails, e.seekRetryAt = 0, time.Time{} // seeking is not needed: start afresh next time
	}
	ind := party.Indicate(in, c)
	if ind.Status != e.lastIndicator.Status {
		e.snapshotChanged = true
		if (ind.Status == party.StatusInSync) != (e.lastIndicator.Status == party.StatusInSync) {
			e.lastIndicator = ind
			s.trackPresence(e)
		}
	}
	e.lastIndicator = ind
	s.apply(e, p, c)
}

// checkLanding learns landBias from where our last correction seek landed, once mpv's
// position has settled after it (see landCheckDelay).
func (s *Session) checkLanding(e *engine, in party.CorrectionInput, st player.State) {
	if e.landCheckAt.IsZero() || time.Now().Before(e.landCheckAt) {
		return
	}
	e.landCheckAt = time.Time{}
	if e.room.StateVersion != e.landVersion || !e.room.IsPlaying || st.Paused || st.Seeking || st.Buffering || st.EndOfFile || e.detached || e.seekInFlight {
		return
	}
	if d := in.Drift(); math.Abs(d) < party.SeekThreshold {
		// A speed nudge may have run since the landing; it only ever shrinks the error, so
		// this underestimates the bias a little, and the next seek corrects the rest.
		e.landBias = math.Max(-maxLag, math.Min(maxLag, e.landings.Add(d+e.landBias)))
		s.log.Debug("seek landed", "drift_ms", int(d*1000), "land_bias_ms", int(e.landBias*1000), "settle_ms", int(e.settle*1000))
	}
}

// apply performs a correction in the order party asks: pause, seek, speed, play.
func (s *Session) apply(e *engine, p *player.Player, c party.Correction) {
	if c.Actions == 0 {
		return
	}
	s.log.Debug("correct", "actions", c.Actions.String(), "reason", c.Reason)
	ctx, cancel := context.WithTimeout(s.ctx, playerOpTimeout)
	defer cancel()
	if c.Has(party.ActionPause) {
		if err := p.Pause(ctx); err != nil {
			s.log.Debug("pause", "err", err)
		}
	}
	if c.Has(party.ActionSeek) && !e.seekInFlight && s.seekAllowed(e) {
		e.seekInFlight = true
		version := e.room.StateVersion
		target := c.SeekTo + e.aheadFor()
		if d := e.room.MediaDuration; d > 0 && target > d {
			target = d
		}
		started := time.Now()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			sctx, scancel := context.WithTimeout(s.ctx, 10*time.Second)
			err := p.Seek(sctx, target)
			scancel()
			s.post(seekDone{err, started, version})
		}()
	}
	if c.Has(party.ActionNudge) || c.Has(party.ActionRestoreRate) {
		if err := p.SetSpeed(ctx, c.Speed); err != nil {
			s.log.Debug("speed", "err", err)
		}
	}
	if c.Has(party.ActionPlay) {
		if err := p.Play(ctx); err != nil {
			s.log.Debug("play", "err", err)
		}
	}
}

// seekAllowed applies the seek back-off: no correction seek before seekRetryAt. A seek wanted
// again for the same room state right after the last one finished did not work (mpv reported
// it done, but the position did not follow, as with sources that cannot seek backwards): that
// counts as a failed seek.
func (s *Session) seekAllowed(e *engine) bool {
	now := time.Now()
	if !e.seekDoneAt.IsZero() && e.seekVersion == e.room.StateVersion && now.Sub(e.seekDoneAt) < seekNoEffect {
		e.seekDoneAt = time.Time{}
		s.seekFailed(e, nil)
	}
	return !now.Before(e.seekRetryAt)
}

// seekFailed backs the correction seeks off (seekBackoffMin, doubling to seekBackoffMax) and
// says so once per session.
func (s *Session) seekFailed(e *engine, err error) {
	e.seekFails++
	d := seekBackoffMax
	if e.seekFails <= 8 {
		d = min(seekBackoffMax, seekBackoffMin<<(e.seekFails-1))
	}
	e.seekRetryAt = time.Now().Add(d)
	s.log.Debug("correction seek did not work", "err", err, "fails", e.seekFails, "retry_in", d)
	if e.seekWarned || err == nil && e.seekFails < 2 {
		return
	}
	e.seekWarned = true
	why := "seeks do not move it"
	if p := s.currentPlayer(); errors.Is(err, player.ErrSeekIgnored) || p != nil && !p.State().Seekable {
		why = "mpv cannot seek in it"
	}
	s.events.push(Notice{NoticeWarn, "seeking does not work in this media (" + why + "): play, pause and speed still follow the room; seeks are retried less often"})
}

// maybeRepublish is the host's rule: if our player fell off our published state (buffering),
// publish where we really are.
func (s *Session) maybeRepublish(e *engine) {
	if !e.isHost() || e.publishing > 0 || !e.room.Known() || e.seekInFlight || time.Now().Before(e.hostQuietUntil) {
		return
	}
	p := s.currentPlayer()
	if p == nil || e.relaunching {
		return
	}
	st := p.State()
	if !st.Loaded || st.Seeking {
		return
	}
	expected := e.room.ExpectedPosition(e.clock.ServerNow(time.Now()))
	if party.ShouldRepublish(st.Position, expected, false) || st.Paused == e.room.IsPlaying && !st.EndOfFile {
		action := "sync"
		if st.Paused == e.room.IsPlaying {
			action = map[bool]string{true: "pause", false: "play"}[st.Paused]
		}
		e.publishing++ // counted here so the next tick doesn't publish again
		go func() {
			s.publish(action, st.Position, nil)
			s.post(publishEnd{})
		}()
	}
}

// checkPublishLag measures, once mpv has settled after our last publish, how far the room's
// state trails our mpv, learns it for the next publishes, and republishes at once if the
// residual is more than lagTolerance.
func (s *Session) checkPublishLag(e *engine) {
	if e.lagCheckAt.IsZero() || time.Now().Before(e.lagCheckAt) {
		return
	}
	e.lagCheckAt = time.Time{}
	if !e.isHost() || !e.room.IsPlaying || e.room.StateVersion != e.lagCheckVersion || e.publishing > 0 || e.seekInFlight {
		return
	}
	p := s.currentPlayer()
	if p == nil || e.relaunching {
		return
	}
	st := p.State()
	if !st.Loaded || st.Paused || st.Seeking || st.Buffering || st.EndOfFile {
		return
	}
	rate := e.room.Rate()
	resid := (st.Position - e.room.ExpectedPosition(e.clock.ServerNow(time.Now()))) / rate
	if math.Abs(resid) >= party.RepublishThreshold {
		return // not a lag: the republish rule handles it
	}
	k := e.lagCheckKind
	// What this publish's lag would have been uncompensated; the median of recent ones is used.
	s.setLag(k, math.Max(-maxLag, math.Min(maxLag, s.lags[k].Add(resid+s.lag(k)))))
	if math.Abs(resid) <= lagTolerance || e.lagFixes >= maxLagFixes {
		e.lagFixes = 0
		return
	}
	e.lagFixes++
	s.log.Debug("host publish lag", "residual_ms", int(resid*1000), "kind", int(k), "lag_ms", int(s.lag(k)*1000))
	e.publishing++ // counted here so the next tick doesn't publish again
	go func() {
		s.publish("sync", p.Position(), nil)
		s.post(publishEnd{})
	}()
}

// publish sends a host control with our position. While the room will be playing, the
// position is moved on by the learnt publish lag (see Session.pubLag).
func (s *Session) publish(action string, pos float64, rate *float64) (map[string]any, error) {
	s.post(publishBegin{})
	if p := s.currentPlayer(); action == "play" || action != "pause" && p != nil && !p.Paused() {
		r := 1.0
		if rate != nil {
			r = *rate
		} else if p != nil && p.Speed() > 0 {
			r = p.Speed()
		}
		pos += s.lag(kindOf(action)) * r
	}
	ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
	defer cancel()
	row, err := s.be.Control(ctx, s.opts.RoomID, action, pos, rate)
	s.post(publishEnd{action: action, room: row, err: err})
	if err != nil {
		s.events.push(Notice{NoticeError, action + " failed: " + err.Error()})
	}
	return row, err
}

// liveness reports our position (the JS guide's 3 s track_user_presence).
func (s *Session) liveness(e *engine) {
	if e.livenessBusy {
		return
	}
	p := s.currentPlayer()
	if p == nil {
		return
	}
	e.livenessBusy = true
	pos, playing := p.Position(), !p.Paused()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		ctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
		defer cancel()
		if err := s.be.TrackPresence(ctx, s.opts.RoomID, pos, playing); err != nil {
			s.log.Debug("liveness", "err", err)
		}
		s.post(livenessDone{})
	}()
}

// trackPresence publishes our presence. The channel keeps it within the presence budget (at
// most 4 tracks per 30 s, coalescing to the latest) and re-tracks after every rejoin.
func (s *Session) trackPresence(e *engine) {
	mode := ModeFollowing
	if e.isHost() {
		mode = ModeHost
	} else if e.detached {
		mode = ModeDetached
	}
	payload := map[string]any{
		"user_id": e.selfID, "username": s.opts.Username, "mode": string(mode),
		"in_sync": e.lastIndicator.InSync() || e.isHost(),
	}
	key, _ := json.Marshal(payload)
	if string(key) == e.lastPresence {
		return
	}
	e.lastPresence = string(key)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
		defer cancel()
		if err := s.be.Track(ctx, payload); err != nil {
			s.log.Debug("track", "err", err)
		}
	}()
}

// sampleClock takes one clock sample (and the fresh state with it).
func (s *Session) sampleClock(reattach bool) {
	ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
	defer cancel()
	st, err := s.be.SyncState(ctx, s.opts.RoomID)
	s.post(syncResult{st: st, err: err, reattach: reattach})
}

// resync re-reads the room after a reconnect (or for sync to live), with the comments we may
// have missed.
func (s *Session) resync(reattach bool) {
	s.sampleClock(reattach)
	ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
	defer cancel()
	if !reattach {
		if history, err := s.be.History(ctx, s.opts.RoomID, historySize); err == nil {
			s.events.push(CommentsLoaded{Comments: commentsOldestFirst(history)})
		}
	}
}

// relaunch starts a new mpv after ours died and loads the media at the room's position.
func (s *Session) relaunch(room party.RoomState, clk party.ClockOffset) {
	ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
	defer cancel()
	old := s.currentPlayer()
	if old != nil {
		old.Close()
	}
	p, err := player.Launch(ctx, s.opts.MPV.launchOptions())
	if err == nil {
		pos := room.ExpectedPosition(clk.ServerNow(time.Now()))
		if err = s.load(ctx, p, pos, !room.IsPlaying); err != nil {
			p.Close()
		}
	}
	if err != nil {
		s.post(playerReady{err: err})
		return
	}
	s.post(playerReady{p: p})
}

func (s *Session) emitSnapshot(e *engine, force bool) {
	now := time.Now()
	if !force && !e.snapshotChanged && now.Sub(e.lastSnapshotAt) < snapshotInterval {
		return
	}
	if !force && now.Sub(e.lastSnapshotAt) < 100*time.Millisecond {
		return // at most 10 screens a second
	}
	snap := s.buildSnapshot(e)
	s.mu.Lock()
	s.snap = snap
	s.mu.Unlock()
	e.lastSnapshotAt, e.snapshotChanged = now, false
	s.events.push(StateChanged{Snapshot: snap})
}

func (s *Session) buildSnapshot(e *engine) Snapshot {
	now := time.Now()
	serverNow := e.clock.ServerNow(now)
	snap := Snapshot{
		RoomID: s.opts.RoomID, MediaTitle: e.title, MediaURL: e.mediaURL, Duration: e.room.MediaDuration,
		HostID: e.room.HostUserID, HostName: s.memberName(e, e.room.HostUserID), SelfID: e.selfID,
		SelfName: Sanitize(s.opts.Username), IsHost: e.isHost(), Conn: e.conn,
		Playing: e.room.IsPlaying, Rate: e.room.Rate(),
	}
	if snap.Conn.State == "" {
		snap.Conn.State = ConnConnected
	}
	expected := e.room.ExpectedPosition(serverNow)
	sv := SyncView{Expected: expected, Mode: ModeFollowing, Status: e.lastIndicator.Status, DriftMS: e.lastIndicator.DriftMS}
	if p := s.currentPlayer(); p != nil {
		st := p.State()
		sv.Position, sv.Speed = st.Position, st.Speed
		if snap.Duration == 0 {
			snap.Duration = st.Duration
		}
		if e.isHost() {
			sv.DriftMS = int64(math.Round((st.Position - expected) * 1000))
			sv.Status = party.StatusInSync
		}
	}
	switch {
	case e.isHost():
		sv.Mode = ModeHost
	case e.detached:
		sv.Mode, sv.Status = ModeDetached, party.StatusDetached
	}
	snap.Sync = sv
	for _, m := range e.members.List() {
		snap.Members = append(snap.Members, s.memberView(e, m, now))
	}
	if e.hostName == "" {
		e.hostName = snap.HostName
	}
	return snap
}

func (s *Session) memberView(e *engine, m party.Member, now time.Time) MemberView {
	serverNow := e.clock.ServerNow(now)
	v := MemberView{
		UserID: m.UserID, Name: Sanitize(m.Username), IsHost: m.UserID == e.room.HostUserID,
		IsSelf: m.UserID == e.selfID, Online: e.online[m.UserID], Stale: m.Stale(serverNow),
		Playing: m.IsPlaying, Position: m.CurrentTime,
	}
	if !m.LastSeen.IsZero() && e.room.Known() {
		// The member reported CurrentTime at LastSeen: compare with where the room was then.
		v.DriftMS = int64(math.Round((m.CurrentTime - e.room.ExpectedPosition(m.LastSeen)) * 1000))
		v.InSync = math.Abs(float64(v.DriftMS)) <= party.InSyncThreshold*1000
	}
	if v.IsSelf {
		v.Online = true
	}
	return v
}

func (s *Session) finish() {
	s.closed.Do(func() {
		close(s.done)
	})
}

// --- Controls ---

func (s *Session) hostAction(ctx context.Context, action string, pos float64, rate *float64) error {
	_, err := s.publish(action, pos, rate)
	return err
}

func (s *Session) isHostNow() bool { return s.Snapshot().IsHost }

// TogglePlay implements Controls.
func (s *Session) TogglePlay(ctx context.Context) error {
	if !s.isHostNow() {
		return ErrNotHost
	}
	p := s.currentPlayer()
	if p == nil {
		return errors.New("mpv is not running")
	}
	if p.Paused() {
		if err := p.Play(ctx); err != nil {
			return err
		}
		return s.hostAction(ctx, "play", p.Position(), nil)
	}
	if err := p.Pause(ctx); err != nil {
		return err
	}
	return s.hostAction(ctx, "pause", p.Position(), nil)
}

// SeekTo implements Controls.
func (s *Session) SeekTo(ctx context.Context, pos float64) error {
	if !s.isHostNow() {
		return ErrNotHost
	}
	p := s.currentPlayer()
	if p == nil {
		return errors.New("mpv is not running")
	}
	if pos < 0 {
		pos = 0
	}
	if d := p.Duration(); d > 0 && pos > d {
		pos = d
	}
	if err := p.Seek(ctx, pos); err != nil {
		return err
	}
	restarted := time.Now()
	// Publish the target: an exact seek restarts mpv's clock there, whereas its position
	// right after the restart comes from the frame shown and is up to a frame off, which
	// varied the published state by ±40 ms from one seek to the next. Where mpv did not
	// land on the target (not an exact seek), publish where playback really restarted.
	at := p.Position()
	if math.Abs(at-pos) < party.SeekThreshold {
		at = pos
		if !p.Paused() {
			at += time.Since(restarted).Seconds() * p.Speed()
		}
	}
	return s.hostAction(ctx, "seek", at, nil)
}

// SeekBy implements Controls.
func (s *Session) SeekBy(ctx context.Context, delta float64) error {
	p := s.currentPlayer()
	if p == nil {
		return errors.New("mpv is not running")
	}
	return s.SeekTo(ctx, p.Position()+delta)
}

// SeekFraction implements Controls.
func (s *Session) SeekFraction(ctx context.Context, f float64) error {
	p := s.currentPlayer()
	if p == nil {
		return errors.New("mpv is not running")
	}
	d := p.Duration()
	if d <= 0 {
		return errors.New("the video's length is unknown")
	}
	return s.SeekTo(ctx, d*math.Max(0, math.Min(1, f)))
}

// SetRate changes the room's playback rate (host only).
func (s *Session) SetRate(ctx context.Context, rate float64) error {
	if !s.isHostNow() {
		return ErrNotHost
	}
	p := s.currentPlayer()
	if p == nil {
		return errors.New("mpv is not running")
	}
	if err := p.SetSpeed(ctx, rate); err != nil {
		return err
	}
	return s.hostAction(ctx, "rate", p.Position(), &rate)
}

// SyncToLive implements Controls.
func (s *Session) SyncToLive(ctx context.Context) error {
	if s.isHostNow() {
		return nil // the host is the room
	}
	s.resync(true)
	return nil
}

// Comment implements Controls.
func (s *Session) Comment(ctx context.Context, text string) error {
	text = strings.TrimSpace(text)
	if text == "" {
		return errors.New("empty comment")
	}
	var at *float64
	if p := s.currentPlayer(); p != nil && p.State().Loaded {
		pos := p.Position()
		at = &pos
	}
	return s.be.Comment(ctx, s.opts.RoomID, text, at)
}

// Leave implements Controls: untrack, leave the room, stop the mpv we started.
// Safe to call more than once and concurrently: the first call leaves, later ones wait for it
// and return its result.
func (s *Session) Leave(ctx context.Context) error {
	s.leaveOnce.Do(func() {
		select {
		case <-s.done:
			return // already closed without leaving
		default:
		}
		if err := s.be.Unsubscribe(ctx); err != nil {
			s.log.Debug("unsubscribe", "err", err)
		}
		s.leaveErr = s.be.Leave(ctx, s.opts.RoomID)
		s.shutdown(nil)
	})
	return s.leaveErr
}

// Close ends the session without leaving the room (the member stays, as after a crash; a
// later join resumes it).
func (s *Session) Close() error {
	s.be.Unsubscribe(context.Background())
	s.shutdown(nil)
	return nil
}

func (s *Session) shutdown(err error) {
	s.post(leaveReq{})
	s.cancel()
	<-s.done
	s.closePlayer()
	s.wg.Wait()
	s.be.Close()
	s.events.close(Closed{Err: err})
}

func clock(sec float64) string {
	t := int(sec + 0.5)
	if t >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", t/3600, t/60%60, t%60)
	}
	return fmt.Sprintf("%d:%02d", t/60, t%60)
}

func toComment(row map[string]any) Comment {
	c := Comment{}
	if v, ok := row["id"].(float64); ok {
		c.ID = int64(v)
	} else if v, ok := row["id"].(json.Number); ok {
		c.ID, _ = v.Int64()
	}
	c.UserID, _ = row["user_id"].(string)
	name, _ := row["username"].(string)
	msg, _ := row["message"].(string)
	c.Username, c.Message = Sanitize(name), SanitizeMultiline(msg)
	switch v := row["video_timestamp"].(type) {
	case float64:
		c.VideoTime = &v
	case json.Number:
		f, _ := v.Float64()
		c.VideoTime = &f
	}
	if at, ok := row["created_at"].(string); ok {
		c.At, _ = party.ParseTimestamp(at)
	}
	c.System, _ = row["is_system_message"].(bool)
	return c
}

func commentsOldestFirst(rows []map[string]any) []Comment {
	out := make([]Comment, 0, len(rows))
	for _, r := range rows {
		out = append(out, toComment(r))
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].At.Equal(out[j].At) {
			return out[i].ID < out[j].ID
		}
		return out[i].At.Before(out[j].At)
	})
	return out
}

// hostActed tells a host action (play, pause, rate, a seek) from a corrective republish that
// only restates where the room already is: the play state or rate changed, or the position
// jumped by more than a second against where the old state put it.
func hostActed(old, cur party.RoomState) bool {
	if !old.Known() || old.IsPlaying != cur.IsPlaying || old.Rate() != cur.Rate() {
		return true
	}
	return math.Abs(cur.CurrentTime-old.ExpectedPosition(cur.UpdatedAt)) > 1
}
