package server

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/watchparty/watchparty/realtime/phx"
)

// Outbox bounds: a client this far behind is disconnected rather than buffered without limit.
const (
	maxOutboxFrames = 4096
	maxOutboxBytes  = 8 << 20
	writeTimeout    = 10 * time.Second
	maxChannels     = 100 // per connection, as hosted Supabase
)

// Realtime limits of docs/security.md.
const (
	maxConnsPerIP        = 64
	maxTopicBytes        = 256 // of the name after "realtime:"
	maxPresenceMeta      = 1024
	maxPresenceKeys      = 100 // per topic
	maxMetasPerKey       = 10  // per key and topic: one person's windows
	userPresenceLimit    = 10  // track/untrack per window per user and topic, over all connections
	maxBroadcastBytes    = 64 << 10
	broadcastWindow      = 10 * time.Second // for Config.BroadcastLimit
	roomTopicPrefix      = "room:"
	errNotRoomMemberText = "Unauthorized: join the room first (rooms/join): its channel is for its members"
)

// conn is one WebSocket connection.
type conn struct {
	hub    *hub
	ws     *websocket.Conn
	ser    phx.Serializer
	apiKey string
	ip     string // client address, for the per-address connection cap

	channels map[string]*channel // by topic; guarded by hub.mu
	bindings int                 // postgres_changes bindings over all channels; guarded by hub.mu

	// Budgets, reader goroutine only. Presence calls are counted per topic on the connection,
	// not per channel, so leaving and rejoining a topic doesn't reset them.
	presenceCalls  map[string][]time.Time
	broadcastCalls []time.Time

	out     outbox
	trackID atomic.Int64
	// batch collects the frames one run of the writer writes (see batchWriter). Its write
	// timer drops a connection whose write blocks for writeTimeout: one reusable timer instead
	// of a context with a deadline per frame, no allocation per frame on the fan-out path.
	batch *batchWriter
}

// channel is one joined topic on one connection. Identity fields are guarded by hub.mu.
type channel struct {
	conn     *conn
	topic    string
	joinRef  string
	tracker  string // this membership's presence tracker id
	key      string // presence key
	bindings []phx.ChangeBinding
	self     bool // broadcast.self
	ack      bool // broadcast.ack

	userID    string // "" for the anon key
	sessionID string
	token     string
	tokenExp  time.Time
	roomID    string // for room topics (room:<id>, room:<id>:…): the room whose members may join

	indexed []indexKey // where its bindings sit in the change index
	closed  bool
}

// outbox is a connection's queue of encoded frames. A writer goroutine runs only while there
// is something to write (see wake): an idle connection then costs one goroutine, not two, which
// is a good part of a connection's memory.
type outbox struct {
	mu      sync.Mutex
	frames  []outFrame
	bytes   int
	writing bool           // a writer goroutine is running (or the socket is done with writing)
	ended   bool           // the reader has ended: start no more writers
	writers sync.WaitGroup // the running writer, waited for by the reader before it returns
	closing *closeFrame    // close after draining
}

type outFrame struct {
	data   []byte
	binary bool
}

type closeFrame struct {
	code   websocket.StatusCode
	reason string
}

func newConn(h *hub, ws *websocket.Conn, batch *batchWriter, ser phx.Serializer, apiKey, ip string) *conn {
	c := &conn{
		hub: h, ws: ws, batch: batch, ser: ser, apiKey: apiKey, ip: ip, channels: map[string]*channel{},
		presenceCalls: map[string][]time.Time{}, out: outbox{},
	}
	timer := time.AfterFunc(writeTimeout, func() { ws.CloseNow() })
	timer.Stop()
	batch.mu.Lock()
	batch.timer = timer
	batch.mu.Unlock()
	return c
}

// frameCache shares one encoding of a fan-out message among the connections of each version.
// Used by one fan-out at a time (under the hub lock).
type frameCache struct {
	payload json.RawMessage
	frames  map[string]outFrame // by serializer version
}

// send encodes and enqueues a message for this connection only.
func (c *conn) send(m phx.Message) {
	data, binary, err := c.ser.Encode(m)
	if err != nil {
		c.hub.srv.log.Error("encode", "event", m.Event, "err", err)
		return
	}
	c.enqueue(outFrame{data, binary})
}

