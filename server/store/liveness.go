package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// This file is membership as people live it (docs/api.md, "Membership and liveness"): a person
// may be in a room from several clients at once; a client that stops beating goes stale, then
// gone; a silent host hands the room on; the owner coming back takes it back.

// MaxClientsPerMember is how many clients (windows, scripts, headless loggers) one person may
// have in one room; a further one replaces their least recently seen.
const MaxClientsPerMember = 8

// leaveReason says why a person stops being a member: the notices differ.
type leaveReason int

const (
	leftOnPurpose leaveReason = iota // rooms/leave: "<name> left the room"
	droppedOut                       // silent past gone_after: "<name> dropped out"
	removed                          // kicked or banned by the host: the caller posts the notice
)

// touchClient records that clientID of userID is in the room now (a join or create, or with
// beat a liveness beat), keeping at most MaxClientsPerMember clients per person. A client that
// has never beaten is marked by last_seen 1 ms before joined_at: it keeps nobody in the room
// (LeaveRoom); a beat sets last_seen to now, at or after joined_at even in the join's own
// millisecond.
func (s *Store) touchClient(ctx context.Context, tx *sql.Tx, roomID, userID, clientID, now string, beat bool) error {
	seen := now
	if !beat {
		if t, err := time.Parse(TimeFormat, now); err == nil {
			seen = FormatTime(t.Add(-time.Millisecond))
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO room_clients (room_id, user_id, client_id, joined_at, last_seen) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (room_id, user_id, client_id) DO UPDATE SET last_seen = max(last_seen, excluded.last_seen)`,
		roomID, userID, clientID, now, seen); err != nil {
		return fmt.Errorf("record client: %w", err)
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM room_clients WHERE rowid IN (SELECT rowid FROM room_clients
		WHERE room_id = ? AND user_id = ? ORDER BY last_seen DESC, rowid DESC LIMIT -1 OFFSET ?)`,
		roomID, userID, MaxClientsPerMember)
	return err
}

// beatClients records a liveness beat of clientID ("" = every client of the person, for clients
// that don't send one). A client forgotten in between (evicted, or gone while the person stayed
// through another) is recorded again.
func (s *Store) beatClients(ctx context.Context, tx *sql.Tx, roomID, userID, clientID, now string) error {
	if clientID != "" {
		return s.touchClient(ctx, tx, roomID, userID, clientID, now, true)
	}
	upd, err := s.prepared(ctx, tx, `UPDATE room_clients SET last_seen = ? WHERE room_id = ? AND user_id = ?`)
	if err != nil {
		return err
	}
	res, err := upd.ExecContext(ctx, now, roomID, userID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return s.touchClient(ctx, tx, roomID, userID, NewClientID(), now, true)
	}
	return nil
}

// ownerReturns gives the host role back to the room's owner m, present again, unless the owner
// handed it away on purpose.
func (s *Store) ownerReturns(ctx context.Context, tx *sql.Tx, w *changeSet, room *Room, m *Member, now string) error {
	if m.UserID != room.OwnerUserID || room.HostUserID == m.UserID || room.OwnerHandedOver {
		return nil
	}
	if err := s.demoteHost(ctx, tx, w, room); err != nil {
		return err
	}
	return s.makeHost(ctx, tx, w, room, m, m.Username+" is back and is the host again", now)
}

// demoteHost makes the room's current host, if a current member, a plain member.
func (s *Store) demoteHost(ctx context.Context, tx *sql.Tx, w *changeSet, room *Room) error {
	host, err := scanCurrentMember(tx.QueryRowContext(ctx, memberSelect+` WHERE room_id = ? AND user_id = ?`, room.RoomID, room.HostUserID))
	if errors.Is(err, ErrNotMember) || (err == nil && host.Role != "host") {
		return nil
	}
	if err != nil {
		return err
	}
	old := host
	host.Role = "member"
	if _, err := tx.ExecContext(ctx, `UPDATE room_members SET role = 'member' WHERE room_id = ? AND user_id = ?`, room.RoomID, host.UserID); err != nil {
		return err
	}
	w.add(Change{Table: "room_members", Type: "UPDATE", Columns: MemberColumns, Record: host.Record(), OldRecord: old.Record()})
	return nil
}

// makeHost gives heir the host role: a new state_version restating the position at now (the new
// host publishes from there, so followers keep it) and a system comment. The old host's row must
// already be demoted (or gone).
func (s *Store) makeHost(ctx context.Context, tx *sql.Tx, w *changeSet, room *Room, heir *Member, comment, now string) error {
	if heir.Role != "host" {
		old := *heir
		heir.Role = "host"
		if _, err := tx.ExecContext(ctx, `UPDATE room_members SET role = 'host' WHERE room_id = ? AND user_id = ?`, room.RoomID, heir.UserID); err != nil {
			return err
		}
		w.add(Change{Table: "room_members", Type: "UPDATE", Columns: MemberColumns, Record: heir.Record(), OldRecord: old.Record()})
	}
	oldRoom := *room
	room.HostUserID, room.StateVersion, room.UpdatedAt = heir.UserID, room.StateVersion+1, now
	room.CurrentTime = expectedAt(oldRoom, s.now()) // the position at updated_at moves with the clock while playing
	if heir.UserID == room.OwnerUserID {
		room.OwnerHandedOver = false
	}
	if _, err := tx.ExecContext(ctx, `UPDATE rooms SET host_user_id = ?, state_version = ?, updated_at = ?, "current_time" = ?,
		owner_handed_over = ? WHERE room_id = ?`,
		room.HostUserID, room.StateVersion, room.UpdatedAt, room.CurrentTime, room.OwnerHandedOver, room.RoomID); err != nil {
		return err
	}
	w.add(Change{Table: "rooms", Type: "UPDATE", Columns: RoomColumns, Record: room.Record(), OldRecord: oldRoom.Record()})
	return insertSystemComment(ctx, tx, w, *room, comment, now)
}

// heirOrder orders the candidates for the host role: announced first (someone everyone has
// seen arrive), then the longest present, then insertion order on a millisecond tie.
const heirOrder = ` ORDER BY announced DESC, joined_at, rowid LIMIT 1`

// personLeaves ends m's membership: left_at set, role member, every client forgotten, a notice if
// they were announced, and, when m was the host, the role passed to the next heir.
func (s *Store) personLeaves(ctx context.Context, tx *sql.Tx, w *changeSet, room *Room, m Member, why leaveReason, now string) error {
	old := m
	m.Role, m.IsPlaying, m.LeftAt, m.Ready = "member", false, &now, false
	if _, err := tx.ExecContext(ctx, `UPDATE room_members SET role = 'member', is_playing = 0, left_at = ?, ready = 0 WHERE room_id = ? AND user_id = ?`,
		now, room.RoomID, m.UserID); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM room_clients WHERE room_id = ? AND user_id = ?`, room.RoomID, m.UserID); err != nil {
		return err
	}
	w.add(Change{Table: "room_members", Type: "UPDATE", Columns: MemberColumns, Record: m.Record(), OldRecord: old.Record()})
	w.memberships = append(w.memberships, membership{room.RoomID, m.UserID, false})
	if old.Announced && why != removed {
		msg := m.Username + " left the room"
		if why == droppedOut {
			msg = m.Username + " dropped out"
		}
		if err := s.notice(ctx, tx, w, *room, m.UserID, msg, now); err != nil {
			return err
		}
	}
	if room.HostUserID != m.UserID {
		return s.maybeStart(ctx, tx, w, room) // the last one not ready may have left
	}
	heir, err := scanMember(tx.QueryRowContext(ctx, memberSelect+` WHERE room_id = ? AND left_at IS NULL`+heirOrder, room.RoomID))
	if errors.Is(err, ErrNotMember) {
		return nil // empty room: it keeps its last host until someone joins and the room is reused
	}
	if err != nil {
		return err
	}
	comment := heir.Username + " is now the host"
	if why == droppedOut {
		comment += " (" + m.Username + " went quiet)"
	}
	if err := s.makeHost(ctx, tx, w, room, &heir, comment, now); err != nil {
		return err
	}
	return s.maybeStart(ctx, tx, w, room) // the heir is not asked: they may have been the last one
}

// Handover gives the host role from fromUserID, the host, to toUserID, another current member.
// The owner handing it away keeps it away until they take it back the same way (or are handed it).
func (s *Store) Handover(ctx context.Context, roomID, fromUserID, toUserID string) (Room, error) {
	var room Room
	err := s.write(ctx, func(tx *sql.Tx, w *changeSet) error {
		var err error
		if room, err = scanRoom(tx.QueryRowContext(ctx, roomSelect+` WHERE room_id = ?`, roomID)); err != nil {
			return err
		}
		if err := s.flushRoom(ctx, tx, w, roomID); err != nil {
			return err
		}
		from, err := scanCurrentMember(tx.QueryRowContext(ctx, memberSelect+` WHERE room_id = ? AND user_id = ?`, roomID, fromUserID))
		if err != nil {
			return err
		}
		if room.HostUserID != fromUserID {
			return ErrNotHost
		}
		to, err := scanCurrentMember(tx.QueryRowContext(ctx, memberSelect+` WHERE room_id = ? AND user_id = ?`, roomID, toUserID))
		if errors.Is(err, ErrNotMember) || (err == nil && toUserID == fromUserID) {
			return ErrNoSuchHeir
		}
		if err != nil {
			return err
		}
		if err := s.demoteHost(ctx, tx, w, &room); err != nil {
			return err
		}
		if fromUserID == room.OwnerUserID {
			room.OwnerHandedOver = true // makeHost writes it
		}
		return s.makeHost(ctx, tx, w, &room, &to, from.Username+" handed the host role to "+to.Username, FormatTime(s.now()))
	})
	return room, err
}

// Sweep applies liveness to every room at once: clients not seen since goneBefore are forgotten
// and people with no client left drop out; a host not seen since staleBefore hands the room to
// the longest-present member seen since then. It returns how many people dropped out and how
// many rooms changed host. The server runs it every second (docs/api.md).
func (s *Store) Sweep(ctx context.Context, staleBefore, goneBefore time.Time) (dropped, handed int, err error) {
	stale, gone := FormatTime(staleBefore), FormatTime(goneBefore)
	err = s.write(ctx, func(tx *sql.Tx, w *changeSet) error {
		dropped, handed = 0, 0
		// Beats held in memory (beats.go) are stored first wherever a stored last_seen has
		// reached the stale time: the queries below then decide on the truth.
		if err := s.flushStale(ctx, tx, w, staleBefore); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM room_clients WHERE last_seen < ?`, gone); err != nil {
			return err
		}
		// A member's last_seen is their latest beat from any client: older than gone_after means
		// every client of theirs is gone.
		// Hosts last, so an heir is never someone dropping out in this same sweep.
		goneMembers, err := queryMembers(ctx, tx, memberSelect+` WHERE left_at IS NULL AND last_seen < ?
			ORDER BY role = 'host', announced DESC, joined_at, rowid`, gone)
		if err != nil {
			return err
		}
		now := FormatTime(s.now())
		for _, m := range goneMembers {
			room, err := scanRoom(tx.QueryRowContext(ctx, roomSelect+` WHERE room_id = ?`, m.RoomID))
			if err != nil {
				return err
			}
			if err := s.personLeaves(ctx, tx, w, &room, m, droppedOut, now); err != nil {
				return err
			}
			dropped++
		}
		quietHosts, err := queryMembers(ctx, tx, `SELECT m.room_id, m.user_id, m.username, m.role, m."current_time", m.is_playing,
			m.last_seen, m.joined_at, m.left_at, m.announced, m.buffering, m.ready, m.media_fp, m.media_duration, m.cohost FROM room_members m JOIN rooms r
			ON r.room_id = m.room_id AND r.host_user_id = m.user_id WHERE m.left_at IS NULL AND m.last_seen < ?`, stale)
		if err != nil {
			return err
		}
		for _, host := range quietHosts {
			heir, err := scanMember(tx.QueryRowContext(ctx, memberSelect+` WHERE room_id = ? AND left_at IS NULL AND user_id <> ?
				AND last_seen >= ?`+heirOrder, host.RoomID, host.UserID, stale))
			if errors.Is(err, ErrNotMember) {
				continue // nobody live to take it: the room waits for its host
			}
			if err != nil {
				return err
			}
			room, err := scanRoom(tx.QueryRowContext(ctx, roomSelect+` WHERE room_id = ?`, host.RoomID))
			if err != nil {
				return err
			}
			if err := s.demoteHost(ctx, tx, w, &room); err != nil {
				return err
			}
			if err := s.makeHost(ctx, tx, w, &room, &heir, heir.Username+" is now the host ("+host.Username+" went quiet)", now); err != nil {
				return err
			}
			handed++
		}
		// A pending start waits for live members only: one who went quiet holds it no longer.
		_, err = s.startPendingRooms(ctx, tx, w)
		return err
	})
	if err == nil {
		s.forgetGoneClients(goneBefore)
	}
	return dropped, handed, err
}

// queryMembers runs a query of member rows (memberSelect's columns) in tx.
func queryMembers(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]Member, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Member
	for rows.Next() {
		m, err := scanMember(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

const clientIDAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// NewClientID returns a random 20-character client id (for joins that bring none).
func NewClientID() string {
	b := make([]byte, 20)
	rand.Read(b)
	for i := range b {
		b[i] = clientIDAlphabet[int(b[i])%len(clientIDAlphabet)]
	}
	return string(b)
}
