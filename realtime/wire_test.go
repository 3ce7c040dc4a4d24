package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/watchparty/watchparty/realtime/phx"
)

// scriptedPeer is a WebSocket endpoint the test answers frame by frame, for the protocol paths
// the real server never takes: a bindings mismatch, a refused join, a silent heartbeat. The
// real server covers everything else.
type scriptedPeer struct {
	srv   *httptest.Server
	conns chan *peerConn
	stop  chan struct{}
}

type peerConn struct {
	t   testing.TB
	ws  *websocket.Conn
	ser phx.Serializer
}

func newScriptedPeer(t testing.TB) *scriptedPeer {
	p := &scriptedPeer{conns: make(chan *peerConn, 8), stop: make(chan struct{})}
	ser, _ := phx.SerializerFor(phx.Vsn2)
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/realtime/v1/websocket" || r.URL.Query().Get("vsn") != phx.Vsn2 || r.URL.Query().Get("apikey") != "key" {
			http.Error(w, "bad socket url "+r.URL.String(), http.StatusBadRequest)
			return
		}
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		p.conns <- &peerConn{t: t, ws: ws, ser: ser}
		<-p.stop
		ws.CloseNow()
	}))
	t.Cleanup(func() {
		close(p.stop)
		p.srv.Close()
	})
	return p
}

func (p *scriptedPeer) accept(t testing.TB) *peerConn {
	t.Helper()
	select {
	case c := <-p.conns:
		return c
	case <-time.After(5 * time.Second):
		t.Fatal("no connection came")
		return nil
	}
}

// read returns the next frame and its raw text.
func (c *peerConn) read() (phx.Message, string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	typ, data, err := c.ws.Read(ctx)
	if err != nil {
		c.t.Fatalf("peer read: %v", err)
	}
	m, err := c.ser.Decode(data, typ == websocket.MessageBinary)
	if err != nil {
		c.t.Fatalf("peer decode %q: %v", data, err)
	}
	return m, string(data)
}

func (c *peerConn) send(m phx.Message) {
	c.t.Helper()
	data, _, err := c.ser.Encode(m)
	if err != nil {
		c.t.Fatal(err)
	}
	if err := c.ws.Write(context.Background(), websocket.MessageText, data); err != nil {
		c.t.Fatalf("peer write: %v", err)
	}
}

func (c *peerConn) reply(to phx.Message, payload json.RawMessage) {
	c.send(phx.Message{JoinRef: to.JoinRef, Ref: to.Ref, Topic: to.Topic, Event: phx.EventReply, Payload: payload})
}

func TestJoinPayloadRefusedJoinAndBindingsMismatch(t *testing.T) {
	peer := newScriptedPeer(t)
	sock, err := NewSocket(peer.srv.URL, "key", fastSocket())
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	ch := sock.Channel("room:r1", ChannelOptions{PresenceKey: "u-123", BroadcastSelf: true})
	for _, f := range roomFilters("r1") {
		ch.OnPostgresChanges(f, func(Change) {})
	}
	ch.OnPresence(func(PresenceEvent) {})
	var statuses recorder[StatusEvent]
	var closes recorder[CloseEvent]
	ch.OnStatus(statuses.add)
	ch.OnClose(closes.add)
	subErr := make(chan error, 1)
	go func() { subErr <- ch.Subscribe(context.Background()) }()

	pc := peer.accept(t)
	join, raw := pc.read()
	// Exactly supabase-js's join (research protocol.md §3.2), with the API key as the token.
	want := `["` + join.Ref + `","` + join.Ref + `","realtime:room:r1","phx_join",{"config":{"broadcast":{"ack":false,"self":true},` +
		`"presence":{"key":"u-123","enabled":true},"postgres_changes":[` +
		`{"event":"UPDATE","schema":"public","table":"rooms","filter":"room_id=eq.r1"},` +
		`{"event":"*","schema":"public","table":"room_members","filter":"room_id=eq.r1"},` +
		`{"event":"INSERT","schema":"public","table":"comments","filter":"room_id=eq.r1"}],"private":false},` +
		`"access_token":"key","version":"` + clientVersion + `"}]`
	if raw != want {
		t.Fatalf("join frame\n got %s\nwant %s", raw, want)
	}

	// A refused join: CHANNEL_ERROR with a typed reason, then a rejoin with a new join_ref.
	pc.reply(join, phx.ReplyError("ClientJoinRateLimitReached: Too many joins per second"))
	rejoin, _ := pc.read()
	if rejoin.Event != phx.EventJoin || rejoin.JoinRef == join.JoinRef {
		t.Fatalf("after a refused join got %s with join_ref %s (first %s)", rejoin.Event, rejoin.JoinRef, join.JoinRef)
	}
	ev := statuses.wait(t, time.Second, "CHANNEL_ERROR", func(e StatusEvent) bool { return e.Status == ChannelError })
	var je *JoinError
	if !errors.As(ev.Err, &je) || !errors.Is(ev.Err, ErrRateLimited) {
		t.Fatalf("refused join error = %v, want a *JoinError of kind ErrRateLimited", ev.Err)
	}

	// The echo differs in one filter: the client leaves and reports the mismatch.
	var cfg struct {
		Config phx.JoinConfig `json:"config"`
	}
	json.Unmarshal(rejoin.Payload, &cfg)
	echo := cfg.Config.PostgresChanges
	for i := range echo {
		echo[i].ID = int64(100 + i)
	}
	echo[1].Filter = "room_id=eq.other"
	pc.reply(rejoin, phx.ReplyOK(map[string]any{"postgres_changes": echo}))
	if err := <-subErr; !errors.Is(err, ErrBindingsMismatch) {
		t.Fatalf("Subscribe = %v, want ErrBindingsMismatch", err)
	}
	leave, _ := pc.read()
	if leave.Event != phx.EventLeave || leave.JoinRef != rejoin.JoinRef {
		t.Fatalf("after the mismatch got %s %s, want phx_leave of the join", leave.Event, leave.JoinRef)
	}
	cl := closes.wait(t, time.Second, "close event", func(CloseEvent) bool { return true })
	if !errors.Is(cl.Err, ErrBindingsMismatch) {
		t.Fatalf("close event %+v", cl)
	}
	if ch.State() != StateClosed {
		t.Fatalf("state %v, want closed", ch.State())
	}
}

