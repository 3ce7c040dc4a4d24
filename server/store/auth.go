package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"time"
)

// User is an (anonymous) user.
type User struct {
	ID           string
	UserMetadata map[string]any
	CreatedAt    string
	UpdatedAt    string
}

// Errors of the refresh-token flow.
var (
	ErrRefreshTokenNotFound    = errors.New("invalid refresh token: refresh token not found")
	ErrRefreshTokenAlreadyUsed = errors.New("invalid refresh token: already used")
)

const refreshAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

func newRefreshToken() string {
	b := make([]byte, 22)
	rand.Read(b)
	for i := range b {
		b[i] = refreshAlphabet[int(b[i])%len(refreshAlphabet)]
	}
	return string(b)
}

// CreateAnonymousUser creates a user, a session and its first refresh token.
func (s *Store) CreateAnonymousUser(ctx context.Context, userID, sessionID string, metadata map[string]any) (User, string, error) {
	if metadata == nil {
		metadata = map[string]any{}
	}
	meta, err := json.Marshal(metadata)
	if err != nil {
		return User{}, "", err
	}
	now := FormatTime(s.now())
	token := newRefreshToken()
	err = s.write(ctx, func(tx *sql.Tx, _ *changeSet) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO users (id, user_metadata, created_at, updated_at) VALUES (?, ?, ?, ?)`, userID, string(meta), now, now); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO sessions (id, user_id, created_at) VALUES (?, ?, ?)`, sessionID, userID, now); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO refresh_tokens (token, session_id, user_id, created_at) VALUES (?, ?, ?, ?)`, token, sessionID, userID, now)
		return err
	})
	return User{ID: userID, UserMetadata: metadata, CreatedAt: now, UpdatedAt: now}, token, err
}

// RotateRefreshToken exchanges a refresh token for a new one of the same session, GoTrue's way.
// A token revoked less than reuse ago returns the session's current token again (two processes
// sharing a saved session may refresh at once, and both must end up with the same token). A
// revoked token used later means the family leaked: the whole session ends (every token of it,
// and its access tokens, see SessionEnded) and ErrRefreshTokenAlreadyUsed is returned.
func (s *Store) RotateRefreshToken(ctx context.Context, token string, reuse time.Duration) (User, string, string, error) {
	var user User
	var sessionID, next string
	var reused bool
	err := s.write(ctx, func(tx *sql.Tx, _ *changeSet) error {
		var revoked sql.NullString
		var ended sql.NullString
		err := tx.QueryRowContext(ctx, `SELECT t.session_id, t.user_id, t.revoked_at, s.ended_at FROM refresh_tokens t
			JOIN sessions s ON s.id = t.session_id WHERE t.token = ?`, token).Scan(&sessionID, &user.ID, &revoked, &ended)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && ended.Valid) {
			return ErrRefreshTokenNotFound
		}
		if err != nil {
			return err
		}
		now := s.now()
		if revoked.Valid {
			at, perr := time.Parse(TimeFormat, revoked.String)
			if perr != nil || now.Sub(at) > reuse {
				reused = true
				return s.endSessionLocked(ctx, tx, sessionID, now)
			}
			// Inside the window: the session's newest live token, which the first refresh returned.
			err := tx.QueryRowContext(ctx, `SELECT token FROM refresh_tokens WHERE session_id = ? AND revoked_at IS NULL
				ORDER BY created_at DESC, rowid DESC LIMIT 1`, sessionID).Scan(&next)
			if err == nil {
				return nil
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		} else if _, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET revoked_at = ? WHERE token = ?`, FormatTime(now), token); err != nil {
			return err
		}
		next = newRefreshToken()
		if _, err := tx.ExecContext(ctx, `INSERT INTO refresh_tokens (token, session_id, user_id, created_at, parent) VALUES (?, ?, ?, ?, ?)`,
			next, sessionID, user.ID, FormatTime(now), token); err != nil {
			return err
		}
		return nil
	})
	if err == nil && reused {
		err = ErrRefreshTokenAlreadyUsed
	}
	if err != nil {
		return User{}, "", "", err
	}
	user, err = s.GetUser(ctx, user.ID)
	return user, sessionID, next, err
}

