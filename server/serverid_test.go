package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/watchparty/watchparty/server"
)

// The server id published at /watchparty/v1/info is the same across restarts on one data
// directory, the same whatever address reaches it, and differs between data directories.
func TestServerID(t *testing.T) {
	dir := t.TempDir()
	info := func(url string) map[string]any {
		t.Helper()
		resp, err := http.Get(url + "/watchparty/v1/info")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("info: %s", b)
		}
		return m
	}
	start := func(data string) *server.Running {
		t.Helper()
		r, err := server.Start(server.Config{DataDir: data}, "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	a := start(filepath.Join(dir, "a"))
	id, _ := info(a.URL)["server_id"].(string)
	if len(id) != 32 || id != a.ID() {
		t.Fatalf("server_id %q, ID() %q", id, a.ID())
	}
	port := a.Addr.Port
	if got := info("http://localhost:" + strconv.Itoa(port))["server_id"]; got != id {
		t.Fatalf("server_id by localhost %v, by 127.0.0.1 %v", got, id)
	}
	a.Stop()
	a2 := start(filepath.Join(dir, "a"))
	defer a2.Stop()
	if got := info(a2.URL)["server_id"]; got != id {
		t.Fatalf("server_id after a restart %v, before %v", got, id)
	}
	b := start(filepath.Join(dir, "b"))
	defer b.Stop()
	if got := info(b.URL)["server_id"]; got == id {
		t.Fatal("two data directories share a server id")
	}
}
