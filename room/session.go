package room

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/watchparty/watchparty/party"
	"github.com/watchparty/watchparty/player"
)

// This file is the session's skeleton: its options, its state and the loop that owns it. The
// loop is the only writer: it alone commands mpv (or starts a task that does) and publishes.
// Controls methods send it a request and wait for the reply (controls.go). The roles live in
// their own files, each with its part of the state: follower.go, host.go, presence.go,
// snapshot.go and lifecycle.go (join, relaunch, leave, shutdown). See docs/design.md.

// Cadences.
const (
	correctionTick   = 50 * time.Millisecond // how often a follower measures drift
	livenessInterval = 3 * time.Second       // track_user_presence
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
	// serverTimeout bounds each call the session makes on its own (publish, sync, comments).
	serverTimeout = 10 * time.Second
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
	// NoOSD starts with comments and room events off mpv's OSD (Controls.ToggleOSD turns them
	// on).
	NoOSD bool
	// ReadyMode: Host creates the room with the ready check on (a resumed room keeps its own).
	ReadyMode bool
	// WaitLimit, when set, is the wait limit of the room Host creates (NewRoom.WaitLimit).
	WaitLimit *time.Duration
	// InviteSecret is the room's invite secret, from an invite link (Join): sent with the
	// session's first join only (a newcomer needs it; the rejoin after a drop-out sends none).
	// Host sets it from the room it creates. Session.InviteSecret returns it.
	InviteSecret string
	// MediaDirs are where our copies of the queue's entries are looked for (FindCopy).
	MediaDirs []string
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

// Session is one room session. Create it with Join or Host; it implements Controls.
// All methods are safe for concurrent use.
type Session struct {
	opts   Options
	osdOff atomic.Bool // comments are not shown on mpv's OSD (osd.go)
	be     backend
	log    *slog.Logger
	now    func() time.Time // the wall clock (tests inject one)

	inbox  chan any // everything the loop reacts to
	events *eventQueue

	snapMu sync.Mutex // guards snap, the loop's last published view
	snap   Snapshot

	// player is set by join before the loop starts, then only by the loop; shutdown reads it
	// after the loop has ended.
	player    *player.Player
	ownsPl    bool // we launched the player (so we relaunch it and stop it on Leave)
	roomMedia bool // opts.Media is the room's URL (load it untrusted), not the user's own

	ctx    context.Context // ends when the session shuts down
	cancel context.CancelFunc
	tasks  sync.WaitGroup // every goroutine of the session (see goTask)
	done   chan struct{}  // closed when the loop has ended
	ended  sync.Once

	leave  leaveState
	stop   stopState
	endErr error // the Closed event's error when the session ends by itself (removedByHost)
}

var _ Controls = (*Session)(nil)

// InviteSecret is the room's invite secret as this session knows it: the one of the room Host
// created, or of the link Join was given ("" otherwise). The server keeps only its hash.
func (s *Session) InviteSecret() string { return s.opts.InviteSecret }

// engine is the loop's state: what every role shares, then each role's own part. Only the
// loop goroutine touches it.
type engine struct {
	selfID      string
	room        party.RoomState
	clock       party.ClockOffset
	conn        Connection
	relaunching bool // our mpv is gone: a new one is starting, or we are leaving (lifecycle.go)
	subscribed  bool // joined the channel at least once

	fol   follower
	host  hostState
	pres  presenceState
	view  viewState
	buf   bufferState // our buffering mark (wait.go)
	wait  waitState   // the room's wait (wait.go)
	media mediaState  // samefile.go
	queue queueState  // queue.go
}

func newEngine(selfID string) *engine {
	e := &engine{selfID: selfID}
	e.fol.init()
	e.host.init()
	e.pres.init(selfID)
	return e
}

func (e *engine) isHost() bool { return e.room.HostUserID != "" && e.room.HostUserID == e.selfID }

// isCohost reports whether the host made us a co-host (we may control playback; invite.go).
func (e *engine) isCohost() bool {
	m, ok := e.pres.members.Get(e.selfID)
	return ok && m.Cohost
}

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
	playerExited struct {
		p      *player.Player
		reason player.ExitReason
	}
	syncResult struct {
		st       roomSync
		err      error
		reattach bool
	}
	leaveReq struct{}
)

