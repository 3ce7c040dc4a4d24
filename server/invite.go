package server

import (
	"encoding/json"
	"net/http"

	"github.com/watchparty/watchparty/server/store"
)

// The invite and moderation endpoints (docs/api.md, "Invites and moderation"): host only, each
// counted as a control.

// fnRotateInvite gives the room a new invite secret and returns it (the only time it is seen:
// the server keeps its hash).
func (s *Server) fnRotateInvite(r *http.Request, c caller, f fields) (any, *apiError) {
	roomID, e := f.roomID("room_id")
	if e != nil {
		return nil, e
	}
	if e := s.allowControl(c, roomID); e != nil {
		return nil, e
	}
	secret := store.NewInviteSecret()
	if err := s.store.RotateInvite(r.Context(), roomID, c.userID, secret); err != nil {
		return nil, storeError(err)
	}
	return map[string]any{"room_id": roomID, "invite_secret": secret}, nil
}

// moderation reads the room and target of a moderation request and takes a control.
func (s *Server) moderation(c caller, f fields) (roomID, target string, e *apiError) {
	if roomID, e = f.roomID("room_id"); e != nil {
		return "", "", e
	}
	t, e := f.str("member_user_id", true)
	if e != nil {
		return "", "", e
	}
	if e := s.allowControl(c, roomID); e != nil {
		return "", "", e
	}
	return roomID, *t, nil
}

func (s *Server) fnCohost(r *http.Request, c caller, f fields) (any, *apiError) {
	roomID, target, e := s.moderation(c, f)
	if e != nil {
		return nil, e
	}
	revoke := false
	if f.present("revoke") {
		if json.Unmarshal(f["revoke"], &revoke) != nil {
			return nil, invalid("revoke must be a boolean")
		}
	}
	m, err := s.store.SetCohost(r.Context(), roomID, c.userID, target, !revoke)
	if err != nil {
		return nil, storeError(err)
	}
	return map[string]any{"member": m}, nil
}

func (s *Server) fnKick(r *http.Request, c caller, f fields) (any, *apiError) {
	return s.remove(r, c, f, false)
}

func (s *Server) fnBan(r *http.Request, c caller, f fields) (any, *apiError) {
	return s.remove(r, c, f, true)
}

func (s *Server) remove(r *http.Request, c caller, f fields, ban bool) (any, *apiError) {
	roomID, target, e := s.moderation(c, f)
	if e != nil {
		return nil, e
	}
	room, err := s.store.RemoveMember(r.Context(), roomID, c.userID, target, ban)
	if err != nil {
		return nil, storeError(err)
	}
	return map[string]any{"room": room}, nil
}
