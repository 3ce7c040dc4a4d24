package room

import (
	"context"
	"errors"
	"math"
	"time"

	"github.com/watchparty/watchparty/party"
	"github.com/watchparty/watchparty/player"
)

// This file is the follower's role: correcting our mpv towards the room (party.Decide), the
// seek settle time and landing bias it learns, the seek back-off, and detaching when the user
// acts in mpv's own window.

const (
	// Seek back-off: a follower whose correction seeks do not work (mpv cannot seek in the
	// media, or a seek lands nowhere near its target) retries after seekBackoffMin, doubling
	// up to seekBackoffMax, instead of seeking on every correction tick.
	seekBackoffMin = time.Second
	seekBackoffMax = 30 * time.Second
	// seekNoEffect: a seek is taken as not having worked when, this soon after it finished,
	// the same room state asks for a seek again.
	seekNoEffect = time.Second
	// landCheckDelay: a follower measures where its correction seek landed this long after
	// playback restarted (a few time-pos reports later).
	landCheckDelay = 150 * time.Millisecond
	// landBiasPrior is the landing bias assumed until the first measurement (see
	// follower.landBias): a typical value with mpv 0.35 (watchparty bench sync).
	landBiasPrior = 0.06
	// landingWindow: for this long after a follower's first correction seek for a room state
	// finished, a drift beyond party.LandingSeekThreshold seeks again (party's Landing).
	landingWindow = time.Second
)

// follower is the follower's part of the loop's state.
type follower struct {
	drift    party.DriftFilter
	detached bool // the user acted in mpv: no correction until sync to live or a host action

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

	// userActsSeen is the player's UserActs as of the last player event the loop handled:
	// when the player's state counts more, the user acted in mpv and the event saying so is
	// still on its way to the loop. The state then already shows the user's pause or seek:
	// correcting it would undo what the user did before the loop knows to detach.
	userActsSeen uint64

	lastIndicator  party.Indicator
	durationWarned bool
	seekFails      int       // correction seeks in a row that did not work
	seekRetryAt    time.Time // no correction seek before this (back-off)
	seekDoneAt     time.Time // when the last correction seek finished
	seekVersion    int64     // the room state it was aimed at
	seekTarget     float64   // where it was aimed
	slowRetried    bool      // a seek that landed too late was retried at once (once in a row)
	landingUntil   time.Time // party's Landing until then (zero: none), for landingVersion
	landingVersion int64
	seekWarned     bool // the "cannot seek" notice was shown
	// alignedVersion is the paused room state we last seeked to exactly (the host's frame):
	// one such seek per paused state (party.PauseAlignThreshold).
	alignedVersion int64
}

func (f *follower) init() { f.settle, f.landBias = 0.05, landBiasPrior }

// seekDone is a correction seek's result, back in the loop.
type seekDone struct {
	err     error
	started time.Time
	version int64   // the room state the seek was aimed at
	target  float64 // where it was aimed
}

// aheadFor is how far ahead of the room's position to aim a seek so that, once mpv has
// settled, we are where the room is.
func (e *engine) aheadFor() float64 {
	if !e.room.IsPlaying {
		return 0
	}
	return e.fol.settle*e.room.Rate() - e.fol.landBias
}

// correct runs the follower correction policy once.
func (s *Session) correct(e *engine) {
	if e.isHost() || !e.room.Known() {
		return
	}
	p := s.player
	if p == nil || e.relaunching || e.queue.switching {
		return
	}
	st := p.State()
	f := &e.fol
	if !st.Loaded || st.UserActs != f.userActsSeen {
		return
	}
	in := e.room.Input(e.clock.ServerNow(s.now()))
	in.Position, in.Paused, in.Speed, in.AtEOF = st.Position, st.Paused, st.Speed, st.EndOfFile
	in.Detached, in.SeekInFlight = f.detached, f.seekInFlight
	in.Aligned = f.alignedVersion == e.room.StateVersion && !e.room.IsPlaying
	in.Landing = f.landingVersion == e.room.StateVersion && s.now().Before(f.landingUntil)
	s.checkLanding(e, in, st)
	c := party.Decide(f.drift.Apply(in))
	if f.seekFails > 0 && !c.Has(party.ActionSeek) && math.Abs(in.Drift()) < party.SeekThreshold {
		f.seekFails, f.seekRetryAt = 0, time.Time{} // seeking is not needed: start afresh next time
		f.slowRetried = false
	}
	ind := party.Indicate(in, c)
	if ind.Status != f.lastIndicator.Status {
		e.view.changed = true
		if (ind.Status == party.StatusInSync) != (f.lastIndicator.Status == party.StatusInSync) {
			f.lastIndicator = ind
			s.trackPresence(e)
		}
	}
	f.lastIndicator = ind
	s.apply(e, p, c)
}

// checkLanding learns landBias from where our last correction seek landed, once mpv's
// position has settled after it (see landCheckDelay).
func (s *Session) checkLanding(e *engine, in party.CorrectionInput, st player.State) {
	f := &e.fol
	if f.landCheckAt.IsZero() || s.now().Before(f.landCheckAt) {
		return
	}
	f.landCheckAt = time.Time{}
	if e.room.StateVersion != f.landVersion || !e.room.IsPlaying || st.Paused || st.Seeking || st.Buffering || st.EndOfFile || f.detached || f.seekInFlight {
		return
	}
	if d := in.Drift(); math.Abs(d) < party.SeekThreshold {
		// A speed nudge may have run since the landing; it only ever shrinks the error, so
		// this underestimates the bias a little, and the next seek corrects the rest.
		f.landBias = math.Max(-maxLag, math.Min(maxLag, f.landings.Add(d+f.landBias)))
		s.log.Debug("seek landed", "drift_ms", int(d*1000), "land_bias_ms", int(f.landBias*1000), "settle_ms", int(f.settle*1000))
	}
}

