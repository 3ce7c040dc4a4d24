// Package members renders the member list of the watch-party screen: for each member a host
// mark, presence, play state, position, drift against the room and an in-sync mark.
package members

import (
	"fmt"

	"charm.land/lipgloss/v2"

	"github.com/watchparty/watchparty/room"
	"github.com/watchparty/watchparty/tui/internal/textfmt"
)

// Styles are the member-list styles; the tui package builds them with the rest of the palette.
type Styles struct {
	Title     lipgloss.Style
	Host      lipgloss.Style // the host mark
	Self      lipgloss.Style // our own name
	Name      lipgloss.Style
	Online    lipgloss.Style
	Stale     lipgloss.Style
	Offline   lipgloss.Style
	Info      lipgloss.Style // play state, position, drift
	InSync    lipgloss.Style
	OutOfSync lipgloss.Style
	Empty     lipgloss.Style
}

// Column widths of a member row besides the name.
const (
	marksW = 3 // host mark, presence, space
	playW  = 2 // " ▶"
	posW   = 8 // " 1:23:45"
	driftW = 8 // " +1200ms"
	syncW  = 2 // " ✓"
	readyW = 2 // "✔ " in ready mode
	// minNameW is the narrowest name column; below it the drift column is dropped.
	minNameW = 6
)

// Model is the member list. Build it with New; it is a plain value.
type Model struct {
	styles  Styles
	width   int
	height  int
	members []room.MemberView
	// readyMode: the room's ready check is on; each row shows the member's answer.
	readyMode bool
}

// New returns a member list drawn with st.
func New(st Styles) Model { return Model{styles: st} }

// SetSize sets the size in cells, the title line included.
func (m *Model) SetSize(w, h int) { m.width, m.height = w, h }

// SetMembers sets the members to show, host first; their names must already be sanitised.
func (m *Model) SetMembers(ms []room.MemberView) { m.members = ms }

// SetReadyMode shows (on) or hides each member's answer to the ready check: ✔ ready, · not
// ready yet; the host, who is not asked, has none.
func (m *Model) SetReadyMode(on bool) { m.readyMode = on }

// View renders the list: exactly the set size. Members that do not fit are summed up in a last
// "+N more" line.
func (m Model) View() string {
	st := m.styles
	title := st.Title.Render(fmt.Sprintf("Members (%d)", len(m.members)))
	lines := []string{title}
	rows := m.height - 1
	switch {
	case len(m.members) == 0:
		lines = append(lines, st.Empty.Render("nobody here yet"))
	case len(m.members) <= rows:
		for _, mv := range m.members {
			lines = append(lines, m.row(mv))
		}
	case rows > 0:
		for _, mv := range m.members[:rows-1] {
			lines = append(lines, m.row(mv))
		}
		lines = append(lines, st.Empty.Render(fmt.Sprintf("+%d more", len(m.members)-(rows-1))))
	}
	return textfmt.Block(lines, m.width, m.height)
}

// row renders one member: "★● alice        ▶   12:34   +40ms ✓".
func (m Model) row(mv room.MemberView) string {
	st := m.styles
	host := " "
	switch {
	case mv.IsHost:
		host = st.Host.Render("★")
	case mv.IsCohost:
		host = st.Host.Render("☆") // a co-host: controls playback too
	}
	var presence string
	switch {
	case !mv.Online:
		presence = st.Offline.Render("○")
	case mv.Stale:
		presence = st.Stale.Render("◌")
	default:
		presence = st.Online.Render("●")
	}
	name := mv.Name
	if mv.IsSelf {
		name += " (you)"
	}
	if mv.MediaDiffers {
		name = "≠ " + name // a different file than the host's ("Same file?", docs/design.md §7.10)
	}
	nameStyle := st.Name
	if mv.IsSelf {
		nameStyle = st.Self
	}
	showDrift := m.width-marksW-playW-posW-driftW-syncW >= minNameW
	nameW := m.width - marksW - playW - posW - syncW
	if showDrift {
		nameW -= driftW
	}
	play := "⏸"
	switch {
	case mv.Buffering:
		play = "⧖"
	case mv.Playing:
		play = "▶"
	}
	info := " " + play + textfmt.FitRight(textfmt.Clock(mv.Position), posW)
	if showDrift {
		info += textfmt.FitRight(textfmt.Drift(mv.DriftMS), driftW)
	}
	mark := st.OutOfSync.Render(" ✗")
	if mv.InSync {
		mark = st.InSync.Render(" ✓")
	}
	ready := ""
	if m.readyMode {
		switch {
		case mv.IsHost:
			ready = "  "
		case mv.Ready:
			ready = st.InSync.Render("✔") + " "
		default:
			ready = st.Offline.Render("·") + " "
		}
		nameW -= readyW
	}
	return host + presence + " " + ready + nameStyle.Render(textfmt.Fit(name, max(nameW, 1))) + st.Info.Render(info) + mark
}
