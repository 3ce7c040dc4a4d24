package server_test

// Attacks on the trust boundaries of docs/security.md, each performed as an anonymous user or a
// hostile member would, asserting the defended outcome. Every one of them succeeded against the
// server before the limits existed.

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/watchparty/watchparty/realtime/phx"
	"github.com/watchparty/watchparty/server"
	"github.com/watchparty/watchparty/server/servertest"
)

// The room's media URL is an instruction to every guest's mpv: only http(s) is stored.
func TestAttackMediaURL(t *testing.T) {
	s := servertest.Start(t, server.Config{})
	api := s.API().For(t)
	host := api.SignUp()
	for _, bad := range []string{
		"av://lavfi:sine,metadata=mode=print:file=/tmp/pwned",
		"edl://%20%/etc/passwd,0,10",
		"file:///etc/passwd",
		"/home/host/movie.mkv",
		"fd://0",
		"memory://hello",
		"lavfi://anullsrc",
		"https://exa mple.com/v.mkv",
		"https://example.com/v.mkv\n--script=evil.lua",
		"https://example.com/\u202ev.mkv",
		"http:///no-host",
		"HTTPS://example.com/v.mkv",
		"https://:443/v.mkv",
		"https:" + strings.Repeat("a", 10),
		"https://example.com/" + strings.Repeat("a", server.MaxMediaURL),
	} {
		r := api.Invoke(host.AccessToken, "rooms/create", map[string]any{"username": "h", "media_url": bad})
		wantFn(t, r, http.StatusBadRequest, "INVALID_REQUEST")
		if msg := fmt.Sprint(servertest.Dig(r.Object(), "error", "message")); !strings.Contains(msg, "http:// or https://") {
			t.Errorf("%q refused with %q: the message should name the rule", bad, msg)
		}
	}
	r := api.Invoke(host.AccessToken, "rooms/create", map[string]any{"username": "h", "media_url": "https://example.com/v.mkv?x=1#t=3"})
	wantFn(t, r, http.StatusOK, "")
	if got := data(r, "room", "media_url"); got != "https://example.com/v.mkv?x=1#t=3" {
		t.Fatalf("stored media_url = %v", got)
	}
}

