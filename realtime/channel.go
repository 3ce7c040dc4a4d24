package realtime

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/watchparty/watchparty/realtime/phx"
)

// clientVersion is sent as the join payload's "version" (the server ignores it).
const clientVersion = "watchparty-realtime-go/1"

// defaultQueueWarn is the handler-queue length at which a channel logs that its handlers are
// falling behind.
const defaultQueueWarn = 1000

// ChangeFilter selects postgres_changes: Event ("*", "INSERT", "UPDATE", "DELETE"), Schema
// ("public"), Table and Filter ("room_id=eq.abc123def4"), exactly as supabase-js sends them.
type ChangeFilter = phx.ChangeBinding

// PresenceEvent is one presence callback, as supabase-js's: Kind "join" (Current = the key's
// metas before, Changed = the joined metas), "leave" (Current = the metas left, Changed = the
// metas that left) or "sync" (no key; read Channel.PresenceState).
type PresenceEvent = phx.PresenceEvent

// Meta is one tracked presence: the tracked payload plus "presence_ref".
type Meta = phx.Meta

// Change is one postgres_changes event.
type Change struct {
	Schema, Table string
	// Type is "INSERT", "UPDATE" or "DELETE" (supabase-js's eventType).
	Type string
	// CommitTimestamp is the commit time as sent, "2006-01-02T15:04:05.000Z".
	CommitTimestamp string
	// New is the new row (INSERT, UPDATE) and Old the old one (UPDATE, DELETE), as raw JSON
	// so numbers keep full precision; nil when absent. Decode with DecodeNew/DecodeOld.
	New, Old json.RawMessage
	Columns  []phx.Column
	Errors   []string
}

// DecodeNew decodes the new row into v.
func (c Change) DecodeNew(v any) error { return decodeRow(c.New, "new", v) }

// DecodeOld decodes the old row into v.
func (c Change) DecodeOld(v any) error { return decodeRow(c.Old, "old", v) }

func decodeRow(raw json.RawMessage, which string, v any) error {
	if len(raw) == 0 {
		return fmt.Errorf("change has no %s row", which)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("decode %s row: %w", which, err)
	}
	return nil
}

// Broadcast is a user broadcast received on a channel.
type Broadcast struct {
	Event string
	// Payload is the JSON payload; nil for a binary one (then Binary is set).
	Payload json.RawMessage
	Binary  []byte
}

// SystemEvent is a "system" message: "Subscribed to PostgreSQL", a postgres_changes error,
// "Server requested disconnect", or the error that precedes a channel shutdown.
type SystemEvent struct {
	// Extension is "postgres_changes" or "system".
	Extension string
	// Status is "ok" or "error".
	Status  string
	Message string
}

// CloseEvent tells that a channel is closed for good.
type CloseEvent struct {
	// ByServer is true when the server closed the channel (phx_close without Unsubscribe):
	// a rate limit, an expired token… The channel is not rejoined; the app creates a new one.
	ByServer bool
	// Err is nil after Unsubscribe; otherwise why: a *ServerCloseError (errors.Is
	// ErrRateLimited, ErrUnauthorized…), ErrBindingsMismatch, or ErrClosed.
	Err error
}

// ChannelStatus is the subscribe status supabase-js reports to its subscribe callback.
type ChannelStatus int

// Channel statuses, reported to OnStatus handlers.
const (
	// Subscribed: the join (or a rejoin after a reconnect) succeeded.
	Subscribed ChannelStatus = iota
	// ChannelError: the join was refused, the socket dropped, or the server sent phx_error;
	// the channel rejoins by itself.
	ChannelError
	// TimedOut: the join got no reply in time; the channel rejoins by itself.
	TimedOut
	// Closed: the channel is closed for good (see CloseEvent).
	Closed
)

// String returns supabase-js's name: "SUBSCRIBED", "CHANNEL_ERROR", "TIMED_OUT", "CLOSED".
func (s ChannelStatus) String() string {
	switch s {
	case Subscribed:
		return "SUBSCRIBED"
	case ChannelError:
		return "CHANNEL_ERROR"
	case TimedOut:
		return "TIMED_OUT"
	case Closed:
		return "CLOSED"
	}
	return fmt.Sprintf("ChannelStatus(%d)", int(s))
}

// StatusEvent is a change of a channel's subscribe status; Err says why for ChannelError,
// TimedOut and Closed.
type StatusEvent struct {
	Status ChannelStatus
	Err    error
}

// ChannelState is where a channel is in its life, as Phoenix names it.
type ChannelState int

// Channel states.
const (
	StateClosed ChannelState = iota
	StateJoining
	StateJoined
	StateErrored
	StateLeaving
)

// String returns "closed", "joining", "joined", "errored" or "leaving".
func (s ChannelState) String() string {
	return [...]string{"closed", "joining", "joined", "errored", "leaving"}[s]
}

