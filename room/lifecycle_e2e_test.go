//go:build !windows

package room_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	wp "github.com/watchparty/watchparty/party"
	"github.com/watchparty/watchparty/room"
)

// These tests are the party surviving real life (docs/api.md, "Membership and liveness"), with
// the server's default liveness times (stale 15 s, gone 45 s), real mpv and real sockets.

func (p *party) systemComment(m *member, text string, timeout time.Duration) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, timeout)
	defer cancel()
	if err := m.WaitSystemComment(ctx, text); err != nil {
		p.t.Fatal(err)
	}
}

// members reads the room's current members as m's user sees them (a script's status).
func (p *party) members(m *member, roomID string) []wp.Member {
	p.t.Helper()
	r, err := room.Connect(p.ctx, m.Server)
	if err != nil {
		p.t.Fatal(err)
	}
	defer r.Close()
	st, err := r.Status(p.ctx, roomID)
	if err != nil {
		p.t.Fatalf("%s: status: %v", m.Name, err)
	}
	return st.MemberList
}

func names(ms []wp.Member) string {
	out := ""
	for _, m := range ms {
		out += fmt.Sprintf("%s(%s,announced=%v) ", m.Username, m.Role, m.Announced)
	}
	return out
}

// A host who crashes (no leave, no beat: kill -9, a closed lid) is replaced by the
// longest-present member within stale_after and a sweep; everyone is told why; the new host
// can pause; the owner, back, is host again and announced.
func TestCrashedHostIsReplaced(t *testing.T) {
	p := newParty(t)
	alice := p.host("alice")
	roomID := alice.Session.Snapshot().RoomID
	bob := p.join(roomID, "bob")
	carol := p.join(roomID, "carol")
	if err := alice.Session.TogglePlay(p.ctx); err != nil {
		t.Fatal(err)
	}
	p.waitSynced(5*time.Second, "everyone playing", alice, bob, carol)

	crashed := time.Now()
	alice.Close() // no leave: the server only stops hearing from alice
	took := p.waitFor(25*time.Second, "bob becomes host", func() (bool, string) {
		snap := bob.Session.Snapshot()
		return snap.IsHost, fmt.Sprintf("bob's snapshot: host %v", snap.IsHost)
	})
	t.Logf("host replaced %.1f s after the crash", time.Since(crashed).Seconds())
	if took > 20*time.Second {
		t.Errorf("the host was replaced after %v, want within 20 s", took)
	}
	for _, m := range []*member{bob, carol} {
		p.systemComment(m, "bob is now the host (alice went quiet)", 5*time.Second)
	}
	// The new host can pause everyone.
	if err := bob.Session.TogglePlay(p.ctx); err != nil {
		t.Fatalf("pause by the new host: %v", err)
	}
	p.waitFor(3*time.Second, "carol paused", func() (bool, string) {
		return carol.probe.Paused(), "carol's mpv plays"
	})

	// The owner comes back (a restarted `watchparty join`): host again, announced.
	back, err := p.pt.JoinAs(p.ctx, roomID, alice.Member)
	if err != nil {
		t.Fatal(err)
	}
	aliceBack := p.attach(back)
	p.waitFor(5*time.Second, "alice host again", func() (bool, string) {
		return aliceBack.Session.Snapshot().IsHost && !bob.Session.Snapshot().IsHost, "not yet"
	})
	for _, m := range []*member{bob, carol} {
		p.systemComment(m, "alice is back and is the host again", 5*time.Second)
	}
	if err := aliceBack.Session.TogglePlay(p.ctx); err != nil {
		t.Fatalf("play by the owner back: %v", err)
	}
	p.waitSynced(5*time.Second, "everyone follows the owner again", aliceBack, bob, carol)
}

// Two processes of one person (the screen and a headless logger): the second leaving leaves
// the first a member and still the host.
func TestSecondWindowLeaves(t *testing.T) {
	p := newParty(t)
	alice := p.host("alice")
	roomID := alice.Session.Snapshot().RoomID
	bob := p.join(roomID, "bob")
	second, err := p.pt.JoinAs(p.ctx, roomID, alice.Member)
	if err != nil {
		t.Fatal(err)
	}
	if err := second.Leave(p.ctx); err != nil {
		t.Fatalf("second window's leave: %v", err)
	}
	if ms := p.members(bob, roomID); len(ms) != 2 || ms[0].Username != "alice" || ms[0].Role != wp.RoleHost {
		t.Fatalf("after alice's second window left: %s", names(ms))
	}
	if !alice.Session.Snapshot().IsHost {
		t.Fatal("alice's screen no longer says she leads the room")
	}
	if err := alice.Session.TogglePlay(p.ctx); err != nil {
		t.Fatalf("alice's play after her second window left: %v", err)
	}
	p.waitSynced(5*time.Second, "bob follows alice", alice, bob)
}

