package tui

// End-to-end test through tmux: a real `watchparty serve`, a host and a follower running the
// real binary's screen in tmux panes, each with a real headless mpv. Skipped with -short or when
// tmux, mpv or ffmpeg is missing.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestEndToEndTmux(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped with -short")
	}
	for _, tool := range []string{"go", "tmux", "mpv", "ffmpeg"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("end-to-end test needs %s: %v", tool, err)
		}
	}
	dir := t.TempDir()
	bin := buildWatchparty(t, dir)
	media := makeClip(t, dir)
	server := startServe(t, bin, dir)

	hostHome, folHome := filepath.Join(dir, "host-home"), filepath.Join(dir, "follower-home")
	roomID, link := createRoom(t, bin, server, hostHome, media)
	hostSock, folSock := filepath.Join(dir, "host.sock"), filepath.Join(dir, "fol.sock")

	tx := newTmux(t, dir)
	join := func(home, name, sock string) []string {
		return []string{"env", "WATCHPARTY_HOME=" + home, "WATCHPARTY_SERVER=" + server, "TERM=xterm-256color",
			bin, "join", link, "--name", name, "--media", media, "--mpv-socket", sock,
			"--mpv-arg=--vo=null", "--mpv-arg=--ao=null"}
	}
	tx.start("host", join(hostHome, "alice", hostSock))
	tx.waitScreen("host", "you alice (host)")
	tx.start("fol", join(folHome, "bob", folSock))
	tx.waitScreen("fol", "you bob (follower)")
	tx.waitScreen("host", "Members (2)")

	// A comment typed in one screen appears in the other, both ways.
	tx.keys("fol", "c")
	tx.literal("fol", "hello from bob")
	tx.keys("fol", "Enter")
	tx.waitScreen("host", "bob: hello from bob")
	tx.waitScreen("fol", "press c to comment") // enter sent it and gave the keys back
	tx.keys("host", "Tab")
	tx.literal("host", "hi bob, 小心 🐰")
	tx.keys("host", "Enter")
	tx.waitScreen("fol", "alice: hi bob, 小心 🐰")
	tx.waitScreen("host", "press c to comment")

	// The host's space plays the room, and the follower's mpv follows; again pauses it.
	waitMPVPause(t, folSock, true) // rooms start paused
	tx.keys("host", "Space")
	tx.waitScreen("host", "▶ playing")
	waitMPVPause(t, folSock, false)
	tx.waitScreen("fol", "▶ playing")
	tx.keys("host", "Space")
	waitMPVPause(t, folSock, true)
	tx.waitScreen("fol", "⏸ paused")

	// Host-only keys say so on the follower's screen and do nothing to the room.
	tx.keys("fol", "Space")
	tx.waitScreen("fol", "is for the host")
	waitMPVPause(t, hostSock, true)

	// A hostile comment (set the window title, clear the screen) reaches the other screen as plain
	// text: posted by the follower's user through the CLI, as a script would.
	cmt := exec.Command(bin, "comment", "--server", server, "--room", roomID, "\x1b]0;X\x07\x1b[2Jzebra crossing")
	cmt.Env = append(os.Environ(), "WATCHPARTY_HOME="+folHome)
	out, err := cmt.CombinedOutput()
	if err != nil {
		t.Fatalf("watchparty comment: %v\n%s", err, out)
	}
	screen := tx.waitScreen("host", "zebra crossing")
	if !strings.Contains(screen, "room "+roomID) || !strings.Contains(screen, "bob: hello from bob") {
		t.Fatalf("the screen was cleared or garbled:\n%s", screen)
	}
	if title := tx.display("host", "#{pane_title}"); strings.Contains(title, "X") && !strings.Contains(title, roomID) {
		t.Fatalf("pane title changed by a comment: %q", title)
	}

	t.Logf("host screen:\n%s", tx.capture("host"))
	t.Logf("follower screen:\n%s", tx.capture("fol"))

	// q leaves the room cleanly: the process exits 0 and the mpv it started is gone.
	tx.keys("fol", "q")
	tx.waitExit("fol", folHome)
	tx.waitScreen("host", "Members (1)")
	tx.keys("host", "q")
	tx.waitExit("host", hostHome)
	for _, sock := range []string{folSock, hostSock} {
		waitFor(t, "mpv at "+filepath.Base(sock)+" to stop", 10*time.Second, func() bool {
			c, err := net.Dial("unix", sock)
			if err == nil {
				c.Close()
			}
			return err != nil
		})
	}
}

