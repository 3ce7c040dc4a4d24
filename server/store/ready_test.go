package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func on() *bool  { v := true; return &v }
func off() *bool { v := false; return &v }

// readyRoom makes a room in ready mode hosted by u-host with bob and carol announced and live.
func readyRoom(t *testing.T, s *Store, clk *fakeClock) Room {
	t.Helper()
	ctx := context.Background()
	room, _, err := s.CreateRoom(ctx, "u-host", "Host", "host-screen", NewRoom{ReadyMode: true})
	if err != nil || !room.ReadyMode {
		t.Fatalf("create in ready mode: %+v, %v", room, err)
	}
	for _, u := range []string{"bob", "carol"} {
		if _, _, _, err := s.JoinRoom(ctx, room.RoomID, "u-"+u, u, u+"-screen"); err != nil {
			t.Fatal(err)
		}
		beat(t, s, room.RoomID, "u-"+u, u+"-screen")
	}
	clk.Add(time.Second)
	beat(t, s, room.RoomID, "u-host", "host-screen")
	return room
}

func play(s *Store, roomID string, force bool) (Room, error) {
	return s.ControlRoom(context.Background(), roomID, "u-host", Control{Action: "play", CurrentTime: 7, Force: force})
}

// The host's play waits for every live member; the last one ready starts the room, in the
// same write, with a system comment.
func TestReadyCheckStartsWhenEveryoneIsReady(t *testing.T) {
	s, _, clk := newStore(t)
	ctx := context.Background()
	room := readyRoom(t, s, clk)
	r, err := play(s, room.RoomID, false)
	var nr *NotReadyError
	if !errors.As(err, &nr) || len(nr.Members) != 2 || nr.Members[0].Username != "bob" || nr.Members[1].Username != "carol" {
		t.Fatalf("play: %v, want NOT_READY naming bob and carol", err)
	}
	same(t, "message", err.Error(), "2 not ready (bob, carol): play with force to start anyway")
	if r.IsPlaying || !r.StartPending || r.CurrentTime != 7 {
		t.Fatalf("room after a held play: %+v", r)
	}
	if _, m, err := s.SetReady(ctx, room.RoomID, "u-bob", true); err != nil || !m.Ready {
		t.Fatalf("bob ready: %+v, %v", m, err)
	}
	r, _, _ = s.RoomState(ctx, room.RoomID)
	if r.IsPlaying || !r.StartPending {
		t.Fatalf("started with carol not ready: %+v", r)
	}
	r, _, err = s.SetReady(ctx, room.RoomID, "u-carol", true)
	if err != nil || !r.IsPlaying || r.StartPending || r.CurrentTime != 7 {
		t.Fatalf("carol ready: %+v, %v", r, err)
	}
	cs := systemComments(t, s, room.RoomID, "u-host")
	same(t, "last notice", cs[len(cs)-1], StartedComment)
	// Ready flags stay: the next play after a pause goes at once.
	if _, err := s.ControlRoom(ctx, room.RoomID, "u-host", Control{Action: "pause", CurrentTime: 8}); err != nil {
		t.Fatal(err)
	}
	if r, err := play(s, room.RoomID, false); err != nil || !r.IsPlaying {
		t.Fatalf("play with everyone ready: %+v, %v", r, err)
	}
}

