//go:build !windows

package room

import (
	"context"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/watchparty/watchparty/player"
)

// These shutdown tests need a real mpv (they skip without one): leaving a session attached to
// the user's mpv (--mpv-socket) ends at once and leaves that mpv running; leaving with our own
// mpv hung (SIGSTOP) kills it within the bound.

// lavfiClip is a generated video: no file needed.
const lavfiClip = "av://lavfi:testsrc=size=64x64:rate=25:d=600"

func needMPV(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("mpv"); err != nil {
		t.Skip("needs mpv on PATH")
	}
}

// joinWith joins the in-memory room as its host with p as our mpv, and drains the events.
func joinWith(t *testing.T, ctx context.Context, p *player.Player) (*Session, chan struct{}) {
	t.Helper()
	be := newMemBackend(selfID, "room000001", selfID)
	s, err := join(ctx, be, Options{RoomID: "room000001", Username: "me"}, p)
	if err != nil {
		p.Close()
		t.Fatal(err)
	}
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		for range s.Events() {
		}
	}()
	return s, closed
}

func TestLeaveAttachedMPV(t *testing.T) {
	needMPV(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sock := filepath.Join(t.TempDir(), "mpv.sock")
	cmd := exec.Command("mpv", "--no-config", "--idle=yes", "--pause", "--vo=null", "--ao=null",
		"--input-ipc-server="+sock, lavfiClip)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	p := attachLoaded(t, ctx, sock)
	s, closed := joinWith(t, ctx, p)
	start := time.Now()
	if err := s.Leave(ctx); err != nil {
		t.Fatal(err)
	}
	<-closed
	took := time.Since(start)
	t.Logf("left in %v", took.Round(time.Millisecond))
	if took > 2*time.Second {
		t.Fatalf("leave took %v", took)
	}
	// The user's mpv keeps running and still answers.
	if err := cmd.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("the attached mpv is gone: %v", err)
	}
	again, err := player.Attach(ctx, sock)
	if err != nil {
		t.Fatalf("the attached mpv no longer answers: %v", err)
	}
	again.Close()
}

func TestLeaveHungOwnMPV(t *testing.T) {
	needMPV(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	p, err := player.Launch(ctx, player.LaunchOptions{ExtraArgs: []string{"--vo=null", "--ao=null"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Load(ctx, lavfiClip, 0, true); err != nil {
		p.Close()
		t.Fatal(err)
	}
	s, closed := joinWith(t, ctx, p)
	pid := p.Pid()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := s.Leave(ctx); err != nil {
		t.Fatal(err)
	}
	<-closed
	took := time.Since(start)
	t.Logf("left in %v", took.Round(time.Millisecond))
	if took > 2*time.Second {
		t.Fatalf("leave took %v", took)
	}
	if err := syscall.Kill(pid, 0); err == nil {
		t.Fatalf("our hung mpv (pid %d) is still running", pid)
	}
}

// attachLoaded attaches to the mpv listening on sock once it has loaded its file, retrying
// until ctx ends.
func attachLoaded(t *testing.T, ctx context.Context, sock string) *player.Player {
	t.Helper()
	for {
		p, err := player.Attach(ctx, sock)
		if err == nil && p.State().Loaded {
			return p
		}
		if p != nil {
			p.Close()
		}
		if ctx.Err() != nil {
			t.Fatalf("attach: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
