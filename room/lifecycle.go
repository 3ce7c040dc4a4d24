package room

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/watchparty/watchparty/party"
	"github.com/watchparty/watchparty/player"
)

// This file is the session's life: joining (clock, media consent, mpv), restarting a crashed
// mpv, leaving when the user closed mpv, leaving and shutting down within a bound whatever the
// server and mpv do.

// Exit bounds. Leaving waits at most leaveServerTimeout for the server (untrack, unsubscribe
// and rooms/leave together); closing without leaving waits at most closeServerTimeout to
// untrack. Stopping our mpv takes at most about a second (player.Close); an attached mpv is
// only disconnected.
const (
	leaveServerTimeout = time.Second
	closeServerTimeout = 500 * time.Millisecond
)

// exitWait bounds the wait for our mpv's process to end once its connection has: mpv closes
// its IPC clients a few milliseconds before it exits. A process still there after this is
// taken for a crashed one (the relaunch kills it).
const exitWait = 5 * time.Second

// EndReason says why a session ended (Closed.Reason).
type EndReason int

const (
	// EndLeft: Leave or Close was called (the user quit the screen, an interrupt), or the
	// session failed (Closed.Err says how).
	EndLeft EndReason = iota
	// EndMPVClosed: the user closed mpv — q or closing its window (exit status 0), or
	// another way of asking it to quit (player.ExitQuit) — or the mpv we attached to
	// (--mpv-socket) went away. The session left the room by itself, as Leave does; the
	// interfaces end as after their own quit, successfully, and say MPVClosedNote. An mpv of
	// ours that crashed is restarted instead.
	EndMPVClosed
	// EndRemoved: the room's host removed (kicked or banned) this person. The session stopped
	// following and ended; Closed.Err is a *RemovedError that says by whom.
	EndRemoved
)

func (r EndReason) String() string {
	switch r {
	case EndMPVClosed:
		return "mpv closed"
	case EndRemoved:
		return "removed"
	}
	return "left"
}

// MPVClosedNote is the line an interface prints when a session ends with EndMPVClosed.
const MPVClosedNote = "mpv was closed: left the room"

// leaveState is Leave's bookkeeping: the first call leaves, later ones abort its wait for the
// server and wait for it to finish. When the session leaves by itself (the user closed mpv),
// the first Leave call only waits: it is the interface acting on the same end, not the user
// insisting.
type leaveState struct {
	once  sync.Once
	byUs  bool               // the session claimed the leave itself (set before ready closes)
	calls atomic.Int32       // Leave calls so far
	abort context.CancelFunc // ends the first call's wait for the server
	ready chan struct{}      // closed once abort is set
	done  chan struct{}      // closed when the first call returns
	err   error
}

// stopState makes shutdown run once; every caller waits for it.
type stopState struct {
	once sync.Once
	done chan struct{}
}

