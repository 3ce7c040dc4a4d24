package server_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/watchparty/watchparty/server"
	"github.com/watchparty/watchparty/server/servertest"
)

// wantPGRST checks a PostgREST error reply: status, code and the four keys.
func wantPGRST(t *testing.T, r servertest.Response, status int, code string) {
	t.Helper()
	o := r.Object()
	if r.Status != status || o["code"] != code {
		t.Fatalf("got %d %v (%s), want %d %s", r.Status, o["code"], r.Body, status, code)
	}
	for _, k := range []string{"code", "message", "details", "hint"} {
		if _, ok := o[k]; !ok {
			t.Fatalf("error body lacks %q: %s", k, r.Body)
		}
	}
}

func TestRPC(t *testing.T) {
	p := newParty(t, server.Config{})
	s, api, host, member, roomID := p.s, p.api, p.host, p.member, p.roomID
	stranger := api.SignUp()

	r := api.RPC(member.AccessToken, "track_user_presence", map[string]any{"p_room_id": roomID, "p_user_id": member.UserID, "p_current_time": 42.5, "p_is_playing": true})
	if r.Status != http.StatusNoContent || len(r.Body) != 0 {
		t.Fatalf("track_user_presence: %d %q", r.Status, r.Body)
	}
	before := time.Now().UnixMilli()
	r = api.RPC(member.AccessToken, "get_room_sync_state", map[string]any{"p_room_id": roomID, "p_user_id": member.UserID})
	after := time.Now().UnixMilli()
	o := r.Object()
	st, _ := o["server_time"].(float64)
	if r.Status != 200 || int64(st) < before || int64(st) > after || servertest.Dig(o, "room", "room_id") != roomID {
		t.Fatalf("get_room_sync_state: %d %s", r.Status, r.Body)
	}
	var found bool
	for _, m := range o["members"].([]any) {
		m := m.(map[string]any)
		if m["user_id"] == member.UserID {
			found = m["current_time"] == 42.5 && m["is_playing"] == true
		}
	}
	if !found {
		t.Fatalf("member row not updated by track_user_presence: %s", r.Body)
	}
	// rpc(fn, args, {get: true}) sends the arguments in the query string.
	r = api.Do(http.MethodGet, "/rest/v1/rpc/get_room_sync_state?p_room_id="+roomID, member.AccessToken, nil)
	if r.Status != 200 || servertest.Dig(r.Object(), "room", "room_id") != roomID {
		t.Fatalf("GET rpc: %d %s", r.Status, r.Body)
	}

	// The shapes the browser client (docs/design.md §1) reads from a 200 reply.
	r = api.RPC(stranger.AccessToken, "get_room_sync_state", map[string]any{"p_room_id": roomID})
	if r.Status != 200 || r.Object()["error"] != "Not a member of this room" {
		t.Fatalf("stranger sync state: %d %s", r.Status, r.Body)
	}
	r = api.RPC(member.AccessToken, "get_room_sync_state", map[string]any{"p_room_id": "zzzzzzzzzz"})
	if r.Status != 200 || r.Object()["error"] != "Room not found" {
		t.Fatalf("unknown room sync state: %d %s", r.Status, r.Body)
	}

	track := func(args map[string]any) map[string]any { return args }
	cases := []struct {
		name, token, fn string
		body            any
		status          int
		code            string
	}{
		{"no token", "", "track_user_presence", track(map[string]any{"p_room_id": roomID}), 401, "PT401"},
		{"anon key", s.AnonKey, "get_room_sync_state", map[string]any{"p_room_id": roomID}, 401, "PT401"},
		{"p_user_id not the caller", member.AccessToken, "track_user_presence", map[string]any{"p_room_id": roomID, "p_user_id": host.UserID, "p_current_time": 1}, 403, "PT403"},
		{"p_user_id on sync state", member.AccessToken, "get_room_sync_state", map[string]any{"p_room_id": roomID, "p_user_id": host.UserID}, 403, "PT403"},
		{"stranger tracks", stranger.AccessToken, "track_user_presence", map[string]any{"p_room_id": roomID, "p_current_time": 1, "p_is_playing": false}, 403, "PT403"},
		{"unknown room", member.AccessToken, "track_user_presence", map[string]any{"p_room_id": "zzzzzzzzzz", "p_current_time": 1, "p_is_playing": false}, 404, "PT404"},
		{"missing playing", member.AccessToken, "track_user_presence", map[string]any{"p_room_id": roomID, "p_current_time": 1}, 400, "PT400"},
		{"missing time", member.AccessToken, "track_user_presence", map[string]any{"p_room_id": roomID, "p_is_playing": true}, 400, "PT400"},
		{"negative time", member.AccessToken, "track_user_presence", map[string]any{"p_room_id": roomID, "p_current_time": -1, "p_is_playing": true}, 400, "PT400"},
		{"missing room", member.AccessToken, "track_user_presence", map[string]any{"p_current_time": 1}, 400, "PT400"},
		{"time not a number", member.AccessToken, "track_user_presence", map[string]any{"p_room_id": roomID, "p_current_time": "x"}, 400, "PT400"},
		{"playing not a bool", member.AccessToken, "track_user_presence", map[string]any{"p_room_id": roomID, "p_current_time": 1, "p_is_playing": "yes"}, 400, "PT400"},
		{"body not an object", member.AccessToken, "track_user_presence", "[]", 400, "PT400"},
		{"body over 64 KiB", member.AccessToken, "track_user_presence", `{"p_room_id":"` + strings.Repeat("x", 70<<10) + `"}`, 413, "PT413"},
		{"unknown function", member.AccessToken, "drop_everything", map[string]any{}, 404, "PGRST202"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantPGRST(t, api.RPC(tc.token, tc.fn, tc.body), tc.status, tc.code)
		})
	}
}

