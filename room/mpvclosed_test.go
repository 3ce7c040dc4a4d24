//go:build !windows

package room

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/watchparty/watchparty/player"
)

// These tests need a real mpv (they skip without one): the user closing mpv ends the session,
// which leaves the room (Closed with EndMPVClosed); an mpv of ours that crashes is restarted.

// mpvSession is a session on the in-memory backend, hosting with a real mpv, and its events.
type mpvSession struct {
	t  *testing.T
	be *memBackend
	s  *Session
	p  *player.Player // the mpv it started with

	mu     sync.Mutex
	events []Event
	closed chan Closed
}

// launchSession launches mpv (headless) playing a generated clip and joins the in-memory room
// as its host with it.
func launchSession(t *testing.T) *mpvSession {
	t.Helper()
	needMPV(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	mpv := MPV{Args: []string{"--vo=null", "--ao=null"}}
	p, err := player.Launch(ctx, player.LaunchOptions{ExtraArgs: mpv.Args, NoWindow: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Load(ctx, lavfiClip, 0, false); err != nil {
		p.Close()
		t.Fatal(err)
	}
	return startSession(t, ctx, p, Options{Media: lavfiClip, MPV: mpv})
}

// startSession joins the in-memory room as its host with p and records the events.
func startSession(t *testing.T, ctx context.Context, p *player.Player, opts Options) *mpvSession {
	t.Helper()
	m := &mpvSession{t: t, be: newMemBackend(selfID, "room000001", selfID), p: p, closed: make(chan Closed, 1)}
	opts.RoomID, opts.Username = "room000001", "me"
	s, err := join(ctx, m.be, opts, p)
	if err != nil {
		p.Close()
		t.Fatal(err)
	}
	m.s = s
	go func() {
		for ev := range s.Events() {
			m.mu.Lock()
			m.events = append(m.events, ev)
			m.mu.Unlock()
			if c, ok := ev.(Closed); ok {
				m.closed <- c
			}
		}
	}()
	t.Cleanup(func() { s.Close() })
	return m
}

// waitClosed waits for the session's Closed event.
func (m *mpvSession) waitClosed(within time.Duration) Closed {
	m.t.Helper()
	select {
	case c := <-m.closed:
		return c
	case <-time.After(within):
		m.t.Fatalf("the session did not end within %v; notices %q", within, m.notices())
	}
	return Closed{}
}

// waitNotice waits for a notice containing text.
func (m *mpvSession) waitNotice(text string, within time.Duration) {
	m.t.Helper()
	deadline := time.Now().Add(within)
	for !containsNotice(m.notices(), text) {
		if time.Now().After(deadline) {
			m.t.Fatalf("no notice %q within %v; notices %q", text, within, m.notices())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (m *mpvSession) notices() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, ev := range m.events {
		if n, ok := ev.(Notice); ok {
			out = append(out, n.Text)
		}
	}
	return out
}

func containsNotice(list []string, text string) bool {
	for _, s := range list {
		if strings.Contains(s, text) {
			return true
		}
	}
	return false
}

func (m *mpvSession) left() bool {
	m.be.mu.Lock()
	defer m.be.mu.Unlock()
	return m.be.left
}

// mpvCommand sends one command to the mpv listening on socket over a connection of its own,
// as mpv's window or another program would.
func mpvCommand(t *testing.T, socket string, args ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := player.Attach(ctx, socket)
	if err != nil {
		t.Fatalf("attach a second client: %v", err)
	}
	defer c.Close()
	_, _ = c.Command(ctx, args...) // quit may end the connection before its reply
}

// TestUserClosesMPV: the user quits our mpv from its window (the quit command, which q and
// closing the window run; keypress q, as if typed there): mpv exits with status 0, and the
// session leaves the room and ends with EndMPVClosed, without restarting mpv.
func TestUserClosesMPV(t *testing.T) {
	for _, how := range [][]any{{"quit"}, {"keypress", "q"}} {
		t.Run(fmt.Sprint(how), func(t *testing.T) {
			m := launchSession(t)
			pid, socket := m.p.Pid(), m.p.Socket()
			start := time.Now()
			mpvCommand(t, socket, how...)
			c := m.waitClosed(5 * time.Second)
			t.Logf("mpv closed → session ended in %v", time.Since(start).Round(time.Millisecond))
			if c.Err != nil || c.Reason != EndMPVClosed {
				t.Fatalf("Closed = %+v, want no error and EndMPVClosed", c)
			}
			if !m.left() {
				t.Error("the session did not leave the room (rooms/leave not called)")
			}
			if n := m.notices(); containsNotice(n, "restart") {
				t.Errorf("mpv was restarted after the user closed it: notices %q", n)
			}
			if err := m.p.Wait(); err != nil {
				t.Errorf("mpv's exit status: %v, want 0", err)
			}
			if syscall.Kill(pid, 0) == nil {
				t.Errorf("mpv %d still runs", pid)
			}
			// The interface's own Leave afterwards (headless calls it) returns at once, cleanly.
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			if err := m.s.Leave(ctx); err != nil {
				t.Errorf("Leave after the session left: %v", err)
			}
		})
	}
}

// TestOwnMPVKilledIsRestarted: our mpv killed with SIGKILL is a crash: a new mpv starts, the
// session goes on; leaving then stops the new one.
func TestOwnMPVKilledIsRestarted(t *testing.T) {
	m := launchSession(t)
	old := m.p.Pid()
	if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	m.waitNotice("mpv exited (crashed): restarting it", 5*time.Second)
	m.waitNotice("mpv restarted", 15*time.Second)
	select {
	case c := <-m.closed:
		t.Fatalf("the session ended after a crash: %+v", c)
	default:
	}
	if m.left() {
		t.Fatal("the session left the room after a crash")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := m.s.Leave(ctx); err != nil {
		t.Fatal(err)
	}
	if c := m.waitClosed(5 * time.Second); c.Reason != EndLeft {
		t.Errorf("Closed = %+v, want EndLeft", c)
	}
	// The loop has ended (Closed came after it): s.player is the restarted mpv, stopped by Leave.
	p := m.s.player
	if p.Pid() == old {
		t.Fatalf("mpv was not restarted (pid %d)", old)
	}
	if r, _ := p.WaitExit(ctx); r != player.ExitStopped {
		t.Errorf("the restarted mpv ended %v, want stopped by Leave", r)
	}
}

// TestAttachedMPVClosed: the user's own mpv (--mpv-socket) quits: the session cannot restart
// it, so it leaves the room and ends with EndMPVClosed.
func TestAttachedMPVClosed(t *testing.T) {
	needMPV(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sock := filepath.Join(t.TempDir(), "mpv.sock")
	cmd := exec.Command("mpv", "--no-config", "--idle=yes", "--pause", "--vo=null", "--ao=null",
		"--input-ipc-server="+sock, lavfiClip)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var status error
	exited := make(chan struct{})
	go func() { status = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	p := attachLoaded(t, ctx, sock)
	m := startSession(t, ctx, p, Options{})
	mpvCommand(t, sock, "quit")
	c := m.waitClosed(5 * time.Second)
	if c.Err != nil || c.Reason != EndMPVClosed {
		t.Fatalf("Closed = %+v, want no error and EndMPVClosed", c)
	}
	if !m.left() {
		t.Error("the session did not leave the room")
	}
	select {
	case <-exited:
		if status != nil {
			t.Errorf("the attached mpv's exit status: %v, want 0", status)
		}
	case <-time.After(5 * time.Second):
		t.Error("the attached mpv did not quit")
	}
}
