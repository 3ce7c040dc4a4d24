package server_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/watchparty/watchparty/server"
	"github.com/watchparty/watchparty/server/servertest"
)

// errCode is the error.code of an Edge Function reply ("" when the reply is a success).
func errCode(r servertest.Response) string {
	c, _ := servertest.Dig(r.Object(), "error", "code").(string)
	return c
}

func wantFn(t *testing.T, r servertest.Response, status int, code string) {
	t.Helper()
	if r.Status != status || errCode(r) != code {
		t.Fatalf("got %d %q (%s), want %d %q", r.Status, errCode(r), r.Body, status, code)
	}
	if status != http.StatusOK {
		msg, _ := servertest.Dig(r.Object(), "error", "message").(string)
		if msg == "" || r.Object()["success"] != false {
			t.Fatalf("error reply without success:false and a message: %s", r.Body)
		}
	}
}

func data(r servertest.Response, keys ...string) any {
	return servertest.Dig(r.Object(), append([]string{"data"}, keys...)...)
}

var roomIDPattern = regexp.MustCompile(`^[a-z0-9]{10}$`)

func TestCreateJoinLeave(t *testing.T) {
	s := servertest.Start(t, server.Config{})
	api := s.API().For(t)
	alice, bob := api.SignUp(), api.SignUp()

	r := api.Invoke(alice.AccessToken, "rooms/create", map[string]any{"username": "Alice", "media_title": "Film", "media_duration": 100, "anime_id": 7, "episode_number": 3})
	wantFn(t, r, 200, "")
	room := data(r, "room").(map[string]any)
	roomID := room["room_id"].(string)
	if !roomIDPattern.MatchString(roomID) || room["host_user_id"] != alice.UserID || room["anime_id"] != "7" || room["episode_number"] != 3.0 {
		t.Fatalf("room = %v", room)
	}
	if data(r, "member", "role") != "host" || data(r, "member", "user_id") != alice.UserID {
		t.Fatalf("member = %v", data(r, "member"))
	}

	r = api.Invoke(bob.AccessToken, "rooms/join", map[string]any{"room_id": roomID, "invite_secret": api.InviteSecret(roomID), "username": "Bob"})
	wantFn(t, r, 200, "")
	if data(r, "member", "role") != "member" || len(data(r, "members").([]any)) != 2 {
		t.Fatalf("join data = %s", r.Body)
	}
	api.Beat(bob.AccessToken, roomID) // Bob's client is up: he is announced
	// Joining again (a second terminal) keeps the role and adds no second notice; so does the
	// host joining its own room.
	wantFn(t, api.Invoke(bob.AccessToken, "rooms/join", map[string]any{"room_id": roomID, "invite_secret": api.InviteSecret(roomID), "username": "Bob"}), 200, "")
	r = api.Invoke(alice.AccessToken, "rooms/join", map[string]any{"room_id": roomID, "invite_secret": api.InviteSecret(roomID), "username": "Alice"})
	wantFn(t, r, 200, "")
	if data(r, "member", "role") != "host" {
		t.Fatalf("host rejoin changed the role: %s", r.Body)
	}

	// The host leaves: Bob, the longest-present member left, becomes host.
	r = api.Invoke(alice.AccessToken, "rooms/leave", map[string]any{"room_id": roomID})
	wantFn(t, r, 200, "")
	if data(r, "room", "host_user_id") != bob.UserID {
		t.Fatalf("host after leave = %v, want bob", data(r, "room", "host_user_id"))
	}
	msgs := commentMessages(t, api, bob.AccessToken, roomID)
	want := []string{"Bob joined the room", "Alice left the room", "Bob is now the host"}
	if strings.Join(msgs, "|") != strings.Join(want, "|") {
		t.Fatalf("system comments = %q, want %q", msgs, want)
	}
	// Alice is no member any more.
	wantFn(t, api.Invoke(alice.AccessToken, "rooms/leave", map[string]any{"room_id": roomID}), 403, "NOT_MEMBER")
	wantFn(t, api.Invoke(alice.AccessToken, "sync/control", map[string]any{"room_id": roomID, "action": "play", "current_time": 1}), 403, "NOT_MEMBER")
}

// commentMessages reads a room's comments, oldest first, as the caller.
func commentMessages(t *testing.T, api servertest.T, token, roomID string) []string {
	t.Helper()
	r := api.Do(http.MethodGet, "/rest/v1/comments?room_id=eq."+roomID+"&order=created_at.asc", token, nil)
	if r.Status != 200 {
		t.Fatalf("comments read: %d %s", r.Status, r.Body)
	}
	var out []string
	for _, c := range r.JSON().([]any) {
		out = append(out, c.(map[string]any)["message"].(string))
	}
	return out
}

