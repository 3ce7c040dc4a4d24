package tui

import (
	"bytes"
	"context"
	"testing"

	"github.com/watchparty/watchparty/room"
)

// TestRunMPVClosed: the user closed mpv, so the session left the room by itself and ended with
// EndMPVClosed. The screen closes, Run returns nil (exit status 0) without leaving again, and
// says why on Log.
func TestRunMPVClosed(t *testing.T) {
	f := newFake(followerSnapshot())
	var log bytes.Buffer
	_, _, errc := runProgram(t, context.Background(), f, Options{Log: &log})
	f.events <- room.Closed{Reason: room.EndMPVClosed}
	if err := runResult(t, errc, "Closed"); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	if got := f.Calls(); len(got) != 0 {
		t.Fatalf("calls = %q, want none (the session left already)", got)
	}
	if got, want := log.String(), room.MPVClosedNote+"\n"; got != want {
		t.Errorf("log %q, want %q", got, want)
	}
}
