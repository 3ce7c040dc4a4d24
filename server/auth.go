package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/watchparty/watchparty/server/store"
)

// refreshReuseWindow is how long a rotated refresh token still works (GoTrue's reuse interval):
// a TUI and a script sharing one saved session may refresh at the same moment.
const refreshReuseWindow = 10 * time.Second

func authError(w http.ResponseWriter, status int, code, message string) {
	// auth-js reads error.code only when this header says 2024-01-01 or later.
	w.Header().Set("X-Supabase-Api-Version", "2024-01-01")
	writeJSON(w, status, map[string]any{"code": code, "message": message})
}

func (s *Server) handleAuth(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/auth/v1")
	switch {
	case path == "/signup" && r.Method == http.MethodPost:
		s.handleSignup(w, r)
	case path == "/token" && r.Method == http.MethodPost:
		s.handleToken(w, r)
	case path == "/user" && r.Method == http.MethodGet:
		s.handleUser(w, r)
	case path == "/logout" && r.Method == http.MethodPost:
		s.handleLogout(w, r)
	case path == "/settings" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, map[string]any{"external": map[string]any{"anonymous_users": true}, "disable_signup": false})
	default:
		authError(w, http.StatusNotFound, "not_found", "only anonymous sign-in, token refresh, user and logout are supported")
	}
}

type userJSON struct {
	ID           string         `json:"id"`
	Aud          string         `json:"aud"`
	Role         string         `json:"role"`
	Email        string         `json:"email"`
	Phone        string         `json:"phone"`
	LastSignInAt string         `json:"last_sign_in_at"`
	AppMetadata  map[string]any `json:"app_metadata"`
	UserMetadata map[string]any `json:"user_metadata"`
	Identities   []any          `json:"identities"`
	CreatedAt    string         `json:"created_at"`
	UpdatedAt    string         `json:"updated_at"`
	IsAnonymous  bool           `json:"is_anonymous"`
}

func toUserJSON(u store.User, now time.Time) userJSON {
	return userJSON{
		ID: u.ID, Aud: "authenticated", Role: "authenticated", LastSignInAt: store.FormatTime(now),
		AppMetadata: map[string]any{}, UserMetadata: u.UserMetadata, Identities: []any{},
		CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt, IsAnonymous: true,
	}
}

func (s *Server) sessionReply(w http.ResponseWriter, u store.User, sessionID, refresh string) {
	now := s.cfg.Now()
	tok, exp, err := s.keys.userToken(u.ID, sessionID, u.UserMetadata, now)
	if err != nil {
		authError(w, http.StatusInternalServerError, "unexpected_failure", "could not sign the access token")
		return
	}
	w.Header().Set("X-Supabase-Api-Version", "2024-01-01")
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": tok, "token_type": "bearer", "expires_in": int(AccessTokenTTL.Seconds()),
		"expires_at": exp.Unix(), "refresh_token": refresh, "user": toUserJSON(u, now),
	})
}