// ChannelOptions configure a channel. Zero values take the defaults.
type ChannelOptions struct {
	// PresenceKey is this client's presence key (the user id); "" lets the server pick one.
	PresenceKey string
	// PresenceEnabled asks for presence_state even without an OnPresence listener (a listener
	// enables it, as in supabase-js).
	PresenceEnabled bool
	// BroadcastSelf echoes this client's own broadcasts back; BroadcastAck makes Send wait for
	// the server's acknowledgement.
	BroadcastSelf, BroadcastAck bool
	// Private asks for an RLS-authorised channel.
	Private bool
	// PresenceLimit and PresenceWindow are the client-side presence budget: at most
	// PresenceLimit track/untrack pushes per PresenceWindow per join (4 per 30 s; hosted
	// Supabase closes the channel on the 6th in 30 s, and one is kept spare for the untrack
	// of a leave). Calls beyond it are coalesced: see Track.
	PresenceLimit  int
	PresenceWindow time.Duration
	// QueueWarn is the handler-queue length that logs a warning (1000).
	QueueWarn int
}

func (o *ChannelOptions) defaults() {
	if o.PresenceLimit <= 0 {
		o.PresenceLimit = 4
	}
	if o.PresenceWindow <= 0 {
		o.PresenceWindow = 30 * time.Second
	}
	if o.QueueWarn <= 0 {
		o.QueueWarn = defaultQueueWarn
	}
}

// ChannelStats describe a channel's handler queue and presence budget use.
type ChannelStats struct {
	// Queued is how many handler calls wait now; PeakQueued the most ever.
	Queued, PeakQueued int
	// PresenceSent counts track/untrack pushes sent; PresenceCoalesced the Track/Untrack
	// calls that were folded into a later push by the budget.
	PresenceSent, PresenceCoalesced int
	// Joins counts successful joins (the first and every rejoin).
	Joins int
}

// TrackResult says what Track did with a presence payload.
type TrackResult struct {
	// Sent: pushed now and acknowledged by the server.
	Sent bool
	// Deferred: held back, by the presence budget (until SendAt) or because the channel is
	// not joined right now (SendAt is zero; it goes out right after the next join). A later
	// Track or Untrack replaces a deferred payload: only the latest is sent.
	Deferred bool
	SendAt   time.Time
	// Unchanged: the server already has exactly this payload; nothing was sent, no budget used.
	Unchanged bool
}

type changeListener struct {
	filter phx.ChangeBinding
	id     int64 // from the join reply
	fn     func(Change)
}

type broadcastListener struct {
	event string
	fn    func(Broadcast)
}

// Channel is one Realtime channel (topic "realtime:<name>") on a Socket. Add listeners, then
// Subscribe; the channel rejoins by itself after reconnects and refused joins, and re-tracks
// its presence after each rejoin. Once closed (Unsubscribe, or by the server) it stays closed.
//
// Listeners run in the order events arrive, one at a time, on one goroutine per channel;
// they never block the socket (events queue up, see Stats). A listener may call any Channel
// method. All methods are safe for concurrent use.
type Channel struct {
	sock  *Socket
	topic string
	opts  ChannelOptions

	// inbox feeds the channel's state goroutine: frames, connection changes and commands.
	inbox *queue[any]
	// events feeds the listener goroutine.
	events *queue[func()]

	mu         sync.Mutex
	changes    []changeListener
	presenceLs []func(PresenceEvent)
	broadcasts []broadcastListener
	systems    []func(SystemEvent)
	closes     []func(CloseEvent)
	statuses   []func(StatusEvent)
	started    bool // Subscribe was called: the goroutines run and listeners are fixed
	dead       bool // closed for good
	state      ChannelState
	presence   map[string][]Meta // presenceState() view
	stats      ChannelStats
	queueWarn  bool
	loopDone   chan struct{}
}

func newChannel(s *Socket, topic string, opts ChannelOptions) *Channel {
	opts.defaults()
	return &Channel{
		sock: s, topic: topic, opts: opts,
		inbox: newQueue[any](), events: newQueue[func()](),
		presence: map[string][]Meta{}, loopDone: make(chan struct{}),
	}
}

// Topic returns the channel's topic, "realtime:<name>".
func (c *Channel) Topic() string { return c.topic }

// State returns the channel's state.
func (c *Channel) State() ChannelState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// Stats returns the handler-queue and presence counters.
func (c *Channel) Stats() ChannelStats {
	c.mu.Lock()
	st := c.stats
	c.mu.Unlock()
	st.Queued, st.PeakQueued = c.events.stats()
	return st
}

// OnPostgresChanges calls fn for each change matching filter. It must come before Subscribe
// (the filters are part of the join), else it returns ErrAlreadySubscribed.
func (c *Channel) OnPostgresChanges(filter ChangeFilter, fn func(Change)) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.started {
		return ErrAlreadySubscribed
	}
	filter.ID = 0
	c.changes = append(c.changes, changeListener{filter: filter, fn: fn})
	return nil
}

// OnPresence calls fn for every presence join, leave and sync. It must come before Subscribe
// (it enables presence in the join), else it returns ErrAlreadySubscribed.
func (c *Channel) OnPresence(fn func(PresenceEvent)) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.started {
		return ErrAlreadySubscribed
	}
	c.presenceLs = append(c.presenceLs, fn)
	return nil
}

// OnBroadcast calls fn for broadcasts with the given event ("*" for all). Any time.
func (c *Channel) OnBroadcast(event string, fn func(Broadcast)) {
	c.mu.Lock()
	c.broadcasts = append(c.broadcasts, broadcastListener{event, fn})
	c.mu.Unlock()
}

// OnSystem calls fn for every system message. Any time.
func (c *Channel) OnSystem(fn func(SystemEvent)) {
	c.mu.Lock()
	c.systems = append(c.systems, fn)
	c.mu.Unlock()
}

