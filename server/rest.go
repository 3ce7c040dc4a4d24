package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/watchparty/watchparty/server/store"
)

// postgrestError writes PostgREST's error body.
func postgrestError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]any{"code": code, "message": message, "details": nil, "hint": nil})
}

// rpcError is a PostgREST-style error from an RPC: code PTxyz means HTTP xyz, as a SQL
// `RAISE SQLSTATE 'PTxyz'` gives through PostgREST.
func rpcError(w http.ResponseWriter, status int, message string) {
	postgrestError(w, status, "PT"+strconv.Itoa(status), message)
}

func (s *Server) handleRPC(w http.ResponseWriter, r *http.Request) {
	fn := r.PathValue("fn")
	var handler func(http.ResponseWriter, *http.Request, caller, fields)
	switch fn {
	case "track_user_presence":
		handler = s.rpcTrackPresence
	case "get_room_sync_state":
		handler = s.rpcSyncState
	default:
		postgrestError(w, http.StatusNotFound, "PGRST202", "Could not find the function public."+fn+" in the schema cache")
		return
	}
	var body fields
	switch r.Method {
	case http.MethodPost:
		m, status, err := readBody(w, r)
		if err != nil {
			rpcError(w, status, err.Error())
			return
		}
		body = m
	case http.MethodGet:
		// rpc(fn, args, {get: true}) sends the arguments in the query string.
		body = fields{}
		for k, v := range r.URL.Query() {
			b, _ := json.Marshal(v[0])
			if _, err := strconv.ParseFloat(v[0], 64); err == nil || v[0] == "true" || v[0] == "false" {
				b = []byte(v[0])
			}
			body[k] = b
		}
	default:
		postgrestError(w, http.StatusMethodNotAllowed, "PGRST117", "Unsupported HTTP method: "+r.Method)
		return
	}
	c, err := s.callerOf(r)
	if err != nil {
		rpcError(w, http.StatusUnauthorized, "sign in first: "+err.Error())
		return
	}
	if e := body.checkUserID("p_user_id", c); e != nil {
		rpcError(w, http.StatusForbidden, e.message)
		return
	}
	handler(w, r, c, body)
}

func (s *Server) rpcTrackPresence(w http.ResponseWriter, r *http.Request, c caller, f fields) {
	roomID, e := f.roomID("p_room_id")
	if e != nil {
		rpcError(w, e.status, e.message)
		return
	}
	pos, e := f.position("p_current_time")
	if e != nil {
		rpcError(w, http.StatusBadRequest, e.message)
		return
	}
	var playing bool
	if !f.present("p_is_playing") {
		rpcError(w, http.StatusBadRequest, "p_is_playing is required")
		return
	}
	if err := json.Unmarshal(f["p_is_playing"], &playing); err != nil {
		rpcError(w, http.StatusBadRequest, "p_is_playing must be a boolean")
		return
	}
	clientID, e := f.clientID("p_client_id")
	if e != nil {
		rpcError(w, http.StatusBadRequest, e.message)
		return
	}
	// p_buffering is optional: a client that does not send it (the browser client) never buffers.
	var buffering bool
	if f.present("p_buffering") {
		if err := json.Unmarshal(f["p_buffering"], &buffering); err != nil {
			rpcError(w, http.StatusBadRequest, "p_buffering must be a boolean")
			return
		}
	}
	media, e := f.mediaReport()
	if e != nil {
		rpcError(w, http.StatusBadRequest, e.message)
		return
	}
	published, err := s.store.BeatMedia(r.Context(), roomID, c.userID, clientID, pos, playing, buffering, media)
	if published {
		s.hub.flushed()
	}
	switch {
	case errors.Is(err, store.ErrRoomNotFound):
		rpcError(w, http.StatusNotFound, "room not found")
	case errors.Is(err, store.ErrNotMember):
		rpcError(w, http.StatusForbidden, "not a member of this room")
	case err != nil:
		s.log.Error("track_user_presence", "err", err)
		postgrestError(w, http.StatusInternalServerError, "XX000", "internal error")
	default:
		w.WriteHeader(http.StatusNoContent) // a void function: PostgREST answers 204
	}
}

func (s *Server) rpcSyncState(w http.ResponseWriter, r *http.Request, c caller, f fields) {
	roomID, e := f.str("p_room_id", true)
	if e != nil {
		rpcError(w, http.StatusBadRequest, e.message)
		return
	}
	if !validRoomID(*roomID) {
		writeJSON(w, http.StatusOK, map[string]any{"error": "Room not found"})
		return
	}
	room, members, err := s.store.RoomState(r.Context(), *roomID)
	switch {
	case errors.Is(err, store.ErrRoomNotFound):
		// The browser client (docs/design.md §1) reads data.error from a 200 reply.
		writeJSON(w, http.StatusOK, map[string]any{"error": "Room not found"})
	case err != nil:
		s.log.Error("get_room_sync_state", "err", err)
		postgrestError(w, http.StatusInternalServerError, "XX000", "internal error")
	case !s.store.IsMember(*roomID, c.userID):
		writeJSON(w, http.StatusOK, map[string]any{"error": "Not a member of this room"})
	default:
		writeJSON(w, http.StatusOK, map[string]any{"room": room, "members": members, "server_time": s.cfg.Now().UnixMilli()})
	}
}