func (s *Server) handleSignup(w http.ResponseWriter, r *http.Request) {
	body, status, err := readBody(w, r)
	if err != nil {
		authError(w, status, "validation_failed", err.Error())
		return
	}
	if len(body["email"]) > 0 && string(body["email"]) != `""` || len(body["phone"]) > 0 && string(body["phone"]) != `""` {
		authError(w, http.StatusUnprocessableEntity, "signup_disabled", "only anonymous sign-ins are supported")
		return
	}
	var meta map[string]any
	if raw, ok := body["data"]; ok && string(raw) != "null" {
		if len(raw) > MaxUserMetadata {
			// It rides in every access token, and tokens are cached: keep them small.
			authError(w, http.StatusBadRequest, "validation_failed", fmt.Sprintf("data must be at most %d bytes of JSON", MaxUserMetadata))
			return
		}
		if err := json.Unmarshal(raw, &meta); err != nil {
			authError(w, http.StatusBadRequest, "validation_failed", "data must be an object")
			return
		}
	}
	if !s.limits.allow("signup:"+clientIP(r), 30, time.Minute) {
		authError(w, http.StatusTooManyRequests, "over_request_rate_limit", "Request rate limit reached")
		return
	}
	sessionID := uuid.NewString()
	u, refresh, err := s.store.CreateAnonymousUser(r.Context(), uuid.NewString(), sessionID, meta)
	if err != nil {
		s.log.Error("signup", "err", err)
		authError(w, http.StatusInternalServerError, "unexpected_failure", "could not create the user")
		return
	}
	s.sessionReply(w, u, sessionID, refresh)
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	if gt := r.URL.Query().Get("grant_type"); gt != "refresh_token" {
		authError(w, http.StatusBadRequest, "validation_failed", "unsupported grant_type: only refresh_token is supported")
		return
	}
	body, status, err := readBody(w, r)
	if err != nil {
		authError(w, status, "validation_failed", err.Error())
		return
	}
	var token string
	if err := json.Unmarshal(body["refresh_token"], &token); err != nil || token == "" {
		authError(w, http.StatusBadRequest, "validation_failed", "refresh_token is required")
		return
	}
	if !s.limits.allow("refresh:"+clientIP(r), 60, time.Minute) {
		authError(w, http.StatusTooManyRequests, "over_request_rate_limit", "Request rate limit reached")
		return
	}
	u, sessionID, next, err := s.store.RotateRefreshToken(r.Context(), token, refreshReuseWindow)
	switch {
	case errors.Is(err, store.ErrRefreshTokenNotFound), errors.Is(err, store.ErrNotFound):
		authError(w, http.StatusBadRequest, "refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found")
	case errors.Is(err, store.ErrRefreshTokenAlreadyUsed):
		authError(w, http.StatusBadRequest, "refresh_token_already_used", "Invalid Refresh Token: Already Used")
	case err != nil:
		s.log.Error("refresh", "err", err)
		authError(w, http.StatusInternalServerError, "unexpected_failure", "could not refresh the session")
	default:
		s.sessionReply(w, u, sessionID, next)
	}
}

// bearerUser checks the user token of /user and /logout, with GoTrue's error codes.
func (s *Server) bearerUser(w http.ResponseWriter, r *http.Request) (caller, bool) {
	c, err := s.callerOf(r)
	if err == errSessionEnded {
		authError(w, http.StatusForbidden, "session_not_found", "Session from session_id claim in JWT does not exist")
		return c, false
	}
	if err != nil {
		if strings.Contains(err.Error(), "missing") {
			authError(w, http.StatusUnauthorized, "no_authorization", "This endpoint requires a Bearer token")
		} else {
			authError(w, http.StatusForbidden, "bad_jwt", "invalid JWT: "+err.Error())
		}
		return c, false
	}
	if active, err := s.store.SessionActive(r.Context(), c.sessionID); err != nil || !active {
		authError(w, http.StatusForbidden, "session_not_found", "Session from session_id claim in JWT does not exist")
		return c, false
	}
	return c, true
}

func (s *Server) handleUser(w http.ResponseWriter, r *http.Request) {
	c, ok := s.bearerUser(w, r)
	if !ok {
		return
	}
	u, err := s.store.GetUser(r.Context(), c.userID)
	if err != nil {
		authError(w, http.StatusForbidden, "user_not_found", "User from sub claim in JWT does not exist")
		return
	}
	w.Header().Set("X-Supabase-Api-Version", "2024-01-01")
	writeJSON(w, http.StatusOK, toUserJSON(u, s.cfg.Now()))
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	c, ok := s.bearerUser(w, r)
	if !ok {
		return
	}
	scope := r.URL.Query().Get("scope")
	if scope != "local" && scope != "others" {
		scope = "global"
	}
	if err := s.store.EndSessions(r.Context(), c.userID, c.sessionID, scope); err != nil {
		authError(w, http.StatusInternalServerError, "unexpected_failure", "could not sign out")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// clientIP is the remote address without the port.
func clientIP(r *http.Request) string {
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i > 0 {
		host = host[:i]
	}
	return host
}
