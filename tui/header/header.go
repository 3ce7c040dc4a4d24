// Package header renders the top of the watch-party screen: the room, the media title, who
// hosts, the connection state with its reconnect countdown, and the user's own role. For a host
// it also shows the command friends use to join.
package header

import (
	"fmt"
	"math"
	"strings"
	"time"

	"charm.land/lipgloss/v2"

	"github.com/watchparty/watchparty/room"
	"github.com/watchparty/watchparty/tui/internal/textfmt"
)

// Styles are the header's styles; the tui package builds them with the rest of the palette.
type Styles struct {
	App       lipgloss.Style // the program name
	Room      lipgloss.Style // the room id
	Title     lipgloss.Style // the media title
	Label     lipgloss.Style // "host", "you", "friends join with"
	Value     lipgloss.Style // names
	Role      lipgloss.Style // "(host)" / "(follower)"
	Connected lipgloss.Style
	Waiting   lipgloss.Style // connecting / reconnecting
	Closed    lipgloss.Style
	Join      lipgloss.Style // the join command
}

// Model is the header. Build it with New; it holds no goroutines and is a plain value.
type Model struct {
	styles  Styles
	width   int
	snap    room.Snapshot
	joinCmd string
	leaving bool
	now     time.Time
}

// New returns a header drawn with st. joinCmd, when not empty, is shown to a host.
func New(st Styles, joinCmd string) Model {
	return Model{styles: st, joinCmd: joinCmd}
}

// SetWidth sets the width in cells.
func (m *Model) SetWidth(w int) { m.width = w }

// SetSnapshot sets the room state to show; its text must already be sanitised.
func (m *Model) SetSnapshot(s room.Snapshot) { m.snap = s }

// SetNow sets the clock reading used for the reconnect countdown.
func (m *Model) SetNow(t time.Time) { m.now = t }

// SetLeaving marks that the user is leaving the room.
func (m *Model) SetLeaving(v bool) { m.leaving = v }

// Height is how many lines View returns.
func (m Model) Height() int {
	if m.showJoin() {
		return 3
	}
	return 2
}

func (m Model) showJoin() bool { return m.snap.IsHost && m.joinCmd != "" }

// View renders the header: Height() lines of exactly the set width.
func (m Model) View() string {
	st, s := m.styles, m.snap
	roomID := s.RoomID
	if roomID == "" {
		roomID = "…"
	}
	left := st.App.Render("watchparty") + " · " + st.Room.Render("room "+roomID)
	if s.MediaTitle != "" {
		left += " · " + st.Title.Render(s.MediaTitle)
	}
	lines := []string{textfmt.Spread(left, " "+m.connView(), m.width)}

	host := s.HostName
	if host == "" {
		host = "?"
	}
	role := "follower"
	if s.IsHost {
		role = "host"
	}
	self := s.SelfName
	if self == "" {
		self = "?"
	}
	second := st.Label.Render("host ") + st.Value.Render(host) + "   " +
		st.Label.Render("you ") + st.Value.Render(self) + " " + st.Role.Render("("+role+")")
	if s.ReadyMode {
		ready, total, _ := s.ReadyCounts()
		second += "   " + st.Label.Render("ready ") + st.Value.Render(fmt.Sprintf("%d/%d", ready, total))
		if s.StartPending {
			second += " " + st.Waiting.Render("(starting when everyone is ready)")
		}
	}
	if s.Conn.Err != "" && s.Conn.State != room.ConnConnected {
		second += "   " + st.Closed.Render(s.Conn.Err)
	}
	lines = append(lines, second)
	if m.showJoin() {
		lines = append(lines, st.Label.Render("friends join with: ")+st.Join.Render(m.joinCmd))
	}
	return textfmt.Block(lines, m.width, m.Height())
}

// connView is the connection state: "● connected", "↻ reconnecting in 3 s", ….
func (m Model) connView() string {
	st, c := m.styles, m.snap.Conn
	if m.leaving {
		return st.Waiting.Render("… leaving")
	}
	switch c.State {
	case room.ConnConnected:
		return st.Connected.Render("● connected")
	case room.ConnReconnecting:
		if c.RetryAt.IsZero() || !c.RetryAt.After(m.now) {
			return st.Waiting.Render("↻ reconnecting…")
		}
		n := int(math.Ceil(c.RetryAt.Sub(m.now).Seconds()))
		return st.Waiting.Render(fmt.Sprintf("↻ reconnecting in %d s", n))
	case room.ConnClosed:
		return st.Closed.Render("✗ disconnected")
	case room.ConnConnecting, "":
		return st.Waiting.Render("… connecting")
	}
	return st.Waiting.Render(strings.ToLower(string(c.State)))
}
