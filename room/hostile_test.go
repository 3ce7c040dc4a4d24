package room

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/watchparty/watchparty/party"
)

// These tests play a hostile (or old) server against the session's logic: rows of other rooms,
// soft leaves, members who left in a join reply, room URLs that are instructions to mpv.

// memberHarness is a session's member handling without a backend or a player.
type memberHarness struct {
	s *Session
	e *engine
}

func newMemberHarness(t *testing.T) *memberHarness {
	t.Helper()
	s := &Session{opts: Options{RoomID: "room000001"}, events: newEventQueue(), now: time.Now,
		log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	t.Cleanup(func() {
		s.events.close(Closed{})
		for range s.events.out {
		}
	})
	return &memberHarness{s: s, e: newEngine("me")}
}

func (h *memberHarness) feed(typ string, newRow, oldRow map[string]any) {
	h.s.onMember(h.e, decodeMemberChange(typ, newRow, oldRow))
}

// notices takes the notices pushed so far.
func (h *memberHarness) notices(t *testing.T) []string {
	t.Helper()
	h.s.events.push(Closed{}) // a marker: everything before it is queued
	var out []string
	for {
		select {
		case ev := <-h.s.events.out:
			switch ev := ev.(type) {
			case Notice:
				out = append(out, ev.Text)
			case Closed:
				return out
			}
		case <-time.After(2 * time.Second):
			t.Fatal("event queue stuck")
		}
	}
}

func (h *memberHarness) names() []string {
	var out []string
	for _, m := range h.e.pres.members.List() {
		out = append(out, m.Username)
	}
	return out
}

func row(room, user, name string, leftAt any) map[string]any {
	r := map[string]any{"room_id": room, "user_id": user, "username": name, "role": "member",
		"joined_at": "2026-01-01T12:00:00+00:00"}
	if leftAt != nil {
		r["left_at"] = leftAt
	}
	return r
}

func TestMemberEventsOfOtherRoomsAreIgnored(t *testing.T) {
	h := newMemberHarness(t)
	h.feed("INSERT", row("room000001", "u1", "alice", nil), nil)
	// A hostile server sends rows of another room: a join, a leave (soft and hard) of a
	// member with the same user id, and rows without a room id.
	h.feed("INSERT", row("otherroom1", "u2", "mallory", nil), nil)
	h.feed("UPDATE", row("otherroom1", "u1", "alice", "2026-01-01T12:05:00+00:00"), nil)
	h.feed("DELETE", nil, map[string]any{"room_id": "otherroom1", "user_id": "u1"})
	h.feed("DELETE", nil, map[string]any{"user_id": "u1"})
	h.feed("INSERT", map[string]any{"user_id": "u3", "username": "eve"}, nil)
	if got := h.names(); len(got) != 1 || got[0] != "alice" {
		t.Fatalf("members %q, want only alice", got)
	}
	if got := h.notices(t); len(got) != 1 || got[0] != "alice joined" {
		t.Fatalf("notices %q, want only \"alice joined\"", got)
	}
}

func TestSoftLeave(t *testing.T) {
	h := newMemberHarness(t)
	h.feed("INSERT", row("room000001", "u1", "alice", nil), nil)
	h.feed("INSERT", row("room000001", "u2", "bob", nil), nil)
	// bob leaves softly: an UPDATE that sets left_at.
	h.feed("UPDATE", row("room000001", "u2", "bob", "2026-01-01T12:05:00+00:00"), nil)
	if got := h.names(); len(got) != 1 || got[0] != "alice" {
		t.Fatalf("after bob's soft leave: %q", got)
	}
	// He comes back: the same row with left_at null again.
	h.feed("UPDATE", row("room000001", "u2", "bob", nil), nil)
	// alice leaves the old way: a DELETE of her row in this room.
	h.feed("DELETE", nil, map[string]any{"room_id": "room000001", "user_id": "u1"})
	if got := h.names(); len(got) != 1 || got[0] != "bob" {
		t.Fatalf("after alice's delete: %q", got)
	}
	// A second leave of someone already gone says nothing.
	h.feed("UPDATE", row("room000001", "u1", "alice", "2026-01-01T12:06:00+00:00"), nil)
	want := []string{"alice joined", "bob joined", "bob left", "bob joined", "alice left"}
	if got := h.notices(t); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("notices %q, want %q", got, want)
	}
}