// sendShared enqueues m, encoding it once per protocol version across a fan-out.
func (c *conn) sendShared(fc *frameCache, m phx.Message) {
	if fc.frames == nil {
		fc.frames = map[string]outFrame{}
	}
	f, ok := fc.frames[c.ser.Version()]
	if !ok {
		data, binary, err := c.ser.Encode(m)
		if err != nil {
			c.hub.srv.log.Error("encode", "event", m.Event, "err", err)
			return
		}
		f = outFrame{data, binary}
		fc.frames[c.ser.Version()] = f
	}
	c.enqueue(f)
}

func (c *conn) enqueue(f outFrame) {
	o := &c.out
	o.mu.Lock()
	if o.closing != nil {
		o.mu.Unlock()
		return
	}
	if len(o.frames) >= maxOutboxFrames || o.bytes+len(f.data) > maxOutboxBytes {
		// Too slow to keep up: drop the backlog and disconnect it; others are unaffected. The
		// socket is dropped at once: a close frame would wait behind megabytes the client is not
		// reading, and the writer would hold the connection for its whole write timeout.
		o.frames, o.bytes = nil, 0
		o.closing = &closeFrame{websocket.StatusPolicyViolation, "client too slow: outbox full"}
		o.mu.Unlock()
		c.hub.srv.metrics.reject("outbox")
		c.hub.srv.log.Warn("disconnecting slow client")
		c.ws.CloseNow()
		c.wake()
		return
	}
	o.frames = append(o.frames, f)
	o.bytes += len(f.data)
	o.mu.Unlock()
	c.wake()
}

// wake starts a writer goroutine when there is something to write and none is running.
func (c *conn) wake() {
	o := &c.out
	o.mu.Lock()
	if o.writing || o.ended || len(o.frames) == 0 && o.closing == nil {
		o.mu.Unlock()
		return
	}
	o.writing = true
	o.writers.Add(1)
	o.mu.Unlock()
	go c.writeLoop()
}

// closeAfterFlush sends what is queued, then closes with code and reason.
func (c *conn) closeAfterFlush(code websocket.StatusCode, reason string) {
	c.out.mu.Lock()
	if c.out.closing == nil {
		c.out.closing = &closeFrame{code, reason}
	}
	c.out.mu.Unlock()
	c.wake()
}

// goingAway is the server shutdown: a system message on every channel, then close 1001.
func (c *conn) goingAway() {
	c.hub.mu.RLock()
	for _, ch := range c.channels {
		c.send(phx.Message{JoinRef: ch.joinRef, Topic: ch.topic, Event: phx.EventSystem,
			Payload: mustJSON(map[string]any{"extension": "system", "status": "ok", "message": "Server requested disconnect", "channel": strings.TrimPrefix(ch.topic, "realtime:")})})
	}
	c.hub.mu.RUnlock()
	c.closeAfterFlush(websocket.StatusGoingAway, "server shutting down")
}

// writeLoop writes the outbox until it is empty, then ends. After a write error or the close it
// ends with writing still set, so no writer starts again.
func (c *conn) writeLoop() {
	defer c.out.writers.Done()
	for {
		c.out.mu.Lock()
		frames := c.out.frames
		c.out.frames, c.out.bytes = nil, 0
		closing := c.out.closing
		if len(frames) == 0 && closing == nil {
			c.out.writing = false
			c.out.mu.Unlock()
			return
		}
		c.out.mu.Unlock()
		// The frames taken go out together: the library writes each into the batch, which
		// reaches the socket in as few writes as its size allows.
		c.batch.begin()
		for _, f := range frames {
			typ := websocket.MessageText
			if f.binary {
				typ = websocket.MessageBinary
			}
			if err := c.ws.Write(context.Background(), typ, f.data); err != nil {
				c.batch.end()
				c.ws.CloseNow()
				return
			}
		}
		if err := c.batch.end(); err != nil {
			c.ws.CloseNow()
			return
		}
		if closing != nil {
			c.out.mu.Lock()
			pending := len(c.out.frames)
			c.out.mu.Unlock()
			if pending == 0 || closing.code == websocket.StatusPolicyViolation {
				c.ws.Close(closing.code, closing.reason)
				return
			}
		}
	}
}

