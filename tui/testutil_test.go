package tui

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/watchparty/watchparty/room"
)

// newTestModel builds a model on a fake session with a fixed clock and UTC wall times, sized
// w×h. Options beyond those can be set in opts.
func newTestModel(t *testing.T, f *fakeControls, w, h int, opts Options) Model {
	t.Helper()
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	m := newModel(context.Background(), f, opts)
	m.clock = func() time.Time { return t0 }
	m.setNow(t0)
	return update(t, m, tea.WindowSizeMsg{Width: w, Height: h})
}

// update feeds one message and returns the new root model.
func update(t *testing.T, m Model, msg tea.Msg) Model {
	t.Helper()
	nm, _ := m.Update(msg)
	return nm.(Model)
}

// updateCmd feeds one message and returns the new model and the command it asked for.
func updateCmd(t *testing.T, m Model, msg tea.Msg) (Model, tea.Cmd) {
	t.Helper()
	nm, cmd := m.Update(msg)
	return nm.(Model), cmd
}

// event feeds one room event.
func event(t *testing.T, m Model, ev room.Event) Model {
	t.Helper()
	return update(t, m, eventMsg{ev: ev})
}

// press feeds one key press, given as Bubble Tea names it ("space", "shift+left", "q", "5").
func press(t *testing.T, m Model, k string) (Model, tea.Cmd) {
	t.Helper()
	return updateCmd(t, m, keyPress(k))
}

// namedKeys are the special keys the tests press, as Bubble Tea names them.
var namedKeys = map[string]tea.KeyPressMsg{
	"space":       {Code: tea.KeySpace, Text: " "},
	"enter":       {Code: tea.KeyEnter},
	"esc":         {Code: tea.KeyEscape},
	"tab":         {Code: tea.KeyTab},
	"left":        {Code: tea.KeyLeft},
	"right":       {Code: tea.KeyRight},
	"up":          {Code: tea.KeyUp},
	"down":        {Code: tea.KeyDown},
	"shift+left":  {Code: tea.KeyLeft, Mod: tea.ModShift},
	"shift+right": {Code: tea.KeyRight, Mod: tea.ModShift},
	"pgup":        {Code: tea.KeyPgUp},
	"pgdown":      {Code: tea.KeyPgDown},
	"end":         {Code: tea.KeyEnd},
	"ctrl+c":      {Code: 'c', Mod: tea.ModCtrl},
}

// keyPress is the message for a named key or a printable one.
func keyPress(k string) tea.KeyPressMsg {
	if msg, ok := namedKeys[k]; ok {
		if msg.String() != k {
			panic("namedKeys: " + k + " reads as " + msg.String())
		}
		return msg
	}
	r := []rune(k)
	return tea.KeyPressMsg{Code: r[0], Text: k}
}

// typeText types s into the model, one key per rune.
func typeText(t *testing.T, m Model, s string) Model {
	t.Helper()
	for _, r := range s {
		m, _ = press(t, m, string(r))
	}
	return m
}

// run executes cmd (and the commands of a batch) and returns the messages that are not the
// long-lived ones (event waits, ticks), so that a test can feed results back.
func run(t *testing.T, cmd tea.Cmd) []tea.Msg {
	t.Helper()
	if cmd == nil {
		return nil
	}
	done := make(chan tea.Msg, 1)
	go func() { done <- cmd() }()
	var msg tea.Msg
	select {
	case msg = <-done:
	case <-time.After(200 * time.Millisecond):
		return nil // a blocking wait (event stream or tick): not a result
	}
	if b, ok := msg.(tea.BatchMsg); ok {
		var out []tea.Msg
		for _, c := range b {
			out = append(out, run(t, c)...)
		}
		return out
	}
	return []tea.Msg{msg}
}

// screen is the rendered screen without ANSI sequences; it checks the size on the way.
func screen(t *testing.T, m Model) string {
	t.Helper()
	s := ansi.Strip(m.View().Content)
	lines := strings.Split(s, "\n")
	if len(lines) != m.height {
		t.Fatalf("screen has %d lines, want %d:\n%s", len(lines), m.height, s)
	}
	for i, l := range lines {
		if w := ansi.StringWidth(l); w != m.width {
			t.Fatalf("line %d is %d cells wide, want %d: %q", i, w, m.width, l)
		}
	}
	return s
}

// safeBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type safeBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *safeBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *safeBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
