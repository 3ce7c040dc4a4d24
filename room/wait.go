package room

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/watchparty/watchparty/party"
	"github.com/watchparty/watchparty/player"
)

// This file is waiting for a buffering member (docs/design.md §7.12): our own buffering mark
// (every role), reported by a beat as soon as it changes; and, on the host, the wait rule of
// party.Waits: publish a "wait" when someone buffers just after a room action, and end it when
// they are ready, when the room's wait limit passes, or when the host says not to wait.

// bufferBeatGap bounds the beats a change of our buffering mark sends: at most one this often
// (the 3 s liveness beat goes on as well).
const bufferBeatGap = 250 * time.Millisecond

// ActionWait is the host control that pauses the room while members buffer (docs/api.md).
const ActionWait HostAction = "wait"

// bufferState is our own buffering mark and its bookkeeping.
type bufferState struct {
	stallSince time.Time // when our mpv's current stall began (zero: not stalled)
	on         bool      // the mark we report
	beatAt     time.Time // the last beat sent for a change of the mark
	pending    bool      // the mark changed and no beat has carried it yet
	reading    bool      // a read of mpv's cache is in flight
	readAt     time.Time // when the last one started
	// Whether our mpv plays its file over the network (demuxer-via-network), read once per
	// player at its first long stall: a local file never buffers (a seek slowed down by a
	// busy machine is no reason for the room to wait).
	netOf      *player.Player
	network    bool
	netReading bool
}

// networkRead is whether player p plays over the network.
type networkRead struct {
	p       *player.Player
	network bool
}

// cacheReadGap is how often a buffering member reads mpv's cache to tell when it is ready.
const cacheReadGap = 200 * time.Millisecond

// cacheRead is the result of reading how much media our mpv has cached ahead.
type cacheRead struct{ ready bool }

// waitState is the host's wait bookkeeping (party.Waits), and the room's wait as last shown.
type waitState struct {
	party.Waits
	shown   party.WaitList // the room's wait the notices last told (every role)
	names   []string       // the names of shown, for its end's notice
	endWhy  string         // why the host ended the wait: "ready", "timeout" or "host" (WaitChanged.Ended)
	endNext bool           // the host ends the wait as soon as no operation runs
}

// checkBuffering updates our buffering mark from our mpv, on every correction tick: on when a
// stall (mpv waits for its cache, or a seek is not done) lasts party.BufferingAfter; off once
// the stall is over and mpv's cache holds party.ReadyAhead seconds ahead or all of the file (a
// seek that lands on a slow stream plays a moment, then stalls again: that is not ready).
func (s *Session) checkBuffering(e *engine) {
	p := s.player
	if p == nil || e.relaunching {
		return
	}
	st := p.State()
	now := s.now()
	stalled := st.Loaded && (st.Buffering || st.Seeking)
	if !stalled {
		e.buf.stallSince = time.Time{}
	} else if e.buf.stallSince.IsZero() {
		e.buf.stallSince = now
	}
	switch {
	case !e.buf.on && stalled && now.Sub(e.buf.stallSince) >= party.BufferingAfter:
		switch {
		case e.buf.netOf == p && e.buf.network:
			s.setBuffering(e, true)
		case e.buf.netOf != p && !e.buf.netReading:
			e.buf.netReading = true
			s.goTask(func() {
				ctx, cancel := context.WithTimeout(s.ctx, playerOpTimeout)
				defer cancel()
				var network bool
				err := p.GetProperty(ctx, "demuxer-via-network", &network)
				s.post(networkRead{p, err == nil && network})
			})
		}
	case e.buf.on && !stalled && st.EndOfFile:
		s.setBuffering(e, false)
	case e.buf.on && !stalled && !e.buf.reading && now.Sub(e.buf.readAt) >= cacheReadGap:
		e.buf.reading, e.buf.readAt = true, now
		s.goTask(func() {
			ctx, cancel := context.WithTimeout(s.ctx, playerOpTimeout)
			defer cancel()
			var ahead float64
			var idle bool
			errAhead := p.GetProperty(ctx, "demuxer-cache-duration", &ahead)
			errIdle := p.GetProperty(ctx, "demuxer-cache-idle", &idle)
			// No cache to read (a local file has none): nothing to wait for.
			ready := errAhead != nil && errIdle != nil || ahead >= party.ReadyAhead || idle
			s.log.Debug("buffering: cache", "ahead", ahead, "idle", idle, "ready", ready)
			s.post(cacheRead{ready})
		})
	}
	if e.buf.pending && !e.pres.livenessBusy && now.Sub(e.buf.beatAt) >= bufferBeatGap {
		e.buf.pending = false
		e.buf.beatAt = now
		s.liveness(e)
	}
}

func (s *Session) onNetworkRead(e *engine, m networkRead) {
	e.buf.netReading = false
	e.buf.netOf, e.buf.network = m.p, m.network
	s.log.Debug("buffering: network stream", "network", m.network)
}

func (s *Session) onCacheRead(e *engine, m cacheRead) {
	e.buf.reading = false
	if m.ready && e.buf.on && e.buf.stallSince.IsZero() {
		s.setBuffering(e, false)
	}
}

