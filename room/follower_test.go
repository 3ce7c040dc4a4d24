package room

import (
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/watchparty/watchparty/player"
)

// fakeClock is an injected wall clock.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

// TestSeekBackoff: correction seeks that fail are retried after 1 s, doubling up to 30 s; a
// seek wanted again for the same room state right after the last one finished counts as a
// failure; one notice says so.
func TestSeekBackoff(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	s := &Session{now: clk.now, events: newEventQueue(), log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	t.Cleanup(func() {
		s.events.close(Closed{})
		for range s.events.out {
		}
	})
	e := newEngine("me")
	e.room.StateVersion = 7
	failed := errors.New("seek failed")
	for i, want := range []time.Duration{1, 2, 4, 8, 16, 30, 30, 30, 30, 30} {
		if !s.seekAllowed(e) {
			t.Fatalf("failure %d: seek not allowed once the back-off is over", i)
		}
		s.seekFailed(e, failed)
		if got := e.fol.seekRetryAt.Sub(clk.now()); got != want*time.Second {
			t.Fatalf("failure %d: retry in %v, want %v", i+1, got, want*time.Second)
		}
		clk.advance(want*time.Second - time.Millisecond)
		if s.seekAllowed(e) {
			t.Fatalf("failure %d: seek allowed before the back-off is over", i+1)
		}
		clk.advance(time.Millisecond)
	}

	// A seek that "worked" but is wanted again at once for the same state did not work.
	e.fol = follower{}
	e.fol.init()
	e.fol.seekDoneAt, e.fol.seekVersion = clk.now(), 7
	clk.advance(seekNoEffect / 2)
	if s.seekAllowed(e) || e.fol.seekFails != 1 {
		t.Fatalf("a seek without effect was not counted: allowed, %d failures", e.fol.seekFails)
	}
	// For a new room state it is a new seek.
	e.fol = follower{}
	e.fol.init()
	e.fol.seekDoneAt, e.fol.seekVersion = clk.now(), 6
	if !s.seekAllowed(e) || e.fol.seekFails != 0 {
		t.Fatal("a seek for a new room state was held back")
	}
}

// TestFollowedSeek: a seek wanted again for the same state counts as not working only when
// the player is not where the seek put it; one that landed but took long did work.
func TestFollowedSeek(t *testing.T) {
	for _, c := range []struct {
		name  string
		st    player.State
		since time.Duration
		want  bool
	}{
		{"landed, playing on", player.State{Position: 100.3, Speed: 1}, 300 * time.Millisecond, true},
		{"landed, at double speed", player.State{Position: 100.6, Speed: 2}, 300 * time.Millisecond, true},
		{"landed, paused", player.State{Position: 100, Speed: 1, Paused: true}, 800 * time.Millisecond, true},
		{"stayed where it was", player.State{Position: 40.3, Speed: 1}, 300 * time.Millisecond, false},
		{"jumped back", player.State{Position: 99.0, Speed: 1}, 300 * time.Millisecond, false},
	} {
		if got := followedSeek(c.st, 100, c.since); got != c.want {
			t.Errorf("%s: followedSeek = %v, want %v", c.name, got, c.want)
		}
	}
}
