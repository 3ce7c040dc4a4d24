package room

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/watchparty/watchparty/party"
	"github.com/watchparty/watchparty/player"
	"github.com/watchparty/watchparty/player/fakempv"
)

// These tests run a real session loop against the in-memory backend and a simulated mpv
// (player/fakempv), so they need no mpv and no server and take milliseconds.

const selfID = "u-me"

// fixture is one session under test.
type fixture struct {
	t   *testing.T
	be  *memBackend
	sim *fakempv.Sim
	s   *Session

	mu     sync.Mutex
	events []Event
	closed chan struct{}
}

// newFixture joins a room whose host is hostID, with our mpv attached to a simulated one
// playing (or paused) at 10 s.
func newFixture(t *testing.T, hostID string, playing bool) *fixture {
	t.Helper()
	return newFixtureWith(t, hostID, playing, nil)
}

// newFixtureWith is newFixture with the backend set up by setup (when not nil) before the join.
func newFixtureWith(t *testing.T, hostID string, playing bool, setup func(*memBackend)) *fixture {
	t.Helper()
	f := &fixture{t: t, be: newMemBackend(selfID, "room000001", hostID), closed: make(chan struct{})}
	f.be.room.IsPlaying = playing
	if setup != nil {
		setup(f.be)
	}
	f.sim = fakempv.NewSim(t, 600, 10, !playing)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p, err := player.Attach(ctx, f.sim.Path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := join(ctx, f.be, Options{RoomID: "room000001", Username: "me"}, p)
	if err != nil {
		p.Close()
		t.Fatal(err)
	}
	f.s = s
	go func() {
		defer close(f.closed)
		for ev := range s.Events() {
			f.mu.Lock()
			f.events = append(f.events, ev)
			f.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		s.Close()
		<-f.closed
	})
	return f
}

// waitFor waits until cond holds (checked every few ms), or fails the test after 2 s.
func (f *fixture) waitFor(what string, cond func() bool) {
	f.t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			f.t.Fatalf("timed out waiting for %s; notices %q", what, f.notices())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (f *fixture) notices() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, ev := range f.events {
		if n, ok := ev.(Notice); ok {
			out = append(out, n.Text)
		}
	}
	return out
}

func (f *fixture) noticed(text string) func() bool {
	return func() bool {
		for _, n := range f.notices() {
			if strings.Contains(n, text) {
				return true
			}
		}
		return false
	}
}

func (f *fixture) controls() []HostAction {
	f.be.mu.Lock()
	defer f.be.mu.Unlock()
	return append([]HostAction(nil), f.be.controls...)
}

func (f *fixture) subscribed() bool {
	f.be.mu.Lock()
	defer f.be.mu.Unlock()
	return f.be.feed != nil
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestSessionTable(t *testing.T) {
	for _, tc := range []struct {
		name    string
		host    string // the room's host at the start
		playing bool
		run     func(t *testing.T, f *fixture)
	}{
		{"follower corrects to the room", "u-host", true, func(t *testing.T, f *fixture) {
			f.be.update(func(r *party.RoomState) { r.CurrentTime = 200 })
			f.waitFor("a correction seek near 200 s", func() bool {
				for _, s := range f.sim.Seeks() {
					if s > 199 && s < 202 {
						return true
					}
				}
				return false
			})
		}},
		{"host actions are for the host", "u-host", true, func(t *testing.T, f *fixture) {
			for name, fn := range map[string]func(context.Context) error{
				"toggle": f.s.TogglePlay, "seek": func(ctx context.Context) error { return f.s.SeekTo(ctx, 5) },
				"fraction": func(ctx context.Context) error { return f.s.SeekFraction(ctx, 0.5) },
			} {
				if err := fn(ctxFor(t)); !errors.Is(err, ErrNotHost) {
					t.Errorf("%s: %v, want ErrNotHost", name, err)
				}
			}
		}},
		{"host hand-over to us", "u-host", true, func(t *testing.T, f *fixture) {
			f.be.update(func(r *party.RoomState) { r.HostUserID = selfID })
			f.waitFor("you are now the host", f.noticed("you are now the host"))
			f.waitFor("the host's snapshot", func() bool { return f.s.Snapshot().IsHost })
			if err := f.s.TogglePlay(ctxFor(t)); err != nil {
				t.Fatalf("toggle as the new host: %v", err)
			}
			f.waitFor("our mpv paused", f.sim.Paused)
		}},
		{"host hand-over away from us", selfID, true, func(t *testing.T, f *fixture) {
			f.be.update(func(r *party.RoomState) { r.HostUserID = "u-other" })
			f.waitFor("bob is now the host", f.noticed("bob is now the host"))
			if err := f.s.TogglePlay(ctxFor(t)); !errors.Is(err, ErrNotHost) {
				t.Fatalf("toggle after the hand-over: %v", err)
			}
		}},
		{"host publishes in order", selfID, true, func(t *testing.T, f *fixture) {
			ctx := ctxFor(t)
			for _, fn := range []func(context.Context) error{f.s.TogglePlay, f.s.TogglePlay,
				func(ctx context.Context) error { return f.s.SeekTo(ctx, 100) }} {
				if err := fn(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if got := f.controls(); len(got) != 3 || got[0] != ActionPause || got[1] != ActionPlay || got[2] != ActionSeek {
				t.Fatalf("published %v, want pause, play, seek", got)
			}
			if st := f.s.Snapshot(); !st.Playing {
				t.Fatalf("room not playing after play: %+v", st)
			}
		}},
		{"echo of our own publish is not applied again", selfID, true, func(t *testing.T, f *fixture) {
			if err := f.s.SeekTo(ctxFor(t), 100); err != nil {
				t.Fatal(err)
			}
			time.Sleep(200 * time.Millisecond) // ticks after the echo
			if seeks := f.sim.Seeks(); len(seeks) != 1 {
				t.Fatalf("mpv seeked %v: the echo of our seek was applied again", seeks)
			}
		}},
		{"room update while our publish is in flight", selfID, true, func(t *testing.T, f *fixture) {
			release := f.be.hold()
			errc := make(chan error, 1)
			go func() { errc <- f.s.SeekTo(ctxFor(t), 100) }()
			if a := <-f.be.entered; a != ActionSeek {
				t.Fatalf("first control %s", a)
			}
			// A script pauses the room at 300 s while our seek is being published.
			f.be.update(func(r *party.RoomState) { r.IsPlaying, r.CurrentTime = false, 300 })
			time.Sleep(100 * time.Millisecond)
			if f.sim.Paused() {
				t.Fatal("the update was applied while our publish was in flight")
			}
			release()
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
			// Our seek's reply is newer than the script's pause: the room is at our seek.
			f.waitFor("the room at our seek", func() bool {
				st := f.s.Snapshot()
				return st.Sync.Expected >= 100 && st.Sync.Expected < 120
			})
			if f.sim.Paused() {
				t.Fatal("the older pause was applied after our newer seek")
			}
		}},
		{"a pause while a republish is in flight goes out at once", selfID, true, func(t *testing.T, f *fixture) {
			release := f.be.hold() // the next publish (the republish) stays in flight
			defer release()
			f.sim.Stall(-3) // our mpv falls 3 s behind the room: the host republishes
			select {
			case a := <-f.be.entered:
				if a != ActionSync {
					t.Fatalf("first control %s, want a sync republish", a)
				}
			case <-time.After(2 * time.Second):
				t.Fatal("no republish")
			}
			// The pause is published while the republish is still held.
			if err := f.s.TogglePlay(ctxFor(t)); err != nil {
				t.Fatalf("pause while a republish is in flight: %v", err)
			}
			if got := f.controls(); len(got) != 1 || got[0] != ActionPause {
				t.Fatalf("published %v while the republish is held, want [pause]", got)
			}
			if !f.sim.Paused() {
				t.Fatal("our mpv is not paused")
			}
			// The stale republish lands after the pause: the pause is published again.
			release()
			f.waitFor("the room paused again after the stale republish", func() bool {
				got := f.controls()
				f.be.mu.Lock()
				playing := f.be.room.IsPlaying
				f.be.mu.Unlock()
				return len(got) == 3 && got[1] == ActionSync && got[2] == ActionPause && !playing
			})
			f.waitFor("the snapshot paused", func() bool { return !f.s.Snapshot().Playing })
		}},
		{"a script acting on our room after a publish", selfID, true, func(t *testing.T, f *fixture) {
			if err := f.s.SeekTo(ctxFor(t), 100); err != nil {
				t.Fatal(err)
			}
			f.be.update(func(r *party.RoomState) { r.IsPlaying, r.CurrentTime = false, 300 })
			f.waitFor("our mpv paused at 300", func() bool { return f.sim.Paused() && f.sim.Position() > 299 })
		}},
		{"detach in mpv, sync to live", "u-host", true, func(t *testing.T, f *fixture) {
			f.waitFor("in sync", func() bool { return f.s.Snapshot().Sync.Mode == ModeFollowing })
			f.sim.UserPause(true)
			f.waitFor("detached", func() bool { return f.s.Snapshot().Sync.Mode == ModeDetached })
			time.Sleep(150 * time.Millisecond)
			if !f.sim.Paused() {
				t.Fatal("a detached follower was corrected")
			}
			if err := f.s.SyncToLive(ctxFor(t)); err != nil {
				t.Fatal(err)
			}
			f.waitFor("synced to live", f.noticed("synced to live"))
			f.waitFor("following and playing", func() bool { return f.s.Snapshot().Sync.Mode == ModeFollowing && !f.sim.Paused() })
		}},
		{"detached follower re-attaches on a host action, not on a republish", "u-host", true, func(t *testing.T, f *fixture) {
			f.sim.UserSeek(50)
			f.waitFor("detached", func() bool { return f.s.Snapshot().Sync.Mode == ModeDetached })
			f.be.update(func(r *party.RoomState) { r.CurrentTime += time.Since(r.UpdatedAt).Seconds() }) // a republish
			time.Sleep(150 * time.Millisecond)
			if f.s.Snapshot().Sync.Mode != ModeDetached {
				t.Fatal("a corrective republish re-attached a detached follower")
			}
			f.be.update(func(r *party.RoomState) { r.IsPlaying = false })
			f.waitFor("the host acted", f.noticed("the host acted"))
			f.waitFor("following", func() bool { return f.s.Snapshot().Sync.Mode == ModeFollowing })
		}},
		{"comment", "u-host", true, func(t *testing.T, f *fixture) {
			if err := f.s.Comment(ctxFor(t), "  hi  "); err != nil {
				t.Fatal(err)
			}
			if err := f.s.Comment(ctxFor(t), " "); err == nil {
				t.Fatal("an empty comment was sent")
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, newFixture(t, tc.host, tc.playing))
		})
	}
}

// TestShutdownBounds: leaving and closing end within their bounds whatever mpv and the
// server do, and an attached mpv (the user's) is left running.
func TestShutdownBounds(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(f *fixture)
		end   func(f *fixture) error
		bound time.Duration
	}{
		{"leave", nil, func(f *fixture) error { return f.s.Leave(context.Background()) }, 300 * time.Millisecond},
		{"leave with mpv hung", func(f *fixture) { f.sim.Hang(true) },
			func(f *fixture) error { return f.s.Leave(context.Background()) }, 500 * time.Millisecond},
		{"leave with the server hung", func(f *fixture) { f.be.setHung(true) },
			func(f *fixture) error { f.s.Leave(context.Background()); return nil }, leaveServerTimeout + 500*time.Millisecond},
		{"leave with both hung", func(f *fixture) { f.be.setHung(true); f.sim.Hang(true) },
			func(f *fixture) error { f.s.Leave(context.Background()); return nil }, leaveServerTimeout + 500*time.Millisecond},
		{"second leave while the server hangs", func(f *fixture) { f.be.setHung(true) },
			func(f *fixture) error {
				go f.s.Leave(context.Background())
				time.Sleep(100 * time.Millisecond)
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				defer cancel()
				f.s.Leave(ctx)
				return nil
			}, 400 * time.Millisecond},
		{"close with the server hung", func(f *fixture) { f.be.setHung(true) },
			func(f *fixture) error { return f.s.Close() }, closeServerTimeout + 500*time.Millisecond},
		{"leave while a host action hangs in mpv", func(f *fixture) {
			f.be.update(func(r *party.RoomState) { r.HostUserID = selfID })
			f.waitFor("host", func() bool { return f.s.Snapshot().IsHost })
			f.sim.Hang(true)
			go f.s.SeekTo(context.Background(), 100)
			time.Sleep(50 * time.Millisecond)
		}, func(f *fixture) error { return f.s.Leave(context.Background()) }, 500 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, "u-host", true)
			f.waitFor("subscribed", f.subscribed)
			if tc.setup != nil {
				tc.setup(f)
			}
			start := time.Now()
			if err := tc.end(f); err != nil {
				t.Fatalf("end: %v", err)
			}
			select {
			case <-f.closed:
			case <-time.After(tc.bound):
			}
			took := time.Since(start)
			t.Logf("ended in %v", took.Round(time.Millisecond))
			if took > tc.bound {
				t.Fatalf("ended in %v, bound %v", took, tc.bound)
			}
			if f.sim.Quit() {
				t.Fatal("the attached mpv was asked to quit")
			}
			if f.sim.Conn(0) == nil {
				t.Fatal("no connection to the fake mpv")
			}
			// Actions after the end fail at once.
			if err := f.s.TogglePlay(context.Background()); !errors.Is(err, ErrClosed) {
				t.Fatalf("action after the end: %v", err)
			}
		})
	}
}

func TestLagLearning(t *testing.T) {
	for _, tc := range []struct {
		name      string
		residuals []float64 // measured after successive seek publishes, s
		wantLag   float64   // the learnt seek lag after them (-1: not checked)
		wantFixes []bool    // whether each asks for a republish at once
	}{
		{"within tolerance: learnt, no republish", []float64{0.005}, restartLagPrior + 0.005, []bool{false}},
		{"a lag is republished, then learnt", []float64{0.1, 0, 0}, restartLagPrior + 0.1, []bool{true, false, false}},
		{"a lag is republished twice in a row at most", []float64{0.05, 0.05, 0.05, 0.05}, -1, []bool{true, true, false, true}},
		{"a jump is the republish rule's, not a lag", []float64{party.RepublishThreshold + 0.1}, restartLagPrior, []bool{false}},
		{"bounded", []float64{0.9 * party.RepublishThreshold, 0.9 * party.RepublishThreshold, 0.9 * party.RepublishThreshold}, maxLag, []bool{true, true, false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h hostState
			h.init()
			for i, r := range tc.residuals {
				fix := h.learnLag(lagSeek, r)
				if fix != tc.wantFixes[i] {
					t.Errorf("residual %d (%v): republish %v, want %v", i, r, fix, tc.wantFixes[i])
				}
				// The republish moves the next publish by the learnt lag: the next residual
				// is what is left (the table gives it as measured).
			}
			if d := h.lag[lagSeek] - tc.wantLag; tc.wantLag >= 0 && (d > 1e-9 || d < -1e-9) {
				t.Fatalf("lag %v, want %v", h.lag[lagSeek], tc.wantLag)
			}
			if h.lag[lagPlay] != restartLagPrior || h.lag[lagRunning] != 0 {
				t.Fatalf("other kinds moved: %v", h.lag)
			}
		})
	}
}