// setBuffering changes our mark: a beat carries it at once (within bufferBeatGap).
func (s *Session) setBuffering(e *engine, on bool) {
	s.log.Debug("buffering", "on", on)
	e.buf.on, e.buf.pending = on, true
	s.events.push(BufferingChanged{Buffering: on})
	e.view.changed = true
}

// bufferingNow reports whether a member buffers as the host sees it: our own mark, or their
// row's.
func (e *engine) bufferingNow(id string) bool {
	if id == e.selfID {
		return e.buf.on
	}
	m, ok := e.pres.members.Get(id)
	return ok && m.Buffering
}

// waitRule is the host's wait rule, on every correction tick.
func (s *Session) waitRule(e *engine) {
	w := &e.wait
	if !e.isHost() || !e.room.Known() {
		w.Stop()
		w.endNext = false
		return
	}
	if e.hostBusy() {
		return
	}
	now := s.now()
	switch {
	case e.room.Waiting != "" && !w.Running():
		// A wait we did not start (we became host during it): it runs from now.
		w.Start(e.room.Waiting.IDs(), now)
	case e.room.Waiting == "" && w.Running():
		w.Stop() // someone ended it (a script's play, seek or pause)
		w.endNext = false
	}
	if w.endNext && w.Running() {
		s.endWait(e, "host")
		return
	}
	w.endNext = false
	limit := e.room.WaitLimit
	if e.room.IsPlaying || w.Running() {
		var buffering []string
		for _, m := range e.pres.members.List() {
			if m.UserID != e.selfID && m.Buffering && !m.Left() {
				buffering = append(buffering, m.UserID)
			}
		}
		if e.buf.on {
			buffering = append(buffering, e.selfID)
		}
		if add := w.ToWaitFor(buffering, now, limit); len(add) > 0 {
			s.log.Debug("wait: start", "for", add, "limit", limit)
			w.Start(add, now)
			s.queueHostOp(e, hostOp{action: ActionWait, posNow: true, waitFor: append([]string{}, w.For...)})
			return
		}
	}
	switch w.Check(e.bufferingNow, now, limit) {
	case party.WaitReady:
		s.endWait(e, "ready")
	case party.WaitTimeout:
		s.endWait(e, "timeout")
	}
}

// endWait publishes the play that ends the running wait, from where our mpv is.
func (s *Session) endWait(e *engine, why string) {
	s.log.Debug("wait: end", "why", why, "for", e.wait.For)
	e.wait.Stop()
	e.wait.endWhy = why
	s.queueHostOp(e, hostOp{action: ActionPlay, posNow: true, resume: true})
}

// endWaitNow is the host's "don't wait" (Controls.EndWait).
func (s *Session) endWaitNow(e *engine, r request) {
	switch {
	case !e.isHost():
		r.reply <- ErrNotHost
	case e.room.Waiting == "" && !e.wait.Running():
		r.reply <- errNotWaiting
	default:
		if !e.wait.Running() {
			e.wait.Start(e.room.Waiting.IDs(), s.now())
		}
		e.wait.endNext = true
		s.waitRule(e)
		r.reply <- nil
	}
}

// errNotWaiting: EndWait while the room waits for nobody.
var errNotWaiting = errors.New("the room is not waiting for anyone")

// joinNames is "Bob", "Bob and Carol", "Bob, Carol and Dan".
func joinNames(names []string) string {
	if len(names) <= 1 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// waitChanged tells the room's wait starting and ending (every role): a notice, mpv's OSD and
// a WaitChanged event. The host says why it ended; others read it from the members' marks.
func (s *Session) waitChanged(e *engine) {
	w := &e.wait
	if e.room.Waiting == w.shown {
		return
	}
	ids := e.room.Waiting.IDs()
	var text, ended string
	if e.room.Waiting != "" {
		w.names = make([]string, len(ids))
		for i, id := range ids {
			w.names[i] = s.memberName(e, id)
			if id == e.selfID {
				w.names[i] = "you"
			}
		}
		text = "waiting for " + joinNames(w.names) + " (buffering)"
	} else {
		ended = w.endWhy
		switch {
		case ended != "":
		case !e.room.IsPlaying:
			ended = "host" // paused or moved by the host (or a script) while waiting
		case slices.ContainsFunc(w.shown.IDs(), e.bufferingNow):
			ended = "timeout"
		default:
			ended = "ready"
		}
		who := joinNames(w.names)
		switch ended {
		case "ready":
			verb := " is ready: playing"
			if len(w.names) > 1 || w.names[0] == "you" {
				verb = " are ready: playing"
			}
			text = who + verb
		case "timeout":
			text = "went on without " + who
		default:
			text = "not waiting for " + who
		}
		w.endWhy = ""
	}
	w.shown = e.room.Waiting
	s.events.push(WaitChanged{UserIDs: ids, Names: append([]string{}, w.names...), Ended: ended, Text: text})
	s.events.push(Notice{NoticeInfo, text})
	s.showOnVideo(e, Comment{System: true, Message: text})
	e.view.changed = true
}