func TestUnansweredHeartbeatReconnects(t *testing.T) {
	peer := newScriptedPeer(t)
	opts := fastSocket()
	opts.HeartbeatInterval = 50 * time.Millisecond
	sock, err := NewSocket(peer.srv.URL, "key", opts)
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	pc := peer.accept(t)
	hb, raw := pc.read()
	if want := `[null,"` + hb.Ref + `","phoenix","heartbeat",{}]`; raw != want {
		t.Fatalf("heartbeat frame %s, want %s", raw, want)
	}
	// Answered: the next heartbeat comes on the same connection.
	pc.reply(hb, phx.ReplyOK(nil))
	hb2, _ := pc.read()
	if hb2.Event != phx.EventHeartbeat || hb2.Ref == hb.Ref {
		t.Fatalf("second frame %s ref %s", hb2.Event, hb2.Ref)
	}
	// Not answered: at the next tick the client drops the connection and dials again.
	waitFor(t, 2*time.Second, "reconnecting after the heartbeat timeout", func() bool {
		st := sock.State()
		return st.Status != StatusConnected && errors.Is(st.Err, errHeartbeatTimeout)
	})
	peer.accept(t)
	if err := sock.WaitConnected(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestRequestShapes checks the HTTP requests against the ones supabase-js sends (research
// protocol.md §9 and §15): paths, query strings and headers.
func TestRequestShapes(t *testing.T) {
	var got recorder[*http.Request]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Header.Set("X-Test-Body", string(body))
		got.add(r)
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasPrefix(r.URL.Path, "/auth/v1/"):
			io.WriteString(w, `{"access_token":"user-jwt","token_type":"bearer","expires_in":3600,"refresh_token":"rt1","user":{"id":"u1"}}`)
		case strings.HasPrefix(r.URL.Path, "/functions/v1/"):
			io.WriteString(w, `{"success":true,"data":{"ok":1}}`)
		case r.URL.Path == "/rest/v1/rpc/track_user_presence":
			w.WriteHeader(http.StatusNoContent)
		default:
			io.WriteString(w, `[]`)
		}
	}))
	defer srv.Close()
	c, err := NewClient(srv.URL, "anon-key", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	if _, err := c.Auth.SignInAnonymously(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Auth.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	var out struct{ OK int }
	if err := c.Functions.Invoke(ctx, "rooms/join", map[string]string{"room_id": "r1"}, &out); err != nil || out.OK != 1 {
		t.Fatalf("invoke = %+v, %v", out, err)
	}
	if err := c.RPC(ctx, "track_user_presence", map[string]any{"p_room_id": "r1"}, nil); err != nil {
		t.Fatal(err)
	}
	var rows []commentRow
	if err := c.Comments(ctx, "r1", 50, &rows); err != nil {
		t.Fatal(err)
	}

	type want struct {
		line, body string
		headers    map[string]string
	}
	wants := []want{
		{"POST /auth/v1/signup", `{"data":{},"gotrue_meta_security":{}}`, map[string]string{
			"Authorization": "Bearer anon-key", "Content-Type": "application/json;charset=UTF-8", "X-Supabase-Api-Version": "2024-01-01"}},
		{"POST /auth/v1/token?grant_type=refresh_token", `{"refresh_token":"rt1"}`, map[string]string{
			"Authorization": "Bearer anon-key", "X-Supabase-Api-Version": "2024-01-01"}},
		{"POST /functions/v1/rooms/join", `{"room_id":"r1"}`, map[string]string{
			"Authorization": "Bearer user-jwt", "Content-Type": "application/json"}},
		{"POST /rest/v1/rpc/track_user_presence", `{"p_room_id":"r1"}`, map[string]string{
			"Authorization": "Bearer user-jwt", "Content-Type": "application/json", "Content-Profile": "public"}},
		{"GET /rest/v1/comments?select=*&room_id=eq.r1&order=created_at.desc&limit=50", "", map[string]string{
			"Authorization": "Bearer user-jwt", "Accept-Profile": "public"}},
	}
	reqs := got.all()
	if len(reqs) != len(wants) {
		t.Fatalf("%d requests, want %d", len(reqs), len(wants))
	}
	for i, w := range wants {
		r := reqs[i]
		line := r.Method + " " + r.URL.RequestURI()
		if line != w.line || r.Header.Get("X-Test-Body") != w.body {
			t.Errorf("request %d: %s %s, want %s %s", i, line, r.Header.Get("X-Test-Body"), w.line, w.body)
		}
		w.headers["Apikey"] = "anon-key"
		for k, v := range w.headers {
			if r.Header.Get(k) != v {
				t.Errorf("%s: header %s = %q, want %q", w.line, k, r.Header.Get(k), v)
			}
		}
		if !strings.HasPrefix(r.Header.Get("X-Client-Info"), "watchparty-go") {
			t.Errorf("%s: X-Client-Info %q", w.line, r.Header.Get("X-Client-Info"))
		}
	}
}
