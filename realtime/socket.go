package realtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/watchparty/watchparty/realtime/phx"
)

// Defaults of SocketOptions, as supabase-js (realtime-js 2.119.0) uses them.
const (
	DefaultHeartbeatInterval = 25 * time.Second
	DefaultReplyTimeout      = 10 * time.Second
	DefaultReadLimit         = 8 << 20
	defaultJitter            = 0.2
	writeTimeout             = 10 * time.Second
	// closeGrace bounds the wait for the peer's close frame when the socket is closed.
	closeGrace = time.Second
	outboxSize = 256
)

// DefaultReconnectDelays is the wait before each reconnect attempt after a drop: 1, 2, 5, then
// 10 s for every later attempt (plus jitter). The count restarts when a connection opens.
var DefaultReconnectDelays = []time.Duration{time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second}

// DefaultRejoinDelays is the wait before rejoining a channel after a refused or unanswered
// join: 1, 2, 5, then 10 s (plus jitter).
var DefaultRejoinDelays = []time.Duration{time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second}

// errHeartbeatTimeout ends a connection whose heartbeat went unanswered.
var errHeartbeatTimeout = errors.New("heartbeat timeout")

// SocketOptions configure a Socket. Zero values take the defaults.
type SocketOptions struct {
	// HeartbeatInterval is the time between heartbeats (25 s). A heartbeat still unanswered
	// at the next tick ends the connection and starts a reconnect.
	HeartbeatInterval time.Duration
	// ReplyTimeout bounds the wait for a join, track or leave reply (10 s).
	ReplyTimeout time.Duration
	// ReconnectDelays and RejoinDelays are the backoff schedules; the last entry repeats.
	ReconnectDelays, RejoinDelays []time.Duration
	// Jitter is the largest random fraction added to each backoff delay (0.2, i.e. up to
	// +20 %) so that many clients do not reconnect in lock-step. Negative means none.
	Jitter float64
	// ReadLimit is the largest frame accepted (8 MiB; coder/websocket's default is 32 KiB,
	// too small for change events).
	ReadLimit int64
	// AccessToken is the token for joins until SetAuth changes it; "" means the API key.
	AccessToken string
	// Params are extra query parameters for the socket URL (supabase-js's realtime.params).
	Params url.Values
	// HTTPClient dials the WebSocket; nil means a default client.
	HTTPClient *http.Client
	// Logger receives connection logs; nil discards them.
	Logger *slog.Logger
}