// Absurd and oversized fields are refused: the room state every client follows stays sane.
func TestAttackFieldLimits(t *testing.T) {
	p := newParty(t, server.Config{})
	api := p.api
	for name, tc := range map[string]struct {
		fn   string
		body map[string]any
		code string
	}{
		"title of 201":       {"rooms/create", map[string]any{"username": "h", "media_title": strings.Repeat("t", 201)}, "INVALID_REQUEST"},
		"anime_id of 65":     {"rooms/create", map[string]any{"username": "h", "anime_id": strings.Repeat("1", 65)}, "INVALID_REQUEST"},
		"duration 1e308":     {"rooms/create", map[string]any{"username": "h", "media_duration": 1e308}, "INVALID_REQUEST"},
		"name system":        {"rooms/create", map[string]any{"username": "System"}, "INVALID_USERNAME"},
		"invisible name":     {"rooms/join", map[string]any{"room_id": p.roomID, "invite_secret": api.InviteSecret(p.roomID), "username": "\u200b\u200d\u2060"}, "INVALID_USERNAME"},
		"blank letters":      {"rooms/join", map[string]any{"room_id": p.roomID, "invite_secret": api.InviteSecret(p.roomID), "username": "\u3164\u2800\u0301"}, "INVALID_USERNAME"},
		"hidden system":      {"rooms/join", map[string]any{"room_id": p.roomID, "invite_secret": api.InviteSecret(p.roomID), "username": "Sys\u200btem"}, "INVALID_USERNAME"},
		"escape-only name":   {"rooms/join", map[string]any{"room_id": p.roomID, "invite_secret": api.InviteSecret(p.roomID), "username": "\x1b[2J\x1b]0;x\x07"}, "INVALID_USERNAME"},
		"seek to 1e308":      {"sync/control", map[string]any{"room_id": p.roomID, "action": "seek", "current_time": 1e308}, "INVALID_REQUEST"},
		"seek past a week":   {"sync/control", map[string]any{"room_id": p.roomID, "action": "seek", "current_time": server.MaxPosition + 1}, "INVALID_REQUEST"},
		"speed 100":          {"sync/control", map[string]any{"room_id": p.roomID, "action": "rate", "current_time": 1, "playback_rate": 100}, "INVALID_REQUEST"},
		"comment at 1e308":   {"comments/create", map[string]any{"room_id": p.roomID, "message": "x", "video_timestamp": 1e308}, "INVALID_REQUEST"},
		"malformed room id":  {"rooms/join", map[string]any{"room_id": strings.Repeat("A", 5000), "username": "x"}, "ROOM_NOT_FOUND"},
		"room id with a key": {"sync/control", map[string]any{"room_id": "abc:def:gh", "action": "play", "current_time": 0}, "ROOM_NOT_FOUND"},
	} {
		t.Run(name, func(t *testing.T) {
			status := http.StatusBadRequest
			if tc.code == "ROOM_NOT_FOUND" {
				status = http.StatusNotFound
			}
			wantFn(t, api.Invoke(p.host.AccessToken, tc.fn, tc.body), status, tc.code)
		})
	}
	// track_user_presence: a position of 1e308 is refused, a malformed room is unknown.
	if r := api.RPC(p.host.AccessToken, "track_user_presence", map[string]any{"p_room_id": p.roomID, "p_current_time": 1e308, "p_is_playing": true}); r.Status != 400 {
		t.Fatalf("presence at 1e308: %d %s", r.Status, r.Body)
	}
	if r := api.RPC(p.host.AccessToken, "track_user_presence", map[string]any{"p_room_id": "../../x", "p_current_time": 1, "p_is_playing": true}); r.Status != 404 {
		t.Fatalf("presence in a malformed room: %d %s", r.Status, r.Body)
	}
	// Sign-up metadata rides in every token: 1 KiB at most.
	r := api.Do(http.MethodPost, "/auth/v1/signup", "", map[string]any{"data": map[string]any{"blob": strings.Repeat("x", 16<<10)}})
	if r.Status != 400 || r.Object()["code"] != "validation_failed" {
		t.Fatalf("64 KB of metadata: %d %s", r.Status, r.Body)
	}
}

// A join/leave loop can't flood the room with notices, and is rate limited itself.
func TestAttackJoinLeaveLoop(t *testing.T) {
	p := newParty(t, server.Config{})
	api := p.api
	c := p.dial(t)
	joinRoom(t, c, p.roomID, p.member)
	evil := api.SignUp()
	limited := 0
	for i := range 15 {
		name := fmt.Sprintf("HOST: go to evil.example %d", i)
		if r := api.Invoke(evil.AccessToken, "rooms/join", map[string]any{"room_id": p.roomID, "invite_secret": api.InviteSecret(p.roomID), "username": name}); r.Status == 429 {
			limited++
			continue
		}
		api.Beat(evil.AccessToken, p.roomID) // announced: a notice each time, within the budget
		if r := api.Invoke(evil.AccessToken, "rooms/leave", map[string]any{"room_id": p.roomID}); r.Status == 429 {
			limited++
		}
	}
	if limited == 0 {
		t.Fatal("30 joins and leaves in a moment were all accepted: want at most 20 a minute")
	}
	notices := 0
	for _, f := range barrier(t, c) {
		if f.Msg.Event == phx.EventPostgresChanges && strings.Contains(string(f.Msg.Payload), `"is_system_message":true`) {
			notices++
		}
	}
	if notices == 0 || notices > 4 {
		t.Fatalf("%d join/leave notices reached the room, want 1–4 a minute per member", notices)
	}
}

