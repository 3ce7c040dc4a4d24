package tui

import (
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/watchparty/watchparty/tui/internal/textfmt"
	"github.com/watchparty/watchparty/tui/nowplaying"
)

// Layout limits, in cells.
const (
	// MinWidth and MinHeight are the smallest screen the layout is made for; below it the
	// screen says it is too small, and only q and ctrl+c act.
	MinWidth  = 60
	MinHeight = 20
	// sideBySide is the width from which members and comments sit side by side.
	sideBySide = 70
	// minBody is the fewest body lines kept when toasts compete for space.
	minBody = 6
	// gutter separates the members and comments columns.
	gutter = " │ "
)

// layoutPlan is where each part goes for the current size.
type layoutPlan struct {
	bodyH    int
	toasts   int // toast lines shown
	wide     bool
	membersW int // wide: the members column; narrow: the full width
	membersH int // narrow: the members block's height
	commentW int
	commentH int
}

func (m Model) plan() layoutPlan {
	w, h := m.width, m.height
	fixed := m.header.Height() + nowplaying.Height + 1 + 1 // + rule + help bar
	p := layoutPlan{toasts: m.toasts.Len()}
	p.bodyH = h - fixed - p.toasts
	if p.bodyH < minBody {
		p.toasts = max(p.toasts-(minBody-p.bodyH), 0)
		p.bodyH = h - fixed - p.toasts
	}
	p.bodyH = max(p.bodyH, 0)
	if w >= sideBySide {
		p.wide = true
		p.membersW = min(max(w*9/20, 30), 48)
		p.commentW = w - p.membersW - textfmt.Width(gutter)
		p.membersH, p.commentH = p.bodyH, p.bodyH
		return p
	}
	p.membersW, p.commentW = w, w
	p.membersH = min(len(m.snap.Members)+1, max(p.bodyH/3, 2))
	p.commentH = max(p.bodyH-p.membersH-1, 0)
	return p
}

// layout hands each component its size for the current screen.
func (m *Model) layout() {
	p := m.plan()
	m.header.SetWidth(m.width)
	m.nowPlaying.SetWidth(m.width)
	m.members.SetSize(p.membersW, p.membersH)
	m.comments.SetSize(p.commentW, p.commentH)
	m.toasts.SetWidth(m.width)
	m.help.SetWidth(m.width)
}

// View renders the screen in the alternate screen buffer.
func (m Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	title := "watchparty"
	if m.snap.RoomID != "" {
		title += " · " + m.snap.RoomID
	}
	v.WindowTitle = title
	return v
}

// render is the screen's text: exactly height lines of exactly width cells.
func (m Model) render() string {
	w, h := m.width, m.height
	if w <= 0 || h <= 0 {
		return ""
	}
	if w < MinWidth || h < MinHeight {
		msg := fmt.Sprintf("watchparty: the terminal is %d×%d; make it at least %d×%d (q quits)",
			w, h, MinWidth, MinHeight)
		return textfmt.Block(textfmt.Wrap(msg, w, ""), w, h)
	}
	if m.removed != "" {
		lines := append(textfmt.Wrap("watchparty: "+m.removed+".", w, ""), "")
		lines = append(lines, textfmt.Wrap("Your mpv no longer follows the room. Press q to quit.", w, "")...)
		return textfmt.Block(lines, w, h)
	}
	p := m.plan()
	parts := []string{
		m.header.View(),
		m.nowPlaying.View(),
		m.styles.Rule.Render(strings.Repeat("─", w)),
		m.body(p),
	}
	if p.toasts > 0 {
		t := strings.Split(m.toasts.View(), "\n")
		parts = append(parts, strings.Join(t[len(t)-p.toasts:], "\n"))
	}
	parts = append(parts, textfmt.Fit(m.shortHelp(w), w))
	return strings.Join(parts, "\n")
}

// shortHelp is the one-line help bar. When it does not fit in w cells, items are dropped from
// the middle (the last two, help and quit, always stay), so "? help" is always there to show
// the rest. (bubbles' help.ShortHelpView can also overflow its width, which this avoids.)
func (m Model) shortHelp(w int) string {
	st := m.help.Styles
	sep := st.ShortSeparator.Render(m.help.ShortSeparator)
	var items []string
	for _, kb := range m.helpKeys().ShortHelp() {
		items = append(items, st.ShortKey.Render(kb.Help().Key)+" "+st.ShortDesc.Render(kb.Help().Desc))
	}
	line := strings.Join(items, sep)
	for textfmt.Width(line) > w && len(items) > 2 {
		items = append(items[:len(items)-3], items[len(items)-2:]...)
		line = strings.Join(items, sep)
	}
	return line
}

func (m Model) helpKeys() roleHelp {
	return roleHelp{k: m.keys, host: m.snap.IsHost, typing: m.comments.Focused()}
}

// body is the members and comments, or the help overlay.
func (m Model) body(p layoutPlan) string {
	if p.bodyH == 0 {
		return ""
	}
	if m.showHelp {
		return m.helpOverlay(p.bodyH)
	}
	if p.wide {
		left := strings.Split(m.members.View(), "\n")
		right := strings.Split(m.comments.View(), "\n")
		sep := m.styles.Rule.Render(gutter)
		lines := make([]string, p.bodyH)
		for i := range lines {
			lines[i] = left[i] + sep + right[i]
		}
		return strings.Join(lines, "\n")
	}
	parts := []string{}
	if p.membersH > 0 {
		parts = append(parts, m.members.View())
	}
	parts = append(parts, m.styles.Rule.Render(strings.Repeat("─", m.width)))
	if p.commentH > 0 {
		parts = append(parts, m.comments.View())
	}
	return textfmt.Block(strings.Split(strings.Join(parts, "\n"), "\n"), m.width, p.bodyH)
}

// helpOverlay is the full help with the legend of the screen's marks.
func (m Model) helpOverlay(h int) string {
	role := "follower"
	if m.snap.IsHost {
		role = "host"
	}
	lines := []string{m.styles.Overlay.Render("Keys (" + role + ") — ? or esc closes"), ""}
	lines = append(lines, strings.Split(m.help.FullHelpView(m.helpKeys().FullHelp()), "\n")...)
	lines = append(lines, "",
		"★ host   ● online   ◌ stale (silent 15 s)   ○ gone   ▶ playing   ⏸ paused",
		"✓ in sync (drift ≤ 2 s)   ✗ out of sync   drift: + ahead of the room, − behind",
		"≠ a different file than the host's (a warning: the notice says what differs)",
		"ready check (R): ✔ ready  · not yet; the host's play waits for everyone",
		"mpv's own keys still work in its window; a follower who pauses or seeks there is",
		"detached until s (sync to live) or the host's next action.")
	if !m.snap.IsHost {
		lines = append(lines, "Host-only keys (space, arrows, 0–9) say so when pressed.")
	}
	return textfmt.Block(lines, m.width, h)
}
