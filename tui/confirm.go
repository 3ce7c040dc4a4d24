package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"

	"github.com/watchparty/watchparty/party"
)

// ConfirmMedia asks on the terminal whether to open the room's media URL in mpv, before
// anything is loaded: the URL was chosen by the room's host and sent by the server, so the
// user sees it whole and decides. It returns true only for an explicit "y"; "n", Esc, Enter,
// q and Ctrl-C all say no. The prompt is drawn inline (not on the alternate screen) and stays
// visible afterwards with the answer. progOpts are passed to tea.NewProgram (tests use them
// for input and output).
//
// The URL is sanitised before it is shown; a URL that does not pass party.CheckMediaURL is
// never offered (the room layer refuses it before asking).
func ConfirmMedia(ctx context.Context, url string, noColor bool, progOpts ...tea.ProgramOption) (bool, error) {
	po := []tea.ProgramOption{tea.WithContext(ctx)}
	if noColor {
		po = append(po, tea.WithColorProfile(colorprofile.Ascii))
	}
	final, err := tea.NewProgram(newConfirmModel(url), append(po, progOpts...)...).Run()
	switch {
	case ctx.Err() != nil:
		return false, ctx.Err()
	case errors.Is(err, tea.ErrInterrupted):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("ask about the room's media: %w", err)
	}
	m, _ := final.(confirmModel)
	return m.answer == answerYes, nil
}

type answer int

const (
	answerNone answer = iota
	answerYes
	answerNo
)

// confirmModel is the media prompt.
type confirmModel struct {
	url    string // sanitised
	host   string // sanitised
	local  bool   // the host is this machine or a private network
	width  int
	answer answer
}

func newConfirmModel(url string) confirmModel {
	url = Sanitize(url)
	host, local := party.MediaURLHost(url)
	return confirmModel{url: url, host: Sanitize(host), local: local, width: 80}
}

func (m confirmModel) Init() tea.Cmd { return nil }

func (m confirmModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		if msg.Width > 0 {
			m.width = msg.Width
		}
	case tea.KeyPressMsg:
		switch msg.String() {
		case "y", "Y":
			m.answer = answerYes
			return m, tea.Quit
		case "n", "N", "esc", "enter", "q", "ctrl+c":
			m.answer = answerNo
			return m, tea.Quit
		}
	}
	return m, nil
}

func (m confirmModel) View() tea.View {
	w := max(m.width, 20)
	bold := lipgloss.NewStyle().Bold(true)
	faint := lipgloss.NewStyle().Faint(true)
	wrap := func(s string, indent int) string {
		lines := strings.Split(ansi.Hardwrap(s, max(w-indent, 10), false), "\n")
		pad := strings.Repeat(" ", indent)
		for i := range lines {
			lines[i] = pad + lines[i]
		}
		return strings.Join(lines, "\n")
	}
	var b strings.Builder
	b.WriteString(bold.Render("The room asks your mpv to open this address:") + "\n\n")
	b.WriteString(bold.Render(wrap(m.url, 2)) + "\n\n")
	b.WriteString(wrap("on "+m.host+". The room's host chose it and the server sent it; mpv will download it from there.", 0) + "\n")
	if m.local {
		b.WriteString(bold.Render(wrap("Warning: this address is on your own machine or local network.", 0)) + "\n")
	}
	b.WriteString("\n")
	switch m.answer {
	case answerYes:
		b.WriteString("Opening it.\n")
	case answerNo:
		b.WriteString("Not opened. To watch, join again with --media and your own copy of the video.\n")
	default:
		b.WriteString("Open it? " + bold.Render("y") + " yes   " + bold.Render("n") + " no " +
			faint.Render("(then join with --media and your own copy)") + "\n")
	}
	return tea.NewView(b.String())
}