// apply performs a correction in the order party asks: pause, seek, speed, play. The seek
// runs on a task (it waits for playback to restart); the rest are quick property writes.
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
	if c.Has(party.ActionSeek) && !e.fol.seekInFlight && s.seekAllowed(e) {
		e.fol.seekInFlight = true
		version := e.room.StateVersion
		if !e.room.IsPlaying {
			e.fol.alignedVersion = version
		}
		target := c.SeekTo + e.aheadFor()
		if d := e.room.MediaDuration; d > 0 && target > d {
			target = d
		}
		started := s.now()
		s.goTask(func() {
			sctx, scancel := context.WithTimeout(s.ctx, serverTimeout)
			err := p.Seek(sctx, target)
			scancel()
			s.post(seekDone{err, started, version, target})
		})
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

// onSeekDone takes a correction seek's result: the settle time it took, when to measure its
// landing, or a failure for the back-off.
func (s *Session) onSeekDone(e *engine, m seekDone) {
	f := &e.fol
	f.seekInFlight = false
	if m.err != nil && s.ctx.Err() == nil {
		s.seekFailed(e, m.err)
	}
	if m.err == nil {
		now := s.now()
		f.seekDoneAt, f.seekVersion, f.seekTarget = now, m.version, m.target
		took := now.Sub(m.started).Seconds()
		if took > 0 && took < 2 {
			f.settle = f.settles.Add(took)
		}
		if e.room.IsPlaying {
			f.landCheckAt, f.landVersion = now.Add(landCheckDelay), e.room.StateVersion
		}
		// The first correction seek for a room state may seek again soon after if it landed
		// late; the second may not (party's Landing).
		f.landingUntil = time.Time{}
		if m.version != f.landingVersion {
			f.landingUntil, f.landingVersion = now.Add(landingWindow), m.version
		}
	}
	f.drift.Reset()
}

// seekAllowed applies the seek back-off: no correction seek before seekRetryAt. A seek wanted
// again for the same room state right after the last one finished did not work if the
// position did not follow it (mpv reported it done, as with sources that cannot seek
// backwards): that counts as a failed seek. One that did move the player, but took so long
// that the room moved on (a busy machine), worked: the next seek goes at once (once in a row;
// a second such seek counts as failed, so media whose every seek is that slow backs off).
func (s *Session) seekAllowed(e *engine) bool {
	f := &e.fol
	now := s.now()
	if !f.seekDoneAt.IsZero() && f.seekVersion == e.room.StateVersion && now.Sub(f.seekDoneAt) < seekNoEffect {
		moved := false
		if p := s.player; p != nil {
			moved = followedSeek(p.State(), f.seekTarget, now.Sub(f.seekDoneAt))
		}
		f.seekDoneAt = time.Time{}
		if moved && !f.slowRetried {
			f.slowRetried = true // once in a row: media whose every seek is slow backs off
		} else {
			s.seekFailed(e, nil)
		}
	}
	return !now.Before(f.seekRetryAt)
}

// followedSeek reports whether a player in state st is where a seek to target that finished
// since ago put it (within party.SeekThreshold).
func followedSeek(st player.State, target float64, since time.Duration) bool {
	want := target
	if !st.Paused && !st.Seeking && !st.Buffering && !st.EndOfFile {
		want += since.Seconds() * st.Speed
	}
	return math.Abs(st.Position-want) < party.SeekThreshold
}

// seekFailed backs the correction seeks off (seekBackoffMin, doubling to seekBackoffMax) and
// says so once per session.
func (s *Session) seekFailed(e *engine, err error) {
	f := &e.fol
	f.seekFails++
	d := seekBackoffMax
	if f.seekFails <= 8 {
		d = min(seekBackoffMax, seekBackoffMin<<(f.seekFails-1))
	}
	f.seekRetryAt = s.now().Add(d)
	s.log.Debug("correction seek did not work", "err", err, "fails", f.seekFails, "retry_in", d)
	if f.seekWarned || err == nil && f.seekFails < 2 {
		return
	}
	f.seekWarned = true
	why := "seeks do not move it"
	if p := s.player; errors.Is(err, player.ErrSeekIgnored) || p != nil && !p.State().Seekable {
		why = "mpv cannot seek in it"
	}
	s.events.push(Notice{NoticeWarn, "seeking does not work in this media (" + why + "): play, pause and speed still follow the room; seeks are retried less often"})
}

// followerWindowAction detaches us when the user paused, played, seeked or changed the speed
// in mpv's own window.
func (s *Session) followerWindowAction(e *engine, ev player.Event) {
	if ev.Origin != player.ByUser || e.fol.detached {
		return
	}
	e.fol.detached = true
	e.fol.drift.Reset()
	s.events.push(Notice{NoticeWarn, "you " + ev.Kind.String() + " in mpv: detached from the room (press s to sync to live)"})
	s.trackPresence(e)
	e.view.changed = true
}
