package tui

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"
)

func TestConfirmMediaKeys(t *testing.T) {
	for _, tt := range []struct {
		key  string
		want answer
	}{
		{"y", answerYes}, {"Y", answerYes},
		{"n", answerNo}, {"esc", answerNo}, {"enter", answerNo}, {"q", answerNo}, {"ctrl+c", answerNo},
	} {
		m := newConfirmModel("https://example.com/film.mp4")
		nm, cmd := m.Update(keyPress(tt.key))
		if got := nm.(confirmModel).answer; got != tt.want || cmd == nil {
			t.Errorf("%s: answer %v (quit %v), want %v", tt.key, got, cmd != nil, tt.want)
		}
	}
	// Other keys do nothing: the prompt waits for an answer.
	m := newConfirmModel("https://example.com/film.mp4")
	if nm, cmd := m.Update(keyPress("x")); nm.(confirmModel).answer != answerNone || cmd != nil {
		t.Error("x answered the prompt")
	}
}

// The prompt shows the URL whole but cleaned (a hostile URL cannot drive the terminal), its
// host, and a warning for addresses on the user's own network.
func TestConfirmMediaView(t *testing.T) {
	m := newConfirmModel("http://192.168.1.1/\x1b]0;owned\x07admin\u202e.mp4")
	v := m.View().Content
	for _, bad := range []string{"\x1b]", "\x07", "\u202e"} {
		if strings.Contains(v, bad) {
			t.Errorf("view contains %q", bad)
		}
	}
	for _, want := range []string{"http://192.168.1.1/admin.mp4", "on 192.168.1.1.", "local network", "Open it?"} {
		if !strings.Contains(v, want) {
			t.Errorf("view lacks %q:\n%s", want, v)
		}
	}
	if v := newConfirmModel("https://example.com/x").View().Content; strings.Contains(v, "local network") {
		t.Errorf("a public host got the local warning:\n%s", v)
	}
}

// The whole program: the prompt is drawn, "y" opens.
func TestConfirmMediaProgram(t *testing.T) {
	tm := teatest.NewTestModel(t, newConfirmModel("https://example.com/a/very/long/path/to/the/film.mp4"),
		teatest.WithInitialTermSize(40, 20))
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte("Open it?")) },
		teatest.WithDuration(5*time.Second))
	tm.Send(keyPress("y"))
	fm := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(confirmModel)
	if fm.answer != answerYes {
		t.Fatalf("answer %v", fm.answer)
	}
}

func TestConfirmMediaRun(t *testing.T) {
	for in, want := range map[string]bool{"y": true, "n": false, "\r": false} {
		var out bytes.Buffer
		got, err := ConfirmMedia(context.Background(), "https://example.com/film.mp4", true,
			tea.WithInput(strings.NewReader(in)), tea.WithOutput(&out), tea.WithWindowSize(80, 24))
		if err != nil || got != want {
			t.Errorf("input %q: %v, %v; want %v", in, got, err, want)
		}
		if !strings.Contains(out.String(), "example.com/film.mp4") {
			t.Errorf("input %q: the URL was not shown: %q", in, out.String())
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if ok, err := ConfirmMedia(ctx, "https://example.com/film.mp4", true, tea.WithInput(io.MultiReader()),
		tea.WithOutput(io.Discard)); ok || err == nil {
		t.Errorf("cancelled: %v, %v", ok, err)
	}
}
