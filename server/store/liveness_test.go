package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

const (
	testStale = 15 * time.Second
	testGone  = 45 * time.Second
)

// sweep runs Store.Sweep at the fake clock's now with the default liveness times.
func sweep(t *testing.T, s *Store, clk *fakeClock) (dropped, handed int) {
	t.Helper()
	now := clk.Now()
	dropped, handed, err := s.Sweep(context.Background(), now.Add(-testStale), now.Add(-testGone))
	if err != nil {
		t.Fatal(err)
	}
	return dropped, handed
}

// systemComments returns the system messages of a room, oldest first.
func systemComments(t *testing.T, s *Store, roomID, reader string) []string {
	t.Helper()
	cs, err := s.ListComments(context.Background(), CommentQuery{Eq: map[string]string{"room_id": roomID, "is_system_message": "true"},
		Order: []OrderBy{{Column: "id"}}, ReaderID: reader})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range cs {
		out = append(out, c.Message)
	}
	return out
}

func member(t *testing.T, s *Store, roomID, userID string) Member {
	t.Helper()
	m, err := scanMember(s.db.QueryRow(memberSelect+` WHERE room_id = ? AND user_id = ?`, roomID, userID))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func beat(t *testing.T, s *Store, roomID, userID, clientID string) {
	t.Helper()
	if err := s.TrackPresence(context.Background(), roomID, userID, clientID, 1, true); err != nil {
		t.Fatalf("beat of %s/%s: %v", userID, clientID, err)
	}
}

// A person in a room from two windows stays while either is there; the last one out leaves.
func TestClientsOfOnePerson(t *testing.T) {
	s, _, clk := newStore(t)
	ctx := context.Background()
	room, _, _ := s.CreateRoom(ctx, "u-host", "Host", "host-screen", NewRoom{})
	if _, _, _, err := s.JoinRoom(ctx, room.RoomID, "u-host", "Host", "host-headless"); err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Second)
	beat(t, s, room.RoomID, "u-host", "host-screen")
	if _, err := s.LeaveRoom(ctx, room.RoomID, "u-host", "host-headless"); err != nil {
		t.Fatal(err)
	}
	r, members, _ := s.RoomState(ctx, room.RoomID)
	if len(members) != 1 || members[0].Role != "host" || r.HostUserID != "u-host" || !s.IsMember(room.RoomID, "u-host") {
		t.Fatalf("after the second window left: host %s, members %+v", r.HostUserID, members)
	}
	same(t, "notices", systemComments(t, s, room.RoomID, "u-host"), []string(nil))
	// Leaving a client that is not there (already gone) changes nothing either.
	if _, err := s.LeaveRoom(ctx, room.RoomID, "u-host", "never-joined"); err != nil {
		t.Fatal(err)
	}
	if !s.IsMember(room.RoomID, "u-host") {
		t.Fatal("an unknown client's leave took the person out")
	}
	if _, err := s.LeaveRoom(ctx, room.RoomID, "u-host", "host-screen"); err != nil {
		t.Fatal(err)
	}
	if s.IsMember(room.RoomID, "u-host") {
		t.Fatal("the last window left but the person is still a member")
	}
}

// A client that never beat (the one `watchparty create` makes, a window whose join failed)
// does not keep its person in the room when their last live window leaves.
func TestClientThatNeverBeat(t *testing.T) {
	s, _, clk := newStore(t)
	ctx := context.Background()
	room, _, _ := s.CreateRoom(ctx, "u-host", "Host", "made-by-create", NewRoom{})
	clk.Add(time.Second)
	s.JoinRoom(ctx, room.RoomID, "u-host", "Host", "host-screen")
	clk.Add(time.Second)
	beat(t, s, room.RoomID, "u-host", "host-screen")
	if _, err := s.LeaveRoom(ctx, room.RoomID, "u-host", "host-screen"); err != nil {
		t.Fatal(err)
	}
	if s.IsMember(room.RoomID, "u-host") {
		t.Fatal("the client rooms/create made kept the person in after their screen left")
	}
}

