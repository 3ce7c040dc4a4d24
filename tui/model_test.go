package tui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/watchparty/watchparty/party"
	"github.com/watchparty/watchparty/room"
)

// pressAndRun presses k and runs the command it returns, feeding the results back.
func pressAndRun(t *testing.T, m Model, k string) Model {
	t.Helper()
	m, cmd := press(t, m, k)
	for _, msg := range run(t, cmd) {
		m = update(t, m, msg)
	}
	return m
}

func TestHostKeysSendActions(t *testing.T) {
	cases := []struct{ key, call string }{
		{"space", "toggle"},
		{"left", "seekby -5"},
		{"right", "seekby +5"},
		{"shift+left", "seekby -60"},
		{"down", "seekby -60"},
		{"shift+right", "seekby +60"},
		{"up", "seekby +60"},
	}
	for d := range 10 {
		cases = append(cases, struct{ key, call string }{fmt.Sprint(d), fmt.Sprintf("fraction %.1f", float64(d)/10)})
	}
	for _, c := range cases {
		t.Run(c.key, func(t *testing.T) {
			f := newFake(hostSnapshot())
			m := newTestModel(t, f, 80, 24, Options{})
			m = pressAndRun(t, m, c.key)
			if got := f.Calls(); !slices.Equal(got, []string{c.call}) {
				t.Fatalf("calls = %q, want %q", got, c.call)
			}
			if m.toasts.Len() != 0 {
				t.Fatalf("unexpected toast %q", m.toasts.Texts())
			}
		})
	}
}

func TestFollowerHostKeysSaySo(t *testing.T) {
	for _, k := range []string{"space", "left", "right", "shift+left", "shift+right", "up", "down", "0", "5", "9"} {
		t.Run(k, func(t *testing.T) {
			f := newFake(followerSnapshot())
			m := newTestModel(t, f, 80, 24, Options{})
			m = pressAndRun(t, m, k)
			if got := f.Calls(); len(got) != 0 {
				t.Fatalf("follower key %s sent %q", k, got)
			}
			texts := m.toasts.Texts()
			if len(texts) != 1 || !strings.Contains(texts[0], "is for the host") {
				t.Fatalf("toasts = %q, want a host-only notice", texts)
			}
			if !strings.Contains(screen(t, m), "only the host can control playback") {
				t.Fatal("the notice is not on screen")
			}
		})
	}
}

func TestSyncToLive(t *testing.T) {
	f := newFake(followerSnapshot())
	m := newTestModel(t, f, 80, 24, Options{})
	pressAndRun(t, m, "s")
	if got := f.Calls(); !slices.Equal(got, []string{"sync"}) {
		t.Fatalf("follower s: calls = %q", got)
	}

	f = newFake(hostSnapshot())
	m = newTestModel(t, f, 80, 24, Options{})
	m = pressAndRun(t, m, "s")
	if got := f.Calls(); len(got) != 0 {
		t.Fatalf("host s: calls = %q", got)
	}
	if texts := m.toasts.Texts(); len(texts) != 1 || !strings.Contains(texts[0], "you are the host") {
		t.Fatalf("host s: toasts = %q", texts)
	}
}

