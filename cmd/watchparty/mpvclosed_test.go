//go:build !windows

package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/watchparty/watchparty/bench/syncbench"
	"github.com/watchparty/watchparty/player"
	"github.com/watchparty/watchparty/room"
	"github.com/watchparty/watchparty/server"
)

// lockedBuffer is a bytes.Buffer safe to read while a process writes to it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestJoinEndsWhenMPVIsClosed: `watchparty join --headless` against a real server, with a real
// mpv; the user quits mpv (the quit command that q and closing its window run): join says so,
// leaves the room and exits with status 0.
func TestJoinEndsWhenMPVIsClosed(t *testing.T) {
	if err := syncbench.NeedPrograms(); err != nil {
		t.Skipf("needs mpv and ffmpeg: %v", err)
	}
	srv, err := server.Start(server.Config{DataDir: filepath.Join(t.TempDir(), "data")}, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	dir := t.TempDir()
	clip := filepath.Join(dir, "clip.mp4")
	if err := syncbench.MakeClip(clip, 20); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "WATCHPARTY_SERVER="+srv.URL, "WATCHPARTY_HOME="+filepath.Join(dir, "home"), "NO_COLOR=1")
	wp := func(args ...string) *exec.Cmd {
		cmd := exec.Command("watchparty", args...) // the test binary (testscript.Main puts it on PATH)
		cmd.Env = env
		return cmd
	}
	out, err := wp("create", "--name", "alice", "--media", clip).Output()
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	roomID := strings.TrimSpace(string(out))

	sock := filepath.Join(dir, "mpv.sock")
	join := wp("join", roomID, "--name", "alice", "--media", clip, "--headless", "--mpv-socket", sock,
		"--mpv-arg=--vo=null", "--mpv-arg=--ao=null")
	var stdout, stderr lockedBuffer
	join.Stdout, join.Stderr = &stdout, &stderr
	if err := join.Start(); err != nil {
		t.Fatal(err)
	}
	var joinErr error
	exited := make(chan struct{})
	go func() { joinErr = join.Wait(); close(exited) }()
	defer func() {
		_ = join.Process.Kill() // when the test failed before join ended
		<-exited
	}()

	// Joined, with mpv playing the clip.
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(stdout.String(), "connected") {
		select {
		case <-exited:
			t.Fatalf("join ended early: %v\nstdout:\n%s\nstderr:\n%s", joinErr, stdout.String(), stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("join did not connect within 30 s\nstdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	mpv, err := player.Attach(ctx, sock)
	if err != nil {
		t.Fatalf("attach to join's mpv: %v", err)
	}
	quit := time.Now()
	_, _ = mpv.Command(ctx, "quit") // the connection may end before the reply
	mpv.Close()

	select {
	case <-exited:
		t.Logf("mpv quit → join exited in %v", time.Since(quit).Round(time.Millisecond))
		if joinErr != nil {
			t.Fatalf("join: %v, want exit status 0\nstdout:\n%s\nstderr:\n%s", joinErr, stdout.String(), stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("join still runs 10 s after mpv was closed\nstdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), room.MPVClosedNote) {
		t.Errorf("join did not say %q\nstdout:\n%s", room.MPVClosedNote, stdout.String())
	}
	if strings.Contains(stdout.String(), "restart") {
		t.Errorf("mpv was restarted\nstdout:\n%s", stdout.String())
	}
	// Left: the room no longer counts alice as a member (status is for members: exit 4).
	status, err := wp("status", "--room", roomID, "--json").CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitNotAllowed || !strings.Contains(string(status), "not a member") {
		t.Errorf("status after join ended: %v %s; want exit %d, not a member: the room was not left", err, status, exitNotAllowed)
	}
}
