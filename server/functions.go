package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/watchparty/watchparty/server/store"
	"github.com/watchparty/watchparty/textsafe"
)

// apiError is an Edge Function error: {"success":false,"error":{"code","message"}}.
type apiError struct {
	status  int
	code    string
	message string
}

// errorDetails are more keys of an error reply's error object (NOT_READY's not_ready): a
// handler returns them as its data along with the error.
type errorDetails map[string]any

func (e *apiError) Error() string { return e.message }

func invalid(format string, args ...any) *apiError {
	return &apiError{http.StatusBadRequest, "INVALID_REQUEST", fmt.Sprintf(format, args...)}
}

func writeFunctionError(w http.ResponseWriter, e *apiError) {
	writeFunctionErrorWith(w, e, nil)
}

func writeFunctionErrorWith(w http.ResponseWriter, e *apiError, details errorDetails) {
	body := map[string]any{"code": e.code, "message": e.message}
	for k, v := range details {
		body[k] = v
	}
	writeJSON(w, e.status, map[string]any{"success": false, "error": body})
}

// storeError maps store errors to API errors.
func storeError(err error) *apiError {
	switch {
	case errors.Is(err, store.ErrRoomNotFound):
		return &apiError{http.StatusNotFound, "ROOM_NOT_FOUND", "room not found"}
	case errors.Is(err, store.ErrNotMember):
		return &apiError{http.StatusForbidden, "NOT_MEMBER", "join the room first"}
	case errors.Is(err, store.ErrNotHost):
		return &apiError{http.StatusForbidden, "NOT_HOST", "only the host can control playback"}
	case errors.Is(err, store.ErrNoSuchHeir), errors.Is(err, store.ErrNotWaitable), errors.Is(err, store.ErrNoSuchTarget):
		return invalid("%v", err)
	case errors.Is(err, store.ErrBanned):
		return &apiError{http.StatusForbidden, "BANNED", err.Error()}
	}
	if r := (*store.RemovedError)(nil); errors.As(err, &r) {
		return &apiError{http.StatusForbidden, "REMOVED", r.Error()}
	}
	return &apiError{http.StatusInternalServerError, "INTERNAL", "internal error"}
}

// fields reads typed values out of a JSON object body.
type fields map[string]json.RawMessage

func (f fields) present(name string) bool {
	raw, ok := f[name]
	return ok && string(raw) != "null"
}

// clientID reads the optional client id of a join, create, leave or beat (docs/api.md): one
// person's windows and scripts are told apart by it.
func (f fields) clientID(name string) (string, *apiError) {
	v, e := f.str(name, false)
	if e != nil || v == nil {
		if e != nil {
			e = invalid("%s", clientIDRule)
		}
		return "", e
	}
	if !validClientID(*v) {
		return "", invalid("%s", clientIDRule)
	}
	return *v, nil
}

func (f fields) str(name string, required bool) (*string, *apiError) {
	if !f.present(name) {
		if required {
			return nil, invalid("%s is required", name)
		}
		return nil, nil
	}
	var s string
	if err := json.Unmarshal(f[name], &s); err != nil {
		return nil, invalid("%s must be a string", name)
	}
	return &s, nil
}

// strOrNumber accepts ids that clients send either way (anime_id).
func (f fields) strOrNumber(name string) (*string, *apiError) {
	if !f.present(name) {
		return nil, nil
	}
	var n json.Number
	if err := json.Unmarshal(f[name], &n); err == nil {
		s := n.String()
		return &s, nil
	}
	return f.str(name, false)
}

func (f fields) num(name string, required bool) (*float64, *apiError) {
	if !f.present(name) {
		if required {
			return nil, invalid("%s is required", name)
		}
		return nil, nil
	}
	var v float64
	if err := json.Unmarshal(f[name], &v); err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return nil, invalid("%s must be a number", name)
	}
	return &v, nil
}

func (f fields) boolean(name string) (*bool, *apiError) {
	if !f.present(name) {
		return nil, nil
	}
	var v bool
	if err := json.Unmarshal(f[name], &v); err != nil {
		return nil, invalid("%s must be a boolean", name)
	}
	return &v, nil
}

func (f fields) integer(name string) (*int64, *apiError) {
	if !f.present(name) {
		return nil, nil
	}
	var v float64
	if err := json.Unmarshal(f[name], &v); err != nil || v != math.Trunc(v) || math.Abs(v) > 1<<31 {
		return nil, invalid("%s must be an integer", name)
	}
	i := int64(v)
	return &i, nil
}

