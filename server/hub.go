package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/watchparty/watchparty/realtime/phx"
	"github.com/watchparty/watchparty/server/store"
)

// hub is the Realtime endpoint: Phoenix channels with presence, postgres_changes fan-out and
// broadcast, the way Supabase Realtime speaks it to supabase-js.
//
// Locking: hub.mu guards topics, the change index and every channel's identity. Each
// connection's reader goroutine handles its own frames in order; fan-out only enqueues frames
// on connections' outboxes, so one slow client never stalls the others.
type hub struct {
	srv *Server

	mu      sync.RWMutex
	conns   map[*conn]struct{}
	topics  map[string]*topic
	changes changeIndex
	closing bool

	wg       sync.WaitGroup // connection goroutines
	stopOnce sync.Once
	stop     chan struct{} // closes the janitor
}

// topic is one channel topic ("realtime:room:abc") and its subscribers.
type topic struct {
	name     string
	subs     map[*channel]struct{}
	presence *phx.Registry
}

func newHub(s *Server) *hub {
	h := &hub{srv: s, conns: map[*conn]struct{}{}, topics: map[string]*topic{}, changes: newChangeIndex(), stop: make(chan struct{})}
	go h.janitor()
	return h
}

func (h *hub) handleWebSocket(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ser, err := phx.SerializerFor(q.Get("vsn"))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "unsupported vsn: use 1.0.0 or 2.0.0"})
		return
	}
	key := r.Header.Get("x-api-key")
	if key == "" {
		key = q.Get("apikey")
	}
	if key == "" {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "API key is missing"})
		return
	}
	claims, err := h.srv.keys.verify(key)
	if err != nil {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": tokenErrorText(err, claims, h.srv.cfg.Now())})
		return
	}
	h.mu.RLock()
	closing := h.closing
	h.mu.RUnlock()
	if closing {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": "server is shutting down"})
		return
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		// A terminal client sends no Origin; browsers on other origins may use the anon key like
		// on Supabase, where any origin may connect.
		InsecureSkipVerify: true,
	})
	if err != nil {
		return // Accept has written the HTTP error
	}
	ws.SetReadLimit(h.srv.cfg.MaxFrame)
	c := newConn(h, ws, ser, key)
	h.mu.Lock()
	if h.closing {
		h.mu.Unlock()
		ws.Close(websocket.StatusGoingAway, "server is shutting down")
		return
	}
	h.conns[c] = struct{}{}
	h.wg.Add(1)
	h.mu.Unlock()
	// The reader gets a goroutine of its own and the handler returns: net/http then lets go of
	// the upgrade request, its context and its goroutine's grown stack, which kept several KB
	// per connection alive. (A hijacked connection outlives its handler; its request context
	// ends with the handler, so the reader doesn't use it.) The reader waits for the
	// connection's writer (started on demand) before it ends.
	go func() {
		defer h.wg.Done()
		c.readLoop(context.Background())
	}()
}

// tokenErrorText words a token error like Supabase Realtime does.
func tokenErrorText(err error, c *claims, now time.Time) string {
	switch err {
	case errTokenExpired:
		ago := 0
		if c != nil && c.ExpiresAt != nil {
			ago = int(now.Sub(c.ExpiresAt.Time).Seconds())
		}
		return fmt.Sprintf("Token has expired %d seconds ago", ago)
	case errTokenClaims:
		return "Fields `role` and `exp` are required in JWT"
	case errTokenSignature:
		return "Failed to validate JWT signature"
	default:
		return "The token provided is not a valid JWT"
	}
}

// removeConn forgets a closed connection and all its channels, sending presence leaves.
func (h *hub) removeConn(c *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.conns, c)
	for _, ch := range c.channels {
		h.leaveLocked(ch)
	}
	c.channels = map[string]*channel{}
}

// leaveLocked removes a channel from its topic and the change index, and fans out the presence
// leave of its meta. Caller holds h.mu.
func (h *hub) leaveLocked(ch *channel) {
	t := h.topics[ch.topic]
	if t == nil {
		return
	}
	delete(t.subs, ch)
	h.changes.remove(ch)
	if d, changed := t.presence.Untrack(ch.tracker); changed {
		h.fanoutPresenceLocked(t, d)
	}
	if len(t.subs) == 0 && t.presence.Len() == 0 {
		delete(h.topics, ch.topic)
	}
}