func (c *conn) readLoop(ctx context.Context) {
	defer func() {
		c.hub.removeConn(c)
		c.out.mu.Lock()
		c.out.ended = true
		c.out.mu.Unlock()
		// The socket is closed or closing on every path here; a graceful close the writer is
		// doing (shutdown) is not cut short by CloseNow.
		c.ws.CloseNow()
		c.out.writers.Wait()
	}()
	// The idle timer closes with a reason. (A deadline on Read's context would not: the
	// WebSocket library drops the TCP connection at once when a read context ends.) Close is
	// safe while Read runs; the reader then ends with the close handshake. The timer also
	// costs less than a context with a timeout per frame.
	idle := c.hub.srv.cfg.IdleTimeout
	timer := time.AfterFunc(idle, func() {
		c.ws.Close(websocket.StatusPolicyViolation, "no message for "+idle.String())
	})
	defer timer.Stop()
	for {
		typ, data, err := c.ws.Read(ctx)
		if err != nil {
			return
		}
		timer.Reset(idle)
		msg, err := c.ser.Decode(data, typ == websocket.MessageBinary)
		if err != nil {
			// Like Phoenix, a frame we can't parse ends the socket, but with a reason that says why.
			reason := "malformed message: " + err.Error()
			if len(reason) > 120 { // close reasons are limited to 123 bytes
				reason = reason[:120]
			}
			c.ws.Close(websocket.StatusInvalidFramePayloadData, reason)
			return
		}
		// The message is handled on one of the server's workers, waited for: joins and
		// presence calls go deep (token checks, JSON, the store), and a goroutine's stack keeps
		// the size it grew to. The reader, alive as long as the socket, then only ever needs
		// the shallow stack of a read (workers.go).
		c.hub.srv.workers.do(func() { c.handle(msg) })
	}
}

func (c *conn) reply(m phx.Message, payload json.RawMessage) {
	c.send(phx.Message{JoinRef: m.JoinRef, Ref: m.Ref, Topic: m.Topic, Event: phx.EventReply, Payload: payload})
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only called with maps of plain values
	}
	return b
}

func (c *conn) handle(m phx.Message) {
	if m.Topic == phx.TopicPhoenix {
		if m.Event == phx.EventHeartbeat {
			c.reply(m, phx.ReplyOK(nil))
		} else {
			c.reply(m, phx.ReplyError("unknown event on the phoenix topic"))
		}
		return
	}
	if m.Event == phx.EventJoin {
		c.join(m)
		return
	}
	c.hub.mu.RLock()
	ch := c.channels[m.Topic]
	c.hub.mu.RUnlock()
	if ch == nil {
		if m.Event == phx.EventLeave {
			c.reply(m, phx.ReplyOK(nil))
			return
		}
		c.send(phx.Message{Ref: m.Ref, Topic: m.Topic, Event: phx.EventReply, Payload: phx.ReplyError("unmatched topic")})
		return
	}
	switch m.Event {
	case phx.EventLeave:
		c.reply(m, phx.ReplyOK(nil))
		c.closeChannel(ch)
	case phx.EventAccessToken:
		c.accessToken(ch, m)
	case phx.EventPresence:
		c.presence(ch, m)
	case phx.EventBroadcast:
		c.broadcast(ch, m)
	default:
		c.reply(m, phx.ReplyError("unknown event "+strconv.Quote(m.Event)))
	}
}

// identity is who a channel token says the client is.
type identity struct {
	userID    string // "" for the anon key
	sessionID string
	exp       time.Time
}

// identity checks a channel token and returns its user (empty for the anon key) and expiry.
func (c *conn) identity(token string) (identity, string) {
	if token == "" || strings.HasPrefix(token, "sb_") {
		token = c.apiKey
	}
	claims, err := c.hub.srv.keys.verify(token)
	if err != nil {
		code := "InvalidJWTToken"
		switch err {
		case errTokenMalformed:
			code = "MalformedJWT"
		case errTokenSignature:
			code = "JwtSignatureError"
		}
		return identity{}, code + ": " + tokenErrorText(err, claims, c.hub.srv.cfg.Now())
	}
	var id identity
	if claims.ExpiresAt != nil {
		id.exp = claims.ExpiresAt.Time
	}
	if claims.Role == "authenticated" {
		id.userID, id.sessionID = claims.Subject, claims.SessionID
	}
	if id.sessionID != "" && c.hub.srv.store.SessionEnded(id.sessionID) {
		return identity{}, "InvalidJWTToken: Token has been revoked: its session has ended"
	}
	return id, ""
}

// roomOfTopic returns the room id of a room topic ("room:<id>" or "room:<id>:…"); ok is false
// for other topics. A room topic with a malformed id returns ok with an empty id.
func roomOfTopic(name string) (roomID string, ok bool) {
	rest, ok := strings.CutPrefix(name, roomTopicPrefix)
	if !ok {
		return "", false
	}
	id, _, _ := strings.Cut(rest, ":")
	if !validRoomID(id) {
		return "", true
	}
	return id, true
}