// A socket with the anon key and no filter used to receive every leave of every room.
func TestAttackRowsOfOtherRooms(t *testing.T) {
	p := newParty(t, server.Config{})
	spy := p.dial(t)
	const topic = "realtime:anything"
	_, reply, _ := spy.Join(servertest.Ctx(t, wait), topic, phx.JoinConfig{PostgresChanges: []phx.ChangeBinding{
		{Event: "*", Schema: "public"}, {Event: "*", Schema: "public", Table: "room_members"},
		{Event: "*", Schema: "public", Table: "room_members", Filter: "room_id=eq." + p.roomID},
	}}, "")
	if reply.Status != "ok" {
		t.Fatal(reply)
	}
	barrier(t, spy)
	wantFn(t, p.api.Invoke(p.member.AccessToken, "rooms/leave", map[string]any{"room_id": p.roomID}), 200, "")
	wantFn(t, p.api.Invoke(p.host.AccessToken, "comments/create", map[string]any{"room_id": p.roomID, "message": "secret"}), 200, "")
	for _, f := range barrier(t, spy) {
		if f.Msg.Event == phx.EventPostgresChanges {
			t.Fatalf("an outsider received a row: %s", f)
		}
	}
}

// In a room's channel, presence says who is there: the key is the member's own id, the budget
// survives rejoining, and metas are small.
func TestAttackRoomPresence(t *testing.T) {
	var clk clock
	p := newParty(t, server.Config{Now: clk.Now})
	c := p.dial(t)
	topic := servertest.RoomTopic(p.roomID)
	cfg := servertest.SeedConfig(p.roomID, p.host.UserID) // the member claims to be the host
	jr, reply, err := c.Join(servertest.Ctx(t, wait), topic, cfg, p.member.AccessToken)
	if err != nil || reply.Status != "ok" {
		t.Fatal(err, reply)
	}
	track := func(payload map[string]any) servertest.Frame {
		t.Helper()
		ref, err := c.Push(servertest.Ctx(t, wait), jr, topic, phx.EventPresence, map[string]any{"type": "presence", "event": "track", "payload": payload})
		if err != nil {
			t.Fatal(err)
		}
		return await(t, c, "track reply", servertest.IsReply(ref))
	}
	if f := track(map[string]any{"big": strings.Repeat("x", 2048)}); f.Reply().Status != "error" {
		t.Fatalf("a 2 KB meta: %s", f)
	}
	track(map[string]any{"n": 1})
	diff := await(t, c, "diff", servertest.IsEvent(topic, phx.EventPresenceDiff))
	if joins, _ := diff.Payload()["joins"].(map[string]any); joins[p.member.UserID] == nil || joins[p.host.UserID] != nil {
		t.Fatalf("presence key: %s, want the member's own id", diff)
	}
	// Leaving and rejoining doesn't give a fresh budget: 5 calls per 30 s (the refused meta
	// counts too), then the channel closes.
	for i := 2; i <= 4; i++ {
		track(map[string]any{"n": i})
	}
	if _, err := c.Push(servertest.Ctx(t, wait), jr, topic, phx.EventLeave, map[string]any{}); err != nil {
		t.Fatal(err)
	}
	jr, reply, _ = c.Join(servertest.Ctx(t, wait), topic, cfg, p.member.AccessToken)
	if reply.Status != "ok" {
		t.Fatal(reply)
	}
	ref, _ := c.Push(servertest.Ctx(t, wait), jr, topic, phx.EventPresence, map[string]any{"type": "presence", "event": "track", "payload": map[string]any{"n": 6}})
	await(t, c, "6th reply", servertest.IsReply(ref))
	f := await(t, c, "rate limit", servertest.IsEvent(topic, phx.EventSystem))
	if !strings.Contains(fmt.Sprint(f.Payload()["message"]), "rate limit") {
		t.Fatalf("6th presence call after a rejoin: %s", f)
	}
}

