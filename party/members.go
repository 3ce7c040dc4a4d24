package party

import (
	"slices"
	"strings"
	"time"
)

// StaleAfter: a member not heard from for this long shows as stale. Members
// report liveness every 3 s (track_user_presence), so this is four missed
// reports plus slack; it is the servers' default stale time too (a stale host
// hands the room on: docs/api.md, "Membership and liveness").
const StaleAfter = 15 * time.Second

// IsStale reports whether a member last seen at lastSeen is stale at now. A
// member never seen is stale.
func IsStale(lastSeen, now time.Time) bool {
	return lastSeen.IsZero() || now.Sub(lastSeen) >= StaleAfter
}

// Role is a member's role in a room.
type Role string

// The member roles of the room_members table.
const (
	RoleHost   Role = "host"
	RoleMember Role = "member"
)

// Member is one room_members row.
type Member struct {
	// RoomID is the row's room_id ("" when the row does not carry it).
	RoomID   string
	UserID   string
	Username string
	Role     Role
	// CurrentTime and IsPlaying are the member's last reported player
	// state.
	CurrentTime float64
	IsPlaying   bool
	// LastSeen is the member's last liveness report (server clock).
	LastSeen time.Time
	JoinedAt time.Time
	// LeftAt is when the member left (a soft leave: the row stays with
	// left_at set); zero for a current member.
	LeftAt time.Time
	// Announced is false for a member whose client has joined but not yet
	// made its first liveness beat: screens don't list them yet (a join that
	// fails never shows). Rows without the column read as announced.
	Announced bool
	// Buffering is the member's buffering mark from their last beat (false for rows without
	// it).
	Buffering bool
	// MediaFP and MediaDuration are what the member reported of their media ("Same file?",
	// MediaDiff): "" and 0 when not reported, or not of a valid shape.
	MediaFP       string
	MediaDuration float64
	// Ready is the person's answer to the ready check; anything but a JSON true reads as false.
	Ready bool
	// Cohost is set while the host lets this member control playback too
	// (rows without the column: false).
	Cohost bool
}

// Left reports whether the row is of a member who has left the room.
func (m Member) Left() bool { return !m.LeftAt.IsZero() }

// Stale reports whether m is stale at now (server clock).
func (m Member) Stale(now time.Time) bool { return IsStale(m.LastSeen, now) }

// ParseMemberRow reads a room_members row (keys as in docs/api.md (Rows), types as for
// ParseRoomRow). user_id is required; the rest defaults to zero values, and
// an unknown role reads as member. current_time is clamped to
// [0, MaxPosition]. A non-null left_at marks a member who has left.
func ParseMemberRow(m map[string]any) (Member, error) {
	r := row{what: "member row", m: m}
	var mem Member
	var err error
	if mem.RoomID, err = r.optString("room_id"); err != nil {
		return Member{}, err
	}
	if mem.UserID, err = r.optString("user_id"); err != nil {
		return Member{}, err
	}
	if mem.UserID == "" {
		return Member{}, r.errorf("missing user_id")
	}
	if mem.Username, err = r.optString("username"); err != nil {
		return Member{}, err
	}
	role, err := r.optString("role")
	if err != nil {
		return Member{}, err
	}
	mem.Role = RoleMember
	if Role(role) == RoleHost {
		mem.Role = RoleHost
	}
	if v, ok, err := r.optNumber("current_time"); err != nil {
		return Member{}, err
	} else if ok {
		mem.CurrentTime = ClampPosition(v, 0)
	}
	if _, present := m["is_playing"]; present && m["is_playing"] != nil {
		if mem.IsPlaying, err = r.reqBool("is_playing"); err != nil {
			return Member{}, err
		}
	}
	if mem.LastSeen, _, err = r.optTime("last_seen"); err != nil {
		return Member{}, err
	}
	if mem.JoinedAt, _, err = r.optTime("joined_at"); err != nil {
		return Member{}, err
	}
	if mem.LeftAt, _, err = r.optTime("left_at"); err != nil {
		return Member{}, err
	}
	mem.Announced = true
	if v, present := m["announced"]; present && v != nil {
		if mem.Announced, err = r.reqBool("announced"); err != nil {
			return Member{}, err
		}
	}
	mem.Buffering, _ = m["buffering"].(bool)
	// The media report is advisory: a value of the wrong shape reads as none, not as a bad row.
	if fp, ok := m["media_fp"].(string); ok && ValidFingerprint(fp) {
		mem.MediaFP = fp
	}
	if v, ok, err := r.optNumber("media_duration"); err == nil && ok && v > 0 && v <= MaxPosition {
		mem.MediaDuration = v
	}
	mem.Ready, _ = m["ready"].(bool)
	if v, present := m["cohost"]; present && v != nil {
		if mem.Cohost, err = r.reqBool("cohost"); err != nil {
			return Member{}, err
		}
	}
	return mem, nil
}

// Members is the member list of one room, keyed by user id. The zero value
// is empty and ready to use. Not safe for concurrent use.
type Members struct {
	m map[string]Member
}

// Put adds or replaces a member (a room_members INSERT or UPDATE, or a row
// from join/get_room_sync_state). It reports whether the member is new.
func (ms *Members) Put(m Member) (added bool) {
	if ms.m == nil {
		ms.m = make(map[string]Member)
	}
	_, had := ms.m[m.UserID]
	ms.m[m.UserID] = m
	return !had
}

// Remove drops a member (a room_members DELETE) and reports whether it was
// there.
func (ms *Members) Remove(userID string) (removed bool) {
	_, had := ms.m[userID]
	delete(ms.m, userID)
	return had
}

// Seen records a liveness report from userID at t (server clock), keeping
// the later of t and what is held. It reports false for an unknown member.
func (ms *Members) Seen(userID string, t time.Time) bool {
	m, ok := ms.m[userID]
	if !ok {
		return false
	}
	if t.After(m.LastSeen) {
		m.LastSeen = t
		ms.m[userID] = m
	}
	return true
}

// Get returns the member with userID.
func (ms *Members) Get(userID string) (Member, bool) {
	m, ok := ms.m[userID]
	return m, ok
}

// Len is the number of members.
func (ms *Members) Len() int { return len(ms.m) }

// List returns the members in a stable display order: the host first, then
// by join time, then by user id.
func (ms *Members) List() []Member {
	out := make([]Member, 0, len(ms.m))
	for _, m := range ms.m {
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b Member) int {
		if (a.Role == RoleHost) != (b.Role == RoleHost) {
			if a.Role == RoleHost {
				return -1
			}
			return 1
		}
		if c := a.JoinedAt.Compare(b.JoinedAt); c != 0 {
			return c
		}
		return strings.Compare(a.UserID, b.UserID)
	})
	return out
}

// Stale returns the user ids of the members stale at now, in List order.
func (ms *Members) Stale(now time.Time) []string {
	var ids []string
	for _, m := range ms.List() {
		if m.Stale(now) {
			ids = append(ids, m.UserID)
		}
	}
	return ids
}