// checkUserID enforces the identity rule: a body user_id, when present, must be the caller.
func (f fields) checkUserID(name string, c caller) *apiError {
	if !f.present(name) {
		return nil
	}
	id, err := f.str(name, false)
	if err != nil {
		return err
	}
	if *id != c.userID {
		return &apiError{http.StatusForbidden, "USER_MISMATCH", name + " does not match the signed-in user"}
	}
	return nil
}

func (f fields) username() (string, *apiError) {
	raw, err := f.str("username", true)
	if err != nil {
		return "", err
	}
	name := textsafe.Line(*raw)
	if n := runeLen(name); n == 0 || n > MaxUsername {
		return "", &apiError{http.StatusBadRequest, "INVALID_USERNAME", fmt.Sprintf("username must be 1–%d characters", MaxUsername)}
	}
	if e := checkUsername(name); e != nil {
		return "", e
	}
	return name, nil
}

// position reads a required playback position in [0, MaxPosition].
func (f fields) position(name string) (float64, *apiError) {
	v, err := f.boundedNum(name, true)
	if err != nil {
		return 0, err
	}
	return *v, nil
}

func (s *Server) handleFunction(w http.ResponseWriter, r *http.Request) {
	name := strings.Trim(strings.TrimPrefix(r.URL.Path, "/functions/v1/"), "/")
	handlers := map[string]func(*http.Request, caller, fields) (any, *apiError){
		"rooms/create":       s.fnCreateRoom,
		"rooms/join":         s.fnJoinRoom,
		"rooms/leave":        s.fnLeaveRoom,
		"rooms/handover":     s.fnHandover,
		"sync/control":       s.fnControl,
		"rooms/settings":     s.fnSettings,
		"rooms/ready":        s.fnReady,
		"comments/create":    s.fnComment,
		"rooms/queue/add":    s.fnQueueAdd,
		"rooms/queue/remove": s.fnQueueRemove,
		"rooms/queue/move":   s.fnQueueMove,
		"rooms/queue/next":   s.fnQueueNext,
		// Invites and moderation (invite.go).
		"rooms/invite/rotate": s.fnRotateInvite,
		"rooms/cohost":        s.fnCohost,
		"rooms/kick":          s.fnKick,
		"rooms/ban":           s.fnBan,
	}
	h, ok := handlers[name]
	if !ok {
		writeFunctionError(w, &apiError{http.StatusNotFound, "NOT_FOUND", "no function " + strconv.Quote(name)})
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeFunctionError(w, &apiError{http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "use POST"})
		return
	}
	c, err := s.callerOf(r)
	if err != nil {
		writeFunctionError(w, &apiError{http.StatusUnauthorized, "UNAUTHORIZED", err.Error()})
		return
	}
	body, status, err := readBody(w, r)
	if err != nil {
		code := "INVALID_REQUEST"
		if status == http.StatusRequestEntityTooLarge {
			code = "PAYLOAD_TOO_LARGE"
		}
		writeFunctionError(w, &apiError{status, code, err.Error()})
		return
	}
	f := fields(body)
	if e := f.checkUserID("user_id", c); e != nil {
		writeFunctionError(w, e)
		return
	}
	data, e := h(r, c, f)
	s.hub.flushed()
	if e != nil {
		if e.status == http.StatusInternalServerError {
			s.log.Error("function failed", "fn", name, "err", e.message)
			e = &apiError{e.status, "INTERNAL", "internal error"}
		}
		details, _ := data.(errorDetails)
		writeFunctionErrorWith(w, e, details)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "data": data})
}

func (s *Server) fnCreateRoom(r *http.Request, c caller, f fields) (any, *apiError) {
	username, e := f.username()
	if e != nil {
		return nil, e
	}
	var nr store.NewRoom
	if nr.MediaURL, e = f.str("media_url", false); e != nil {
		return nil, e
	}
	if nr.MediaURL != nil {
		if e := checkMediaURL(*nr.MediaURL); e != nil {
			return nil, e
		}
	}
	if nr.MediaTitle, e = f.cleanField("media_title", MaxMediaTitle); e != nil {
		return nil, e
	}
	if nr.MediaDuration, e = f.boundedNum("media_duration", false); e != nil {
		return nil, e
	}
	if nr.AnimeID, e = f.animeID(); e != nil {
		return nil, e
	}
	if nr.EpisodeNumber, e = f.integer("episode_number"); e != nil {
		return nil, e
	}
	readyMode, e := f.boolean("ready_mode")
	if e != nil {
		return nil, e
	}
	nr.ReadyMode = readyMode != nil && *readyMode
	clientID, e := f.clientID("client_id")
	if e != nil {
		return nil, e
	}
	if clientID == "" {
		clientID = store.NewClientID()
	}
	if !s.limits.allow("create:"+c.userID, 10, time.Minute) {
		return nil, &apiError{http.StatusTooManyRequests, "RATE_LIMITED", "too many rooms created: wait a minute"}
	}
	nr.InviteSecret = store.NewInviteSecret()
	room, member, err := s.store.CreateRoom(r.Context(), c.userID, username, clientID, nr)
	if err != nil {
		return nil, &apiError{http.StatusInternalServerError, "INTERNAL", err.Error()}
	}
	return map[string]any{"room": room, "member": member, "client_id": clientID, "invite_secret": nr.InviteSecret}, nil
}

