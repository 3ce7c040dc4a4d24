package room

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/watchparty/watchparty/party"
	"github.com/watchparty/watchparty/player"
)

// This file is what every role shares: a new room state (from the channel, a resync or our
// own publish), the host changing, the clock samples, and our mpv's events.

// onRoomState handles a room state from the channel.
func (s *Session) onRoomState(e *engine, st party.RoomState) {
	if !st.Newer(e.room) {
		return
	}
	if e.isHost() || st.HostUserID == e.selfID {
		// Our own publish echoes back; while one is in flight we can't tell, so wait for it.
		if e.hostBusy() {
			e.host.stashed = &st
			return
		}
		if st.StateVersion <= e.host.lastOwnVersion {
			return
		}
	}
	hostChanged := st.HostUserID != e.room.HostUserID
	acted := hostActed(e.room, st)
	s.readyRoomChanged(e, e.room, st)
	entryChanged := st.QueueEntryID != 0 && st.QueueEntryID != e.room.QueueEntryID
	e.room = st
	e.fol.seekRetryAt = time.Time{} // a new room state is worth a seek at once, back-off or not
	// A new host action re-attaches everyone. The host's own corrective "sync" republishes
	// are not actions: they must not pull back a follower who chose to detach.
	if e.fol.detached && acted {
		e.fol.detached = false
		s.events.push(Notice{NoticeInfo, "the host acted: following the room again"})
	}
	e.fol.drift.Reset()
	if hostChanged {
		s.hostChanged(e)
		s.checkMedia(e)
	}
	s.roomChanged(e)
	if entryChanged {
		s.switchEntry(e) // queue.go: the new entry is loaded at the room's position
		return
	}
	if e.isHost() {
		if acted && st.IsPlaying {
			e.wait.Acted(s.now())
		}
		// A script (watchparty play/seek) or a hand-over changed our room: apply it to our player.
		s.applyRoomToHost(e)
		return
	}
	s.correct(e)
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

func (s *Session) hostChanged(e *engine) {
	if e.isHost() {
		s.events.push(Notice{NoticeInfo, "you are now the host"})
	} else {
		s.events.push(Notice{NoticeInfo, s.memberName(e, e.room.HostUserID) + " is now the host"})
	}
	s.trackPresence(e)
}

func (s *Session) roomChanged(e *engine) {
	s.events.push(RoomChanged{
		Playing: e.room.IsPlaying, Position: e.room.CurrentTime, Rate: e.room.Rate(),
		Version: e.room.StateVersion, HostID: e.room.HostUserID, HostName: s.memberName(e, e.room.HostUserID),
	})
	s.waitChanged(e)
	e.view.changed = true
}

// applySync takes the room and members of a get_room_sync_state reply.
func (e *engine) applySync(st roomSync, roomID string) {
	if st.Room != nil && (st.Room.Newer(e.room) || !e.room.Known()) {
		e.room = *st.Room
	}
	for _, m := range st.Members {
		e.pres.putListedMember(m, roomID)
	}
}

// onSyncResult takes a clock sample with the fresh room state; reattach: the user asked to
// sync to live.
func (s *Session) onSyncResult(e *engine, m syncResult) {
	if m.err != nil {
		s.events.push(Notice{NoticeError, "sync failed: " + m.err.Error()})
		return
	}
	e.clock.AddSample(m.st.Sent, m.st.Received, m.st.ServerTime)
	before := e.room
	e.applySync(m.st, s.opts.RoomID)
	if m.reattach && e.fol.detached {
		e.fol.detached = false
		e.fol.drift.Reset()
		s.events.push(Notice{NoticeInfo, "synced to live"})
		s.trackPresence(e)
	}
	if e.room != before {
		s.readyRoomChanged(e, before, e.room)
		if e.room.HostUserID != before.HostUserID && before.Known() {
			s.hostChanged(e) // handed over while we were not listening
		}
		s.roomChanged(e)
		if e.isHost() && !e.hostBusy() {
			// Someone else (a script, or the server after a hand-over) changed our room.
			s.applyRoomToHost(e)
		}
	}
	s.correct(e)
}

// sampleClock takes one clock sample (and the fresh state with it).
func (s *Session) sampleClock(ctx context.Context, reattach bool) {
	ctx, cancel := s.taskContext(ctx, serverTimeout)
	defer cancel()
	st, err := s.be.SyncState(ctx, s.opts.RoomID)
	s.post(syncResult{st: st, err: err, reattach: reattach})
}

// resync re-reads the room after a reconnect (or for sync to live), with the comments we may
// have missed.
func (s *Session) resync(ctx context.Context, reattach bool) {
	s.sampleClock(ctx, reattach)
	if reattach {
		return
	}
	hctx, cancel := s.taskContext(ctx, serverTimeout)
	defer cancel()
	if history, err := s.be.History(hctx, s.opts.RoomID, historySize); err == nil {
		s.events.push(CommentsLoaded{Comments: commentsOldestFirst(history)})
	}
}

// onSubscribed: (re)joined the channel. The server forgot our presence, and we may have
// missed changes.
func (s *Session) onSubscribed(e *engine) {
	first := !e.subscribed
	e.subscribed = true
	if first {
		// The room may have changed between our first read and now (mpv was starting),
		// and that change was broadcast before we listened: read the state once more.
		s.goTask(func() { s.sampleClock(s.ctx, false) })
		return
	}
	s.goTask(func() { s.resync(s.ctx, false) })
	s.events.push(Notice{NoticeInfo, "reconnected"})
}

// onChannelClosed: the server closed the room channel; join it again.
func (s *Session) onChannelClosed(reason string) {
	s.events.push(Notice{NoticeWarn, "the server closed the room channel (" + reason + "); rejoining"})
	s.goTask(func() {
		if err := s.be.Subscribe(s.ctx, s.opts.RoomID, s.post); err != nil && s.ctx.Err() == nil {
			s.events.push(Notice{NoticeError, "rejoin failed: " + err.Error()})
		}
	})
}

// onPlayerEvent takes one event of our mpv: its end (relaunch), a file loaded, or something
// the user did in mpv's window (the host publishes it; a follower detaches).
func (s *Session) onPlayerEvent(e *engine, m playerEvent) {
	ev := m.ev
	if m.p != s.player {
		return // an old mpv's last events
	}
	e.fol.userActsSeen = ev.UserActs
	switch ev.Kind {
	case player.EventClosed:
		s.playerGone(e) // lifecycle.go: restart a crashed mpv, leave when the user closed it
		return
	case player.EventEndOfFile:
		if ev.Reason == "eof" {
			s.autoAdvance(e) // queue.go
		}
		return
	case player.EventFileLoaded:
		e.buf.netOf = nil // read again whether this file plays over the network (wait.go)
		s.fingerprintMedia(e, ev.Duration)
		if d := e.room.MediaDuration; d > 0 && ev.Duration > 0 && math.Abs(d-ev.Duration) > mediaMismatch && !e.fol.durationWarned {
			e.fol.durationWarned = true
			s.events.push(Notice{NoticeWarn, fmt.Sprintf("your video is %s long but the room's is %s: is it the same file?", party.ClockText(ev.Duration), party.ClockText(d))})
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
		s.hostWindowAction(e, ev)
		return
	}
	s.followerWindowAction(e, ev)
}
