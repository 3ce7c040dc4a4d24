package room

import (
	"testing"
	"time"

	"github.com/watchparty/watchparty/party"
)

func TestHostActed(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	playing := party.RoomState{IsPlaying: true, CurrentTime: 10, UpdatedAt: t0, PlaybackRate: 1, StateVersion: 1}
	at := func(st party.RoomState, d time.Duration, pos float64) party.RoomState {
		st.UpdatedAt, st.CurrentTime, st.StateVersion = t0.Add(d), pos, st.StateVersion+1
		return st
	}
	paused := playing
	paused.IsPlaying = false
	faster := playing
	faster.PlaybackRate = 1.5
	for _, tc := range []struct {
		name     string
		old, cur party.RoomState
		want     bool
	}{
		{"first state", party.RoomState{}, playing, true},
		{"republish where the room already is", playing, at(playing, 5*time.Second, 15.04), false},
		{"republish correcting a small lag", playing, at(playing, 5*time.Second, 14.7), false},
		{"seek forward", playing, at(playing, 5*time.Second, 45), true},
		{"seek back", playing, at(playing, 5*time.Second, 3), true},
		{"pause", playing, at(paused, 5*time.Second, 15), true},
		{"rate", playing, at(faster, 5*time.Second, 15), true},
	} {
		if got := hostActed(tc.old, tc.cur); got != tc.want {
			t.Errorf("%s: hostActed = %v, want %v", tc.name, got, tc.want)
		}
	}
}
