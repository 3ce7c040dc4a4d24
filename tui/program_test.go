package tui

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/watchparty/watchparty/room"
)

// waitUntil polls cond until it holds or the deadline passes.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func waitOutput(t *testing.T, tm *teatest.TestModel, want string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(want)) },
		teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(5*time.Millisecond))
}

// TestProgram runs the whole program (Bubble Tea's event loop and renderer, in memory) against
// a fake session: events in, keys in, actions and screen out.
func TestProgram(t *testing.T) {
	f := newFake(hostSnapshot())
	tm := teatest.NewTestModel(t, newModel(t.Context(), f, Options{Location: time.UTC, JoinCommand: "watchparty join abc123def4"}),
		teatest.WithInitialTermSize(100, 30))

	waitOutput(t, tm, "friends join with: watchparty join abc123def4")

	f.events <- room.CommentsLoaded{Comments: sampleComments()}
	waitOutput(t, tm, "the bunny is huge")

	tm.Send(keyPress("space"))
	tm.Send(keyPress("shift+right"))
	tm.Send(keyPress("7"))
	waitUntil(t, "three actions", func() bool { return len(f.Calls()) == 3 })
	if got := f.Calls(); !slices.Equal(got, []string{"toggle", "seekby +60", "fraction 0.7"}) {
		t.Fatalf("calls = %q", got)
	}

	tm.Type("c")
	tm.Type("hello from the test")
	tm.Send(keyPress("enter"))
	waitUntil(t, "the comment", func() bool { return slices.Contains(f.Calls(), "comment hello from the test") })
	tm.Send(keyPress("esc"))

	// A hostile comment reaches the screen as plain text.
	f.events <- room.CommentReceived{Comment: room.Comment{ID: 9, UserID: "u-bob", Username: "bob",
		Message: "\x1b]0;X\x07\x1b[2Jzebra crossing", At: t0}}
	waitOutput(t, tm, "zebra crossing")

	f.events <- room.Notice{Level: room.NoticeInfo, Text: "dave joined the room"}
	waitOutput(t, tm, "dave joined the room")

	tm.Send(keyPress("q"))
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	fm := tm.FinalModel(t).(Model)
	if !fm.left || fm.err != nil {
		t.Fatalf("final: left %v err %v", fm.left, fm.err)
	}
	if got := f.Calls(); got[len(got)-1] != "leave" {
		t.Fatalf("calls = %q, want leave last", got)
	}
	cs := fm.comments.Comments()
	if last := cs[len(cs)-1]; last.Message != "zebra crossing" {
		t.Fatalf("last comment = %q", last.Message)
	}
}

// TestProgramNeverWritesRemoteEscapes checks the terminal byte stream itself: the hostile
// sequence from a comment and a name must not appear in it.
func TestProgramNeverWritesRemoteEscapes(t *testing.T) {
	s := hostSnapshot()
	s.Members[1].Name = "bob\x1b]0;X\x07"
	f := newFake(s)
	var seen []byte
	tm := teatest.NewTestModel(t, newModel(t.Context(), f, Options{Location: time.UTC}), teatest.WithInitialTermSize(80, 24))
	f.events <- room.CommentReceived{Comment: room.Comment{ID: 1, Username: "eve\x1b[2J",
		Message: "\x1b]0;X\x07\x1b[2Jpwned?", At: t0}}
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		seen = append(seen[:0], b...) // b is everything written so far
		return bytes.Contains(b, []byte("pwned?"))
	}, teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(5*time.Millisecond))
	tm.Send(keyPress("q"))
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	rest, err := io.ReadAll(tm.FinalOutput(t))
	if err != nil {
		t.Fatal(err)
	}
	all := append(seen, rest...)
	if bytes.Contains(all, []byte("\x1b]0;X\x07")) || bytes.Contains(all, []byte("\x1b[2Jpwned")) {
		t.Fatal("the remote OSC title sequence reached the terminal")
	}
	if !bytes.Contains(all, []byte("eve:")) {
		t.Fatal("sender not shown")
	}
}

