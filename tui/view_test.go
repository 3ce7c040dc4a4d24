package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/watchparty/watchparty/party"
	"github.com/watchparty/watchparty/room"
)

var sizes = []struct{ w, h int }{{80, 24}, {120, 35}}

// TestViewGolden renders the screens at fixed sizes, ANSI stripped, against golden files
// (refresh with go test ./tui -run TestViewGolden -update).
func TestViewGolden(t *testing.T) {
	scenarios := []struct {
		name string
		snap func() room.Snapshot
		opts Options
		prep func(t *testing.T, m Model) Model
	}{
		{name: "host", snap: hostSnapshot, opts: Options{JoinCommand: "watchparty join --server http://127.0.0.1:54321 abc123def4"}},
		{name: "follower", snap: followerSnapshot},
		{name: "long_names", snap: longNamesSnapshot},
		{name: "many_members", snap: manyMembersSnapshot},
		{name: "empty_room", snap: emptySnapshot, prep: func(t *testing.T, m Model) Model {
			return event(t, m, room.CommentsLoaded{})
		}},
		{name: "reconnecting", snap: reconnectingSnapshot},
		{name: "disconnected", snap: closedSnapshot},
		{name: "detached", snap: detachedSnapshot},
		{name: "help_follower", snap: followerSnapshot, prep: func(t *testing.T, m Model) Model {
			m, _ = press(t, m, "?")
			return m
		}},
		{name: "typing_with_toasts", snap: followerSnapshot, prep: func(t *testing.T, m Model) Model {
			m = event(t, m, room.Notice{Level: room.NoticeInfo, Text: "dave joined the room"})
			m, _ = press(t, m, "space") // host only: says so
			m, _ = press(t, m, "c")
			return typeText(t, m, "great scene")
		}},
	}
	for _, sc := range scenarios {
		for _, sz := range sizes {
			t.Run(fmt.Sprintf("%s_%dx%d", sc.name, sz.w, sz.h), func(t *testing.T) {
				f := newFake(sc.snap())
				m := newTestModel(t, f, sz.w, sz.h, sc.opts)
				if sc.name != "empty_room" {
					m = event(t, m, room.CommentsLoaded{Comments: sampleComments()})
				}
				if sc.prep != nil {
					m = sc.prep(t, m)
				}
				golden.RequireEqual(t, []byte(screen(t, m)))
			})
		}
	}
}

// TestViewResizes checks that every size from the smallest supported to very wide renders
// exactly the requested size, for both roles.
func TestViewResizes(t *testing.T) {
	for _, snap := range []func() room.Snapshot{hostSnapshot, followerSnapshot, manyMembersSnapshot, longNamesSnapshot} {
		f := newFake(snap())
		m := newTestModel(t, f, 80, 24, Options{JoinCommand: "watchparty join abc123def4"})
		m = event(t, m, room.CommentsLoaded{Comments: sampleComments()})
		m = event(t, m, room.Notice{Level: room.NoticeWarn, Text: "a warning"})
		for _, sz := range [][2]int{{60, 20}, {61, 20}, {69, 22}, {70, 20}, {100, 40}, {200, 50}, {300, 80}, {40, 10}, {1, 1}} {
			m = update(t, m, tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
			s := screen(t, m)
			if sz[0] >= MinWidth && sz[1] >= MinHeight {
				for _, want := range []string{"abc123def4", "Members (", "Comments"} {
					if !strings.Contains(s, want) {
						t.Errorf("%dx%d: screen lacks %q:\n%s", sz[0], sz[1], want, s)
					}
				}
			} else if sz[0] >= 40 && !strings.Contains(s, "60×20") {
				t.Errorf("%dx%d: no too-small message:\n%s", sz[0], sz[1], s)
			}
		}
	}
}

func longNamesSnapshot() room.Snapshot {
	s := followerSnapshot()
	s.MediaTitle = "An Extraordinarily Long Feature Film Title That Will Not Fit In Any Header — Director's Cut (2026 Remaster)"
	s.HostName = "Wolfeschlegelsteinhausenbergerdorff"
	s.Members[0].Name = "Wolfeschlegelsteinhausenbergerdorff"
	s.Members[1].Name = "ボブ・ザ・ビルダー👷‍♂️建設"
	s.SelfName = s.Members[1].Name
	s.Members[2].Name = "carol\x1b]0;owned\x07 the \u202egreat\u202c"
	return s
}

func manyMembersSnapshot() room.Snapshot {
	s := hostSnapshot()
	for i := range 27 {
		s.Members = append(s.Members, room.MemberView{
			UserID: fmt.Sprintf("u-%02d", i), Name: fmt.Sprintf("viewer%02d", i),
			Online: i%7 != 3, Stale: i%5 == 4, Playing: i%4 != 0,
			Position: 754 - float64(i)/3, DriftMS: int64(-i * 37), InSync: i%6 != 5,
		})
	}
	return s
}

func emptySnapshot() room.Snapshot {
	return room.Snapshot{
		RoomID: "zz9plural0", SelfID: "u-x", SelfName: "xena", HostID: "u-x", HostName: "xena", IsHost: true,
		Conn: room.Connection{State: room.ConnConnected}, Rate: 1,
		Sync: room.SyncView{Status: party.StatusUnknown, Mode: room.ModeHost},
	}
}

func reconnectingSnapshot() room.Snapshot {
	s := followerSnapshot()
	s.Conn = room.Connection{State: room.ConnReconnecting, RetryAt: t0.Add(4200 * time.Millisecond),
		Err: "dial: connection refused"}
	s.Sync.Status = party.StatusOutOfSync
	s.Sync.DriftMS = 2730
	for i := range s.Members {
		s.Members[i].Stale = true
	}
	return s
}

func closedSnapshot() room.Snapshot {
	s := followerSnapshot()
	s.Conn = room.Connection{State: room.ConnClosed, Err: "room closed"}
	s.Sync.Status = party.StatusUnknown
	return s
}

func detachedSnapshot() room.Snapshot {
	s := followerSnapshot()
	s.Playing = true
	s.Sync = room.SyncView{Status: party.StatusDetached, Mode: room.ModeDetached, Position: 120, Expected: 754.2, Speed: 1}
	return s
}

// TestViewGoldenNarrow shows the stacked layout (members above comments) at the smallest size.
func TestViewGoldenNarrow(t *testing.T) {
	for _, sc := range []struct {
		name string
		snap func() room.Snapshot
	}{{"host", hostSnapshot}, {"follower", followerSnapshot}, {"many_members", manyMembersSnapshot}} {
		t.Run(sc.name+"_60x20", func(t *testing.T) {
			m := newTestModel(t, newFake(sc.snap()), MinWidth, MinHeight, Options{JoinCommand: "watchparty join abc123def4"})
			m = event(t, m, room.CommentsLoaded{Comments: sampleComments()})
			golden.RequireEqual(t, []byte(screen(t, m)))
		})
	}
}