// A join that never beats (it failed before its client was up) leaves no trace in comments.
func TestUnannouncedJoinLeavesNoNotice(t *testing.T) {
	s, _, clk := newStore(t)
	ctx := context.Background()
	room, _, _ := s.CreateRoom(ctx, "u-host", "Host", "host-1", NewRoom{})
	s.JoinRoom(ctx, room.RoomID, "u-a", "Ann", "ann-1")
	clk.Add(time.Second)
	if _, err := s.LeaveRoom(ctx, room.RoomID, "u-a", "ann-1"); err != nil {
		t.Fatal(err)
	}
	same(t, "notices", systemComments(t, s, room.RoomID, "u-host"), []string(nil))
	// Announced once, and only once, by the first beat.
	s.JoinRoom(ctx, room.RoomID, "u-a", "Ann", "ann-2")
	beat(t, s, room.RoomID, "u-a", "ann-2")
	beat(t, s, room.RoomID, "u-a", "ann-2")
	if _, err := s.LeaveRoom(ctx, room.RoomID, "u-a", ""); err != nil {
		t.Fatal(err)
	}
	same(t, "notices", systemComments(t, s, room.RoomID, "u-host"), []string{"Ann joined the room", "Ann left the room"})
}

func TestClientCap(t *testing.T) {
	s, _, clk := newStore(t)
	ctx := context.Background()
	room, _, _ := s.CreateRoom(ctx, "u-host", "Host", "client-00", NewRoom{})
	for i := 1; i <= MaxClientsPerMember+2; i++ {
		clk.Add(time.Millisecond)
		if _, _, _, err := s.JoinRoom(ctx, room.RoomID, "u-host", "Host", fmt.Sprintf("client-%02d", i)); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	var oldest string
	s.db.QueryRow(`SELECT count(*), min(client_id) FROM room_clients WHERE room_id = ? AND user_id = ?`, room.RoomID, "u-host").Scan(&n, &oldest)
	if n != MaxClientsPerMember || oldest != "client-03" {
		t.Fatalf("clients kept = %d, oldest %s; want %d from client-03", n, oldest, MaxClientsPerMember)
	}
}

// A silent host hands the room to the longest-present live member; the owner, back, takes it back.
func TestSilentHostAndOwnerReturn(t *testing.T) {
	s, _, clk := newStore(t)
	ctx := context.Background()
	room, _, _ := s.CreateRoom(ctx, "u-host", "Host", "host-1", NewRoom{})
	s.ControlRoom(ctx, room.RoomID, "u-host", Control{Action: "play", CurrentTime: 10})
	clk.Add(time.Second)
	s.JoinRoom(ctx, room.RoomID, "u-a", "Ann", "ann-1")
	beat(t, s, room.RoomID, "u-a", "ann-1")
	clk.Add(time.Second)
	s.JoinRoom(ctx, room.RoomID, "u-b", "Bea", "bea-1")
	beat(t, s, room.RoomID, "u-b", "bea-1")

	// 14 s after the host's last beat: still the host.
	clk.Add(12 * time.Second)
	beat(t, s, room.RoomID, "u-a", "ann-1")
	beat(t, s, room.RoomID, "u-b", "bea-1")
	if _, handed := sweep(t, s, clk); handed != 0 {
		t.Fatal("handed over before the host was stale")
	}
	clk.Add(2 * time.Second)
	if _, handed := sweep(t, s, clk); handed != 1 {
		t.Fatalf("handed = %d after the host went quiet, want 1", handed)
	}
	r, _, _ := s.RoomState(ctx, room.RoomID)
	if r.HostUserID != "u-a" || r.StateVersion != 2 || r.CurrentTime < 25 || r.CurrentTime > 26 || !r.IsPlaying {
		t.Fatalf("room after hand-over: %+v", r)
	}
	if m := member(t, s, room.RoomID, "u-host"); m.Role != "member" || !m.Current() {
		t.Fatalf("quiet host: %+v (a quiet host stays a member until gone)", m)
	}
	// Ann beats only through her member row from here: Bea is the only other live one.
	if _, handed := sweep(t, s, clk); handed != 0 {
		t.Fatal("a second sweep handed over again")
	}

	// The owner comes back (the lid opens): host again, announced.
	clk.Add(5 * time.Second)
	beat(t, s, room.RoomID, "u-host", "host-1")
	r, _, _ = s.RoomState(ctx, room.RoomID)
	if r.HostUserID != "u-host" || member(t, s, room.RoomID, "u-a").Role != "member" || member(t, s, room.RoomID, "u-host").Role != "host" {
		t.Fatalf("after the owner's return: host %s", r.HostUserID)
	}
	same(t, "notices", systemComments(t, s, room.RoomID, "u-host"), []string{
		"Ann joined the room", "Bea joined the room", "Ann is now the host (Host went quiet)", "Host is back and is the host again"})
}

// Nobody live: a quiet host keeps the room (there is nobody to hand it to).
func TestQuietHostAloneKeepsRoom(t *testing.T) {
	s, _, clk := newStore(t)
	ctx := context.Background()
	room, _, _ := s.CreateRoom(ctx, "u-host", "Host", "host-1", NewRoom{})
	s.JoinRoom(ctx, room.RoomID, "u-a", "Ann", "ann-1")
	beat(t, s, room.RoomID, "u-a", "ann-1")
	clk.Add(20 * time.Second)
	if _, handed := sweep(t, s, clk); handed != 0 {
		t.Fatal("handed over to a member who is quiet too")
	}
}

// Past gone_after a person drops out; a dropped host's heir is announced with the reason.
func TestDropOut(t *testing.T) {
	s, _, clk := newStore(t)
	ctx := context.Background()
	room, _, _ := s.CreateRoom(ctx, "u-host", "Host", "host-1", NewRoom{})
	s.JoinRoom(ctx, room.RoomID, "u-a", "Ann", "ann-1")
	beat(t, s, room.RoomID, "u-a", "ann-1")
	s.JoinRoom(ctx, room.RoomID, "u-g", "Ghost", "ghost-1") // never beats: never announced
	for range 4 {                                           // Ann beats, Host and Ghost are silent
		clk.Add(12 * time.Second)
		beat(t, s, room.RoomID, "u-a", "ann-1")
		sweep(t, s, clk)
	}
	r, members, _ := s.RoomState(ctx, room.RoomID)
	if r.HostUserID != "u-a" || len(members) != 1 || members[0].UserID != "u-a" {
		t.Fatalf("after 48 s: host %s, members %+v", r.HostUserID, members)
	}
	if s.IsMember(room.RoomID, "u-host") || s.IsMember(room.RoomID, "u-g") {
		t.Fatal("dropped members still pass the realtime membership check")
	}
	same(t, "notices", systemComments(t, s, room.RoomID, "u-a"), []string{
		"Ann joined the room", "Ann is now the host (Host went quiet)", "Host dropped out"})
	var clients int
	s.db.QueryRow(`SELECT count(*) FROM room_clients WHERE room_id = ?`, room.RoomID).Scan(&clients)
	if clients != 1 {
		t.Fatalf("%d client rows left, want Ann's only", clients)
	}
	// A dropped person who comes back joins again (their beat alone is refused).
	if err := s.TrackPresence(ctx, room.RoomID, "u-host", "host-1", 1, true); !errors.Is(err, ErrNotMember) {
		t.Fatalf("dropped person's beat: %v", err)
	}
	s.JoinRoom(ctx, room.RoomID, "u-host", "Host", "host-1")
	r, _, _ = s.RoomState(ctx, room.RoomID)
	if r.HostUserID != "u-host" {
		t.Fatal("the owner's rejoin did not give the host role back")
	}
}

func TestHandover(t *testing.T) {
	s, _, clk := newStore(t)
	ctx := context.Background()
	room, _, _ := s.CreateRoom(ctx, "u-host", "Host", "host-1", NewRoom{})
	s.JoinRoom(ctx, room.RoomID, "u-a", "Ann", "ann-1")
	beat(t, s, room.RoomID, "u-a", "ann-1")
	for _, tc := range []struct {
		from, to string
		want     error
	}{
		{"u-a", "u-host", ErrNotHost},
		{"u-x", "u-a", ErrNotMember},
		{"u-host", "u-host", ErrNoSuchHeir},
		{"u-host", "u-x", ErrNoSuchHeir},
	} {
		if _, err := s.Handover(ctx, room.RoomID, tc.from, tc.to); !errors.Is(err, tc.want) {
			t.Errorf("handover %s → %s: %v, want %v", tc.from, tc.to, err, tc.want)
		}
	}
	if _, err := s.Handover(ctx, "nope", "u-host", "u-a"); !errors.Is(err, ErrRoomNotFound) {
		t.Errorf("unknown room: %v", err)
	}
	r, err := s.Handover(ctx, room.RoomID, "u-host", "u-a")
	if err != nil || r.HostUserID != "u-a" || !r.OwnerHandedOver || r.StateVersion != 1 {
		t.Fatalf("handover: %v %+v", err, r)
	}
	// The owner's beats and joins don't take it back now.
	clk.Add(time.Second)
	beat(t, s, room.RoomID, "u-host", "host-1")
	s.JoinRoom(ctx, room.RoomID, "u-host", "Host", "host-2")
	if r, _, _ = s.RoomState(ctx, room.RoomID); r.HostUserID != "u-a" {
		t.Fatal("the owner took back a role they handed over")
	}
	// Handed back: the flag clears.
	if r, err = s.Handover(ctx, room.RoomID, "u-a", "u-host"); err != nil || r.HostUserID != "u-host" || r.OwnerHandedOver {
		t.Fatalf("hand back: %v %+v", err, r)
	}
	same(t, "notices", systemComments(t, s, room.RoomID, "u-a"), []string{
		"Ann joined the room", "Host handed the host role to Ann", "Ann handed the host role to Host"})
}

// A control's position_at moves a playing room's position on to the write's time, by at most
// MaxPositionAge; a pause keeps the position as sent.
func TestControlPositionAt(t *testing.T) {
	s, _, clk := newStore(t)
	ctx := context.Background()
	room, _, _ := s.CreateRoom(ctx, "u-host", "Host", "host-1", NewRoom{})
	at := func(d time.Duration) *time.Time { v := clk.Now().Add(d); return &v }
	rate := 2.0
	for _, tc := range []struct {
		name string
		c    Control
		want float64
	}{
		{"play, read 40 ms ago", Control{Action: "play", CurrentTime: 10, PositionAt: at(-40 * time.Millisecond)}, 10.04},
		{"rate 2, read 100 ms ago", Control{Action: "rate", CurrentTime: 10, PlaybackRate: &rate, PositionAt: at(-100 * time.Millisecond)}, 10.2},
		{"read 10 s ago: at most 2 s", Control{Action: "seek", CurrentTime: 10, PositionAt: at(-10 * time.Second)}, 14},
		{"read in the future: no move", Control{Action: "sync", CurrentTime: 10, PositionAt: at(time.Second)}, 10},
		{"pause: as sent", Control{Action: "pause", CurrentTime: 10, PositionAt: at(-time.Second)}, 10},
		{"no position_at: as sent", Control{Action: "play", CurrentTime: 10}, 10},
	} {
		r, err := s.ControlRoom(ctx, room.RoomID, "u-host", tc.c)
		if err != nil || r.CurrentTime < tc.want-1e-9 || r.CurrentTime > tc.want+1e-9 {
			t.Errorf("%s: %v, current_time %v, want %v", tc.name, err, r.CurrentTime, tc.want)
		}
	}
}

// A beat in the join's own millisecond counts: the client has beaten.
func TestBeatInTheJoinsMillisecond(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	room, _, _ := s.CreateRoom(ctx, "u-host", "Host", "host-1", NewRoom{})
	s.JoinRoom(ctx, room.RoomID, "u-a", "Ann", "ann-screen")
	beat(t, s, room.RoomID, "u-a", "ann-screen") // the fake clock has not moved
	s.JoinRoom(ctx, room.RoomID, "u-a", "Ann", "ann-script")
	if _, err := s.LeaveRoom(ctx, room.RoomID, "u-a", "ann-script"); err != nil {
		t.Fatal(err)
	}
	if !s.IsMember(room.RoomID, "u-a") {
		t.Fatal("a client that beat in its join's millisecond was taken for one that never beat")
	}
}
