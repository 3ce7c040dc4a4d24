package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
)

// This file is invite secrets and moderation (docs/api.md, "Invites and moderation";
// docs/design.md §14): who may join a room, and what its host may do to its members.

// InviteSecretBytes is the invite secret's randomness: 18 bytes (144 bits), 24 characters of
// base64url. Unguessable online (the join rate is 20 a minute per user) and offline.
const InviteSecretBytes = 18

// Moderation errors. The server maps them to the API's codes.
var (
	ErrBanned       = errors.New("you are banned from this room")
	ErrNoSuchTarget = errors.New("member_user_id must be another member of the room, not its owner")
)

// RemovedError refuses the rejoin, without the invite secret, of a member the host removed.
type RemovedError struct{ By string }

func (e *RemovedError) Error() string { return "you were removed from the room by " + e.By }

// NewInviteSecret returns a new random invite secret.
func NewInviteSecret() string {
	b := make([]byte, InviteSecretBytes)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func inviteHash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// storeInvite sets the room's invite secret (its hash): older links stop admitting newcomers.
func storeInvite(ctx context.Context, tx *sql.Tx, roomID, secret, now string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO room_invites (room_id, secret_hash, rotated_at) VALUES (?, ?, ?)
		ON CONFLICT (room_id) DO UPDATE SET secret_hash = excluded.secret_hash, rotated_at = excluded.rotated_at`,
		roomID, inviteHash(secret), now)
	if err != nil {
		return fmt.Errorf("store invite: %w", err)
	}
	return nil
}

// inviteMatches reports whether secret is the room's current invite secret. The hashes are
// compared in constant time; a room without a secret admits nobody by secret.
func inviteMatches(ctx context.Context, tx *sql.Tx, roomID, secret string) (bool, error) {
	var stored []byte
	err := tx.QueryRowContext(ctx, `SELECT secret_hash FROM room_invites WHERE room_id = ?`, roomID).Scan(&stored)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return secret != "" && subtle.ConstantTimeCompare(stored, inviteHash(secret)) == 1, nil
}

// admit applies the invite rules to a join of userID: a banned person is refused (ErrBanned);
// someone with no member row (never in the room) needs the current secret, and is otherwise told
// the room does not exist (ErrRoomNotFound, exactly as for an unknown room); a member the host
// removed needs it too (RemovedError without it), and the secret clears the removal. Members and
// people who left (a reconnect, the rejoin after a drop-out, the owner) need nothing.
func admit(ctx context.Context, tx *sql.Tx, roomID, userID, secret string) error {
	ok, err := inviteMatches(ctx, tx, roomID, secret)
	if err != nil {
		return err
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM room_bans WHERE room_id = ? AND user_id = ?`, roomID, userID).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return ErrBanned
	}
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM room_members WHERE room_id = ? AND user_id = ?`, roomID, userID).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		if !ok {
			return ErrRoomNotFound
		}
		return nil
	}
	var by string
	err = tx.QueryRowContext(ctx, `SELECT removed_by FROM room_removals WHERE room_id = ? AND user_id = ?`, roomID, userID).Scan(&by)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	if !ok {
		return &RemovedError{By: by}
	}
	_, err = tx.ExecContext(ctx, `DELETE FROM room_removals WHERE room_id = ? AND user_id = ?`, roomID, userID)
	return err
}

// hostOf reads the room and checks that userID is its host and a current member; it returns
// the room and the host's row.
func (s *Store) hostOf(ctx context.Context, tx *sql.Tx, roomID, userID string) (Room, Member, error) {
	room, err := scanRoom(tx.QueryRowContext(ctx, roomSelect+` WHERE room_id = ?`, roomID))
	if err != nil {
		return room, Member{}, err
	}
	host, err := scanCurrentMember(tx.QueryRowContext(ctx, memberSelect+` WHERE room_id = ? AND user_id = ?`, roomID, userID))
	if err != nil {
		return room, host, err
	}
	if room.HostUserID != userID {
		return room, host, ErrNotHost
	}
	return room, host, nil
}

// RotateInvite gives the room a new invite secret (host only): links with the old one stop
// admitting newcomers; members are not affected.
func (s *Store) RotateInvite(ctx context.Context, roomID, userID, secret string) error {
	return s.write(ctx, func(tx *sql.Tx, w *changeSet) error {
		if _, _, err := s.hostOf(ctx, tx, roomID, userID); err != nil {
			return err
		}
		return storeInvite(ctx, tx, roomID, secret, FormatTime(s.now()))
	})
}

// SetCohost grants (on) or revokes the co-host mark of another current member (host only); a
// co-host may control playback. "alice made bob a co-host" / "alice took bob's co-host role".
func (s *Store) SetCohost(ctx context.Context, roomID, userID, targetID string, on bool) (Member, error) {
	var target Member
	err := s.write(ctx, func(tx *sql.Tx, w *changeSet) error {
		room, host, err := s.hostOf(ctx, tx, roomID, userID)
		if err != nil {
			return err
		}
		if err := s.flushRoom(ctx, tx, w, roomID); err != nil {
			return err
		}
		target, err = scanCurrentMember(tx.QueryRowContext(ctx, memberSelect+` WHERE room_id = ? AND user_id = ?`, roomID, targetID))
		if errors.Is(err, ErrNotMember) || (err == nil && targetID == userID) {
			return ErrNoSuchTarget
		}
		if err != nil {
			return err
		}
		if target.Cohost == on {
			return nil
		}
		old := target
		target.Cohost = on
		if _, err := tx.ExecContext(ctx, `UPDATE room_members SET cohost = ? WHERE room_id = ? AND user_id = ?`, on, roomID, targetID); err != nil {
			return err
		}
		w.add(Change{Table: "room_members", Type: "UPDATE", Columns: MemberColumns, Record: target.Record(), OldRecord: old.Record()})
		msg := host.Username + " made " + target.Username + " a co-host"
		if !on {
			msg = host.Username + " took " + target.Username + "'s co-host role"
		}
		return insertSystemComment(ctx, tx, w, room, msg, FormatTime(s.now()))
	})
	return target, err
}

// RemoveMember kicks targetID out of the room (host only): all their clients leave at once, and
// they come back only with the current invite secret. With ban they are never admitted again
// (ban works on someone who already left too). Nobody can remove themselves or the room's owner.
// "alice removed bob" / "alice banned bob".
func (s *Store) RemoveMember(ctx context.Context, roomID, userID, targetID string, ban bool) (Room, error) {
	var room Room
	err := s.write(ctx, func(tx *sql.Tx, w *changeSet) error {
		var host Member
		var err error
		if room, host, err = s.hostOf(ctx, tx, roomID, userID); err != nil {
			return err
		}
		if err := s.flushRoom(ctx, tx, w, roomID); err != nil {
			return err
		}
		target, err := scanMember(tx.QueryRowContext(ctx, memberSelect+` WHERE room_id = ? AND user_id = ?`, roomID, targetID))
		if errors.Is(err, ErrNotMember) || (err == nil && (targetID == userID || targetID == room.OwnerUserID || (!ban && !target.Current()))) {
			return ErrNoSuchTarget
		}
		if err != nil {
			return err
		}
		now := FormatTime(s.now())
		if target.Cohost {
			old := target
			target.Cohost = false
			if _, err := tx.ExecContext(ctx, `UPDATE room_members SET cohost = 0 WHERE room_id = ? AND user_id = ?`, roomID, targetID); err != nil {
				return err
			}
			if !target.Current() {
				w.add(Change{Table: "room_members", Type: "UPDATE", Columns: MemberColumns, Record: target.Record(), OldRecord: old.Record()})
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO room_removals (room_id, user_id, removed_by) VALUES (?, ?, ?)
			ON CONFLICT (room_id, user_id) DO UPDATE SET removed_by = excluded.removed_by`, roomID, targetID, host.Username); err != nil {
			return err
		}
		msg := host.Username + " removed " + target.Username
		if ban {
			msg = host.Username + " banned " + target.Username
			if _, err := tx.ExecContext(ctx, `INSERT INTO room_bans (room_id, user_id, banned_by, created_at) VALUES (?, ?, ?, ?)
				ON CONFLICT (room_id, user_id) DO NOTHING`, roomID, targetID, host.Username, now); err != nil {
				return err
			}
		}
		if target.Current() {
			if err := s.personLeaves(ctx, tx, w, &room, target, removed, now); err != nil {
				return err
			}
		}
		return insertSystemComment(ctx, tx, w, room, msg, now)
	})
	return room, err
}

// mayControl reports whether userID may control the room's playback: its host, or a current
// member marked co-host.
func mayControl(ctx context.Context, tx *sql.Tx, room Room, userID string) (bool, error) {
	if room.HostUserID == userID {
		return true, nil
	}
	var cohost bool
	err := tx.QueryRowContext(ctx, `SELECT cohost FROM room_members WHERE room_id = ? AND user_id = ? AND left_at IS NULL`,
		room.RoomID, userID).Scan(&cohost)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return cohost, err
}