func TestCommentInput(t *testing.T) {
	for _, focusKey := range []string{"c", "tab"} {
		t.Run(focusKey, func(t *testing.T) {
			f := newFake(followerSnapshot())
			m := newTestModel(t, f, 80, 24, Options{})
			m, _ = press(t, m, focusKey)
			if !m.comments.Focused() {
				t.Fatal("input not focused")
			}
			// Keys that are actions elsewhere type while the input has the focus.
			m = typeText(t, m, "q s c ? 5")
			m = update(t, m, tea.PasteMsg{Content: " pasted"})
			if got := m.comments.Value(); got != "q s c ? 5 pasted" {
				t.Fatalf("value = %q", got)
			}
			if f.Calls() != nil {
				t.Fatalf("typing sent %q", f.Calls())
			}
			m = pressAndRun(t, m, "enter")
			if got := f.Calls(); !slices.Equal(got, []string{"comment q s c ? 5 pasted"}) {
				t.Fatalf("calls = %q", got)
			}
			// enter sent it and gave the keys back.
			if m.comments.Value() != "" || m.comments.Focused() {
				t.Fatalf("after send: value %q focused %v", m.comments.Value(), m.comments.Focused())
			}
			// Blank input sends nothing.
			m, _ = press(t, m, focusKey)
			m = typeText(t, m, "   ")
			m = pressAndRun(t, m, "enter")
			if n := len(f.Calls()); n != 1 {
				t.Fatalf("blank comment sent: %q", f.Calls())
			}
			// esc (and tab) leave the input, keeping what was typed; keys act again.
			m, _ = press(t, m, focusKey)
			m = typeText(t, m, "draft")
			leaveKey := "esc"
			if focusKey == "tab" {
				leaveKey = "tab"
			}
			m, _ = press(t, m, leaveKey)
			if m.comments.Focused() || m.comments.Value() != "draft" {
				t.Fatalf("%s did not leave the input, keeping the text: focused %v, value %q", leaveKey, m.comments.Focused(), m.comments.Value())
			}
			m = pressAndRun(t, m, "s")
			if got := f.Calls(); got[len(got)-1] != "sync" {
				t.Fatalf("s after leaving input: %q", got)
			}
		})
	}
}

func TestCommentFailureGivesTextBack(t *testing.T) {
	f := newFake(followerSnapshot())
	f.err = errors.New("rate limited: wait 2 s")
	m := newTestModel(t, f, 80, 24, Options{})
	m, _ = press(t, m, "c")
	m = typeText(t, m, "hello")
	m = pressAndRun(t, m, "enter")
	if got := m.comments.Value(); got != "hello" {
		t.Fatalf("input after failure = %q, want the comment back", got)
	}
	if texts := m.toasts.Texts(); len(texts) != 1 || texts[0] != "comment: rate limited: wait 2 s" {
		t.Fatalf("toasts = %q", texts)
	}
}

func TestActionErrors(t *testing.T) {
	f := newFake(hostSnapshot())
	f.err = fmt.Errorf("control: %w", room.ErrNotHost) // the host changed meanwhile
	m := newTestModel(t, f, 80, 24, Options{})
	m = pressAndRun(t, m, "space")
	if texts := m.toasts.Texts(); len(texts) != 1 || texts[0] != "play/pause: only the host can control playback" {
		t.Fatalf("toasts = %q", texts)
	}
	f.err = errors.New("server said \x1b[2Jno")
	m = pressAndRun(t, m, "right")
	if texts := m.toasts.Texts(); texts[len(texts)-1] != "seek +5 s: server said no" {
		t.Fatalf("toasts = %q (error text must be sanitised)", texts)
	}
}

func TestScrollKeys(t *testing.T) {
	f := newFake(followerSnapshot())
	m := newTestModel(t, f, 80, 24, Options{})
	var cs []room.Comment
	for i := range 60 {
		cs = append(cs, room.Comment{ID: int64(i), UserID: "u-bob", Username: "bob",
			Message: fmt.Sprintf("message %02d", i), At: t0})
	}
	m = event(t, m, room.CommentsLoaded{Comments: cs})
	if !strings.Contains(screen(t, m), "message 59") {
		t.Fatal("latest comment not shown")
	}
	m, _ = press(t, m, "pgup")
	if m.comments.Offset() == 0 || strings.Contains(screen(t, m), "message 59") {
		t.Fatalf("pgup did not scroll (offset %d)", m.comments.Offset())
	}
	// A new comment while scrolled up: the view stays, a marker counts it.
	before := screen(t, m)
	m = event(t, m, room.CommentReceived{Comment: room.Comment{ID: 99, Username: "carol", Message: "new one", At: t0}})
	after := screen(t, m)
	if strings.Contains(after, "new one") || !strings.Contains(after, "↓ 1 new") {
		t.Fatalf("new comment yanked the view or no marker:\n%s", after)
	}
	if bodyLines(before) != bodyLines(after) {
		t.Fatalf("history moved:\n%s\n---\n%s", before, after)
	}
	m, _ = press(t, m, "pgdown")
	m, _ = press(t, m, "pgdown")
	m, _ = press(t, m, "pgdown")
	if m.comments.Offset() != 0 || !strings.Contains(screen(t, m), "new one") || m.comments.Unread() != 0 {
		t.Fatalf("pgdn did not return to latest (offset %d)", m.comments.Offset())
	}
	m, _ = press(t, m, "pgup")
	m, _ = press(t, m, "pgup")
	m, _ = press(t, m, "end")
	if m.comments.Offset() != 0 {
		t.Fatal("end did not jump to latest")
	}
	// pgup/pgdn also scroll while typing.
	m, _ = press(t, m, "c")
	m, _ = press(t, m, "pgup")
	if m.comments.Offset() == 0 || !m.comments.Focused() {
		t.Fatal("pgup in the input did not scroll")
	}
	m, _ = press(t, m, "pgdown")
	if m.comments.Offset() != 0 {
		t.Fatal("pgdn in the input did not scroll")
	}
}

