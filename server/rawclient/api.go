package rawclient

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
)

// API calls the server's HTTP endpoints with the headers supabase-js sends. Safe for concurrent
// use.
type API struct {
	BaseURL string
	AnonKey string
	HTTP    *http.Client

	secretsMu sync.Mutex
	secrets   map[string]string // room id → invite secret of the rooms CreateRoom made
}

// NewAPI returns an API client; hc nil means a client with its own transport.
func NewAPI(baseURL, anonKey string, hc *http.Client) *API {
	if hc == nil {
		hc = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	}
	return &API{BaseURL: baseURL, AnonKey: anonKey, HTTP: hc}
}

// Response is an HTTP reply.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a generic value (object, array…); nil when the body isn't JSON.
func (r Response) JSON() any {
	var v any
	if json.Unmarshal(r.Body, &v) != nil {
		return nil
	}
	return v
}

// Object decodes the body as a JSON object; nil when it isn't one.
func (r Response) Object() map[string]any {
	m, _ := r.JSON().(map[string]any)
	return m
}

// Session is a signed-in user.
type Session struct {
	UserID       string `json:"-"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresAt    int64  `json:"expires_at"`
	User         struct {
		ID          string `json:"id"`
		IsAnonymous bool   `json:"is_anonymous"`
	} `json:"user"`
}

// Do sends a request. body is sent as JSON unless it is []byte or string (sent as is); token
// "" sends no Authorization header.
func (a *API) Do(ctx context.Context, method, path, token string, body any) (Response, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = bytes.NewReader([]byte(b))
	default:
		data, err := json.Marshal(b)
		if err != nil {
			return Response{}, err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.BaseURL+path, rd)
	if err != nil {
		return Response{}, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("apikey", a.AnonKey)
	req.Header.Set("X-Client-Info", "watchparty-servertest")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := a.HTTP.Do(req)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return Response{}, err
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: data}, nil
}

// SignUp signs in anonymously, as supabase-js's signInAnonymously does.
func (a *API) SignUp(ctx context.Context) (Session, error) {
	r, err := a.Do(ctx, http.MethodPost, "/auth/v1/signup", "", map[string]any{"data": map[string]any{}, "gotrue_meta_security": map[string]any{}})
	if err != nil {
		return Session{}, err
	}
	return parseSession(r)
}

// Refresh exchanges a refresh token for a new session.
func (a *API) Refresh(ctx context.Context, refreshToken string) (Session, Response, error) {
	r, err := a.Do(ctx, http.MethodPost, "/auth/v1/token?grant_type=refresh_token", "", map[string]any{"refresh_token": refreshToken})
	if err != nil {
		return Session{}, r, err
	}
	if r.Status != http.StatusOK {
		return Session{}, r, nil
	}
	s, err := parseSession(r)
	return s, r, err
}

func parseSession(r Response) (Session, error) {
	if r.Status != http.StatusOK {
		return Session{}, fmt.Errorf("auth: status %d: %s", r.Status, r.Body)
	}
	var s Session
	if err := json.Unmarshal(r.Body, &s); err != nil {
		return Session{}, fmt.Errorf("auth reply: %w", err)
	}
	if s.AccessToken == "" || s.User.ID == "" {
		return Session{}, fmt.Errorf("auth reply without a token or user: %s", r.Body)
	}
	s.UserID = s.User.ID
	return s, nil
}

// Invoke calls an Edge Function (POST /functions/v1/<fn>).
// A room's invite secret, from a rooms/create or rooms/invite/rotate reply, is kept for
// InviteSecret and JoinRoom.
func (a *API) Invoke(ctx context.Context, token, fn string, body any) (Response, error) {
	r, err := a.Do(ctx, http.MethodPost, "/functions/v1/"+fn, token, body)
	if err == nil && r.Status == http.StatusOK && (fn == "rooms/create" || fn == "rooms/invite/rotate") {
		obj := r.Object()
		id, _ := dig(obj, "data", "room", "room_id").(string)
		if fn == "rooms/invite/rotate" {
			id, _ = dig(obj, "data", "room_id").(string)
		}
		secret, _ := dig(obj, "data", "invite_secret").(string)
		a.secretsMu.Lock()
		if a.secrets == nil {
			a.secrets = map[string]string{}
		}
		a.secrets[id] = secret
		a.secretsMu.Unlock()
	}
	return r, err
}

// RPC calls a PostgREST function (POST /rest/v1/rpc/<fn>).
func (a *API) RPC(ctx context.Context, token, fn string, args any) (Response, error) {
	return a.Do(ctx, http.MethodPost, "/rest/v1/rpc/"+fn, token, args)
}

// CreateRoom creates a room hosted by the session's user and returns its id.
func (a *API) CreateRoom(ctx context.Context, token, username string) (string, error) {
	r, err := a.Invoke(ctx, token, "rooms/create", map[string]any{"username": username, "media_title": "bench", "media_duration": 3600})
	if err != nil {
		return "", err
	}
	id, _ := dig(r.Object(), "data", "room", "room_id").(string)
	if r.Status != http.StatusOK || id == "" {
		return "", fmt.Errorf("create room: status %d: %s", r.Status, r.Body)
	}
	return id, nil
}

// InviteSecret is the latest invite secret of a room created or rotated through this API ("" for others).
func (a *API) InviteSecret(roomID string) string {
	a.secretsMu.Lock()
	defer a.secretsMu.Unlock()
	return a.secrets[roomID]
}

// JoinRoom joins a room, with its invite secret when CreateRoom made it.
func (a *API) JoinRoom(ctx context.Context, token, roomID, username string) error {
	r, err := a.Invoke(ctx, token, "rooms/join", map[string]any{"room_id": roomID, "username": username, "invite_secret": a.InviteSecret(roomID)})
	if err != nil {
		return err
	}
	if r.Status != http.StatusOK {
		return fmt.Errorf("join room: status %d: %s", r.Status, r.Body)
	}
	return nil
}

// Beat makes one liveness beat (track_user_presence) in a room. A member's first beat announces
// them ("<name> joined the room").
func (a *API) Beat(ctx context.Context, token, roomID string) error {
	r, err := a.RPC(ctx, token, "track_user_presence", map[string]any{"p_room_id": roomID, "p_current_time": 0, "p_is_playing": false})
	if err != nil {
		return err
	}
	if r.Status != http.StatusNoContent {
		return fmt.Errorf("beat: status %d: %s", r.Status, r.Body)
	}
	return nil
}

// Dig walks nested JSON objects by key; nil when a step is missing.
func Dig(v any, keys ...string) any { return dig(v, keys...) }

func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}
