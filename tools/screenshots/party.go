package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The terminal the screens are pictured in.
const cols, rows = 100, 30

// wait is how long one step of the party may take before the run fails.
const wait = 20 * time.Second

func lookPath(tool string) (string, error) {
	p, err := exec.LookPath(tool)
	if err != nil {
		return "", fmt.Errorf("the screenshots need %s: %w", tool, err)
	}
	return p, nil
}

// buildWatchparty builds the module's command into dir.
func buildWatchparty(ctx context.Context, dir string) (string, error) {
	gomod, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(gomod)) == "" || strings.TrimSpace(string(gomod)) == os.DevNull {
		return "", fmt.Errorf("run this inside the watchparty module (go env GOMOD: %q, %v)", gomod, err)
	}
	bin := filepath.Join(dir, "watchparty")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/watchparty")
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(gomod)))
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %w\n%s", err, out)
	}
	return bin, nil
}

// makeClip renders a two-minute test video, seekable both ways.
func makeClip(ctx context.Context, dir string) (string, error) {
	p := filepath.Join(dir, "friday-film.mkv")
	out, err := exec.CommandContext(ctx, "ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi",
		"-i", "testsrc=duration=120:size=160x120:rate=25", "-c:v", "mpeg4", "-g", "25", p).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("ffmpeg: %w\n%s", err, out)
	}
	return p, nil
}

// server is a running `watchparty serve`.
type server struct {
	cmd  *exec.Cmd
	done chan struct{}
	url  string
}

// startServe runs `watchparty serve` on a free loopback port and waits until it says where.
func startServe(ctx context.Context, bin, dir string) (*server, error) {
	cmd := exec.Command(bin, "serve", "--listen", "127.0.0.1:0", "--data", filepath.Join(dir, "data"))
	cmd.Env = append(os.Environ(), "WATCHPARTY_HOME="+filepath.Join(dir, "server-home"))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("watchparty serve: %w", err)
	}
	s := &server{cmd: cmd, done: make(chan struct{})}
	urlc := make(chan string, 1)
	go func() {
		// Reads until serve exits and closes its output.
		sc := bufio.NewScanner(stdout)
		re := regexp.MustCompile(`listening on (http://\S+)`)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case urlc <- m[1]:
				default:
				}
			}
		}
	}()
	go func() { _ = cmd.Wait(); close(s.done) }()
	select {
	case s.url = <-urlc:
		return s, nil
	case <-s.done:
		return nil, fmt.Errorf("watchparty serve exited before listening")
	case <-time.After(wait):
	case <-ctx.Done():
	}
	_ = s.stop()
	return nil, fmt.Errorf("watchparty serve did not say where it listens within %s", wait)
}

// stop interrupts the server and waits for it, killing it after 10 s.
func (s *server) stop() error {
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
		return nil
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
		return fmt.Errorf("watchparty serve did not stop within 10 s of an interrupt")
	}
}

// createRoom creates the room as its host-to-be, the way `watchparty create` is used, and returns
// its invite link.
func createRoom(ctx context.Context, bin, server, home, media string) (string, error) {
	cmd := exec.CommandContext(ctx, bin, "create", "--server", server, "--media", media,
		"--title", "Friday film night", "--name", "alice", "--json")
	cmd.Env = append(os.Environ(), "WATCHPARTY_HOME="+home)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("watchparty create: %w\n%s", err, stderr.Bytes())
	}
	var res struct {
		RoomID string `json:"room_id"`
		Link   string `json:"invite_link"`
	}
	if err := json.Unmarshal(out, &res); err != nil || res.RoomID == "" || res.Link == "" {
		return "", fmt.Errorf("watchparty create printed %q: %v", out, err)
	}
	return res.Link, nil // friends join with the invite link
}

