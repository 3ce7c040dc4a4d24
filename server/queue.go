package server

import (
	"errors"
	"net/http"
	"strings"

	"github.com/watchparty/watchparty/server/store"
)

// The shared queue's endpoints (docs/api.md, "The queue"): rooms/queue/add, remove, move and
// next, host only and counted as controls, and the table read of room_queue.

// queueError maps the queue's store errors; others go to storeError.
func queueError(err error) *apiError {
	switch {
	case errors.Is(err, store.ErrQueueFull), errors.Is(err, store.ErrNoSuchEntry), errors.Is(err, store.ErrQueueAtEnd),
		errors.Is(err, store.ErrEntryRemoved):
		return invalid("%v", err)
	}
	return storeError(err)
}

// hostQueueCall reads the room id and counts the call as a control.
func (s *Server) hostQueueCall(c caller, f fields) (string, *apiError) {
	roomID, e := f.roomID("room_id")
	if e != nil {
		return "", e
	}
	return roomID, s.allowControl(c, roomID)
}

// entryID reads a required or optional queue entry id (a positive integer; 0 when absent).
func (f fields) entryID(name string, required bool) (int64, *apiError) {
	if !f.present(name) {
		if required {
			return 0, invalid("%s is required", name)
		}
		return 0, nil
	}
	v, e := f.integer(name)
	if e != nil || *v <= 0 {
		return 0, invalid("%s must be a positive integer", name)
	}
	return *v, nil
}

func (s *Server) fnQueueAdd(r *http.Request, c caller, f fields) (any, *apiError) {
	var ne store.NewEntry
	title, e := f.cleanField("title", MaxMediaTitle)
	if e != nil {
		return nil, e
	}
	if title == nil || *title == "" {
		return nil, invalid("title is required (1 to %d characters)", MaxMediaTitle)
	}
	ne.Title = *title
	if ne.Duration, e = f.boundedNum("duration", false); e != nil {
		return nil, e
	}
	fp, e := f.str("media_fp", false)
	if e != nil || fp != nil && !mediaFPPattern.MatchString(*fp) {
		return nil, invalid("media_fp must be 32 lower-case hex digits")
	}
	u, e := f.str("media_url", false)
	if e != nil {
		return nil, e
	}
	if u != nil {
		if e := checkMediaURL(*u); e != nil {
			return nil, e
		}
	}
	if (fp == nil) == (u == nil) {
		return nil, invalid("an entry has either media_fp (a local file) or media_url")
	}
	ne.MediaFP, ne.MediaURL = fp, u
	roomID, e := s.hostQueueCall(c, f)
	if e != nil {
		return nil, e
	}
	entry, err := s.store.QueueAdd(r.Context(), roomID, c.userID, ne)
	if err != nil {
		return nil, queueError(err)
	}
	return map[string]any{"entry": entry}, nil
}

func (s *Server) fnQueueRemove(r *http.Request, c caller, f fields) (any, *apiError) {
	id, e := f.entryID("entry_id", true)
	if e != nil {
		return nil, e
	}
	roomID, e := s.hostQueueCall(c, f)
	if e != nil {
		return nil, e
	}
	entry, err := s.store.QueueRemove(r.Context(), roomID, c.userID, id)
	if err != nil {
		return nil, queueError(err)
	}
	return map[string]any{"entry": entry}, nil
}

func (s *Server) fnQueueMove(r *http.Request, c caller, f fields) (any, *apiError) {
	id, e := f.entryID("entry_id", true)
	if e != nil {
		return nil, e
	}
	to, e := f.integer("to")
	if e != nil || to == nil || *to < 0 {
		return nil, invalid("to must be a non-negative integer (the new index, 0 = first)")
	}
	roomID, e := s.hostQueueCall(c, f)
	if e != nil {
		return nil, e
	}
	entries, err := s.store.QueueMove(r.Context(), roomID, c.userID, id, *to)
	if err != nil {
		return nil, queueError(err)
	}
	return map[string]any{"entries": entries}, nil
}

func (s *Server) fnQueueNext(r *http.Request, c caller, f fields) (any, *apiError) {
	id, e := f.entryID("entry_id", false)
	if e != nil {
		return nil, e
	}
	from, e := f.entryID("from_entry_id", false)
	if e != nil {
		return nil, e
	}
	roomID, e := s.hostQueueCall(c, f)
	if e != nil {
		return nil, e
	}
	room, err := s.store.QueueNext(r.Context(), roomID, c.userID, id, from)
	if err != nil {
		return nil, queueError(err)
	}
	return map[string]any{"room": room}, nil
}

// handleQueueTable serves GET /rest/v1/room_queue?room_id=eq.<id> (order and select are
// accepted and the rows come in queue order, removed entries included): the members of the
// room read it; others get [].
func (s *Server) handleQueueTable(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		postgrestError(w, http.StatusMethodNotAllowed, "PGRST117", "writes go through /functions/v1/rooms/queue/…")
		return
	}
	roomID := ""
	for key, vals := range r.URL.Query() {
		switch key {
		case "room_id":
			id, ok := strings.CutPrefix(vals[0], "eq.")
			if !ok {
				postgrestError(w, http.StatusBadRequest, "PGRST100", "only room_id=eq.<room id> is supported")
				return
			}
			roomID = id
		case "select", "order":
		default:
			postgrestError(w, http.StatusBadRequest, "PGRST100", "only room_id=eq.<room id>, select and order are supported on room_queue")
			return
		}
	}
	if !validRoomID(roomID) {
		postgrestError(w, http.StatusBadRequest, "PGRST100", "room_id=eq.<room id> is required")
		return
	}
	reader := ""
	if c, err := s.callerOf(r); err == nil {
		reader = c.userID
	}
	rows, err := s.store.ListQueue(r.Context(), roomID, reader)
	if err != nil {
		s.log.Error("room_queue read", "err", err)
		postgrestError(w, http.StatusInternalServerError, "XX000", "internal error")
		return
	}
	writeJSON(w, http.StatusOK, rows)
}
