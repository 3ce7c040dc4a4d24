package player

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

// fakeRequest is one request line received by the fake mpv.
type fakeRequest struct {
	ID      int64
	Command []any          // positional form
	Named   map[string]any // named-argument form
}

// Name is the command name in either form.
func (r fakeRequest) Name() string {
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
func (r fakeRequest) Arg(i int) string {
	if i+1 >= len(r.Command) {
		return ""
	}
	return fmt.Sprint(r.Command[i+1])
}

// fakeConn is the fake's side of one client connection.
type fakeConn struct {
	nc  net.Conn
	wmu sync.Mutex
}

// send writes one raw line (a newline is added).
func (fc *fakeConn) send(line string) {
	fc.wmu.Lock()
	defer fc.wmu.Unlock()
	_, _ = fc.nc.Write([]byte(line + "\n"))
}

// ok replies success with data (nil: no data key, as set_property does).
func (fc *fakeConn) ok(id int64, data any) {
	if data == nil {
		fc.send(fmt.Sprintf(`{"request_id":%d,"error":"success"}`, id))
		return
	}
	b, _ := json.Marshal(data)
	fc.send(fmt.Sprintf(`{"data":%s,"request_id":%d,"error":"success"}`, b, id))
}

// fail replies with mpv's error string.
func (fc *fakeConn) fail(id int64, msg string) {
	fc.send(fmt.Sprintf(`{"request_id":%d,"error":%q}`, id, msg))
}

// fakeMPV is a unix-socket server that speaks mpv's JSON IPC line protocol
// with JSON shapes recorded from mpv 0.35.1. handle runs for each request on
// the connection's reading goroutine, so requests are handled in order, as
// mpv does.
type fakeMPV struct {
	t      testing.TB
	path   string
	ln     *net.UnixListener
	handle func(fc *fakeConn, r fakeRequest)

	mu    sync.Mutex
	conns []*fakeConn
	wg    sync.WaitGroup
}

func newFakeMPV(t testing.TB, handle func(fc *fakeConn, r fakeRequest)) *fakeMPV {
	t.Helper()
	path := filepath.Join(t.TempDir(), "mpv.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	f := &fakeMPV{t: t, path: path, ln: ln, handle: handle}
	f.wg.Add(1)
	go f.accept()
	t.Cleanup(f.close)
	return f
}

func (f *fakeMPV) accept() {
	defer f.wg.Done()
	for {
		nc, err := f.ln.Accept()
		if err != nil {
			return
		}
		fc := &fakeConn{nc: nc}
		f.mu.Lock()
		f.conns = append(f.conns, fc)
		f.mu.Unlock()
		f.wg.Add(1)
		go f.serve(fc)
	}
}

func (f *fakeMPV) serve(fc *fakeConn) {
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
		r := fakeRequest{ID: raw.RequestID}
		if err := json.Unmarshal(raw.Command, &r.Command); err != nil {
			if err := json.Unmarshal(raw.Command, &r.Named); err != nil {
				f.t.Errorf("fake mpv: command is neither array nor object: %s", raw.Command)
				continue
			}
		}
		f.handle(fc, r)
	}
}

// conn returns the i-th accepted connection (nil if none yet).
func (f *fakeMPV) conn(i int) *fakeConn {
	f.mu.Lock()
	defer f.mu.Unlock()
	if i >= len(f.conns) {
		return nil
	}
	return f.conns[i]
}

// dropAll closes every client connection, as mpv dying would.
func (f *fakeMPV) dropAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, fc := range f.conns {
		_ = fc.nc.Close()
	}
}

func (f *fakeMPV) close() {
	_ = f.ln.Close()
	f.dropAll()
	f.wg.Wait()
}
