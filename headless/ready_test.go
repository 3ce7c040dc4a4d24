package headless

import (
	"bytes"
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/watchparty/watchparty/room"
)

// The ready check's JSON events, one a line.
func TestReadyJSONLines(t *testing.T) {
	f := newFake(
		room.ReadyModeChanged{On: true},
		room.ReadyChanged{UserID: "u2", Name: "carol", Ready: true},
		room.ReadyChanged{UserID: "u1", Name: "me", Ready: false, Self: true},
		room.StartPending{NotReady: []string{"me"}},
		room.StartPending{},
		room.ReadyStarted{},
		room.Closed{},
	)
	var out bytes.Buffer
	if err := Run(context.Background(), f, Options{JSON: true, Out: &out, Now: clock()}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`{"on":true,"ts":"2026-05-01T12:00:00.400Z","type":"ready_mode"}`,
		`{"ready":true,"ts":"2026-05-01T12:00:00.800Z","type":"ready","user_id":"u2","username":"carol"}`,
		`{"ready":false,"self":true,"ts":"2026-05-01T12:00:01.200Z","type":"ready","user_id":"u1","username":"me"}`,
		`{"not_ready":["me"],"ts":"2026-05-01T12:00:01.600Z","type":"start_pending"}`,
		`{"not_ready":[],"ts":"2026-05-01T12:00:02.000Z","type":"start_pending"}`,
		`{"ts":"2026-05-01T12:00:02.400Z","type":"started"}`,
	}
	got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
