package realtime

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/watchparty/watchparty/server"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testServer is the real embedded server on a loopback port, restartable on the same port and
// data directory.
type testServer struct {
	t       testing.TB
	cfg     server.Config
	addr    string
	anonKey string

	mu      sync.Mutex
	running *server.Running
}

func startServer(t testing.TB, cfg server.Config) *testServer {
	t.Helper()
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	ts := &testServer{t: t, cfg: cfg, addr: "127.0.0.1:0"}
	ts.start()
	t.Cleanup(ts.stop)
	return ts
}

func (ts *testServer) URL() string { return "http://" + ts.addr }

// stop shuts the server down gracefully and waits for it.
func (ts *testServer) stop() {
	ts.mu.Lock()
	r := ts.running
	ts.running = nil
	ts.mu.Unlock()
	if r == nil {
		return
	}
	if err := r.Stop(); err != nil {
		ts.t.Logf("server stopped: %v", err)
	}
}

// start serves (again, after stop: on the same port with the same data directory).
func (ts *testServer) start() {
	ts.t.Helper()
	r, err := server.StartRetrying(ts.cfg, ts.addr, time.Second)
	if err != nil {
		ts.t.Fatalf("serve on %s: %v", ts.addr, err)
	}
	if ts.addr == "127.0.0.1:0" { // the first start, before anyone reads addr
		ts.addr = r.Addr.String()
	}
	ts.mu.Lock()
	ts.running, ts.anonKey = r, r.AnonKey()
	ts.mu.Unlock()
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// recorder collects values delivered on listener goroutines.
type recorder[T any] struct {
	mu    sync.Mutex
	items []T
}

func (r *recorder[T]) add(v T) {
	r.mu.Lock()
	r.items = append(r.items, v)
	r.mu.Unlock()
}

func (r *recorder[T]) all() []T {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]T(nil), r.items...)
}

func (r *recorder[T]) count(pred func(T) bool) int {
	n := 0
	for _, v := range r.all() {
		if pred(v) {
			n++
		}
	}
	return n
}

// wait waits until some recorded value satisfies pred and returns it.
func (r *recorder[T]) wait(t testing.TB, timeout time.Duration, what string, pred func(T) bool) T {
	t.Helper()
	var found T
	waitFor(t, timeout, what, func() bool {
		for _, v := range r.all() {
			if pred(v) {
				found = v
				return true
			}
		}
		return false
	})
	return found
}

// proxy is a TCP proxy between the client and the server that can cut, refuse and stall
// connections, to play network faults.
type proxy struct {
	t      testing.TB
	ln     net.Listener
	target string

	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	refuse  bool
	stalled bool
	unstall chan struct{} // closed when a stall ends
	wg      sync.WaitGroup
	accepts int
}

func newProxy(t testing.TB, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{t: t, ln: ln, target: target, conns: map[net.Conn]struct{}{}, unstall: make(chan struct{})}
	close(p.unstall)
	p.wg.Add(1)
	go p.acceptLoop()
	t.Cleanup(p.close)
	return p
}

func (p *proxy) URL() string { return "http://" + p.ln.Addr().String() }

func (p *proxy) acceptLoop() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		p.accepts++
		if p.refuse {
			p.mu.Unlock()
			c.Close()
			continue
		}
		up, err := net.DialTimeout("tcp", p.target, time.Second)
		if err != nil {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns[c] = struct{}{}
		p.conns[up] = struct{}{}
		p.wg.Add(2)
		p.mu.Unlock()
		go p.pipe(c, up)
		go p.pipe(up, c)
	}
}

// pipe copies src to dst, holding bytes while the proxy is stalled.
func (p *proxy) pipe(src, dst net.Conn) {
	defer p.wg.Done()
	defer func() {
		src.Close()
		dst.Close()
		p.mu.Lock()
		delete(p.conns, src)
		delete(p.conns, dst)
		p.mu.Unlock()
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			wait := p.unstall
			p.mu.Unlock()
			<-wait
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// cut closes every open connection (a dropped link: no close frames).
func (p *proxy) cut() {
	p.mu.Lock()
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
}

// setRefuse makes new connections be closed at once (the network is down).
func (p *proxy) setRefuse(on bool) {
	p.mu.Lock()
	p.refuse = on
	p.mu.Unlock()
}

// stall holds every byte in both directions until resume (a black-holed link).
func (p *proxy) stall() {
	p.mu.Lock()
	if !p.stalled {
		p.stalled = true
		p.unstall = make(chan struct{})
	}
	p.mu.Unlock()
}

func (p *proxy) resume() {
	p.mu.Lock()
	if p.stalled {
		p.stalled = false
		close(p.unstall)
	}
	p.mu.Unlock()
}

func (p *proxy) acceptCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accepts
}

func (p *proxy) close() {
	p.ln.Close()
	p.resume()
	p.cut()
	p.wg.Wait()
}

// fastSocket are socket options for tests: short backoff without jitter.
func fastSocket() SocketOptions {
	return SocketOptions{
		ReconnectDelays: []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 500 * time.Millisecond},
		RejoinDelays:    []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 500 * time.Millisecond},
		Jitter:          -1,
	}
}

// user is a signed-in client with a socket.
type user struct {
	c    *Client
	sock *Socket
	id   string
}