// Force plays at once; pause and seek drop a pending start; ready mode off drops it too, and
// on again asks everyone again.
func TestReadyCheckForceAndClears(t *testing.T) {
	s, _, clk := newStore(t)
	ctx := context.Background()
	room := readyRoom(t, s, clk)
	for _, action := range []string{"pause", "seek"} {
		if _, err := play(s, room.RoomID, false); err == nil {
			t.Fatal("play went through")
		}
		r, err := s.ControlRoom(ctx, room.RoomID, "u-host", Control{Action: action, CurrentTime: 3})
		if err != nil || r.StartPending || r.IsPlaying {
			t.Fatalf("%s: %+v, %v", action, r, err)
		}
	}
	if _, err := play(s, room.RoomID, false); err == nil {
		t.Fatal("play went through")
	}
	r, err := s.UpdateSettings(ctx, room.RoomID, "u-host", RoomSettings{ReadyMode: off()})
	if err != nil || r.ReadyMode || r.StartPending {
		t.Fatalf("ready mode off: %+v, %v", r, err)
	}
	if _, _, err := s.SetReady(ctx, room.RoomID, "u-bob", true); err != nil {
		t.Fatal(err)
	}
	before := r.StateVersion
	if r, err = s.UpdateSettings(ctx, room.RoomID, "u-host", RoomSettings{ReadyMode: on()}); err != nil || !r.ReadyMode || r.StateVersion != before+1 {
		t.Fatalf("ready mode on: %+v, %v", r, err)
	}
	if member(t, s, room.RoomID, "u-bob").Ready {
		t.Fatal("switching ready mode on kept bob's answer")
	}
	if r, err = s.UpdateSettings(ctx, room.RoomID, "u-host", RoomSettings{}); err != nil || r.StateVersion != before+1 {
		t.Fatalf("no settings wrote something: %+v, %v", r, err)
	}
	if r, err = play(s, room.RoomID, true); err != nil || !r.IsPlaying || r.StartPending {
		t.Fatalf("forced play: %+v, %v", r, err)
	}
	if _, err := s.UpdateSettings(ctx, room.RoomID, "u-bob", RoomSettings{ReadyMode: off()}); !errors.Is(err, ErrNotHost) {
		t.Fatalf("settings by a member: %v", err)
	}
	if _, err := s.UpdateSettings(ctx, room.RoomID, "u-nobody", RoomSettings{ReadyMode: off()}); !errors.Is(err, ErrNotMember) {
		t.Fatalf("settings by a stranger: %v", err)
	}
	if _, _, err := s.SetReady(ctx, room.RoomID, "u-nobody", true); !errors.Is(err, ErrNotMember) {
		t.Fatalf("ready by a stranger: %v", err)
	}
}

// A pending start does not wait for someone who left, went quiet or never beat; a leave
// clears the person's answer.
func TestReadyCheckLiveMembersOnly(t *testing.T) {
	s, _, clk := newStore(t)
	ctx := context.Background()
	room := readyRoom(t, s, clk)
	if _, _, _, err := s.JoinRoom(ctx, room.RoomID, "u-dave", "dave", "dave-screen"); err != nil {
		t.Fatal(err) // joined, never beat: not announced, not waited for
	}
	if _, _, err := s.SetReady(ctx, room.RoomID, "u-bob", true); err != nil {
		t.Fatal(err)
	}
	if _, err := play(s, room.RoomID, false); err == nil {
		t.Fatal("play went through with carol not ready")
	}
	// carol leaves: the room starts, and bob's answer survives while carol's is gone.
	r, err := s.LeaveRoom(ctx, room.RoomID, "u-carol", "")
	if err != nil || !r.IsPlaying || r.StartPending {
		t.Fatalf("after the last one not ready left: %+v, %v", r, err)
	}
	if member(t, s, room.RoomID, "u-carol").Ready || !member(t, s, room.RoomID, "u-bob").Ready {
		t.Fatal("answers after the leave")
	}
	if _, err := s.ControlRoom(ctx, room.RoomID, "u-host", Control{Action: "pause"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.SetReady(ctx, room.RoomID, "u-bob", false); err != nil {
		t.Fatal(err)
	}
	if _, err := play(s, room.RoomID, false); err == nil {
		t.Fatal("play went through with bob not ready")
	}
	// bob goes quiet (the host keeps beating): past stale_after the sweep starts the room.
	clk.Add(testStale / 2)
	beat(t, s, room.RoomID, "u-host", "host-screen")
	sweep(t, s, clk)
	if r, _, _ := s.RoomState(ctx, room.RoomID); r.IsPlaying {
		t.Fatal("started while bob was live")
	}
	clk.Add(testStale/2 + time.Second)
	beat(t, s, room.RoomID, "u-host", "host-screen")
	sweep(t, s, clk)
	if r, _, _ := s.RoomState(ctx, room.RoomID); !r.IsPlaying || r.StartPending {
		t.Fatalf("bob quiet, the room still waits: %+v", r)
	}
}
