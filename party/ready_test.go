package party

import "testing"

// The ready check's flags read as true only from a JSON true: a hostile or old server's odd
// values (strings, numbers, null, absent) read as false and never fail the row.
func TestReadyFlagsAreNotTrusted(t *testing.T) {
	for _, v := range []any{"true", 1.0, nil, map[string]any{}} {
		room := map[string]any{"is_playing": false, "current_time": 1.0, "updated_at": "2024-05-01T12:00:00.000+00:00",
			"ready_mode": v, "start_pending": v}
		st, err := ParseRoomRow(room)
		if err != nil || st.ReadyMode || st.StartPending {
			t.Fatalf("room with ready flags %#v: %+v, %v", v, st, err)
		}
		m, err := ParseMemberRow(map[string]any{"user_id": "u1", "ready": v})
		if err != nil || m.Ready {
			t.Fatalf("member with ready %#v: %+v, %v", v, m, err)
		}
	}
	st, _ := ParseRoomRow(map[string]any{"is_playing": false, "current_time": 1.0, "updated_at": "2024-05-01T12:00:00.000+00:00",
		"ready_mode": true, "start_pending": true})
	m, _ := ParseMemberRow(map[string]any{"user_id": "u1", "ready": true})
	if !st.ReadyMode || !st.StartPending || !m.Ready {
		t.Fatal("a JSON true did not read as true")
	}
}
