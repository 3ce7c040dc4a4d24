package room

import (
	"context"
	"errors"
	"math"
	"time"

	"github.com/watchparty/watchparty/party"
	"github.com/watchparty/watchparty/player"
)

// This file is the host's role: carrying out host actions (the keys, mpv's own window) and
// publishing them, republishing when our mpv falls off the published state, and learning the
// publish lag.

// Host publish lag (see hostState.lag): measured this long after a publish, when mpv's
// position has settled; a residual above lagTolerance is republished at once, at most
// maxLagFixes times in a row; the learnt lag is bounded to [-maxLag, maxLag].
const (
	lagCheckDelay = 100 * time.Millisecond
	// restartLagPrior is the publish lag assumed until the first measurement: a typical
	// value with mpv 0.35 (watchparty bench sync). Starting at 0 instead put every follower
	// 100+ ms ahead of the host after the party's first seek.
	restartLagPrior = 0.045
	lagTolerance    = 0.008
	maxLagFixes     = 2
	maxLag          = 0.3
	// hostQuiet: no republish this long after a change (mpv's pause and position properties
	// arrive a moment after the command's reply).
	hostQuiet = 1500 * time.Millisecond
)

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

func kindOf(a HostAction) lagKind {
	switch a {
	case ActionPlay:
		return lagPlay
	case ActionSeek:
		return lagSeek
	}
	return lagRunning
}

// hostState is the host's part of the loop's state.
type hostState struct {
	// queue holds the host operations not yet started; busy says one is running (its player
	// step or its publish). Only one runs at a time, except that a host action does not wait
	// for a republish the session started on its own: the action supersedes it and starts at
	// once (a pause must go out now, not after a stale restatement of the room). The
	// superseded republish still completes (a publish cannot be unsent); superseded counts
	// those in flight. A room update that arrives while any publish is in flight may be our
	// own publish echoing back: it is stashed until they have all returned.
	queue          []hostOp
	busy           bool
	busyRepublish  bool   // the running operation is a republish (it may be superseded)
	running        uint64 // the running operation's id (0: none)
	lastID         uint64
	superseded     int
	lastOwnVersion int64
	stashed        *party.RoomState
	// actionVersion is the state version our last host action published; lateVersion the
	// highest version a superseded republish published. A republish that landed after the
	// action that superseded it (lateVersion > actionVersion) has put the room back to a stale
	// state: what our mpv shows is published again at once.
	actionVersion, lateVersion int64
	lateRoom                   party.RoomState // the state that late republish published

	lastPublished party.RoomState // what we last published
	quietUntil    time.Time       // no republish before this (a change is settling)

	// lag is how far (wall seconds) the room's published state ends up behind the host's own
	// mpv, per lagKind: the server stamps updated_at when the control arrives, not when we
	// read the position, and mpv shows the next frame at once when it restarts after a seek
	// or unpause (40 ms at 25 fps). Left alone, every follower would trail the host by that
	// much. The loop learns it after each publish (checkPublishLag); publishes add it.
	lag          [lagKinds]float64
	lags         [lagKinds]party.DriftFilter // recent measurements, per lagKind
	checkAt      time.Time                   // when to measure the last publish's lag (zero: none due)
	checkKind    lagKind
	checkVersion int64 // the state version the measurement is about
	fixes        int   // republishes in a row made to correct a lag
}

func (h *hostState) init() {
	h.lag[lagPlay], h.lag[lagSeek] = restartLagPrior, restartLagPrior
}

// failQueued answers every queued request with err.
func (h *hostState) failQueued(err error) {
	for _, o := range h.queue {
		if o.req != nil {
			o.req.reply <- err
		}
	}
	h.queue = nil
}

// hostOp is one host operation: a Controls request (req), or a publish the session decides
// on its own (action with pos, or the player's position when posNow).
type hostOp struct {
	req    *request
	action HostAction
	pos    float64
	posNow bool
	rate   *float64
	// republish: the session restates where the room is (the republish rule, a lag fix),
	// not a host action; a host action supersedes it.
	republish bool
	// waitFor: the members of a wait (action ActionWait: our mpv pauses first); resume: a
	// play that ends a wait (our mpv resumes first).
	waitFor []string
	resume  bool
	// readyMode: the room was in ready mode when the request was queued; a play is then
	// published first (the ready check, ready.go).
	readyMode bool
	id        uint64 // set when it starts
}

// hostOpDone is a host operation's result, back in the loop.
type hostOpDone struct {
	op     hostOp
	action HostAction // what was published ("" when the player step failed)
	room   party.RoomState
	err    error
	// publishedFirst: a play published before our mpv played (ready mode); the loop plays it
	// when the room plays.
	publishedFirst bool
}

// quiet holds off the host's republish rule while a change settles in mpv.
func (s *Session) quiet(e *engine) { e.host.quietUntil = s.now().Add(hostQuiet) }

