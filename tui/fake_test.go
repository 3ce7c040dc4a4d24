package tui

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/watchparty/watchparty/party"
	"github.com/watchparty/watchparty/room"
)

// fakeControls is a test double of room.Controls: it records the actions and lets the test push
// events. Its methods are safe for concurrent use, like the real session's.
type fakeControls struct {
	events chan room.Event

	mu       sync.Mutex
	snap     room.Snapshot
	calls    []string
	err      error // returned by every action but Leave
	leaveErr error
	closed   bool // Leave ended the event stream
	// hangLeave makes Leave wait, like a session whose server does not answer, until a
	// second Leave call aborts it (or its ctx ends).
	hangLeave bool
	abort     chan struct{}
	leaves    int
	osdOff    bool
}

func newFake(s room.Snapshot) *fakeControls {
	return &fakeControls{events: make(chan room.Event, 64), snap: s}
}

func (f *fakeControls) Events() <-chan room.Event { return f.events }

func (f *fakeControls) Snapshot() room.Snapshot {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.snap
}

func (f *fakeControls) record(format string, args ...any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf(format, args...))
	return f.err
}

// Calls returns the actions recorded so far.
func (f *fakeControls) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *fakeControls) TogglePlay(context.Context) error { return f.record("toggle") }
func (f *fakeControls) ForcePlay(context.Context) error  { return f.record("force play") }
func (f *fakeControls) SetReady(_ context.Context, ready bool) error {
	return f.record("ready %v", ready)
}
func (f *fakeControls) SetReadyMode(_ context.Context, on bool) error {
	return f.record("ready mode %v", on)
}
func (f *fakeControls) SeekTo(_ context.Context, pos float64) error {
	return f.record("seekto %.1f", pos)
}
func (f *fakeControls) SeekBy(_ context.Context, d float64) error { return f.record("seekby %+.0f", d) }
func (f *fakeControls) SeekFraction(_ context.Context, x float64) error {
	return f.record("fraction %.1f", x)
}
func (f *fakeControls) SyncToLive(context.Context) error { return f.record("sync") }
func (f *fakeControls) Comment(_ context.Context, text string) error {
	return f.record("comment %s", text)
}
func (f *fakeControls) Handover(_ context.Context, userID string) error {
	return f.record("handover %s", userID)
}
func (f *fakeControls) EndWait(context.Context) error { return f.record("endwait") }

func (f *fakeControls) Moderate(_ context.Context, userID string, action room.Moderation) error {
	return f.record("moderate %s %d", userID, action)
}
func (f *fakeControls) ToggleOSD() bool {
	f.record("osd")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.osdOff = !f.osdOff
	return !f.osdOff
}

func (f *fakeControls) Leave(ctx context.Context) error {
	f.mu.Lock()
	if f.hangLeave {
		f.leaves++
		if f.leaves == 1 {
			f.abort = make(chan struct{})
			abort := f.abort
			f.mu.Unlock()
			select {
			case <-abort:
			case <-ctx.Done():
			}
			f.mu.Lock()
		} else if f.leaves == 2 && f.abort != nil {
			close(f.abort)
		}
	}
	f.calls = append(f.calls, "leave")
	err, closed := f.leaveErr, f.closed
	f.closed = true
	f.mu.Unlock()
	if !closed { // like the session: a last Closed, then the stream ends
		f.events <- room.Closed{}
		close(f.events)
	}
	return err
}

// Fixtures. The clock is fixed, so golden screens do not move.
var (
	t0 = time.Date(2026, 11, 28, 20, 15, 0, 0, time.UTC)
	vt = func(s float64) *float64 { return &s }
)

func hostSnapshot() room.Snapshot {
	return room.Snapshot{
		RoomID:     "abc123def4",
		MediaTitle: "Big Buck Bunny",
		Duration:   3720,
		HostID:     "u-alice",
		HostName:   "alice",
		SelfID:     "u-alice",
		SelfName:   "alice",
		IsHost:     true,
		Conn:       room.Connection{State: room.ConnConnected},
		Playing:    true,
		Rate:       1,
		Sync: room.SyncView{Status: party.StatusInSync, DriftMS: 12, Mode: room.ModeHost,
			Position: 754.2, Expected: 754.2, Speed: 1},
		Members: []room.MemberView{
			{UserID: "u-alice", Name: "alice", IsHost: true, IsSelf: true, Online: true, Playing: true,
				Position: 754.2, DriftMS: 0, InSync: true},
			{UserID: "u-bob", Name: "bob", Online: true, Playing: true, Position: 754.1, DriftMS: -40, InSync: true},
			{UserID: "u-carol", Name: "carol", Online: true, Stale: true, Playing: false, Position: 700,
				DriftMS: -54200, InSync: false, MediaDiffers: true, MediaNote: "3:12 shorter"},
		},
	}
}

func followerSnapshot() room.Snapshot {
	s := hostSnapshot()
	s.SelfID, s.SelfName, s.IsHost = "u-bob", "bob", false
	s.Sync = room.SyncView{Status: party.StatusSyncing, DriftMS: -840, Mode: room.ModeFollowing,
		Position: 753.4, Expected: 754.2, Speed: 1.04}
	for i := range s.Members {
		s.Members[i].IsSelf = s.Members[i].UserID == "u-bob"
	}
	return s
}

func sampleComments() []room.Comment {
	return []room.Comment{
		{ID: 1, UserID: "u-alice", Username: "alice", Message: "alice joined the room", At: t0.Add(-9 * time.Minute), System: true},
		{ID: 2, UserID: "u-bob", Username: "bob", Message: "bob joined the room", At: t0.Add(-8 * time.Minute), System: true},
		{ID: 3, UserID: "u-alice", Username: "alice", Message: "welcome! starting in a sec", VideoTime: vt(0), At: t0.Add(-7 * time.Minute)},
		{ID: 4, UserID: "u-bob", Username: "bob", Message: "the bunny is huge 🐰", VideoTime: vt(95.5), At: t0.Add(-5 * time.Minute)},
		{ID: 5, UserID: "u-carol", Username: "carol", Message: "this is a rather long comment that has to wrap over more than one line of the comment pane, to check the indent", VideoTime: vt(612), At: t0.Add(-2 * time.Minute)},
		{ID: 6, UserID: "u-alice", Username: "alice", Message: "小心! the squirrel 🐿️ is back", VideoTime: vt(750), At: t0.Add(-time.Minute)},
	}
}
