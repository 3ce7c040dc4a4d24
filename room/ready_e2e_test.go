//go:build !windows

package room_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/watchparty/watchparty/room"
)

// TestReadyCheck: a host and two followers with real mpv in a room with the ready check on.
// The host's play holds — no mpv plays and the room stays paused — until the last member is
// ready; then everyone plays. A forced play plays at once.
func TestReadyCheck(t *testing.T) {
	p := newParty(t)
	host := p.host("host")
	roomID := host.Session.Snapshot().RoomID
	a := p.join(roomID, "alice")
	b := p.join(roomID, "bob")
	all := []*member{host, a, b}
	p.waitSynced(10*time.Second, "everyone at the paused start", host, a, b)

	if err := host.Session.SetReadyMode(p.ctx, true); err != nil {
		t.Fatalf("ready mode on: %v", err)
	}
	// Everyone's screen knows the mode, and the host lists both as live and not ready.
	p.waitFor(10*time.Second, "ready mode on every screen, 0/2 ready", func() (bool, string) {
		for _, m := range all {
			if !m.Session.Snapshot().ReadyMode {
				return false, m.Name + " does not show ready mode"
			}
		}
		r, total, names := host.Session.Snapshot().ReadyCounts()
		return r == 0 && total == 2, fmt.Sprintf("host counts %d/%d ready, not ready %v", r, total, names)
	})

	start := time.Now()
	err := host.Session.TogglePlay(p.ctx)
	var nr *room.NotReadyError
	if !errors.As(err, &nr) || nr.Count != 2 {
		t.Fatalf("the host's play in ready mode = %v, want 2 not ready", err)
	}
	p.waitFor(5*time.Second, "the pending start on alice's screen", func() (bool, string) {
		s := a.Session.Snapshot()
		return s.StartPending && !s.Playing, fmt.Sprintf("pending %v, playing %v", s.StartPending, s.Playing)
	})
	if err := a.Session.SetReady(p.ctx, true); err != nil {
		t.Fatalf("alice ready: %v", err)
	}
	p.waitFor(5*time.Second, "alice ready on the host's screen", func() (bool, string) {
		r, total, names := host.Session.Snapshot().ReadyCounts()
		return r == 1 && total == 2, fmt.Sprintf("%d/%d, not ready %v", r, total, names)
	})
	// One still not ready: nobody's mpv has played since the host asked, and the room waits.
	p.noResume(all, start, 1500*time.Millisecond)
	for _, m := range all {
		if s := m.Session.Snapshot(); s.Playing || !s.StartPending {
			t.Fatalf("%s: the room plays (%v) or no longer waits (%v) with bob not ready", m.Name, s.Playing, s.StartPending)
		}
	}

	if err := b.Session.SetReady(p.ctx, true); err != nil {
		t.Fatalf("bob ready: %v", err)
	}
	p.waitFor(10*time.Second, "every mpv playing after the last one was ready", func() (bool, string) {
		for _, m := range all {
			if m.probe.Paused() {
				return false, m.Name + "'s mpv is paused"
			}
		}
		return true, ""
	})
	p.waitSynced(10*time.Second, "followers after the start", host, a, b)
	if s := host.Session.Snapshot(); !s.Playing || s.StartPending {
		t.Fatalf("host's snapshot after the start: playing %v, pending %v", s.Playing, s.StartPending)
	}

	// Pause; bob is not ready again; the host's play holds, and a forced one plays at once.
	if err := host.Session.TogglePlay(p.ctx); err != nil {
		t.Fatalf("pause: %v", err)
	}
	p.waitSynced(10*time.Second, "everyone paused", host, a, b)
	if err := b.Session.SetReady(p.ctx, false); err != nil {
		t.Fatalf("bob not ready: %v", err)
	}
	p.waitFor(5*time.Second, "bob not ready on the host's screen", func() (bool, string) {
		r, _, names := host.Session.Snapshot().ReadyCounts()
		return r == 1, fmt.Sprintf("not ready %v", names)
	})
	if err := host.Session.TogglePlay(p.ctx); !errors.As(err, &nr) || nr.Count != 1 || nr.Names[0] != "bob" {
		t.Fatalf("play with bob not ready = %v", err)
	}
	forced := time.Now()
	if err := host.Session.ForcePlay(p.ctx); err != nil {
		t.Fatalf("forced play: %v", err)
	}
	for _, m := range all {
		ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
		_, err := m.probe.WaitPaused(ctx, false, forced)
		cancel()
		if err != nil {
			t.Fatalf("%s's mpv did not play after the forced start: %v", m.Name, err)
		}
	}
	p.waitSynced(10*time.Second, "followers after the forced start", host, a, b)
}

// noResume checks that no member's mpv reported playing since since, for d.
func (p *party) noResume(ms []*member, since time.Time, d time.Duration) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, d)
	defer cancel()
	for _, m := range ms {
		if at, err := m.probe.WaitPaused(ctx, false, since); err == nil {
			p.t.Fatalf("%s's mpv played at %s while the room waited for everyone", m.Name, at.Format("15:04:05.000"))
		}
		if !m.probe.Paused() {
			p.t.Fatalf("%s's mpv is not paused while the room waits", m.Name)
		}
	}
}