func (c *conn) join(m phx.Message) {
	name, ok := strings.CutPrefix(m.Topic, "realtime:")
	if !ok || name == "" {
		c.reply(m, phx.ReplyError("TopicNameRequired: You must provide a topic name"))
		return
	}
	if len(name) > maxTopicBytes {
		c.reply(m, phx.ReplyError(fmt.Sprintf("InvalidTopic: topic names are at most %d bytes", maxTopicBytes)))
		return
	}
	var p phx.JoinPayload
	if err := json.Unmarshal(m.Payload, &p); err != nil {
		c.reply(m, phx.ReplyError("InvalidPayload: join payload: "+err.Error()))
		return
	}
	token := p.AccessToken
	if token == "" {
		token = p.UserToken
	}
	id, reason := c.identity(token)
	if reason != "" {
		c.reply(m, phx.ReplyError(reason))
		return
	}
	roomID, isRoom := roomOfTopic(name)
	if isRoom && (roomID == "" || id.userID == "" || !c.hub.srv.store.IsMember(roomID, id.userID)) {
		c.reply(m, phx.ReplyError(errNotRoomMemberText))
		return
	}
	if len(p.Config.PostgresChanges) > maxBindingsPerJoin {
		c.reply(m, phx.ReplyError(fmt.Sprintf("TooManyBindings: at most %d postgres_changes per channel", maxBindingsPerJoin)))
		return
	}
	h := c.hub
	h.mu.Lock()
	if old := c.channels[m.Topic]; old != nil {
		// A second join of a joined topic replaces the old channel, as Phoenix does.
		h.leaveLocked(old)
		delete(c.channels, m.Topic)
		old.closed = true
		c.send(phx.Message{JoinRef: old.joinRef, Ref: old.joinRef, Topic: old.topic, Event: phx.EventClose, Payload: json.RawMessage(`{}`)})
	}
	if len(c.channels) >= maxChannels {
		h.mu.Unlock()
		c.hub.srv.metrics.reject("channels")
		c.reply(m, phx.ReplyError("ChannelRateLimitReached: Too many channels"))
		return
	}
	if c.bindings+len(p.Config.PostgresChanges) > maxBindingsPerConn {
		h.mu.Unlock()
		c.reply(m, phx.ReplyError(fmt.Sprintf("TooManyBindings: at most %d postgres_changes per connection", maxBindingsPerConn)))
		return
	}
	ch := &channel{
		conn: c, topic: m.Topic, joinRef: m.JoinRef, key: p.Config.Presence.Key,
		tracker: strconv.FormatInt(c.trackID.Add(1), 10) + "@" + fmt.Sprintf("%p", c),
		self:    p.Config.Broadcast.Self, ack: p.Config.Broadcast.Ack,
		userID: id.userID, sessionID: id.sessionID, token: token, tokenExp: id.exp, roomID: roomID,
	}
	switch {
	case isRoom:
		ch.key = id.userID // in a room, presence says who is there: nobody speaks for another
	case ch.key == "":
		ch.key = ch.tracker // the real server uses a random UUID; any unique key will do
	}
	if ch.joinRef == "" {
		ch.joinRef = m.Ref
	}
	echo := make([]phx.ChangeBinding, len(p.Config.PostgresChanges))
	for i, b := range p.Config.PostgresChanges {
		b.ID = phx.BindingID(b)
		echo[i] = b
	}
	ch.bindings = echo
	t := h.topics[m.Topic]
	if t == nil {
		t = &topic{name: m.Topic, subs: map[*channel]struct{}{}, presence: phx.NewRegistry()}
		h.topics[m.Topic] = t
	}
	t.subs[ch] = struct{}{}
	c.channels[m.Topic] = ch
	c.bindings += len(echo)
	bindErr := h.changes.add(ch, echo)
	var state phx.State
	if p.Config.Presence.Enabled {
		state = t.presence.State()
	}
	// Reply and presence_state are enqueued under the lock so no diff can overtake them.
	c.reply(m, phx.ReplyOK(map[string]any{"postgres_changes": echo}))
	if p.Config.Presence.Enabled {
		c.send(phx.Message{JoinRef: ch.joinRef, Topic: m.Topic, Event: phx.EventPresenceState, Payload: mustJSON(state)})
	}
	h.mu.Unlock()
	if len(echo) > 0 {
		status, msg := "ok", "Subscribed to PostgreSQL"
		if bindErr != nil {
			status, msg = "error", bindErr.Error()
		}
		c.send(phx.Message{JoinRef: ch.joinRef, Topic: m.Topic, Event: phx.EventSystem,
			Payload: mustJSON(map[string]any{"extension": "postgres_changes", "status": status, "message": msg, "channel": name})})
	}
}

