package server_test

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/watchparty/watchparty/realtime/phx"
	"github.com/watchparty/watchparty/server"
	"github.com/watchparty/watchparty/server/servertest"
)

const wait = 5 * time.Second

func next(t *testing.T, c *servertest.Client) servertest.Frame {
	t.Helper()
	f, err := c.Next(servertest.Ctx(t, wait))
	if err != nil {
		t.Fatalf("next frame: %v", err)
	}
	return f
}

func await(t *testing.T, c *servertest.Client, what string, match func(servertest.Frame) bool) servertest.Frame {
	t.Helper()
	f, err := c.Await(servertest.Ctx(t, wait), match)
	if err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
	return f
}

// barrier sends a heartbeat and returns every frame that arrived before its reply. The server
// queues a connection's frames in order, and fan-out is queued before the HTTP reply of the
// write that caused it, so a frame that is not here was never sent.
func barrier(t *testing.T, c *servertest.Client) []servertest.Frame {
	t.Helper()
	ref, err := c.Push(servertest.Ctx(t, wait), "", phx.TopicPhoenix, phx.EventHeartbeat, map[string]any{})
	if err != nil {
		t.Fatalf("heartbeat: %v", err)
	}
	var before []servertest.Frame
	for {
		f := next(t, c)
		if servertest.IsReply(ref)(f) && f.Msg.Topic == phx.TopicPhoenix {
			return before
		}
		before = append(before, f)
	}
}

func noFrames(t *testing.T, c *servertest.Client, what string) {
	t.Helper()
	if got := barrier(t, c); len(got) > 0 {
		t.Fatalf("%s: got %v", what, got)
	}
}

// joinRoom joins the browser client's channel (docs/design.md §1) for roomID as sess and consumes
// the reply, the presence_state and the "Subscribed to PostgreSQL" notice.
func joinRoom(t *testing.T, c *servertest.Client, roomID string, sess servertest.Session) string {
	t.Helper()
	topic := servertest.RoomTopic(roomID)
	jr, reply, err := c.Join(servertest.Ctx(t, wait), topic, servertest.SeedConfig(roomID, sess.UserID), sess.AccessToken)
	if err != nil || reply.Status != phx.StatusOK {
		t.Fatalf("join %s: %v %s", topic, err, reply.Response)
	}
	await(t, c, "presence_state", servertest.IsEvent(topic, phx.EventPresenceState))
	sys := await(t, c, "system notice", servertest.IsEvent(topic, phx.EventSystem))
	if sys.Payload()["status"] != "ok" {
		t.Fatalf("system after join: %s", sys)
	}
	return jr
}

// party is a server with a room, its host and one member, both signed in.
type party struct {
	s            *servertest.Server
	api          servertest.T
	host, member servertest.Session
	roomID       string
}

func newParty(t *testing.T, cfg server.Config) party {
	s := servertest.Start(t, cfg)
	api := s.API().For(t)
	p := party{s: s, api: api, host: api.SignUp(), member: api.SignUp()}
	p.roomID = api.CreateRoom(p.host.AccessToken, "Host")
	api.JoinRoom(p.member.AccessToken, p.roomID, "Member")
	return p
}

func (p party) dial(t *testing.T) *servertest.Client {
	return servertest.DialT(t, p.s.WSURL(phx.Vsn2), servertest.DialOptions{})
}

func TestHeartbeat(t *testing.T) {
	s := servertest.Start(t, server.Config{})
	c := servertest.DialT(t, s.WSURL(phx.Vsn2), servertest.DialOptions{})
	if err := c.WriteRaw(servertest.Ctx(t, wait), websocket.MessageText, []byte(`[null,"1","phoenix","heartbeat",{}]`)); err != nil {
		t.Fatal(err)
	}
	if f := next(t, c); string(f.Raw) != `[null,"1","phoenix","phx_reply",{"status":"ok","response":{}}]` {
		t.Fatalf("heartbeat reply = %s", f.Raw)
	}
}

