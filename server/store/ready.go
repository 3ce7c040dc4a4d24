package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// The ready check (docs/api.md and docs/design.md, "The ready check"): a room in ready mode
// starts only when every live member other than the host is ready. The host's play while
// someone is not ready leaves the room paused with start_pending set; the room then starts by
// itself, in the transaction that makes the last one ready (SetReady), that sees the last one
// not ready leave or drop out (personLeaves), or, for one who went quiet, in the sweep.

// DefaultStaleAfter is the liveness stale time the store assumes when Options.StaleAfter is 0.
const DefaultStaleAfter = 15 * time.Second

// StartedComment is the system comment of a start that waited for everyone.
const StartedComment = "Everyone is ready: playing"

// RoomSettings are the host's settings of rooms/settings; nil leaves a setting as it is.
type RoomSettings struct {
	ReadyMode *bool
	// WaitLimit is the longest wait for buffering members in seconds, 0..MaxWaitLimit
	// (docs/design.md §7.12); the caller checks the bounds.
	WaitLimit *int64
}

// NotReadyError is a play refused because live members are not ready: the room's start is
// pending. Members lists them in the order they joined.
type NotReadyError struct {
	Room    Room
	Members []Member
}

// MaxNotReadyListed bounds how many of those not ready a NOT_READY reply names.
const MaxNotReadyListed = 20

func (e *NotReadyError) Error() string {
	names := make([]string, 0, min(len(e.Members), 5))
	for i, m := range e.Members {
		if i == 5 {
			names = append(names, "…")
			break
		}
		names = append(names, m.Username)
	}
	return fmt.Sprintf("%d not ready (%s): play with force to start anyway", len(e.Members), strings.Join(names, ", "))
}

// notReady lists the live members of the room, other than its host, who are not ready. Live:
// current, announced, and seen within the liveness stale time (the same rule as the
// Supabase deployment's watchparty_private.not_ready). The caller has stored the room's beats
// held in memory (flushRoom), or the sweep has stored those that matter.
func (s *Store) notReady(ctx context.Context, tx *sql.Tx, room Room) ([]Member, error) {
	liveSince := FormatTime(s.now().Add(-s.staleAfter))
	return queryMembers(ctx, tx, memberSelect+` WHERE room_id = ? AND left_at IS NULL AND announced = 1 AND ready = 0
		AND last_seen >= ? AND user_id <> ? ORDER BY joined_at, rowid`, room.RoomID, liveSince, room.HostUserID)
}

// writeRoomState stores the room's playback and ready state and publishes the change from old.
func writeRoomState(ctx context.Context, tx *sql.Tx, w *changeSet, old, room Room) error {
	if _, err := tx.ExecContext(ctx, `UPDATE rooms SET is_playing = ?, "current_time" = ?, playback_rate = ?, state_version = ?,
		updated_at = ?, waiting_for = ?, ready_mode = ?, start_pending = ?, wait_limit = ? WHERE room_id = ?`,
		room.IsPlaying, room.CurrentTime, room.PlaybackRate, room.StateVersion, room.UpdatedAt, encodeWaiting(room.WaitingFor),
		room.ReadyMode, room.StartPending, room.WaitLimit, room.RoomID); err != nil {
		return err
	}
	w.add(Change{Table: "rooms", Type: "UPDATE", Columns: RoomColumns, Record: room.Record(), OldRecord: old.Record()})
	return nil
}

// restate gives room a new state_version with its position restated at now: every change of
// a room row does, so that clients, which keep the newest state by version, take it.
func (s *Store) restate(room *Room) {
	now := s.now()
	room.CurrentTime = expectedAt(*room, now)
	room.StateVersion++
	room.UpdatedAt = FormatTime(now)
}

// maybeStart starts a room whose start is pending once nobody live is not ready (or ready
// mode is off): playing from where it is, a new state_version, and a system comment.
func (s *Store) maybeStart(ctx context.Context, tx *sql.Tx, w *changeSet, room *Room) error {
	if !room.StartPending {
		return nil
	}
	if room.ReadyMode {
		waiting, err := s.notReady(ctx, tx, *room)
		if err != nil || len(waiting) > 0 {
			return err
		}
	}
	old := *room
	s.restate(room)
	room.IsPlaying, room.StartPending = true, false
	if err := writeRoomState(ctx, tx, w, old, *room); err != nil {
		return err
	}
	return insertSystemComment(ctx, tx, w, *room, StartedComment, room.UpdatedAt)
}