// closeChannel ends a channel: presence leaves to the others and phx_close to the client.
func (c *conn) closeChannel(ch *channel) {
	h := c.hub
	h.mu.Lock()
	if ch.closed {
		h.mu.Unlock()
		return
	}
	ch.closed = true
	h.leaveLocked(ch)
	delete(c.channels, ch.topic)
	h.mu.Unlock()
	c.send(phx.Message{JoinRef: ch.joinRef, Ref: ch.joinRef, Topic: ch.topic, Event: phx.EventClose, Payload: json.RawMessage(`{}`)})
}

// shutdownChannel is the server closing a channel: a system error, then phx_close. Clients
// don't rejoin such a channel by themselves (supabase-js removes it).
func (c *conn) shutdownChannel(ch *channel, message string) {
	c.send(phx.Message{JoinRef: ch.joinRef, Topic: ch.topic, Event: phx.EventSystem,
		Payload: mustJSON(map[string]any{"extension": "system", "status": "error", "message": message, "channel": strings.TrimPrefix(ch.topic, "realtime:")})})
	c.closeChannel(ch)
}

func (c *conn) accessToken(ch *channel, m phx.Message) {
	var p struct {
		AccessToken *string `json:"access_token"`
	}
	if err := json.Unmarshal(m.Payload, &p); err != nil || p.AccessToken == nil {
		return // no reply is expected; a null token is ignored, as on Supabase
	}
	c.hub.mu.RLock()
	same := *p.AccessToken == ch.token
	c.hub.mu.RUnlock()
	if same || strings.HasPrefix(*p.AccessToken, "sb_") {
		return
	}
	id, reason := c.identity(*p.AccessToken)
	if reason != "" {
		_, msg, _ := strings.Cut(reason, ": ")
		c.shutdownChannel(ch, msg)
		return
	}
	if ch.roomID != "" && id.userID != "" && id.userID != ch.key {
		// A room channel belongs to the member who joined it (its presence key): a refreshed
		// token of theirs, or the anon key (supabase-js on sign-out), may replace theirs;
		// another user's may not.
		c.shutdownChannel(ch, "Unauthorized: a room channel's token must stay the same member's")
		return
	}
	// Every token change is an identity change, in every direction (anon→user, user→anon).
	c.hub.mu.Lock()
	ch.userID, ch.sessionID, ch.token, ch.tokenExp = id.userID, id.sessionID, *p.AccessToken, id.exp
	c.hub.mu.Unlock()
}

