package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
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
	perIP   map[string]int // open connections per client address
	topics  map[string]*topic
	changes changeIndex
	closing bool

	// Committed changes wait here for the dispatcher, so the store's write lock is never held
	// while changes are matched and fanned out (see publishChanges).
	pendingMu    sync.Mutex
	pending      []store.Change
	queued       uint64        // batches handed to publishChanges
	dispatched   uint64        // batches fanned out
	fanned       *sync.Cond    // on pendingMu: dispatched moved
	wake         chan struct{} // capacity 1: a change is pending
	dispatchDone chan struct{}

	wg       sync.WaitGroup // connection goroutines
	stopOnce sync.Once
	stop     chan struct{} // ends the janitor and the dispatcher
}

// topic is one channel topic ("realtime:room:abc") and its subscribers.
type topic struct {
	name     string
	subs     map[*channel]struct{}
	presence *phx.Registry
}

func newHub(s *Server) *hub {
	h := &hub{srv: s, conns: map[*conn]struct{}{}, perIP: map[string]int{}, topics: map[string]*topic{}, changes: newChangeIndex(),
		stop: make(chan struct{}), wake: make(chan struct{}, 1), dispatchDone: make(chan struct{})}
	h.fanned = sync.NewCond(&h.pendingMu)
	go h.janitor()
	go h.dispatch()
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
	// The address's slot is taken before the upgrade completes, so a burst of dials can't
	// overshoot the cap while earlier upgrades are still in flight.
	ip := clientIP(r)
	h.mu.Lock()
	closing, open := h.closing, h.perIP[ip]
	if !closing && open < maxConnsPerIP {
		h.perIP[ip]++
	}
	h.mu.Unlock()
	if closing {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": "server is shutting down"})
		return
	}
	if open >= maxConnsPerIP {
		h.srv.metrics.reject("connections_per_address")
		writeJSON(w, http.StatusTooManyRequests, map[string]any{"error": fmt.Sprintf("too many connections from your address (at most %d)", maxConnsPerIP)})
		return
	}
	out := &batchWriter{}
	ws, err := websocket.Accept(smallBuffers{w, out}, r, &websocket.AcceptOptions{
		// A terminal client sends no Origin; browsers on other origins may use the anon key like
		// on Supabase, where any origin may connect.
		InsecureSkipVerify: true,
	})
	if err != nil {
		h.releaseIP(ip)
		return // Accept has written the HTTP error
	}
	ws.SetReadLimit(h.srv.cfg.MaxFrame)
	c := newConn(h, ws, out, ser, key, ip)
	h.mu.Lock()
	if h.closing {
		h.mu.Unlock()
		h.releaseIP(ip)
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

// Buffers of an upgraded connection. The WebSocket library keeps, for the life of the socket,
// the reader and writer the hijack hands it; net/http's are 4 KiB each. Frames in are small (a
// heartbeat, a presence track), so 512 bytes in cost no extra system calls for nearly every
// frame. Frames out go through a 16-byte writer (a frame header fits) into the connection's
// batchWriter, which holds a buffer only while the connection's writer runs: an idle socket
// keeps no write buffer at all (docs/design.md §13).
const (
	wsReadBuffer  = 512
	wsWriteBuffer = 16
)

// smallBuffers is a ResponseWriter whose Hijack hands out the connection with a wsReadBuffer
// reader and a writer into out instead of net/http's buffers.
type smallBuffers struct {
	http.ResponseWriter
	out *batchWriter
}

func (w smallBuffers) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	w.out.conn = conn
	// Bytes the client sent after its request and net/http already read stay first in line:
	// they are moved into the new reader's buffer.
	if n := brw.Reader.Buffered(); n > 0 {
		pending, _ := brw.Reader.Peek(n)
		pending = append([]byte(nil), pending...)
		br := bufio.NewReaderSize(io.MultiReader(bytes.NewReader(pending), conn), max(wsReadBuffer, len(pending)))
		if _, err := br.Peek(len(pending)); err != nil {
			conn.Close()
			return nil, nil, err
		}
		return conn, bufio.NewReadWriter(br, bufio.NewWriterSize(w.out, wsWriteBuffer)), nil
	}
	return conn, bufio.NewReadWriter(bufio.NewReaderSize(conn, wsReadBuffer), bufio.NewWriterSize(w.out, wsWriteBuffer)), nil
}

// Batches of frames out: at most batchBytes are collected before they are written (a frame
// larger goes out alone, uncopied).
const batchBytes = 16 << 10

var batchBuffers = sync.Pool{New: func() any { b := make([]byte, 0, batchBytes); return &b }}

// batchWriter is where the WebSocket library writes a connection's frames. While the
// connection's writer goroutine runs a batch (begin … end), frames collect in a pooled buffer
// and go out in as few writes as batchBytes allows: a fan-out that queued several frames on a
// socket costs one system call, not one per frame, and an idle socket holds no buffer. Outside
// a batch (a pong or a close the library writes from the reader) writes go straight to the
// socket. Every write to the socket is bounded by the connection's write timer.
type batchWriter struct {
	mu    sync.Mutex
	conn  net.Conn
	buf   *[]byte // non-nil during a batch
	timer *time.Timer
}

func (b *batchWriter) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf == nil {
		return b.writeConn(p)
	}
	if len(*b.buf)+len(p) > batchBytes {
		if err := b.flushLocked(); err != nil {
			return 0, err
		}
		if len(p) >= batchBytes {
			return b.writeConn(p)
		}
	}
	*b.buf = append(*b.buf, p...)
	return len(p), nil
}

