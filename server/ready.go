package server

import (
	"net/http"
	"time"

	"github.com/watchparty/watchparty/server/store"
)

// The ready check's endpoints (docs/api.md, "The ready check").

// MaxReadyToggles is how many rooms/ready calls one person may make per room in ReadyWindow.
const (
	MaxReadyToggles = 10
	ReadyWindow     = 10 * time.Second
)

// allowControl is the host's control budget (sync/control, rooms/handover, rooms/settings).
func (s *Server) allowControl(c caller, roomID string) *apiError {
	if !s.limits.allow("control:"+c.userID+":"+roomID, 20, 10*time.Second) {
		return &apiError{http.StatusTooManyRequests, "RATE_LIMITED", "too many controls: at most 20 in 10 s"}
	}
	return nil
}

// fnSettings changes the host's room settings: each is optional, and absent ones stay as they
// are (one more setting is one more field here and in store.RoomSettings).
func (s *Server) fnSettings(r *http.Request, c caller, f fields) (any, *apiError) {
	roomID, e := f.roomID("room_id")
	if e != nil {
		return nil, e
	}
	var set store.RoomSettings
	if set.ReadyMode, e = f.boolean("ready_mode"); e != nil {
		return nil, e
	}
	if set.WaitLimit, e = f.waitLimit(); e != nil {
		return nil, e
	}
	if e := s.allowControl(c, roomID); e != nil {
		return nil, e
	}
	room, err := s.store.UpdateSettings(r.Context(), roomID, c.userID, set)
	if err != nil {
		return nil, storeError(err)
	}
	return map[string]any{"room": room}, nil
}

// fnReady sets the caller's answer to the ready check.
func (s *Server) fnReady(r *http.Request, c caller, f fields) (any, *apiError) {
	roomID, e := f.roomID("room_id")
	if e != nil {
		return nil, e
	}
	ready, e := f.boolean("ready")
	if e != nil {
		return nil, e
	}
	if ready == nil {
		return nil, invalid("ready is required")
	}
	if !s.store.IsMember(roomID, c.userID) {
		if _, _, err := s.store.RoomState(r.Context(), roomID); err != nil {
			return nil, storeError(err)
		}
		return nil, storeError(store.ErrNotMember)
	}
	if !s.limits.allow("ready:"+c.userID+":"+roomID, MaxReadyToggles, ReadyWindow) {
		return nil, &apiError{http.StatusTooManyRequests, "RATE_LIMITED", "too many ready changes: at most 10 in 10 s"}
	}
	room, member, err := s.store.SetReady(r.Context(), roomID, c.userID, *ready)
	if err != nil {
		return nil, storeError(err)
	}
	return map[string]any{"room": room, "member": member}, nil
}

// notReadyDetails are the keys a NOT_READY error adds: how many are not ready, and the first
// store.MaxNotReadyListed of them.
func notReadyDetails(nr *store.NotReadyError) errorDetails {
	list := []map[string]any{}
	for i, m := range nr.Members {
		if i == store.MaxNotReadyListed {
			break
		}
		list = append(list, map[string]any{"user_id": m.UserID, "username": m.Username})
	}
	return errorDetails{"not_ready": list, "not_ready_count": len(nr.Members)}
}