// endSessionLocked ends a session and revokes its tokens, in tx.
func (s *Store) endSessionLocked(ctx context.Context, tx *sql.Tx, sessionID string, now time.Time) error {
	at := FormatTime(now)
	if _, err := tx.ExecContext(ctx, `UPDATE sessions SET ended_at = ? WHERE id = ? AND ended_at IS NULL`, at, sessionID); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET revoked_at = ? WHERE session_id = ? AND revoked_at IS NULL`, at, sessionID); err != nil {
		return err
	}
	s.markEnded(sessionID, now)
	return nil
}

// endedSessionMemory is how long an ended session is remembered for SessionEnded: longer than
// any access token lives, after which its tokens fail on their own expiry.
const endedSessionMemory = 24 * time.Hour

func (s *Store) markEnded(sessionID string, at time.Time) {
	s.endedMu.Lock()
	defer s.endedMu.Unlock()
	if s.ended == nil {
		s.ended = map[string]time.Time{}
	}
	s.ended[sessionID] = at
	if len(s.ended)%1024 == 0 {
		for id, t := range s.ended {
			if at.Sub(t) > endedSessionMemory {
				delete(s.ended, id)
			}
		}
	}
}

// SessionEnded reports, from memory, whether a session was signed out or revoked: its access
// tokens, though unexpired, are refused.
func (s *Store) SessionEnded(sessionID string) bool {
	s.endedMu.RLock()
	defer s.endedMu.RUnlock()
	_, ok := s.ended[sessionID]
	return ok
}

func (s *Store) loadEnded(ctx context.Context) error {
	since := s.now().Add(-endedSessionMemory)
	rows, err := s.db.QueryContext(ctx, `SELECT id, ended_at FROM sessions WHERE ended_at IS NOT NULL AND ended_at > ?`, FormatTime(since))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, at string
		if err := rows.Scan(&id, &at); err != nil {
			return err
		}
		t, _ := time.Parse(TimeFormat, at)
		s.markEnded(id, t)
	}
	return rows.Err()
}

// GetUser returns a user by id (ErrNotFound when unknown).
func (s *Store) GetUser(ctx context.Context, id string) (User, error) {
	u := User{ID: id}
	var meta string
	err := s.db.QueryRowContext(ctx, `SELECT user_metadata, created_at, updated_at FROM users WHERE id = ?`, id).Scan(&meta, &u.CreatedAt, &u.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return u, ErrNotFound
	}
	if err != nil {
		return u, err
	}
	if err := json.Unmarshal([]byte(meta), &u.UserMetadata); err != nil || u.UserMetadata == nil {
		u.UserMetadata = map[string]any{}
	}
	return u, nil
}

// SessionActive reports whether a session exists and has not been signed out.
func (s *Store) SessionActive(ctx context.Context, id string) (bool, error) {
	var ended sql.NullString
	err := s.db.QueryRowContext(ctx, `SELECT ended_at FROM sessions WHERE id = ?`, id).Scan(&ended)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil && !ended.Valid, err
}

// EndSessions signs out: the given session (scope "local"), all the user's sessions ("global"), or
// all but the given one ("others"). Their refresh tokens stop working, and so do their access
// tokens (SessionEnded).
func (s *Store) EndSessions(ctx context.Context, userID, sessionID, scope string) error {
	now := s.now()
	return s.write(ctx, func(tx *sql.Tx, _ *changeSet) error {
		var q string
		var args []any
		switch scope {
		case "local":
			q, args = `SELECT id FROM sessions WHERE id = ? AND ended_at IS NULL`, []any{sessionID}
		case "others":
			q, args = `SELECT id FROM sessions WHERE user_id = ? AND id <> ? AND ended_at IS NULL`, []any{userID, sessionID}
		default:
			q, args = `SELECT id FROM sessions WHERE user_id = ? AND ended_at IS NULL`, []any{userID}
		}
		ids, err := queryIDs(ctx, tx, q, args...)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if err := s.endSessionLocked(ctx, tx, id, now); err != nil {
				return err
			}
		}
		return nil
	})
}
