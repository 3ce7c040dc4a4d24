package rawclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/watchparty/watchparty/realtime/phx"
)

// Frame is one frame received by a Client.
type Frame struct {
	Msg    phx.Message
	Binary bool
	Raw    []byte
	At     time.Time
	// Err is set when the frame could not be decoded.
	Err error
}

// Reply decodes the frame's payload as a phx_reply payload.
func (f Frame) Reply() phx.ReplyPayload {
	var p phx.ReplyPayload
	_ = json.Unmarshal(f.Msg.Payload, &p)
	return p
}

// Payload decodes the frame's payload into a generic object.
func (f Frame) Payload() map[string]any {
	var m map[string]any
	_ = json.Unmarshal(f.Msg.Payload, &m)
	return m
}

// String shows the frame in tests' failure messages.
func (f Frame) String() string {
	if f.Err != nil {
		return "undecodable frame: " + f.Err.Error()
	}
	return fmt.Sprintf("[%q %q %q %q %s]", f.Msg.JoinRef, f.Msg.Ref, f.Msg.Topic, f.Msg.Event, f.Msg.Payload)
}

// DialOptions configure Dial.
type DialOptions struct {
	// Vsn is the protocol version; default "2.0.0".
	Vsn string
	// OnFrame, when set, receives every frame on the reader goroutine instead of the queue that
	// Next reads (the benchmark's clients). It must not block for long, and Frame.Raw is valid
	// only during the call (the read buffer is reused).
	OnFrame func(Frame)
	// NoDecode leaves Frame.Msg empty: OnFrame parses Raw itself.
	NoDecode bool
	// NoRead leaves the socket unread (a client that stopped reading).
	NoRead bool
	// HTTPClient is used for the handshake; nil means the default client.
	HTTPClient *http.Client
}

// Client is a Realtime client speaking Phoenix frames directly. Send, Push and Next are safe
// for concurrent use; frames arrive in order.
type Client struct {
	ws   *websocket.Conn
	ser  phx.Serializer
	ref  atomic.Int64
	wmu  sync.Mutex
	opts DialOptions

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	queue   []Frame
	notify  chan struct{}
	readErr error
}

// ErrClosed is returned by Next once the socket has closed and every frame was read; the close
// status is available from CloseStatus.
var ErrClosed = errors.New("socket closed")

// Dial opens a Realtime socket at url (see RealtimeURL; the vsn in opts must match the URL's).
func Dial(ctx context.Context, url string, opts DialOptions) (*Client, error) {
	if opts.Vsn == "" {
		opts.Vsn = phx.Vsn2
	}
	ser, err := phx.SerializerFor(opts.Vsn)
	if err != nil {
		return nil, err
	}
	ws, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: opts.HTTPClient})
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("dial: status %d: %w", resp.StatusCode, err)
		}
		return nil, fmt.Errorf("dial: %w", err)
	}
	ws.SetReadLimit(16 << 20)
	c := &Client{ws: ws, ser: ser, opts: opts, done: make(chan struct{}), notify: make(chan struct{}, 1)}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	if opts.NoRead {
		close(c.done)
		return c, nil
	}
	go c.readLoop()
	return c, nil
}

func (c *Client) readLoop() {
	defer close(c.done)
	var buf bytes.Buffer
	for {
		// No context: Close ends the read by closing the socket, and a read context would cost
		// a timer registration per frame (this loop runs for every benchmark client).
		typ, rd, err := c.ws.Reader(context.Background())
		if err == nil {
			buf.Reset()
			_, err = buf.ReadFrom(rd)
		}
		if err != nil {
			c.mu.Lock()
			c.readErr = err
			c.mu.Unlock()
			c.wake()
			return
		}
		data := buf.Bytes()
		if c.opts.OnFrame == nil {
			data = bytes.Clone(data)
		}
		f := Frame{Binary: typ == websocket.MessageBinary, Raw: data, At: time.Now()}
		if !c.opts.NoDecode {
			f.Msg, f.Err = c.ser.Decode(data, f.Binary)
		}
		if c.opts.OnFrame != nil {
			c.opts.OnFrame(f)
			continue
		}
		c.mu.Lock()
		c.queue = append(c.queue, f)
		c.mu.Unlock()
		c.wake()
	}
}

