package tui

import (
	"slices"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/watchparty/watchparty/room"
)

func readySnapshot(s room.Snapshot) room.Snapshot {
	s.ReadyMode = true
	for i := range s.Members {
		s.Members[i].Ready = s.Members[i].Name == "bob"
	}
	return s
}

// r answers the ready check (and says there is none without the mode); R is the host's.
func TestReadyKeys(t *testing.T) {
	f := newFake(followerSnapshot())
	m := newTestModel(t, f, 100, 30, Options{})
	m = pressAndRun(t, m, "r")
	if got := f.Calls(); len(got) != 0 || !strings.Contains(strings.Join(m.toasts.Texts(), "|"), "no ready check in this room") {
		t.Fatalf("r without ready mode: calls %q, toasts %q", got, m.toasts.Texts())
	}
	m = pressAndRun(t, m, "R")
	if got := f.Calls(); len(got) != 0 || !strings.Contains(strings.Join(m.toasts.Texts(), "|"), "is for the host") {
		t.Fatalf("R by a follower: calls %q, toasts %q", got, m.toasts.Texts())
	}

	rf := newFake(readySnapshot(followerSnapshot()))
	rm := newTestModel(t, rf, 100, 30, Options{})
	pressAndRun(t, rm, "r")
	if got := rf.Calls(); !slices.Equal(got, []string{"ready false"}) { // we are bob, ready: r takes it back
		t.Fatalf("r in ready mode: calls %q", got)
	}

	hf := newFake(hostSnapshot())
	hm := newTestModel(t, hf, 100, 30, Options{})
	hm = pressAndRun(t, hm, "R")
	if got := hf.Calls(); !slices.Equal(got, []string{"ready mode true"}) {
		t.Fatalf("R by the host: calls %q", got)
	}
	_ = hm
}

// space in ready mode, held: "start anyway: …? y/n"; y forces the play, anything else waits.
func TestStartAnywayPrompt(t *testing.T) {
	f := newFake(readySnapshot(hostSnapshot()))
	m := newTestModel(t, f, 100, 30, Options{})
	f.err = &room.NotReadyError{Count: 2, Names: []string{"carol", "dave"}}
	m = pressAndRun(t, m, "space")
	if texts := strings.Join(m.toasts.Texts(), "|"); !strings.Contains(texts, "start anyway: 2 not ready (carol, dave)? y/n") {
		t.Fatalf("toasts after a held play = %q", texts)
	}
	f.err = nil
	m = pressAndRun(t, m, "n")
	if texts := strings.Join(m.toasts.Texts(), "|"); !strings.Contains(texts, "starting when everyone is ready") {
		t.Fatalf("toasts after n = %q", texts)
	}
	if got := f.Calls(); !slices.Equal(got, []string{"toggle"}) {
		t.Fatalf("calls after n = %q", got)
	}
	f.err = &room.NotReadyError{Count: 2, Names: []string{"carol", "dave"}}
	m = pressAndRun(t, m, "space")
	f.err = nil
	m = pressAndRun(t, m, "y")
	if got := f.Calls(); !slices.Equal(got, []string{"toggle", "toggle", "force play"}) {
		t.Fatalf("calls after y = %q", got)
	}
	_ = m
}

// The member list marks answers only in ready mode; the header counts them.
func TestReadyMarks(t *testing.T) {
	plain := newTestModel(t, newFake(hostSnapshot()), 100, 30, Options{})
	if v := plain.View().Content; strings.Contains(v, "✔") || strings.Contains(v, "ready ") {
		t.Fatalf("ready marks without ready mode:\n%s", v)
	}
	s := readySnapshot(hostSnapshot())
	s.StartPending = true
	m := newTestModel(t, newFake(s), 100, 30, Options{})
	v := ansi.Strip(m.View().Content)
	ready, total, _ := s.ReadyCounts()
	for _, want := range []string{"✔", "·", "(starting when everyone is ready)", "ready " + string(rune('0'+ready)) + "/" + string(rune('0'+total))} {
		if !strings.Contains(v, want) {
			t.Fatalf("screen in ready mode lacks %q:\n%s", want, v)
		}
	}
}