// handleTable serves the PostgREST table read of comments: select, eq filters, order, limit,
// offset. Rows are limited to rooms the caller has joined (the RLS policy of supabase/).
func (s *Server) handleTable(w http.ResponseWriter, r *http.Request) {
	table := r.PathValue("table")
	if table == "room_queue" {
		s.handleQueueTable(w, r)
		return
	}
	if table != "comments" {
		postgrestError(w, http.StatusNotFound, "PGRST205", "Could not find the table 'public."+table+"' in the schema cache")
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		postgrestError(w, http.StatusMethodNotAllowed, "PGRST117", "writes go through /functions/v1/comments/create")
		return
	}
	q, columns, err := parseCommentQuery(r.URL.Query())
	if err != nil {
		postgrestError(w, http.StatusBadRequest, "PGRST100", err.Error())
		return
	}
	if c, err := s.callerOf(r); err == nil {
		q.ReaderID = c.userID
	} else if !strings.Contains(err.Error(), "anon key") && !strings.Contains(err.Error(), "missing") {
		postgrestError(w, http.StatusUnauthorized, "PGRST301", err.Error())
		return
	}
	rows, err := s.store.ListComments(r.Context(), q)
	if err != nil {
		postgrestError(w, http.StatusBadRequest, "PGRST100", err.Error())
		return
	}
	out := make([]map[string]any, 0, len(rows))
	for _, c := range rows {
		rec := c.Record()
		if columns != nil {
			for k := range rec {
				if !columns[k] {
					delete(rec, k)
				}
			}
		}
		out = append(out, rec)
	}
	if len(out) == 0 {
		w.Header().Set("Content-Range", "*/*")
	} else {
		w.Header().Set("Content-Range", fmt.Sprintf("%d-%d/*", q.Offset, q.Offset+len(out)-1))
	}
	if r.Header.Get("Accept") == "application/vnd.pgrst.object+json" {
		if len(out) != 1 {
			writeJSON(w, http.StatusNotAcceptable, map[string]any{"code": "PGRST116", "details": fmt.Sprintf("The result contains %d rows", len(out)),
				"hint": nil, "message": "Cannot coerce the result to a single JSON object"})
			return
		}
		writeJSON(w, http.StatusOK, out[0])
		return
	}
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// parseCommentQuery parses the PostgREST subset; columns is nil for select=* (all columns).
func parseCommentQuery(v url.Values) (store.CommentQuery, map[string]bool, error) {
	q := store.CommentQuery{Eq: map[string]string{}}
	var columns map[string]bool
	for key, vals := range v {
		val := vals[0]
		switch key {
		case "select":
			if val == "*" || val == "" {
				continue
			}
			columns = map[string]bool{}
			for _, c := range strings.Split(val, ",") {
				c = strings.TrimSpace(c)
				if c == "*" {
					columns = nil
					break
				}
				if !store.CommentColumnNames[c] {
					return q, nil, fmt.Errorf("column comments.%s does not exist", c)
				}
				columns[c] = true
			}
		case "order":
			for _, term := range strings.Split(val, ",") {
				parts := strings.Split(term, ".")
				o := store.OrderBy{Column: parts[0]}
				for _, p := range parts[1:] {
					switch p {
					case "desc":
						o.Desc = true
					case "asc", "nullsfirst", "nullslast":
					default:
						return q, nil, fmt.Errorf("unexpected %q in order", p)
					}
				}
				if !store.CommentColumnNames[o.Column] {
					return q, nil, fmt.Errorf("column comments.%s does not exist", o.Column)
				}
				q.Order = append(q.Order, o)
			}
		case "limit", "offset":
			n, err := strconv.Atoi(val)
			if err != nil || n < 0 {
				return q, nil, fmt.Errorf("%s must be a non-negative integer", key)
			}
			if key == "limit" {
				q.Limit = n
			} else {
				q.Offset = n
			}
		default:
			if !store.CommentColumnNames[key] {
				return q, nil, fmt.Errorf("column comments.%s does not exist", key)
			}
			value, ok := strings.CutPrefix(val, "eq.")
			if !ok {
				return q, nil, fmt.Errorf("only eq filters are supported, got %q", val)
			}
			q.Eq[key] = value
		}
	}
	if q.Limit > 1000 || q.Limit == 0 {
		q.Limit = 1000 // a bounded page, like PostgREST's max-rows setting
	}
	return q, columns, nil
}