// runProgram starts Run on f in the background with in-memory input (returned for writing)
// and output, 80×24. Run's result arrives on the returned channel.
func runProgram(t *testing.T, ctx context.Context, f *fakeControls, opts Options) (io.Writer, *safeBuffer, <-chan error) {
	t.Helper()
	in, inW := io.Pipe()
	t.Cleanup(func() { inW.Close() })
	out := new(safeBuffer)
	errc := make(chan error, 1)
	go func() {
		errc <- Run(ctx, f, opts, tea.WithInput(in), tea.WithOutput(out), tea.WithWindowSize(80, 24))
	}()
	return inW, out, errc
}

// runResult waits for Run's result.
func runResult(t *testing.T, errc <-chan error, after string) error {
	t.Helper()
	select {
	case err := <-errc:
		return err
	case <-time.After(5 * time.Second):
		t.Fatalf("Run did not return after %s", after)
		return nil
	}
}

// TestRun drives Run with in-memory input and output: q leaves the room and Run returns nil.
func TestRun(t *testing.T) {
	f := newFake(followerSnapshot())
	in, out, errc := runProgram(t, context.Background(), f, Options{NoColor: true})
	waitUntil(t, "the first frame", func() bool { return strings.Contains(out.String(), "abc123def4") })
	if strings.Contains(out.String(), "38;5;") {
		t.Error("colour written with NoColor")
	}
	if _, err := in.Write([]byte("q")); err != nil {
		t.Fatal(err)
	}
	if err := runResult(t, errc, "q"); err != nil {
		t.Fatalf("Run = %v", err)
	}
	if got := f.Calls(); !slices.Equal(got, []string{"leave"}) {
		t.Fatalf("calls = %q", got)
	}
}

// TestRunSecondCtrlC: q starts leaving; when the server does not answer, a second Ctrl-C ends
// Run within a second (Leave is called again, which cuts the wait short).
func TestRunSecondCtrlC(t *testing.T) {
	f := newFake(followerSnapshot())
	f.hangLeave = true
	in, out, errc := runProgram(t, context.Background(), f, Options{LeaveTimeout: time.Minute})
	waitUntil(t, "the first frame", func() bool { return strings.Contains(out.String(), "abc123def4") })
	if _, err := in.Write([]byte("q")); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "leaving", func() bool { return strings.Contains(out.String(), "leaving") })
	start := time.Now()
	if _, err := in.Write([]byte{3}); err != nil { // ctrl+c
		t.Fatal(err)
	}
	runResult(t, errc, "second ctrl+c")
	if took := time.Since(start); took > time.Second {
		t.Fatalf("second ctrl+c took %v", took)
	}
}

// TestRunContextCancelled: when the program is stopped from outside, Run still leaves the room.
func TestRunContextCancelled(t *testing.T) {
	f := newFake(followerSnapshot())
	ctx, cancel := context.WithCancel(context.Background())
	_, out, errc := runProgram(t, ctx, f, Options{})
	waitUntil(t, "the first frame", func() bool { return strings.Contains(out.String(), "abc123def4") })
	cancel()
	if err := runResult(t, errc, "cancel"); err != nil {
		t.Fatalf("Run = %v", err)
	}
	if got := f.Calls(); !slices.Equal(got, []string{"leave"}) {
		t.Fatalf("calls = %q, want the room left", got)
	}
}

// TestRunSessionClosed: the session's closing error is Run's result, and Run does not leave again.
func TestRunSessionClosed(t *testing.T) {
	f := newFake(followerSnapshot())
	_, _, errc := runProgram(t, context.Background(), f, Options{})
	boom := errors.New("room not found")
	f.events <- room.Closed{Err: boom}
	if err := runResult(t, errc, "Closed"); !errors.Is(err, boom) {
		t.Fatalf("Run = %v, want %v", err, boom)
	}
	if got := f.Calls(); len(got) != 0 {
		t.Fatalf("calls = %q, want none", got)
	}
}