func (o *SocketOptions) defaults() {
	if o.HeartbeatInterval <= 0 {
		o.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if o.ReplyTimeout <= 0 {
		o.ReplyTimeout = DefaultReplyTimeout
	}
	if len(o.ReconnectDelays) == 0 {
		o.ReconnectDelays = DefaultReconnectDelays
	}
	if len(o.RejoinDelays) == 0 {
		o.RejoinDelays = DefaultRejoinDelays
	}
	if o.Jitter == 0 {
		o.Jitter = defaultJitter
	}
	if o.ReadLimit <= 0 {
		o.ReadLimit = DefaultReadLimit
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
}

// Status is a Socket's connection status.
type Status int

// Connection statuses.
const (
	// StatusConnecting: dialing.
	StatusConnecting Status = iota
	// StatusConnected: the WebSocket is open; channels (re)join.
	StatusConnected
	// StatusReconnecting: waiting until ConnState.RetryAt before dialing again.
	StatusReconnecting
	// StatusClosed: Close was called; final.
	StatusClosed
)

// String returns "connecting", "connected", "reconnecting" or "closed".
func (s Status) String() string {
	switch s {
	case StatusConnecting:
		return "connecting"
	case StatusConnected:
		return "connected"
	case StatusReconnecting:
		return "reconnecting"
	case StatusClosed:
		return "closed"
	}
	return "status(" + strconv.Itoa(int(s)) + ")"
}

// ConnState is a Socket's connection state, for display ("reconnecting in 4 s") and logic.
type ConnState struct {
	Status Status
	// RetryAt is when the next dial starts (StatusReconnecting only).
	RetryAt time.Time
	// Failures counts dials that failed since the last open connection.
	Failures int
	// Err is why the last connection ended or the last dial failed; nil before the first.
	Err error
	// Since is when the socket entered this state.
	Since time.Time
}

// Socket is one Phoenix WebSocket to Supabase Realtime (or the embedded server), with its
// channels. It connects in the background as soon as it is created and reconnects forever on
// the backoff schedule until Close; channels rejoin after every reconnect.
//
// Goroutines: one manager for the socket's lifetime, plus one reader and one writer per open
// connection. All of them end before Close returns. All methods are safe for concurrent use.
type Socket struct {
	endpoint string
	apiKey   string
	opts     SocketOptions
	ser      phx.Serializer
	log      *slog.Logger

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // manager, connection goroutines and channel goroutines

	ref atomic.Uint64

	mu       sync.Mutex
	state    ConnState
	changed  chan struct{} // closed and replaced on every state change
	conn     *connection   // the open connection, or nil
	channels map[string]*Channel
	token    string
	closed   bool
	onClose  func(*Socket) // set by Client.NewSocket
}

// NewSocket starts a socket to the Realtime endpoint of baseURL (the project URL, e.g.
// "http://127.0.0.1:54321"; http becomes ws and https wss) with the API key apiKey. It
// returns at once: watch the connection with State, Watch or WaitConnected.
func NewSocket(baseURL, apiKey string, opts SocketOptions) (*Socket, error) {
	endpoint, err := socketURL(baseURL, apiKey, opts.Params)
	if err != nil {
		return nil, err
	}
	opts.defaults()
	ser, err := phx.SerializerFor(phx.Vsn2)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Socket{
		endpoint: endpoint, apiKey: apiKey, opts: opts, ser: ser, log: opts.Logger,
		ctx: ctx, cancel: cancel,
		state:    ConnState{Status: StatusConnecting, Since: time.Now()},
		changed:  make(chan struct{}),
		channels: map[string]*Channel{},
		token:    opts.AccessToken,
	}
	s.wg.Add(1)
	go s.run()
	return s, nil
}

// socketURL builds …/realtime/v1/websocket?apikey=…[&params]&vsn=2.0.0 as supabase-js does.
func socketURL(baseURL, apiKey string, params url.Values) (string, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil {
		return "", fmt.Errorf("bad server url: %w", err)
	}
	switch u.Scheme {
	case "http", "ws":
		u.Scheme = "ws"
	case "https", "wss":
		u.Scheme = "wss"
	default:
		return "", fmt.Errorf("bad server url %q: want http or https", baseURL)
	}
	if u.Host == "" {
		return "", fmt.Errorf("bad server url %q: no host", baseURL)
	}
	u.Path += "/realtime/v1/websocket"
	var q strings.Builder
	q.WriteString("apikey=")
	q.WriteString(url.QueryEscape(apiKey))
	for k, vs := range params {
		for _, v := range vs {
			q.WriteString("&" + url.QueryEscape(k) + "=" + url.QueryEscape(v))
		}
	}
	q.WriteString("&vsn=" + phx.Vsn2)
	u.RawQuery = q.String()
	return u.String(), nil
}

// State returns the current connection state.
func (s *Socket) State() ConnState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

// Watch returns the current connection state and a channel that is closed at the next
// change. Call it again after each change to keep watching; no change is ever missed.
func (s *Socket) Watch() (ConnState, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state, s.changed
}

// WaitConnected blocks until the socket is connected, ctx ends (its error is returned) or the
// socket is closed (ErrClosed).
func (s *Socket) WaitConnected(ctx context.Context) error {
	for {
		st, ch := s.Watch()
		switch st.Status {
		case StatusConnected:
			return nil
		case StatusClosed:
			return ErrClosed
		}
		select {
		case <-ch:
		case <-ctx.Done():
			if st.Err != nil {
				return fmt.Errorf("%w (last error: %v)", ctx.Err(), st.Err)
			}
			return ctx.Err()
		}
	}
}

func (s *Socket) setState(st ConnState) {
	st.Since = time.Now()
	s.mu.Lock()
	if s.state.Status == StatusClosed {
		s.mu.Unlock()
		return
	}
	s.state = st
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
	s.log.Debug("realtime socket", "status", st.Status.String(), "err", st.Err)
}

// SetAuth sets the token sent in joins and, when it changed, pushes it as access_token on
// every joined channel (a refreshed user JWT; "" means the API key).
func (s *Socket) SetAuth(token string) {
	s.mu.Lock()
	if token == s.token || s.closed {
		s.mu.Unlock()
		return
	}
	s.token = token
	chans := s.channelList()
	s.mu.Unlock()
	for _, ch := range chans {
		ch.inbox.push(evToken{})
	}
}

// accessToken is the token joins carry: the user JWT, or the API key without a session.
func (s *Socket) accessToken() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token == "" {
		return s.apiKey
	}
	return s.token
}

// Close closes the connection and every channel and waits for all goroutines to end. Listener
// calls not yet made are dropped. Safe to call more than once, but not from a listener.
func (s *Socket) Close() error {
	s.mu.Lock()
	s.closed = true
	onClose := s.onClose
	s.onClose = nil
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	if onClose != nil {
		onClose(s)
	}
	return nil
}

// Channel returns the channel for topic "realtime:"+name (name like "room:abc123def4"),
// creating it with opts if there is none open. Calling it again with the same name returns
// the same channel until that channel is closed; opts are then ignored.
func (s *Socket) Channel(name string, opts ChannelOptions) *Channel {
	topic := "realtime:" + name
	s.mu.Lock()
	defer s.mu.Unlock()
	if ch := s.channels[topic]; ch != nil {
		return ch
	}
	ch := newChannel(s, topic, opts)
	if s.closed {
		ch.dead = true
		return ch
	}
	s.channels[topic] = ch
	if s.conn != nil {
		ch.inbox.push(evConnUp{s.conn})
	}
	return ch
}

// removeChannel forgets ch once it is closed, so Channel makes a new one.
func (s *Socket) removeChannel(ch *Channel) {
	s.mu.Lock()
	if s.channels[ch.topic] == ch {
		delete(s.channels, ch.topic)
	}
	s.mu.Unlock()
}

// channelList returns the channels; the caller holds s.mu.
func (s *Socket) channelList() []*Channel {
	out := make([]*Channel, 0, len(s.channels))
	for _, ch := range s.channels {
		out = append(out, ch)
	}
	return out
}

func (s *Socket) nextRef() string { return strconv.FormatUint(s.ref.Add(1), 10) }

// backoff returns schedule[attempt] (the last entry repeats) with jitter added.
func (s *Socket) backoff(schedule []time.Duration, attempt int) time.Duration {
	if attempt >= len(schedule) {
		attempt = len(schedule) - 1
	}
	d := schedule[attempt]
	if s.opts.Jitter > 0 {
		d += time.Duration(rand.Float64() * s.opts.Jitter * float64(d))
	}
	return d
}

// run is the manager: dial, serve the connection, wait, dial again, until Close.
func (s *Socket) run() {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		s.state = ConnState{Status: StatusClosed, Err: ErrClosed, Since: time.Now()}
		close(s.changed)
		s.changed = make(chan struct{})
		s.mu.Unlock()
	}()
	failures := 0
	for {
		s.setState(ConnState{Status: StatusConnecting, Failures: failures, Err: s.State().Err})
		c, err := s.dial()
		if s.ctx.Err() != nil {
			if c != nil {
				c.ws.CloseNow()
			}
			return
		}
		if err == nil {
			failures = 0
			err = s.serve(c)
			if s.ctx.Err() != nil {
				return
			}
		}
		delay := s.backoff(s.opts.ReconnectDelays, failures)
		failures++
		s.log.Info("realtime disconnected", "err", err, "retry_in", delay.Round(time.Millisecond))
		s.setState(ConnState{Status: StatusReconnecting, RetryAt: time.Now().Add(delay), Failures: failures - 1, Err: err})
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-s.ctx.Done():
			t.Stop()
			return
		}
	}
}

