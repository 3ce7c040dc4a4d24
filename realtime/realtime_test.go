package realtime

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/watchparty/watchparty/server"
)

func TestJoinAndPostgresChanges(t *testing.T) {
	ts := startServer(t, server.Config{})
	host := newUser(t, ts.URL(), ts.anonKey, SocketOptions{})
	guest := newUser(t, ts.URL(), ts.anonKey, SocketOptions{})
	roomID := host.createRoom(t, "host")

	rc := host.roomChannel(t, roomID, ChannelOptions{})
	rc.subscribe(t)
	if st := rc.ch.State(); st != StateJoined {
		t.Fatalf("state after Subscribe = %v, want joined", st)
	}
	rc.statuses.wait(t, 2*time.Second, "SUBSCRIBED", func(e StatusEvent) bool { return e.Status == Subscribed })
	rc.systems.wait(t, 2*time.Second, "system ok", func(e SystemEvent) bool {
		return e.Extension == "postgres_changes" && e.Status == "ok" && e.Message == "Subscribed to PostgreSQL"
	})
	// Subscribing again is a no-op, and Channel returns the same channel for the same name.
	if err := rc.ch.Subscribe(context.Background()); err != nil {
		t.Fatal(err)
	}
	if host.sock.Channel("room:"+roomID, ChannelOptions{}) != rc.ch {
		t.Fatal("Channel returned a second channel for an open topic")
	}
	if err := rc.ch.OnPostgresChanges(ChangeFilter{Event: "*", Schema: "public"}, func(Change) {}); !errors.Is(err, ErrAlreadySubscribed) {
		t.Fatalf("late OnPostgresChanges: %v, want ErrAlreadySubscribed", err)
	}

	// rooms UPDATE
	host.control(t, roomID, "play", 12.5)
	ch := rc.waitChange(t, "rooms", "UPDATE", func(r map[string]any) bool { return r["is_playing"] == true })
	var room roomRow
	if err := ch.DecodeNew(&room); err != nil {
		t.Fatal(err)
	}
	if room.RoomID != roomID || room.CurrentTime != 12.5 || room.StateVersion < 1 {
		t.Fatalf("rooms UPDATE new = %+v", room)
	}
	if ch.Old == nil || ch.Schema != "public" || ch.CommitTimestamp == "" || len(ch.Columns) == 0 {
		t.Fatalf("rooms UPDATE lacks old row, schema, commit time or columns: %+v", ch)
	}

	// room_members INSERT (and the system comment INSERT it causes)
	guest.joinRoom(t, roomID, "guest")
	ch = rc.waitChange(t, "room_members", "INSERT", func(r map[string]any) bool { return r["user_id"] == guest.id })
	var m memberRow
	if err := ch.DecodeNew(&m); err != nil || m.Username != "guest" || m.Role != "member" {
		t.Fatalf("room_members INSERT new = %+v (%v)", m, err)
	}
	rc.waitChange(t, "comments", "INSERT", func(r map[string]any) bool {
		return r["is_system_message"] == true && r["message"] == "guest joined the room"
	})

	// comments INSERT
	host.comment(t, roomID, "hello there")
	ch = rc.waitChange(t, "comments", "INSERT", func(r map[string]any) bool { return r["message"] == "hello there" })
	var c commentRow
	if err := ch.DecodeNew(&c); err != nil || c.UserID != host.id || c.ID == 0 {
		t.Fatalf("comments INSERT new = %+v (%v)", c, err)
	}

	// A leave is soft: an UPDATE of the member's row that sets left_at (never a DELETE, which
	// Supabase Realtime would send to everyone) reaches the "*" binding.
	if err := guest.c.Functions.Invoke(context.Background(), "rooms/leave", map[string]any{"room_id": roomID}, nil); err != nil {
		t.Fatal(err)
	}
	rc.waitChange(t, "room_members", "UPDATE", func(r map[string]any) bool {
		return r["user_id"] == guest.id && r["left_at"] != nil
	})

	// The filter binds: a change in another room never arrives. The UPDATE binding only
	// gets UPDATEs: the room INSERT of the second room must not show up either.
	other := host.createRoom(t, "host")
	host.control(t, other, "pause", 1)
	host.comment(t, roomID, "marker")
	rc.waitChange(t, "comments", "INSERT", func(r map[string]any) bool { return r["message"] == "marker" })
	for _, c := range rc.changes.all() {
		var row map[string]any
		if c.New != nil {
			c.DecodeNew(&row)
		} else {
			c.DecodeOld(&row)
		}
		if row["room_id"] != roomID {
			t.Fatalf("got a change of another room: %s %s %v", c.Type, c.Table, row)
		}
		if c.Table == "rooms" && c.Type != "UPDATE" {
			t.Fatalf("the UPDATE binding delivered a %s", c.Type)
		}
	}

	// The comments read: newest first, limited.
	var rows []commentRow
	if err := host.c.Comments(context.Background(), roomID, 2, &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Message != "marker" || rows[1].Message != "guest left the room" {
		t.Fatalf("Comments = %+v, want [marker, guest left the room]", rows)
	}

	// Unsubscribe: a Closed status, the close event without error, the channel gone.
	if err := rc.ch.Unsubscribe(context.Background()); err != nil {
		t.Fatal(err)
	}
	ev := rc.closes.wait(t, 2*time.Second, "close event", func(CloseEvent) bool { return true })
	if ev.ByServer || ev.Err != nil {
		t.Fatalf("close after Unsubscribe = %+v", ev)
	}
	if err := rc.ch.Subscribe(context.Background()); !errors.Is(err, ErrChannelClosed) {
		t.Fatalf("Subscribe after Unsubscribe: %v, want ErrChannelClosed", err)
	}
	if host.sock.Channel("room:"+roomID, ChannelOptions{}) == rc.ch {
		t.Fatal("a closed channel was handed out again")
	}
}

func TestPresenceBetweenTwoClients(t *testing.T) {
	ts := startServer(t, server.Config{})
	host := newUser(t, ts.URL(), ts.anonKey, SocketOptions{})
	guest := newUser(t, ts.URL(), ts.anonKey, SocketOptions{})
	roomID := host.createRoom(t, "host")
	guest.joinRoom(t, roomID, "guest")

	hc := host.roomChannel(t, roomID, ChannelOptions{})
	hc.subscribe(t)
	ctx := context.Background()
	if r, err := hc.ch.Track(ctx, map[string]any{"user_id": host.id, "username": "host"}); err != nil || !r.Sent {
		t.Fatalf("host Track = %+v, %v", r, err)
	}
	gc := guest.roomChannel(t, roomID, ChannelOptions{})
	gc.subscribe(t)
	if r, err := gc.ch.Track(ctx, map[string]any{"user_id": guest.id, "username": "guest"}); err != nil || !r.Sent {
		t.Fatalf("guest Track = %+v, %v", r, err)
	}

	// Each sees both, the guest through presence_state (host) plus its own diff.
	for _, c := range []*Channel{hc.ch, gc.ch} {
		waitFor(t, 5*time.Second, "both presences", func() bool {
			return hasPresence(c, host.id, "username", "host") && hasPresence(c, guest.id, "username", "guest")
		})
	}
	hc.presence.wait(t, time.Second, "join of guest", func(e PresenceEvent) bool {
		return e.Kind == "join" && e.Key == guest.id && len(e.Changed) == 1 && e.Changed[0]["presence_ref"] != nil
	})

	// Track with the same payload sends nothing; a changed payload updates the meta in place.
	if r, err := gc.ch.Track(ctx, map[string]any{"user_id": guest.id, "username": "guest"}); err != nil || !r.Unchanged || r.Sent {
		t.Fatalf("identical Track = %+v, %v, want Unchanged", r, err)
	}
	if _, err := gc.ch.Track(ctx, map[string]any{"user_id": guest.id, "username": "guest", "playing": true}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "updated guest meta", func() bool { return hasPresence(hc.ch, guest.id, "playing", true) })
	if n := len(hc.ch.PresenceState()[guest.id]); n != 1 {
		t.Fatalf("guest has %d metas after an update, want 1", n)
	}

	// Untrack: the host sees the leave.
	if r, err := gc.ch.Untrack(ctx); err != nil || !r.Sent {
		t.Fatalf("Untrack = %+v, %v", r, err)
	}
	hc.presence.wait(t, 5*time.Second, "leave of guest", func(e PresenceEvent) bool { return e.Kind == "leave" && e.Key == guest.id })
	waitFor(t, time.Second, "guest gone", func() bool { _, ok := hc.ch.PresenceState()[guest.id]; return !ok })

	// Track again, then the guest's socket closes: the server drops its presence.
	if _, err := gc.ch.Track(ctx, map[string]any{"user_id": guest.id, "username": "guest"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "guest back", func() bool { return hasPresence(hc.ch, guest.id, "username", "guest") })
	guest.sock.Close()
	waitFor(t, 5*time.Second, "guest gone after its socket closed", func() bool { _, ok := hc.ch.PresenceState()[guest.id]; return !ok })
	if _, err := gc.ch.Track(ctx, map[string]any{"x": 1}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Track on a closed socket: %v, want ErrClosed", err)
	}
	if _, err := hc.ch.Track(ctx, []int{1}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Track of a non-object: %v, want ErrInvalid", err)
	}
}

func TestBroadcast(t *testing.T) {
	ts := startServer(t, server.Config{})
	a := newUser(t, ts.URL(), ts.anonKey, SocketOptions{})
	b := newUser(t, ts.URL(), ts.anonKey, SocketOptions{})
	// Room channels are for the room's members: both join it first.
	roomID := a.createRoom(t, "a")
	b.joinRoom(t, roomID, "b")
	ca := a.sock.Channel("room:"+roomID, ChannelOptions{BroadcastAck: true})
	cb := b.sock.Channel("room:"+roomID, ChannelOptions{})
	var got recorder[Broadcast]
	cb.OnBroadcast("ping", got.add)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ca.Send(ctx, "ping", map[string]int{"x": 1}); !errors.Is(err, ErrNotSubscribed) {
		t.Fatalf("Send before Subscribe: %v", err)
	}
	for _, c := range []*Channel{ca, cb} {
		if err := c.Subscribe(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := ca.Send(ctx, "other", map[string]int{"x": 0}); err != nil {
		t.Fatal(err)
	}
	if err := ca.Send(ctx, "ping", map[string]int{"x": 1}); err != nil {
		t.Fatal(err)
	}
	m := got.wait(t, 5*time.Second, "ping", func(Broadcast) bool { return true })
	if string(m.Payload) != `{"x":1}` {
		t.Fatalf("broadcast payload = %s", m.Payload)
	}
	if n := len(got.all()); n != 1 {
		t.Fatalf("%d broadcasts delivered to the ping listener, want 1", n)
	}
}

func TestTypedErrors(t *testing.T) {
	ts := startServer(t, server.Config{})
	host := newUser(t, ts.URL(), ts.anonKey, SocketOptions{})
	guest := newUser(t, ts.URL(), ts.anonKey, SocketOptions{})
	roomID := host.createRoom(t, "host")
	guest.joinRoom(t, roomID, "guest")
	ctx := context.Background()

	anon, err := NewClient(ts.URL(), ts.anonKey, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer anon.Close()

	cases := []struct {
		name       string
		call       func() error
		kind       error
		status     int
		code       string
		msgContain string
	}{
		{"unknown room", func() error {
			return guest.c.Functions.Invoke(ctx, "rooms/join", map[string]any{"room_id": "zzzzzzzzzz", "username": "g"}, nil)
		}, ErrNotFound, 404, "ROOM_NOT_FOUND", "room not found"},
		{"not host", func() error {
			return guest.c.Functions.Invoke(ctx, "sync/control", map[string]any{"room_id": roomID, "action": "play", "current_time": 1}, nil)
		}, ErrNotAllowed, 403, "NOT_HOST", ""},
		{"bad action", func() error {
			return host.c.Functions.Invoke(ctx, "sync/control", map[string]any{"room_id": roomID, "action": "jump", "current_time": 1}, nil)
		}, ErrInvalid, 400, "INVALID_REQUEST", "action"},
		{"no session", func() error {
			return anon.Functions.Invoke(ctx, "rooms/create", map[string]any{"username": "x"}, nil)
		}, ErrUnauthorized, 401, "UNAUTHORIZED", ""},
		{"unknown function", func() error { return host.c.Functions.Invoke(ctx, "rooms/nope", nil, nil) }, ErrNotFound, 404, "NOT_FOUND", ""},
		{"unknown rpc", func() error { return host.c.RPC(ctx, "nope", nil, nil) }, ErrNotFound, 404, "PGRST202", ""},
		{"rpc unknown room", func() error {
			return host.c.RPC(ctx, "track_user_presence", map[string]any{"p_room_id": "zzzzzzzzzz", "p_current_time": 1, "p_is_playing": true}, nil)
		}, ErrNotFound, 404, "PT404", ""},
		{"rpc error body", func() error {
			return host.c.RPC(ctx, "get_room_sync_state", map[string]any{"p_room_id": "zzzzzzzzzz"}, nil)
		}, ErrNotFound, 200, "", "Room not found"},
		{"rpc user mismatch", func() error {
			return guest.c.RPC(ctx, "get_room_sync_state", map[string]any{"p_room_id": roomID, "p_user_id": host.id}, nil)
		}, ErrNotAllowed, 403, "PT403", ""},
		{"bad table", func() error { return host.c.From("secrets").Select("*").Get(ctx, &[]map[string]any{}) }, ErrNotFound, 404, "PGRST205", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if !errors.Is(err, tc.kind) {
				t.Fatalf("err = %v, want kind %v", err, tc.kind)
			}
			var ae *APIError
			if !errors.As(err, &ae) {
				t.Fatalf("err %v is not an *APIError", err)
			}
			if ae.Status != tc.status || ae.Code != tc.code {
				t.Fatalf("status, code = %d %q, want %d %q (%v)", ae.Status, ae.Code, tc.status, tc.code, err)
			}
			if tc.msgContain != "" && !strings.Contains(ae.Message, tc.msgContain) {
				t.Fatalf("message %q lacks %q", ae.Message, tc.msgContain)
			}
		})
	}

	// Rate limit: the sixth comment in 10 s.
	var rlErr error
	for i := 0; i < 6 && rlErr == nil; i++ {
		rlErr = host.c.Functions.Invoke(ctx, "comments/create", map[string]any{"room_id": roomID, "message": "spam"}, nil)
	}
	var ae *APIError
	if !errors.Is(rlErr, ErrRateLimited) || !errors.As(rlErr, &ae) || ae.Code != "RATE_LIMITED" || ae.Status != 429 {
		t.Fatalf("sixth comment: %v, want RATE_LIMITED", rlErr)
	}

	// A void RPC (204) and a result RPC.
	if err := host.c.RPC(ctx, "track_user_presence", map[string]any{"p_room_id": roomID, "p_current_time": 3, "p_is_playing": true}, nil); err != nil {
		t.Fatal(err)
	}
	var state struct {
		Room       roomRow     `json:"room"`
		Members    []memberRow `json:"members"`
		ServerTime int64       `json:"server_time"`
	}
	if err := host.c.RPC(ctx, "get_room_sync_state", map[string]any{"p_room_id": roomID}, &state); err != nil {
		t.Fatal(err)
	}
	if state.Room.RoomID != roomID || len(state.Members) != 2 || state.ServerTime == 0 {
		t.Fatalf("get_room_sync_state = %+v", state)
	}
}

// TestSlowListenerDoesNotBlockTheSocket: a listener that blocks holds up only its own
// channel's queue (visible in Stats); other channels on the same socket go on, and the held
// events are delivered in order once it returns.
func TestSlowListenerDoesNotBlockTheSocket(t *testing.T) {
	ts := startServer(t, server.Config{})
	u := newUser(t, ts.URL(), ts.anonKey, SocketOptions{})
	slowRoom, fastRoom := u.createRoom(t, "u"), u.createRoom(t, "u")

	release := make(chan struct{})
	var releaseOnce sync.Once
	free := func() { releaseOnce.Do(func() { close(release) }) }
	// Registered after newUser's cleanup, so it runs first: a failed test frees the held
	// listener before the socket's Close waits for it (it would wait for the whole timeout).
	t.Cleanup(free)
	var got recorder[string]
	slow := u.sock.Channel("room:"+slowRoom, ChannelOptions{})
	slow.OnPostgresChanges(ChangeFilter{Event: "INSERT", Schema: "public", Table: "comments", Filter: "room_id=eq." + slowRoom}, func(c Change) {
		<-release
		var row commentRow
		c.DecodeNew(&row)
		got.add(row.Message)
	})
	fast := u.roomChannel(t, fastRoom, ChannelOptions{})
	ctx := context.Background()
	if err := slow.Subscribe(ctx); err != nil {
		t.Fatal(err)
	}
	fast.subscribe(t)

	const n = 5
	for i := 0; i < n; i++ {
		u.comment(t, slowRoom, fmt.Sprintf("m%d", i))
	}
	waitFor(t, 5*time.Second, "the slow channel's queue to fill", func() bool { return slow.Stats().Queued == n-1 })
	u.comment(t, fastRoom, "still flowing")
	fast.waitChange(t, "comments", "INSERT", func(r map[string]any) bool { return r["message"] == "still flowing" })

	free()
	waitFor(t, 5*time.Second, "the held events", func() bool { return len(got.all()) == n })
	for i, m := range got.all() {
		if m != fmt.Sprintf("m%d", i) {
			t.Fatalf("event %d = %q: out of order (%v)", i, m, got.all())
		}
	}
	if st := slow.Stats(); st.Queued != 0 || st.PeakQueued < n-1 {
		t.Fatalf("stats after draining = %+v", st)
	}
}