// writeConn writes to the socket under the write timer. Caller holds mu.
func (b *batchWriter) writeConn(p []byte) (int, error) {
	if b.timer != nil {
		b.timer.Reset(writeTimeout)
		defer b.timer.Stop()
	}
	return b.conn.Write(p)
}

func (b *batchWriter) flushLocked() error {
	if len(*b.buf) == 0 {
		return nil
	}
	_, err := b.writeConn(*b.buf)
	*b.buf = (*b.buf)[:0]
	return err
}

// begin starts a batch.
func (b *batchWriter) begin() {
	b.mu.Lock()
	if b.buf == nil {
		b.buf = batchBuffers.Get().(*[]byte)
	}
	b.mu.Unlock()
}

// end writes what the batch collected and gives its buffer back.
func (b *batchWriter) end() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf == nil {
		return nil
	}
	err := b.flushLocked()
	batchBuffers.Put(b.buf)
	b.buf = nil
	return err
}

// releaseIP gives back a connection slot of an address.
func (h *hub) releaseIP(ip string) {
	h.mu.Lock()
	h.releaseIPLocked(ip)
	h.mu.Unlock()
}

func (h *hub) releaseIPLocked(ip string) {
	if h.perIP[ip]--; h.perIP[ip] <= 0 {
		delete(h.perIP, ip)
	}
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
	if _, ok := h.conns[c]; ok {
		delete(h.conns, c)
		h.releaseIPLocked(c.ip)
	}
	for _, ch := range c.channels {
		h.leaveLocked(ch)
	}
	c.channels = map[string]*channel{}
}

// leaveLocked removes a channel from its topic and the change index, and fans out the presence
// leave of its meta. Caller holds h.mu.
func (h *hub) leaveLocked(ch *channel) {
	ch.conn.bindings -= len(ch.bindings)
	h.changes.remove(ch)
	t := h.topics[ch.topic]
	if t == nil {
		return
	}
	delete(t.subs, ch)
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
	h.srv.metrics.fannedOut(kindPresence, len(t.subs))
}

// publishChanges receives committed changes from the store (in commit order, under the store's
// write lock) and queues them for the dispatcher: matching and fan-out happen after the lock is
// released, so no number of subscribers can slow down a write.
func (h *hub) publishChanges(changes []store.Change) {
	h.pendingMu.Lock()
	h.pending = append(h.pending, changes...)
	h.queued++
	h.pendingMu.Unlock()
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// dispatch fans out queued changes in commit order until the hub stops, then fans out what is
// still queued.
func (h *hub) dispatch() {
	defer close(h.dispatchDone)
	for {
		stopping := false
		select {
		case <-h.wake:
		case <-h.stop:
			stopping = true
		}
		h.pendingMu.Lock()
		batch, upTo := h.pending, h.queued
		h.pending = nil
		h.pendingMu.Unlock()
		if len(batch) > 0 {
			h.mu.RLock()
			for _, c := range batch {
				h.publishChangeLocked(c)
			}
			h.mu.RUnlock()
		}
		h.pendingMu.Lock()
		h.dispatched = upTo
		if stopping {
			h.dispatched = ^uint64(0) // nothing more will be fanned out: release every waiter
		}
		h.fanned.Broadcast()
		h.pendingMu.Unlock()
		if stopping {
			return
		}
	}
}

// flushed waits until every change committed before the call has been fanned out (enqueued on
// its subscribers' outboxes). A function replies after its changes are on their way, as it did
// when fan-out ran inside the write: a client that got the reply knows the others' frames are
// queued ahead of anything it does next.
func (h *hub) flushed() {
	h.pendingMu.Lock()
	defer h.pendingMu.Unlock()
	target := h.queued
	for h.dispatched < target {
		h.fanned.Wait()
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
	// so every client subscribed the browser client's way, docs/design.md §1, gets the same bytes).
	cache := map[string]*frameCache{}
	sent := 0
	defer func() { h.srv.metrics.fannedOut(kindChange, sent) }()
	for ch, ids := range matches {
		// Row security, as the supabase/ RLS policies: only the room's current members receive
		// its rows, for every kind of change (a leave is an UPDATE that the leaver no longer
		// receives; nobody receives another room's rows).
		if !h.srv.store.IsMember(roomID, ch.userID) {
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
		sent++
		h.srv.metrics.queuedAfter(h.srv.cfg.Now().Sub(c.CommitTime))
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
		var expired, ended []*channel
		h.mu.RLock()
		for _, t := range h.topics {
			for ch := range t.subs {
				switch {
				case !ch.tokenExp.IsZero() && now.After(ch.tokenExp):
					expired = append(expired, ch)
				case ch.sessionID != "" && h.srv.store.SessionEnded(ch.sessionID):
					ended = append(ended, ch)
				}
			}
		}
		h.mu.RUnlock()
		for _, ch := range expired {
			ch.conn.shutdownChannel(ch, fmt.Sprintf("Token has expired %d seconds ago", int(now.Sub(ch.tokenExp).Seconds())))
		}
		for _, ch := range ended {
			ch.conn.shutdownChannel(ch, "Token has been revoked: its session has ended")
		}
	}
}

// shutdown tells every client the server is going away, flushes their outboxes and closes them.
func (h *hub) shutdown(ctx context.Context) {
	h.stopOnce.Do(func() { close(h.stop) })
	<-h.dispatchDone // committed changes are fanned out before the goodbyes
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