func (c *conn) presence(ch *channel, m phx.Message) {
	var p struct {
		Type    string          `json:"type"`
		Event   string          `json:"event"`
		Payload json.RawMessage `json:"payload"`
	}
	if err := json.Unmarshal(m.Payload, &p); err != nil {
		c.reply(m, phx.ReplyError("presence message must be an object"))
		return
	}
	cfg := c.hub.srv.cfg
	now := cfg.Now()
	calls := c.presenceCalls[ch.topic]
	kept := calls[:0]
	for _, t := range calls {
		if now.Sub(t) < cfg.PresenceWindow {
			kept = append(kept, t)
		}
	}
	c.presenceCalls[ch.topic] = append(kept, now)
	if len(c.presenceCalls) > 2*maxChannels {
		// Topics joined and left long ago: forget their budgets, so the map stays bounded.
		for topic, calls := range c.presenceCalls {
			if now.Sub(calls[len(calls)-1]) >= cfg.PresenceWindow {
				delete(c.presenceCalls, topic)
			}
		}
	}
	overUser := ch.userID != "" && !c.hub.srv.limits.allow("presence:"+ch.userID+":"+ch.topic, userPresenceLimit, cfg.PresenceWindow)
	if len(c.presenceCalls[ch.topic]) > cfg.PresenceLimit || overUser {
		// Hosted Supabase's per-client cap: the call is refused by closing the channel.
		c.hub.srv.metrics.reject("presence_rate")
		c.reply(m, phx.ReplyOK(nil))
		c.shutdownChannel(ch, "Client presence rate limit exceeded")
		return
	}
	if ch.roomID != "" && !c.hub.srv.store.IsMember(ch.roomID, ch.key) {
		c.reply(m, phx.ReplyError(errNotRoomMemberText))
		return
	}
	h := c.hub
	switch p.Event {
	case "track":
		if len(p.Payload) > maxPresenceMeta {
			c.reply(m, phx.ReplyError(fmt.Sprintf("PresencePayloadTooLarge: a presence meta is at most %d bytes of JSON", maxPresenceMeta)))
			return
		}
		var meta map[string]any
		if err := json.Unmarshal(p.Payload, &meta); err != nil || meta == nil {
			c.reply(m, phx.ReplyError("Presence track payload must be a map"))
			return
		}
		h.mu.Lock()
		t := h.topics[ch.topic]
		if t == nil || ch.closed {
			h.mu.Unlock()
			c.reply(m, phx.ReplyOK(nil))
			return
		}
		if _, tracked := t.presence.Tracked(ch.tracker); !tracked {
			keys, metas := t.presence.Occupancy(ch.key)
			if metas >= maxMetasPerKey || metas == 0 && keys >= maxPresenceKeys {
				h.mu.Unlock()
				c.hub.srv.metrics.reject("presence_keys")
				c.reply(m, phx.ReplyError(fmt.Sprintf("PresenceLimit: at most %d presences per topic and %d per key", maxPresenceKeys, maxMetasPerKey)))
				return
			}
		}
		c.reply(m, phx.ReplyOK(nil))
		if d, changed := t.presence.Track(ch.tracker, ch.key, meta); changed {
			h.fanoutPresenceLocked(t, d)
		}
		h.mu.Unlock()
	case "untrack":
		c.reply(m, phx.ReplyOK(nil))
		h.mu.Lock()
		if t := h.topics[ch.topic]; t != nil && !ch.closed {
			if d, changed := t.presence.Untrack(ch.tracker); changed {
				h.fanoutPresenceLocked(t, d)
			}
		}
		h.mu.Unlock()
	default:
		c.reply(m, phx.ReplyError("presence event must be track or untrack"))
	}
}

func (c *conn) broadcast(ch *channel, m phx.Message) {
	var p struct {
		Type  string `json:"type"`
		Event string `json:"event"`
	}
	if err := json.Unmarshal(m.Payload, &p); err != nil || p.Event == "" {
		c.reply(m, phx.ReplyError("broadcast needs an event"))
		return
	}
	if len(m.Payload)+len(m.BinaryPayload) > maxBroadcastBytes {
		c.hub.srv.metrics.reject("broadcast_size")
		c.reply(m, phx.ReplyError(fmt.Sprintf("BroadcastTooLarge: a broadcast is at most %d bytes", maxBroadcastBytes)))
		return
	}
	now := c.hub.srv.cfg.Now()
	kept := c.broadcastCalls[:0]
	for _, t := range c.broadcastCalls {
		if now.Sub(t) < broadcastWindow {
			kept = append(kept, t)
		}
	}
	c.broadcastCalls = kept
	if limit := c.hub.srv.cfg.BroadcastLimit; len(kept) >= limit {
		c.hub.srv.metrics.reject("broadcasts")
		c.reply(m, phx.ReplyError(fmt.Sprintf("TooManyBroadcasts: at most %d per %s", limit, broadcastWindow)))
		return
	}
	c.broadcastCalls = append(kept, now)
	// A room's channel carries broadcasts of its current members only. (They are not stamped
	// with the sender: Phoenix 2.0.0's binary broadcast frame has no field for it. The client
	// acts on no broadcast.)
	if ch.roomID != "" && !c.hub.srv.store.IsMember(ch.roomID, ch.userID) {
		c.reply(m, phx.ReplyError(errNotRoomMemberText))
		return
	}
	out := phx.Message{Topic: ch.topic, Event: phx.EventBroadcast, Payload: m.Payload, BinaryPayload: m.BinaryPayload}
	h := c.hub
	h.mu.RLock()
	if t := h.topics[ch.topic]; t != nil {
		var frames frameCache
		sent := 0
		for sub := range t.subs {
			if sub == ch && !ch.self {
				continue
			}
			sub.conn.sendShared(&frames, out)
			sent++
		}
		h.srv.metrics.fannedOut(kindBroadcast, sent)
	}
	h.mu.RUnlock()
	if ch.ack {
		c.reply(m, phx.ReplyOK(nil))
	}
}
