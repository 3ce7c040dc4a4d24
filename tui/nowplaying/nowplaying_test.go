package nowplaying

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/watchparty/watchparty/party"
	"github.com/watchparty/watchparty/room"
)

func lines(w int, s room.Snapshot) []string {
	m := New(Styles{})
	m.SetWidth(w)
	m.SetSnapshot(s)
	return strings.Split(ansi.Strip(m.View()), "\n")
}

func TestPlayLineAndBar(t *testing.T) {
	s := room.Snapshot{Playing: true, Duration: 100, Rate: 1.5, Sync: room.SyncView{Position: 50}}
	ls := lines(50, s)
	if !strings.HasPrefix(ls[0], "▶ playing  0:50 / 1:40  ") || !strings.HasSuffix(ls[0], "  1.50×") {
		t.Fatalf("play line %q", ls[0])
	}
	bar := strings.Count(ls[0], "█")
	if empty := strings.Count(ls[0], "░"); bar == 0 || bar-empty < 0 || bar-empty > 1 {
		t.Fatalf("half-way bar: %d full, %d empty", bar, empty)
	}
	// Too narrow for a bar: none, and nothing wraps.
	if ls := lines(30, s); strings.Contains(ls[0], "█") || ansi.StringWidth(ls[0]) != 30 {
		t.Fatalf("narrow: %q", ls[0])
	}
	// Unknown duration, paused.
	if ls := lines(50, room.Snapshot{}); !strings.HasPrefix(ls[0], "⏸ paused   0:00 / --:--") || !strings.HasSuffix(ls[0], "1.00×") {
		t.Fatalf("unknown: %q", ls[0])
	}
}

func TestSyncLine(t *testing.T) {
	cases := []struct {
		sv   room.SyncView
		want string
	}{
		{room.SyncView{Status: party.StatusInSync, DriftMS: 40, Mode: room.ModeFollowing, Speed: 1}, "● in sync +40ms"},
		{room.SyncView{Status: party.StatusSyncing, DriftMS: -600, Mode: room.ModeFollowing, Speed: 1.05}, "◐ syncing -600ms · speed 1.05×"},
		{room.SyncView{Status: party.StatusOutOfSync, DriftMS: 3000, Mode: room.ModeFollowing}, "✗ out of sync +3000ms"},
		{room.SyncView{Status: party.StatusDetached, Mode: room.ModeDetached}, "⏸ detached · press s to sync to live"},
		{room.SyncView{Status: party.StatusInSync, Mode: room.ModeHost, Speed: 1}, "● in sync +0ms · you lead the room"},
		{room.SyncView{}, "… waiting for sync"},
	}
	for _, c := range cases {
		ls := lines(60, room.Snapshot{Rate: 1, Sync: c.sv})
		if got := strings.TrimRight(ls[1], " "); got != c.want {
			t.Errorf("%+v: %q, want %q", c.sv, got, c.want)
		}
	}
}

// A detached follower's play line shows what their own mpv does, not the room.
func TestDetachedPlayLine(t *testing.T) {
	paused := room.Snapshot{Playing: true, Rate: 1, Sync: room.SyncView{Status: party.StatusDetached, Mode: room.ModeDetached, Paused: true}}
	if ls := lines(60, paused); !strings.HasPrefix(ls[0], "⏸ paused") {
		t.Fatalf("detached and paused in a playing room: %q", ls[0])
	}
	playing := room.Snapshot{Playing: false, Rate: 1, Sync: room.SyncView{Status: party.StatusDetached, Mode: room.ModeDetached}}
	if ls := lines(60, playing); !strings.HasPrefix(ls[0], "▶ playing") {
		t.Fatalf("detached and playing in a paused room: %q", ls[0])
	}
	following := room.Snapshot{Playing: true, Rate: 1, Sync: room.SyncView{Status: party.StatusInSync, Mode: room.ModeFollowing, Paused: true}}
	if ls := lines(60, following); !strings.HasPrefix(ls[0], "▶ playing") {
		t.Fatalf("following: the room's state, %q", ls[0])
	}
}

// A waiting room says so, whom it waits for, and (to the host) how not to wait; our own
// buffering is shown too.
func TestWaitingLines(t *testing.T) {
	host := room.Snapshot{Rate: 1, Waiting: []string{"bob", "carol"}, Duration: 100,
		Sync: room.SyncView{Status: party.StatusInSync, Mode: room.ModeHost, Speed: 1}}
	ls := lines(120, host)
	if !strings.HasPrefix(ls[0], "⧖ waiting") {
		t.Errorf("play line %q, want ⧖ waiting", ls[0])
	}
	if want := "waiting for bob, carol (buffering), w: don't wait"; !strings.Contains(ls[1], want) {
		t.Errorf("host's sync line %q, want %q", ls[1], want)
	}
	bob := room.Snapshot{Rate: 1, Waiting: []string{"you"}, Buffering: true,
		Sync: room.SyncView{Status: party.StatusInSync, Mode: room.ModeFollowing, Speed: 1}}
	ls = lines(120, bob)
	if strings.Contains(ls[1], "w: don't wait") || !strings.Contains(ls[1], "waiting for you (buffering) · you are buffering") {
		t.Errorf("a follower's sync line %q", ls[1])
	}
}
