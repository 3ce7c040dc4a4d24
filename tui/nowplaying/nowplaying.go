// Package nowplaying renders the playback part of the watch-party screen: play state, position
// and duration with a progress bar, the room's playback rate, and the sync indicator with the
// drift in milliseconds.
package nowplaying

import (
	"fmt"
	"strings"

	"charm.land/lipgloss/v2"

	"github.com/watchparty/watchparty/party"
	"github.com/watchparty/watchparty/room"
	"github.com/watchparty/watchparty/tui/internal/textfmt"
)

// Styles are the now-playing styles; the tui package builds them with the rest of the palette.
type Styles struct {
	Playing   lipgloss.Style
	Paused    lipgloss.Style
	Time      lipgloss.Style
	BarFull   lipgloss.Style
	BarEmpty  lipgloss.Style
	Rate      lipgloss.Style
	InSync    lipgloss.Style
	Syncing   lipgloss.Style
	OutOfSync lipgloss.Style
	Detached  lipgloss.Style
	Unknown   lipgloss.Style
	Hint      lipgloss.Style
}

// Height is the number of lines View returns.
const Height = 2

// Model is the now-playing panel. Build it with New; it is a plain value.
type Model struct {
	styles Styles
	width  int
	snap   room.Snapshot
}

// New returns a panel drawn with st.
func New(st Styles) Model { return Model{styles: st} }

// SetWidth sets the width in cells.
func (m *Model) SetWidth(w int) { m.width = w }

// SetSnapshot sets the room state to show.
func (m *Model) SetSnapshot(s room.Snapshot) { m.snap = s }

// View renders Height lines of exactly the set width.
func (m Model) View() string {
	return textfmt.Block([]string{m.playLine(), m.syncLine()}, m.width, Height)
}

func (m Model) playLine() string {
	st, s := m.styles, m.snap
	playing := s.Playing
	if s.Sync.Mode == room.ModeDetached {
		playing = !s.Sync.Paused // detached: what our own mpv does, not the room
	}
	state := st.Paused.Render("⏸ paused ")
	switch {
	case len(s.Waiting) > 0 && s.Sync.Mode != room.ModeDetached:
		state = st.Paused.Render("⧖ waiting")
	case playing:
		state = st.Playing.Render("▶ playing")
	}
	dur := "--:--"
	if s.Duration > 0 {
		dur = textfmt.Clock(s.Duration)
	}
	pos := st.Time.Render(textfmt.Clock(s.Sync.Position) + " / " + dur)
	rate := s.Rate
	if rate <= 0 {
		rate = 1
	}
	rateText := st.Rate.Render(fmt.Sprintf("%.2f×", rate))
	fixed := textfmt.Width(state) + 2 + textfmt.Width(pos) + 2 + 2 + textfmt.Width(rateText)
	barW := m.width - fixed
	if barW < 5 {
		return state + "  " + pos + "  " + rateText
	}
	return state + "  " + pos + "  " + m.bar(barW) + "  " + rateText
}

// bar is a w-cell progress bar; full and empty cells differ by glyph, so it reads without colour.
func (m Model) bar(w int) string {
	frac := 0.0
	if m.snap.Duration > 0 {
		frac = min(max(m.snap.Sync.Position/m.snap.Duration, 0), 1)
	}
	full := int(frac*float64(w) + 0.5)
	return m.styles.BarFull.Render(strings.Repeat("█", full)) +
		m.styles.BarEmpty.Render(strings.Repeat("░", w-full))
}

func (m Model) syncLine() string {
	st, sv := m.styles, m.snap.Sync
	drift := " " + textfmt.Drift(sv.DriftMS)
	var line string
	switch sv.Status {
	case party.StatusInSync:
		line = st.InSync.Render("● in sync" + drift)
	case party.StatusSyncing:
		line = st.Syncing.Render("◐ syncing" + drift)
	case party.StatusOutOfSync:
		line = st.OutOfSync.Render("✗ out of sync" + drift)
	case party.StatusDetached:
		line = st.Detached.Render("⏸ detached")
	default:
		line = st.Unknown.Render("… waiting for sync")
	}
	var hints []string
	if len(m.snap.Waiting) > 0 {
		wait := "waiting for " + strings.Join(m.snap.Waiting, ", ") + " (buffering)"
		if sv.Mode == room.ModeHost {
			wait += ", w: don't wait"
		}
		hints = append(hints, wait)
	}
	if m.snap.Buffering {
		hints = append(hints, "you are buffering")
	}
	switch sv.Mode {
	case room.ModeHost:
		hints = append(hints, "you lead the room")
	case room.ModeDetached:
		hints = append(hints, "press s to sync to live")
	}
	if rate := m.snap.Rate; sv.Speed > 0 && rate > 0 && fmt.Sprintf("%.2f", sv.Speed) != fmt.Sprintf("%.2f", rate) {
		hints = append(hints, fmt.Sprintf("speed %.2f×", sv.Speed))
	}
	if len(hints) > 0 {
		line += st.Hint.Render(" · " + strings.Join(hints, " · "))
	}
	return line
}
