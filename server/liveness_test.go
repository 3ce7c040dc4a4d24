package server_test

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/watchparty/watchparty/server"
	"github.com/watchparty/watchparty/server/servertest"
)

// Client ids: returned by joins, checked for shape, and a leave takes out one client only.
func TestClientIDs(t *testing.T) {
	s := servertest.Start(t, server.Config{})
	api := s.API().For(t)
	alice, bob := api.SignUp(), api.SignUp()
	r := api.Invoke(alice.AccessToken, "rooms/create", map[string]any{"username": "Alice", "client_id": "alice-screen"})
	wantFn(t, r, 200, "")
	roomID := data(r, "room", "room_id").(string)
	if data(r, "client_id") != "alice-screen" || data(r, "room", "owner_user_id") != alice.UserID || data(r, "room", "owner_handed_over") != false {
		t.Fatalf("create: %s", r.Body)
	}
	for _, bad := range []any{"short", strings.Repeat("x", 65), "has space!", 12345678, true} {
		wantFn(t, api.Invoke(bob.AccessToken, "rooms/join", map[string]any{"room_id": roomID, "invite_secret": api.InviteSecret(roomID), "username": "Bob", "client_id": bad}), 400, "INVALID_REQUEST")
		wantPGRST(t, api.RPC(alice.AccessToken, "track_user_presence", map[string]any{"p_room_id": roomID, "p_current_time": 1, "p_is_playing": true, "p_client_id": bad}), 400, "PT400")
	}
	r = api.Invoke(bob.AccessToken, "rooms/join", map[string]any{"room_id": roomID, "invite_secret": api.InviteSecret(roomID), "username": "Bob"})
	wantFn(t, r, 200, "")
	if id, _ := data(r, "client_id").(string); len(id) < 16 {
		t.Fatalf("a join without client_id got %q", id)
	}
	if data(r, "member", "announced") != false {
		t.Fatalf("a member is announced before their first beat: %s", r.Body)
	}
	// Alice's screen beats; her headless logger joins and leaves: Alice is still a member and
	// still the host.
	if r := api.RPC(alice.AccessToken, "track_user_presence", map[string]any{"p_room_id": roomID, "p_current_time": 1,
		"p_is_playing": false, "p_client_id": "alice-screen"}); r.Status != 204 {
		t.Fatalf("beat: %d %s", r.Status, r.Body)
	}
	wantFn(t, api.Invoke(alice.AccessToken, "rooms/join", map[string]any{"room_id": roomID, "invite_secret": api.InviteSecret(roomID), "username": "Alice", "client_id": "alice-headless"}), 200, "")
	r = api.Invoke(alice.AccessToken, "rooms/leave", map[string]any{"room_id": roomID, "client_id": "alice-headless"})
	wantFn(t, r, 200, "")
	if data(r, "room", "host_user_id") != alice.UserID {
		t.Fatalf("after the logger left: %s", r.Body)
	}
	wantFn(t, api.Invoke(alice.AccessToken, "sync/control", map[string]any{"room_id": roomID, "action": "play", "current_time": 1}), 200, "")
	// Bob never beat: his leave posts nothing.
	wantFn(t, api.Invoke(bob.AccessToken, "rooms/leave", map[string]any{"room_id": roomID}), 200, "")
	if msgs := commentMessages(t, api, alice.AccessToken, roomID); len(msgs) != 0 {
		t.Fatalf("notices of a member never announced: %q", msgs)
	}
}

func TestHandoverFunction(t *testing.T) {
	s := servertest.Start(t, server.Config{})
	api := s.API().For(t)
	alice, bob := api.SignUp(), api.SignUp()
	roomID := api.CreateRoom(alice.AccessToken, "Alice")
	api.JoinRoom(bob.AccessToken, roomID, "Bob")
	wantFn(t, api.Invoke(bob.AccessToken, "rooms/handover", map[string]any{"room_id": roomID, "to_user_id": alice.UserID}), 403, "NOT_HOST")
	wantFn(t, api.Invoke(alice.AccessToken, "rooms/handover", map[string]any{"room_id": roomID}), 400, "INVALID_REQUEST")
	wantFn(t, api.Invoke(alice.AccessToken, "rooms/handover", map[string]any{"room_id": roomID, "to_user_id": alice.UserID}), 400, "INVALID_REQUEST")
	r := api.Invoke(alice.AccessToken, "rooms/handover", map[string]any{"room_id": roomID, "to_user_id": bob.UserID})
	wantFn(t, r, 200, "")
	if data(r, "room", "host_user_id") != bob.UserID || data(r, "room", "owner_handed_over") != true {
		t.Fatalf("handover: %s", r.Body)
	}
	wantFn(t, api.Invoke(alice.AccessToken, "sync/control", map[string]any{"room_id": roomID, "action": "play", "current_time": 1}), 403, "NOT_HOST")
	wantFn(t, api.Invoke(bob.AccessToken, "sync/control", map[string]any{"room_id": roomID, "action": "play", "current_time": 1}), 200, "")
}

// The server applies liveness by itself: a host who stops beating is replaced within about
// stale_after plus a second, and drops out after gone_after.
func TestSilentHostReplaced(t *testing.T) {
	s := servertest.Start(t, server.Config{StaleAfter: time.Second, GoneAfter: 2 * time.Second,
		Logger: slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	api := s.API().For(t)
	alice, bob := api.SignUp(), api.SignUp()
	roomID := api.CreateRoom(alice.AccessToken, "Alice")
	api.JoinRoom(bob.AccessToken, roomID, "Bob")
	servertest.Eventually(t, 5*time.Second, "bob becomes host", func() bool {
		api.Beat(bob.AccessToken, roomID) // Bob keeps beating; Alice has crashed
		st := api.RPC(bob.AccessToken, "get_room_sync_state", map[string]any{"p_room_id": roomID})
		return servertest.Dig(st.Object(), "room", "host_user_id") == bob.UserID
	})
	servertest.Eventually(t, 5*time.Second, "alice drops out", func() bool {
		api.Beat(bob.AccessToken, roomID)
		msgs := commentMessages(t, api, bob.AccessToken, roomID)
		return len(msgs) > 0 && msgs[len(msgs)-1] == "Alice dropped out"
	})
	want := []string{"Bob joined the room", "Bob is now the host (Alice went quiet)", "Alice dropped out"}
	if msgs := commentMessages(t, api, bob.AccessToken, roomID); strings.Join(msgs, "|") != strings.Join(want, "|") {
		t.Fatalf("notices %q, want %q", msgs, want)
	}
}

// tWriter sends a server's log lines to the test's log.
type tWriter struct{ t *testing.T }

func (w tWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}
