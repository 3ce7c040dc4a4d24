// Package comments is the comment pane of the watch-party screen: a scrollable history of
// comments and system messages with sender, wall time and video time, and the input line.
//
// The history is anchored at the bottom. While the user has scrolled up, new comments do not move
// the view; a marker counts them instead until the user returns to the latest line.
package comments

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/watchparty/watchparty/room"
	"github.com/watchparty/watchparty/tui/internal/textfmt"
)

// MaxHistory is how many comments the pane keeps; older ones are dropped.
const MaxHistory = 1000

// MaxLength is the longest comment the input accepts, in characters (the server's limit).
const MaxLength = 2000

// Styles are the comment-pane styles; the tui package builds them with the rest of the palette.
type Styles struct {
	Title     lipgloss.Style
	Time      lipgloss.Style // wall time
	VideoTime lipgloss.Style // [m:ss]
	Name      lipgloss.Style
	Self      lipgloss.Style // our own name
	Message   lipgloss.Style
	System    lipgloss.Style
	Marker    lipgloss.Style // "↓ 3 new"
	Empty     lipgloss.Style
	Hint      lipgloss.Style // the input line when not focused
	Input     textinput.Styles
}

// indent starts the continuation lines of a wrapped comment, under the text after the time.
const indent = "      "

// Model is the comment pane. Build it with New. It is a plain value; Update returns the new one.
type Model struct {
	styles   Styles
	loc      *time.Location
	width    int
	height   int
	selfID   string
	comments []room.Comment
	offset   int // lines scrolled up from the bottom
	unread   int // comments that arrived while scrolled up
	input    textinput.Model
}

// New returns an empty pane drawn with st, showing wall times in loc (nil: local time).
func New(st Styles, loc *time.Location) Model {
	if loc == nil {
		loc = time.Local
	}
	in := textinput.New()
	in.Prompt = "› "
	in.Placeholder = "say something (enter sends, esc goes back to the keys)"
	in.CharLimit = MaxLength
	in.SetStyles(st.Input)
	return Model{styles: st, loc: loc, input: in}
}

// SetSize sets the pane's size in cells: a title line, the history, and the input line.
func (m *Model) SetSize(w, h int) {
	m.width, m.height = w, h
	m.input.SetWidth(max(w-textfmt.Width(m.input.Prompt)-1, 1))
	m.clampOffset()
}

// SetSelf sets our user id, so that our own comments are styled apart.
func (m *Model) SetSelf(id string) { m.selfID = id }

// SetComments replaces the history (oldest first) and shows its end.
func (m *Model) SetComments(cs []room.Comment) {
	if len(cs) > MaxHistory {
		cs = cs[len(cs)-MaxHistory:]
	}
	m.comments = append([]room.Comment(nil), cs...)
	m.offset, m.unread = 0, 0
}

// Add appends a comment. While scrolled up, the view stays where it is and the comment counts as
// unread.
func (m *Model) Add(c room.Comment) {
	m.comments = append(m.comments, c)
	if len(m.comments) > MaxHistory {
		m.comments = m.comments[len(m.comments)-MaxHistory:]
	}
	if m.offset > 0 {
		m.offset += len(m.render(c))
		m.unread++
		m.clampOffset()
	}
}

// Comments returns the history, oldest first.
func (m Model) Comments() []room.Comment { return m.comments }

// Offset is how many lines the view is scrolled up from the latest line.
func (m Model) Offset() int { return m.offset }

// Unread is how many comments arrived while scrolled up.
func (m Model) Unread() int { return m.unread }

// PageUp scrolls one page towards older comments.
func (m *Model) PageUp() {
	m.offset += max(m.historyHeight()-1, 1)
	m.clampOffset()
}

// PageDown scrolls one page towards newer comments.
func (m *Model) PageDown() {
	m.offset -= max(m.historyHeight()-1, 1)
	m.clampOffset()
}

// ToLatest shows the latest comments.
func (m *Model) ToLatest() { m.offset, m.unread = 0, 0 }

// Focus moves the keyboard focus to the input line.
func (m *Model) Focus() tea.Cmd { return m.input.Focus() }

// Blur takes the focus away from the input line; what was typed stays.
func (m *Model) Blur() { m.input.Blur() }

// Focused reports whether the input line has the focus.
func (m Model) Focused() bool { return m.input.Focused() }

// Value is the text typed so far.
func (m Model) Value() string { return m.input.Value() }

// SetValue replaces the text typed so far (used to give back a comment that failed to send).
func (m *Model) SetValue(s string) {
	m.input.SetValue(s)
	m.input.CursorEnd()
}

// Update passes messages to the input line while it has the focus.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(msg)
	return m, cmd
}

func (m Model) historyHeight() int { return max(m.height-2, 0) }

func (m *Model) clampOffset() {
	limit := max(m.totalLines()-m.historyHeight(), 0)
	m.offset = min(max(m.offset, 0), limit)
	if m.offset == 0 {
		m.unread = 0
	}
}

func (m Model) totalLines() int {
	n := 0
	for _, c := range m.comments {
		n += len(m.render(c))
	}
	return n
}

// render lays one comment out in lines of at most the pane width.
func (m Model) render(c room.Comment) []string {
	st := m.styles
	wall := "--:--"
	if !c.At.IsZero() {
		wall = c.At.In(m.loc).Format("15:04")
	}
	head := st.Time.Render(wall) + " "
	var text string
	if c.System {
		text = head + st.System.Render("· "+c.Message)
	} else {
		if c.VideoTime != nil {
			head += st.VideoTime.Render("["+textfmt.Clock(*c.VideoTime)+"]") + " "
		}
		name := st.Name
		if c.UserID != "" && c.UserID == m.selfID {
			name = st.Self
		}
		user := c.Username
		if user == "" {
			user = "?"
		}
		text = head + name.Render(user+":") + " " + st.Message.Render(c.Message)
	}
	return textfmt.Wrap(text, max(m.width, 1), indent)
}

// View renders the pane: exactly the set size.
func (m Model) View() string {
	st := m.styles
	hh := m.historyHeight()
	var lines []string
	for _, c := range m.comments {
		lines = append(lines, m.render(c)...)
	}
	marker := ""
	switch {
	case m.unread > 0:
		marker = st.Marker.Render(fmt.Sprintf("↓ %d new (end)", m.unread))
	case m.offset > 0:
		marker = st.Marker.Render("↑ scrolled (end: latest)")
	}
	out := []string{textfmt.Spread(st.Title.Render("Comments"), marker, m.width)}
	if len(m.comments) == 0 && hh > 0 {
		out = append(out, st.Empty.Render("no comments yet"))
		hh--
	}
	end := len(lines) - m.offset
	start := max(end-hh, 0)
	// Anchor the history at the bottom, next to the input line, like a chat.
	for range hh - (end - start) {
		out = append(out, "")
	}
	if end > start {
		out = append(out, lines[start:end]...)
	}
	if m.height >= 2 {
		out = append(out[:m.height-1], m.inputLine())
	}
	return textfmt.Block(out, m.width, m.height)
}

func (m Model) inputLine() string {
	if m.input.Focused() {
		return m.input.View()
	}
	if v := m.input.Value(); v != "" {
		return m.styles.Hint.Render(m.input.Prompt + v)
	}
	return m.styles.Hint.Render(strings.TrimSpace(m.input.Prompt) + " press c to comment")
}