// bodyLines is the comment column of a screen's body (between the rule and the input line).
func bodyLines(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if i := strings.Index(l, "│ "); i >= 0 {
			out = append(out, l[i:])
		}
	}
	if len(out) > 1 {
		out = out[1 : len(out)-1] // drop the title (marker) and input lines
	}
	return strings.Join(out, "\n")
}

func TestHelpKey(t *testing.T) {
	f := newFake(hostSnapshot())
	m := newTestModel(t, f, 80, 24, Options{})
	m, _ = press(t, m, "?")
	s := screen(t, m)
	if !m.showHelp || !strings.Contains(s, "Keys (host)") || !strings.Contains(s, "play/pause") {
		t.Fatalf("? did not open the host help:\n%s", s)
	}
	m, _ = press(t, m, "?")
	if m.showHelp {
		t.Fatal("? did not close the help")
	}
	m, _ = press(t, m, "?")
	m, _ = press(t, m, "esc")
	if m.showHelp {
		t.Fatal("esc did not close the help")
	}
	// Other keys still act with the help open.
	m, _ = press(t, m, "?")
	pressAndRun(t, m, "space")
	if got := f.Calls(); !slices.Equal(got, []string{"toggle"}) {
		t.Fatalf("space under help: %q", got)
	}
	// The follower's help lists no host keys.
	f = newFake(followerSnapshot())
	m = newTestModel(t, f, 80, 24, Options{})
	m, _ = press(t, m, "?")
	if s := screen(t, m); strings.Contains(s, "play/pause") || !strings.Contains(s, "sync to live") {
		t.Fatalf("follower help:\n%s", s)
	}
}

func TestQuitLeavesRoom(t *testing.T) {
	for _, k := range []string{"q", "ctrl+c"} {
		t.Run(k, func(t *testing.T) {
			f := newFake(followerSnapshot())
			m := newTestModel(t, f, 80, 24, Options{})
			m, cmd := press(t, m, k)
			if !m.leaving || m.done {
				t.Fatalf("leaving %v done %v", m.leaving, m.done)
			}
			if !strings.Contains(screen(t, m), "leaving") {
				t.Fatal("no leaving state on screen")
			}
			// Keys are ignored while leaving.
			m, again := press(t, m, "space")
			if again != nil {
				t.Fatal("a key acted while leaving")
			}
			msgs := run(t, cmd)
			if len(msgs) != 1 {
				t.Fatalf("leave produced %v", msgs)
			}
			if got := f.Calls(); !slices.Equal(got, []string{"leave"}) {
				t.Fatalf("calls = %q", got)
			}
			m, cmd = updateCmd(t, m, msgs[0])
			if !m.left || !m.done || m.err != nil {
				t.Fatalf("left %v done %v err %v", m.left, m.done, m.err)
			}
			if _, ok := cmd().(tea.QuitMsg); !ok {
				t.Fatal("leftMsg did not quit")
			}
		})
	}
}