// A join the server accepted but that fails afterwards (here: a room with no media URL and no
// --media) leaves no member behind and never shows "joined".
func TestFailedJoinLeavesNoTrace(t *testing.T) {
	p := newParty(t)
	alice := p.host("alice")
	roomID := alice.Session.Snapshot().RoomID
	srv := room.Server{URL: p.srv.URL, AnonKey: p.srv.AnonKey, SessionDir: t.TempDir()}
	_, err := room.Join(p.ctx, srv, room.Options{RoomID: roomID, Username: "ghost",
		MPV: room.MPV{Args: []string{"--vo=null", "--ao=null"}}})
	if err == nil {
		t.Fatal("a join without media to a room without a URL succeeded")
	}
	// A barrier: alice's own comment comes after anything the failed join caused.
	if err := alice.Session.Comment(p.ctx, "barrier"); err != nil {
		t.Fatal(err)
	}
	bob := p.join(roomID, "bob")
	p.systemComment(alice, "bob joined the room", 5*time.Second)
	for _, c := range alice.SystemComments() {
		if c == "ghost joined the room" || c == "ghost left the room" {
			t.Errorf("the failed join showed: %q", alice.SystemComments())
		}
	}
	for _, m := range p.members(bob, roomID) {
		if m.Username == "ghost" {
			t.Fatalf("the failed join left a member: %s", names(p.members(bob, roomID)))
		}
	}
	for _, m := range alice.Session.Snapshot().Members {
		if m.Name == "ghost" {
			t.Fatal("alice's screen lists the failed joiner")
		}
	}
}

// `watchparty host --room R` after a crash resumes R: the owner is host again at once and the
// followers are still in the same room.
func TestHostResumesRoom(t *testing.T) {
	p := newParty(t)
	alice := p.host("alice")
	roomID := alice.Session.Snapshot().RoomID
	bob := p.join(roomID, "bob")
	alice.Close() // crash
	back, err := p.pt.HostAgain(p.ctx, roomID, alice.Member)
	if err != nil {
		t.Fatal(err)
	}
	aliceBack := p.attach(back)
	if snap := aliceBack.Session.Snapshot(); !snap.IsHost || snap.RoomID != roomID {
		t.Fatalf("resumed session: host %v in %s, want host of %s", snap.IsHost, snap.RoomID, roomID)
	}
	p.waitFor(5*time.Second, "bob follows the resumed host", func() (bool, string) {
		snap := bob.Session.Snapshot()
		return snap.RoomID == roomID && !snap.IsHost && hostName(snap) == "alice", "bob's host: " + hostName(snap)
	})
	if err := aliceBack.Session.TogglePlay(p.ctx); err != nil {
		t.Fatal(err)
	}
	p.waitSynced(5*time.Second, "bob follows the resumed room", aliceBack, bob)
}

func hostName(s room.Snapshot) string {
	for _, m := range s.Members {
		if m.IsHost {
			return m.Name
		}
	}
	return ""
}

// A comment reaches the other member's mpv OSD, its text passed to mpv as typed: mpv's log
// shows the show-text command with ${path} and {\an8} literally (an array-form IPC command is
// not property-expanded, and without mpv's ASS escape byte the tags are plain text).
func TestCommentOnTheVideo(t *testing.T) {
	p := newParty(t)
	alice := p.host("alice")
	roomID := alice.Session.Snapshot().RoomID
	logFile := filepath.Join(t.TempDir(), "bob-mpv.log")
	p.pt.MPVArgs = []string{"--vo=null", "--ao=null", "--log-file=" + logFile, "--msg-level=cplayer=trace"}
	bob := p.join(roomID, "bob")
	p.pt.MPVArgs = nil // only bob's mpv writes the log
	text := `look at ${path} {\an8}here`
	if err := alice.Session.Comment(p.ctx, text); err != nil {
		t.Fatal(err)
	}
	p.waitFor(10*time.Second, "bob's mpv shows the comment", func() (bool, string) {
		b, _ := os.ReadFile(logFile)
		// mpv logs show-text at trace level, with backslashes doubled.
		return strings.Contains(string(b), `show-text`) && strings.Contains(string(b), `text="alice: look at ${path} {\\an8}here"`),
			"not in mpv's log yet: " + grepShow(b)
	})
	// Off: the next comment is not shown; on again: the one after is.
	if bob.Session.ToggleOSD() {
		t.Fatal("ToggleOSD turned comments on the video on; they were on")
	}
	if err := alice.Session.Comment(p.ctx, "second one"); err != nil {
		t.Fatal(err)
	}
	p.systemComment(bob, "bob joined the room", 5*time.Second)
	carol := p.join(roomID, "carol") // bob's stream: "second one", then carol's join
	p.systemComment(bob, "carol joined the room", 5*time.Second)
	if !bob.Session.ToggleOSD() {
		t.Fatal("ToggleOSD did not turn comments on the video back on")
	}
	if err := carol.Session.Comment(p.ctx, "third one"); err != nil {
		t.Fatal(err)
	}
	p.waitFor(10*time.Second, "bob's mpv shows the third comment", func() (bool, string) {
		b, _ := os.ReadFile(logFile)
		return strings.Contains(string(b), "carol: third one"), "not in mpv's log yet"
	})
	if b, _ := os.ReadFile(logFile); strings.Contains(string(b), "second one") {
		t.Fatal("a comment reached the OSD with comments on the video off")
	}
}

// grepShow returns the show-text lines of an mpv log (for a failure message).
func grepShow(b []byte) string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, "show-text") || strings.Contains(l, "Run command") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
