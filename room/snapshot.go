package room

import (
	"math"
	"sort"
	"time"

	"github.com/watchparty/watchparty/party"
)

// This file is the view snapshot: the loop's state rendered as a Snapshot (view.go) for the
// screen and the headless stream, sent as StateChanged when something changed and at least
// once a second.

// viewState is the snapshot part of the loop's state.
type viewState struct {
	changed bool      // something shown changed since the last snapshot
	lastAt  time.Time // when the last snapshot was sent
}

func (s *Session) emitSnapshot(e *engine, force bool) {
	now := s.now()
	if !force && !e.view.changed && now.Sub(e.view.lastAt) < snapshotInterval {
		return
	}
	if !force && now.Sub(e.view.lastAt) < 100*time.Millisecond {
		return // at most 10 screens a second
	}
	snap := s.buildSnapshot(e)
	s.snapMu.Lock()
	s.snap = snap
	s.snapMu.Unlock()
	e.view.lastAt, e.view.changed = now, false
	s.events.push(StateChanged{Snapshot: snap})
}

func (s *Session) buildSnapshot(e *engine) Snapshot {
	now := s.now()
	serverNow := e.clock.ServerNow(now)
	snap := Snapshot{
		RoomID: s.opts.RoomID, MediaTitle: Sanitize(e.room.MediaTitle), MediaURL: e.room.MediaURL, Duration: e.room.MediaDuration,
		HostID: e.room.HostUserID, HostName: s.memberName(e, e.room.HostUserID), SelfID: e.selfID,
		SelfName: Sanitize(s.opts.Username), IsHost: e.isHost(), IsCohost: e.isCohost(), Conn: e.conn,
		Playing: e.room.IsPlaying, Rate: e.room.Rate(), WaitLimit: e.room.WaitLimit, Buffering: e.buf.on,
		ReadyMode: e.room.ReadyMode, StartPending: e.room.StartPending,
	}
	for _, id := range e.room.Waiting.IDs() {
		snap.Waiting = append(snap.Waiting, s.memberName(e, id))
	}
	if snap.Conn.State == "" {
		snap.Conn.State = ConnConnected
	}
	expected := e.room.ExpectedPosition(serverNow)
	sv := SyncView{Expected: expected, Mode: ModeFollowing, Status: e.fol.lastIndicator.Status, DriftMS: e.fol.lastIndicator.DriftMS}
	if p := s.player; p != nil {
		st := p.State()
		sv.Position, sv.Speed, sv.Paused = st.Position, st.Speed, st.Paused
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
	case e.fol.detached:
		sv.Mode, sv.Status = ModeDetached, party.StatusDetached
	}
	snap.Sync = sv
	for _, m := range e.pres.members.List() {
		snap.Members = append(snap.Members, s.memberView(e, m, now))
	}
	return snap
}

func (s *Session) memberView(e *engine, m party.Member, now time.Time) MemberView {
	serverNow := e.clock.ServerNow(now)
	v := MemberView{
		UserID: m.UserID, Name: Sanitize(m.Username), IsHost: m.UserID == e.room.HostUserID, IsCohost: m.Cohost,
		IsSelf: m.UserID == e.selfID, Online: e.pres.online[m.UserID], Stale: m.Stale(serverNow),
		Playing: m.IsPlaying, Position: m.CurrentTime, Buffering: m.Buffering, Waited: e.room.Waiting.Has(m.UserID),
		Ready: m.Ready,
	}
	if host, ok := e.pres.members.Get(e.room.HostUserID); ok && !v.IsHost {
		v.MediaDiffers, v.MediaNote = party.MediaDiff(host.MediaFP, host.MediaDuration, m.MediaFP, m.MediaDuration)
	}
	switch {
	case v.IsSelf:
		// Our own row: what our mpv does now, not our last 3-second report.
		v.Online, v.Stale, v.Buffering = true, false, e.buf.on
		if p := s.player; p != nil && !e.relaunching {
			st := p.State()
			v.Playing, v.Position = !st.Paused, st.Position
		}
		if e.isHost() {
			v.InSync = true
		} else {
			v.DriftMS, v.InSync = e.fol.lastIndicator.DriftMS, e.fol.lastIndicator.InSync()
		}
	case m.LastSeen.IsZero() || !e.room.Known():
	case m.LastSeen.Before(e.room.UpdatedAt):
		// The report predates the room's last change (a seek, a pause): it says nothing about
		// how the member follows the new state, and comparing it with that state would show a
		// false drift of the seek's size until their next report (at most 3 s away).
		v.InSync = true
	default:
		// The member reported CurrentTime at LastSeen: compare with where the room was then.
		v.DriftMS = int64(math.Round((m.CurrentTime - e.room.ExpectedPosition(m.LastSeen)) * 1000))
		v.InSync = math.Abs(float64(v.DriftMS)) <= party.InSyncThreshold*1000
	}
	return v
}

// commentsOldestFirst orders a history (read newest first) for the screen.
func commentsOldestFirst(cs []Comment) []Comment {
	out := append([]Comment(nil), cs...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].At.Equal(out[j].At) {
			return out[i].ID < out[j].ID
		}
		return out[i].At.Before(out[j].At)
	})
	return out
}