// playParty is the scene: alice hosts, bob follows, they talk, alice plays, pauses and seeks,
// and opens the help. It returns the screens to picture.
func playParty(ctx context.Context, o options, work, server, clip string) (shots []shot, err error) {
	homes := map[string]string{"host": filepath.Join(work, "alice-home"), "fol": filepath.Join(work, "bob-home")}
	room, err := createRoom(ctx, o.bin, server, homes["host"], clip)
	if err != nil {
		return nil, err
	}
	tx := &tmux{ctx: ctx, name: fmt.Sprintf("wp-shots-%d-%s", os.Getpid(), filepath.Base(work)), dir: work}
	defer func() {
		if err != nil {
			err = fmt.Errorf("%w\n%s", err, tx.report(homes))
		}
		tx.killServer()
	}()
	join := func(who, name string) []string {
		return []string{"env", "-u", "NO_COLOR", "WATCHPARTY_HOME=" + homes[who], "WATCHPARTY_SERVER=" + server,
			"TERM=xterm-256color", o.bin, "join", room, "--name", name, "--media", clip,
			"--mpv-socket", filepath.Join(work, who+".sock"), "--mpv-arg=--vo=null", "--mpv-arg=--ao=null"}
	}
	steps := []func() error{
		func() error { return tx.start("host", join("host", "alice")) },
		func() error { return tx.waitText("host", "you alice (host)") },
		func() error { return tx.start("fol", join("fol", "bob")) },
		func() error { return tx.waitText("fol", "you bob (follower)") },
		func() error { return tx.waitText("host", "Members (2)") },
		// A comment each way: c (or tab) opens the input, enter sends it.
		func() error { return tx.keys("fol", "c") },
		func() error { return tx.literal("fol", "popcorn is ready, start whenever you like") },
		func() error { return tx.keys("fol", "Enter") },
		func() error { return tx.waitText("host", "bob: popcorn is ready") },
		func() error { return tx.keys("host", "Space") },
		func() error { return tx.waitPosition("fol", "▶ playing", 3) },
		func() error { return tx.keys("host", "Tab") },
		func() error { return tx.literal("host", "the opening is slow, let's jump to the good part") },
		func() error { return tx.keys("host", "Enter") },
		func() error { return tx.waitText("fol", "alice: the opening is slow") },
		// Space pauses, and 4 seeks to 40 % (0:48 of 2:00). Few changes on purpose: each
		// member's presence is sent at most 4 times in 30 s, and the pictures should show every
		// member line up to date.
		func() error { return tx.keys("host", "Space") },
		func() error { return tx.waitText("fol", "⏸ paused") },
		func() error { return tx.keys("host", "4") },
		// Both screens agree: paused at 0:48, and everyone in sync on both member lists.
		func() error { return tx.waitAll("host", "⏸ paused", "0:48 / 2:00") },
		func() error { return tx.waitAll("fol", "⏸ paused", "0:48 / 2:00") },
		func() error { return tx.waitMemberInSync("host", "alice (you)", "0:48") },
		func() error { return tx.waitMemberInSync("host", "bob", "0:48") },
		func() error { return tx.waitMemberInSync("fol", "alice", "0:48") },
		func() error { return tx.waitMemberInSync("fol", "bob (you)", "0:48") },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	for _, s := range []struct{ session, name string }{{"host", "host"}, {"fol", "follower"}} {
		a, err := tx.captureANSI(s.session)
		if err != nil {
			return nil, err
		}
		shots = append(shots, shot{name: s.name, ansi: a})
	}
	// The host's help overlay: every key, and what the marks mean.
	if err := tx.keys("host", "?"); err != nil {
		return nil, err
	}
	if err := tx.waitText("host", "Keys (host)"); err != nil {
		return nil, err
	}
	a, err := tx.captureANSI("host")
	if err != nil {
		return nil, err
	}
	shots = append(shots, shot{name: "help", ansi: a})
	if err := tx.keys("host", "?"); err != nil {
		return nil, err
	}
	if err := tx.waitText("host", "Members (2)"); err != nil {
		return nil, err
	}
	// Both leave with q and exit 0.
	for _, s := range []string{"fol", "host"} {
		if err := tx.keys(s, "q"); err != nil {
			return nil, err
		}
		if err := tx.waitExit(s); err != nil {
			return nil, err
		}
	}
	return shots, nil
}

// tmux is a private tmux server (its own socket, no user config) for one run.
type tmux struct {
	ctx    context.Context
	name   string
	dir    string // where exit statuses are written
	socket string // the server's socket, known once a session started
}

func (tx *tmux) run(args ...string) (string, error) {
	out, err := exec.CommandContext(tx.ctx, "tmux", append([]string{"-L", tx.name, "-f", os.DevNull}, args...)...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("tmux %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// start runs argv in a new cols×rows session; the shell writes its exit status to a file.
func (tx *tmux) start(session string, argv []string) error {
	quoted := make([]string, len(argv))
	for i, a := range argv {
		quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	cmd := strings.Join(quoted, " ") + "; echo $? > '" + tx.statusFile(session) + "'"
	if _, err := tx.run("new-session", "-d", "-s", session, "-x", strconv.Itoa(cols), "-y", strconv.Itoa(rows), cmd); err != nil {
		return err
	}
	if tx.socket == "" {
		sock, err := tx.run("display-message", "-p", "-t", session, "#{socket_path}")
		if err != nil {
			return err
		}
		tx.socket = strings.TrimSpace(sock)
	}
	return nil
}

func (tx *tmux) statusFile(session string) string { return filepath.Join(tx.dir, session+".status") }

func (tx *tmux) keys(session string, keys ...string) error {
	_, err := tx.run(append([]string{"send-keys", "-t", session}, keys...)...)
	return err
}

func (tx *tmux) literal(session, text string) error {
	_, err := tx.run("send-keys", "-t", session, "-l", text)
	return err
}

func (tx *tmux) capture(session string) (string, error) {
	return tx.run("capture-pane", "-p", "-t", session)
}

// captureANSI is the pane with its colours and attributes as SGR sequences.
func (tx *tmux) captureANSI(session string) (string, error) {
	return tx.run("capture-pane", "-e", "-p", "-t", session)
}

// waitFor polls the pane every 100 ms until ok says yes, for at most wait.
func (tx *tmux) waitFor(session, what string, ok func(screen string) bool) error {
	deadline := time.Now().Add(wait)
	for {
		screen, err := tx.capture(session)
		if err != nil {
			return err
		}
		if ok(screen) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: the screen never showed %s within %s; it shows:\n%s", session, what, wait, screen)
		}
		select {
		case <-tx.ctx.Done():
			return tx.ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (tx *tmux) waitText(session, want string) error {
	return tx.waitAll(session, want)
}

func (tx *tmux) waitAll(session string, want ...string) error {
	return tx.waitFor(session, fmt.Sprintf("%q", want), func(screen string) bool {
		for _, w := range want {
			if !strings.Contains(screen, w) {
				return false
			}
		}
		return true
	})
}

var posRe = regexp.MustCompile(`(\d+):(\d\d) / \d+:\d\d`)

// waitPosition waits for the play line to show state at sec seconds or later.
func (tx *tmux) waitPosition(session, state string, sec int) error {
	return tx.waitFor(session, fmt.Sprintf("%s at %d s or later", state, sec), func(screen string) bool {
		m := posRe.FindStringSubmatch(screen)
		if m == nil || !strings.Contains(screen, state) {
			return false
		}
		mins, _ := strconv.Atoi(m[1])
		secs, _ := strconv.Atoi(m[2])
		return mins*60+secs >= sec
	})
}

// waitMemberInSync waits for the member line naming who to show pos and end in the in-sync
// mark.
func (tx *tmux) waitMemberInSync(session, who, pos string) error {
	return tx.waitFor(session, who+" in sync at "+pos, func(screen string) bool {
		for _, line := range strings.Split(screen, "\n") {
			left, _, _ := strings.Cut(line, "│")
			if strings.Contains(left, " "+who+" ") && strings.Contains(left, " "+pos+" ") &&
				strings.HasSuffix(strings.TrimSpace(left), "✓") {
				return true
			}
		}
		return false
	})
}

// waitExit waits for the pane's program to exit, and wants status 0.
func (tx *tmux) waitExit(session string) error {
	deadline := time.Now().Add(wait)
	for {
		if b, err := os.ReadFile(tx.statusFile(session)); err == nil && strings.HasSuffix(string(b), "\n") {
			if st := strings.TrimSpace(string(b)); st != "0" {
				return fmt.Errorf("%s exited with status %s", session, st)
			}
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s still runs %s after q", session, wait)
		}
		select {
		case <-tx.ctx.Done():
			return tx.ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// report is what a failed run shows: each pane still open and each member's log.
func (tx *tmux) report(homes map[string]string) string {
	var b strings.Builder
	for _, session := range []string{"host", "fol"} {
		if screen, err := exec.Command("tmux", "-L", tx.name, "capture-pane", "-p", "-t", session).Output(); err == nil {
			fmt.Fprintf(&b, "--- %s screen\n%s", session, screen)
		}
		_ = filepath.WalkDir(homes[session], func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(p, ".log") {
				log, _ := os.ReadFile(p)
				fmt.Fprintf(&b, "--- %s\n%s", p, log)
			}
			return nil
		})
	}
	return b.String()
}

// killServer ends the tmux server and with it any pane still running (each watchparty then
// stops the mpv it started), and removes the socket the server leaves behind.
func (tx *tmux) killServer() {
	_ = exec.Command("tmux", "-L", tx.name, "kill-server").Run()
	if strings.HasSuffix(tx.socket, string(filepath.Separator)+tx.name) {
		_ = os.Remove(tx.socket)
	}
}