func TestFunctionErrors(t *testing.T) {
	p := newParty(t, server.Config{})
	s, api, host, member, roomID := p.s, p.api, p.host, p.member, p.roomID
	stranger := api.SignUp()
	other := servertest.Start(t, server.Config{}).API().For(t).SignUp() // signed by another server's secret

	big := `{"room_id":"` + roomID + `","message":"` + strings.Repeat("x", server.MaxBodyBytes) + `"}`
	cases := []struct {
		name, token, fn string
		method          string
		body            any
		status          int
		code            string
	}{
		{"no token", "", "rooms/create", "", map[string]any{"username": "x"}, 401, "UNAUTHORIZED"},
		{"anon key is no user", s.AnonKey, "rooms/create", "", map[string]any{"username": "x"}, 401, "UNAUTHORIZED"},
		{"garbage token", "not.a.jwt", "rooms/create", "", map[string]any{"username": "x"}, 401, "UNAUTHORIZED"},
		{"foreign signature", other.AccessToken, "rooms/create", "", map[string]any{"username": "x"}, 401, "UNAUTHORIZED"},
		{"GET", host.AccessToken, "rooms/create", http.MethodGet, nil, 405, "METHOD_NOT_ALLOWED"},
		{"unknown function", host.AccessToken, "rooms/destroy", "", map[string]any{}, 404, "NOT_FOUND"},
		{"array body", host.AccessToken, "rooms/create", "", "[1,2]", 400, "INVALID_REQUEST"},
		{"not json", host.AccessToken, "rooms/create", "", "username=x", 400, "INVALID_REQUEST"},
		{"body over 64 KiB", member.AccessToken, "comments/create", "", big, 413, "PAYLOAD_TOO_LARGE"},
		{"username missing", host.AccessToken, "rooms/create", "", map[string]any{}, 400, "INVALID_REQUEST"},
		{"username wrong type", host.AccessToken, "rooms/create", "", map[string]any{"username": 5}, 400, "INVALID_REQUEST"},
		{"username only escapes", host.AccessToken, "rooms/create", "", map[string]any{"username": "\x1b[31m \x07 "}, 400, "INVALID_USERNAME"},
		{"username 33 chars", host.AccessToken, "rooms/create", "", map[string]any{"username": strings.Repeat("é", 33)}, 400, "INVALID_USERNAME"},
		{"negative duration", host.AccessToken, "rooms/create", "", map[string]any{"username": "x", "media_duration": -1}, 400, "INVALID_REQUEST"},
		{"fractional episode", host.AccessToken, "rooms/create", "", map[string]any{"username": "x", "episode_number": 1.5}, 400, "INVALID_REQUEST"},
		{"join unknown room", member.AccessToken, "rooms/join", "", map[string]any{"room_id": "zzzzzzzzzz", "username": "x"}, 404, "ROOM_NOT_FOUND"},
		{"join without room_id", member.AccessToken, "rooms/join", "", map[string]any{"username": "x"}, 400, "INVALID_REQUEST"},
		{"leave unknown room", member.AccessToken, "rooms/leave", "", map[string]any{"room_id": "zzzzzzzzzz"}, 404, "ROOM_NOT_FOUND"},
		{"leave by stranger", stranger.AccessToken, "rooms/leave", "", map[string]any{"room_id": roomID}, 403, "NOT_MEMBER"},
		{"body user_id not the caller", member.AccessToken, "rooms/join", "", map[string]any{"room_id": roomID, "username": "x", "user_id": host.UserID}, 403, "USER_MISMATCH"},
		{"body user_id wrong type", member.AccessToken, "rooms/join", "", map[string]any{"room_id": roomID, "username": "x", "user_id": 1}, 400, "INVALID_REQUEST"},
		{"control by member", member.AccessToken, "sync/control", "", map[string]any{"room_id": roomID, "action": "pause", "current_time": 1}, 403, "NOT_HOST"},
		{"control by stranger", stranger.AccessToken, "sync/control", "", map[string]any{"room_id": roomID, "action": "pause", "current_time": 1}, 403, "NOT_MEMBER"},
		{"control as host via body user_id", member.AccessToken, "sync/control", "", map[string]any{"room_id": roomID, "action": "pause", "current_time": 1, "user_id": host.UserID}, 403, "USER_MISMATCH"},
		{"control unknown room", host.AccessToken, "sync/control", "", map[string]any{"room_id": "zzzzzzzzzz", "action": "play", "current_time": 1}, 404, "ROOM_NOT_FOUND"},
		{"control unknown action", host.AccessToken, "sync/control", "", map[string]any{"room_id": roomID, "action": "stop", "current_time": 1}, 400, "INVALID_REQUEST"},
		{"control negative time", host.AccessToken, "sync/control", "", map[string]any{"room_id": roomID, "action": "seek", "current_time": -1}, 400, "INVALID_REQUEST"},
		{"control time not a number", host.AccessToken, "sync/control", "", map[string]any{"room_id": roomID, "action": "seek", "current_time": "10"}, 400, "INVALID_REQUEST"},
		{"control without time", host.AccessToken, "sync/control", "", map[string]any{"room_id": roomID, "action": "seek"}, 400, "INVALID_REQUEST"},
		{"rate without rate", host.AccessToken, "sync/control", "", map[string]any{"room_id": roomID, "action": "rate", "current_time": 1}, 400, "INVALID_REQUEST"},
		{"rate out of range", host.AccessToken, "sync/control", "", map[string]any{"room_id": roomID, "action": "rate", "current_time": 1, "playback_rate": 8}, 400, "INVALID_REQUEST"},
		{"comment by stranger", stranger.AccessToken, "comments/create", "", map[string]any{"room_id": roomID, "message": "hi"}, 403, "NOT_MEMBER"},
		{"comment unknown room", member.AccessToken, "comments/create", "", map[string]any{"room_id": "zzzzzzzzzz", "message": "hi"}, 404, "ROOM_NOT_FOUND"},
		{"comment empty after trim", member.AccessToken, "comments/create", "", map[string]any{"room_id": roomID, "message": "  \n\t "}, 400, "INVALID_MESSAGE"},
		{"comment 2001 chars", member.AccessToken, "comments/create", "", map[string]any{"room_id": roomID, "message": strings.Repeat("あ", 2001)}, 400, "INVALID_MESSAGE"},
		{"comment message wrong type", member.AccessToken, "comments/create", "", map[string]any{"room_id": roomID, "message": []string{"x"}}, 400, "INVALID_REQUEST"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = http.MethodPost
			}
			r := api.Do(method, "/functions/v1/"+tc.fn, tc.token, tc.body)
			wantFn(t, r, tc.status, tc.code)
			if tc.status == 405 && r.Header.Get("Allow") != "POST" {
				t.Errorf("Allow = %q", r.Header.Get("Allow"))
			}
		})
	}

	// Refused controls changed nothing; the server still serves.
	state := api.RPC(host.AccessToken, "get_room_sync_state", map[string]any{"p_room_id": roomID})
	if v := servertest.Dig(state.Object(), "room", "state_version"); v != 0.0 {
		t.Fatalf("state_version after refused controls = %v, want 0", v)
	}
	// A 2000-character comment is fine; no apikey is refused like the API gateway does.
	wantFn(t, api.Invoke(member.AccessToken, "comments/create", map[string]any{"room_id": roomID, "message": strings.Repeat("あ", 2000)}), 200, "")
	noKey := servertest.NewAPI(s.URL, "", nil).For(t)
	if r := noKey.Invoke(host.AccessToken, "rooms/create", map[string]any{"username": "x"}); r.Status != 401 {
		t.Fatalf("no apikey: %d %s", r.Status, r.Body)
	}
}

