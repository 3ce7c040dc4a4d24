//go:build !windows

package room_test

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/watchparty/watchparty/room"
)

// These tests run whole parties: the embedded server on loopback, real WebSockets, and one
// real mpv (--vo=null --ao=null) per member playing an ffmpeg-made clip. Every position is
// read from mpv itself over a second IPC connection (a probe), not from the session.

// TestFollowHost: a host and two followers; play, pause, seek forward and back, a rate
// change, a follower joining late, and a follower that pauses in mpv's window (detached)
// and then syncs to live.
func TestFollowHost(t *testing.T) {
	p := newParty(t)
	host := p.host("host")
	roomID := host.Session.Snapshot().RoomID
	a := p.join(roomID, "alice")

	// The room starts paused at 0: alice is paused there too.
	p.waitSynced(5*time.Second, "alice at the paused start", host, a)
	if !a.probe.Paused() {
		t.Fatal("alice's mpv plays while the room is paused")
	}

	// Play.
	if err := host.Session.TogglePlay(p.ctx); err != nil {
		t.Fatalf("play: %v", err)
	}
	p.waitSynced(5*time.Second, "alice after play", host, a)

	// A follower joining late starts where the room is, not at 0.
	p.waitFor(10*time.Second, "host past 3 s", func() (bool, string) {
		pos := p.position(host)
		return pos > 3, fmt.Sprintf("host at %.3f", pos)
	})
	b := p.join(roomID, "bob")
	if pos := p.position(b); pos < 2.5 {
		t.Errorf("bob joined late but his mpv starts at %.3f", pos)
	}
	p.waitSynced(5*time.Second, "bob after joining late", host, a, b)
	if snap := b.Session.Snapshot(); snap.IsHost || snap.Sync.Mode != room.ModeFollowing || !snap.Playing {
		t.Errorf("bob's snapshot: host %v, mode %s, playing %v; want a playing follower", snap.IsHost, snap.Sync.Mode, snap.Playing)
	}

	// Pause, then play again.
	if err := host.Session.TogglePlay(p.ctx); err != nil {
		t.Fatalf("pause: %v", err)
	}
	p.waitSynced(3*time.Second, "followers after pause", host, a, b)
	if !a.probe.Paused() || !b.probe.Paused() {
		t.Fatal("a follower plays after the host paused")
	}
	if err := host.Session.TogglePlay(p.ctx); err != nil {
		t.Fatalf("play: %v", err)
	}
	p.waitSynced(3*time.Second, "followers after play", host, a, b)

	// Seek forward, then back.
	before := p.position(host)
	if err := host.Session.SeekTo(p.ctx, before+20); err != nil {
		t.Fatalf("seek forward: %v", err)
	}
	p.waitSynced(5*time.Second, "followers after seeking forward", host, a, b)
	if pos := p.position(a); pos < before+20 {
		t.Errorf("alice at %.3f after the host seeked to %.3f", pos, before+20)
	}
	fwd := p.position(host)
	if err := host.Session.SeekBy(p.ctx, -15); err != nil {
		t.Fatalf("seek back: %v", err)
	}
	p.waitSynced(5*time.Second, "followers after seeking back", host, a, b)
	if pos := p.position(b); pos > fwd-10 {
		t.Errorf("bob at %.3f after the host seeked back from %.3f to %.3f", pos, fwd, fwd-15)
	}

	// Rate change: followers play at 1.5x (within the ±5 % nudge) and stay with the host.
	for _, rate := range []float64{1.5, 1} {
		if err := host.Session.SetRate(p.ctx, rate); err != nil {
			t.Fatalf("set rate %g: %v", rate, err)
		}
		p.waitFor(3*time.Second, fmt.Sprintf("followers at speed %g", rate), func() (bool, string) {
			for _, f := range []*member{a, b} {
				s, err := f.probe.Read(p.ctx)
				if err != nil {
					return false, err.Error()
				}
				if math.Abs(s.Speed-rate) > rate*0.051 {
					return false, fmt.Sprintf("%s at speed %.3f", f.Name, s.Speed)
				}
			}
			return true, ""
		})
		p.waitSynced(5*time.Second, fmt.Sprintf("followers at rate %g", rate), host, a, b)
		if got := a.Session.Snapshot().Rate; got != rate {
			t.Errorf("alice's room rate is %g, want %g", got, rate)
		}
	}

	// Alice pauses in mpv's own window: she is detached and left alone while the room
	// plays on; bob keeps following.
	if err := a.probe.SetPause(p.ctx, true); err != nil {
		t.Fatalf("pause alice's mpv: %v", err)
	}
	p.waitFor(3*time.Second, "alice detached", func() (bool, string) {
		m := mode(a)
		return m == room.ModeDetached, "alice's mode is " + string(m)
	})
	p.notice(a, "detached", 3*time.Second)
	p.holds(1500*time.Millisecond, "a detached follower is not corrected", func() (bool, string) {
		if !a.probe.Paused() {
			return false, "alice's mpv was resumed while detached"
		}
		if m := mode(a); m != room.ModeDetached {
			return false, "alice's mode changed to " + string(m)
		}
		return true, ""
	})
	if ok, why := p.synced(host, b); !ok {
		t.Errorf("bob stopped following while alice was detached: %s", why)
	}
	if ok, _ := p.synced(host, a); ok {
		t.Fatal("alice is paused but reads as in sync with the playing host")
	}

	// Sync to live: alice follows again.
	if err := a.Session.SyncToLive(p.ctx); err != nil {
		t.Fatalf("sync to live: %v", err)
	}
	p.waitFor(3*time.Second, "alice following after sync to live", func() (bool, string) {
		m := mode(a)
		return m == room.ModeFollowing, "alice's mode is " + string(m)
	})
	p.waitSynced(5*time.Second, "alice after sync to live", host, a, b)

	// A follower may not control the room.
	if err := b.Session.TogglePlay(p.ctx); !errors.Is(err, room.ErrNotHost) {
		t.Errorf("bob's TogglePlay: %v, want ErrNotHost", err)
	}
	for _, m := range []*member{b, a, host} {
		if err := m.Leave(p.ctx); err != nil {
			t.Errorf("%s leaves: %v", m.Name, err)
		}
	}
	for _, m := range []*member{host, a, b} {
		select {
		case <-m.probe.Done():
		case <-time.After(5 * time.Second):
			t.Errorf("%s's mpv still runs after leaving", m.Name)
		}
	}
}

