package realtime

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/watchparty/watchparty/server"
)

// faultRoom is a room with a host whose connection the test breaks and a guest on a direct
// connection who watches the host's presence come and go.
type faultRoom struct {
	roomID string
	host   *user
	guest  *user
	hc, gc *roomChannel
	// seq numbers the host's presence payloads, checks the change checks.
	seq, checks int
}

func newFaultRoom(t *testing.T, hostURL, guestURL, anonKey string, hostOpts SocketOptions) *faultRoom {
	t.Helper()
	f := &faultRoom{host: newUser(t, hostURL, anonKey, hostOpts), guest: newUser(t, guestURL, anonKey, fastSocket())}
	f.roomID = f.host.createRoom(t, "host")
	f.guest.joinRoom(t, f.roomID, "guest")
	f.hc = f.host.roomChannel(t, f.roomID, ChannelOptions{})
	f.hc.subscribe(t)
	f.gc = f.guest.roomChannel(t, f.roomID, ChannelOptions{})
	f.gc.subscribe(t)
	f.track(t)
	return f
}

// track publishes the host's next presence payload and waits until the guest sees it.
func (f *faultRoom) track(t *testing.T) {
	t.Helper()
	f.seq++
	if _, err := f.hc.ch.Track(context.Background(), map[string]any{"user_id": f.host.id, "seq": f.seq}); err != nil {
		t.Fatal(err)
	}
	f.waitHostPresence(t)
}

func (f *faultRoom) waitHostPresence(t *testing.T) {
	t.Helper()
	waitFor(t, 10*time.Second, fmt.Sprintf("the guest to see host presence seq %d", f.seq), func() bool {
		metas := f.gc.ch.PresenceState()[f.host.id]
		return len(metas) == 1 && metas[0]["seq"] == float64(f.seq)
	})
}

// checkChangesOnce makes a room change and a marker comment and checks the host's channel got
// the change exactly once before the marker: rejoins left no duplicate subscription or handler.
func (f *faultRoom) checkChangesOnce(t *testing.T, label string) {
	t.Helper()
	f.checks++
	pos := float64(100 + f.checks)
	f.host.control(t, f.roomID, "seek", pos)
	marker := "marker " + label
	f.host.comment(t, f.roomID, marker)
	f.hc.waitChange(t, "comments", "INSERT", func(r map[string]any) bool { return r["message"] == marker })
	n := f.hc.changes.count(func(c Change) bool {
		var r roomRow
		return c.Table == "rooms" && c.DecodeNew(&r) == nil && r.CurrentTime == pos
	})
	if n != 1 {
		t.Fatalf("%s: the seek to %v arrived %d times, want once", label, pos, n)
	}
	if m := f.hc.changes.count(func(c Change) bool { return strings.Contains(string(c.New), marker) }); m != 1 {
		t.Fatalf("%s: the marker arrived %d times, want once", label, m)
	}
}

func subscribedCount(rc *roomChannel) int {
	return rc.statuses.count(func(e StatusEvent) bool { return e.Status == Subscribed })
}

func TestReconnectAfterServerRestart(t *testing.T) {
	ts := startServer(t, server.Config{})
	f := newFaultRoom(t, ts.URL(), ts.URL(), ts.anonKey, fastSocket())
	f.checkChangesOnce(t, "before")

	ts.stop()
	waitFor(t, 5*time.Second, "the host socket to notice", func() bool { return f.host.sock.State().Status != StatusConnected })
	if st := f.hc.ch.State(); st != StateErrored {
		t.Fatalf("host channel %v while the server is down, want errored", st)
	}
	// Presence changes while down are kept and sent after the rejoin.
	f.seq++
	r, err := f.hc.ch.Track(context.Background(), map[string]any{"user_id": f.host.id, "seq": f.seq})
	if err != nil || !r.Deferred {
		t.Fatalf("Track while down = %+v, %v; want deferred", r, err)
	}
	ts.start()

	waitFor(t, 10*time.Second, "both channels to rejoin", func() bool { return subscribedCount(f.hc) == 2 && subscribedCount(f.gc) == 2 })
	f.waitHostPresence(t)
	f.checkChangesOnce(t, "after restart")
	if j := f.hc.ch.Stats().Joins; j != 2 {
		t.Fatalf("host joined %d times, want 2", j)
	}
	if n := len(f.hc.closes.all()); n != 0 {
		t.Fatalf("close events after a restart: %+v", f.hc.closes.all())
	}
	// The server said it was going away.
	f.hc.systems.wait(t, time.Second, "Server requested disconnect", func(e SystemEvent) bool { return e.Message == "Server requested disconnect" })
}