func TestQuitFromInputAndForceQuit(t *testing.T) {
	f := newFake(followerSnapshot())
	m := newTestModel(t, f, 80, 24, Options{})
	m, _ = press(t, m, "c")
	m, cmd := press(t, m, "ctrl+c")
	if !m.leaving || cmd == nil {
		t.Fatal("ctrl+c in the input did not start leaving")
	}
	// A second ctrl+c quits without waiting for Leave.
	m, cmd = press(t, m, "ctrl+c")
	if !m.done {
		t.Fatal("second ctrl+c did not quit")
	}
	if _, ok := cmd().(tea.QuitMsg); !ok {
		t.Fatal("second ctrl+c returned no quit")
	}
}

func TestLeaveError(t *testing.T) {
	f := newFake(followerSnapshot())
	f.leaveErr = errors.New("timeout")
	m := newTestModel(t, f, 80, 24, Options{})
	m, cmd := press(t, m, "q")
	for _, msg := range run(t, cmd) {
		m = update(t, m, msg)
	}
	if m.err == nil || m.err.Error() != "leave room: timeout" {
		t.Fatalf("err = %v", m.err)
	}
}

func TestQuitRequestFromSignal(t *testing.T) {
	f := newFake(hostSnapshot())
	m := newTestModel(t, f, 80, 24, Options{})
	// The program filter turns a signal's quit into a leave request while not done.
	if _, ok := interceptQuit(m, tea.QuitMsg{}).(quitRequestMsg); !ok {
		t.Fatal("QuitMsg not intercepted")
	}
	if _, ok := interceptQuit(m, tea.InterruptMsg{}).(quitRequestMsg); !ok {
		t.Fatal("InterruptMsg not intercepted")
	}
	m, cmd := updateCmd(t, m, quitRequestMsg{})
	if !m.leaving || cmd == nil {
		t.Fatal("quit request did not start leaving")
	}
	m.done = true
	if _, ok := interceptQuit(m, tea.QuitMsg{}).(tea.QuitMsg); !ok {
		t.Fatal("QuitMsg intercepted after done")
	}
}

func TestStateChangedEvent(t *testing.T) {
	f := newFake(followerSnapshot())
	m := newTestModel(t, f, 80, 24, Options{})
	s := followerSnapshot()
	s.Playing = false
	s.MediaTitle = "Sintel\x1b]0;pwned\x07"
	s.Sync = room.SyncView{Status: party.StatusInSync, DriftMS: 35, Mode: room.ModeFollowing, Position: 61, Speed: 1}
	s.Members = append(s.Members, room.MemberView{UserID: "u-dave", Name: "dave\u202e", Online: true})
	m = event(t, m, room.StateChanged{Snapshot: s})
	out := screen(t, m)
	for _, want := range []string{"Sintel", "⏸ paused", "1:01 / 1:02:00", "● in sync +35ms", "Members (4)", "dave"} {
		if !strings.Contains(out, want) {
			t.Errorf("screen lacks %q", want)
		}
	}
	if strings.Contains(out, "pwned") || strings.ContainsRune(out, '\u202e') {
		t.Error("remote text not sanitised")
	}
	// The caller's snapshot is not modified by sanitising.
	if s.Members[3].Name != "dave\u202e" {
		t.Error("sanitising changed the event's members")
	}
}

func TestCommentEvents(t *testing.T) {
	f := newFake(followerSnapshot())
	m := newTestModel(t, f, 80, 24, Options{})
	m = event(t, m, room.CommentsLoaded{Comments: sampleComments()})
	if len(m.comments.Comments()) != 6 {
		t.Fatalf("loaded %d comments", len(m.comments.Comments()))
	}
	evil := "\x1b]0;X\x07\x1b[2Jlook \x1b[31mred\x1b[0m"
	m = event(t, m, room.CommentReceived{Comment: room.Comment{ID: 7, UserID: "u-carol", Username: "car\x1b[5mol",
		Message: evil, VideoTime: vt(3601), At: t0}})
	out := screen(t, m)
	if !strings.Contains(out, "20:15 [1:00:01] carol: look red") {
		t.Fatalf("comment not shown sanitised:\n%s", out)
	}
	raw := m.View().Content
	if strings.Contains(raw, "\x1b]0;") || strings.Contains(raw, "\x1b[2J") || strings.Contains(raw, "\x1b[5m") {
		t.Fatal("remote escape sequence reached the terminal output")
	}
	// CommentsLoaded replaces what was shown (rejoin).
	m = event(t, m, room.CommentsLoaded{Comments: sampleComments()[:1]})
	if n := len(m.comments.Comments()); n != 1 {
		t.Fatalf("after reload: %d comments", n)
	}
}