func TestControlUpdatesRoom(t *testing.T) {
	s := servertest.Start(t, server.Config{})
	api := s.API().For(t)
	host := api.SignUp()
	roomID := api.CreateRoom(host.AccessToken, "Host") // media_duration 3600
	steps := []struct {
		body    map[string]any
		playing bool
		pos     float64
		rate    float64
	}{
		{map[string]any{"action": "play", "current_time": 12.5}, true, 12.5, 1},
		{map[string]any{"action": "rate", "current_time": 13, "playback_rate": 1.5}, true, 13, 1.5},
		{map[string]any{"action": "pause", "current_time": 20}, false, 20, 1.5},
		{map[string]any{"action": "seek", "current_time": 99999}, false, 3600, 1.5}, // clamped to the duration
		{map[string]any{"action": "sync", "current_time": 30, "user_id": host.UserID}, false, 30, 1.5},
	}
	for i, st := range steps {
		st.body["room_id"] = roomID
		r := api.Invoke(host.AccessToken, "sync/control", st.body)
		wantFn(t, r, 200, "")
		room := data(r, "room").(map[string]any)
		if room["is_playing"] != st.playing || room["current_time"] != st.pos || room["playback_rate"] != st.rate || room["state_version"] != float64(i+1) {
			t.Fatalf("step %d (%v): room = %v", i, st.body["action"], room)
		}
	}
}

