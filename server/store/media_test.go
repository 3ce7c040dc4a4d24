package store

import (
	"context"
	"testing"
	"time"
)

// A beat's media report ("Same file?") is written and published when it changes the member's
// row, and only then; a report of the same media stays on the fast path; a member who left and
// comes back starts with none.
func TestBeatMediaPublishedWhenChanged(t *testing.T) {
	s, rec, clk := newStore(t)
	ctx := context.Background()
	room, _, err := s.CreateRoom(ctx, "u-host", "Host", "host-1", NewRoom{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := s.JoinRoom(ctx, room.RoomID, "u-a", "Ann", "a-1"); err != nil {
		t.Fatal(err)
	}
	beatAt(t, s, room.RoomID, "u-a", "a-1", 0, false) // announces
	clk.Add(time.Second)
	beatAt(t, s, room.RoomID, "u-a", "a-1", 0, false)
	rec.take()
	fp, dur := "0123456789abcdef0123456789abcdef", 120.5
	media := func(fp string, dur float64) bool {
		t.Helper()
		clk.Add(time.Second)
		published, err := s.BeatMedia(ctx, room.RoomID, "u-a", "a-1", 0, false, false, &MediaReport{FP: &fp, Duration: &dur})
		if err != nil {
			t.Fatal(err)
		}
		return published
	}
	if !media(fp, dur) {
		t.Fatal("a first media report was not published")
	}
	m := member(t, s, room.RoomID, "u-a")
	if m.MediaFP == nil || *m.MediaFP != fp || m.MediaDuration == nil || *m.MediaDuration != dur {
		t.Fatalf("stored media %v %v, want %s %v", m.MediaFP, m.MediaDuration, fp, dur)
	}
	if media(fp, dur) {
		t.Error("the same media report again was published")
	}
	if !media("ffffffffffffffffffffffffffffffff", dur) {
		t.Error("a new fingerprint was not published")
	}
	if !media("ffffffffffffffffffffffffffffffff", 90) {
		t.Error("a new duration was not published")
	}
	if !media("", 90) {
		t.Error("clearing the fingerprint was not published")
	}
	if m := member(t, s, room.RoomID, "u-a"); m.MediaFP != nil {
		t.Errorf("cleared fingerprint stored as %q", *m.MediaFP)
	}
	media(fp, dur)
	if _, err := s.LeaveRoom(ctx, room.RoomID, "u-a", ""); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := s.JoinRoom(ctx, room.RoomID, "u-a", "Ann", "a-2"); err != nil {
		t.Fatal(err)
	}
	if m := member(t, s, room.RoomID, "u-a"); m.MediaFP != nil || m.MediaDuration != nil {
		t.Errorf("a member back in the room kept the media of before: %v %v", m.MediaFP, m.MediaDuration)
	}
}
