package bench

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/watchparty/watchparty/realtime/phx"
	"github.com/watchparty/watchparty/server/store"
)

// changeFields must read what the server writes: a payload encoded the way the hub encodes it.
func TestChangeFields(t *testing.T) {
	at := time.Date(2026, 5, 1, 12, 0, 0, 123e6, time.UTC)
	member := store.Member{RoomID: "r1", UserID: "u-new", Username: "x", Role: "member", CurrentTime: 12.345678, LastSeen: "t", JoinedAt: "t"}
	old := member
	old.UserID, old.CurrentTime = "u-old", 1e-06
	room := store.Room{RoomID: "r1", HostUserID: "u-host", CurrentTime: 3599.999001}
	for _, tc := range []struct {
		data      phx.ChangeData
		user      string
		stamp     float64
		wantFound bool
	}{
		{phx.ChangeData{Schema: "public", Table: "room_members", Type: "UPDATE", Record: member.Record(), OldRecord: old.Record()}, "u-new", 12.345678, true},
		{phx.ChangeData{Schema: "public", Table: "rooms", Type: "UPDATE", Record: room.Record(), OldRecord: room.Record()}, "u-host", 3599.999001, true},
		{phx.ChangeData{Schema: "public", Table: "room_members", Type: "DELETE", OldRecord: old.Record()}, "", 0, false},
	} {
		tc.data.CommitTimestamp = phx.FormatCommitTimestamp(at)
		payload, err := json.Marshal(phx.ChangesPayload{IDs: []int64{1}, Data: tc.data})
		if err != nil {
			t.Fatal(err)
		}
		table, ts, user, stamp, ok := changeFields(payload)
		if ok != tc.wantFound || ok && (table != tc.data.Table || ts != "2026-05-01T12:00:00.123Z" || user != tc.user || stamp != tc.stamp) {
			t.Errorf("%s %s: got %q %q %q %v %v", tc.data.Table, tc.data.Type, table, ts, user, stamp, ok)
		}
	}
}