// TestHostLeaves: when the host leaves, the longest-present follower becomes the host, is
// told so, and the other follower follows the new host.
func TestHostLeaves(t *testing.T) {
	p := newParty(t)
	host := p.host("host")
	roomID := host.Session.Snapshot().RoomID
	a := p.join(roomID, "alice") // present longest
	b := p.join(roomID, "bob")
	if err := host.Session.TogglePlay(p.ctx); err != nil {
		t.Fatalf("play: %v", err)
	}
	p.waitSynced(5*time.Second, "followers after play", host, a, b)

	if err := host.Leave(p.ctx); err != nil {
		t.Fatalf("host leaves: %v", err)
	}
	p.notice(a, "you are now the host", 5*time.Second)
	p.notice(b, "alice is now the host", 5*time.Second)
	p.waitFor(3*time.Second, "alice's snapshot says host", func() (bool, string) {
		s := a.Session.Snapshot()
		return s.IsHost && s.Sync.Mode == room.ModeHost, fmt.Sprintf("alice: host %v, mode %s", s.IsHost, s.Sync.Mode)
	})
	p.waitFor(3*time.Second, "bob sees alice as host", func() (bool, string) {
		s := b.Session.Snapshot()
		return s.HostID == a.Session.Snapshot().SelfID && !s.IsHost, fmt.Sprintf("bob: host id %s, is host %v", s.HostID, s.IsHost)
	})
	select {
	case <-host.probe.Done():
	case <-time.After(5 * time.Second):
		t.Error("the old host's mpv still runs after leaving")
	}

	// The new host's actions reach bob; the playing room never stopped for him.
	p.waitSynced(5*time.Second, "bob with the new host", a, b)
	if err := a.Session.SeekBy(p.ctx, 10); err != nil {
		t.Fatalf("new host seeks: %v", err)
	}
	p.waitSynced(5*time.Second, "bob after the new host's seek", a, b)
	if err := a.Session.TogglePlay(p.ctx); err != nil {
		t.Fatalf("new host pauses: %v", err)
	}
	p.waitSynced(3*time.Second, "bob after the new host's pause", a, b)
	if !b.probe.Paused() {
		t.Error("bob plays after the new host paused")
	}
	if err := b.Session.SeekTo(p.ctx, 1); !errors.Is(err, room.ErrNotHost) {
		t.Errorf("bob's SeekTo: %v, want ErrNotHost", err)
	}
}