// OnClose calls fn once when the channel closes for good. Any time.
func (c *Channel) OnClose(fn func(CloseEvent)) {
	c.mu.Lock()
	c.closes = append(c.closes, fn)
	c.mu.Unlock()
}

// OnStatus calls fn on every subscribe status: Subscribed after each (re)join (a good moment
// to re-read state), ChannelError/TimedOut while it retries, Closed at the end. Any time.
func (c *Channel) OnStatus(fn func(StatusEvent)) {
	c.mu.Lock()
	c.statuses = append(c.statuses, fn)
	c.mu.Unlock()
}

// PresenceState returns supabase-js's presenceState(): presence key → metas (the tracked
// payloads plus "presence_ref"). The result is a copy.
func (c *Channel) PresenceState() map[string][]Meta {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string][]Meta, len(c.presence))
	for k, metas := range c.presence {
		cp := make([]Meta, len(metas))
		for i, m := range metas {
			mm := make(Meta, len(m))
			for kk, v := range m {
				mm[kk] = v
			}
			cp[i] = mm
		}
		out[k] = cp
	}
	return out
}

// commands sent to the state goroutine
type (
	cmdSubscribe   struct{ res chan error }
	cmdUnsubscribe struct{ res chan error }
	cmdTrack       struct {
		payload json.RawMessage // nil: untrack
		res     chan trackReply
	}
	cmdSend struct {
		payload json.RawMessage
		res     chan trackReply
	}
	evToken    struct{}
	evConnUp   struct{ c *connection }
	evConnDown struct {
		c   *connection
		err error
	}
	evMessage struct {
		c *connection
		m phx.Message
	}
)

type trackReply struct {
	res TrackResult
	err error
	// wait, when set, delivers the server's reply to a push sent now.
	wait chan error
}

// Subscribe joins the channel (starting its goroutines on the first call) and waits until it
// is joined. If the join is refused or unanswered the channel keeps retrying on its rejoin
// schedule; Subscribe then returns when ctx ends, with the last join error, and the channel
// goes on retrying until Unsubscribe. It returns ErrBindingsMismatch (channel closed) when the
// server does not echo the postgres_changes filters, and ErrChannelClosed (or the server's
// reason) for a closed channel. Calling it on a joined channel returns nil at once.
func (c *Channel) Subscribe(ctx context.Context) error {
	c.mu.Lock()
	if c.dead {
		c.mu.Unlock()
		return ErrChannelClosed
	}
	if !c.started {
		c.started = true
		c.sock.wg.Add(2)
		go func() { defer c.sock.wg.Done(); c.loop() }()
		go func() { defer c.sock.wg.Done(); c.dispatch() }()
	}
	c.mu.Unlock()
	res := make(chan error, 1)
	if err := c.command(ctx, cmdSubscribe{res}); err != nil {
		return err
	}
	select {
	case err := <-res:
		return err
	case <-ctx.Done():
		return c.contextError(ctx)
	case <-c.loopDone:
		return c.closedError()
	}
}

// contextError is ctx's error plus the last join failure, if any.
func (c *Channel) contextError(ctx context.Context) error {
	res := make(chan error, 1)
	c.inbox.push(cmdLastError{res})
	select {
	case err := <-res:
		if err != nil {
			return fmt.Errorf("%w: %w", ctx.Err(), err)
		}
	case <-c.loopDone:
	case <-time.After(100 * time.Millisecond):
	}
	return ctx.Err()
}

type cmdLastError struct{ res chan error }

// command hands a command to the state goroutine.
func (c *Channel) command(ctx context.Context, cmd any) error {
	c.mu.Lock()
	started, dead := c.started, c.dead
	c.mu.Unlock()
	if !started {
		return ErrNotSubscribed
	}
	if dead {
		return c.closedError()
	}
	c.inbox.push(cmd)
	return nil
}

// closedError is the reason a closed channel gives to calls.
func (c *Channel) closedError() error {
	if c.sock.ctx.Err() != nil {
		return ErrClosed
	}
	return ErrChannelClosed
}

