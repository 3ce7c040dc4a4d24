package player

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"sync"
)

// maxLine bounds one JSON line from mpv. Replies to the properties we use are
// tiny; the bound only stops a broken peer from growing memory without end.
const maxLine = 16 << 20

// message is one JSON line from mpv: either a reply (request_id, error,
// data) or an event (event plus event-specific fields).
type message struct {
	Event     string          `json:"event"`
	RequestID int64           `json:"request_id"`
	Error     string          `json:"error"`
	Data      json.RawMessage `json:"data"`

	// property-change
	ID   int64  `json:"id"`
	Name string `json:"name"`
	// start-file, end-file
	PlaylistEntryID int64 `json:"playlist_entry_id"`
	// end-file
	Reason    string `json:"reason"`
	FileError string `json:"file_error"`
}

// hasData reports whether the message carries a value. mpv omits "data" for
// a property that is unavailable (e.g. time-pos while idle); null is treated
// the same way.
func (m *message) hasData() bool {
	return len(m.Data) > 0 && string(m.Data) != "null"
}

// request is what we write: one JSON object per line.
type request struct {
	Command   any   `json:"command"`
	RequestID int64 `json:"request_id"`
}

type reply struct {
	data json.RawMessage
	err  error
}

// replyHook runs on the reader goroutine when the reply to a call arrives,
// before any later line is read. It lets the Player order its bookkeeping
// exactly against mpv's event stream. err is nil on success.
type replyHook func(data json.RawMessage, err error)

type pendingCall struct {
	ch   chan reply // buffered 1: the reader never blocks on it
	name string
	hook replyHook
}

// conn is one JSON IPC connection to mpv. One goroutine reads; any number
// of goroutines may call concurrently. Each request is a single Write under
// a mutex, because mpv answers only the first of two objects on one line.
type conn struct {
	nc      net.Conn
	onEvent func(message) // on the reader goroutine, in order; must not block
	onClose func(error)   // on the reader goroutine, once, after pending calls failed

	wmu sync.Mutex // one request per Write

	mu      sync.Mutex
	nextID  int64
	pending map[int64]*pendingCall // nil once closed
	err     error                  // why the connection ended
	done    chan struct{}
}

// newConn wraps nc and starts the reader goroutine. onEvent receives every
// event line in order on the reader goroutine and must return quickly.
func newConn(nc net.Conn, onEvent func(message), onClose func(error)) *conn {
	c := &conn{
		nc:      nc,
		onEvent: onEvent,
		onClose: onClose,
		pending: make(map[int64]*pendingCall),
		done:    make(chan struct{}),
	}
	go c.readLoop()
	return c
}

func (c *conn) readLoop() {
	sc := bufio.NewScanner(c.nc)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	for sc.Scan() {
		var m message
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			continue // mpv only sends JSON lines; skip anything else
		}
		if m.Event != "" {
			c.onEvent(m)
			continue
		}
		c.deliver(&m)
	}
	err := sc.Err()
	if err == nil {
		err = io.EOF
	}
	c.shutdown(fmt.Errorf("%w: %w", ErrClosed, err))
}

func (c *conn) deliver(m *message) {
	c.mu.Lock()
	pc := c.pending[m.RequestID]
	delete(c.pending, m.RequestID)
	c.mu.Unlock()
	if pc == nil {
		return // a call that gave up, or a request_id we never sent
	}
	var r reply
	if m.Error != "success" {
		r.err = &CommandError{Command: pc.name, Message: m.Error}
	} else {
		r.data = m.Data
	}
	if pc.hook != nil {
		pc.hook(r.data, r.err)
	}
	pc.ch <- r
}

// shutdown fails every pending call, closes done and reports once.
func (c *conn) shutdown(err error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	err = c.err
	pending := c.pending
	c.pending = nil
	c.mu.Unlock()
	_ = c.nc.Close()
	for _, pc := range pending {
		if pc.hook != nil {
			pc.hook(nil, err)
		}
		pc.ch <- reply{err: err}
	}
	close(c.done)
	if c.onClose != nil {
		c.onClose(err)
	}
}

// call sends command (a []any of positional arguments, or a map for a
// named-argument command) and waits for mpv's reply or ctx. name is used in
// errors. hook, when not nil, runs on the reader goroutine with the reply
// (or with the close error); it runs even if ctx ends first.
func (c *conn) call(ctx context.Context, name string, command any, hook replyHook) (json.RawMessage, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	pc := &pendingCall{ch: make(chan reply, 1), name: name, hook: hook}
	c.mu.Lock()
	if c.pending == nil {
		err := c.err
		c.mu.Unlock()
		return nil, err
	}
	c.nextID++
	id := c.nextID
	c.pending[id] = pc
	c.mu.Unlock()

	line, err := json.Marshal(request{Command: command, RequestID: id})
	if err != nil {
		c.forget(id)
		return nil, fmt.Errorf("encode mpv %s: %w", name, err)
	}
	line = append(line, '\n')

	// A write blocks only if mpv stops reading; the ctx deadline bounds
	// that (a cancel without deadline cannot interrupt it).
	c.wmu.Lock()
	deadline, _ := ctx.Deadline() // zero: no deadline
	_ = c.nc.SetWriteDeadline(deadline)
	_, err = c.nc.Write(line)
	c.wmu.Unlock()
	if err != nil {
		// A partial write would leave half a request in mpv's input:
		// the connection cannot be trusted any more.
		_ = c.nc.Close()
		<-c.done
		return nil, fmt.Errorf("send mpv %s: %w", name, c.Err())
	}

	select {
	case r := <-pc.ch:
		return r.data, r.err
	case <-ctx.Done():
		if hook == nil {
			c.forget(id)
		} // else keep it: the hook must still see the reply
		return nil, ctx.Err()
	}
}

func (c *conn) forget(id int64) {
	c.mu.Lock()
	if c.pending != nil {
		delete(c.pending, id)
	}
	c.mu.Unlock()
}

// Done is closed when the connection has ended and every pending call failed.
func (c *conn) Done() <-chan struct{} { return c.done }

// Err returns why the connection ended, or nil while it is open.
func (c *conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Close ends the connection and waits for the reader to finish. Calls in
// flight fail with ErrClosed.
func (c *conn) Close() error {
	c.mu.Lock()
	if c.err == nil {
		c.err = ErrClosed
	}
	c.mu.Unlock()
	_ = c.nc.Close()
	<-c.done
	return nil
}

// getProperty reads one property into v.
func (c *conn) getProperty(ctx context.Context, name string, v any) error {
	data, err := c.call(ctx, "get_property "+name, []any{"get_property", name}, nil)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decode mpv property %s: %w", name, err)
	}
	return nil
}

// setProperty sets one property.
func (c *conn) setProperty(ctx context.Context, name string, v any, hook replyHook) error {
	_, err := c.call(ctx, "set_property "+name, []any{"set_property", name, v}, hook)
	return err
}