// queueHostOp queues o and starts it if nothing else runs.
func (s *Session) queueHostOp(e *engine, o hostOp) {
	e.host.queue = append(e.host.queue, o)
	s.nextHostOp(e)
}

// nextHostOp starts the first queued operation on a task, unless one is running. A host
// action does not wait for a republish in flight: that one is superseded.
func (s *Session) nextHostOp(e *engine) {
	h := &e.host
	if h.busy && h.busyRepublish && len(h.queue) > 0 && !h.queue[0].republish {
		h.busy, h.busyRepublish, h.running = false, false, 0
		h.superseded++
	}
	for !e.host.busy && len(e.host.queue) > 0 {
		o := e.host.queue[0]
		e.host.queue = e.host.queue[1:]
		if o.req != nil && o.req.ctx.Err() != nil {
			o.req.reply <- o.req.ctx.Err()
			continue
		}
		p := s.player
		if p == nil || e.relaunching {
			if o.req != nil {
				o.req.reply <- errNoPlayer
			}
			continue
		}
		h.lastID++
		o.id = h.lastID
		h.busy, h.busyRepublish, h.running = true, o.republish, o.id
		lag, clk := e.host.lag, e.clock
		s.goTask(func() {
			caller := s.ctx
			if o.req != nil {
				caller = o.req.ctx
			}
			ctx, cancel := s.taskContext(caller, serverTimeout)
			defer cancel()
			if first, room, err := s.readyPlay(ctx, p, o, clk); first {
				s.post(hostOpDone{op: o, action: ActionPlay, room: room, err: err, publishedFirst: true})
				return
			}
			action, room, err := s.runHostOp(ctx, p, o, lag, clk)
			s.post(hostOpDone{op: o, action: action, room: room, err: err})
		})
	}
}

// runHostOp does o's player step, if any, and publishes the result. It runs on a task, so it
// reads only its arguments, the player and the backend.
func (s *Session) runHostOp(ctx context.Context, p *player.Player, o hostOp, lag [lagKinds]float64, clk party.ClockOffset) (HostAction, party.RoomState, error) {
	action, pos, rate := o.action, o.pos, o.rate
	if o.posNow {
		pos = p.Position()
		if action == ActionPause && p.Paused() {
			pos = pausedPosition(ctx, p) // paused in mpv's window: the frame it stopped on
		}
	}
	if r := o.req; r != nil {
		var err error
		switch r.op {
		case opTogglePlay:
			// Not Paused: a toggle right after the last one must see its pause, which
			// mpv reports only after the reply.
			if p.PauseTarget() {
				action, err = ActionPlay, p.Play(ctx)
				pos = p.Position()
			} else {
				action, err = ActionPause, p.Pause(ctx)
				pos = pausedPosition(ctx, p)
			}
		case opForcePlay:
			return "", party.RoomState{}, nil // already playing (readyPlay publishes a paused one)
		case opSeekTo, opSeekBy, opSeekFraction:
			action = ActionSeek
			pos, err = hostSeek(ctx, p, r.op, r.arg)
		case opRate:
			rt := r.arg
			action, rate, err = ActionRate, &rt, p.SetSpeed(ctx, rt)
			pos = p.Position()
		}
		if err != nil {
			return "", party.RoomState{}, err
		}
	}
	switch {
	case action == ActionWait:
		if err := p.Pause(ctx); err != nil {
			return "", party.RoomState{}, err
		}
		pos = pausedPosition(ctx, p)
		room, err := s.be.Wait(ctx, s.opts.RoomID, o.waitFor, pos, clk.ServerNow(time.Now()))
		return action, room, err
	case o.resume:
		if err := p.Play(ctx); err != nil {
			return "", party.RoomState{}, err
		}
		pos = p.Position()
	}
	// While the room will be playing, the position is moved on by the learnt publish lag.
	if action == ActionPlay || action != ActionPause && !p.Paused() {
		r := 1.0
		if rate != nil {
			r = *rate
		} else if sp := p.Speed(); sp > 0 {
			r = sp
		}
		pos += lag[kindOf(action)] * r
	}
	// When pos was read, on the server's clock: a playing room's position is moved on from
	// it to the server's write, so the request's varying trip does not shift the room.
	at := clk.ServerNow(time.Now())
	if o.resume {
		// The end of a wait resumes a room that was playing: not a start for the ready check
		// to hold (docs/design.md §7.12).
		room, err := s.be.Play(ctx, s.opts.RoomID, pos, at, true)
		return action, room, err
	}
	room, err := s.be.Control(ctx, s.opts.RoomID, action, pos, rate, at)
	return action, room, err
}

