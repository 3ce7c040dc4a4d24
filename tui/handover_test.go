package tui

import (
	"slices"
	"strings"
	"testing"
)

// H then a member's number hands the host role over; any other key cancels; a follower is told
// it is for the host.
func TestHandoverKey(t *testing.T) {
	f := newFake(hostSnapshot())
	m := newTestModel(t, f, 100, 30, Options{})
	m = pressAndRun(t, m, "H")
	if texts := m.toasts.Texts(); len(texts) != 1 || !strings.Contains(texts[0], "1 bob  2 carol") {
		t.Fatalf("toasts after H = %q, want the numbered members", texts)
	}
	m = pressAndRun(t, m, "2")
	if got := f.Calls(); !slices.Equal(got, []string{"handover u-carol"}) {
		t.Fatalf("calls = %q, want a hand-over to carol (and no jump to 20%%)", got)
	}

	m = pressAndRun(t, m, "H")
	m = pressAndRun(t, m, "x")
	if got := f.Calls(); len(got) != 1 {
		t.Fatalf("a cancelled hand-over sent %q", got)
	}
	if texts := m.toasts.Texts(); !strings.Contains(strings.Join(texts, "|"), "hand-over cancelled") {
		t.Fatalf("toasts = %q", texts)
	}

	ff := newFake(followerSnapshot())
	fm := newTestModel(t, ff, 100, 30, Options{})
	fm = pressAndRun(t, fm, "H")
	if got := ff.Calls(); len(got) != 0 {
		t.Fatalf("follower calls = %q", got)
	}
	if texts := fm.toasts.Texts(); len(texts) == 0 || !strings.Contains(texts[0], "hand-over is for the host") {
		t.Fatalf("follower toasts = %q", texts)
	}
}

// o turns comments on the video off and on, and says which.
func TestOSDKey(t *testing.T) {
	f := newFake(followerSnapshot())
	m := newTestModel(t, f, 100, 30, Options{})
	m = pressAndRun(t, m, "o")
	m = pressAndRun(t, m, "o")
	if got := f.Calls(); !slices.Equal(got, []string{"osd", "osd"}) {
		t.Fatalf("calls = %q", got)
	}
	if texts := strings.Join(m.toasts.Texts(), "|"); !strings.Contains(texts, "comments on the video: off") || !strings.Contains(texts, "comments on the video: on") {
		t.Fatalf("toasts = %q", texts)
	}
}

// w ends the room's wait for buffering members (host); a follower is told it is for the host.
func TestEndWaitKey(t *testing.T) {
	f := newFake(hostSnapshot())
	m := newTestModel(t, f, 100, 30, Options{})
	pressAndRun(t, m, "w")
	if got := f.Calls(); !slices.Equal(got, []string{"endwait"}) {
		t.Fatalf("calls = %q, want endwait", got)
	}
	ff := newFake(followerSnapshot())
	fm := newTestModel(t, ff, 100, 30, Options{})
	fm = pressAndRun(t, fm, "w")
	if got := ff.Calls(); len(got) != 0 {
		t.Fatalf("follower calls = %q", got)
	}
	if texts := fm.toasts.Texts(); len(texts) == 0 || !strings.Contains(texts[0], "don't wait is for the host") {
		t.Fatalf("follower toasts = %q", texts)
	}
}
