// Package fakempv is an mpv stand-in for tests: a unix-socket server that speaks mpv's JSON IPC
// line protocol with JSON shapes recorded from mpv 0.35.1. New serves requests with a handler of
// the test's own; Sim is a handler that behaves like a playing mpv (properties, pause, speed,
// seeks) and can be made to hang, so packages that drive a player.Player can be tested without
// mpv. It imports no project package.
package fakempv

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"path/filepath"
	"sync"
	"testing"
)

// Request is one request line received by the fake mpv.
type Request struct {
	ID      int64
	Command []any          // positional form
	Named   map[string]any // named-argument form
}

// Name is the command name in either form.
func (r Request) Name() string {
	if r.Named != nil {
		s, _ := r.Named["name"].(string)
		return s
	}
	if len(r.Command) > 0 {
		s, _ := r.Command[0].(string)
		return s
	}
	return ""
}

// Arg returns positional argument i (after the name) as a string.
func (r Request) Arg(i int) string {
	if i+1 >= len(r.Command) {
		return ""
	}
	return fmt.Sprint(r.Command[i+1])
}

// Conn is the fake's side of one client connection.
type Conn struct {
	nc  net.Conn
	wmu sync.Mutex
}

// Send writes one raw line (a newline is added).
func (fc *Conn) Send(line string) {
	fc.wmu.Lock()
	defer fc.wmu.Unlock()
	_, _ = fc.nc.Write([]byte(line + "\n"))
}

// OK replies success with data (nil: no data key, as set_property does).
func (fc *Conn) OK(id int64, data any) {
	if data == nil {
		fc.Send(fmt.Sprintf(`{"request_id":%d,"error":"success"}`, id))
		return
	}
	b, _ := json.Marshal(data)
	fc.Send(fmt.Sprintf(`{"data":%s,"request_id":%d,"error":"success"}`, b, id))
}

// Fail replies with mpv's error string.
func (fc *Conn) Fail(id int64, msg string) {
	fc.Send(fmt.Sprintf(`{"request_id":%d,"error":%q}`, id, msg))
}

// Server is the fake mpv's socket. Handle runs for each request on the connection's reading
// goroutine, so requests are handled in order, as mpv does.
type Server struct {
	t      testing.TB
	Path   string // the socket to dial (or attach a player to)
	ln     *net.UnixListener
	handle func(fc *Conn, r Request)

	mu    sync.Mutex
	conns []*Conn
	wg    sync.WaitGroup
}

// New listens on a socket in t's temporary directory and serves every connection with handle
// until the test ends.
func New(t testing.TB, handle func(fc *Conn, r Request)) *Server {
	t.Helper()
	path := filepath.Join(t.TempDir(), "mpv.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	f := &Server{t: t, Path: path, ln: ln, handle: handle}
	f.wg.Add(1)
	go f.accept()
	t.Cleanup(f.Close)
	return f
}

func (f *Server) accept() {
	defer f.wg.Done()
	for {
		nc, err := f.ln.Accept()
		if err != nil {
			return
		}
		fc := &Conn{nc: nc}
		f.mu.Lock()
		f.conns = append(f.conns, fc)
		f.mu.Unlock()
		f.wg.Add(1)
		go f.serve(fc)
	}
}

func (f *Server) serve(fc *Conn) {
	defer f.wg.Done()
	sc := bufio.NewScanner(fc.nc)
	for sc.Scan() {
		line := sc.Bytes()
		dec := json.NewDecoder(bytes.NewReader(line))
		var raw struct {
			Command   json.RawMessage `json:"command"`
			RequestID int64           `json:"request_id"`
		}
		if err := dec.Decode(&raw); err != nil {
			f.t.Errorf("fake mpv: bad JSON line %q: %v", line, err)
			continue
		}
		if dec.More() || dec.InputOffset() != int64(len(bytes.TrimRight(line, " \r"))) {
			f.t.Errorf("fake mpv: more than one JSON object on a line: %q", line)
		}
		r := Request{ID: raw.RequestID}
		if err := json.Unmarshal(raw.Command, &r.Command); err != nil {
			if err := json.Unmarshal(raw.Command, &r.Named); err != nil {
				f.t.Errorf("fake mpv: command is neither array nor object: %s", raw.Command)
				continue
			}
		}
		f.handle(fc, r)
	}
}

// Conn returns the i-th accepted connection (nil if none yet).
func (f *Server) Conn(i int) *Conn {
	f.mu.Lock()
	defer f.mu.Unlock()
	if i >= len(f.conns) {
		return nil
	}
	return f.conns[i]
}

// DropAll closes every client connection, as mpv dying would.
func (f *Server) DropAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, fc := range f.conns {
		_ = fc.nc.Close()
	}
}

// Close stops listening, drops every connection and waits for the server's goroutines. New
// registers it with t.Cleanup; calling it earlier is allowed.
func (f *Server) Close() {
	_ = f.ln.Close()
	f.DropAll()
	f.wg.Wait()
}

// Drop closes this connection, as mpv dying would.
func (fc *Conn) Drop() { _ = fc.nc.Close() }
