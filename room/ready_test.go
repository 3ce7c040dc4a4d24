package room

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/watchparty/watchparty/party"
	"github.com/watchparty/watchparty/realtime"
)

// The ready check of the in-memory backend: the server's rule (docs/api.md, "The ready check")
// over its members, announced ones other than the host (nobody goes stale here).

func (b *memBackend) notReadyLocked() []string {
	var names []string
	for _, m := range b.members {
		if m.Announced && !m.Ready && m.UserID != b.room.HostUserID {
			names = append(names, m.Username)
		}
	}
	return names
}

func (b *memBackend) Play(ctx context.Context, roomID string, pos float64, at time.Time, force bool) (party.RoomState, error) {
	if err := b.wait(ctx); err != nil {
		return party.RoomState{}, err
	}
	b.mu.Lock()
	waiting := b.room.ReadyMode && !b.room.IsPlaying && !force && len(b.notReadyLocked()) > 0
	names := b.notReadyLocked()
	b.controls = append(b.controls, ActionPlay)
	b.mu.Unlock()
	if waiting {
		b.update(func(r *party.RoomState) { r.CurrentTime, r.StartPending = pos, true })
		return party.RoomState{}, &NotReadyError{Count: len(names), Names: names}
	}
	return b.update(func(r *party.RoomState) { r.CurrentTime, r.IsPlaying, r.StartPending = pos, true, false }), nil
}

// setReadyOf answers for userID, publishes the row and starts a pending room when it was the last.
func (b *memBackend) setReadyOf(userID string, ready bool) {
	b.mu.Lock()
	var row party.Member
	for i := range b.members {
		if b.members[i].UserID == userID {
			b.members[i].Ready = ready
			row = b.members[i]
		}
	}
	start := b.room.StartPending && len(b.notReadyLocked()) == 0
	feed := b.feed
	b.mu.Unlock()
	if feed != nil {
		feed(feedMember{Type: "UPDATE", Member: row})
	}
	if start {
		b.update(func(r *party.RoomState) { r.IsPlaying, r.StartPending = true, false })
	}
}

func (b *memBackend) SetReady(ctx context.Context, roomID string, ready bool) error {
	if err := b.wait(ctx); err != nil {
		return err
	}
	b.setReadyOf(b.userID, ready)
	return nil
}

func (b *memBackend) Settings(ctx context.Context, roomID string, set RoomSettings) (party.RoomState, error) {
	if err := b.wait(ctx); err != nil {
		return party.RoomState{}, err
	}
	return b.update(func(r *party.RoomState) {
		if set.ReadyMode != nil {
			r.ReadyMode = *set.ReadyMode
			r.StartPending = r.StartPending && r.ReadyMode
		}
	}), nil
}

func (f *fixture) hasEvent(match func(Event) bool) func() bool {
	return func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, ev := range f.events {
			if match(ev) {
				return true
			}
		}
		return false
	}
}

// The host's play in ready mode is published first: held, our mpv stays paused; the last one
// ready starts the room and then our mpv plays.
func TestReadyHostPlayWaits(t *testing.T) {
	f := newFixtureWith(t, selfID, false, func(b *memBackend) {
		b.room.ReadyMode = true
		b.members[1].LastSeen = time.Now() // bob is live
	})
	ctx := context.Background()
	err := f.s.TogglePlay(ctx)
	var nr *NotReadyError
	if !errors.As(err, &nr) || nr.Count != 1 || nr.Summary() != "1 not ready (bob)" {
		t.Fatalf("TogglePlay in ready mode = %v, want 1 not ready (bob)", err)
	}
	f.waitFor("StartPending", f.hasEvent(func(ev Event) bool { _, ok := ev.(StartPending); return ok }))
	if !f.sim.Paused() {
		t.Fatal("our mpv played while the room waits")
	}
	f.waitFor("the snapshot's pending start", func() bool { return f.s.Snapshot().StartPending })
	if r, total, names := f.s.Snapshot().ReadyCounts(); r != 0 || total != 1 || len(names) != 1 || names[0] != "bob" {
		t.Fatalf("ReadyCounts = %d/%d %v", r, total, names)
	}
	f.be.setReadyOf("u-other", true)
	f.waitFor("bob's ReadyChanged", f.hasEvent(func(ev Event) bool { rc, ok := ev.(ReadyChanged); return ok && rc.Ready && rc.Name == "bob" }))
	f.waitFor("ReadyStarted", f.hasEvent(func(ev Event) bool { _, ok := ev.(ReadyStarted); return ok }))
	f.waitFor("our mpv playing", func() bool { return !f.sim.Paused() })
}

// ForcePlay plays at once; SetReadyMode is the host's; SetReady works for anyone.
func TestReadyForceAndSettings(t *testing.T) {
	f := newFixtureWith(t, selfID, false, func(b *memBackend) { b.room.ReadyMode = true })
	ctx := context.Background()
	if err := f.s.SetReadyMode(ctx, false); err != nil {
		t.Fatal(err)
	}
	f.waitFor("ReadyModeChanged off", f.hasEvent(func(ev Event) bool { m, ok := ev.(ReadyModeChanged); return ok && !m.On }))
	if err := f.s.SetReadyMode(ctx, true); err != nil {
		t.Fatal(err)
	}
	if err := f.s.ForcePlay(ctx); err != nil {
		t.Fatal(err)
	}
	f.waitFor("our mpv playing", func() bool { return !f.sim.Paused() })
	if err := f.s.ForcePlay(ctx); err != nil {
		t.Fatalf("ForcePlay while playing: %v", err)
	}
	if err := f.s.SetReady(ctx, true); err != nil {
		t.Fatal(err)
	}

	g := newFixture(t, "u-host", false)
	if err := g.s.SetReadyMode(ctx, true); !errors.Is(err, ErrNotHost) {
		t.Fatalf("SetReadyMode by a follower = %v", err)
	}
	if err := g.s.ForcePlay(ctx); !errors.Is(err, ErrNotHost) {
		t.Fatalf("ForcePlay by a follower = %v", err)
	}
	if err := g.s.SetReady(ctx, true); err != nil {
		t.Fatal(err)
	}
}

// A hostile NOT_READY reply: odd types, too many names, escapes; it still reads as held.
func TestNotReadyReplyIsNotTrusted(t *testing.T) {
	body := []byte(`{"success":false,"error":{"code":"NOT_READY","message":"x","not_ready_count":"lots","not_ready":[{"username":"\u001b[31mbob"},{"username":7},` +
		`{"username":"a"},{"username":"b"},{"username":"c"},{"username":"d"},{"username":"e"}]}}`)
	err := notReadyOf(&realtime.APIError{Status: 409, Code: "NOT_READY", Body: body})
	var nr *NotReadyError
	if !errors.As(err, &nr) || nr.Count != 6 || nr.Names[0] != "bob" || nr.Summary() != "6 not ready (bob, a, b, c, d, …)" {
		t.Fatalf("hostile reply read as %#v (%v)", err, err)
	}
	err = notReadyOf(&realtime.APIError{Status: 409, Code: "NOT_READY", Body: []byte("not json")})
	if !errors.As(err, &nr) || nr.Count != 1 || nr.Summary() != "1 not ready" {
		t.Fatalf("unreadable reply read as %v", err)
	}
	other := &realtime.APIError{Status: 403, Code: "NOT_HOST"}
	if notReadyOf(other) != error(other) {
		t.Fatal("another error was read as NOT_READY")
	}
}