// allowMembershipChange is the join/leave budget of a user: a loop of joins and leaves costs
// everyone a write, a notice and a fan-out each.
func (s *Server) allowMembershipChange(c caller) *apiError {
	if !s.limits.allow("membership:"+c.userID, 20, time.Minute) {
		return &apiError{http.StatusTooManyRequests, "RATE_LIMITED", "too many joins and leaves: at most 20 a minute"}
	}
	return nil
}

// allowNotice is the store's budget for join/leave notices (docs/security.md).
func (s *Server) allowNotice(roomID, userID string) bool {
	return s.limits.allow("notice:"+roomID+":"+userID, 4, time.Minute) && s.limits.allow("notice:"+roomID, 30, time.Minute)
}

func (s *Server) fnJoinRoom(r *http.Request, c caller, f fields) (any, *apiError) {
	roomID, e := f.roomID("room_id")
	if e != nil {
		return nil, e
	}
	username, e := f.username()
	if e != nil {
		return nil, e
	}
	clientID, e := f.clientID("client_id")
	if e != nil {
		return nil, e
	}
	if clientID == "" {
		clientID = store.NewClientID()
	}
	secret, e := f.str("invite_secret", false)
	if e != nil {
		return nil, e
	}
	if secret == nil {
		secret = new(string)
	}
	if e := s.allowMembershipChange(c); e != nil {
		return nil, e
	}
	room, member, members, err := s.store.JoinInvited(r.Context(), roomID, c.userID, username, clientID, *secret)
	if err != nil {
		return nil, storeError(err)
	}
	return map[string]any{"room": room, "member": member, "members": members, "client_id": clientID}, nil
}

func (s *Server) fnLeaveRoom(r *http.Request, c caller, f fields) (any, *apiError) {
	roomID, e := f.roomID("room_id")
	if e != nil {
		return nil, e
	}
	clientID, e := f.clientID("client_id")
	if e != nil {
		return nil, e
	}
	if e := s.allowMembershipChange(c); e != nil {
		return nil, e
	}
	room, err := s.store.LeaveRoom(r.Context(), roomID, c.userID, clientID)
	if err != nil {
		return nil, storeError(err)
	}
	return map[string]any{"room": room}, nil
}

// fnHandover passes the host role on purpose (the handover command, the screen's key).
func (s *Server) fnHandover(r *http.Request, c caller, f fields) (any, *apiError) {
	roomID, e := f.roomID("room_id")
	if e != nil {
		return nil, e
	}
	to, e := f.str("to_user_id", true)
	if e != nil {
		return nil, e
	}
	if e := s.allowControl(c, roomID); e != nil {
		return nil, e
	}
	room, err := s.store.Handover(r.Context(), roomID, c.userID, *to)
	if err != nil {
		return nil, storeError(err)
	}
	return map[string]any{"room": room}, nil
}

