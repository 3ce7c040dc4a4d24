package server_test

import (
	"bytes"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/watchparty/watchparty/server"
	"github.com/watchparty/watchparty/server/servertest"
)

// Guessing the secret: every wrong guess reads exactly like an unknown room (the same status and
// body), and guesses are joins, so they run into the join rate (20 a minute per user).
func TestAttackInviteGuessing(t *testing.T) {
	s := servertest.Start(t, server.Config{})
	api := s.API().For(t)
	alice, mallory := api.SignUp(), api.SignUp()
	roomID := api.CreateRoom(alice.AccessToken, "alice")
	unknown := api.Invoke(mallory.AccessToken, "rooms/join", map[string]any{"room_id": "zzzzzzzzzz", "username": "m", "invite_secret": "x"})
	limited := 0
	for i := range 25 {
		guess := map[string]any{"room_id": roomID, "username": "m", "invite_secret": fmt.Sprintf("%024d", i)}
		if i%5 == 0 {
			delete(guess, "invite_secret")
		}
		r := api.Invoke(mallory.AccessToken, "rooms/join", guess)
		if r.Status == 429 {
			limited++
			continue
		}
		if r.Status != unknown.Status || !bytes.Equal(r.Body, unknown.Body) {
			t.Fatalf("guess %d: %d %s; an unknown room answers %d %s", i, r.Status, r.Body, unknown.Status, unknown.Body)
		}
	}
	if limited == 0 {
		t.Fatal("25 guesses in a moment were all answered: want the join rate (20 a minute) to stop them")
	}
	// The right secret (after the limit: another user) is let in.
	eve := api.SignUp()
	wantFn(t, api.Invoke(eve.AccessToken, "rooms/join", map[string]any{"room_id": roomID, "username": "eve", "invite_secret": api.InviteSecret(roomID)}), 200, "")
}

// A copy of the database hands out no joinable link: only the secret's SHA-256 is stored.
func TestInviteSecretStoredAsHash(t *testing.T) {
	dir := t.TempDir()
	s := servertest.Start(t, server.Config{DataDir: dir})
	api := s.API().For(t)
	alice := api.SignUp()
	roomID := api.CreateRoom(alice.AccessToken, "alice")
	secret := api.InviteSecret(roomID)
	if len(secret) != 24 {
		t.Fatalf("secret %q: want 24 characters (144 bits)", secret)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "watchparty.db")+"?_pragma=busy_timeout(5000)&mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var hash []byte
	if err := db.QueryRow(`SELECT secret_hash FROM room_invites WHERE room_id = ?`, roomID).Scan(&hash); err != nil || len(hash) != 32 {
		t.Fatalf("stored hash %x (%v), want 32 bytes", hash, err)
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM room_invites WHERE instr(CAST(secret_hash AS TEXT), ?) > 0`, secret).Scan(&n); err != nil || n != 0 {
		t.Fatalf("the secret itself is in the database (%d rows, %v)", n, err)
	}
}
