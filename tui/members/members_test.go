package members

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/watchparty/watchparty/room"
)

func view(w, h int, ms []room.MemberView) []string {
	m := New(Styles{})
	m.SetSize(w, h)
	m.SetMembers(ms)
	return strings.Split(ansi.Strip(m.View()), "\n")
}

func TestRowsAlignWithWideNames(t *testing.T) {
	ms := []room.MemberView{
		{Name: "alice", IsHost: true, Online: true, Playing: true, Position: 61, DriftMS: 5, InSync: true},
		{Name: "小心小心小心小心小心", IsSelf: true, Online: true, Stale: true, Position: 3700, DriftMS: -12000},
		{Name: "👨‍👩‍👧 family", Online: false, Position: 0, InSync: true},
	}
	ls := view(40, 5, ms)
	want := []string{
		"Members (3)",
		"★● alice             ▶    1:01    +5ms ✓",
		" ◌ 小心小心小心小心… ⏸ 1:01:40    -12s ✗",
		" ○ 👨‍👩‍👧 family         ⏸    0:00    +0ms ✓",
		"",
	}
	for i, l := range ls {
		if ansi.StringWidth(l) != 40 {
			t.Errorf("line %d %q is %d cells", i, l, ansi.StringWidth(l))
		}
		if strings.TrimRight(l, " ") != want[i] {
			t.Errorf("line %d = %q, want %q", i, strings.TrimRight(l, " "), want[i])
		}
	}
}

func TestNarrowDropsDrift(t *testing.T) {
	ls := view(26, 2, []room.MemberView{{Name: "bob", Online: true, DriftMS: 123, InSync: true}})
	if strings.Contains(ls[1], "123") || !strings.Contains(ls[1], "bob") || !strings.HasSuffix(ls[1], "✓") {
		t.Fatalf("narrow row %q", ls[1])
	}
}

func TestOverflowAndEmpty(t *testing.T) {
	ms := make([]room.MemberView, 10)
	for i := range ms {
		ms[i] = room.MemberView{Name: "m", Online: true}
	}
	ls := view(40, 5, ms)
	if ls[0] != "Members (10)"+strings.Repeat(" ", 28) || strings.TrimSpace(ls[4]) != "+7 more" {
		t.Fatalf("overflow:\n%s", strings.Join(ls, "\n"))
	}
	if ls := view(40, 3, nil); strings.TrimSpace(ls[1]) != "nobody here yet" {
		t.Fatalf("empty: %q", ls)
	}
}

// A buffering member is marked ⧖ in place of the play mark, in the same cell.
func TestBufferingMark(t *testing.T) {
	ls := view(40, 3, []room.MemberView{
		{Name: "bob", Online: true, Playing: true, Buffering: true, Position: 61, InSync: true},
	})
	if want := " ● bob               ⧖    1:01    +0ms ✓"; strings.TrimRight(ls[1], " ") != want {
		t.Errorf("row %q, want %q", ls[1], want)
	}
	if ansi.StringWidth(ls[1]) != 40 {
		t.Errorf("row %q is %d cells", ls[1], ansi.StringWidth(ls[1]))
	}
}
