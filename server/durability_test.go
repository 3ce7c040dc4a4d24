package server_test

import (
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/watchparty/watchparty/server/servertest"
)

func buildWatchparty(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "watchparty")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/watchparty/watchparty/cmd/watchparty").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func spawn(t *testing.T, bin, dataDir string) *servertest.Process {
	t.Helper()
	p, err := servertest.Spawn(t.Context(), bin, dataDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Kill)
	return p
}

// TestKillAfterAcknowledgedWrites kills `watchparty serve` with SIGKILL right after a burst of
// acknowledged comments and controls, restarts it on the same data directory, and finds every
// acknowledged write.
func TestKillAfterAcknowledgedWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildWatchparty(t)
	dataDir := t.TempDir()
	srv := spawn(t, bin, dataDir)
	api := servertest.NewAPI(srv.URL, srv.AnonKey, nil)
	defer api.HTTP.CloseIdleConnections()
	a := api.For(t)
	host := a.SignUp()
	roomID := a.CreateRoom(host.AccessToken, "Host")

	// 10 members post 5 comments each, concurrently (the limit is 5 per user and room in 10 s).
	const members, perMember = 10, 5
	var mu sync.Mutex
	acked := map[int64]string{}
	var wg sync.WaitGroup
	errs := make(chan error, members*perMember)
	for m := range members {
		sess := a.SignUp()
		a.JoinRoom(sess.AccessToken, roomID, fmt.Sprint("m", m))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perMember {
				msg := fmt.Sprintf("comment %d from m%d", i, m)
				r, err := api.Invoke(t.Context(), sess.AccessToken, "comments/create", map[string]any{"room_id": roomID, "message": msg})
				if err != nil || r.Status != 200 {
					errs <- fmt.Errorf("%s: %v %d %s", msg, err, r.Status, r.Body)
					return
				}
				id, _ := servertest.Dig(r.Object(), "data", "comment", "id").(float64)
				mu.Lock()
				acked[int64(id)] = msg
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	wantFn(t, a.Invoke(host.AccessToken, "sync/control", map[string]any{"room_id": roomID, "action": "play", "current_time": 42}), 200, "")
	r := a.Invoke(host.AccessToken, "sync/control", map[string]any{"room_id": roomID, "action": "pause", "current_time": 77.25})
	wantFn(t, r, 200, "")
	wantRoom := data(r, "room").(map[string]any)

	// SIGKILL: no shutdown, no checkpoint.
	srv.Kill()
	api.HTTP.CloseIdleConnections()

	again := spawn(t, bin, dataDir)
	if again.AnonKey != srv.AnonKey {
		t.Fatal("the anon key changed across the restart")
	}
	api2 := servertest.NewAPI(again.URL, again.AnonKey, nil)
	defer api2.HTTP.CloseIdleConnections()
	b := api2.For(t)
	// The host's token is still valid: the JWT secret was kept.
	r = b.Do(http.MethodGet, "/rest/v1/comments?room_id=eq."+roomID+"&is_system_message=eq.false&order=id.asc", host.AccessToken, nil)
	rows, _ := r.JSON().([]any)
	if r.Status != 200 || len(rows) != members*perMember {
		t.Fatalf("after restart: %d, %d comments, want %d: %s", r.Status, len(rows), members*perMember, r.Body)
	}
	for _, row := range rows {
		row := row.(map[string]any)
		id := int64(row["id"].(float64))
		if acked[id] != row["message"] {
			t.Errorf("comment %d = %q, acknowledged as %q", id, row["message"], acked[id])
		}
	}
	r = b.RPC(host.AccessToken, "get_room_sync_state", map[string]any{"p_room_id": roomID})
	room, _ := r.Object()["room"].(map[string]any)
	for _, k := range []string{"is_playing", "current_time", "state_version", "updated_at", "host_user_id"} {
		if room[k] != wantRoom[k] {
			t.Errorf("room %s after restart = %v, want %v", k, room[k], wantRoom[k])
		}
	}
	if members := r.Object()["members"].([]any); len(members) != 1+10 {
		t.Errorf("%d members after restart, want 11", len(members))
	}
}
