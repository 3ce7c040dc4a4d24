package header

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/watchparty/watchparty/room"
)

func TestConnectionStates(t *testing.T) {
	now := time.Date(2026, 11, 28, 20, 0, 0, 0, time.UTC)
	cases := []struct {
		conn    room.Connection
		leaving bool
		want    string
	}{
		{room.Connection{State: room.ConnConnected}, false, "● connected"},
		{room.Connection{State: room.ConnConnecting}, false, "… connecting"},
		{room.Connection{}, false, "… connecting"},
		{room.Connection{State: room.ConnReconnecting, RetryAt: now.Add(1500 * time.Millisecond)}, false, "↻ reconnecting in 2 s"},
		{room.Connection{State: room.ConnReconnecting, RetryAt: now.Add(-time.Second)}, false, "↻ reconnecting…"},
		{room.Connection{State: room.ConnClosed, Err: "gone"}, false, "✗ disconnected"},
		{room.Connection{State: room.ConnConnected}, true, "… leaving"},
	}
	for _, c := range cases {
		m := New(Styles{}, "")
		m.SetWidth(60)
		m.SetNow(now)
		m.SetLeaving(c.leaving)
		m.SetSnapshot(room.Snapshot{RoomID: "r1", Conn: c.conn})
		first := strings.Split(ansi.Strip(m.View()), "\n")[0]
		if !strings.HasSuffix(first, c.want) || ansi.StringWidth(first) != 60 {
			t.Errorf("%+v leaving=%v: %q, want it to end with %q", c.conn, c.leaving, first, c.want)
		}
	}
}

func TestJoinLineOnlyForHost(t *testing.T) {
	m := New(Styles{}, "watchparty join r1")
	m.SetWidth(50)
	m.SetSnapshot(room.Snapshot{RoomID: "r1", IsHost: false})
	if m.Height() != 2 || strings.Contains(m.View(), "join") {
		t.Fatal("a follower sees the join line")
	}
	m.SetSnapshot(room.Snapshot{RoomID: "r1", IsHost: true})
	if m.Height() != 3 || !strings.Contains(ansi.Strip(m.View()), "friends join with: watchparty join r1") {
		t.Fatalf("host view:\n%s", m.View())
	}
}
