package room

import "testing"

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
