package room

import (
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"
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
