package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// beatAt is one beat and whether it was published.
func beatAt(t *testing.T, s *Store, roomID, userID, clientID string, pos float64, playing bool) bool {
	t.Helper()
	published, err := s.Beat(context.Background(), roomID, userID, clientID, pos, playing, false)
	if err != nil {
		t.Fatalf("beat of %s: %v", userID, err)
	}
	return published
}

// A beat is published only when a screen would show something new: the first (announcing), a
// play-state change, an in-sync crossing against the room, a last_seen RowRefresh old; the rest
// stay in memory until a flush, and readers see them anyway.
func TestBeatsPublishedWhenScreensChange(t *testing.T) {
	s, rec, clk := newStore(t)
	ctx := context.Background()
	room, _, err := s.CreateRoom(ctx, "u-host", "Host", "host-1", NewRoom{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := s.JoinRoom(ctx, room.RoomID, "u-a", "Ann", "a-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ControlRoom(ctx, room.RoomID, "u-host", Control{Action: "play", CurrentTime: 10}); err != nil {
		t.Fatal(err)
	}
	rec.take()
	if !beatAt(t, s, room.RoomID, "u-a", "a-1", 10, true) {
		t.Fatal("the first beat (announcing) was not published")
	}
	rec.take()
	stored := member(t, s, room.RoomID, "u-a").LastSeen

	clk.Add(3 * time.Second)
	if beatAt(t, s, room.RoomID, "u-a", "a-1", 13.1, true) {
		t.Error("a beat in sync, same state, published")
	}
	same(t, "changes of an unchanged beat", rec.take(), []string(nil))
	same(t, "stored last_seen before a flush", member(t, s, room.RoomID, "u-a").LastSeen, stored)
	_, members, err := s.RoomState(ctx, room.RoomID)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range members {
		if m.UserID == "u-a" && (m.LastSeen != FormatTime(clk.Now()) || m.CurrentTime != 13.1) {
			t.Errorf("get_room_sync_state shows %s at %v, want the beat in memory (%s at 13.1)", m.LastSeen, m.CurrentTime, FormatTime(clk.Now()))
		}
	}

	clk.Add(3 * time.Second)
	if !beatAt(t, s, room.RoomID, "u-a", "a-1", 12, true) { // 4 s behind the room
		t.Error("a beat crossing the in-sync threshold was not published")
	}
	clk.Add(3 * time.Second)
	if !beatAt(t, s, room.RoomID, "u-a", "a-1", 19, false) {
		t.Error("a play-state change was not published")
	}
	rec.take()
	for i := 0; i < 5; i++ {
		// Paused at 19 while the room plays on: out of sync from the first of these (a
		// crossing, published), then only the refresh once the held row is 10 s old.
		clk.Add(3 * time.Second)
		if got, want := beatAt(t, s, room.RoomID, "u-a", "a-1", 19, false), i == 0 || i == 4; got != want {
			t.Errorf("paused beat %d: published %v, want %v", i, got, want)
		}
	}
	// A seek makes the held row out of sync on screens: the next beat, at the new position, is
	// published; the one after is not.
	if _, err := s.ControlRoom(ctx, room.RoomID, "u-host", Control{Action: "seek", CurrentTime: 100}); err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Second)
	if !beatAt(t, s, room.RoomID, "u-a", "a-1", 101, true) {
		t.Error("the first beat after a seek, in sync with it, was not published")
	}
	rec.take()
	clk.Add(3 * time.Second)
	if beatAt(t, s, room.RoomID, "u-a", "a-1", 104, true) {
		t.Error("a member in sync with the room published again")
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	same(t, "stored last_seen after a flush", member(t, s, room.RoomID, "u-a").LastSeen, FormatTime(clk.Now()))
}

// The sweep decides on the beats held in memory: a member who beats only in memory is neither
// stale nor gone, and a silent host is still replaced.
func TestSweepSeesBeatsInMemory(t *testing.T) {
	s, _, clk := newStore(t)
	ctx := context.Background()
	room, _, err := s.CreateRoom(ctx, "u-host", "Host", "host-1", NewRoom{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := s.JoinRoom(ctx, room.RoomID, "u-a", "Ann", "a-1"); err != nil {
		t.Fatal(err)
	}
	beatAt(t, s, room.RoomID, "u-host", "host-1", 0, false)
	beatAt(t, s, room.RoomID, "u-a", "a-1", 0, false)
	for i := 0; i < 20; i++ { // 60 s: Ann beats every 3 s, the host is silent
		clk.Add(3 * time.Second)
		beatAt(t, s, room.RoomID, "u-a", "a-1", 0, false)
		sweep(t, s, clk)
	}
	if !s.IsMember(room.RoomID, "u-a") {
		t.Fatal("a member beating in memory dropped out")
	}
	if s.IsMember(room.RoomID, "u-host") {
		t.Error("the silent host is still a member after 60 s")
	}
	r, _, err := s.RoomState(ctx, room.RoomID)
	if err != nil {
		t.Fatal(err)
	}
	same(t, "host after the silent host's hand-over", r.HostUserID, "u-a")
	// Ann's row now says host: her beats keep it (the row held in memory was replaced).
	clk.Add(3 * time.Second)
	beatAt(t, s, room.RoomID, "u-a", "a-1", 0, false)
	same(t, "Ann's role", member(t, s, room.RoomID, "u-a").Role, "host")
}

// With SpreadRefresh, members who joined together get their first refresh at different points
// between RowRefresh/4 and RowRefresh, and every later one RowRefresh after the last.
func TestSpreadRefresh(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
	s, err := Open(filepath.Join(t.TempDir(), "watchparty.db"), Options{Now: clk.Now, SpreadRefresh: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()
	room, _, err := s.CreateRoom(ctx, "u-host", "Host", "host-1", NewRoom{})
	if err != nil {
		t.Fatal(err)
	}
	users := []string{"u-host"}
	for i := range 7 {
		u := fmt.Sprint("u-", i)
		if _, _, _, err := s.JoinRoom(ctx, room.RoomID, u, u, u+"-1"); err != nil {
			t.Fatal(err)
		}
		users = append(users, u)
	}
	for _, u := range users {
		beatAt(t, s, room.RoomID, u, u+"-1", 0, false) // announcing: a slow beat
	}
	first := map[string]time.Duration{}
	for step := time.Second; step <= 25*time.Second; step += time.Second {
		clk.Add(time.Second)
		for _, u := range users {
			if beatAt(t, s, room.RoomID, u, u+"-1", 0, false) {
				if at, ok := first[u]; !ok {
					first[u] = step
				} else if step-at < DefaultRowRefresh {
					t.Errorf("%s refreshed at %v after %v: want %v apart", u, step, at, DefaultRowRefresh)
				}
			}
		}
	}
	distinct := map[time.Duration]bool{}
	for _, u := range users {
		at, ok := first[u]
		if !ok || at < DefaultRowRefresh/4 || at > DefaultRowRefresh {
			t.Errorf("%s: first refresh at %v (published %v), want between %v and %v", u, at, ok, DefaultRowRefresh/4, DefaultRowRefresh)
		}
		distinct[at] = true
	}
	if len(distinct) < 2 {
		t.Errorf("all %d members refreshed first at the same second: %v", len(users), first)
	}
}
