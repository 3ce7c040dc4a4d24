// Package toast shows short-lived notices (joined, left, host changed, errors) above the help
// bar. Each notice lives for a few seconds, is drawn faint in its last moments, then goes away.
// Time is passed in by the caller, so the component stays a pure value that tests can drive.
package toast

import (
	"time"

	"charm.land/lipgloss/v2"

	"github.com/watchparty/watchparty/room"
	"github.com/watchparty/watchparty/tui/internal/textfmt"
)

// Styles are the toast styles; the tui package builds them with the rest of the palette.
type Styles struct {
	Info  lipgloss.Style
	Warn  lipgloss.Style
	Error lipgloss.Style
	Faded lipgloss.Style // a notice about to go away
}

// MaxShown is how many notices show at once; a new one pushes the oldest out.
const MaxShown = 3

// FadeFor is how long before it expires a notice is drawn faint.
const FadeFor = 1500 * time.Millisecond

// Lifetime is how long a notice of a level stays.
func Lifetime(l room.NoticeLevel) time.Duration {
	switch l {
	case room.NoticeError:
		return 8 * time.Second
	case room.NoticeWarn:
		return 6 * time.Second
	}
	return 4 * time.Second
}

type item struct {
	level   room.NoticeLevel
	text    string
	expires time.Time
}

// Model is the stack of notices. Build it with New; it is a plain value.
type Model struct {
	styles Styles
	width  int
	now    time.Time
	items  []item
}

// New returns an empty stack drawn with st.
func New(st Styles) Model { return Model{styles: st} }

// SetWidth sets the width in cells.
func (m *Model) SetWidth(w int) { m.width = w }

// Push adds a notice at time now; its text must already be sanitised. The same text as the
// newest notice only renews that one.
func (m *Model) Push(level room.NoticeLevel, text string, now time.Time) {
	m.now = now
	exp := now.Add(Lifetime(level))
	if n := len(m.items); n > 0 && m.items[n-1].text == text && m.items[n-1].level == level {
		m.items[n-1].expires = exp
		return
	}
	m.items = append(m.items, item{level: level, text: text, expires: exp})
	if len(m.items) > MaxShown {
		m.items = m.items[len(m.items)-MaxShown:]
	}
}

// Tick sets the time and drops the notices that expired by then.
func (m *Model) Tick(now time.Time) {
	m.now = now
	kept := m.items[:0]
	for _, it := range m.items {
		if now.Before(it.expires) {
			kept = append(kept, it)
		}
	}
	m.items = kept
}

// Len is the number of notices shown, which is also View's height.
func (m Model) Len() int { return len(m.items) }

// Texts returns the texts shown, oldest first.
func (m Model) Texts() []string {
	out := make([]string, len(m.items))
	for i, it := range m.items {
		out[i] = it.text
	}
	return out
}

// View renders one line per notice, oldest first, each exactly the set width.
func (m Model) View() string {
	lines := make([]string, len(m.items))
	for i, it := range m.items {
		st, icon := m.styles.Info, "• "
		switch it.level {
		case room.NoticeWarn:
			st, icon = m.styles.Warn, "! "
		case room.NoticeError:
			st, icon = m.styles.Error, "✗ "
		}
		if it.expires.Sub(m.now) <= FadeFor {
			st = m.styles.Faded
		}
		lines[i] = st.Render(textfmt.Truncate(icon+it.text, m.width))
	}
	return textfmt.Block(lines, m.width, len(lines))
}
