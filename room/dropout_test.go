package room

import (
	"errors"
	"testing"
	"time"

	"github.com/watchparty/watchparty/party"
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

// A member's last report from before the room's last change (a seek) shows no false drift; a
// report after it does; our own row shows our mpv now.
func TestMemberDriftAfterRoomChange(t *testing.T) {
	f := newFixture(t, "u-host", true)
	f.waitFor("subscribed", f.subscribed)
	st := f.be.update(func(r *party.RoomState) { r.CurrentTime = 300 }) // the host seeks
	bob := func(seen time.Time) {                                       // bob's beat: his row on the server, and its change on the channel
		m := party.Member{RoomID: "room000001", UserID: "u-other", Username: "bob",
			Role: party.RoleMember, CurrentTime: 20, IsPlaying: true, LastSeen: seen, Announced: true}
		f.be.mu.Lock()
		for i := range f.be.members {
			if f.be.members[i].UserID == m.UserID {
				f.be.members[i] = m
			}
		}
		feed := f.be.feed
		f.be.mu.Unlock()
		feed(feedMember{Type: "UPDATE", Member: m})
	}
	row := func(id string) (MemberView, bool) {
		for _, m := range f.s.Snapshot().Members {
			if m.UserID == id {
				return m, true
			}
		}
		return MemberView{}, false
	}
	bob(st.UpdatedAt.Add(-time.Second))
	f.waitFor("bob's row from before the seek", func() bool { m, ok := row("u-other"); return ok && m.Position == 20 })
	if m, _ := row("u-other"); !m.InSync || m.DriftMS != 0 {
		t.Fatalf("bob's report from before the seek shows drift %d ms, in sync %v", m.DriftMS, m.InSync)
	}
	bob(st.UpdatedAt.Add(time.Second))
	f.waitFor("bob's row after the seek", func() bool { m, _ := row("u-other"); return !m.InSync })
	if me, ok := row(selfID); !ok || me.Stale || !me.Online {
		t.Fatalf("our own row: %+v", me)
	}
}
