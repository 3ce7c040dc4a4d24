package tui

import (
	"errors"
	"slices"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/watchparty/watchparty/room"
	"github.com/watchparty/watchparty/tui/comments"
)

// Behind "the terminal is too small" no key acts but quitting.
func TestTooSmallKeys(t *testing.T) {
	f := newFake(hostSnapshot())
	m := newTestModel(t, f, MinWidth-1, MinHeight, Options{})
	if s := screen(t, m); !strings.Contains(s, "make it at least 60×20") {
		t.Fatalf("screen:\n%s", s)
	}
	for _, k := range []string{"space", "left", "5", "c", "?", "s"} {
		m = pressAndRun(t, m, k)
	}
	m = update(t, m, tea.PasteMsg{Content: "hello"})
	if got := f.Calls(); len(got) != 0 || m.comments.Focused() || m.showHelp || m.comments.Value() != "" {
		t.Fatalf("keys acted behind the too-small screen: calls %q, focused %v, help %v", got, m.comments.Focused(), m.showHelp)
	}
	m, _ = press(t, m, "q")
	if !m.leaving {
		t.Fatal("q does not quit on the too-small screen")
	}
}

// enter sends the comment and gives the keys back: q then quits rather than typing "q".
func TestEnterSendsAndReturnsToKeys(t *testing.T) {
	f := newFake(followerSnapshot())
	m := newTestModel(t, f, 80, 24, Options{})
	m, _ = press(t, m, "c")
	if !strings.Contains(screen(t, m), "enter send, back to keys") {
		t.Fatalf("the footer does not say what enter does:\n%s", screen(t, m))
	}
	m = typeText(t, m, "hi")
	m = pressAndRun(t, m, "enter")
	if got := f.Calls(); !slices.Equal(got, []string{"comment hi"}) || m.comments.Focused() {
		t.Fatalf("after enter: calls %q, input focused %v", got, m.comments.Focused())
	}
	// enter on an empty input goes back too.
	m, _ = press(t, m, "c")
	m, _ = press(t, m, "enter")
	if m.comments.Focused() || len(f.Calls()) != 1 {
		t.Fatalf("empty enter: focused %v, calls %q", m.comments.Focused(), f.Calls())
	}
	m, _ = press(t, m, "q")
	if !m.leaving {
		t.Fatal("q after sending did not quit")
	}
}

// A paste is one message (bracketed paste): in key mode it opens the input rather than
// acting as keys ("q", space…); what does not fit in a comment is cut, with a notice.
func TestPaste(t *testing.T) {
	f := newFake(hostSnapshot())
	m := newTestModel(t, f, 80, 24, Options{})
	m = update(t, m, tea.PasteMsg{Content: "q quit? 5 "})
	if !m.comments.Focused() || m.comments.Value() != "q quit? 5 " || m.leaving || len(f.Calls()) != 0 {
		t.Fatalf("paste in key mode: focused %v, value %q, leaving %v, calls %q", m.comments.Focused(), m.comments.Value(), m.leaving, f.Calls())
	}
	long := strings.Repeat("abcdefghij", 250) // 2,500 characters
	m = update(t, m, tea.PasteMsg{Content: long})
	if n := len([]rune(m.comments.Value())); n != comments.MaxLength {
		t.Fatalf("value after a long paste: %d characters, want %d", n, comments.MaxLength)
	}
	if texts := m.toasts.Texts(); len(texts) != 1 || !strings.Contains(texts[0], "cut") {
		t.Fatalf("toasts %q", texts)
	}
}

// A failed host action shows one error line, though the session reports it as a notice too.
func TestFailedHostActionOneLine(t *testing.T) {
	for _, noticeFirst := range []bool{false, true} {
		f := newFake(hostSnapshot())
		f.err = errors.New("server unreachable")
		m := newTestModel(t, f, 80, 24, Options{})
		notice := room.Notice{Level: room.NoticeError, Text: "play failed: server unreachable"}
		if noticeFirst {
			m = event(t, m, notice)
		}
		m = pressAndRun(t, m, "space")
		if !noticeFirst {
			m = event(t, m, notice)
		}
		texts := m.toasts.Texts()
		if len(texts) != 1 || !strings.Contains(texts[0], "server unreachable") {
			t.Fatalf("notice first %v: toasts %q, want one", noticeFirst, texts)
		}
		if n := strings.Count(screen(t, m), "server unreachable"); n != 1 {
			t.Fatalf("notice first %v: the error is on screen %d times", noticeFirst, n)
		}
	}
}

// s on the host's screen says what s is for, on screen.
func TestHostSShown(t *testing.T) {
	f := newFake(hostSnapshot())
	m := newTestModel(t, f, MinWidth, MinHeight, Options{})
	m = pressAndRun(t, m, "s")
	if s := screen(t, m); !strings.Contains(s, "you are the host") {
		t.Fatalf("host s shows nothing:\n%s", s)
	}
}