func TestNoticeEvents(t *testing.T) {
	f := newFake(followerSnapshot())
	m := newTestModel(t, f, 80, 24, Options{})
	m = event(t, m, room.Notice{Level: room.NoticeInfo, Text: "dave joined the room"})
	m = event(t, m, room.Notice{Level: room.NoticeWarn, Text: "host changed: bob\x1b[2J"})
	m = event(t, m, room.Notice{Level: room.NoticeError, Text: "comment rejected"})
	out := screen(t, m)
	for _, want := range []string{"• dave joined the room", "! host changed: bob", "✗ comment rejected"} {
		if !strings.Contains(out, want) {
			t.Errorf("screen lacks %q:\n%s", want, out)
		}
	}
	// Toasts fade out with the clock: info after 4 s, warn after 6 s, error after 8 s.
	m = update(t, m, tickMsg{tag: m.tickTag, at: t0.Add(5 * time.Second)})
	if got := m.toasts.Texts(); len(got) != 2 {
		t.Fatalf("after 5 s: %q", got)
	}
	m = update(t, m, tickMsg{tag: m.tickTag, at: t0.Add(9 * time.Second)})
	if got := m.toasts.Len(); got != 0 {
		t.Fatalf("after 9 s: %d toasts", got)
	}
	screen(t, m) // the layout takes the space back
}

func TestTickTags(t *testing.T) {
	f := newFake(reconnectingSnapshot())
	m := newTestModel(t, f, 80, 24, Options{})
	if !strings.Contains(screen(t, m), "reconnecting in 5 s") {
		t.Fatal("no countdown")
	}
	m, cmd := updateCmd(t, m, tickMsg{tag: m.tickTag, at: t0.Add(2 * time.Second)})
	if cmd == nil || !strings.Contains(screen(t, m), "reconnecting in 3 s") {
		t.Fatalf("tick did not count down or re-arm:\n%s", screen(t, m))
	}
	m, cmd = updateCmd(t, m, tickMsg{tag: m.tickTag + 1, at: t0.Add(3 * time.Second)})
	if cmd != nil || !strings.Contains(screen(t, m), "reconnecting in 3 s") {
		t.Fatal("a stale tick was taken")
	}
	m = update(t, m, tickMsg{tag: m.tickTag, at: t0.Add(5 * time.Second)})
	if !strings.Contains(screen(t, m), "reconnecting…") {
		t.Fatal("past the retry time: no plain reconnecting")
	}
}

func TestClosedEvent(t *testing.T) {
	f := newFake(followerSnapshot())
	m := newTestModel(t, f, 80, 24, Options{})
	boom := errors.New("room deleted")
	m, cmd := updateCmd(t, m, eventMsg{ev: room.Closed{Err: boom}})
	if !m.closed || !m.done || !errors.Is(m.err, boom) {
		t.Fatalf("closed %v done %v err %v", m.closed, m.done, m.err)
	}
	if _, ok := cmd().(tea.QuitMsg); !ok {
		t.Fatal("Closed did not quit")
	}

	// While leaving, Closed waits for Leave to return.
	f = newFake(followerSnapshot())
	m = newTestModel(t, f, 80, 24, Options{})
	m, _ = press(t, m, "q")
	m, cmd = updateCmd(t, m, eventMsg{ev: room.Closed{}})
	if cmd != nil || m.done {
		t.Fatal("Closed while leaving quit before Leave returned")
	}
	m, cmd = updateCmd(t, m, leftMsg{})
	if !m.done || m.err != nil {
		t.Fatalf("done %v err %v", m.done, m.err)
	}
	if _, ok := cmd().(tea.QuitMsg); !ok {
		t.Fatal("leftMsg did not quit")
	}
}