// goTask runs fn on a goroutine that shutdown waits for. Every goroutine of the session is
// started here, by join or by the loop (and so before shutdown waits); fn must end soon after
// s.ctx does.
func (s *Session) goTask(fn func()) {
	s.tasks.Add(1)
	go func() {
		defer s.tasks.Done()
		fn()
	}()
}

// post hands an item to the loop; it drops it only when the session has ended.
func (s *Session) post(item any) {
	select {
	case s.inbox <- item:
	case <-s.done:
	}
}

// forwardPlayer feeds p's events to the loop until p is closed.
func (s *Session) forwardPlayer(p *player.Player) {
	for ev := range p.Events() {
		s.post(playerEvent{p, ev})
	}
}

// Events implements Controls.
func (s *Session) Events() <-chan Event { return s.events.out }

// Snapshot implements Controls.
func (s *Session) Snapshot() Snapshot {
	s.snapMu.Lock()
	defer s.snapMu.Unlock()
	return s.snap
}

func (s *Session) loop(e *engine) {
	defer s.finish(e)
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
			s.checkBuffering(e)
			s.waitRule(e)
			s.checkPublishLag(e)
			s.maybeRepublish(e)
			s.checkEntryEnd(e) // queue.go
			s.emitSnapshot(e, false)
		case <-live.C:
			s.liveness(e)
		case <-clk.C:
			s.goTask(func() { s.sampleClock(s.ctx, false) })
		case item := <-s.inbox:
			if _, ok := item.(leaveReq); ok {
				return
			}
			s.handle(e, item)
		}
	}
}

// handle dispatches one item to the role it concerns.
func (s *Session) handle(e *engine, item any) {
	switch m := item.(type) {
	case request:
		s.onRequest(e, m)
	case hostOpDone:
		s.onHostOpDone(e, m)
	case playerEvent:
		s.onPlayerEvent(e, m)
	case playerReady:
		s.onPlayerReady(e, m)
	case playerExited:
		s.onPlayerExited(e, m)
	case seekDone:
		s.onSeekDone(e, m)
	case syncResult:
		s.onSyncResult(e, m)
	case livenessDone:
		s.onLivenessDone(e, m)
	case cacheRead:
		s.onCacheRead(e, m)
	case networkRead:
		s.onNetworkRead(e, m)
	case mediaFingerprinted:
		s.onMediaFingerprinted(e, m)
	case entryResolved:
		s.onEntryResolved(e, m)
	case entryLoaded:
		s.onEntryLoaded(e, m)
	case queueAdvanced:
		s.onQueueAdvanced(e, m)
	case rejoined:
		s.onRejoined(e, m)
	case feedRoomUpdate:
		if m.Err != nil {
			s.log.Warn("bad room update", "err", m.Err)
			return
		}
		s.onRoomState(e, m.Room)
	case feedMember:
		s.onMember(e, m)
	case feedComment:
		s.events.push(CommentReceived(m))
		s.showOnVideo(e, m.Comment)
	case feedPresence:
		s.onPresence(e, m.Online)
	case feedSubscribed:
		s.onSubscribed(e)
	case feedClosed:
		s.onChannelClosed(m.Reason)
	case feedConn:
		e.conn = m.Conn
		s.events.push(ConnectionChanged(m))
		e.view.changed = true
	}
}

// finish ends the loop: requests still waiting fail, and done is closed.
func (s *Session) finish(e *engine) {
	e.host.failQueued(ErrClosed)
	s.ended.Do(func() { close(s.done) })
}
