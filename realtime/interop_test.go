package realtime

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/watchparty/watchparty/server"
)

// jsPeer is testdata/interop/peer.js: the real supabase-js in a Node process.
type jsPeer struct {
	t     *testing.T
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines recorder[map[string]any]
	done  chan struct{} // stdout closed
}

// startJSPeer runs the supabase-js peer, or skips the test when Node or the packages are
// missing (`npm ci` in interop/ installs them).
func startJSPeer(t *testing.T, url, anonKey, roomID string) *jsPeer {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: the supabase-js interop test needs Node 20+")
	}
	modules := os.Getenv("WP_NODE_MODULES")
	if modules == "" {
		modules, _ = filepath.Abs(filepath.Join("..", "interop", "node_modules"))
	}
	if _, err := os.Stat(filepath.Join(modules, "@supabase", "supabase-js", "package.json")); err != nil {
		t.Skipf("supabase-js is not installed in %s: run `npm ci` in interop/", modules)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	cmd := exec.CommandContext(ctx, node, filepath.Join("testdata", "interop", "peer.js"))
	cmd.Env = append(os.Environ(), "WP_URL="+url, "WP_ANON_KEY="+anonKey, "WP_ROOM_ID="+roomID, "WP_NODE_MODULES="+modules)
	if secret, ok := inviteSecrets.Load(roomID); ok {
		cmd.Env = append(cmd.Env, "WP_INVITE_SECRET="+secret.(string))
	}
	cmd.Stderr = &testWriter{t}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &jsPeer{t: t, cmd: cmd, stdin: stdin, done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Logf("peer.js: %s", sc.Bytes())
				continue
			}
			if m["type"] == "error" {
				t.Errorf("peer.js: %v", m["message"])
			}
			p.lines.add(m)
		}
	}()
	t.Cleanup(func() {
		stdin.Close()
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-p.done
		}
		cmd.Wait()
		cancel()
	})
	return p
}

type testWriter struct{ t *testing.T }

func (w *testWriter) Write(b []byte) (int, error) {
	w.t.Logf("peer.js stderr: %s", b)
	return len(b), nil
}

func (p *jsPeer) send(cmd map[string]any) {
	p.t.Helper()
	b, _ := json.Marshal(cmd)
	if _, err := p.stdin.Write(append(b, '\n')); err != nil {
		p.t.Fatalf("write to peer.js: %v", err)
	}
}

func (p *jsPeer) wait(what string, pred func(map[string]any) bool) map[string]any {
	p.t.Helper()
	return p.lines.wait(p.t, 20*time.Second, "peer.js: "+what, pred)
}

// waitChange waits for a change the peer reported on table whose new row has field = value.
func (p *jsPeer) waitChange(table, eventType, field string, value any) {
	p.t.Helper()
	p.wait(eventType+" "+table, func(m map[string]any) bool {
		row, _ := m["new"].(map[string]any)
		return m["type"] == "change" && m["table"] == table && m["eventType"] == eventType && row[field] == value
	})
}

// TestInteropWithSupabaseJS puts a Go client and the real supabase-js in the same room: each
// sees the other's presence and the other's changes.
func TestInteropWithSupabaseJS(t *testing.T) {
	ts := startServer(t, server.Config{})
	host := newUser(t, ts.URL(), ts.anonKey, SocketOptions{})
	roomID := host.createRoom(t, "go")
	rc := host.roomChannel(t, roomID, ChannelOptions{})
	rc.subscribe(t)
	if _, err := rc.ch.Track(context.Background(), map[string]any{"user_id": host.id, "username": "go"}); err != nil {
		t.Fatal(err)
	}

	js := startJSPeer(t, ts.URL(), ts.anonKey, roomID)
	signed := js.wait("signed_in", func(m map[string]any) bool { return m["type"] == "signed_in" })
	jsID, _ := signed["user_id"].(string)
	js.wait("SUBSCRIBED", func(m map[string]any) bool { return m["type"] == "status" && m["status"] == "SUBSCRIBED" })
	js.wait("track ok", func(m map[string]any) bool { return m["type"] == "tracked" && m["result"] == "ok" })

	// Presence, both ways.
	waitFor(t, 10*time.Second, "the Go client to see the js presence", func() bool { return hasPresence(rc.ch, jsID, "username", "js") })
	js.wait("the Go presence", func(m map[string]any) bool {
		state, _ := m["state"].(map[string]any)
		metas, _ := state[host.id].([]any)
		if m["type"] != "presence" || len(metas) != 1 {
			return false
		}
		meta, _ := metas[0].(map[string]any)
		return meta["username"] == "go" && meta["presence_ref"] != nil
	})
	// The js join made a member row the Go client saw.
	rc.waitChange(t, "room_members", "INSERT", func(r map[string]any) bool { return r["user_id"] == jsID })

	// Changes, both ways.
	host.comment(t, roomID, "from go")
	js.waitChange("comments", "INSERT", "message", "from go")
	host.control(t, roomID, "play", 42)
	js.waitChange("rooms", "UPDATE", "current_time", 42.0)
	js.send(map[string]any{"cmd": "comment", "message": "from js"})
	js.wait("commented", func(m map[string]any) bool { return m["type"] == "commented" && m["error"] == nil })
	rc.waitChange(t, "comments", "INSERT", func(r map[string]any) bool { return r["message"] == "from js" && r["user_id"] == jsID })

	// A presence update from js reaches Go; Go's update reaches js.
	js.send(map[string]any{"cmd": "track", "payload": map[string]any{"user_id": jsID, "username": "js", "playing": true}})
	waitFor(t, 10*time.Second, "the js presence update", func() bool { return hasPresence(rc.ch, jsID, "playing", true) })
	if _, err := rc.ch.Track(context.Background(), map[string]any{"user_id": host.id, "username": "go", "playing": true}); err != nil {
		t.Fatal(err)
	}
	js.wait("the Go presence update", func(m map[string]any) bool {
		state, _ := m["state"].(map[string]any)
		metas, _ := state[host.id].([]any)
		if m["type"] != "presence" || len(metas) != 1 {
			return false
		}
		meta, _ := metas[0].(map[string]any)
		return meta["playing"] == true
	})

	// js leaves: its presence goes.
	js.send(map[string]any{"cmd": "exit"})
	js.wait("bye", func(m map[string]any) bool { return m["type"] == "bye" })
	waitFor(t, 10*time.Second, "the js presence to leave", func() bool { _, ok := rc.ch.PresenceState()[jsID]; return !ok })
}
