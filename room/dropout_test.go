package room

import (
	"errors"
	"testing"
)

// A session the server dropped (silent past its limit: a laptop asleep) joins again by itself,
// as the same client, and says so.
func TestDroppedSessionJoinsAgain(t *testing.T) {
	f := newFixtureWith(t, "u-host", true, func(b *memBackend) { b.droppedBeats = 1 })
	f.waitFor("the notice of the rejoin", f.noticed("dropped out: joined the room again"))
	f.be.mu.Lock()
	joins := f.be.joins
	f.be.mu.Unlock()
	if joins != 2 {
		t.Fatalf("%d joins, want the first and one more", joins)
	}
}

// The host hands the role over on purpose; a follower cannot.
func TestHandover(t *testing.T) {
	f := newFixture(t, selfID, true)
	if err := f.s.Handover(ctxFor(t), "u-other"); err != nil {
		t.Fatal(err)
	}
	f.waitFor("bob is now the host", f.noticed("bob is now the host"))
	f.waitFor("our snapshot as a follower", func() bool { return !f.s.Snapshot().IsHost })
	if err := f.s.Handover(ctxFor(t), selfID); !errors.Is(err, ErrNotHost) {
		t.Fatalf("a follower's hand-over: %v, want ErrNotHost", err)
	}
}