// TestMediaPromptTmux: the real binary, in a terminal, joining a room whose media is a URL,
// shows the URL and asks before mpv opens anything; n says no, and the command fails with the
// way out (--media). Skipped like TestEndToEndTmux.
func TestMediaPromptTmux(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped with -short")
	}
	for _, tool := range []string{"go", "tmux", "mpv"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("end-to-end test needs %s: %v", tool, err)
		}
	}
	dir := t.TempDir()
	bin := buildWatchparty(t, dir)
	server := startServe(t, bin, dir)
	_, link := createRoom(t, bin, server, filepath.Join(dir, "host-home"), "http://127.0.0.1:1/film.mp4")
	sock := filepath.Join(dir, "guest.sock")
	tx := newTmux(t, dir)
	tx.start("guest", []string{"env", "WATCHPARTY_HOME=" + filepath.Join(dir, "guest-home"), "WATCHPARTY_SERVER=" + server,
		"TERM=xterm-256color", bin, "join", link, "--name", "bob", "--mpv-socket", sock,
		"--mpv-arg=--vo=null", "--mpv-arg=--ao=null"})
	tx.waitScreen("guest", "The room asks your mpv to open this address:")
	screen := tx.waitScreen("guest", "Open it?")
	if !strings.Contains(screen, "http://127.0.0.1:1/film.mp4") || !strings.Contains(screen, "local network") {
		t.Fatalf("the prompt does not show the URL and the local-network warning:\n%s", screen)
	}
	// Nothing was started while asking.
	if c, err := net.Dial("unix", sock); err == nil {
		c.Close()
		t.Fatal("an mpv listens while the prompt is up")
	}
	tx.keys("guest", "n")
	waitFor(t, "the join to end", 20*time.Second, func() bool {
		b, err := os.ReadFile(tx.statusFile("guest"))
		return err == nil && strings.HasSuffix(string(b), "\n")
	})
	if b, _ := os.ReadFile(tx.statusFile("guest")); strings.TrimSpace(string(b)) != "1" {
		t.Fatalf("join exited with %s after no, want 1", b)
	}
	if _, err := os.Stat(sock); err == nil {
		t.Fatal("mpv was started after the user said no")
	}
}

// waitFor polls cond every 50 ms until it holds or d passes.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func buildWatchparty(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "watchparty")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/watchparty")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// makeClip renders a 120 s test video (seekable both ways, unlike lavfi sources).
func makeClip(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "clip.mkv")
	out, err := exec.Command("ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi",
		"-i", "testsrc=duration=120:size=160x120:rate=25", "-c:v", "mpeg4", "-g", "25", p).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	return p
}

// startServe runs `watchparty serve` on a free loopback port and returns its URL.
func startServe(t *testing.T, bin, dir string) string {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--listen", "127.0.0.1:0", "--data", filepath.Join(dir, "data"))
	cmd.Env = append(os.Environ(), "WATCHPARTY_HOME="+filepath.Join(dir, "server-home"))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		re := regexp.MustCompile(`listening on (http://\S+)`)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				urlc <- m[1]
			}
		}
	}()
	select {
	case u := <-urlc:
		return u
	case <-time.After(20 * time.Second):
		t.Fatal("watchparty serve did not say where it listens")
	}
	return ""
}

// createRoom creates a room with `watchparty create` and returns its id and invite link.
func createRoom(t *testing.T, bin, server, home, media string) (string, string) {
	t.Helper()
	cmd := exec.Command(bin, "create", "--server", server, "--media", media, "--title", "E2E clip",
		"--name", "alice", "--json")
	cmd.Env = append(os.Environ(), "WATCHPARTY_HOME="+home)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("watchparty create: %v\n%s", err, stderr.Bytes())
	}
	var res struct {
		RoomID string `json:"room_id"`
		Link   string `json:"invite_link"`
	}
	if err := json.Unmarshal(out, &res); err != nil || res.RoomID == "" || res.Link == "" {
		t.Fatalf("watchparty create printed %q: %v", out, err)
	}
	return res.RoomID, res.Link
}