func TestListedMembersWhoLeftAreDropped(t *testing.T) {
	h := newMemberHarness(t)
	for _, m := range decodeMembers([]map[string]any{row("room000001", "u1", "alice", nil),
		row("room000001", "u2", "bob", "2026-01-01T12:05:00+00:00"), row("otherroom1", "u3", "mallory", nil)}) {
		h.e.pres.putListedMember(m, "room000001")
	}
	if got := h.names(); len(got) != 1 || got[0] != "alice" {
		t.Fatalf("from a join reply: %q, want alice only", got)
	}
	// A later state read says alice has left meanwhile.
	h.e.applySync(roomSync{Members: decodeMembers([]map[string]any{
		row("room000001", "u1", "alice", "2026-01-01T12:05:00+00:00"), row("room000001", "u4", "dave", nil)})}, "room000001")
	if got := h.names(); len(got) != 1 || got[0] != "dave" {
		t.Fatalf("after a sync state: %q, want dave only", got)
	}
}

func TestRoomMediaAcceptance(t *testing.T) {
	ctx := context.Background()
	asked := 0
	yes := Options{ConfirmMedia: func(context.Context, string) (bool, error) { asked++; return true, nil }}
	for _, u := range []string{
		"av://lavfi:sine=frequency=440,metadata=mode=print:file=/home/u/.bashrc",
		"edl://%10%/etc/passwd,0,1", "file:///etc/passwd", "/etc/passwd", "fd://0", "memory://x",
		"http://example.com/\x1b]0;pwned\x07", "https://example.com/a b",
	} {
		err := acceptRoomMedia(ctx, yes, u)
		if !errors.Is(err, ErrRoomMediaRefused) {
			t.Errorf("%q: %v, want ErrRoomMediaRefused", u, err)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, "--media") || strings.ContainsAny(msg, "\x1b\x07\n") {
			t.Errorf("%q: message %q", u, msg)
		}
	}
	if asked != 0 {
		t.Fatalf("the user was asked about %d refused URLs", asked)
	}
	ok := "https://example.com/film.mp4"
	if err := acceptRoomMedia(ctx, yes, ok); err != nil || asked != 1 {
		t.Fatalf("accepted URL: %v (asked %d)", err, asked)
	}
	if err := acceptRoomMedia(ctx, Options{}, ok); !errors.Is(err, ErrRoomMediaNotAccepted) {
		t.Fatalf("no ConfirmMedia: %v", err)
	}
	no := Options{ConfirmMedia: func(context.Context, string) (bool, error) { return false, nil }}
	if err := acceptRoomMedia(ctx, no, ok); !errors.Is(err, ErrRoomMediaNotAccepted) {
		t.Fatalf("declined: %v", err)
	}
	boom := errors.New("no terminal")
	fail := Options{ConfirmMedia: func(context.Context, string) (bool, error) { return false, boom }}
	if err := acceptRoomMedia(ctx, fail, ok); !errors.Is(err, boom) {
		t.Fatalf("failing prompt: %v", err)
	}
}

func TestCheckUsername(t *testing.T) {
	for _, bad := range []string{"", "   ", "\x1b[2J\x1b[H", "\u202e\u200f", "system", "SYSTEM", " System ",
		"sys\x00tem", "\x1b[1msystem\x1b[0m", strings.Repeat("a", MaxUsernameLen+1)} {
		if _, err := CheckUsername(bad); !errors.Is(err, ErrInvalidUsername) {
			t.Errorf("CheckUsername(%q) = %v, want ErrInvalidUsername", bad, err)
		}
	}
	for in, want := range map[string]string{"alice": "alice", "  bob\t": "bob", "Zoë 🎬": "Zoë 🎬",
		"systems": "systems", "\x1b[31mred\x1b[0m": "red", strings.Repeat("é", MaxUsernameLen): strings.Repeat("é", MaxUsernameLen)} {
		if got, err := CheckUsername(in); err != nil || got != want {
			t.Errorf("CheckUsername(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestRoomChannelIsPrivate(t *testing.T) {
	o := roomChannelOptions("u1")
	if !o.Private || o.PresenceKey != "u1" || !o.BroadcastSelf {
		t.Fatalf("room channel options %+v", o)
	}
}

// The session's member view of a member reporting an absurd position stays finite.
func TestAbsurdMemberPosition(t *testing.T) {
	h := newMemberHarness(t)
	h.e.room = party.RoomState{IsPlaying: true, UpdatedAt: time.Now().Add(-time.Hour), PlaybackRate: 4, StateVersion: 1}
	r := row("room000001", "u1", "alice", nil)
	r["current_time"], r["last_seen"] = 1e308, time.Now().UTC().Format(time.RFC3339Nano)
	h.feed("INSERT", r, nil)
	m, _ := h.e.pres.members.Get("u1")
	v := h.s.memberView(h.e, m, time.Now())
	if v.Position != party.MaxPosition || v.DriftMS < 0 || v.DriftMS > party.MaxPosition*1000 {
		t.Fatalf("member view %+v", v)
	}
}