// TestServerRestart: the server stops mid-play and comes back on the same port and data;
// everyone keeps playing meanwhile, reconnects, resyncs within 15 s and follows the host's
// next actions.
func TestServerRestart(t *testing.T) {
	p := newParty(t)
	host := p.host("host")
	roomID := host.Session.Snapshot().RoomID
	a := p.join(roomID, "alice")
	b := p.join(roomID, "bob")
	if err := host.Session.TogglePlay(p.ctx); err != nil {
		t.Fatalf("play: %v", err)
	}
	p.waitSynced(5*time.Second, "followers after play", host, a, b)

	before := p.position(a)
	if err := p.srv.Stop(); err != nil {
		t.Fatalf("stop server: %v", err)
	}
	p.waitFor(10*time.Second, "followers see the connection drop", func() (bool, string) {
		for _, f := range []*member{a, b} {
			if st := f.Session.Snapshot().Conn.State; st == room.ConnConnected {
				return false, f.Name + " still connected"
			}
		}
		return true, ""
	})
	// The players keep playing without the server, and nobody jumps to 0.
	p.waitFor(5*time.Second, "alice plays on while the server is down", func() (bool, string) {
		pos := p.position(a)
		return pos > before+1 && !a.probe.Paused(), fmt.Sprintf("alice at %.3f (was %.3f), paused %v", pos, before, a.probe.Paused())
	})
	if ok, why := p.synced(host, b); !ok {
		t.Errorf("bob drifted from the host while the server was down: %s", why)
	}
	restarted := time.Now()
	if err := p.srv.Restart(); err != nil {
		t.Fatalf("restart server: %v", err)
	}
	took := p.waitFor(15*time.Second, "everyone reconnected", func() (bool, string) {
		for _, m := range []*member{host, a, b} {
			if st := m.Session.Snapshot().Conn.State; st != room.ConnConnected {
				return false, fmt.Sprintf("%s is %s", m.Name, st)
			}
		}
		return true, ""
	})
	p.waitSynced(15*time.Second-took, "followers resynced after the restart", host, a, b)
	t.Logf("reconnected %s and in sync %s after the restart", took.Round(time.Millisecond), time.Since(restarted).Round(time.Millisecond))

	// The room works again: the host's seek and pause reach everyone.
	if err := host.Session.SeekBy(p.ctx, 15); err != nil {
		t.Fatalf("seek after restart: %v", err)
	}
	p.waitSynced(5*time.Second, "followers after a seek after the restart", host, a, b)
	if err := host.Session.TogglePlay(p.ctx); err != nil {
		t.Fatalf("pause after restart: %v", err)
	}
	p.waitSynced(3*time.Second, "followers after a pause after the restart", host, a, b)
	if !a.probe.Paused() || !b.probe.Paused() {
		t.Error("a follower plays after the host paused")
	}
}

// TestFollowerMPVKilled: a follower's mpv is killed; the session starts a new one at the
// room's position and it follows the room again.
func TestFollowerMPVKilled(t *testing.T) {
	p := newParty(t)
	host := p.host("host")
	a := p.join(host.Session.Snapshot().RoomID, "alice")
	if err := host.Session.TogglePlay(p.ctx); err != nil {
		t.Fatalf("play: %v", err)
	}
	p.waitSynced(5*time.Second, "alice after play", host, a)
	p.waitFor(10*time.Second, "host past 3 s", func() (bool, string) {
		pos := p.position(host)
		return pos > 3, fmt.Sprintf("host at %.3f", pos)
	})

	old := a.pid
	if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
		t.Fatalf("kill alice's mpv: %v", err)
	}
	select {
	case <-a.probe.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("alice's mpv did not die")
	}
	p.notice(a, "mpv exited", 5*time.Second)
	p.notice(a, "mpv restarted", 15*time.Second)
	p.reattach(a)
	if a.pid == old {
		t.Fatalf("alice's mpv has the old pid %d", old)
	}
	p.waitSynced(10*time.Second, "alice's new mpv", host, a)
	if pos := p.position(a); pos < 3 {
		t.Errorf("alice's new mpv is at %.3f: it should start where the room is", pos)
	}
	// It is a working follower: it follows a pause.
	if err := host.Session.TogglePlay(p.ctx); err != nil {
		t.Fatalf("pause: %v", err)
	}
	p.waitSynced(3*time.Second, "alice's new mpv after pause", host, a)
	if !a.probe.Paused() {
		t.Error("alice's new mpv plays after the host paused")
	}
	if n := a.Notices(); !containsText(n, "mpv restarted") {
		t.Errorf("notices %q", n)
	}
}

func containsText(list []string, text string) bool {
	for _, s := range list {
		if strings.Contains(s, text) {
			return true
		}
	}
	return false
}
