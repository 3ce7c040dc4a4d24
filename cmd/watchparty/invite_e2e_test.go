//go:build !windows

package main

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/watchparty/watchparty/bench/syncbench"
	"github.com/watchparty/watchparty/server/servertest"
)

// TestInviteEndToEnd: a party across the internet, as people run it. `watchparty serve` with a
// certificate the test trusts (SSL_CERT_FILE), alice creates a room, bob joins from the printed
// link alone (no --server, no key) over https and wss and follows alice's play with his own
// mpv. A join without the secret, one with the old secret after a rotation, and a banned user
// are refused; bob, kicked, is told by whom and his mpv stops following.
func TestInviteEndToEnd(t *testing.T) {
	if err := syncbench.NeedPrograms(); err != nil {
		t.Skipf("needs mpv and ffmpeg: %v", err)
	}
	dir := t.TempDir()
	tc := servertest.NewTestCA(t, dir)
	srv := startServe(t, os.Environ(), "--tls-cert", tc.CertFile, "--tls-key", tc.KeyFile,
		"--listen", "127.0.0.1:0", "--data", filepath.Join(dir, "data"))
	url := waitLine(t, srv.stdout, regexp.MustCompile(`listening on (https://127\.0\.0\.1:\d+)$`), "serve's https URL")[1]
	clip := filepath.Join(dir, "clip.mp4")
	if err := syncbench.MakeClip(clip, 60); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// Each person has their own home (their own user); nobody has WATCHPARTY_SERVER set.
	wp := func(who string, args ...string) *exec.Cmd {
		cmd := exec.CommandContext(ctx, "watchparty", args...)
		cmd.Env = append(os.Environ(), "SSL_CERT_FILE="+tc.CAFile, "WATCHPARTY_HOME="+filepath.Join(dir, who), "NO_COLOR=1")
		cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
		return cmd
	}
	run := func(who string, args ...string) string {
		t.Helper()
		out, err := wp(who, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: watchparty %s: %v\n%s", who, strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	refused := func(who string, code int, args ...string) string {
		t.Helper()
		out, err := wp(who, args...).CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != code {
			t.Fatalf("%s: watchparty %s: %v, want exit %d\n%s", who, strings.Join(args, " "), err, code, out)
		}
		return string(out)
	}

	var created struct {
		RoomID string `json:"room_id"`
		Link   string `json:"invite_link"`
	}
	if err := json.Unmarshal([]byte(run("alice", "create", "--server", url, "--name", "alice", "--media", clip, "--json")), &created); err != nil {
		t.Fatal(err)
	}
	link := created.Link
	if !strings.HasPrefix(link, url+"/join/"+created.RoomID+"#s=") || strings.Contains(link, "k=") {
		t.Fatalf("create printed the link %q; want %s/join/%s#s=SECRET (a watchparty server needs no key in it)", link, url, created.RoomID)
	}
	if saved := run("alice", "invite", "--room", created.RoomID, "--server", url); saved != link {
		t.Fatalf("invite shows %q, want the link create printed (%q)", saved, link)
	}

	mpvArgs := []string{"--mpv-arg=--vo=null", "--mpv-arg=--ao=null"}
	alice := startJoiner(t, wp("alice", append([]string{"join", link, "--name", "alice", "--media", clip, "--headless", "--json",
		"--mpv-socket", filepath.Join(dir, "alice.sock")}, mpvArgs...)...))
	alice.waitFor(t, `"type":"connected"`)
	bob := startJoiner(t, wp("bob", append([]string{"join", link, "--name", "bob", "--media", clip, "--headless", "--json",
		"--mpv-socket", filepath.Join(dir, "bob.sock")}, mpvArgs...)...))
	bob.waitFor(t, `"type":"connected"`)
	aliceProbe, err := syncbench.Attach(ctx, filepath.Join(dir, "alice.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer aliceProbe.Close()
	bobProbe, err := syncbench.Attach(ctx, filepath.Join(dir, "bob.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer bobProbe.Close()

	// alice plays: bob's mpv follows.
	run("alice", "play", "--room", created.RoomID, "--server", url)
	deadline := time.Now().Add(30 * time.Second)
	for {
		a, ap, aerr := aliceProbe.ReadPosition(ctx)
		b, bp, berr := bobProbe.ReadPosition(ctx)
		if aerr == nil && berr == nil && !ap && !bp && a > 1 && math.Abs(a-b) < 1 {
			t.Logf("playing in sync: alice %.2f s, bob %.2f s", a, b)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("bob does not follow alice within 30 s: alice %.2f paused=%v (%v), bob %.2f paused=%v (%v)\nbob:\n%s",
				a, ap, aerr, b, bp, berr, bob.out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Without the secret, the room is as unknown as one that does not exist.
	join := func(who, target string) []string {
		return append([]string{"join", target, "--name", who, "--media", clip, "--headless"}, mpvArgs...)
	}
	out := refused("carol", exitNotFound, append(join("carol", created.RoomID), "--server", url)...)
	if !strings.Contains(out, "not found") {
		t.Errorf("a join without the secret says %q", out)
	}
	// After a rotation, the old link lets nobody new in; the new one does.
	newLink := run("alice", "invite", "--room", created.RoomID, "--server", url, "--rotate")
	if newLink == link || !strings.HasPrefix(newLink, url+"/join/"+created.RoomID+"#s=") {
		t.Fatalf("invite --rotate printed %q", newLink)
	}
	refused("dave", exitNotFound, join("dave", link)...)

	// A banned member's screen ends, and they can't come back even with the current link.
	erin := startJoiner(t, wp("erin", append(join("erin", newLink), "--json", "--mpv-socket", filepath.Join(dir, "erin.sock"))...))
	erin.waitFor(t, `"type":"connected"`)
	run("alice", "ban", "erin", "--room", created.RoomID, "--server", url)
	erin.waitFor(t, "you are banned from this room")
	if code := erin.wait(t); code != exitNotAllowed {
		t.Errorf("erin's join ended with %d after the ban, want %d", code, exitNotAllowed)
	}
	out = refused("erin", exitNotAllowed, join("erin", newLink)...)
	if !strings.Contains(out, "banned") {
		t.Errorf("a banned user's join says %q", out)
	}

	// bob, kicked: his screen says by whom and his mpv stops following (watchparty ends it).
	run("alice", "kick", "bob", "--room", created.RoomID, "--server", url)
	bob.waitFor(t, "you were removed from the room by alice")
	if code := bob.wait(t); code != exitNotAllowed {
		t.Errorf("bob's join ended with %d after the kick, want %d", code, exitNotAllowed)
	}
	select {
	case <-bobProbe.Done():
	case <-time.After(15 * time.Second):
		t.Error("bob's mpv still runs 15 s after he was removed")
	}
	// With the old link he cannot come back: a removed member needs the current secret.
	refused("bob", exitNotAllowed, join("bob", link)...)
	alice.stop(t)
}

// joiner is a `watchparty join --headless --json` child process.
type joiner struct {
	cmd    *exec.Cmd
	out    *lockedBuffer
	exited chan struct{}
	err    error
}

func startJoiner(t *testing.T, cmd *exec.Cmd) *joiner {
	t.Helper()
	j := &joiner{cmd: cmd, out: &lockedBuffer{}, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = j.out, j.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { j.err = cmd.Wait(); close(j.exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-j.exited:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-j.exited
		}
	})
	return j
}

// waitFor waits until the output holds text.
func (j *joiner) waitFor(t *testing.T, text string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(j.out.String(), text) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q within 60 s:\n%s", text, j.out.String())
		}
		select {
		case <-j.exited:
			if !strings.Contains(j.out.String(), text) {
				t.Fatalf("ended (%v) without %q:\n%s", j.err, text, j.out.String())
			}
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// wait returns the exit code once the process ends by itself.
func (j *joiner) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-j.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("still running 30 s later:\n%s", j.out.String())
	}
	var ee *exec.ExitError
	if errors.As(j.err, &ee) {
		return ee.ExitCode()
	}
	if j.err != nil {
		return -1
	}
	return 0
}

// stop ends the process as a user would (SIGTERM: leave the room).
func (j *joiner) stop(t *testing.T) {
	t.Helper()
	_ = j.cmd.Process.Signal(syscall.SIGTERM)
	if code := j.wait(t); code != 0 {
		t.Errorf("join after SIGTERM: exit %d\n%s", code, j.out.String())
	}
}
