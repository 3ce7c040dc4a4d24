package realtime

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/watchparty/watchparty/realtime/phx"
)

// clientVersion is sent as the join payload's "version" (the server ignores it).
const clientVersion = "watchparty-realtime-go/1"

// defaultQueueWarn is the handler-queue length at which a channel logs that its handlers are
// falling behind.
const defaultQueueWarn = 1000

// Channel is one Realtime channel (topic "realtime:<name>") on a Socket. Add listeners, then
// Subscribe; the channel rejoins by itself after reconnects and refused joins, and re-tracks
// its presence after each rejoin. Once closed (Unsubscribe, or by the server) it stays closed.
//
// Listeners run in the order events arrive, one at a time, on one goroutine per channel;
// they never block the socket (events queue up, see Stats). A listener may call any Channel
// method, but not Socket.Close or Client.Close, which wait for the listener goroutines. All
// methods are safe for concurrent use.
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
		return c.closedError()
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
		return nil // already closed, by the server or with the socket
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