func (s *Socket) dial() (*connection, error) {
	ctx, cancel := context.WithTimeout(s.ctx, s.opts.ReplyTimeout)
	defer cancel()
	ws, resp, err := websocket.Dial(ctx, s.endpoint, &websocket.DialOptions{HTTPClient: s.opts.HTTPClient})
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			return nil, fmt.Errorf("connect: %s", resp.Status)
		}
		return nil, fmt.Errorf("connect: %w", err)
	}
	ws.SetReadLimit(s.opts.ReadLimit)
	return newConnection(ws), nil
}

// serve runs one open connection until it ends, sending heartbeats; it returns why it ended.
func (s *Socket) serve(c *connection) error {
	s.mu.Lock()
	s.conn = c
	chans := s.channelList()
	s.mu.Unlock()
	s.setState(ConnState{Status: StatusConnected})
	s.log.Info("realtime connected")

	s.wg.Add(2)
	go func() { defer s.wg.Done(); s.readLoop(c) }()
	go func() { defer s.wg.Done(); c.writeLoop() }()
	for _, ch := range chans {
		ch.inbox.push(evConnUp{c})
	}

	hbReplies := make(chan string, 4)
	pendingHB := ""
	tick := time.NewTicker(s.opts.HeartbeatInterval)
	defer tick.Stop()
	var err error
loop:
	for {
		select {
		case <-s.ctx.Done():
			c.end(ErrClosed)
			// A normal close, as supabase-js's disconnect(). A peer that never answers the
			// close frame is cut off after closeGrace: cancelling the read closes the conn.
			t := time.AfterFunc(closeGrace, c.cancelRead)
			c.ws.Close(websocket.StatusNormalClosure, "")
			t.Stop()
			err = ErrClosed
			break loop
		case <-c.done:
			err = c.err
			break loop
		case ref := <-hbReplies:
			if ref == pendingHB {
				pendingHB = ""
			}
		case <-tick.C:
			if pendingHB != "" {
				s.log.Warn("realtime heartbeat timeout")
				c.end(errHeartbeatTimeout)
				err = errHeartbeatTimeout
				break loop
			}
			ref := s.nextRef()
			pendingHB = ref
			c.register(ref, func(phx.Message) {
				select {
				case hbReplies <- ref:
				default:
				}
			})
			c.send(s.ser, phx.Message{Ref: ref, Topic: phx.TopicPhoenix, Event: phx.EventHeartbeat})
		}
	}
	c.ws.CloseNow()
	c.cancelRead()
	s.mu.Lock()
	s.conn = nil
	chans = s.channelList()
	s.mu.Unlock()
	for _, ch := range chans {
		ch.inbox.push(evConnDown{c, err})
	}
	return err
}