func TestJoinEchoAndPresenceState(t *testing.T) {
	p := newParty(t, server.Config{})
	c := p.dial(t)
	topic := servertest.RoomTopic(p.roomID)
	cfg := servertest.SeedConfig(p.roomID, p.host.UserID)
	jr, reply, err := c.Join(servertest.Ctx(t, wait), topic, cfg, p.host.AccessToken)
	if err != nil || reply.Status != "ok" {
		t.Fatalf("join: %v %s", err, reply.Response)
	}
	var resp struct {
		PostgresChanges []map[string]json.RawMessage `json:"postgres_changes"`
	}
	if err := json.Unmarshal(reply.Response, &resp); err != nil || len(resp.PostgresChanges) != 3 {
		t.Fatalf("join response = %s", reply.Response)
	}
	for i, b := range resp.PostgresChanges {
		var id int64
		if err := json.Unmarshal(b["id"], &id); err != nil || id <= 0 {
			t.Fatalf("binding %d id %s is not a positive integer", i, b["id"])
		}
		sent := cfg.PostgresChanges[i]
		for k, want := range map[string]string{"event": sent.Event, "schema": sent.Schema, "table": sent.Table, "filter": sent.Filter} {
			var got string
			if json.Unmarshal(b[k], &got) != nil || got != want {
				t.Fatalf("binding %d %s = %s, want %q (echo must keep the order)", i, k, b[k], want)
			}
		}
	}
	f := next(t, c)
	if f.Msg.Event != phx.EventPresenceState || f.Msg.JoinRef != jr || f.Msg.Ref != "" || string(f.Msg.Payload) != "{}" {
		t.Fatalf("after the reply: %s, want an empty presence_state with join_ref %s", f, jr)
	}
	f = next(t, c)
	if f.Msg.Event != phx.EventSystem || f.Payload()["message"] != "Subscribed to PostgreSQL" || f.Payload()["channel"] != "room:"+p.roomID {
		t.Fatalf("then: %s", f)
	}

	// Join errors.
	_, reply, _ = c.Join(servertest.Ctx(t, wait), "realtime:", phx.JoinConfig{}, "")
	if reply.Status != "error" || !strings.Contains(string(reply.Response), "TopicNameRequired") {
		t.Fatalf("empty topic: %s", reply.Response)
	}
	_, reply, _ = c.Join(servertest.Ctx(t, wait), "realtime:other", phx.JoinConfig{}, "garbage")
	if reply.Status != "error" || !strings.Contains(string(reply.Response), "MalformedJWT") {
		t.Fatalf("garbage token: %s", reply.Response)
	}
	var bad []phx.ChangeBinding
	json.Unmarshal([]byte(`[{"event":"*","schema":"public","table":"comments","filter":"id=foo.hey"}]`), &bad)
	_, reply, _ = c.Join(servertest.Ctx(t, wait), "realtime:bad", phx.JoinConfig{PostgresChanges: bad}, "")
	if reply.Status != "ok" {
		t.Fatalf("a bad filter must not fail the join: %s", reply.Response)
	}
	sys := await(t, c, "filter error", servertest.IsEvent("realtime:bad", phx.EventSystem))
	if sys.Payload()["status"] != "error" || !strings.Contains(sys.Payload()["message"].(string), "filter") {
		t.Fatalf("bad filter notice: %s", sys)
	}
}