// Broadcasts in a room come from its current members, and are bounded in size.
func TestAttackRoomBroadcast(t *testing.T) {
	p := newParty(t, server.Config{})
	a, b := p.dial(t), p.dial(t)
	topic := servertest.RoomTopic(p.roomID)
	jr := joinRoom(t, a, p.roomID, p.member)
	joinRoom(t, b, p.roomID, p.host)
	ref, _ := a.Push(servertest.Ctx(t, wait), jr, topic, phx.EventBroadcast, map[string]any{"type": "broadcast", "event": "big", "payload": strings.Repeat("x", 70<<10)})
	if f := await(t, a, "reply", servertest.IsReply(ref)); f.Reply().Status != "error" {
		t.Fatalf("a 70 KB broadcast: %s", f)
	}
	// A member who left can't speak in the room any more, though their socket is still there.
	wantFn(t, p.api.Invoke(p.member.AccessToken, "rooms/leave", map[string]any{"room_id": p.roomID}), 200, "")
	ref, _ = a.Push(servertest.Ctx(t, wait), jr, topic, phx.EventBroadcast, map[string]any{"type": "broadcast", "event": "chat", "payload": map[string]any{"x": 1}})
	if f := await(t, a, "reply", servertest.IsReply(ref)); f.Reply().Status != "error" {
		t.Fatalf("a broadcast after leaving: %s", f)
	}
	for _, f := range barrier(t, b) {
		if f.Msg.Event == phx.EventBroadcast {
			t.Fatalf("the room received %s", f)
		}
	}
}

// Binding and topic bombs: bounded per join and per connection, topic names bounded.
func TestAttackBindingsAndTopics(t *testing.T) {
	p := newParty(t, server.Config{})
	c := p.dial(t)
	many := func(n int) phx.JoinConfig {
		var b []phx.ChangeBinding
		for range n {
			b = append(b, phx.ChangeBinding{Event: "*", Schema: "public", Table: "comments", Filter: "room_id=eq." + p.roomID})
		}
		return phx.JoinConfig{PostgresChanges: b}
	}
	if _, reply, _ := c.Join(servertest.Ctx(t, wait), "realtime:t0", many(11), ""); reply.Status != "error" {
		t.Fatalf("11 bindings in one join: %+v", reply)
	}
	for i := range 10 {
		if _, reply, _ := c.Join(servertest.Ctx(t, wait), fmt.Sprintf("realtime:t%d", i), many(10), ""); reply.Status != "ok" {
			t.Fatalf("join %d: %+v", i, reply)
		}
	}
	if _, reply, _ := c.Join(servertest.Ctx(t, wait), "realtime:t10", many(1), ""); reply.Status != "error" {
		t.Fatalf("the 101st binding of a connection: %+v", reply)
	}
	// Leaving gives the budget back.
	if _, err := c.Push(servertest.Ctx(t, wait), "", "realtime:t0", phx.EventLeave, map[string]any{}); err != nil {
		t.Fatal(err)
	}
	barrier(t, c)
	if _, reply, _ := c.Join(servertest.Ctx(t, wait), "realtime:t10", many(10), ""); reply.Status != "ok" {
		t.Fatalf("after a leave: %+v", reply)
	}
	if _, reply, _ := c.Join(servertest.Ctx(t, wait), "realtime:"+strings.Repeat("t", 300), phx.JoinConfig{}, ""); reply.Status != "error" {
		t.Fatalf("a 300-byte topic: %+v", reply)
	}
}

// One address can't hold more than 64 sockets.
func TestAttackConnectionsPerAddress(t *testing.T) {
	s := servertest.Start(t, server.Config{})
	for i := range 64 {
		servertest.DialT(t, s.WSURL(phx.Vsn2), servertest.DialOptions{})
		_ = i
	}
	_, err := servertest.Dial(servertest.Ctx(t, wait), s.WSURL(phx.Vsn2), servertest.DialOptions{})
	if err == nil || !strings.Contains(err.Error(), "429") {
		t.Fatalf("the 65th socket from one address: %v, want 429", err)
	}
	// Another address is unaffected.
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}
	hc := &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
	servertest.DialT(t, s.WSURL(phx.Vsn2), servertest.DialOptions{HTTPClient: hc})
}