// Unsubscribe leaves the channel (phx_leave; the server drops this client's presence) and
// waits for the server's reply, at most the reply timeout. The channel is closed afterwards.
func (c *Channel) Unsubscribe(ctx context.Context) error {
	c.mu.Lock()
	if !c.started {
		c.dead = true
		c.mu.Unlock()
		c.sock.removeChannel(c)
		return nil
	}
	c.mu.Unlock()
	res := make(chan error, 1)
	if err := c.command(ctx, cmdUnsubscribe{res}); err != nil {
		if errors.Is(err, ErrChannelClosed) {
			return nil
		}
		return err
	}
	select {
	case err := <-res:
		return err
	case <-c.loopDone:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Track publishes payload (any value that encodes as a JSON object) as this client's
// presence, within the presence budget. Per join, at most PresenceLimit pushes go out per
// PresenceWindow; a call beyond that is coalesced: TrackResult.Deferred with SendAt, and the
// latest payload (from Track or Untrack) goes out when the window allows. A payload equal to
// what the server already has is not sent (Unchanged). After every rejoin the latest payload
// is tracked again automatically, since the server forgets presence on disconnect.
//
// When sent now, Track waits for the server's reply (at most the reply timeout).
func (c *Channel) Track(ctx context.Context, payload any) (TrackResult, error) {
	b, err := json.Marshal(payload)
	if err != nil {
		return TrackResult{}, fmt.Errorf("track: %w: %w", ErrInvalid, err)
	}
	if len(b) == 0 || b[0] != '{' {
		return TrackResult{}, fmt.Errorf("track: %w: payload must encode as a json object", ErrInvalid)
	}
	return c.track(ctx, b)
}

// Untrack removes this client's presence, within the same budget as Track.
func (c *Channel) Untrack(ctx context.Context) (TrackResult, error) {
	return c.track(ctx, nil)
}

func (c *Channel) track(ctx context.Context, payload json.RawMessage) (TrackResult, error) {
	res := make(chan trackReply, 1)
	if err := c.command(ctx, cmdTrack{payload, res}); err != nil {
		return TrackResult{}, err
	}
	var r trackReply
	select {
	case r = <-res:
	case <-ctx.Done():
		return TrackResult{}, ctx.Err()
	case <-c.loopDone:
		return TrackResult{}, c.closedError()
	}
	if r.err != nil || r.wait == nil {
		return r.res, r.err
	}
	return r.res, c.awaitReply(ctx, r.wait)
}

// awaitReply waits for a push's reply, at most the reply timeout.
func (c *Channel) awaitReply(ctx context.Context, wait chan error) error {
	t := time.NewTimer(c.sock.opts.ReplyTimeout)
	defer t.Stop()
	select {
	case err := <-wait:
		return err
	case <-t.C:
		return ErrTimeout
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Send broadcasts payload (a value that encodes as a JSON object) under event to the
// channel's other subscribers. The channel must be joined (ErrNotJoined otherwise). With
// BroadcastAck it waits for the server's acknowledgement.
func (c *Channel) Send(ctx context.Context, event string, payload any) error {
	p, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("send: %w: %w", ErrInvalid, err)
	}
	body, err := phx.Payload(phx.BroadcastPayload{Type: "broadcast", Event: event, Payload: p})
	if err != nil {
		return fmt.Errorf("send: %w: %w", ErrInvalid, err)
	}
	res := make(chan trackReply, 1)
	if err := c.command(ctx, cmdSend{body, res}); err != nil {
		return err
	}
	var r trackReply
	select {
	case r = <-res:
	case <-ctx.Done():
		return ctx.Err()
	case <-c.loopDone:
		return c.closedError()
	}
	if r.err != nil || r.wait == nil {
		return r.err
	}
	return c.awaitReply(ctx, r.wait)
}

// emit queues a listener call for the listener goroutine.
func (c *Channel) emit(fn func()) {
	n := c.events.push(fn)
	c.mu.Lock()
	warn := false
	if n >= c.opts.QueueWarn && !c.queueWarn {
		c.queueWarn, warn = true, true
	} else if n < c.opts.QueueWarn/2 {
		c.queueWarn = false
	}
	c.mu.Unlock()
	if warn {
		c.sock.log.Warn("realtime: channel listeners are falling behind", "topic", c.topic, "queued", n)
	}
}

// dispatch runs listeners in order until the channel ends (delivering what was queued before
// the end) or the socket closes (dropping the rest).
func (c *Channel) dispatch() {
	run := func() bool {
		for _, fn := range c.events.take() {
			if c.sock.ctx.Err() != nil {
				return false
			}
			fn()
		}
		return true
	}
	for {
		select {
		case <-c.events.wake:
			if !run() {
				return
			}
		case <-c.loopDone:
			run()
			return
		case <-c.sock.ctx.Done():
			return
		}
	}
}

func (c *Channel) setState(st ChannelState) {
	c.mu.Lock()
	c.state = st
	c.mu.Unlock()
}

func (c *Channel) emitStatus(st ChannelStatus, err error) {
	c.mu.Lock()
	ls := slices.Clone(c.statuses)
	c.mu.Unlock()
	ev := StatusEvent{st, err}
	c.emit(func() {
		for _, fn := range ls {
			fn(ev)
		}
	})
}

// chanLoop is the state owned by a channel's state goroutine.
type chanLoop struct {
	c        *Channel
	conn     *connection // the open connection, nil while down
	want     bool        // Subscribe called and not Unsubscribe
	state    ChannelState
	joinRef  string
	attempts int // failed joins since the last success
	lastErr  error
	lastSys  string // message of the last system error, the reason of a following phx_close

	joinTimer, rejoinTimer, leaveTimer, trackTimer *time.Timer

	subWaiters   []chan error
	leaveWaiters []chan error
	leaveRef     string
	pushes       map[string]chan error // replies awaited, by ref

	presence *phx.ClientPresence

	// presence budget
	budget     budget
	desired    json.RawMessage // latest payload asked for; nil = untracked
	sent       json.RawMessage // what the server has from this join; nil = nothing
	trackAsked bool            // Track was ever called
}

func timerC(t *time.Timer) <-chan time.Time {
	if t == nil {
		return nil
	}
	return t.C
}

func stopTimer(t **time.Timer) {
	if *t != nil {
		(*t).Stop()
		*t = nil
	}
}

// loop is the channel's state goroutine: it owns the join state machine and the presence
// state, and turns frames into listener calls.
func (c *Channel) loop() {
	l := &chanLoop{c: c, pushes: map[string]chan error{}, presence: phx.NewClientPresence(),
		budget: budget{limit: c.opts.PresenceLimit, window: c.opts.PresenceWindow}}
	defer func() {
		stopTimer(&l.joinTimer)
		stopTimer(&l.rejoinTimer)
		stopTimer(&l.leaveTimer)
		stopTimer(&l.trackTimer)
	}()
	for {
		select {
		case <-c.sock.ctx.Done():
			l.finish(CloseEvent{Err: ErrClosed}, ErrClosed, false)
			return
		case <-c.inbox.wake:
			for _, ev := range c.inbox.take() {
				if l.handle(ev) {
					return
				}
			}
		case <-timerC(l.joinTimer):
			l.joinTimer = nil
			l.onJoinTimeout()
		case <-timerC(l.rejoinTimer):
			l.rejoinTimer = nil
			if l.want && l.state == StateErrored && l.conn != nil {
				l.join()
			}
		case <-timerC(l.leaveTimer):
			l.leaveTimer = nil
			if l.finish(CloseEvent{}, nil, true) {
				return
			}
		case <-timerC(l.trackTimer):
			l.trackTimer = nil
			l.flushTrack()
		}
	}
}

func (l *chanLoop) setState(st ChannelState) {
	l.state = st
	l.c.setState(st)
}

func (l *chanLoop) send(m phx.Message) error {
	if l.conn == nil {
		return ErrDisconnected
	}
	return l.conn.send(l.c.sock.ser, m)
}

// handle processes one inbox item; it returns true when the channel has ended.
func (l *chanLoop) handle(ev any) bool {
	switch ev := ev.(type) {
	case cmdSubscribe:
		if l.state == StateJoined {
			ev.res <- nil
			return false
		}
		l.subWaiters = append(l.subWaiters, ev.res)
		if !l.want {
			l.want = true
			l.setState(StateJoining)
			if l.conn != nil {
				l.join()
			}
		}
	case cmdUnsubscribe:
		return l.unsubscribe(ev.res)
	case cmdTrack:
		ev.res <- l.trackCmd(ev.payload)
	case cmdSend:
		ev.res <- l.sendBroadcast(ev.payload)
	case cmdLastError:
		ev.res <- l.lastErr
	case evToken:
		if l.state == StateJoined {
			l.send(phx.Message{JoinRef: l.joinRef, Ref: l.c.sock.nextRef(), Topic: l.c.topic, Event: phx.EventAccessToken,
				Payload: mustPayload(phx.AccessTokenPayload{AccessToken: l.c.sock.accessToken()})})
		}
	case evConnUp:
		if ev.c == l.conn {
			return false
		}
		l.conn = ev.c
		if l.want && (l.state == StateErrored || l.state == StateJoining) {
			stopTimer(&l.rejoinTimer)
			l.attempts = 0
			l.join()
		}
	case evConnDown:
		if ev.c != l.conn {
			return false
		}
		l.conn = nil
		l.failPushes(ErrDisconnected)
		stopTimer(&l.joinTimer)
		switch l.state {
		case StateLeaving:
			// The socket is down: the leave counts as done, as in supabase-js.
			return l.finish(CloseEvent{}, nil, true)
		case StateJoined, StateJoining:
			l.lastErr = ev.err
			l.setState(StateErrored)
			l.c.emitStatus(ChannelError, ev.err)
		}
	case evMessage:
		if ev.c != l.conn {
			return false // from a connection that has ended
		}
		return l.onMessage(ev.m)
	}
	return false
}

// join sends phx_join with a new join_ref.
func (l *chanLoop) join() {
	c := l.c
	stopTimer(&l.joinTimer)
	ref := c.sock.nextRef()
	l.joinRef = ref
	c.mu.Lock()
	bindings := make([]phx.ChangeBinding, len(c.changes))
	for i, cl := range c.changes {
		bindings[i] = cl.filter
	}
	presenceOn := c.opts.PresenceEnabled || len(c.presenceLs) > 0
	c.mu.Unlock()
	if bindings == nil {
		bindings = []phx.ChangeBinding{}
	}
	payload := phx.JoinPayload{
		Config: phx.JoinConfig{
			Broadcast:       phx.BroadcastConfig{Ack: c.opts.BroadcastAck, Self: c.opts.BroadcastSelf},
			Presence:        phx.PresenceConfig{Key: c.opts.PresenceKey, Enabled: presenceOn},
			PostgresChanges: bindings,
			Private:         c.opts.Private,
		},
		AccessToken: c.sock.accessToken(),
		Version:     clientVersion,
	}
	l.setState(StateJoining)
	// A new join is a new channel on the server: it has none of our presence and a fresh
	// presence budget.
	l.sent = nil
	l.budget.reset()
	if err := l.send(phx.Message{JoinRef: ref, Ref: ref, Topic: c.topic, Event: phx.EventJoin, Payload: mustPayload(payload)}); err != nil {
		l.lastErr = err
		return // the connection is ending; evConnDown follows
	}
	l.joinTimer = time.NewTimer(c.sock.opts.ReplyTimeout)
}

func (l *chanLoop) scheduleRejoin() {
	stopTimer(&l.rejoinTimer)
	d := l.c.sock.backoff(l.c.sock.opts.RejoinDelays, l.attempts)
	l.attempts++
	l.rejoinTimer = time.NewTimer(d)
}

func (l *chanLoop) onJoinTimeout() {
	if l.state != StateJoining {
		return
	}
	// Best effort, as supabase-js: tell the server to drop a join it may still process.
	l.send(phx.Message{JoinRef: l.joinRef, Ref: l.c.sock.nextRef(), Topic: l.c.topic, Event: phx.EventLeave})
	l.lastErr = ErrTimeout
	l.setState(StateErrored)
	l.c.emitStatus(TimedOut, ErrTimeout)
	l.scheduleRejoin()
}

func (l *chanLoop) onJoinReply(reply phx.ReplyPayload) bool {
	stopTimer(&l.joinTimer)
	if l.state != StateJoining {
		return false
	}
	c := l.c
	if reply.Status != phx.StatusOK {
		var resp struct {
			Reason string `json:"reason"`
		}
		json.Unmarshal(reply.Response, &resp)
		if resp.Reason == "" {
			resp.Reason = strings.TrimSpace(string(reply.Response))
		}
		err := &JoinError{Reason: resp.Reason}
		c.sock.log.Warn("realtime: join refused", "topic", c.topic, "reason", resp.Reason)
		l.lastErr = err
		l.setState(StateErrored)
		c.emitStatus(ChannelError, err)
		l.scheduleRejoin()
		return false
	}
	var resp struct {
		PostgresChanges *[]phx.ChangeBinding `json:"postgres_changes"`
	}
	json.Unmarshal(reply.Response, &resp)
	c.mu.Lock()
	ok := true
	if len(c.changes) > 0 {
		if resp.PostgresChanges == nil || len(*resp.PostgresChanges) < len(c.changes) {
			ok = false
		} else {
			for i, cl := range c.changes {
				if !phx.SameBinding(cl.filter, (*resp.PostgresChanges)[i]) {
					ok = false
					break
				}
			}
		}
		if ok {
			for i := range c.changes {
				c.changes[i].id = (*resp.PostgresChanges)[i].ID
			}
		}
	}
	if ok {
		c.stats.Joins++
	}
	c.mu.Unlock()
	if !ok {
		l.send(phx.Message{JoinRef: l.joinRef, Ref: c.sock.nextRef(), Topic: c.topic, Event: phx.EventLeave})
		c.emitStatus(ChannelError, ErrBindingsMismatch)
		return l.finish(CloseEvent{Err: ErrBindingsMismatch}, ErrBindingsMismatch, false)
	}
	l.attempts = 0
	l.lastErr = nil
	l.setState(StateJoined)
	c.emitStatus(Subscribed, nil)
	for _, w := range l.subWaiters {
		w <- nil
	}
	l.subWaiters = nil
	// Re-track after every rejoin: the server dropped our presence with the old channel.
	if l.desired != nil {
		l.pushPresence(nil)
	}
	return false
}

func (l *chanLoop) onMessage(m phx.Message) bool {
	c := l.c
	if m.Event == phx.EventReply {
		var reply phx.ReplyPayload
		if err := json.Unmarshal(m.Payload, &reply); err != nil {
			return false
		}
		switch {
		case m.Ref != "" && m.Ref == l.joinRef:
			return l.onJoinReply(reply)
		case m.Ref != "" && m.Ref == l.leaveRef:
			return l.finish(CloseEvent{}, nil, true)
		}
		if w, ok := l.pushes[m.Ref]; ok {
			delete(l.pushes, m.Ref)
			w <- replyError(reply)
		}
		return false
	}
	// Drop messages of an earlier join ("dropping outdated message" in supabase-js).
	if m.JoinRef != "" && m.JoinRef != l.joinRef {
		return false
	}
	switch m.Event {
	case phx.EventClose:
		if m.Ref != "" && m.Ref != l.joinRef {
			return false
		}
		if l.state == StateLeaving {
			return l.finish(CloseEvent{}, nil, true)
		}
		err := &ServerCloseError{Message: l.lastSys}
		c.sock.log.Warn("realtime: channel closed by the server", "topic", c.topic, "reason", l.lastSys)
		return l.finish(CloseEvent{ByServer: true, Err: err}, err, false)
	case phx.EventError:
		if m.Ref != "" && m.Ref != l.joinRef {
			return false
		}
		if l.state == StateJoined || l.state == StateJoining {
			stopTimer(&l.joinTimer)
			l.lastErr = errors.New("channel crashed on the server (phx_error)")
			l.setState(StateErrored)
			c.emitStatus(ChannelError, l.lastErr)
			l.scheduleRejoin()
		}
	case phx.EventSystem:
		var p phx.SystemPayload
		if json.Unmarshal(m.Payload, &p) != nil {
			return false
		}
		if p.Status == phx.StatusError {
			l.lastSys = p.Message
			c.sock.log.Warn("realtime: system error", "topic", c.topic, "extension", p.Extension, "message", p.Message)
		}
		ev := SystemEvent{Extension: p.Extension, Status: p.Status, Message: p.Message}
		c.mu.Lock()
		ls := slices.Clone(c.systems)
		c.mu.Unlock()
		c.emit(func() {
			for _, fn := range ls {
				fn(ev)
			}
		})
	case phx.EventPresenceState:
		var st phx.State
		if json.Unmarshal(m.Payload, &st) != nil {
			return false
		}
		l.presenceEvents(l.presence.OnState(l.joinRef, st))
	case phx.EventPresenceDiff:
		var d phx.Diff
		if json.Unmarshal(m.Payload, &d) != nil {
			return false
		}
		l.presenceEvents(l.presence.OnDiff(l.joinRef, d))
	case phx.EventPostgresChanges:
		l.onChanges(m.Payload)
	case phx.EventBroadcast:
		var p phx.BroadcastPayload
		if json.Unmarshal(m.Payload, &p) != nil {
			return false
		}
		b := Broadcast{Event: p.Event, Payload: p.Payload, Binary: m.BinaryPayload}
		c.mu.Lock()
		var ls []func(Broadcast)
		for _, bl := range c.broadcasts {
			if bl.event == "*" || bl.event == p.Event {
				ls = append(ls, bl.fn)
			}
		}
		c.mu.Unlock()
		if len(ls) > 0 {
			c.emit(func() {
				for _, fn := range ls {
					fn(b)
				}
			})
		}
	}
	return false
}

func (l *chanLoop) presenceEvents(events []PresenceEvent) {
	if len(events) == 0 {
		return
	}
	c := l.c
	view := l.presence.List()
	c.mu.Lock()
	c.presence = view
	ls := slices.Clone(c.presenceLs)
	c.mu.Unlock()
	if len(ls) == 0 {
		return
	}
	c.emit(func() {
		for _, ev := range events {
			for _, fn := range ls {
				fn(ev)
			}
		}
	})
}

// changesWire is a postgres_changes payload with the rows kept raw.
type changesWire struct {
	IDs  []int64 `json:"ids"`
	Data struct {
		Schema          string          `json:"schema"`
		Table           string          `json:"table"`
		CommitTimestamp string          `json:"commit_timestamp"`
		Type            string          `json:"type"`
		Errors          []string        `json:"errors"`
		Columns         []phx.Column    `json:"columns"`
		Record          json.RawMessage `json:"record"`
		OldRecord       json.RawMessage `json:"old_record"`
	} `json:"data"`
}

func (l *chanLoop) onChanges(payload json.RawMessage) {
	var w changesWire
	if err := json.Unmarshal(payload, &w); err != nil {
		l.c.sock.log.Warn("realtime: bad postgres_changes payload", "err", err)
		return
	}
	ch := Change{Schema: w.Data.Schema, Table: w.Data.Table, Type: w.Data.Type, CommitTimestamp: w.Data.CommitTimestamp,
		Columns: w.Data.Columns, Errors: w.Data.Errors}
	if t := strings.ToUpper(w.Data.Type); t == phx.ChangeInsert || t == phx.ChangeUpdate {
		ch.New = nonNull(w.Data.Record)
	}
	if t := strings.ToUpper(w.Data.Type); t == phx.ChangeUpdate || t == phx.ChangeDelete {
		ch.Old = nonNull(w.Data.OldRecord)
	}
	c := l.c
	c.mu.Lock()
	var ls []func(Change)
	for _, cl := range c.changes {
		if cl.id == 0 || !cl.filter.MatchEvent(w.Data.Type) {
			continue
		}
		for _, id := range w.IDs {
			if id == cl.id {
				ls = append(ls, cl.fn)
				break
			}
		}
	}
	c.mu.Unlock()
	if len(ls) > 0 {
		c.emit(func() {
			for _, fn := range ls {
				fn(ch)
			}
		})
	}
}

func nonNull(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	return raw
}

func (l *chanLoop) unsubscribe(res chan error) bool {
	l.want = false
	l.leaveWaiters = append(l.leaveWaiters, res)
	if l.state == StateLeaving {
		return false
	}
	if l.conn == nil || (l.state != StateJoined && l.state != StateJoining) {
		return l.finish(CloseEvent{}, nil, true)
	}
	l.setState(StateLeaving)
	stopTimer(&l.joinTimer)
	stopTimer(&l.rejoinTimer)
	stopTimer(&l.trackTimer)
	l.leaveRef = l.c.sock.nextRef()
	if l.send(phx.Message{JoinRef: l.joinRef, Ref: l.leaveRef, Topic: l.c.topic, Event: phx.EventLeave}) != nil {
		return l.finish(CloseEvent{}, nil, true)
	}
	l.leaveTimer = time.NewTimer(l.c.sock.opts.ReplyTimeout)
	return false
}

// finish closes the channel for good: it answers every waiter, tells the listeners (a
// Closed status and the close event) and removes the channel from the socket. It returns
// true (the loop ends).
func (l *chanLoop) finish(ev CloseEvent, waitErr error, emit bool) bool {
	c := l.c
	if ev.Err != nil && !errors.Is(ev.Err, ErrClosed) {
		emit = true
	}
	l.setState(StateClosed)
	l.failPushes(ErrChannelClosed)
	subErr := waitErr
	if subErr == nil {
		subErr = ErrChannelClosed
	}
	for _, w := range l.subWaiters {
		w <- subErr
	}
	l.subWaiters = nil
	for _, w := range l.leaveWaiters {
		w <- nil
	}
	l.leaveWaiters = nil
	c.mu.Lock()
	c.dead = true
	ls := slices.Clone(c.closes)
	c.mu.Unlock()
	if emit {
		c.emitStatus(Closed, ev.Err)
		c.emit(func() {
			for _, fn := range ls {
				fn(ev)
			}
		})
	}
	c.sock.removeChannel(c)
	close(c.loopDone)
	return true
}

func (l *chanLoop) failPushes(err error) {
	for ref, w := range l.pushes {
		w <- err
		delete(l.pushes, ref)
	}
}

func replyError(r phx.ReplyPayload) error {
	if r.Status == phx.StatusOK {
		return nil
	}
	var resp struct {
		Reason string `json:"reason"`
	}
	json.Unmarshal(r.Response, &resp)
	if resp.Reason == "" {
		resp.Reason = strings.TrimSpace(string(r.Response))
	}
	return fmt.Errorf("%w: server refused: %s", ErrInvalid, resp.Reason)
}

func (l *chanLoop) sendBroadcast(payload json.RawMessage) trackReply {
	if l.state != StateJoined {
		if !l.want {
			return trackReply{err: ErrChannelClosed}
		}
		return trackReply{err: ErrNotJoined}
	}
	ref := l.c.sock.nextRef()
	if err := l.send(phx.Message{JoinRef: l.joinRef, Ref: ref, Topic: l.c.topic, Event: phx.EventBroadcast, Payload: payload}); err != nil {
		return trackReply{err: err}
	}
	if !l.c.opts.BroadcastAck {
		return trackReply{}
	}
	wait := make(chan error, 1)
	l.pushes[ref] = wait
	return trackReply{wait: wait}
}

// trackCmd applies the presence budget to a Track/Untrack call.
func (l *chanLoop) trackCmd(payload json.RawMessage) trackReply {
	if !l.want {
		return trackReply{err: ErrChannelClosed}
	}
	l.trackAsked = true
	pendingBefore := l.trackTimer != nil || (l.state != StateJoined && !bytes.Equal(l.desired, l.sent))
	l.desired = payload
	if l.state != StateJoined {
		if pendingBefore {
			l.countCoalesced()
		}
		return trackReply{res: TrackResult{Deferred: true}}
	}
	if bytes.Equal(payload, l.sent) {
		// Nothing to send; a deferred push would only repeat what the server has.
		stopTimer(&l.trackTimer)
		return trackReply{res: TrackResult{Unchanged: true}}
	}
	now := time.Now()
	if l.trackTimer == nil && l.budget.allow(now) {
		wait := make(chan error, 1)
		l.pushPresence(wait)
		return trackReply{res: TrackResult{Sent: true}, wait: wait}
	}
	if l.trackTimer != nil {
		l.countCoalesced()
	}
	at := l.budget.next(now)
	if l.trackTimer == nil {
		l.trackTimer = time.NewTimer(time.Until(at))
	}
	return trackReply{res: TrackResult{Deferred: true, SendAt: at}}
}

func (l *chanLoop) countCoalesced() {
	l.c.mu.Lock()
	l.c.stats.PresenceCoalesced++
	l.c.mu.Unlock()
}

// flushTrack sends the latest deferred payload once the budget allows it.
func (l *chanLoop) flushTrack() {
	if l.state != StateJoined || bytes.Equal(l.desired, l.sent) {
		return
	}
	now := time.Now()
	if !l.budget.allow(now) {
		l.trackTimer = time.NewTimer(time.Until(l.budget.next(now)))
		return
	}
	l.pushPresence(nil)
}

// pushPresence sends the desired presence (track, or untrack when nil) and records it in the
// budget; wait, if not nil, receives the server's reply.
func (l *chanLoop) pushPresence(wait chan error) {
	c := l.c
	stopTimer(&l.trackTimer)
	p := phx.PresencePush{Type: "presence", Event: phx.PresenceTrack, Payload: l.desired}
	if l.desired == nil {
		p.Event = phx.PresenceUntrack
	}
	ref := c.sock.nextRef()
	if err := l.send(phx.Message{JoinRef: l.joinRef, Ref: ref, Topic: c.topic, Event: phx.EventPresence, Payload: mustPayload(p)}); err != nil {
		if wait != nil {
			wait <- err
		}
		return
	}
	l.budget.record(time.Now())
	l.sent = l.desired
	c.mu.Lock()
	c.stats.PresenceSent++
	c.mu.Unlock()
	if wait == nil {
		wait = make(chan error, 1) // the reply is only logged
	}
	l.pushes[ref] = wait
}

func mustPayload(v any) json.RawMessage {
	p, err := phx.Payload(v)
	if err != nil {
		// Only called with the fixed payload types above, which always encode.
		panic("realtime: " + err.Error())
	}
	return p
}

// budget is a sliding-window limit on presence pushes. It keeps a safety margin of a tenth of
// the window so that send-time jitter (queueing, the network) cannot squeeze one push too
// many into the server's window.
type budget struct {
	limit  int
	window time.Duration
	sends  []time.Time
}

func (b *budget) span() time.Duration { return b.window + b.window/10 }

func (b *budget) prune(now time.Time) {
	i := 0
	for i < len(b.sends) && now.Sub(b.sends[i]) >= b.span() {
		i++
	}
	b.sends = b.sends[i:]
}

func (b *budget) allow(now time.Time) bool {
	b.prune(now)
	return len(b.sends) < b.limit
}

func (b *budget) record(now time.Time) { b.sends = append(b.sends, now) }

// next is when the next push is allowed.
func (b *budget) next(now time.Time) time.Time {
	b.prune(now)
	if len(b.sends) < b.limit {
		return now
	}
	return b.sends[len(b.sends)-b.limit].Add(b.span())
}

func (b *budget) reset() { b.sends = nil }
