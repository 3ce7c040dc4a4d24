// Package room is one room session: it wires the player (mpv), the realtime client and the
// party sync rules together. See docs/design.md for the session loop and the sync rules.
package room

import (
	"context"
	"errors"
	"strings"
	"time"
)

// ErrNotHost is returned by host-only actions (play, pause, seek) on a follower. Followers can
// still pause or seek in mpv's own window; that detaches them until SyncToLive.
var ErrNotHost = errors.New("only the host can control playback")

// ErrClosed is returned by actions on a session that has ended.
var ErrClosed = errors.New("the session has ended")

// errNoPlayer: our mpv is not running (it died and is being restarted).
var errNoPlayer = errors.New("mpv is not running")

// Controls are the actions a user interface can take on a session. *Session implements it; the
// TUI depends on this interface only. All methods are safe for concurrent use and return when
// the server has acknowledged the action (or ctx ends). Actions are carried out one at a
// time, in the order they reach the session.
type Controls interface {
	// Events is the ordered stream of what happens; it is closed after the Closed event.
	Events() <-chan Event
	// Snapshot is the current state (the same value the last StateChanged carried).
	Snapshot() Snapshot

	TogglePlay(ctx context.Context) error              // host: play/pause the room
	SeekTo(ctx context.Context, pos float64) error     // host: absolute position, s
	SeekBy(ctx context.Context, delta float64) error   // host: relative seek, s
	SeekFraction(ctx context.Context, f float64) error // host: 0–1 of the duration
	SyncToLive(ctx context.Context) error              // follower: re-read the room state and follow again
	Comment(ctx context.Context, text string) error    // post at our current video time
	// Handover gives the host role to the member with userID, on purpose (host only): the
	// room's owner who hands it over does not take it back on returning.
	Handover(ctx context.Context, userID string) error
	// SetReady answers the ready check for us (docs/api.md, "The ready check").
	SetReady(ctx context.Context, ready bool) error
	// SetReadyMode turns the room's ready check on or off (host only).
	SetReadyMode(ctx context.Context, on bool) error
	// ForcePlay plays the room at once, ready or not (host only). TogglePlay's play in ready
	// mode returns *NotReadyError when the room waits for someone.
	ForcePlay(ctx context.Context) error
	// Moderate makes the member with userID a co-host or not, or removes or bans them (host
	// only; docs/design.md §14).
	Moderate(ctx context.Context, userID string, action Moderation) error
	// ToggleOSD turns comments and room events on mpv's OSD off or on and returns whether
	// they are on now.
	ToggleOSD() bool
	// EndWait ends the room's wait for buffering members at once: the room plays on without
	// them (host only; docs/design.md §7.12).
	EndWait(ctx context.Context) error
	// Leave leaves the room and stops the mpv we started (an attached mpv keeps running). It
	// returns within about 2 s whatever the server and mpv do; a second call while the first
	// runs stops waiting for the server and returns once mpv is stopped.
	Leave(ctx context.Context) error
}

// op is what a request asks the loop to do.
type op int

const (
	opTogglePlay op = iota + 1
	opSeekTo
	opSeekBy
	opSeekFraction
	opRate
	opSyncToLive
	opComment
	opHandover
	opEndWait
	opForcePlay
	opSetReady
	opReadyMode
	opModerate
)

// request is a Controls call on its way to the loop. The loop (or a task it starts) sends
// exactly one reply.
type request struct {
	ctx   context.Context
	op    op
	arg   float64
	text  string
	on    bool       // opSetReady, opReadyMode
	reply chan error // buffered 1
}

// do sends a request to the loop and waits for its reply, ctx, or the end of the session.
func (s *Session) do(ctx context.Context, r request) error {
	r.ctx, r.reply = ctx, make(chan error, 1)
	select {
	case s.inbox <- r:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.done:
		return ErrClosed
	}
	select {
	case err := <-r.reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-s.done:
		select {
		case err := <-r.reply:
			return err
		default:
			return ErrClosed
		}
	}
}

// TogglePlay implements Controls.
func (s *Session) TogglePlay(ctx context.Context) error {
	return s.do(ctx, request{op: opTogglePlay})
}

