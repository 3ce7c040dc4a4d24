//go:build !windows

package player

import (
	"context"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// How mpv ended, as WaitExit tells it: what the user does in mpv's window (the quit command
// that q and closing the window run) is ExitQuit; a kill is ExitCrashed; Close is ExitStopped.
func TestExitReason(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		end  func(t *testing.T, p *Player)
		want ExitReason
	}{
		{"quit", func(t *testing.T, p *Player) { command(t, p, "quit") }, ExitQuit},
		{"quit 4 (Ctrl+C in mpv's window)", func(t *testing.T, p *Player) { command(t, p, "quit", 4) }, ExitQuit},
		{"SIGTERM", func(t *testing.T, p *Player) { signal(t, p, syscall.SIGTERM) }, ExitQuit},
		{"SIGINT (Ctrl-C in our terminal)", func(t *testing.T, p *Player) { signal(t, p, syscall.SIGINT) }, ExitQuit},
		{"SIGHUP (the terminal closed)", func(t *testing.T, p *Player) { signal(t, p, syscall.SIGHUP) }, ExitQuit},
		{"SIGABRT", func(t *testing.T, p *Player) { signal(t, p, syscall.SIGABRT) }, ExitCrashed},
		{"quit 1", func(t *testing.T, p *Player) { command(t, p, "quit", 1) }, ExitCrashed},
		{"SIGKILL", func(t *testing.T, p *Player) { signal(t, p, syscall.SIGKILL) }, ExitCrashed},
		{"SIGSEGV", func(t *testing.T, p *Player) { signal(t, p, syscall.SIGSEGV) }, ExitCrashed},
		{"Close", func(t *testing.T, p *Player) { p.Close() }, ExitStopped},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := launchTest(t, LaunchOptions{})
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if r, err := p.WaitExit(ctx0()); r != ExitUnknown || err == nil {
				t.Fatalf("WaitExit while mpv runs = %v, %v; want unknown and the context's error", r, err)
			}
			tc.end(t, p)
			if tc.want != ExitStopped { // Close drops the events not yet read
				waitEvent(t, p, EventClosed, 5*time.Second)
			}
			r, err := p.WaitExit(ctx)
			if err != nil {
				t.Fatalf("WaitExit: %v", err)
			}
			if r != tc.want {
				t.Errorf("exit reason %v (Wait: %v), want %v", r, p.Wait(), tc.want)
			}
		})
	}
}

// An mpv we only attached to is not ours: its exit reason is unknown.
func TestExitReasonAttached(t *testing.T) {
	t.Parallel()
	needMPV(t)
	sock := filepath.Join(t.TempDir(), "mpv.sock")
	cmd := exec.Command("mpv", "--no-config", "--idle=yes", "--vo=null", "--ao=null", "--input-ipc-server="+sock)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var p *Player
	for {
		var err error
		if p, err = Attach(ctx, sock); err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("attach: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	defer p.Close()
	command(t, p, "quit")
	if r, err := p.WaitExit(ctx); r != ExitUnknown || err != nil {
		t.Errorf("WaitExit = %v, %v; want unknown, nil", r, err)
	}
}

func command(t *testing.T, p *Player, args ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = p.Command(ctx, args...) // quit may close the connection before its reply
}

func signal(t *testing.T, p *Player, sig syscall.Signal) {
	t.Helper()
	if err := syscall.Kill(p.Pid(), sig); err != nil {
		t.Fatal(err)
	}
}

// ctx0 is a context that has already ended.
func ctx0() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}