func newUser(t testing.TB, baseURL, anonKey string, sockOpts SocketOptions) *user {
	t.Helper()
	c, err := NewClient(baseURL, anonKey, Options{SessionDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := c.Auth.EnsureSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sock, err := c.NewSocket(sockOpts)
	if err != nil {
		t.Fatal(err)
	}
	return &user{c: c, sock: sock, id: s.UserID}
}

// roomRow is the part of a rooms row the tests read.
type roomRow struct {
	RoomID       string  `json:"room_id"`
	HostUserID   string  `json:"host_user_id"`
	IsPlaying    bool    `json:"is_playing"`
	CurrentTime  float64 `json:"current_time"`
	StateVersion int64   `json:"state_version"`
}

type memberRow struct {
	RoomID   string `json:"room_id"`
	UserID   string `json:"user_id"`
	Username string `json:"username"`
	Role     string `json:"role"`
}

type commentRow struct {
	ID              int64  `json:"id"`
	RoomID          string `json:"room_id"`
	UserID          string `json:"user_id"`
	Username        string `json:"username"`
	Message         string `json:"message"`
	IsSystemMessage bool   `json:"is_system_message"`
}

// inviteSecrets holds the invite secret of every room createRoom made (room id → secret), for
// joinRoom: a newcomer needs it (docs/api.md, "Invites and moderation").
var inviteSecrets sync.Map

func (u *user) createRoom(t testing.TB, name string) string {
	t.Helper()
	var out struct {
		Room   roomRow `json:"room"`
		Secret string  `json:"invite_secret"`
	}
	if err := u.c.Functions.Invoke(context.Background(), "rooms/create", map[string]any{"username": name, "media_title": "test"}, &out); err != nil {
		t.Fatal(err)
	}
	if out.Room.RoomID == "" {
		t.Fatal("rooms/create returned no room id")
	}
	inviteSecrets.Store(out.Room.RoomID, out.Secret)
	return out.Room.RoomID
}

// joinRoom joins and makes the first liveness beat, as a client does once it is up (which
// announces the member: "<name> joined the room").
func (u *user) joinRoom(t testing.TB, roomID, name string) {
	t.Helper()
	secret, _ := inviteSecrets.Load(roomID)
	if err := u.c.Functions.Invoke(context.Background(), "rooms/join", map[string]any{"room_id": roomID, "username": name, "invite_secret": secret}, nil); err != nil {
		t.Fatal(err)
	}
	if err := u.c.RPC(context.Background(), "track_user_presence", map[string]any{"p_room_id": roomID, "p_current_time": 0, "p_is_playing": false}, nil); err != nil {
		t.Fatal(err)
	}
}

func (u *user) control(t testing.TB, roomID, action string, pos float64) {
	t.Helper()
	if err := u.c.Functions.Invoke(context.Background(), "sync/control", map[string]any{"room_id": roomID, "action": action, "current_time": pos}, nil); err != nil {
		t.Fatal(err)
	}
}

func (u *user) comment(t testing.TB, roomID, msg string) {
	t.Helper()
	if err := u.c.Functions.Invoke(context.Background(), "comments/create", map[string]any{"room_id": roomID, "message": msg}, nil); err != nil {
		t.Fatal(err)
	}
}

// roomChannel is a channel subscribed like the browser client (docs/design.md §1): the three
// postgres_changes bindings plus presence keyed by user id, recording everything.
type roomChannel struct {
	ch       *Channel
	changes  recorder[Change]
	presence recorder[PresenceEvent]
	statuses recorder[StatusEvent]
	systems  recorder[SystemEvent]
	closes   recorder[CloseEvent]
}

func roomFilters(roomID string) []ChangeFilter {
	f := "room_id=eq." + roomID
	return []ChangeFilter{
		{Event: "UPDATE", Schema: "public", Table: "rooms", Filter: f},
		{Event: "*", Schema: "public", Table: "room_members", Filter: f},
		{Event: "INSERT", Schema: "public", Table: "comments", Filter: f},
	}
}

func (u *user) roomChannel(t testing.TB, roomID string, opts ChannelOptions) *roomChannel {
	t.Helper()
	if opts.PresenceKey == "" {
		opts.PresenceKey = u.id
	}
	rc := &roomChannel{ch: u.sock.Channel("room:"+roomID, opts)}
	for _, f := range roomFilters(roomID) {
		if err := rc.ch.OnPostgresChanges(f, rc.changes.add); err != nil {
			t.Fatal(err)
		}
	}
	if err := rc.ch.OnPresence(rc.presence.add); err != nil {
		t.Fatal(err)
	}
	rc.ch.OnStatus(rc.statuses.add)
	rc.ch.OnSystem(rc.systems.add)
	rc.ch.OnClose(rc.closes.add)
	return rc
}

func (rc *roomChannel) subscribe(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rc.ch.Subscribe(ctx); err != nil {
		t.Fatal(err)
	}
}

// waitChange waits for a change on table of type typ whose new row satisfies pred.
func (rc *roomChannel) waitChange(t testing.TB, table, typ string, pred func(map[string]any) bool) Change {
	t.Helper()
	return rc.changes.wait(t, 5*time.Second, fmt.Sprintf("%s %s", typ, table), func(c Change) bool {
		if c.Table != table || c.Type != typ {
			return false
		}
		var row map[string]any
		if c.New != nil {
			c.DecodeNew(&row)
		} else {
			c.DecodeOld(&row)
		}
		return pred == nil || pred(row)
	})
}

// hasPresence reports whether the channel's presence state has key with a meta where field
// equals value.
func hasPresence(ch *Channel, key, field string, value any) bool {
	for _, m := range ch.PresenceState()[key] {
		if m[field] == value {
			return true
		}
	}
	return false
}