func TestPresence(t *testing.T) {
	p := newParty(t, server.Config{})
	a, b := p.dial(t), p.dial(t)
	topic := servertest.RoomTopic(p.roomID)
	jrA := joinRoom(t, a, p.roomID, p.host)
	joinRoom(t, b, p.roomID, p.member)

	track := func(c *servertest.Client, jr string, payload any) {
		t.Helper()
		ref, err := c.Push(servertest.Ctx(t, wait), jr, topic, phx.EventPresence, map[string]any{"type": "presence", "event": "track", "payload": payload})
		if err != nil {
			t.Fatal(err)
		}
		if r := await(t, c, "track reply", servertest.IsReply(ref)).Reply(); r.Status != "ok" {
			t.Fatalf("track reply: %s", r.Response)
		}
	}
	diffOf := func(f servertest.Frame) phx.Diff {
		t.Helper()
		if f.Msg.Event != phx.EventPresenceDiff || f.Msg.JoinRef != "" || f.Msg.Ref != "" {
			t.Fatalf("want a presence_diff with null refs, got %s", f)
		}
		var d phx.Diff
		if err := json.Unmarshal(f.Msg.Payload, &d); err != nil {
			t.Fatal(err)
		}
		return d
	}

	// A track reaches everyone, the sender included.
	track(a, jrA, map[string]any{"user_id": p.host.UserID, "name": "Host"})
	var ref1 string
	for _, c := range []*servertest.Client{a, b} {
		d := diffOf(await(t, c, "presence_diff", servertest.IsEvent(topic, phx.EventPresenceDiff)))
		metas := d.Joins[p.host.UserID].Metas
		if len(metas) != 1 || metas[0]["name"] != "Host" || metas[0]["phx_ref"] == nil || len(d.Leaves) != 0 {
			t.Fatalf("first track diff = %+v", d)
		}
		ref1 = metas[0]["phx_ref"].(string)
	}
	// An identical re-track is acknowledged but sends no diff.
	track(a, jrA, map[string]any{"user_id": p.host.UserID, "name": "Host"})
	noFrames(t, b, "identical re-track")
	// A changed track: joins the new meta (with phx_ref_prev) and leaves the old.
	track(a, jrA, map[string]any{"user_id": p.host.UserID, "name": "Host2"})
	d := diffOf(await(t, b, "update diff", servertest.IsEvent(topic, phx.EventPresenceDiff)))
	j, l := d.Joins[p.host.UserID].Metas, d.Leaves[p.host.UserID].Metas
	if len(j) != 1 || len(l) != 1 || j[0]["name"] != "Host2" || j[0]["phx_ref_prev"] != ref1 || l[0]["phx_ref"] != ref1 {
		t.Fatalf("update diff = %+v", d)
	}

	// A late joiner gets the tracked state.
	c := p.dial(t)
	_, reply, err := c.Join(servertest.Ctx(t, wait), topic, servertest.SeedConfig(p.roomID, p.member.UserID), p.member.AccessToken)
	if err != nil || reply.Status != "ok" {
		t.Fatal(err, reply)
	}
	st := await(t, c, "presence_state", servertest.IsEvent(topic, phx.EventPresenceState))
	var state phx.State
	json.Unmarshal(st.Msg.Payload, &state)
	if m := state[p.host.UserID].Metas; len(m) != 1 || m[0]["name"] != "Host2" {
		t.Fatalf("presence_state = %s", st.Msg.Payload)
	}

	// Untrack: a leaves diff.
	ref, _ := a.Push(servertest.Ctx(t, wait), jrA, topic, phx.EventPresence, map[string]any{"type": "presence", "event": "untrack"})
	await(t, a, "untrack reply", servertest.IsReply(ref))
	d = diffOf(await(t, b, "untrack diff", servertest.IsEvent(topic, phx.EventPresenceDiff)))
	if len(d.Joins) != 0 || len(d.Leaves[p.host.UserID].Metas) != 1 {
		t.Fatalf("untrack diff = %+v", d)
	}
	// A payload that is not a map is refused with Supabase's reason.
	ref, _ = a.Push(servertest.Ctx(t, wait), jrA, topic, phx.EventPresence, map[string]any{"type": "presence", "event": "track", "payload": []int{1}})
	if r := await(t, a, "bad track reply", servertest.IsReply(ref)).Reply(); r.Status != "error" || !strings.Contains(string(r.Response), "must be a map") {
		t.Fatalf("bad track: %s %s", r.Status, r.Response)
	}
}