// A body trickled a byte at a time is cut off at the request timeout.
func TestAttackSlowBody(t *testing.T) {
	s := servertest.Start(t, server.Config{RequestTimeout: 300 * time.Millisecond})
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /functions/v1/rooms/create HTTP/1.1\r\nHost: x\r\napikey: %s\r\nContent-Length: 1000\r\n\r\n{", s.AnonKey)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	go func() {
		// Keep trickling; the server must not wait for it.
		for ctx.Err() == nil {
			if _, err := conn.Write([]byte(" ")); err != nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	conn.SetReadDeadline(time.Now().Add(wait))
	_, err = io.ReadAll(bufio.NewReader(conn))
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("the server still holds a trickled request after 5 s (timeout 300 ms)")
	}
}

// An access token of a signed-out session no longer opens channels.
func TestAttackSignedOutToken(t *testing.T) {
	p := newParty(t, server.Config{})
	if r := p.api.Do(http.MethodPost, "/auth/v1/logout", p.member.AccessToken, nil); r.Status != 204 {
		t.Fatalf("logout: %d %s", r.Status, r.Body)
	}
	c := p.dial(t)
	_, reply, _ := c.Join(servertest.Ctx(t, wait), "realtime:lobby", phx.JoinConfig{}, p.member.AccessToken)
	if reply.Status != "error" || !strings.Contains(string(reply.Response), "revoked") {
		t.Fatalf("join with a signed-out token: %+v", reply)
	}
	wantFn(t, p.api.Invoke(p.member.AccessToken, "comments/create", map[string]any{"room_id": p.roomID, "message": "x"}), 401, "UNAUTHORIZED")
}

// A presence-state bomb: many sockets tracking on one topic. Keys per topic and metas per key
// are capped, so the state every member receives on join stays small.
func TestAttackPresenceState(t *testing.T) {
	s := servertest.Start(t, server.Config{})
	const topic = "realtime:lobby"
	dialFrom := func(ip byte) *servertest.Client {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, ip)}}
		hc := &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
		return servertest.DialT(t, s.WSURL(phx.Vsn2), servertest.DialOptions{HTTPClient: hc})
	}
	track := func(c *servertest.Client, key string) string {
		t.Helper()
		jr, reply, err := c.Join(servertest.Ctx(t, wait), topic, phx.JoinConfig{Presence: phx.PresenceConfig{Key: key}}, "")
		if err != nil || reply.Status != "ok" {
			t.Fatal(err, reply)
		}
		ref, err := c.Push(servertest.Ctx(t, wait), jr, topic, phx.EventPresence, map[string]any{"type": "presence", "event": "track", "payload": map[string]any{"k": key}})
		if err != nil {
			t.Fatal(err)
		}
		return await(t, c, "track reply", servertest.IsReply(ref)).Reply().Status
	}
	// Ten windows of one person are fine; the eleventh under the same key is refused.
	for i := range 10 {
		if st := track(dialFrom(10), "same"); st != "ok" {
			t.Fatalf("meta %d of one key: %s", i+1, st)
		}
	}
	if st := track(dialFrom(10), "same"); st != "error" {
		t.Fatalf("the 11th meta of one key: %s", st)
	}
	// 100 keys per topic (one is taken above), then refused.
	for i := range 99 {
		if st := track(dialFrom(byte(11+i/50)), fmt.Sprint("k", i)); st != "ok" {
			t.Fatalf("key %d: %s", i+2, st)
		}
	}
	if st := track(dialFrom(20), "one-too-many"); st != "error" {
		t.Fatalf("the 101st key: %s", st)
	}
}
