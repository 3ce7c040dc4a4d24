package headless

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/watchparty/watchparty/room"
)

// The user closed mpv: the session left the room and ended with EndMPVClosed. Run says so in
// one line and returns nil (exit status 0).
func TestMPVClosedEndsCleanly(t *testing.T) {
	for _, asJSON := range []bool{false, true} {
		f := newFake(connected(1, room.ModeFollowing, 0), room.Closed{Reason: room.EndMPVClosed})
		var out bytes.Buffer
		if err := Run(context.Background(), f, Options{JSON: asJSON, Out: &out, Now: clock()}); err != nil {
			t.Fatalf("json %v: Run = %v, want nil", asJSON, err)
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		last := lines[len(lines)-1]
		if !asJSON {
			if !strings.HasSuffix(last, room.MPVClosedNote) {
				t.Errorf("last line %q, want it to say %q", last, room.MPVClosedNote)
			}
			continue
		}
		var n Notice
		if err := json.Unmarshal([]byte(last), &n); err != nil {
			t.Fatal(err)
		}
		if n.Type != "notice" || n.Level != "info" || n.Message != room.MPVClosedNote {
			t.Errorf("last line %s, want an info notice %q", last, room.MPVClosedNote)
		}
	}
}