func TestCommentsRead(t *testing.T) {
	p := newParty(t, server.Config{})
	s, api, host, member, roomID := p.s, p.api, p.host, p.member, p.roomID
	stranger := api.SignUp()
	for _, m := range []string{"one", "two", "three"} {
		wantFn(t, api.Invoke(host.AccessToken, "comments/create", map[string]any{"room_id": roomID, "message": m, "video_timestamp": 5}), 200, "")
	}
	get := func(token, query string) servertest.Response {
		return api.Do(http.MethodGet, "/rest/v1/comments?"+query, token, nil)
	}
	// The client's history read: newest first.
	r := get(member.AccessToken, "room_id=eq."+roomID+"&order=created_at.desc&limit=50")
	rows, _ := r.JSON().([]any)
	if r.Status != 200 || len(rows) != 4 {
		t.Fatalf("member read: %d %s", r.Status, r.Body)
	}
	var msgs []string
	for _, row := range rows {
		msgs = append(msgs, row.(map[string]any)["message"].(string))
	}
	if got := strings.Join(msgs, ","); got != "three,two,one,Member joined the room" {
		t.Fatalf("order = %s", got)
	}
	first := rows[0].(map[string]any)
	for _, k := range []string{"id", "room_id", "anime_id", "episode_number", "user_id", "username", "message", "video_timestamp", "is_system_message", "created_at"} {
		if _, ok := first[k]; !ok {
			t.Fatalf("row lacks %q: %v", k, first)
		}
	}

	// Row security: a non-member, the anon key and no token read nothing.
	for name, token := range map[string]string{"stranger": stranger.AccessToken, "anon key": s.AnonKey, "no token": ""} {
		if r := get(token, "room_id=eq."+roomID); r.Status != 200 || string(r.Body) != "[]" {
			t.Errorf("%s read: %d %s, want 200 []", name, r.Status, r.Body)
		}
	}
	if r := get("garbage", "room_id=eq."+roomID); r.Status != 401 {
		t.Errorf("bad token read: %d %s", r.Status, r.Body)
	}

	// select, filters, limit and offset.
	r = get(member.AccessToken, "select=id,message&room_id=eq."+roomID+"&is_system_message=eq.false&order=id.asc&limit=1&offset=1")
	rows, _ = r.JSON().([]any)
	if r.Status != 200 || len(rows) != 1 || len(rows[0].(map[string]any)) != 2 || rows[0].(map[string]any)["message"] != "two" {
		t.Fatalf("select/limit/offset: %d %s", r.Status, r.Body)
	}
	for _, q := range []string{"room_id=eq." + roomID + "&password=eq.x", "room_id=like.x", "order=nope.desc", "limit=-1", "select=secret"} {
		wantPGRST(t, get(member.AccessToken, q), 400, "PGRST100")
	}
	wantPGRST(t, api.Do(http.MethodPost, "/rest/v1/comments", member.AccessToken, map[string]any{"message": "x"}), 405, "PGRST117")
	wantPGRST(t, api.Do(http.MethodGet, "/rest/v1/users", member.AccessToken, nil), 404, "PGRST205")
}
