package party

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestIsStale(t *testing.T) {
	tests := []struct {
		name     string
		lastSeen time.Time
		now      time.Time
		want     bool
	}{
		{"just seen", t0, t0, false},
		{"3 s (one missed report)", t0, t0.Add(3 * time.Second), false},
		{"14.999 s", t0, t0.Add(15*time.Second - time.Millisecond), false},
		{"15 s", t0, t0.Add(15 * time.Second), true},
		{"a minute", t0, t0.Add(time.Minute), true},
		{"never seen", time.Time{}, t0, true},
		{"seen in the future (clock skew)", t0.Add(time.Second), t0, false},
	}
	for _, tt := range tests {
		if got := IsStale(tt.lastSeen, tt.now); got != tt.want {
			t.Errorf("%s: IsStale = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestParseMemberRow(t *testing.T) {
	var m map[string]any
	raw := `{"room_id":"abc123def4","user_id":"u2","username":"bob","role":"host","current_time":61.5,
		"is_playing":true,"last_seen":"2024-05-01T12:00:00.123+00:00","joined_at":"2024-05-01T11:00:00+00:00"}`
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		t.Fatal(err)
	}
	got, err := ParseMemberRow(m)
	if err != nil {
		t.Fatal(err)
	}
	want := Member{RoomID: "abc123def4", UserID: "u2", Username: "bob", Role: RoleHost, CurrentTime: 61.5, IsPlaying: true,
		LastSeen: t0, JoinedAt: time.Date(2024, 5, 1, 11, 0, 0, 0, time.UTC), Announced: true} // no column: announced
	if !got.LastSeen.Equal(want.LastSeen) || !got.JoinedAt.Equal(want.JoinedAt) {
		t.Fatalf("times: %+v", got)
	}
	got.LastSeen, got.JoinedAt = want.LastSeen, want.JoinedAt
	if got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}

	if m, err := ParseMemberRow(map[string]any{"user_id": "u4", "announced": false}); err != nil || m.Announced {
		t.Fatalf("unannounced row: %+v, %v", m, err)
	}
	min, err := ParseMemberRow(map[string]any{"user_id": "u3", "role": "owner", "is_playing": nil})
	if err != nil || min.Role != RoleMember || !min.LastSeen.IsZero() || !min.Stale(t0) {
		t.Fatalf("minimal row: %+v, %v", min, err)
	}
	for _, bad := range []struct {
		row    map[string]any
		errHas string
	}{
		{map[string]any{}, "member row: missing user_id"},
		{map[string]any{"user_id": 7.0}, "member row: user_id: want a string"},
		{map[string]any{"user_id": "u", "current_time": "x"}, "member row: current_time: want a number"},
		{map[string]any{"user_id": "u", "is_playing": 1.0}, "member row: is_playing: want a boolean"},
		{map[string]any{"user_id": "u", "last_seen": "noon"}, "member row: last_seen: bad timestamp"},
		{map[string]any{"user_id": "u", "announced": "yes"}, "member row: announced: want a boolean"},
	} {
		if _, err := ParseMemberRow(bad.row); err == nil || !strings.Contains(err.Error(), bad.errHas) {
			t.Errorf("%v: err %v, want %q", bad.row, err, bad.errHas)
		}
	}
}

func TestMembers(t *testing.T) {
	var ms Members
	if ms.Len() != 0 || ms.Remove("x") || ms.Seen("x", t0) || len(ms.List()) != 0 {
		t.Fatal("zero Members not empty")
	}
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	if !ms.Put(Member{UserID: "b", JoinedAt: at(2), LastSeen: at(2)}) ||
		!ms.Put(Member{UserID: "a", JoinedAt: at(3), LastSeen: at(3)}) ||
		!ms.Put(Member{UserID: "h", Role: RoleHost, JoinedAt: at(5), LastSeen: at(5)}) ||
		!ms.Put(Member{UserID: "c", JoinedAt: at(2), LastSeen: at(2)}) {
		t.Fatal("Put of a new member reported not added")
	}
	if ms.Put(Member{UserID: "c", Username: "carol", JoinedAt: at(2), LastSeen: at(2)}) {
		t.Fatal("Put of an existing member reported added")
	}
	ids := func(list []Member) []string {
		var out []string
		for _, m := range list {
			out = append(out, m.UserID)
		}
		return out
	}
	if got := ids(ms.List()); !slices.Equal(got, []string{"h", "b", "c", "a"}) {
		t.Fatalf("List order %v", got)
	}
	if m, ok := ms.Get("c"); !ok || m.Username != "carol" {
		t.Fatalf("Get c: %+v %v", m, ok)
	}
	// At 17 s: b and c last seen at 2 s are stale; a (3 s) is stale at 18 s too.
	if got := ms.Stale(at(17)); !slices.Equal(got, []string{"b", "c"}) {
		t.Fatalf("Stale at 17 s: %v", got)
	}
	if !ms.Seen("b", at(16)) || ms.Seen("nobody", at(16)) {
		t.Fatal("Seen")
	}
	ms.Seen("b", at(4)) // older report: ignored
	if got := ms.Stale(at(18)); !slices.Equal(got, []string{"c", "a"}) {
		t.Fatalf("Stale at 18 s: %v", got)
	}
	if !ms.Remove("c") || ms.Remove("c") || ms.Len() != 3 {
		t.Fatal("Remove")
	}
}