// waitMPVPause polls mpv's pause property over its IPC socket until it equals want.
func waitMPVPause(t *testing.T, sock string, want bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		got, err := mpvPause(sock)
		if err == nil && got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("mpv at %s: pause=%v err=%v, want pause=%v", filepath.Base(sock), got, err, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func mpvPause(sock string) (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", sock)
	if err != nil {
		return false, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte(`{"command":["get_property","pause"],"request_id":4242}` + "\n")); err != nil {
		return false, err
	}
	sc := bufio.NewScanner(c)
	for sc.Scan() {
		var r struct {
			Data      any    `json:"data"`
			RequestID int    `json:"request_id"`
			Error     string `json:"error"`
		}
		if json.Unmarshal(sc.Bytes(), &r) != nil || r.RequestID != 4242 {
			continue // an event
		}
		b, ok := r.Data.(bool)
		if r.Error != "success" || !ok {
			return false, fmt.Errorf("mpv: %s", sc.Text())
		}
		return b, nil
	}
	return false, fmt.Errorf("mpv closed the connection: %v", sc.Err())
}

// tmuxServer is a private tmux server (its own socket, no user config) for one test.
type tmuxServer struct {
	t    *testing.T
	name string
	dir  string // where exit statuses are written
}

func newTmux(t *testing.T, dir string) *tmuxServer {
	tx := &tmuxServer{t: t, name: fmt.Sprintf("wp-e2e-%d-%s", os.Getpid(), filepath.Base(dir)), dir: dir}
	t.Cleanup(func() { _ = exec.Command("tmux", "-L", tx.name, "kill-server").Run() })
	return tx
}

func (tx *tmuxServer) run(args ...string) string {
	tx.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", tx.name, "-f", "/dev/null"}, args...)...).CombinedOutput()
	if err != nil {
		tx.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// start runs argv in a new 100×30 session through the shell, which writes the exit status to a
// file that waitExit reads (tmux's own record of it turned out to be unreliable: it sometimes
// left the exited program unreaped).
func (tx *tmuxServer) start(session string, argv []string) {
	tx.t.Helper()
	quoted := make([]string, len(argv))
	for i, a := range argv {
		quoted[i] = shellQuote(a)
	}
	cmd := strings.Join(quoted, " ") + "; echo $? > " + shellQuote(tx.statusFile(session))
	tx.run("new-session", "-d", "-s", session, "-x", "100", "-y", "30", cmd)
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func (tx *tmuxServer) statusFile(session string) string {
	return filepath.Join(tx.dir, session+".status")
}

func (tx *tmuxServer) keys(session string, keys ...string) {
	tx.t.Helper()
	tx.run(append([]string{"send-keys", "-t", session}, keys...)...)
}

func (tx *tmuxServer) literal(session, text string) {
	tx.t.Helper()
	tx.run("send-keys", "-t", session, "-l", text)
}

func (tx *tmuxServer) capture(session string) string {
	tx.t.Helper()
	return tx.run("capture-pane", "-p", "-t", session)
}

func (tx *tmuxServer) display(session, format string) string {
	tx.t.Helper()
	return strings.TrimSpace(tx.run("display-message", "-p", "-t", session, format))
}

// waitScreen waits until the pane shows want and returns the screen.
func (tx *tmuxServer) waitScreen(session, want string) string {
	tx.t.Helper()
	var screen string
	deadline := time.Now().Add(20 * time.Second)
	for {
		screen = tx.capture(session)
		if strings.Contains(screen, want) {
			return screen
		}
		if time.Now().After(deadline) {
			tx.t.Fatalf("%s: screen never showed %q; it shows:\n%s", session, want, screen)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitExit waits until the pane's program exited, and checks that it exited with 0. On failure
// it shows the screen and the session log found under home.
func (tx *tmuxServer) waitExit(session, home string) {
	tx.t.Helper()
	var status string
	deadline := time.Now().Add(20 * time.Second)
	for {
		if b, err := os.ReadFile(tx.statusFile(session)); err == nil && strings.HasSuffix(string(b), "\n") {
			status = strings.TrimSpace(string(b))
			break
		}
		if time.Now().After(deadline) {
			status = "(still running after 20 s)"
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if status != "0" {
		var logs strings.Builder
		_ = filepath.WalkDir(home, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(p, ".log") {
				b, _ := os.ReadFile(p)
				fmt.Fprintf(&logs, "--- %s\n%s\n", p, b)
			}
			return nil
		})
		screen, _ := exec.Command("tmux", "-L", tx.name, "capture-pane", "-p", "-t", session).CombinedOutput()
		tx.t.Fatalf("%s exited with %s; screen:\n%s\n%s", session, status, screen, logs.String())
	}
}
