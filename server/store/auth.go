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
	ErrSessionNotFound         = errors.New("session not found")
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

// RotateRefreshToken exchanges a refresh token for a new one of the same session. A token
// revoked less than reuse ago is still accepted (two processes sharing a saved session may
// refresh at once); older revoked tokens are refused.
func (s *Store) RotateRefreshToken(ctx context.Context, token string, reuse time.Duration) (User, string, string, error) {
	var user User
	var sessionID, next string
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
				return ErrRefreshTokenAlreadyUsed
			}
		} else if _, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET revoked_at = ? WHERE token = ?`, FormatTime(now), token); err != nil {
			return err
		}
		next = newRefreshToken()
		if _, err := tx.ExecContext(ctx, `INSERT INTO refresh_tokens (token, session_id, user_id, created_at) VALUES (?, ?, ?, ?)`,
			next, sessionID, user.ID, FormatTime(now)); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return User{}, "", "", err
	}
	user, err = s.GetUser(ctx, user.ID)
	return user, sessionID, next, err
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
// all but the given one ("others").
func (s *Store) EndSessions(ctx context.Context, userID, sessionID, scope string) error {
	now := FormatTime(s.now())
	return s.write(ctx, func(tx *sql.Tx, _ *changeSet) error {
		var err error
		switch scope {
		case "local":
			_, err = tx.ExecContext(ctx, `UPDATE sessions SET ended_at = ? WHERE id = ? AND ended_at IS NULL`, now, sessionID)
		case "others":
			_, err = tx.ExecContext(ctx, `UPDATE sessions SET ended_at = ? WHERE user_id = ? AND id <> ? AND ended_at IS NULL`, now, userID, sessionID)
		default:
			_, err = tx.ExecContext(ctx, `UPDATE sessions SET ended_at = ? WHERE user_id = ? AND ended_at IS NULL`, now, userID)
		}
		return err
	})
}
