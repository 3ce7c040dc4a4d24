package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"
)

// MaxBodyBytes is the largest HTTP request body accepted (docs/security.md, "Limits").
const MaxBodyBytes = 64 << 10

func (s *Server) routes() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /watchparty/v1/info", s.deadlines(s.handleInfo))
	mux.HandleFunc("GET /healthz", s.deadlines(s.handleHealthz))
	mux.HandleFunc("GET /join/{room}", s.deadlines(handleInvitePage)) // an invite link's page
	// WebSocket upgrades live as long as the socket: their silence is bounded by the hub's idle
	// timeout instead.
	mux.HandleFunc("GET /realtime/v1/websocket", s.hub.handleWebSocket)
	mux.HandleFunc("GET /socket/websocket", s.hub.handleWebSocket)
	mux.HandleFunc("/auth/v1/", s.deadlines(s.withAPIKey(s.handleAuth)))
	mux.HandleFunc("/functions/v1/", s.deadlines(s.withAPIKey(s.handleFunction)))
	mux.HandleFunc("/rest/v1/rpc/{fn}", s.deadlines(s.withAPIKey(s.handleRPC)))
	mux.HandleFunc("/rest/v1/{table}", s.deadlines(s.withAPIKey(s.handleTable)))
	mux.HandleFunc("/", s.deadlines(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "no route for " + r.Method + " " + r.URL.Path})
	}))
	s.mux = mux
}

func (s *Server) handleInfo(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"anon_key": s.keys.anonKey, "version": s.cfg.Version, "server_id": s.ID()})
}

// deadlines bounds a non-upgrade route (docs/security.md): a body trickled one byte at a time,
// or a reader that never reads the reply, holds a connection and a goroutine for at most
// Config.RequestTimeout (reading) and three times that (the whole reply).
//
// The handler runs on one of the server's workers (workers.go), waited for: a keep-alive
// connection's goroutine lives on between requests and would keep the stack a handler grew.
func (s *Server) deadlines(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		now := time.Now()
		// Errors only mean the connection doesn't support deadlines (tests' recorders).
		_ = rc.SetReadDeadline(now.Add(s.cfg.RequestTimeout))
		_ = rc.SetWriteDeadline(now.Add(3 * s.cfg.RequestTimeout))
		s.workers.do(func() { next(w, r) })
	}
}

// withAPIKey requires a valid apikey (header or query), as the Supabase API gateway does.
func (s *Server) withAPIKey(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("apikey")
		if key == "" {
			key = r.URL.Query().Get("apikey")
		}
		if key == "" {
			writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "No API key found in request", "hint": "No `apikey` request header or url param was found."})
			return
		}
		if _, err := s.keys.verify(key); err != nil {
			writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "Invalid API key", "hint": "Double check your Supabase `anon` or `service_role` API key."})
			return
		}
		next(w, r)
	}
}

// caller is the identity of a request: the user of a valid bearer token.
type caller struct {
	userID    string
	sessionID string
}

// errNoUser means the request has no valid user token; detail says why.
type errNoUser struct{ detail string }

func (e errNoUser) Error() string { return e.detail }

// errSessionEnded is a valid, unexpired token of a session that was signed out or revoked.
var errSessionEnded = errNoUser{"session ended: sign in again"}

// callerOf returns the user of the request's bearer token. The anon key is a valid token but no
// user. The user is always the token's sub: bodies never name the caller.
func (s *Server) callerOf(r *http.Request) (caller, error) {
	auth := r.Header.Get("Authorization")
	token, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok {
		token, ok = strings.CutPrefix(auth, "bearer ")
	}
	if !ok || strings.TrimSpace(token) == "" {
		return caller{}, errNoUser{"missing authorization header"}
	}
	c, err := s.keys.verify(strings.TrimSpace(token))
	if errors.Is(err, errTokenExpired) {
		return caller{}, errNoUser{"jwt expired"}
	}
	if err != nil {
		return caller{}, errNoUser{"invalid jwt"}
	}
	if c.Role != "authenticated" || c.Subject == "" {
		return caller{}, errNoUser{"sign in first: the anon key is not a user"}
	}
	if c.SessionID != "" && s.store.SessionEnded(c.SessionID) {
		return caller{}, errSessionEnded
	}
	return caller{userID: c.Subject, sessionID: c.SessionID}, nil
}

// readBody reads a JSON object body of at most MaxBodyBytes. An empty body is {}.
func readBody(w http.ResponseWriter, r *http.Request) (map[string]json.RawMessage, int, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, http.StatusRequestEntityTooLarge, errors.New("request body is larger than 64 KiB")
	}
	if err != nil {
		return nil, http.StatusBadRequest, errors.New("could not read the request body")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return map[string]json.RawMessage{}, 0, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil || m == nil {
		return nil, http.StatusBadRequest, errors.New("request body must be a JSON object")
	}
	return m, 0, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"message":"internal error"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b)
}