// UpdateSettings applies the host's room settings. Switching ready mode on asks everyone
// again (every member's ready is cleared); switching it off drops a pending start.
func (s *Store) UpdateSettings(ctx context.Context, roomID, userID string, set RoomSettings) (Room, error) {
	var room Room
	err := s.write(ctx, func(tx *sql.Tx, w *changeSet) error {
		var err error
		if room, err = s.hostsRoom(ctx, tx, roomID, userID); err != nil {
			return err
		}
		old, changed := room, false
		if set.ReadyMode != nil && *set.ReadyMode != room.ReadyMode {
			changed = true
			room.ReadyMode = *set.ReadyMode
			if room.ReadyMode {
				if err := s.clearReady(ctx, tx, w, roomID); err != nil {
					return err
				}
			} else {
				room.StartPending = false
			}
		}
		if set.WaitLimit != nil && *set.WaitLimit != room.WaitLimit {
			changed = true
			room.WaitLimit = *set.WaitLimit
		}
		if !changed {
			return nil // nothing changed: no write, nothing published
		}
		s.restate(&room)
		return writeRoomState(ctx, tx, w, old, room)
	})
	return room, err
}

// hostsRoom reads the room that userID, a current member, hosts: ErrNotMember or ErrNotHost
// otherwise.
func (s *Store) hostsRoom(ctx context.Context, tx *sql.Tx, roomID, userID string) (Room, error) {
	room, err := scanRoom(tx.QueryRowContext(ctx, roomSelect+` WHERE room_id = ?`, roomID))
	switch {
	case err != nil:
		return room, err
	case !s.IsMember(roomID, userID):
		return room, ErrNotMember
	case room.HostUserID != userID:
		return room, ErrNotHost
	}
	return room, nil
}

// clearReady sets every current member of the room not ready, publishing each row changed.
func (s *Store) clearReady(ctx context.Context, tx *sql.Tx, w *changeSet, roomID string) error {
	if err := s.flushRoom(ctx, tx, w, roomID); err != nil {
		return err
	}
	members, err := queryMembers(ctx, tx, memberSelect+` WHERE room_id = ? AND left_at IS NULL AND ready = 1`, roomID)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE room_members SET ready = 0 WHERE room_id = ? AND left_at IS NULL AND ready = 1`, roomID); err != nil {
		return err
	}
	for _, m := range members {
		old := m
		m.Ready = false
		w.add(Change{Table: "room_members", Type: "UPDATE", Columns: MemberColumns, Record: m.Record(), OldRecord: old.Record()})
	}
	return nil
}

// SetReady sets the caller's answer to the ready check (the person's row: all their clients)
// and starts a pending room when that was the last one it waited for. It returns the room and
// member as they are afterwards.
func (s *Store) SetReady(ctx context.Context, roomID, userID string, ready bool) (Room, Member, error) {
	var room Room
	var member Member
	err := s.write(ctx, func(tx *sql.Tx, w *changeSet) error {
		var err error
		if room, err = scanRoom(tx.QueryRowContext(ctx, roomSelect+` WHERE room_id = ?`, roomID)); err != nil {
			return err
		}
		if err := s.flushRoom(ctx, tx, w, roomID); err != nil {
			return err
		}
		if member, err = scanCurrentMember(tx.QueryRowContext(ctx, memberSelect+` WHERE room_id = ? AND user_id = ?`, roomID, userID)); err != nil {
			return err
		}
		if member.Ready == ready {
			return nil
		}
		old := member
		member.Ready = ready
		if _, err := tx.ExecContext(ctx, `UPDATE room_members SET ready = ? WHERE room_id = ? AND user_id = ?`, ready, roomID, userID); err != nil {
			return err
		}
		w.add(Change{Table: "room_members", Type: "UPDATE", Columns: MemberColumns, Record: member.Record(), OldRecord: old.Record()})
		return s.maybeStart(ctx, tx, w, &room)
	})
	return room, member, err
}

// startPendingRooms re-checks every room whose start is pending (the sweep: a member who went
// quiet no longer holds it). It returns how many rooms started.
func (s *Store) startPendingRooms(ctx context.Context, tx *sql.Tx, w *changeSet) (int, error) {
	ids, err := queryIDs(ctx, tx, `SELECT room_id FROM rooms WHERE start_pending = 1`)
	if err != nil {
		return 0, err
	}
	started := 0
	for _, id := range ids {
		room, err := scanRoom(tx.QueryRowContext(ctx, roomSelect+` WHERE room_id = ?`, id))
		if err != nil {
			return started, err
		}
		if err := s.maybeStart(ctx, tx, w, &room); err != nil {
			return started, err
		}
		if room.IsPlaying {
			started++
		}
	}
	return started, nil
}