func TestReconnectAfterNetworkCut(t *testing.T) {
	if testing.Short() {
		t.Skip("a 5 s network cut")
	}
	ts := startServer(t, server.Config{})
	px := newProxy(t, ts.addr)
	opts := fastSocket()
	opts.ReconnectDelays = []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second}
	f := newFaultRoom(t, px.URL(), ts.URL(), ts.anonKey, opts)
	f.checkChangesOnce(t, "before")

	// The link goes down for 5 s: open connections die, new ones are refused.
	px.setRefuse(true)
	px.cut()
	cutAt := time.Now()
	accepts := px.acceptCount()
	waitFor(t, 5*time.Second, "the guest to see the host leave", func() bool { _, ok := f.gc.ch.PresenceState()[f.host.id]; return !ok })
	waitFor(t, 5*time.Second, "the host socket to notice", func() bool { return f.host.sock.State().Status == StatusReconnecting })
	f.seq++
	if _, err := f.hc.ch.Track(context.Background(), map[string]any{"user_id": f.host.id, "seq": f.seq}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5*time.Second - time.Since(cutAt)) // the length of the cut itself
	tries := px.acceptCount() - accepts
	if tries < 3 {
		t.Fatalf("%d dials during a 5 s cut with delays 0.25, 0.5, 1 s; want at least 3", tries)
	}
	st := f.host.sock.State()
	if st.Status != StatusReconnecting || st.Err == nil || st.RetryAt.IsZero() {
		t.Fatalf("state during the cut = %+v", st)
	}
	px.setRefuse(false)
	restored := time.Now()

	waitFor(t, 5*time.Second, "the host to rejoin", func() bool { return subscribedCount(f.hc) == 2 })
	t.Logf("rejoined %v after the link came back (%d dials during the cut)", time.Since(restored).Round(time.Millisecond), tries)
	f.waitHostPresence(t)
	f.checkChangesOnce(t, "after the cut")
	errs := f.hc.statuses.count(func(e StatusEvent) bool { return e.Status == ChannelError })
	if errs != 1 {
		t.Fatalf("%d CHANNEL_ERROR statuses, want 1 (the drop)", errs)
	}
}

func TestStalledLinkHeartbeatTimeout(t *testing.T) {
	ts := startServer(t, server.Config{})
	px := newProxy(t, ts.addr)
	opts := fastSocket()
	opts.HeartbeatInterval = 200 * time.Millisecond
	f := newFaultRoom(t, px.URL(), ts.URL(), ts.anonKey, opts)
	f.checkChangesOnce(t, "before")

	// Bytes stop flowing but no connection closes: only the heartbeat can tell.
	px.stall()
	waitFor(t, 5*time.Second, "a heartbeat timeout", func() bool {
		return errors.Is(f.host.sock.State().Err, errHeartbeatTimeout)
	})
	px.resume()

	waitFor(t, 10*time.Second, "the host to rejoin", func() bool { return subscribedCount(f.hc) == 2 })
	f.waitHostPresence(t)
	f.checkChangesOnce(t, "after the stall")
	// The new join went out on a new connection.
	if px.acceptCount() < 3 { // host socket, host HTTP, host's new socket at least
		t.Fatalf("%d connections through the proxy", px.acceptCount())
	}
}
