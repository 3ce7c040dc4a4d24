package room

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/watchparty/watchparty/party"
	"github.com/watchparty/watchparty/realtime"
)

// This file is presence and liveness: the member list (room_members rows), who is on the
// channel, our presence payload and our 3-second liveness report.

// presenceState is the presence part of the loop's state.
type presenceState struct {
	self         string // our user id: listed even before our first beat announces us
	members      party.Members
	online       map[string]bool
	lastPresence presence // the payload last tracked
	tracked      bool
	livenessBusy bool
	rejoining    bool // a join after we dropped out is in flight
}

func (p *presenceState) init(self string) { p.self, p.online = self, map[string]bool{} }

// livenessDone: the liveness report in flight has returned, with its error.
type livenessDone struct{ err error }

// rejoined: the join after we were dropped from the room has returned.
type rejoined struct {
	room    party.RoomState
	members []party.Member
	err     error
}

// putListedMember applies one member of a list (a join reply or get_room_sync_state): a
// current member of roomID is added or updated; a member who has left (left_at set) is
// removed, and so is one not announced yet (its client is not up: a join that fails never
// shows); a row of another room is ignored. It reports whether the list changed.
func (p *presenceState) putListedMember(m party.Member, roomID string) bool {
	if m.RoomID != "" && m.RoomID != roomID {
		return false
	}
	if m.Left() || (!m.Announced && m.UserID != p.self) {
		return p.members.Remove(m.UserID)
	}
	p.members.Put(m)
	return true
}

func (s *Session) memberName(e *engine, id string) string {
	if m, ok := e.pres.members.Get(id); ok {
		return Sanitize(m.Username)
	}
	return "someone"
}

// onMember applies a room_members change. Every row must be of this room (a hostile server
// could send other rooms' rows). Members leave softly: an UPDATE that sets left_at is a leave;
// an INSERT or UPDATE without it is a current member (added or updated); a DELETE still
// removes (older servers).
func (s *Session) onMember(e *engine, m feedMember) {
	if m.Member.RoomID != s.opts.RoomID {
		s.log.Warn("member change of another room ignored", "type", m.Type, "room_id", Sanitize(m.Member.RoomID))
		return
	}
	switch m.Type {
	case "INSERT", "UPDATE":
		if m.Err != nil {
			return
		}
		mem := m.Member
		if mem.Left() {
			s.memberLeft(e, mem)
			break
		}
		if !mem.Announced && mem.UserID != e.selfID {
			// Joined but not up yet (its first beat announces it): not listed, so a join that
			// fails never shows.
			return
		}
		change := "update"
		if old, had := e.pres.members.Get(mem.UserID); had {
			s.readyMemberChanged(e, old, mem)
		}
		if e.pres.members.Put(mem) {
			change = "join"
			e.wait.Joined(mem.UserID, s.now())
			if mem.UserID != e.selfID {
				s.events.push(Notice{NoticeInfo, Sanitize(mem.Username) + " joined"})
			}
		}
		s.events.push(MemberChanged{Change: change, Member: s.memberView(e, mem, s.now())})
		s.checkMedia(e)
	case "DELETE":
		s.memberLeft(e, m.Member)
	default:
		return
	}
	e.view.changed = true
}

// memberLeft removes a member who left ("X left", as before soft leaves). A leave of someone
// not in the list changes nothing.
func (s *Session) memberLeft(e *engine, mem party.Member) {
	if old, ok := e.pres.members.Get(mem.UserID); ok && mem.Username == "" {
		mem = old // a DELETE's old row may carry only the key
	}
	if !e.pres.members.Remove(mem.UserID) {
		return
	}
	if mem.UserID != e.selfID {
		s.events.push(Notice{NoticeInfo, Sanitize(mem.Username) + " left"})
	}
	s.events.push(MemberChanged{Change: "leave", Member: s.memberView(e, mem, s.now())})
}

// onPresence takes the set of members present on the channel.
func (s *Session) onPresence(e *engine, online []string) {
	e.pres.online = map[string]bool{}
	for _, id := range online {
		e.pres.online[id] = true
	}
	s.events.push(PresenceChanged{Online: append([]string{}, online...)})
	e.view.changed = true
}

// liveness reports our position (track_user_presence, every livenessInterval).
func (s *Session) liveness(e *engine) {
	p := s.player
	if e.pres.livenessBusy || p == nil {
		return
	}
	e.pres.livenessBusy = true
	pos, playing, buffering := p.Position(), !p.Paused(), e.buf.on
	e.buf.pending = false // this beat carries the mark
	media := e.beatMedia()
	e.media.inBeat = media
	s.goTask(func() {
		ctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
		defer cancel()
		err := s.be.TrackPresence(ctx, s.opts.RoomID, pos, playing, buffering, media)
		if err != nil {
			s.log.Debug("liveness", "err", err)
		}
		s.post(livenessDone{err})
	})
}

// onLivenessDone takes a liveness report's result. Refused because we are no member (we were
// silent past the server's limit — a laptop asleep, a long network outage — and dropped out),
// the session joins the room again, as the same client.
func (s *Session) onLivenessDone(e *engine, m livenessDone) {
	e.pres.livenessBusy = false
	if sent := e.media.inBeat; m.err == nil && sent != nil && e.media.report != nil && *sent == *e.media.report {
		e.media.sent = true
	}
	e.media.inBeat = nil
	if m.err == nil && e.beatMedia() != nil {
		s.liveness(e) // our media was fingerprinted while this beat was out: tell the room now
		return
	}
	var api *realtime.APIError
	if m.err == nil || !errors.As(m.err, &api) || api.Status != http.StatusForbidden || e.pres.rejoining {
		return
	}
	e.pres.rejoining = true
	s.goTask(func() {
		ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
		defer cancel()
		room, members, err := s.be.Join(ctx, s.opts.RoomID, s.opts.Username)
		s.post(rejoined{room, members, err})
	})
}

// onRejoined applies the join after a drop-out, then beats at once (which announces us again).
func (s *Session) onRejoined(e *engine, m rejoined) {
	e.pres.rejoining = false
	if r := removal(m.err); r != nil {
		s.removedByHost(r)
		return
	}
	if m.err != nil {
		s.log.Warn("join again after dropping out", "err", m.err)
		s.events.push(Notice{NoticeError, "dropped from the room and could not join again: " + m.err.Error()})
		return
	}
	for _, mem := range m.members {
		e.pres.putListedMember(mem, s.opts.RoomID)
	}
	s.events.push(Notice{NoticeInfo, "you were away too long and dropped out: joined the room again"})
	e.media.sent = false // a member back in the room starts without a media report
	s.onRoomState(e, m.room)
	e.view.changed = true
	s.liveness(e)
}

// trackPresence publishes our presence when it changed. The channel keeps it within the
// presence budget (at most 4 tracks per 30 s, coalescing to the latest) and re-tracks after
// every rejoin.
func (s *Session) trackPresence(e *engine) {
	mode := ModeFollowing
	if e.isHost() {
		mode = ModeHost
	} else if e.fol.detached {
		mode = ModeDetached
	}
	pr := presence{UserID: e.selfID, Username: s.opts.Username, Mode: mode,
		InSync: e.fol.lastIndicator.InSync() || e.isHost()}
	if e.pres.tracked && pr == e.pres.lastPresence {
		return
	}
	e.pres.lastPresence, e.pres.tracked = pr, true
	s.goTask(func() {
		ctx, cancel := context.WithTimeout(s.ctx, serverTimeout)
		defer cancel()
		if err := s.be.Track(ctx, pr); err != nil {
			s.log.Debug("track", "err", err)
		}
	})
}