// SeekTo implements Controls.
func (s *Session) SeekTo(ctx context.Context, pos float64) error {
	return s.do(ctx, request{op: opSeekTo, arg: pos})
}

// SeekBy implements Controls.
func (s *Session) SeekBy(ctx context.Context, delta float64) error {
	return s.do(ctx, request{op: opSeekBy, arg: delta})
}

// SeekFraction implements Controls.
func (s *Session) SeekFraction(ctx context.Context, f float64) error {
	return s.do(ctx, request{op: opSeekFraction, arg: f})
}

// SetRate changes the room's playback rate (host only).
func (s *Session) SetRate(ctx context.Context, rate float64) error {
	return s.do(ctx, request{op: opRate, arg: rate})
}

// SyncToLive implements Controls.
func (s *Session) SyncToLive(ctx context.Context) error {
	return s.do(ctx, request{op: opSyncToLive})
}

// Comment implements Controls.
func (s *Session) Comment(ctx context.Context, text string) error {
	text = strings.TrimSpace(text)
	if text == "" {
		return errors.New("empty comment")
	}
	return s.do(ctx, request{op: opComment, text: text})
}

// Handover implements Controls.
func (s *Session) Handover(ctx context.Context, userID string) error {
	return s.do(ctx, request{op: opHandover, text: userID})
}

// EndWait implements Controls.
func (s *Session) EndWait(ctx context.Context) error {
	return s.do(ctx, request{op: opEndWait})
}

// onRequest carries out a Controls request in the loop.
func (s *Session) onRequest(e *engine, r request) {
	if err := r.ctx.Err(); err != nil {
		r.reply <- err
		return
	}
	switch r.op {
	case opSyncToLive:
		if e.isHost() {
			r.reply <- nil // the host is the room
			return
		}
		s.goTask(func() {
			s.resync(r.ctx, true)
			r.reply <- nil
		})
	case opComment:
		var at *float64
		if p := s.player; p != nil && p.State().Loaded {
			pos := p.Position()
			at = &pos
		}
		s.goTask(func() {
			ctx, cancel := s.taskContext(r.ctx, serverTimeout)
			defer cancel()
			r.reply <- s.be.Comment(ctx, s.opts.RoomID, r.text, at)
		})
	case opEndWait:
		s.endWaitNow(e, r)
	case opHandover:
		// The room's UPDATE (a new host) arrives on the channel like any other hand-over.
		s.hostTask(e, r, func(ctx context.Context) error { return s.be.Handover(ctx, s.opts.RoomID, r.text) })
	case opSetReady, opReadyMode:
		s.onReadyRequest(e, r)
	case opModerate:
		s.hostTask(e, r, func(ctx context.Context) error { return s.moderate(ctx, r.text, Moderation(r.arg)) })
	default:
		switch {
		case !e.isHost() && e.isCohost():
			s.cohostControl(e, r)
		case !e.isHost():
			r.reply <- ErrNotHost
		case s.player == nil || e.relaunching:
			r.reply <- errNoPlayer
		default:
			s.queueHostOp(e, hostOp{req: &r, readyMode: e.room.ReadyMode})
		}
	}
}

// hostTask carries out a host-only request with the server in a task (a non-host is refused).
func (s *Session) hostTask(e *engine, r request, fn func(ctx context.Context) error) {
	if !e.isHost() {
		r.reply <- ErrNotHost
		return
	}
	s.goTask(func() {
		ctx, cancel := s.taskContext(r.ctx, serverTimeout)
		defer cancel()
		r.reply <- fn(ctx)
	})
}

// taskContext is the context of a task done for a caller: it ends with the caller's ctx (the
// session's own for the loop's tasks), with the session, or after timeout.
func (s *Session) taskContext(caller context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	if caller == s.ctx {
		return context.WithTimeout(s.ctx, timeout)
	}
	ctx, cancel := context.WithTimeout(caller, timeout)
	stop := context.AfterFunc(s.ctx, cancel)
	return ctx, func() { stop(); cancel() }
}
