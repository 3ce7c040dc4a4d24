//go:build !windows

package room_test

import (
	"context"
	"testing"
	"time"

	"github.com/watchparty/watchparty/room"
)

// A co-host's play and pause keys move the room, and the host's mpv follows them; removed by
// the host, the co-host's session says by whom and ends (its mpv with it).
func TestCohostAndKick(t *testing.T) {
	p := newParty(t)
	alice := p.host("alice")
	roomID := alice.Session.Snapshot().RoomID
	bob := p.join(roomID, "bob")
	bobID := bob.Session.Snapshot().SelfID
	p.waitSynced(30*time.Second, "bob follows alice", alice, bob)

	ctx := context.WithoutCancel(p.ctx)
	if err := bob.Session.TogglePlay(ctx); err != room.ErrNotHost {
		t.Fatalf("a member's play: %v, want ErrNotHost", err)
	}
	if err := alice.Session.Moderate(ctx, bobID, room.ModCohost); err != nil {
		t.Fatal(err)
	}
	p.waitFor(15*time.Second, "bob sees he is a co-host", func() (bool, string) {
		return bob.Session.Snapshot().IsCohost, "not yet"
	})
	if err := bob.Session.TogglePlay(ctx); err != nil {
		t.Fatalf("the co-host's play: %v", err)
	}
	p.waitFor(15*time.Second, "alice's mpv plays after bob's play", func() (bool, string) {
		return !alice.probe.Paused() && !bob.probe.Paused(), "still paused"
	})
	p.systemComment(alice, "alice made bob a co-host", 10*time.Second)

	if err := alice.Session.Moderate(ctx, bobID, room.ModKick); err != nil {
		t.Fatal(err)
	}
	p.notice(bob, "you were removed from the room by alice", 20*time.Second)
	select {
	case <-bob.probe.Done():
	case <-time.After(20 * time.Second):
		t.Fatal("bob's mpv still runs 20 s after he was removed")
	}
	p.systemComment(alice, "alice removed bob", 10*time.Second)
}
