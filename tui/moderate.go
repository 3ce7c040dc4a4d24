package tui

import (
	"context"
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/watchparty/watchparty/room"
)

// The host's moderation keys (docs/design.md §14): m, a member's number, then c (co-host on or
// off), k (remove) or b (ban); i shows the invite link.

// startModeration asks which member to moderate (m).
func (m Model) startModeration() (tea.Model, tea.Cmd) {
	if !m.snap.IsHost {
		m.toasts.Push(room.NoticeWarn, "moderation is for the host: "+room.ErrNotHost.Error(), m.clock())
		m.layout()
		return m, nil
	}
	others := m.heirs()
	if len(others) == 0 {
		m.toasts.Push(room.NoticeInfo, "nobody else is here", m.clock())
		m.layout()
		return m, nil
	}
	var b strings.Builder
	b.WriteString("moderate:")
	for i, o := range others {
		fmt.Fprintf(&b, "  %d %s", i+1, o.Name)
	}
	b.WriteString("  (any other key cancels)")
	m.moderating, m.showHelp = 1, false
	m.toasts.Push(room.NoticeInfo, b.String(), m.clock())
	m.layout()
	return m, nil
}

// pickModeration takes the keys after m: a member's number, then what to do.
func (m Model) pickModeration(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	step := m.moderating
	m.moderating = 0
	key := msg.String()
	if step == 1 {
		others := m.heirs()
		if len(key) == 1 && key[0] >= '1' && int(key[0]-'1') < len(others) {
			t := others[key[0]-'1']
			m.modTarget, m.moderating = t, 2
			co := "c make co-host"
			if t.IsCohost {
				co = "c take the co-host role back"
			}
			m.toasts.Push(room.NoticeInfo, t.Name+":  "+co+"  k remove from the room  b ban  (any other key cancels)", m.clock())
			m.layout()
			return m, nil
		}
	} else {
		t := m.modTarget
		var name string
		var action room.Moderation
		switch key {
		case "c":
			name, action = "make "+t.Name+" a co-host", room.ModCohost
			if t.IsCohost {
				name, action = "take "+t.Name+"'s co-host role", room.ModUncohost
			}
		case "k":
			name, action = "remove "+t.Name, room.ModKick
		case "b":
			name, action = "ban "+t.Name, room.ModBan
		}
		if action != 0 {
			return m, m.send(name, "", func(ctx context.Context) error { return m.ctrl.Moderate(ctx, t.UserID, action) })
		}
	}
	m.toasts.Push(room.NoticeInfo, "moderation cancelled", m.clock())
	m.layout()
	return m, nil
}

// showInvite shows the command friends join with (the host's invite link) in a toast (i).
func (m *Model) showInvite() {
	if m.opts.JoinCommand == "" {
		m.toasts.Push(room.NoticeInfo, "the host has the invite link (watchparty invite --room "+m.snap.RoomID+" on their machine)", m.clock())
	} else {
		m.toasts.Push(room.NoticeInfo, "friends join with: "+Sanitize(m.opts.JoinCommand), m.clock())
	}
	m.layout()
}