func (c *Client) wake() {
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

// Close closes the socket at once and waits for the reader to end. Safe to call twice.
func (c *Client) Close() {
	c.cancel()
	c.ws.CloseNow()
	<-c.done
}

// Done is closed when the socket has ended (after the last frame was handed over).
func (c *Client) Done() <-chan struct{} { return c.done }

// NextRef returns a fresh ref, as supabase-js's one counter per socket.
func (c *Client) NextRef() string { return strconv.FormatInt(c.ref.Add(1), 10) }

// Send encodes and writes m.
func (c *Client) Send(ctx context.Context, m phx.Message) error {
	data, binary, err := c.ser.Encode(m)
	if err != nil {
		return err
	}
	typ := websocket.MessageText
	if binary {
		typ = websocket.MessageBinary
	}
	return c.WriteRaw(ctx, typ, data)
}

// WriteRaw writes a frame as is.
func (c *Client) WriteRaw(ctx context.Context, typ websocket.MessageType, data []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.ws.Write(ctx, typ, data)
}

// Push sends event on topic with a fresh ref and returns the ref. payload is marshalled unless
// it is a json.RawMessage.
func (c *Client) Push(ctx context.Context, joinRef, topic, event string, payload any) (string, error) {
	raw, ok := payload.(json.RawMessage)
	if !ok {
		var err error
		if raw, err = json.Marshal(payload); err != nil {
			return "", err
		}
	}
	ref := c.NextRef()
	return ref, c.Send(ctx, phx.Message{JoinRef: joinRef, Ref: ref, Topic: topic, Event: event, Payload: raw})
}

// Next returns the next frame, or ErrClosed (wrapping the read error) once the socket has
// closed and the queue is empty.
func (c *Client) Next(ctx context.Context) (Frame, error) {
	for {
		c.mu.Lock()
		if len(c.queue) > 0 {
			f := c.queue[0]
			c.queue = c.queue[1:]
			c.mu.Unlock()
			return f, nil
		}
		rerr := c.readErr
		c.mu.Unlock()
		if rerr != nil {
			return Frame{}, fmt.Errorf("%w: %w", ErrClosed, rerr)
		}
		select {
		case <-c.notify:
		case <-ctx.Done():
			return Frame{}, fmt.Errorf("no frame: %w", ctx.Err())
		}
	}
}

// Await returns the first frame for which match is true, dropping the frames before it.
func (c *Client) Await(ctx context.Context, match func(Frame) bool) (Frame, error) {
	for {
		f, err := c.Next(ctx)
		if err != nil {
			return f, err
		}
		if match(f) {
			return f, nil
		}
	}
}

// Pending returns the frames received and not yet read, without removing them.
func (c *Client) Pending() []Frame {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Frame(nil), c.queue...)
}

// CloseStatus waits until the server closes the socket (draining frames) and returns the close
// code and reason; -1 when the socket ended without a close frame.
func (c *Client) CloseStatus(ctx context.Context) (websocket.StatusCode, string, error) {
	select {
	case <-c.done:
	case <-ctx.Done():
		return -1, "", fmt.Errorf("socket still open: %w", ctx.Err())
	}
	c.mu.Lock()
	err := c.readErr
	c.mu.Unlock()
	var ce websocket.CloseError
	if errors.As(err, &ce) {
		return ce.Code, ce.Reason, nil
	}
	return -1, "", err
}

// Join sends phx_join for topic with cfg (and token as access_token when not "") and waits for
// the reply. It returns the join ref and the reply payload.
func (c *Client) Join(ctx context.Context, topic string, cfg phx.JoinConfig, token string) (string, phx.ReplyPayload, error) {
	ref := c.NextRef()
	p := phx.JoinPayload{Config: cfg, AccessToken: token}
	if cfg.PostgresChanges == nil {
		p.Config.PostgresChanges = []phx.ChangeBinding{}
	}
	raw, err := json.Marshal(p)
	if err != nil {
		return "", phx.ReplyPayload{}, err
	}
	if err := c.Send(ctx, phx.Message{JoinRef: ref, Ref: ref, Topic: topic, Event: phx.EventJoin, Payload: raw}); err != nil {
		return "", phx.ReplyPayload{}, err
	}
	if c.opts.OnFrame != nil {
		return ref, phx.ReplyPayload{Status: phx.StatusOK}, nil // the caller's OnFrame sees the reply
	}
	f, err := c.Await(ctx, IsReply(ref))
	if err != nil {
		return ref, phx.ReplyPayload{}, err
	}
	return ref, f.Reply(), nil
}

// IsReply matches the phx_reply to ref.
func IsReply(ref string) func(Frame) bool {
	return func(f Frame) bool { return f.Msg.Event == phx.EventReply && f.Msg.Ref == ref }
}

// IsEvent matches frames of event on topic.
func IsEvent(topic, event string) func(Frame) bool {
	return func(f Frame) bool { return f.Msg.Topic == topic && f.Msg.Event == event }
}

// RoomTopic is the channel topic of a room.
func RoomTopic(roomID string) string { return "realtime:room:" + roomID }

// SeedBindings are the three postgres_changes bindings of the browser client (docs/design.md §1)
// for a room.
func SeedBindings(roomID string) []phx.ChangeBinding {
	var b []phx.ChangeBinding
	_ = json.Unmarshal([]byte(`[{"event":"UPDATE","schema":"public","table":"rooms","filter":"room_id=eq.`+roomID+`"},`+
		`{"event":"*","schema":"public","table":"room_members","filter":"room_id=eq.`+roomID+`"},`+
		`{"event":"INSERT","schema":"public","table":"comments","filter":"room_id=eq.`+roomID+`"}]`), &b)
	return b
}

// SeedConfig is the join config of the browser client's channel: its three bindings, presence keyed
// by the user id, broadcast to self.
func SeedConfig(roomID, userID string) phx.JoinConfig {
	return phx.JoinConfig{
		Broadcast:       phx.BroadcastConfig{Self: true},
		Presence:        phx.PresenceConfig{Key: userID, Enabled: true},
		PostgresChanges: SeedBindings(roomID),
	}
}

// RealtimeURL builds the Realtime WebSocket URL supabase-js connects to.
func RealtimeURL(baseURL, apiKey, vsn string) string {
	u := "ws" + baseURL[len("http"):] + "/realtime/v1/websocket?apikey=" + apiKey
	if vsn != "" {
		u += "&vsn=" + vsn
	}
	return u
}