func (s *Server) fnControl(r *http.Request, c caller, f fields) (any, *apiError) {
	roomID, e := f.roomID("room_id")
	if e != nil {
		return nil, e
	}
	action, e := f.str("action", true)
	if e != nil {
		return nil, e
	}
	switch *action {
	case "play", "pause", "seek", "sync", "rate", "wait":
	default:
		return nil, invalid("action must be one of play, pause, seek, sync, rate, wait")
	}
	pos, e := f.position("current_time")
	if e != nil {
		return nil, e
	}
	rate, e := f.num("playback_rate", *action == "rate")
	if e != nil {
		return nil, e
	}
	if rate != nil && (*rate < 0.25 || *rate > 4) {
		return nil, invalid("playback_rate must be between 0.25 and 4")
	}
	force, e := f.boolean("force")
	if e != nil {
		return nil, e
	}
	ctl := store.Control{Action: *action, CurrentTime: pos, PlaybackRate: rate, Force: force != nil && *force}
	if *action == "wait" || f.present("waiting_for") {
		if ctl.WaitingFor, e = f.waitingFor(*action == "wait"); e != nil {
			return nil, e
		}
	}
	at, e := f.num("position_at", false)
	if e != nil {
		return nil, e
	}
	if at != nil {
		if *at < 0 || *at > 1e14 {
			return nil, invalid("position_at must be a time in milliseconds since 1970 (the server clock)")
		}
		t := time.UnixMicro(int64(*at * 1000))
		ctl.PositionAt = &t
	}
	if e := s.allowControl(c, roomID); e != nil {
		return nil, e
	}
	room, err := s.store.ControlRoom(r.Context(), roomID, c.userID, ctl)
	var nr *store.NotReadyError
	if errors.As(err, &nr) {
		return notReadyDetails(nr), &apiError{http.StatusConflict, "NOT_READY", nr.Error()}
	}
	if err != nil {
		return nil, storeError(err)
	}
	return map[string]any{"room": room}, nil
}

func (s *Server) fnComment(r *http.Request, c caller, f fields) (any, *apiError) {
	roomID, e := f.roomID("room_id")
	if e != nil {
		return nil, e
	}
	raw, e := f.str("message", true)
	if e != nil {
		return nil, e
	}
	msg := textsafe.Multiline(*raw)
	if n := runeLen(msg); n == 0 || n > MaxMessage {
		return nil, &apiError{http.StatusBadRequest, "INVALID_MESSAGE", fmt.Sprintf("message must be 1–%d characters", MaxMessage)}
	}
	nc := store.NewComment{Message: msg}
	if nc.VideoTimestamp, e = f.boundedNum("video_timestamp", false); e != nil {
		return nil, e
	}
	if nc.AnimeID, e = f.animeID(); e != nil {
		return nil, e
	}
	if nc.EpisodeNumber, e = f.integer("episode_number"); e != nil {
		return nil, e
	}
	if !s.store.IsMember(roomID, c.userID) {
		// Tell unknown rooms apart from rooms the caller hasn't joined.
		if _, _, err := s.store.RoomState(r.Context(), roomID); err != nil {
			return nil, storeError(err)
		}
		return nil, storeError(store.ErrNotMember)
	}
	if !s.limits.allow("comment:"+c.userID+":"+roomID, 5, 10*time.Second) {
		return nil, &apiError{http.StatusTooManyRequests, "RATE_LIMITED", "too many comments: at most 5 in 10 s"}
	}
	comment, err := s.store.AddComment(r.Context(), roomID, c.userID, nc)
	if err != nil {
		return nil, storeError(err)
	}
	return map[string]any{"comment": comment}, nil
}

func hasNUL(s string) bool { return strings.ContainsRune(s, 0) }

// waitingForRule is the message of a wait's waiting_for that is not a list of members.
var waitingForRule = fmt.Sprintf("waiting_for must be 1 to %d different user ids of current members", store.MaxWaitingFor)

// waitingFor reads the members a wait names: a JSON array of 1 to MaxWaitingFor distinct user
// ids (whether they are members is the store's check). Other actions ignore it, but it must
// still be an array of strings.
func (f fields) waitingFor(wait bool) ([]string, *apiError) {
	if !f.present("waiting_for") {
		return nil, invalid("waiting_for is required for wait")
	}
	var ids []string
	if err := json.Unmarshal(f["waiting_for"], &ids); err != nil || slices.ContainsFunc(ids, hasNUL) {
		return nil, invalid("%s", waitingForRule) // no id holds U+0000 (Postgres's jsonb cannot)
	}
	if !wait {
		return nil, nil
	}
	if len(ids) == 0 || len(ids) > store.MaxWaitingFor {
		return nil, invalid("%s", waitingForRule)
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] || id == "" {
			return nil, invalid("%s", waitingForRule)
		}
		seen[id] = true
	}
	return ids, nil
}

// waitLimitRule is the message of a wait_limit out of its bounds.
var waitLimitRule = fmt.Sprintf("wait_limit must be a whole number of seconds from 0 to %d", store.MaxWaitLimit)

// waitLimit reads an optional wait_limit (seconds; 0 = never wait).
func (f fields) waitLimit() (*int64, *apiError) {
	v, e := f.integer("wait_limit")
	if e != nil || v != nil && (*v < 0 || *v > store.MaxWaitLimit) {
		return nil, invalid("%s", waitLimitRule)
	}
	return v, nil
}