func TestLeaveAndDisconnect(t *testing.T) {
	p := newParty(t, server.Config{})
	a, b := p.dial(t), p.dial(t)
	topic := servertest.RoomTopic(p.roomID)
	jrA := joinRoom(t, a, p.roomID, p.host)
	jrB := joinRoom(t, b, p.roomID, p.member)
	for _, x := range []struct {
		c  *servertest.Client
		jr string
	}{{a, jrA}, {b, jrB}} {
		ref, _ := x.c.Push(servertest.Ctx(t, wait), x.jr, topic, phx.EventPresence, map[string]any{"type": "presence", "event": "track", "payload": map[string]any{"x": x.jr}})
		await(t, x.c, "track reply", servertest.IsReply(ref))
	}
	await(t, a, "b's join", func(f servertest.Frame) bool {
		return f.Msg.Event == phx.EventPresenceDiff && strings.Contains(string(f.Msg.Payload), p.member.UserID)
	})
	barrier(t, b)

	// phx_leave: ok reply, then phx_close with ref = join_ref, then the others see the leave.
	ref, _ := b.Push(servertest.Ctx(t, wait), jrB, topic, phx.EventLeave, map[string]any{})
	if f := next(t, b); !servertest.IsReply(ref)(f) || f.Msg.JoinRef != jrB || f.Reply().Status != "ok" {
		t.Fatalf("leave reply = %s", f)
	}
	if f := next(t, b); f.Msg.Event != phx.EventClose || f.Msg.JoinRef != jrB || f.Msg.Ref != jrB {
		t.Fatalf("after leave reply = %s, want phx_close [%s,%s]", f, jrB, jrB)
	}
	f := await(t, a, "leave diff", servertest.IsEvent(topic, phx.EventPresenceDiff))
	var d phx.Diff
	json.Unmarshal(f.Msg.Payload, &d)
	if len(d.Leaves[p.member.UserID].Metas) != 1 || len(d.Joins) != 0 {
		t.Fatalf("leave diff = %s", f.Msg.Payload)
	}
	// After leaving, pushes to the topic are unmatched; a second leave is still ok.
	ref, _ = b.Push(servertest.Ctx(t, wait), jrB, topic, phx.EventPresence, map[string]any{"type": "presence", "event": "untrack"})
	if f := next(t, b); string(f.Raw) != `[null,"`+ref+`","`+topic+`","phx_reply",{"status":"error","response":{"reason":"unmatched topic"}}]` {
		t.Fatalf("unmatched topic reply = %s", f.Raw)
	}
	ref, _ = b.Push(servertest.Ctx(t, wait), jrB, topic, phx.EventLeave, map[string]any{})
	if f := next(t, b); !servertest.IsReply(ref)(f) || f.Reply().Status != "ok" {
		t.Fatalf("leave of an unjoined topic = %s", f)
	}

	// A closed socket: the others see its presence leave.
	c := p.dial(t)
	jrC := joinRoom(t, c, p.roomID, p.member)
	ref, _ = c.Push(servertest.Ctx(t, wait), jrC, topic, phx.EventPresence, map[string]any{"type": "presence", "event": "track", "payload": map[string]any{"who": "c"}})
	await(t, c, "track reply", servertest.IsReply(ref))
	await(t, a, "c's join", servertest.IsEvent(topic, phx.EventPresenceDiff))
	c.Close()
	f = await(t, a, "c's leave", servertest.IsEvent(topic, phx.EventPresenceDiff))
	if !strings.Contains(string(f.Msg.Payload), `"leaves":{"`+p.member.UserID) || !strings.Contains(string(f.Msg.Payload), `"who":"c"`) {
		t.Fatalf("disconnect diff = %s", f.Msg.Payload)
	}
	// A second join of the same topic closes the old channel first.
	jr1 := joinRoom(t, b, p.roomID, p.member)
	jr2, reply, _ := b.Join(servertest.Ctx(t, wait), topic, servertest.SeedConfig(p.roomID, p.member.UserID), p.member.AccessToken)
	if reply.Status != "ok" || jr1 == jr2 {
		t.Fatalf("rejoin: %s", reply.Response)
	}
}

var commitTS = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)