func TestEventStream(t *testing.T) {
	f := newFake(followerSnapshot())
	m := newTestModel(t, f, 80, 24, Options{})
	f.events <- room.Notice{Level: room.NoticeInfo, Text: "hi"}
	msg := waitForEvent(context.Background(), f.Events())()
	if em, ok := msg.(eventMsg); !ok || em.ev != (room.Notice{Level: room.NoticeInfo, Text: "hi"}) {
		t.Fatalf("waitForEvent = %#v", msg)
	}
	// Every event but Closed re-arms the wait.
	_, cmd := updateCmd(t, m, msg)
	if cmd == nil {
		t.Fatal("event did not re-arm the wait")
	}
	close(f.events)
	if em := waitForEvent(context.Background(), f.Events())().(eventMsg); em.ev != (room.Closed{}) {
		t.Fatalf("closed stream read as %#v", em.ev)
	}
}

func TestTooSmallStillQuits(t *testing.T) {
	f := newFake(followerSnapshot())
	m := newTestModel(t, f, 30, 8, Options{})
	if !strings.Contains(screen(t, m), "60×20") {
		t.Fatal("no too-small message")
	}
	m, _ = press(t, m, "q")
	if !m.leaving {
		t.Fatal("q did not work on a small screen")
	}
}

func TestNoColor(t *testing.T) {
	f := newFake(hostSnapshot())
	m := newTestModel(t, f, 80, 24, Options{NoColor: true})
	m = event(t, m, room.CommentsLoaded{Comments: sampleComments()})
	raw := m.View().Content
	if strings.Contains(raw, "38;5;") || strings.Contains(raw, "38;2;") {
		t.Fatal("foreground colour with NoColor")
	}
	colored := newTestModel(t, newFake(hostSnapshot()), 80, 24, Options{})
	if !strings.Contains(colored.View().Content, "38;5;") {
		t.Fatal("no 256-colour sequence without NoColor: the check above proves nothing")
	}
}

func TestViewIsAltScreen(t *testing.T) {
	m := newTestModel(t, newFake(hostSnapshot()), 80, 24, Options{})
	v := m.View()
	if !v.AltScreen || v.WindowTitle != "watchparty · abc123def4" {
		t.Fatalf("alt %v title %q", v.AltScreen, v.WindowTitle)
	}
}

func TestActionsKeepKeyOrder(t *testing.T) {
	f := newFake(hostSnapshot())
	m := newTestModel(t, f, 80, 24, Options{})
	// Every key sends its action at once; each waits for the one before it to return.
	var cmds []tea.Cmd
	for _, k := range []string{"space", "right", "3"} {
		var cmd tea.Cmd
		m, cmd = press(t, m, k)
		if cmd == nil {
			t.Fatalf("%s sent nothing", k)
		}
		cmds = append(cmds, cmd)
	}
	for _, cmd := range cmds {
		msgs := run(t, cmd)
		if len(msgs) != 1 {
			t.Fatalf("action produced %v", msgs)
		}
		m, _ = updateCmd(t, m, msgs[0])
	}
	if got := f.Calls(); !slices.Equal(got, []string{"toggle", "seekby +5", "fraction 0.3"}) {
		t.Fatalf("calls = %q", got)
	}
}

func TestQuitRequestWhileLeavingQuits(t *testing.T) {
	f := newFake(hostSnapshot())
	m := newTestModel(t, f, 80, 24, Options{})
	m, _ = updateCmd(t, m, quitRequestMsg{})
	if !m.leaving {
		t.Fatal("quit request did not start leaving")
	}
	// A second signal while leaving quits without waiting for Leave.
	m, cmd := updateCmd(t, m, quitRequestMsg{})
	if !m.done || cmd == nil {
		t.Fatal("second quit request did not quit")
	}
	if _, ok := cmd().(tea.QuitMsg); !ok {
		t.Fatal("second quit request returned no quit")
	}
}

func TestNewIsTheRootModel(t *testing.T) {
	f := newFake(hostSnapshot())
	m, ok := New(f, Options{}).(Model)
	if !ok {
		t.Fatal("New did not return the root Model")
	}
	if m.Init() == nil || m.snap.RoomID != "abc123def4" {
		t.Fatal("New did not start from the session's snapshot")
	}
}
