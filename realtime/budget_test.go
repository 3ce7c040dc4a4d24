package realtime

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/watchparty/watchparty/server"
)

func TestBudgetWindow(t *testing.T) {
	b := budget{limit: 4, window: time.Second}
	t0 := time.Unix(1000, 0)
	for i := 0; i < 4; i++ {
		at := t0.Add(time.Duration(i) * 100 * time.Millisecond)
		if !b.allow(at) {
			t.Fatalf("push %d refused", i)
		}
		b.record(at)
	}
	if b.allow(t0.Add(400 * time.Millisecond)) {
		t.Fatal("a fifth push inside the window was allowed")
	}
	// The next slot opens when the first push leaves the window plus a 10 % margin.
	if got, want := b.next(t0.Add(400*time.Millisecond)), t0.Add(1100*time.Millisecond); !got.Equal(want) {
		t.Fatalf("next = %v, want %v", got.Sub(t0), want.Sub(t0))
	}
	if b.allow(t0.Add(1099 * time.Millisecond)) {
		t.Fatal("allowed before the margin passed")
	}
	if !b.allow(t0.Add(1100 * time.Millisecond)) {
		t.Fatal("refused after the first push left the window")
	}
	b.reset()
	if !b.allow(t0) {
		t.Fatal("refused after reset")
	}
}

func TestBackoffSchedule(t *testing.T) {
	s := &Socket{opts: SocketOptions{Jitter: -1}}
	want := []time.Duration{time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 10 * time.Second, 10 * time.Second}
	for i, w := range want {
		if got := s.backoff(DefaultReconnectDelays, i); got != w {
			t.Fatalf("attempt %d: %v, want %v", i, got, w)
		}
	}
	s.opts.Jitter = 0.2
	for i := 0; i < 100; i++ {
		d := s.backoff(DefaultReconnectDelays, 1)
		if d < 2*time.Second || d >= 2400*time.Millisecond {
			t.Fatalf("jittered delay %v outside [2 s, 2.4 s)", d)
		}
	}
}

// TestPresenceBudgetSimulatedSession plays a long session with a presence change every 20 ms
// against a server that closes a channel on the 6th presence call in its window, as hosted
// Supabase does. The window is 400 ms instead of 30 s, so 4 s are 10 windows: five minutes of
// a real session. The channel must never be closed, and the last state must arrive.
func TestPresenceBudgetSimulatedSession(t *testing.T) {
	const window = 400 * time.Millisecond
	ts := startServer(t, server.Config{PresenceWindow: window, PresenceLimit: 5})
	host := newUser(t, ts.URL(), ts.anonKey, SocketOptions{})
	guest := newUser(t, ts.URL(), ts.anonKey, SocketOptions{})
	roomID := host.createRoom(t, "host")
	guest.joinRoom(t, roomID, "guest")
	hc := host.roomChannel(t, roomID, ChannelOptions{PresenceWindow: window})
	hc.subscribe(t)
	gc := guest.roomChannel(t, roomID, ChannelOptions{})
	gc.subscribe(t)

	ctx := context.Background()
	var sent, deferred, unchanged int
	start := time.Now()
	last := 0
	for i := 1; time.Since(start) < 10*window; i++ {
		r, err := hc.ch.Track(ctx, map[string]any{"user_id": host.id, "n": i})
		if err != nil {
			t.Fatalf("track %d: %v", i, err)
		}
		switch {
		case r.Sent:
			sent++
		case r.Deferred:
			deferred++
			if r.SendAt.IsZero() || time.Until(r.SendAt) > window+window/10 {
				t.Fatalf("track %d deferred to %v from now", i, time.Until(r.SendAt))
			}
		case r.Unchanged:
			unchanged++
		}
		last = i
		time.Sleep(20 * time.Millisecond)
	}
	elapsed := time.Since(start)
	// The latest state reaches the other client once the window allows it.
	waitFor(t, 2*window, "the last presence state", func() bool { return hasPresence(gc.ch, host.id, "n", float64(last)) })
	if n := len(hc.closes.all()); n != 0 {
		t.Fatalf("the server closed the channel: %+v", hc.closes.all())
	}
	for _, e := range hc.systems.all() {
		if e.Status == "error" {
			t.Fatalf("system error: %+v", e)
		}
	}
	if hc.ch.State() != StateJoined {
		t.Fatalf("state %v, want joined", hc.ch.State())
	}
	st := hc.ch.Stats()
	windows := int(elapsed/(window+window/10)) + 1
	if st.PresenceSent > 4*windows+4 || st.PresenceSent < windows {
		t.Fatalf("%d pushes in %v (%d windows of %v): outside [%d, %d]", st.PresenceSent, elapsed, windows, window, windows, 4*windows+4)
	}
	if deferred == 0 || st.PresenceCoalesced == 0 {
		t.Fatalf("nothing was coalesced: sent %d, deferred %d, coalesced %d", sent, deferred, st.PresenceCoalesced)
	}
	t.Logf("%d Track calls in %v: %d sent at once, %d deferred, %d unchanged; %d pushes in total, %d calls coalesced",
		last, elapsed.Round(time.Millisecond), sent, deferred, unchanged, st.PresenceSent, st.PresenceCoalesced)
}

// TestServerClosesChannelOverPresenceLimit shows what the budget prevents, and that the
// server's shutdown reaches the app as typed events: a client budget above the server's
// limit gets the channel closed on the 6th call.
func TestServerClosesChannelOverPresenceLimit(t *testing.T) {
	ts := startServer(t, server.Config{PresenceWindow: 10 * time.Second, PresenceLimit: 5})
	host := newUser(t, ts.URL(), ts.anonKey, SocketOptions{})
	roomID := host.createRoom(t, "host")
	hc := host.roomChannel(t, roomID, ChannelOptions{PresenceLimit: 10, PresenceWindow: 10 * time.Second})
	hc.subscribe(t)
	ctx := context.Background()
	for i := 1; i <= 6; i++ {
		if _, err := hc.ch.Track(ctx, map[string]any{"n": i}); err != nil && i < 6 {
			t.Fatalf("track %d: %v", i, err)
		}
	}
	ev := hc.closes.wait(t, 5*time.Second, "close event", func(CloseEvent) bool { return true })
	var sce *ServerCloseError
	if !ev.ByServer || !errors.Is(ev.Err, ErrRateLimited) || !errors.Is(ev.Err, ErrChannelClosed) || !errors.As(ev.Err, &sce) ||
		sce.Message != "Client presence rate limit exceeded" {
		t.Fatalf("close event = %+v", ev)
	}
	hc.systems.wait(t, time.Second, "system error", func(e SystemEvent) bool {
		return e.Status == "error" && e.Message == "Client presence rate limit exceeded"
	})
	hc.statuses.wait(t, time.Second, "CLOSED", func(e StatusEvent) bool { return e.Status == Closed })
	if _, err := hc.ch.Track(ctx, map[string]any{"n": 7}); !errors.Is(err, ErrChannelClosed) {
		t.Fatalf("Track on a closed channel: %v", err)
	}
	// The app recreates it: a new channel for the same topic joins again.
	rc := host.roomChannel(t, roomID, ChannelOptions{})
	if rc.ch == hc.ch {
		t.Fatal("Channel handed out the closed channel")
	}
	rc.subscribe(t)
}
