package server_test

import (
	"testing"

	"github.com/watchparty/watchparty/server"
	"github.com/watchparty/watchparty/server/servertest"
)

// An attacker toggling ready in a loop costs everyone a write and a fan-out each: the 11th
// answer in 10 s is refused, per person and room; settings count as controls.
func TestAttackReadyToggles(t *testing.T) {
	s := servertest.Start(t, server.Config{})
	api := s.API().For(t)
	host, mallory := api.SignUp(), api.SignUp()
	roomID := api.CreateRoom(host.AccessToken, "Host")
	wantFn(t, api.Invoke(mallory.AccessToken, "rooms/join", map[string]any{"room_id": roomID, "invite_secret": api.InviteSecret(roomID), "username": "Mallory"}), 200, "")
	for i := range server.MaxReadyToggles {
		wantFn(t, api.Invoke(mallory.AccessToken, "rooms/ready", map[string]any{"room_id": roomID, "ready": i%2 == 0}), 200, "")
	}
	wantFn(t, api.Invoke(mallory.AccessToken, "rooms/ready", map[string]any{"room_id": roomID, "ready": true}), 429, "RATE_LIMITED")
	wantFn(t, api.Invoke(host.AccessToken, "rooms/ready", map[string]any{"room_id": roomID, "ready": true}), 200, "")
	for range 20 {
		wantFn(t, api.Invoke(host.AccessToken, "rooms/settings", map[string]any{"room_id": roomID, "ready_mode": true}), 200, "")
	}
	wantFn(t, api.Invoke(host.AccessToken, "sync/control", map[string]any{"room_id": roomID, "action": "seek", "current_time": 1}), 429, "RATE_LIMITED")
}

// A held play's 409 names who is not ready; the body's odd values are refused.
func TestReadyEndpoints(t *testing.T) {
	s := servertest.Start(t, server.Config{})
	api := s.API().For(t)
	host, bob := api.SignUp(), api.SignUp()
	r := api.Invoke(host.AccessToken, "rooms/create", map[string]any{"username": "Host", "ready_mode": true})
	wantFn(t, r, 200, "")
	roomID := data(r, "room", "room_id").(string)
	if data(r, "room", "ready_mode") != true || data(r, "member", "ready") != false {
		t.Fatalf("create in ready mode: %s", r.Body)
	}
	wantFn(t, api.Invoke(host.AccessToken, "rooms/create", map[string]any{"username": "Host", "ready_mode": 1}), 400, "INVALID_REQUEST")
	wantFn(t, api.Invoke(bob.AccessToken, "rooms/join", map[string]any{"room_id": roomID, "invite_secret": api.InviteSecret(roomID), "username": "Bob"}), 200, "")
	if r := api.RPC(bob.AccessToken, "track_user_presence", map[string]any{"p_room_id": roomID, "p_current_time": 0, "p_is_playing": false}); r.Status != 204 {
		t.Fatalf("beat: %d %s", r.Status, r.Body)
	}
	r = api.Invoke(host.AccessToken, "sync/control", map[string]any{"room_id": roomID, "action": "play", "current_time": 2})
	wantFn(t, r, 409, "NOT_READY")
	list, _ := servertest.Dig(r.Object(), "error", "not_ready").([]any)
	if len(list) != 1 || servertest.Dig(r.Object(), "error", "not_ready_count") != 1.0 ||
		list[0].(map[string]any)["username"] != "Bob" || list[0].(map[string]any)["user_id"] != bob.UserID {
		t.Fatalf("NOT_READY reply: %s", r.Body)
	}
	wantFn(t, api.Invoke(host.AccessToken, "sync/control", map[string]any{"room_id": roomID, "action": "play", "current_time": 2, "force": "yes"}), 400, "INVALID_REQUEST")
	wantFn(t, api.Invoke(bob.AccessToken, "rooms/ready", map[string]any{"room_id": roomID, "ready": "true"}), 400, "INVALID_REQUEST")
	wantFn(t, api.Invoke(bob.AccessToken, "rooms/settings", map[string]any{"room_id": roomID, "ready_mode": false}), 403, "NOT_HOST")
	r = api.Invoke(bob.AccessToken, "rooms/ready", map[string]any{"room_id": roomID, "ready": true})
	wantFn(t, r, 200, "")
	if data(r, "room", "is_playing") != true || data(r, "room", "start_pending") != false || data(r, "member", "ready") != true {
		t.Fatalf("the last one ready: %s", r.Body)
	}
}