func (h *hub) fanoutPresenceLocked(t *topic, d phx.Diff) {
	payload, err := json.Marshal(d)
	if err != nil {
		return
	}
	msg := phx.Message{Topic: t.name, Event: phx.EventPresenceDiff, Payload: payload}
	var frames frameCache
	for sub := range t.subs {
		sub.conn.sendShared(&frames, msg)
	}
}

// publishChanges receives committed changes from the store (in commit order, under the store's
// write lock) and enqueues postgres_changes frames for every matching channel.
func (h *hub) publishChanges(changes []store.Change) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, c := range changes {
		h.publishChangeLocked(c)
	}
}

func (h *hub) publishChangeLocked(c store.Change) {
	matches := h.changes.match(c)
	if len(matches) == 0 {
		return
	}
	data := phx.ChangeData{
		Schema: "public", Table: c.Table, CommitTimestamp: c.CommitTime.UTC().Format("2006-01-02T15:04:05.000Z"),
		Type: c.Type, Columns: toPhxColumns(c.Columns), Record: c.Record, OldRecord: c.OldRecord,
	}
	row := c.Record
	if row == nil {
		row = c.OldRecord
	}
	roomID, _ := row["room_id"].(string)
	// Frames are shared by channels with the same topic and ids (binding ids are content hashes,
	// so every client subscribed the seed's way gets the same bytes).
	cache := map[string]*frameCache{}
	for ch, ids := range matches {
		// Row security, as the supabase/ RLS policies: members read their room's rows. DELETEs
		// are not checked, as on Supabase.
		if c.Type != "DELETE" && roomID != "" && !h.srv.store.IsMember(roomID, ch.userID) {
			continue
		}
		key := ch.topic + "|" + idsKey(ids)
		fc := cache[key]
		if fc == nil {
			fc = &frameCache{}
			cache[key] = fc
		}
		if fc.payload == nil {
			p, err := json.Marshal(phx.ChangesPayload{IDs: ids, Data: data})
			if err != nil {
				continue
			}
			fc.payload = p
		}
		ch.conn.sendShared(fc, phx.Message{Topic: ch.topic, Event: phx.EventPostgresChanges, Payload: fc.payload})
	}
}

func idsKey(ids []int64) string {
	var b strings.Builder
	for _, id := range ids {
		b.WriteString(strconv.FormatInt(id, 10))
		b.WriteByte(',')
	}
	return b.String()
}

func toPhxColumns(cols []store.Column) []phx.Column {
	out := make([]phx.Column, len(cols))
	for i, c := range cols {
		out[i] = phx.Column{Name: c.Name, Type: c.Type}
	}
	return out
}

// janitor closes channels whose user token expired, as Supabase Realtime does.
func (h *hub) janitor() {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
		}
		now := h.srv.cfg.Now()
		var expired []*channel
		h.mu.RLock()
		for _, t := range h.topics {
			for ch := range t.subs {
				if !ch.tokenExp.IsZero() && now.After(ch.tokenExp) {
					expired = append(expired, ch)
				}
			}
		}
		h.mu.RUnlock()
		for _, ch := range expired {
			ch.conn.shutdownChannel(ch, fmt.Sprintf("Token has expired %d seconds ago", int(now.Sub(ch.tokenExp).Seconds())))
		}
	}
}

// shutdown tells every client the server is going away, flushes their outboxes and closes them.
func (h *hub) shutdown(ctx context.Context) {
	h.stopOnce.Do(func() { close(h.stop) })
	h.mu.Lock()
	h.closing = true
	conns := make([]*conn, 0, len(h.conns))
	for c := range h.conns {
		conns = append(conns, c)
	}
	h.mu.Unlock()
	for _, c := range conns {
		c.goingAway()
	}
	done := make(chan struct{})
	go func() { h.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		for _, c := range conns {
			c.ws.CloseNow()
		}
		<-done
	}
}