// join joins a room with a backend, starts (or takes over) mpv, loads the media at the room's
// position and follows the room until Leave or Close. preloaded is a player the caller
// started (Host), or nil.
func join(ctx context.Context, be backend, opts Options, preloaded *player.Player) (_ *Session, err error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Session{
		opts: opts, be: be, log: opts.Logger, now: time.Now,
		inbox: make(chan any, 256), events: newEventQueue(),
		done: make(chan struct{}),
	}
	s.osdOff.Store(opts.NoOSD)
	s.leave.ready, s.leave.done, s.stop.done = make(chan struct{}), make(chan struct{}), make(chan struct{})
	defer func() {
		if err != nil {
			s.events.discard()
		}
	}()
	e := newEngine(be.UserID())

	name, err := CheckUsername(opts.Username)
	if err != nil {
		return nil, err
	}
	opts.Username, s.opts.Username = name, name
	room, members, err := be.Join(ctx, opts.RoomID, opts.Username)
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
	e.room = room
	for _, m := range members {
		e.pres.putListedMember(m, opts.RoomID)
	}
	// Clock: several samples, keep the best (Cristian).
	for i := 0; i < clockSamples; i++ {
		st, err := be.SyncState(ctx, opts.RoomID)
		if err != nil {
			return nil, fmt.Errorf("read room state: %w", err)
		}
		e.clock.AddSample(st.Sent, st.Received, st.ServerTime)
		if i == clockSamples-1 {
			e.applySync(st, opts.RoomID)
		}
	}

	// The room's URL came from the server: it is opened only if it is a plain http(s) URL
	// and the user accepts it, before any mpv is started or touched (docs/security.md).
	media := opts.Media
	if media == "" && e.room.MediaURL != "" {
		if err := acceptRoomMedia(ctx, opts, e.room.MediaURL); err != nil {
			return nil, err
		}
		media, s.roomMedia = e.room.MediaURL, true
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
		start := e.room.ExpectedPosition(e.clock.ServerNow(s.now()))
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
	if history, err := be.History(ctx, opts.RoomID, historySize); err == nil {
		s.events.push(CommentsLoaded{Comments: commentsOldestFirst(history)})
	}
	s.snap = s.buildSnapshot(e)
	s.goTask(func() { s.forwardPlayer(p) })
	if p.State().Loaded {
		s.fingerprintMedia(e, p.Duration())
	}
	s.checkMedia(e)
	s.goTask(func() { s.loop(e) })
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

// playerGone handles the end of our mpv's connection (EventClosed). An attached mpv (the
// user's own, --mpv-socket) is not ours to restart: it was closed, so the session leaves. For
// an mpv we started, its exit status decides (onPlayerExited): a task waits for the process.
func (s *Session) playerGone(e *engine) {
	if e.relaunching || s.ctx.Err() != nil {
		return // already handled, or shutting down (Leave and Close close the player)
	}
	e.relaunching = true // no commands for a player that is gone
	if !s.ownsPl {
		s.log.Info("the mpv we attached to went away: leaving the room")
		s.leaveByItself()
		return
	}
	p := s.player
	s.goTask(func() {
		ctx, cancel := context.WithTimeout(s.ctx, exitWait)
		defer cancel()
		reason, err := p.WaitExit(ctx)
		if err != nil {
			reason = player.ExitCrashed
		}
		s.post(playerExited{p: p, reason: reason})
	})
}

// onPlayerExited takes how our mpv ended: closed by the user → leave the room, as the screen's
// q does; crashed → start a new one at the room's position.
func (s *Session) onPlayerExited(e *engine, m playerExited) {
	if m.p != s.player || s.ctx.Err() != nil {
		return
	}
	s.log.Info("mpv exited", "reason", m.reason, "status", m.p.Wait())
	if m.reason == player.ExitQuit {
		s.leaveByItself()
		return
	}
	s.events.push(Notice{NoticeWarn, "mpv exited (" + m.reason.String() + "): restarting it"})
	room, clk, old := e.room, e.clock, s.player
	s.goTask(func() { s.relaunch(old, room, clk) })
}

// leaveByItself leaves the room because the user closed mpv, unless a Leave is under way; the
// session then ends with EndMPVClosed. It runs on the loop.
func (s *Session) leaveByItself() {
	if !s.claimLeave() {
		return // the user is leaving already
	}
	s.leave.byUs = true
	// Not a goTask: leaving shuts the session down, and that waits for every task. It ends
	// within Leave's bound.
	go func() { _ = s.leaveRoom(context.Background(), EndMPVClosed) }()
}

// removedByHost ends the session because the host removed us (a kick or a ban, seen when our
// rejoin after the refused beat is refused): it says so, and leaves as leaveByItself does (the
// row is gone already). It runs on the loop.
func (s *Session) removedByHost(err *RemovedError) {
	s.events.push(Notice{NoticeError, err.Msg})
	if !s.claimLeave() {
		return // the user is leaving already
	}
	s.leave.byUs = true
	s.endErr = err
	go func() { _ = s.leaveRoom(context.Background(), EndRemoved) }()
}

// relaunch starts a new mpv after ours (old) crashed and loads the media at the room's position.
// It runs on a task; the loop takes the result (playerReady).
func (s *Session) relaunch(old *player.Player, room party.RoomState, clk party.ClockOffset) {
	ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
	defer cancel()
	old.Close()
	p, err := player.Launch(ctx, s.opts.MPV.launchOptions())
	if err == nil {
		pos := room.ExpectedPosition(clk.ServerNow(s.now()))
		if err = s.load(ctx, p, pos, !room.IsPlaying); err != nil {
			p.Close()
		}
	}
	if err != nil {
		s.post(playerReady{err: err})
		return
	}
	select {
	case s.inbox <- playerReady{p: p}:
	case <-s.done:
		p.Close() // the session ended meanwhile: nobody will stop this one
	}
}

// onPlayerReady takes the restarted mpv.
func (s *Session) onPlayerReady(e *engine, m playerReady) {
	e.relaunching = false
	if m.err != nil {
		s.events.push(Notice{NoticeError, "mpv could not be restarted: " + m.err.Error()})
		return
	}
	s.player = m.p
	s.goTask(func() { s.forwardPlayer(m.p) })
	e.fol.drift.Reset()
	e.fol.userActsSeen = 0 // the new player counts afresh
	s.events.push(Notice{NoticeInfo, "mpv restarted at the room's position"})
}

// closePlayer stops the mpv we started, or only closes our connection to an mpv we attached
// to (the user's, which keeps running).
func (s *Session) closePlayer() {
	if p := s.player; p != nil {
		p.Close()
	}
}

// Leave implements Controls: untrack, leave the room, stop the mpv we started. The server gets
// at most leaveServerTimeout; a second call while the first runs cuts that short. Later calls
// wait for the first (or their ctx) and return its result.
func (s *Session) Leave(ctx context.Context) error {
	n := s.leave.calls.Add(1)
	if !s.claimLeave() {
		<-s.leave.ready
		if !s.leave.byUs || n > 1 {
			s.leave.abort() // the user insists: stop waiting for the server
		}
		select {
		case <-s.leave.done:
			return s.leave.err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return s.leaveRoom(ctx, EndLeft)
}

// claimLeave reports whether the caller is the first to leave, and so the one to do it.
func (s *Session) claimLeave() bool {
	first := false
	s.leave.once.Do(func() { first = true })
	return first
}

// leaveRoom is the leave itself, by the caller that claimed it; the session's Closed event
// carries reason.
func (s *Session) leaveRoom(ctx context.Context, reason EndReason) error {
	defer close(s.leave.done)
	sctx, cancel := context.WithTimeout(ctx, leaveServerTimeout)
	defer cancel()
	s.leave.abort = cancel
	close(s.leave.ready)
	select {
	case <-s.done:
		return nil // already closed without leaving
	default:
	}
	if err := s.be.Unsubscribe(sctx); err != nil {
		s.log.Debug("unsubscribe", "err", err)
	}
	if reason != EndRemoved {
		s.leave.err = s.be.Leave(sctx, s.opts.RoomID)
	}
	s.shutdown(s.endErr, reason)
	return s.leave.err
}

// Close ends the session without leaving the room (the member stays, as after a crash; a
// later join resumes it).
func (s *Session) Close() error {
	select {
	case <-s.stop.done:
		return nil // already shut down
	default:
	}
	ctx, cancel := context.WithTimeout(context.Background(), closeServerTimeout)
	defer cancel()
	s.be.Unsubscribe(ctx)
	s.shutdown(nil, EndLeft)
	return nil
}

// shutdown stops the loop, our mpv (an attached one is only disconnected, which ends its
// event stream) and every task, then the connection, and ends the events with Closed{err,
// reason}. It runs once; later callers wait.
func (s *Session) shutdown(err error, reason EndReason) {
	s.stop.once.Do(func() {
		defer close(s.stop.done)
		s.post(leaveReq{})
		s.cancel()
		<-s.done
		s.closePlayer()
		s.tasks.Wait()
		s.be.Close()
		s.events.close(Closed{Err: err, Reason: reason})
	})
	<-s.stop.done
}
