package comments

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/watchparty/watchparty/room"
)

var t0 = time.Date(2026, 11, 28, 20, 15, 0, 0, time.UTC)

func newPane(w, h int) Model {
	m := New(Styles{}, time.UTC)
	m.SetSize(w, h)
	return m
}

func lines(m Model) []string { return strings.Split(ansi.Strip(m.View()), "\n") }

func TestEmptyAndSize(t *testing.T) {
	m := newPane(30, 6)
	ls := lines(m)
	if len(ls) != 6 || !strings.HasPrefix(ls[0], "Comments") || !strings.HasPrefix(ls[1], "no comments yet") ||
		!strings.Contains(ls[5], "press c to comment") {
		t.Fatalf("empty pane:\n%s", strings.Join(ls, "\n"))
	}
	for _, l := range ls {
		if ansi.StringWidth(l) != 30 {
			t.Fatalf("line %q is not 30 cells", l)
		}
	}
}

func TestRenderAndBottomAnchor(t *testing.T) {
	m := newPane(40, 6)
	m.SetSelf("u1")
	vt := 61.0
	m.SetComments([]room.Comment{
		{UserID: "u2", Username: "bob", Message: "joined", At: t0, System: true},
		{UserID: "u1", Username: "me", Message: "hi", VideoTime: &vt, At: t0},
	})
	ls := lines(m)
	if strings.TrimSpace(ls[2]) != "" || strings.TrimSpace(ls[3]) != "20:15 · joined" ||
		strings.TrimSpace(ls[4]) != "20:15 [1:01] me: hi" {
		t.Fatalf("pane:\n%s", strings.Join(ls, "\n"))
	}
}

func TestScrollKeepsViewAndCountsUnread(t *testing.T) {
	m := newPane(30, 7) // 5 history lines
	var cs []room.Comment
	for i := range 20 {
		cs = append(cs, room.Comment{Username: "u", Message: fmt.Sprintf("m%02d", i), At: t0})
	}
	m.SetComments(cs)
	m.PageUp()
	if m.Offset() != 4 {
		t.Fatalf("offset after pgup = %d, want 4 (a page less one line)", m.Offset())
	}
	before := lines(m)[1:6]
	m.Add(room.Comment{Username: "u", Message: "new", At: t0})
	after := lines(m)
	if strings.Join(before, "\n") != strings.Join(after[1:6], "\n") {
		t.Fatalf("view moved:\n%s\n---\n%s", strings.Join(before, "\n"), strings.Join(after[1:6], "\n"))
	}
	if m.Unread() != 1 || !strings.Contains(after[0], "↓ 1 new") {
		t.Fatalf("unread %d, title %q", m.Unread(), after[0])
	}
	m.ToLatest()
	if m.Offset() != 0 || m.Unread() != 0 || !strings.Contains(lines(m)[5], "new") {
		t.Fatal("ToLatest did not show the latest")
	}
	// Scrolling is bounded at both ends.
	for range 50 {
		m.PageUp()
	}
	if !strings.Contains(lines(m)[1], "m00") {
		t.Fatalf("top not reachable: %q", lines(m)[1])
	}
	for range 50 {
		m.PageDown()
	}
	if m.Offset() != 0 {
		t.Fatal("bottom not reachable")
	}
}

func TestHistoryIsBounded(t *testing.T) {
	m := newPane(30, 7)
	for i := range MaxHistory + 10 {
		m.Add(room.Comment{Message: fmt.Sprint(i)})
	}
	if n := len(m.Comments()); n != MaxHistory || m.Comments()[0].Message != "10" {
		t.Fatalf("kept %d, first %q", n, m.Comments()[0].Message)
	}
}