// readLoop reads frames until the connection fails and routes them: replies to whoever
// registered the ref, everything else to the topic's channel. It never blocks on a consumer.
func (s *Socket) readLoop(c *connection) {
	for {
		typ, data, err := c.ws.Read(c.readCtx)
		if err != nil {
			c.end(readError(err))
			return
		}
		m, err := s.ser.Decode(data, typ == websocket.MessageBinary)
		if err != nil {
			s.log.Warn("realtime: dropping a frame", "err", err)
			continue
		}
		if m.Event == phx.EventReply {
			if fn := c.take(m.Ref); fn != nil {
				fn(m)
				continue
			}
		}
		s.mu.Lock()
		ch := s.channels[m.Topic]
		s.mu.Unlock()
		if ch != nil {
			ch.inbox.push(evMessage{c, m})
		}
	}
}

// readError words why a read ended: the close code and reason when the peer sent one.
func readError(err error) error {
	var ce websocket.CloseError
	if errors.As(err, &ce) {
		if ce.Reason != "" {
			return fmt.Errorf("socket closed: %d %s", int(ce.Code), ce.Reason)
		}
		return fmt.Errorf("socket closed: %d", int(ce.Code))
	}
	return fmt.Errorf("socket closed: %w", err)
}

// connection is one open WebSocket: its outbox and the replies awaited on it.
type connection struct {
	ws   *websocket.Conn
	out  chan outFrame
	done chan struct{} // closed by end
	once sync.Once
	err  error // why it ended; read after done

	// readCtx is the reader's context; cancelling it closes the connection.
	readCtx    context.Context
	cancelRead context.CancelFunc

	mu      sync.Mutex
	pending map[string]func(phx.Message)
}

type outFrame struct {
	data   []byte
	binary bool
}

func newConnection(ws *websocket.Conn) *connection {
	c := &connection{ws: ws, out: make(chan outFrame, outboxSize), done: make(chan struct{}), pending: map[string]func(phx.Message){}}
	c.readCtx, c.cancelRead = context.WithCancel(context.Background())
	return c
}

// end marks the connection finished (the first reason wins) and wakes everyone waiting on it.
func (c *connection) end(err error) {
	c.once.Do(func() {
		c.err = err
		close(c.done)
		c.mu.Lock()
		c.pending = nil
		c.mu.Unlock()
	})
}

// register asks for the reply to ref to be passed to fn, on the reader goroutine; fn must not
// block. Replies that never come are forgotten when the connection ends.
func (c *connection) register(ref string, fn func(phx.Message)) {
	c.mu.Lock()
	if c.pending != nil {
		c.pending[ref] = fn
	}
	c.mu.Unlock()
}

func (c *connection) take(ref string) func(phx.Message) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fn := c.pending[ref]
	delete(c.pending, ref)
	return fn
}

// send encodes m and queues it for the writer. It blocks only while the outbox is full, which
// lasts at most the write timeout: then the connection ends and send returns ErrDisconnected.
func (c *connection) send(ser phx.Serializer, m phx.Message) error {
	data, binary, err := ser.Encode(m)
	if err != nil {
		return fmt.Errorf("encode %s: %w", m.Event, err)
	}
	select {
	case <-c.done:
		return ErrDisconnected
	default:
	}
	select {
	case c.out <- outFrame{data, binary}:
		return nil
	case <-c.done:
		return ErrDisconnected
	}
}

func (c *connection) writeLoop() {
	for {
		select {
		case f := <-c.out:
			typ := websocket.MessageText
			if f.binary {
				typ = websocket.MessageBinary
			}
			ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
			err := c.ws.Write(ctx, typ, f.data)
			cancel()
			if err != nil {
				c.end(fmt.Errorf("write: %w", err))
				return
			}
		case <-c.done:
			return
		}
	}
}
