package tui

import (
	"strings"
	"testing"

	"github.com/watchparty/watchparty/room"
)

// m, a member's number, then c/k/b: the host moderates; anything else cancels; a follower is
// told it is for the host.
func TestModerationKeys(t *testing.T) {
	f := newFake(hostSnapshot())
	m := newTestModel(t, f, 100, 30, Options{})
	for _, keys := range [][]string{{"m", "1", "c"}, {"m", "2", "k"}, {"m", "1", "b"}, {"m", "x"}, {"m", "1", "z"}} {
		for _, k := range keys {
			m = pressAndRun(t, m, k)
		}
	}
	want := []string{
		"moderate u-bob " + itoa(room.ModCohost), "moderate u-carol " + itoa(room.ModKick), "moderate u-bob " + itoa(room.ModBan),
	}
	if got := f.Calls(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("calls = %q, want %q", got, want)
	}
	if texts := strings.Join(m.toasts.Texts(), "|"); !strings.Contains(texts, "moderation cancelled") {
		t.Fatalf("toasts = %q", texts)
	}

	ff := newFake(followerSnapshot())
	fm := newTestModel(t, ff, 100, 30, Options{})
	fm = pressAndRun(t, fm, "m")
	if got := ff.Calls(); len(got) != 0 {
		t.Fatalf("follower calls = %q", got)
	}
	if texts := fm.toasts.Texts(); len(texts) == 0 || !strings.Contains(texts[0], "moderation is for the host") {
		t.Fatalf("follower toasts = %q", texts)
	}
}

// A co-host's playback keys go to the session (which sends them to the room); a follower's
// don't.
func TestCohostKeys(t *testing.T) {
	s := followerSnapshot()
	s.IsCohost = true
	f := newFake(s)
	m := newTestModel(t, f, 100, 30, Options{})
	pressAndRun(t, m, "space")
	if got := f.Calls(); len(got) != 1 || !strings.Contains(got[0], "toggle") {
		t.Fatalf("co-host calls = %q, want a play/pause", got)
	}
}

// Removed by the host: the screen says so and stays until q.
func TestRemovedScreen(t *testing.T) {
	f := newFake(followerSnapshot())
	m := newTestModel(t, f, 100, 30, Options{})
	next, _ := m.Update(eventMsg{ev: room.Closed{Err: &room.RemovedError{Msg: "you were removed from the room by alice"}, Reason: room.EndRemoved}})
	m = next.(Model)
	if m.done {
		t.Fatal("the screen quit at once; want it to say why first")
	}
	if v := m.render(); !strings.Contains(v, "you were removed from the room by alice") || !strings.Contains(v, "Press q to quit") {
		t.Fatalf("screen:\n%s", v)
	}
	m = pressAndRun(t, m, "space")
	if got := f.Calls(); len(got) != 0 {
		t.Fatalf("keys still act after the removal: %q", got)
	}
	next, cmd := press(t, m, "q")
	if !next.(Model).done || cmd == nil {
		t.Fatal("q does not quit the removed screen")
	}
}

func itoa(a room.Moderation) string { return string(rune('0' + int(a))) }