// changeOf checks a postgres_changes frame's envelope and returns its payload.
func changeOf(t *testing.T, f servertest.Frame, table, typ string) (ids []int64, data map[string]any) {
	t.Helper()
	if f.Msg.Event != phx.EventPostgresChanges || f.Msg.JoinRef != "" || f.Msg.Ref != "" || f.Binary {
		t.Fatalf("want a text postgres_changes frame with null refs, got %s", f)
	}
	var p struct {
		IDs  []int64        `json:"ids"`
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal(f.Msg.Payload, &p); err != nil {
		t.Fatal(err)
	}
	d := p.Data
	keys := []string{"schema", "table", "commit_timestamp", "type", "errors", "columns"}
	switch typ {
	case "INSERT":
		keys = append(keys, "record")
	case "UPDATE":
		keys = append(keys, "record", "old_record")
	case "DELETE":
		keys = append(keys, "old_record")
	}
	var got []string
	for k := range d {
		got = append(got, k)
	}
	if len(got) != len(keys) {
		t.Fatalf("%s %s data keys = %v, want %v", table, typ, got, keys)
	}
	for _, k := range keys {
		if _, ok := d[k]; !ok {
			t.Fatalf("%s %s data lacks %q: %s", table, typ, k, f.Msg.Payload)
		}
	}
	if d["schema"] != "public" || d["table"] != table || d["type"] != typ || d["errors"] != nil {
		t.Fatalf("change = %s, want public.%s %s with errors null", f.Msg.Payload, table, typ)
	}
	ts, _ := d["commit_timestamp"].(string)
	at, err := time.Parse(phx.CommitTimestampLayout, ts)
	if !commitTS.MatchString(ts) || err != nil || time.Since(at) > time.Minute || time.Since(at) < -time.Second {
		t.Fatalf("commit_timestamp %q", ts)
	}
	cols, _ := d["columns"].([]any)
	row, _ := d["record"].(map[string]any)
	if typ == "DELETE" {
		row, _ = d["old_record"].(map[string]any)
	}
	if len(cols) != len(row) {
		t.Fatalf("%d columns for a row of %d: %s", len(cols), len(row), f.Msg.Payload)
	}
	for _, c := range cols {
		c := c.(map[string]any)
		if _, ok := row[c["name"].(string)]; !ok || c["type"] == "" || len(c) != 2 {
			t.Fatalf("column %v not in the row", c)
		}
	}
	return p.IDs, d
}

func TestPostgresChanges(t *testing.T) {
	p := newParty(t, server.Config{})
	c := p.dial(t)
	topic := servertest.RoomTopic(p.roomID)
	_, reply, err := c.Join(servertest.Ctx(t, wait), topic, servertest.SeedConfig(p.roomID, p.member.UserID), p.member.AccessToken)
	if err != nil || reply.Status != "ok" {
		t.Fatal(err, reply)
	}
	var echo struct {
		PostgresChanges []phx.ChangeBinding `json:"postgres_changes"`
	}
	json.Unmarshal(reply.Response, &echo)
	idRooms, idMembers, idComments := echo.PostgresChanges[0].ID, echo.PostgresChanges[1].ID, echo.PostgresChanges[2].ID
	await(t, c, "system", servertest.IsEvent(topic, phx.EventSystem))
	isChange := servertest.IsEvent(topic, phx.EventPostgresChanges)

	// rooms UPDATE from a host control.
	wantFn(t, p.api.Invoke(p.host.AccessToken, "sync/control", map[string]any{"room_id": p.roomID, "action": "play", "current_time": 42}), 200, "")
	ids, d := changeOf(t, await(t, c, "rooms update", isChange), "rooms", "UPDATE")
	rec, old := d["record"].(map[string]any), d["old_record"].(map[string]any)
	if !reflect.DeepEqual(ids, []int64{idRooms}) || rec["is_playing"] != true || rec["current_time"] != 42.0 || rec["state_version"] != 1.0 || old["is_playing"] != false {
		t.Fatalf("rooms update: ids %v %v", ids, d)
	}
	// room_members UPDATE from track_user_presence.
	if r := p.api.RPC(p.host.AccessToken, "track_user_presence", map[string]any{"p_room_id": p.roomID, "p_current_time": 43.5, "p_is_playing": true}); r.Status != 204 {
		t.Fatalf("track: %d %s", r.Status, r.Body)
	}
	ids, d = changeOf(t, await(t, c, "members update", isChange), "room_members", "UPDATE")
	if rec := d["record"].(map[string]any); !reflect.DeepEqual(ids, []int64{idMembers}) || rec["user_id"] != p.host.UserID || rec["current_time"] != 43.5 {
		t.Fatalf("members update: %v %v", ids, d)
	}
	// comments INSERT.
	wantFn(t, p.api.Invoke(p.host.AccessToken, "comments/create", map[string]any{"room_id": p.roomID, "message": "hello", "video_timestamp": 43}), 200, "")
	ids, d = changeOf(t, await(t, c, "comment insert", isChange), "comments", "INSERT")
	if rec := d["record"].(map[string]any); !reflect.DeepEqual(ids, []int64{idComments}) || rec["message"] != "hello" || rec["username"] != "Host" || rec["video_timestamp"] != 43.0 {
		t.Fatalf("comment insert: %v %v", ids, d)
	}
	// A third user joins and leaves: room_members INSERT, then an UPDATE that sets left_at (a
	// soft leave: never a DELETE, which Supabase publishes without row security), each with a
	// system comment.
	third := p.api.SignUp()
	p.api.JoinRoom(third.AccessToken, p.roomID, "Third")
	ids, d = changeOf(t, await(t, c, "member insert", isChange), "room_members", "INSERT")
	if !reflect.DeepEqual(ids, []int64{idMembers}) || d["record"].(map[string]any)["username"] != "Third" {
		t.Fatalf("member insert: %v %v", ids, d)
	}
	// JoinRoom's first beat announces Third: the row's UPDATE (announced), then the notice.
	if _, d = changeOf(t, await(t, c, "first beat", isChange), "room_members", "UPDATE"); d["record"].(map[string]any)["announced"] != true {
		t.Fatalf("first beat: %v", d)
	}
	_, d = changeOf(t, await(t, c, "join notice", isChange), "comments", "INSERT")
	if d["record"].(map[string]any)["is_system_message"] != true {
		t.Fatalf("join notice: %v", d)
	}
	wantFn(t, p.api.Invoke(third.AccessToken, "rooms/leave", map[string]any{"room_id": p.roomID}), 200, "")
	ids, d = changeOf(t, await(t, c, "member leave", isChange), "room_members", "UPDATE")
	if rec := d["record"].(map[string]any); !reflect.DeepEqual(ids, []int64{idMembers}) || rec["user_id"] != third.UserID || rec["left_at"] == nil {
		t.Fatalf("member leave: %v %v", ids, d)
	}
	changeOf(t, await(t, c, "leave notice", isChange), "comments", "INSERT")
	noFrames(t, c, "after the leave notice")
}

// Rows of a room reach only its current members, whatever topic or filter a socket uses, and a
// room's channel is for its members only.
func TestChangesNeedMembership(t *testing.T) {
	p := newParty(t, server.Config{})
	api := p.api
	stranger := api.SignUp()
	member, outsider, anon := p.dial(t), p.dial(t), p.dial(t)
	joinRoom(t, member, p.roomID, p.member)
	topic := servertest.RoomTopic(p.roomID)
	// The room's channel refuses a signed-in non-member and the anon key.
	for who, tok := range map[string]string{"a non-member": stranger.AccessToken, "the anon key": ""} {
		c := outsider
		if tok == "" {
			c = anon
		}
		_, reply, _ := c.Join(servertest.Ctx(t, wait), topic, servertest.SeedConfig(p.roomID, p.member.UserID), tok)
		if reply.Status != "error" || !strings.Contains(string(reply.Response), "Unauthorized") {
			t.Fatalf("%s joined the room's channel: %+v", who, reply)
		}
	}
	// Any other topic with the room's filter is allowed, but carries no rows of a room the
	// socket's user is not in.
	const lobby = "realtime:lobby"
	if _, reply, _ := outsider.Join(servertest.Ctx(t, wait), lobby, servertest.SeedConfig(p.roomID, stranger.UserID), stranger.AccessToken); reply.Status != "ok" {
		t.Fatal(reply)
	}
	if _, reply, _ := anon.Join(servertest.Ctx(t, wait), lobby, servertest.SeedConfig(p.roomID, p.member.UserID), ""); reply.Status != "ok" {
		t.Fatal(reply)
	}
	barrier(t, outsider)
	barrier(t, anon)

	wantFn(t, api.Invoke(p.host.AccessToken, "comments/create", map[string]any{"room_id": p.roomID, "message": "members only"}), 200, "")
	third := api.SignUp()
	api.JoinRoom(third.AccessToken, p.roomID, "Third")
	wantFn(t, api.Invoke(third.AccessToken, "rooms/leave", map[string]any{"room_id": p.roomID}), 200, "")
	isChange := servertest.IsEvent(topic, phx.EventPostgresChanges)
	await(t, member, "the member's change", isChange)
	noFrames(t, outsider, "a non-member's socket (comments, joins and leaves)")
	noFrames(t, anon, "an anonymous socket")

	// access_token: the anon socket becomes the member and now receives the room's changes.
	if _, err := anon.Push(servertest.Ctx(t, wait), "", lobby, phx.EventAccessToken, map[string]any{"access_token": p.member.AccessToken}); err != nil {
		t.Fatal(err)
	}
	barrier(t, anon) // access_token has no reply; the barrier makes sure it was handled
	wantFn(t, api.Invoke(p.host.AccessToken, "comments/create", map[string]any{"room_id": p.roomID, "message": "now you see it"}), 200, "")
	f := await(t, anon, "change after access_token", servertest.IsEvent(lobby, phx.EventPostgresChanges))
	if !strings.Contains(string(f.Msg.Payload), "now you see it") {
		t.Fatalf("change = %s", f)
	}
	// An invalid token shuts the channel: system error, then phx_close.
	anon.Push(servertest.Ctx(t, wait), "", lobby, phx.EventAccessToken, map[string]any{"access_token": "garbage"})
	f = next(t, anon)
	if f.Msg.Event != phx.EventSystem || f.Payload()["status"] != "error" {
		t.Fatalf("bad access_token: %s", f)
	}
	if f = next(t, anon); f.Msg.Event != phx.EventClose {
		t.Fatalf("then %s, want phx_close", f)
	}
	// A room channel can't change hands: another member's token closes it (a refreshed token
	// of the same member, or the anon key, may replace the joining token).
	memberTopic := topic
	member.Push(servertest.Ctx(t, wait), "", memberTopic, phx.EventAccessToken, map[string]any{"access_token": p.host.AccessToken})
	if f = await(t, member, "room channel handed over", servertest.IsEvent(memberTopic, phx.EventSystem)); f.Payload()["status"] != "error" {
		t.Fatalf("token of another member on a room channel: %s", f)
	}
}

// On our tables only the filter the product uses is served: other filters, no filter and the
// "*" table are refused with a system error, and no row reaches them.
func TestOnlyRoomFilters(t *testing.T) {
	p := newParty(t, server.Config{})
	refused := []phx.ChangeBinding{
		{Event: "*", Schema: "public", Table: "comments"},
		{Event: "*", Schema: "public", Table: "comments", Filter: "id=gt.0"},
		{Event: "*", Schema: "public", Table: "room_members", Filter: "user_id=eq." + p.member.UserID},
		{Event: "*", Schema: "public", Table: "rooms", Filter: "room_id=neq." + p.roomID},
		{Event: "*", Schema: "public", Table: "*"},
		{Event: "*", Schema: "*"},
	}
	served := phx.ChangeBinding{Event: "INSERT", Schema: "public", Table: "comments", Filter: "room_id=eq." + p.roomID}
	c := p.dial(t)
	topic := servertest.RoomTopic(p.roomID)
	_, reply, err := c.Join(servertest.Ctx(t, wait), topic, phx.JoinConfig{PostgresChanges: append(refused, served)}, p.member.AccessToken)
	if err != nil || reply.Status != "ok" {
		t.Fatal(err, reply)
	}
	var echo struct {
		PostgresChanges []phx.ChangeBinding `json:"postgres_changes"`
	}
	json.Unmarshal(reply.Response, &echo)
	f := await(t, c, "system", servertest.IsEvent(topic, phx.EventSystem))
	if f.Payload()["status"] != "error" || !strings.Contains(fmt.Sprint(f.Payload()["message"]), "only room_id=eq.") {
		t.Fatalf("refused bindings: %s", f)
	}
	wantFn(t, p.api.Invoke(p.host.AccessToken, "comments/create", map[string]any{"room_id": p.roomID, "message": "x"}), 200, "")
	ids, _ := changeOf(t, await(t, c, "change", servertest.IsEvent(topic, phx.EventPostgresChanges)), "comments", "INSERT")
	if want := []int64{echo.PostgresChanges[len(refused)].ID}; !reflect.DeepEqual(ids, want) {
		t.Fatalf("ids %v, want only the room filter's %v", ids, want)
	}
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func hexOf(b []byte) string { return hex.EncodeToString(b) }

func TestPresenceRateLimit(t *testing.T) {
	var clk clock
	p := newParty(t, server.Config{Now: clk.Now})
	c := p.dial(t)
	topic := servertest.RoomTopic(p.roomID)
	jr := joinRoom(t, c, p.roomID, p.member)
	track := func(i int) string {
		ref, err := c.Push(servertest.Ctx(t, wait), jr, topic, phx.EventPresence, map[string]any{"type": "presence", "event": "track", "payload": map[string]any{"i": i}})
		if err != nil {
			t.Fatal(err)
		}
		return ref
	}
	for i := range 5 {
		ref := track(i)
		await(t, c, "track reply", servertest.IsReply(ref))
	}
	// 30 s later the window has moved on: five more are fine.
	clk.Set(31 * time.Second)
	for i := range 5 {
		ref := track(10 + i)
		await(t, c, "track reply", servertest.IsReply(ref))
	}
	barrier(t, c)
	// The sixth inside the window closes the channel: system error, then phx_close.
	ref := track(99)
	if f := next(t, c); !servertest.IsReply(ref)(f) {
		t.Fatalf("6th track: %s, want its reply", f)
	}
	f := next(t, c)
	if f.Msg.Event != phx.EventSystem || f.Msg.JoinRef != jr || f.Payload()["message"] != "Client presence rate limit exceeded" || f.Payload()["status"] != "error" {
		t.Fatalf("6th track: %s, want the rate limit system error", f)
	}
	if f = next(t, c); f.Msg.Event != phx.EventClose || f.Msg.Ref != jr {
		t.Fatalf("then %s, want phx_close", f)
	}
	// The server forgot the channel; the socket still works.
	ref = track(100)
	if f := next(t, c); !strings.Contains(string(f.Msg.Payload), "unmatched topic") || f.Msg.Ref != ref {
		t.Fatalf("push after the close: %s", f)
	}
}

func TestIdleClose(t *testing.T) {
	s := servertest.Start(t, server.Config{IdleTimeout: time.Second})
	idle := servertest.DialT(t, s.WSURL(phx.Vsn2), servertest.DialOptions{})
	busy := servertest.DialT(t, s.WSURL(phx.Vsn2), servertest.DialOptions{})
	start := time.Now()
	for time.Since(start) < 2500*time.Millisecond { // the busy client heartbeats well inside the timeout
		barrier(t, busy)
		time.Sleep(100 * time.Millisecond)
	}
	code, reason, err := idle.CloseStatus(servertest.Ctx(t, wait))
	if err != nil || code != websocket.StatusPolicyViolation || !strings.Contains(reason, "no message for 1s") {
		t.Fatalf("idle close: %v %v %q", err, code, reason)
	}
	barrier(t, busy)
}

func TestVsn1(t *testing.T) {
	p := newParty(t, server.Config{})
	c := servertest.DialT(t, p.s.WSURL(phx.Vsn1), servertest.DialOptions{Vsn: phx.Vsn1})
	if err := c.WriteRaw(servertest.Ctx(t, wait), websocket.MessageText, []byte(`{"topic":"phoenix","event":"heartbeat","payload":{},"ref":"1","join_ref":null}`)); err != nil {
		t.Fatal(err)
	}
	f := next(t, c)
	var obj map[string]any
	if err := json.Unmarshal(f.Raw, &obj); err != nil || obj["event"] != "phx_reply" || obj["ref"] != "1" || obj["topic"] != "phoenix" || obj["join_ref"] != nil {
		t.Fatalf("vsn 1 heartbeat reply = %s", f.Raw)
	}
	topic := servertest.RoomTopic(p.roomID)
	jr := joinRoom(t, c, p.roomID, p.member)
	wantFn(t, p.api.Invoke(p.host.AccessToken, "comments/create", map[string]any{"room_id": p.roomID, "message": "v1"}), 200, "")
	f = await(t, c, "change", servertest.IsEvent(topic, phx.EventPostgresChanges))
	if !strings.HasPrefix(string(f.Raw), "{") {
		t.Fatalf("vsn 1 frame is not an object: %s", f.Raw)
	}
	changeOf(t, f, "comments", "INSERT")
	// Broadcasts reach vsn 1 sockets as JSON text.
	c.Push(servertest.Ctx(t, wait), jr, topic, phx.EventBroadcast, map[string]any{"type": "broadcast", "event": "ping", "payload": map[string]any{"x": 1}})
	f = await(t, c, "broadcast", servertest.IsEvent(topic, phx.EventBroadcast))
	if f.Binary || !strings.Contains(string(f.Raw), `"payload":{"event":"ping","payload":{"x":1},"type":"broadcast"}`) && !strings.Contains(string(f.Raw), `"x":1`) {
		t.Fatalf("vsn 1 broadcast = %s", f.Raw)
	}
}

func TestBinaryBroadcast(t *testing.T) {
	s := servertest.Start(t, server.Config{})
	a := servertest.DialT(t, s.WSURL(phx.Vsn2), servertest.DialOptions{})
	b := servertest.DialT(t, s.WSURL(phx.Vsn2), servertest.DialOptions{})
	const topic = "realtime:lobby:1" // not a room topic: open to the anon key
	if _, reply, _ := a.Join(servertest.Ctx(t, wait), topic, phx.JoinConfig{Broadcast: phx.BroadcastConfig{Ack: true}}, ""); reply.Status != "ok" {
		t.Fatal(reply)
	}
	if _, reply, _ := b.Join(servertest.Ctx(t, wait), topic, phx.JoinConfig{}, ""); reply.Status != "ok" {
		t.Fatal(reply)
	}
	barrier(t, a)
	barrier(t, b)
	// supabase-js's send({type:'broadcast', event:'ping', payload:{x:1}}), captured (protocol.md §2.1).
	kind3 := unhex(t, "030101100400013637"+hexOf([]byte("realtime:lobby:1"))+"70696e677b2278223a317d")
	if err := a.WriteRaw(servertest.Ctx(t, wait), websocket.MessageBinary, kind3); err != nil {
		t.Fatal(err)
	}
	f := next(t, b)
	if want := "0410040001" + hexOf([]byte("realtime:lobby:1")) + "70696e677b2278223a317d"; !f.Binary || hexOf(f.Raw) != want {
		t.Fatalf("b got %x (binary %v), want kind 4 %s", f.Raw, f.Binary, want)
	}
	// ack: the sender gets an ok reply to ref "7"; self is off, so no echo.
	if f := next(t, a); !servertest.IsReply("7")(f) || f.Reply().Status != "ok" {
		t.Fatalf("sender got %s, want the ack", f)
	}
	noFrames(t, a, "no self echo")
}
