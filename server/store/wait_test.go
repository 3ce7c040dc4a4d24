package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

// A change of a member's buffering mark is published at once, both ways, and readers see it;
// the same beat without the change is not (docs/api.md, "Which beats are published").
func TestBufferingBeatsArePublished(t *testing.T) {
	s, rec, clk := newStore(t)
	ctx := context.Background()
	room, _, err := s.CreateRoom(ctx, "u-host", "Host", "host-1", NewRoom{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := s.JoinRoom(ctx, room.RoomID, "u-a", "Ann", "a-1"); err != nil {
		t.Fatal(err)
	}
	beatAt(t, s, room.RoomID, "u-a", "a-1", 0, false)
	rec.take()
	buffer := func(on bool) bool {
		t.Helper()
		clk.Add(300 * time.Millisecond)
		published, err := s.Beat(ctx, room.RoomID, "u-a", "a-1", 0, false, on)
		if err != nil {
			t.Fatal(err)
		}
		return published
	}
	if !buffer(true) {
		t.Error("a beat that starts buffering was not published")
	}
	changes := rec.changes()
	if len(changes) != 1 || changes[0].Record["buffering"] != true || changes[0].OldRecord["buffering"] != false {
		t.Fatalf("changes of the buffering beat: %+v", changes)
	}
	_, members, err := s.RoomState(ctx, room.RoomID)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range members {
		if m.UserID == "u-a" && !m.Buffering {
			t.Error("get_room_sync_state does not show Ann buffering")
		}
	}
	if buffer(true) {
		t.Error("a second buffering beat, nothing new, was published")
	}
	if !buffer(false) {
		t.Error("a beat that ends buffering was not published")
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if member(t, s, room.RoomID, "u-a").Buffering {
		t.Error("stored buffering after the end and a flush")
	}
}

// A wait pauses the room at its position with waiting_for set; play, pause and seek clear it,
// sync keeps it; it names current members only.
func TestWaitControl(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	room, _, err := s.CreateRoom(ctx, "u-host", "Host", "host-1", NewRoom{})
	if err != nil {
		t.Fatal(err)
	}
	same(t, "wait_limit at create", room.WaitLimit, int64(DefaultWaitLimit))
	same(t, "waiting_for at create", len(room.WaitingFor), 0)
	if _, _, _, err := s.JoinRoom(ctx, room.RoomID, "u-a", "Ann", "a-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ControlRoom(ctx, room.RoomID, "u-host", Control{Action: "play", CurrentTime: 10}); err != nil {
		t.Fatal(err)
	}
	r, err := s.ControlRoom(ctx, room.RoomID, "u-host", Control{Action: "wait", CurrentTime: 12, WaitingFor: []string{"u-a"}})
	if err != nil {
		t.Fatal(err)
	}
	same(t, "playing in a wait", r.IsPlaying, false)
	same(t, "waiting_for", r.WaitingFor, []string{"u-a"})
	same(t, "position of the wait", r.CurrentTime, 12.0)
	if r, err = s.ControlRoom(ctx, room.RoomID, "u-host", Control{Action: "sync", CurrentTime: 12}); err != nil {
		t.Fatal(err)
	}
	same(t, "waiting_for after a sync", r.WaitingFor, []string{"u-a"})
	got, _, err := s.RoomState(ctx, room.RoomID)
	if err != nil {
		t.Fatal(err)
	}
	same(t, "waiting_for as stored", got.WaitingFor, []string{"u-a"})
	for _, action := range []string{"play", "pause", "seek"} {
		if _, err := s.ControlRoom(ctx, room.RoomID, "u-host", Control{Action: "wait", CurrentTime: 12, WaitingFor: []string{"u-a"}}); err != nil {
			t.Fatal(err)
		}
		if r, err = s.ControlRoom(ctx, room.RoomID, "u-host", Control{Action: action, CurrentTime: 12}); err != nil {
			t.Fatal(err)
		}
		same(t, "waiting_for after "+action, len(r.WaitingFor), 0)
	}
	if _, err := s.ControlRoom(ctx, room.RoomID, "u-host", Control{Action: "wait", CurrentTime: 12, WaitingFor: []string{"u-stranger"}}); !errors.Is(err, ErrNotWaitable) {
		t.Errorf("a wait for a stranger: %v, want ErrNotWaitable", err)
	}
	if _, err := s.ControlRoom(ctx, room.RoomID, "u-a", Control{Action: "wait", CurrentTime: 12, WaitingFor: []string{"u-a"}}); !errors.Is(err, ErrNotHost) {
		t.Errorf("a wait by a member: %v, want ErrNotHost", err)
	}
}