func TestTextIsCleaned(t *testing.T) {
	s := servertest.Start(t, server.Config{})
	api := s.API().For(t)
	u := api.SignUp()
	r := api.Invoke(u.AccessToken, "rooms/create", map[string]any{"username": "\x1b]0;pwned\x07Bo\x1b[31mb\x1b[0m\u202e", "media_title": "\x1b[2JFilm\u009b"})
	wantFn(t, r, 200, "")
	if got := data(r, "member", "username"); got != "Bob" {
		t.Fatalf("username = %q, want Bob", got)
	}
	if got := data(r, "room", "media_title"); got != "Film" {
		t.Fatalf("media_title = %q, want Film", got)
	}
	roomID := data(r, "room", "room_id").(string)
	r = api.Invoke(u.AccessToken, "comments/create", map[string]any{"room_id": roomID, "message": "  hi \x1b[1mthere\x1b[0m\x07\r\nline two\u2066 \ue000 "})
	wantFn(t, r, 200, "")
	if got := data(r, "comment", "message"); got != "hi there\nline two" {
		t.Fatalf("message = %q", got)
	}
}

func TestRateLimits(t *testing.T) {
	s := servertest.Start(t, server.Config{})
	api := s.API().For(t)
	host := api.SignUp()
	roomID := api.CreateRoom(host.AccessToken, "Host")
	for i := range 5 {
		wantFn(t, api.Invoke(host.AccessToken, "comments/create", map[string]any{"room_id": roomID, "message": fmt.Sprint("c", i)}), 200, "")
	}
	wantFn(t, api.Invoke(host.AccessToken, "comments/create", map[string]any{"room_id": roomID, "message": "one too many"}), 429, "RATE_LIMITED")
	for range 20 {
		wantFn(t, api.Invoke(host.AccessToken, "sync/control", map[string]any{"room_id": roomID, "action": "seek", "current_time": 1}), 200, "")
	}
	wantFn(t, api.Invoke(host.AccessToken, "sync/control", map[string]any{"room_id": roomID, "action": "seek", "current_time": 1}), 429, "RATE_LIMITED")
	// Limits are per user and room: another room of the same user is unaffected.
	other := api.CreateRoom(host.AccessToken, "Host")
	wantFn(t, api.Invoke(host.AccessToken, "comments/create", map[string]any{"room_id": other, "message": "fine"}), 200, "")
}

func TestExpiredToken(t *testing.T) {
	var clk clock
	s := servertest.Start(t, server.Config{Now: clk.Now})
	api := s.API().For(t)
	clk.Set(-2 * time.Hour) // the token is minted two hours ago: it expired an hour ago
	old := api.SignUp()
	clk.Set(0)
	fresh := api.SignUp()
	roomID := api.CreateRoom(fresh.AccessToken, "Fresh")

	r := api.Invoke(old.AccessToken, "rooms/join", map[string]any{"room_id": roomID, "invite_secret": api.InviteSecret(roomID), "username": "Old"})
	wantFn(t, r, 401, "UNAUTHORIZED")
	if msg, _ := servertest.Dig(r.Object(), "error", "message").(string); !strings.Contains(msg, "expired") {
		t.Fatalf("message %q does not say the token expired", msg)
	}
	r = api.RPC(old.AccessToken, "get_room_sync_state", map[string]any{"p_room_id": roomID})
	if r.Status != 401 || r.Object()["code"] != "PT401" {
		t.Fatalf("rpc with expired token: %d %s", r.Status, r.Body)
	}
	if r := api.Do(http.MethodGet, "/auth/v1/user", old.AccessToken, nil); r.Status != 403 {
		t.Fatalf("/user with expired token: %d %s", r.Status, r.Body)
	}
	// The refresh token still works and gives a valid access token, as with GoTrue.
	next, resp, err := s.API().Refresh(t.Context(), old.RefreshToken)
	if err != nil || resp.Status != 200 {
		t.Fatalf("refresh: %v %d %s", err, resp.Status, resp.Body)
	}
	wantFn(t, api.Invoke(next.AccessToken, "rooms/join", map[string]any{"room_id": roomID, "invite_secret": api.InviteSecret(roomID), "username": "Old"}), 200, "")

	// A token that worked expires all the same (the server remembers verified tokens).
	// It lives 4–5 s (exp is truncated to the second): time enough for the first call.
	clk.Set(-time.Hour + 5*time.Second)
	short := api.SignUp()
	clk.Set(0)
	wantFn(t, api.Invoke(short.AccessToken, "rooms/join", map[string]any{"room_id": roomID, "invite_secret": api.InviteSecret(roomID), "username": "Short"}), 200, "")
	servertest.Eventually(t, 10*time.Second, "the short token to expire", func() bool {
		return api.Invoke(short.AccessToken, "rooms/join", map[string]any{"room_id": roomID, "invite_secret": api.InviteSecret(roomID), "username": "Short"}).Status == 401
	})
}