// pausedPosition is where our just-paused mpv stopped, read from mpv itself: the followers seek
// to it exactly (party.PauseAlignThreshold), so it must be the frame on screen, not our
// interpolation, which runs on until mpv's pause event arrives (after the command's reply).
func pausedPosition(ctx context.Context, p *player.Player) float64 {
	var pos float64
	if err := p.GetProperty(ctx, "time-pos", &pos); err != nil || math.IsNaN(pos) || math.IsInf(pos, 0) || pos < 0 {
		return p.Position()
	}
	return pos
}

// hostSeek seeks our mpv as a host seek request asks and returns the position to publish.
func hostSeek(ctx context.Context, p *player.Player, o op, arg float64) (float64, error) {
	pos := arg
	switch o {
	case opSeekBy:
		pos = p.Position() + arg
	case opSeekFraction:
		d := p.Duration()
		if d <= 0 {
			return 0, errors.New("the video's length is unknown")
		}
		pos = d * math.Max(0, math.Min(1, arg))
	}
	pos = math.Max(0, pos)
	if d := p.Duration(); d > 0 && pos > d {
		pos = d
	}
	if err := p.Seek(ctx, pos); err != nil {
		return 0, err
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
	return at, nil
}

// onHostOpDone takes a host operation's result: the room it published, when to measure the
// publish lag, the caller's reply; then a stashed room update, or the next operation.
func (s *Session) onHostOpDone(e *engine, m hostOpDone) {
	h := &e.host
	if m.op.id != h.running {
		s.onSupersededDone(e, m) // a republish a host action superseded
		return
	}
	h.busy, h.busyRepublish, h.running = false, false, 0
	s.quiet(e)
	var nr *NotReadyError
	switch {
	case errors.As(m.err, &nr):
		// The room waits for everyone: our mpv stays (or goes back) where the room is. A
		// request's caller hears of it from its reply (the screen asks "start anyway?").
		if m.op.req == nil {
			s.events.push(Notice{NoticeInfo, "starting when everyone is ready: " + nr.Summary()})
		}
		if e.isHost() {
			s.applyRoomToHost(e)
		}
	case m.err != nil && m.action != "":
		s.events.push(Notice{NoticeError, string(m.action) + " failed: " + m.err.Error()})
	case m.err == nil && m.room.Known():
		st := m.room
		if st.StateVersion > e.host.lastOwnVersion {
			e.host.lastOwnVersion = st.StateVersion
		}
		if !m.op.republish && st.StateVersion > h.actionVersion {
			h.actionVersion = st.StateVersion
		}
		if st.Newer(e.room) {
			s.readyRoomChanged(e, e.room, st)
			e.room = st
			e.host.lastPublished = st
			s.roomChanged(e)
		}
		if !m.op.republish && (m.action == ActionPlay || m.action == ActionSeek) {
			e.wait.Acted(s.now()) // buffering soon after this makes the room wait
		}
		if m.publishedFirst && e.isHost() {
			s.applyRoomToHost(e) // the room plays: now our mpv does
		}
		if st.IsPlaying {
			e.host.checkAt = s.now().Add(lagCheckDelay)
			e.host.checkKind, e.host.checkVersion = kindOf(m.action), st.StateVersion
		}
	}
	if m.op.req != nil {
		m.op.req.reply <- m.err
	}
	s.afterHostOps(e)
}

// onSupersededDone takes the result of a republish a host action superseded: its version is
// ours (its echo is not someone else's update), but its state is stale.
func (s *Session) onSupersededDone(e *engine, m hostOpDone) {
	h := &e.host
	h.superseded--
	if m.err == nil && m.room.Known() {
		if v := m.room.StateVersion; v > h.lastOwnVersion {
			h.lastOwnVersion = v
		}
		if v := m.room.StateVersion; v > h.lateVersion {
			h.lateVersion, h.lateRoom = v, m.room
		}
	}
	s.afterHostOps(e)
}

// afterHostOps runs when a host operation has returned: once none is in flight, a republish
// that landed after the action that superseded it is corrected, and a stashed room update is
// taken; then the next operation starts.
func (s *Session) afterHostOps(e *engine) {
	h := &e.host
	if !h.busy && h.superseded == 0 && h.lateVersion > 0 {
		late := h.lateVersion > h.actionVersion
		lateRoom := h.lateRoom
		h.lateVersion, h.lateRoom = 0, party.RoomState{}
		if p := s.player; late && p != nil && !e.relaunching {
			if lateRoom.Newer(e.room) {
				e.room = lateRoom // what the server has now
			}
			s.log.Debug("a superseded republish landed after the host action: publishing again")
			o := hostOp{action: ActionSync, posNow: true}
			if paused := p.PauseTarget(); paused {
				o.action = ActionPause
			} else if !lateRoom.IsPlaying {
				o.action = ActionPlay
			}
			h.queue = append([]hostOp{o}, h.queue...)
		}
	}
	if len(h.queue) == 0 && !h.busy && h.superseded == 0 && h.stashed != nil {
		st := *h.stashed
		h.stashed = nil
		s.onRoomState(e, st)
	}
	s.nextHostOp(e)
}

// hostBusy reports whether a host operation is running, waiting, or superseded but still in
// flight.
func (e *engine) hostBusy() bool {
	return e.host.busy || len(e.host.queue) > 0 || e.host.superseded > 0
}

// maybeRepublish is the host's rule: if our player fell off our published state (buffering),
// publish where we really are.
func (s *Session) maybeRepublish(e *engine) {
	if !e.isHost() || e.hostBusy() || !e.room.Known() || e.fol.seekInFlight || s.now().Before(e.host.quietUntil) {
		return
	}
	p := s.player
	if p == nil || e.relaunching || e.queue.switching {
		return
	}
	st := p.State()
	if !st.Loaded || st.Seeking {
		return
	}
	expected := e.room.ExpectedPosition(e.clock.ServerNow(s.now()))
	if party.ShouldRepublish(st.Position, expected, false) || st.Paused == e.room.IsPlaying && !st.EndOfFile {
		action := ActionSync
		if st.Paused == e.room.IsPlaying {
			action = ActionPlay
			if st.Paused {
				action = ActionPause
			}
		}
		s.queueHostOp(e, hostOp{action: action, pos: st.Position, republish: true})
	}
}

// checkPublishLag measures, once mpv has settled after our last publish, how far the room's
// state trails our mpv, learns it for the next publishes, and republishes at once if the
// residual is more than lagTolerance.
func (s *Session) checkPublishLag(e *engine) {
	h := &e.host
	if h.checkAt.IsZero() || s.now().Before(h.checkAt) {
		return
	}
	h.checkAt = time.Time{}
	if !e.isHost() || !e.room.IsPlaying || e.room.StateVersion != h.checkVersion || e.hostBusy() || e.fol.seekInFlight {
		return
	}
	p := s.player
	if p == nil || e.relaunching || e.queue.switching {
		return
	}
	st := p.State()
	if !st.Loaded || st.Paused || st.Seeking || st.Buffering || st.EndOfFile {
		return
	}
	resid := (st.Position - e.room.ExpectedPosition(e.clock.ServerNow(s.now()))) / e.room.Rate()
	if !h.learnLag(h.checkKind, resid) {
		return
	}
	s.log.Debug("host publish lag", "residual_ms", int(resid*1000), "kind", int(h.checkKind), "lag_ms", int(h.lag[h.checkKind]*1000))
	s.queueHostOp(e, hostOp{action: ActionSync, posNow: true, republish: true})
}

// learnLag takes one residual measured after a publish of kind k (s, positive: the room is
// behind our mpv) and reports whether to republish at once to correct it.
func (h *hostState) learnLag(k lagKind, resid float64) bool {
	if math.Abs(resid) >= party.RepublishThreshold {
		return false // not a lag: the republish rule handles it
	}
	// What this publish's lag would have been uncompensated; the median of recent ones is used.
	h.lag[k] = math.Max(-maxLag, math.Min(maxLag, h.lags[k].Add(resid+h.lag[k])))
	if math.Abs(resid) <= lagTolerance || h.fixes >= maxLagFixes {
		h.fixes = 0
		return false
	}
	h.fixes++
	return true
}

// applyRoomToHost makes the host's player match a room state it did not publish itself.
func (s *Session) applyRoomToHost(e *engine) {
	p := s.player
	if p == nil {
		return
	}
	in := e.room.Input(e.clock.ServerNow(s.now()))
	in.Position, in.Paused, in.Speed = p.Position(), p.Paused(), p.Speed()
	c := party.Decide(in)
	// The host's player is the room's clock: it never nudges, it only takes the room's rate.
	c.Actions &^= party.ActionNudge | party.ActionRestoreRate
	if rate := e.room.Rate(); math.Abs(in.Speed-rate) > 1e-3 {
		c.Actions |= party.ActionRestoreRate
		c.Speed = rate
	}
	s.apply(e, p, c)
	e.host.lastPublished = e.room
	s.quiet(e)
}

// hostWindowAction publishes what the host did in mpv's own window (or mpv pausing at the
// end) so everyone follows.
func (s *Session) hostWindowAction(e *engine, ev player.Event) {
	s.quiet(e)
	o := hostOp{pos: ev.Position}
	switch ev.Kind {
	case player.EventPaused:
		o.action, o.posNow = ActionPause, true // the frame it stopped on, read from mpv
	case player.EventResumed:
		o.action = ActionPlay
	case player.EventSeeked:
		o.action = ActionSeek
	case player.EventSpeedChanged:
		rate := ev.Speed
		o.action, o.rate = ActionRate, &rate
	}
	s.queueHostOp(e, o)
}
