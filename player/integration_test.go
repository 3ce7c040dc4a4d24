//go:build !windows

package player

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Integration tests: real mpv (--vo=null --ao=null) on media made by ffmpeg.

// launchTest starts a headless mpv for t and stops it (checking it is gone)
// when t ends.
func launchTest(t testing.TB, opts LaunchOptions) *Player {
	t.Helper()
	needMPV(t)
	opts.ExtraArgs = append([]string{"--vo=null", "--ao=null"}, opts.ExtraArgs...)
	opts.NoWindow = true
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	p, err := Launch(ctx, opts)
	if err != nil {
		t.Fatalf("launch mpv: %v", err)
	}
	t.Cleanup(func() { closeAndCheckGone(t, p) })
	return p
}

// closeAndCheckGone closes p and fails t if the mpv it started still runs.
func closeAndCheckGone(t testing.TB, p *Player) {
	t.Helper()
	pid := p.Pid()
	_ = p.Close()
	if pid == 0 {
		return
	}
	select {
	case <-p.proc.exited:
	default:
		t.Errorf("mpv %d not reaped after Close", pid)
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("mpv %d still exists after Close (kill -0: %v)", pid, err)
	}
}

// loadTest loads the test clip and waits for its FileLoaded event.
func loadTest(t testing.TB, p *Player, start float64, paused bool) Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.Load(ctx, testMedia(t), start, paused); err != nil {
		t.Fatalf("load: %v", err)
	}
	return waitEvent(t, p, EventFileLoaded, 5*time.Second)
}

// waitEvent returns the next event of kind, skipping others.
func waitEvent(t testing.TB, p *Player, kind EventKind, d time.Duration) Event {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-p.Events():
			if !ok {
				t.Fatalf("event stream closed while waiting for %v", kind)
			}
			if ev.Kind == kind {
				return ev
			}
			if ev.Kind == EventClosed {
				t.Fatalf("closed (%v) while waiting for %v", ev.Err, kind)
			}
		case <-timer.C:
			t.Fatalf("no %v event within %v", kind, d)
		}
	}
}

// mpvTimePos reads mpv's own time-pos.
func mpvTimePos(t *testing.T, p *Player) float64 {
	t.Helper()
	var v float64
	if err := p.GetProperty(context.Background(), "time-pos", &v); err != nil {
		t.Fatalf("get time-pos: %v", err)
	}
	return v
}

func TestPlayPauseSeekSpeedRoundTrips(t *testing.T) {
	t.Parallel()
	p := launchTest(t, LaunchOptions{})
	ctx := context.Background()
	if !strings.HasPrefix(p.Version(), "mpv ") {
		t.Errorf("Version() = %q", p.Version())
	}

	loaded := loadTest(t, p, 2, true)
	if !near(loaded.Duration, mediaDuration, 0.1) || !near(loaded.Position, 2, 0.05) {
		t.Fatalf("FileLoaded: duration %.3f position %.3f, want %.0f and 2", loaded.Duration, loaded.Position, mediaDuration)
	}
	if st := p.State(); !st.Loaded || !st.Paused || !near(st.Position, 2, 0.05) {
		t.Fatalf("after paused load: %+v", st)
	}

	if err := p.Play(ctx); err != nil {
		t.Fatal(err)
	}
	if ev := waitEvent(t, p, EventResumed, 2*time.Second); ev.Origin != ByUs {
		t.Errorf("Resumed origin %v, want us", ev.Origin)
	}
	if p.Paused() {
		t.Error("Paused() after Play")
	}
	if err := p.Pause(ctx); err != nil {
		t.Fatal(err)
	}
	if ev := waitEvent(t, p, EventPaused, 2*time.Second); ev.Origin != ByUs {
		t.Errorf("Paused origin %v, want us", ev.Origin)
	}
	// Pausing again changes nothing in mpv, so no event and no lingering
	// expectation that would mislabel the user's next pause.
	if err := p.Pause(ctx); err != nil {
		t.Fatal(err)
	}

	for _, target := range []float64{12.5, 3, 27.04} { // forwards and backwards
		if err := p.Seek(ctx, target); err != nil {
			t.Fatalf("seek %v: %v", target, err)
		}
		ev := waitEvent(t, p, EventSeeked, 2*time.Second)
		if ev.Origin != ByUs || !near(ev.Position, target, 0.05) {
			t.Errorf("seek %v: Seeked event %v at %.3f", target, ev.Origin, ev.Position)
		}
		if got, mpv := p.Position(), mpvTimePos(t, p); !near(got, target, 0.05) || !near(mpv, target, 0.05) {
			t.Errorf("seek %v: Position() %.3f, mpv time-pos %.3f", target, got, mpv)
		}
	}

	if err := p.SetSpeed(ctx, 1.5); err != nil {
		t.Fatal(err)
	}
	if ev := waitEvent(t, p, EventSpeedChanged, 2*time.Second); ev.Origin != ByUs || ev.Speed != 1.5 {
		t.Errorf("SpeedChanged: %v %v", ev.Origin, ev.Speed)
	}
	var speed float64
	if err := p.GetProperty(ctx, "speed", &speed); err != nil || speed != 1.5 || p.Speed() != 1.5 {
		t.Errorf("speed: mpv %v (%v), Speed() %v", speed, err, p.Speed())
	}
	if err := p.SetSpeed(ctx, 0); err == nil {
		t.Error("SetSpeed(0) succeeded")
	}
	if err := p.ShowText(ctx, "hello ${path}", time.Second); err != nil {
		t.Errorf("ShowText: %v", err)
	}
	if err := p.SetProperty(ctx, "speed", "fast"); !errors.Is(err, ErrPropertyFormat) {
		t.Errorf("bad property value: got %v, want ErrPropertyFormat", err)
	}
}

func TestConcurrentCallsOnRealMPV(t *testing.T) {
	t.Parallel()
	p := launchTest(t, LaunchOptions{})
	ctx := context.Background()
	if err := p.SetProperty(ctx, "volume", 77); err != nil {
		t.Fatal(err)
	}
	if err := p.SetSpeed(ctx, 1.25); err != nil {
		t.Fatal(err)
	}
	// Half the callers ask for speed, half for volume: any crossed reply
	// shows up as a wrong value.
	const callers, calls = 16, 300
	errc := make(chan error, callers)
	for g := range callers {
		go func() {
			name, want := "speed", 1.25
			if g%2 == 1 {
				name, want = "volume", 77
			}
			for range calls {
				var v float64
				if err := p.GetProperty(ctx, name, &v); err != nil {
					errc <- err
					return
				}
				if v != want {
					errc <- fmt.Errorf("%s = %v, want %v", name, v, want)
					return
				}
			}
			errc <- nil
		}()
	}
	for range callers {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
}

func TestPositionTracksWallClock(t *testing.T) {
	t.Parallel()
	p := launchTest(t, LaunchOptions{})
	loadTest(t, p, 1, false)
	// Let the first frames settle before taking the reference.
	waitFor(t, 5*time.Second, func() bool { return p.Position() > 1.2 })

	wall0, pos0 := time.Now(), p.Position()
	var worst float64
	for time.Since(wall0) < 10*time.Second {
		time.Sleep(50 * time.Millisecond)
		now, pos := time.Now(), p.Position()
		err := (pos - pos0) - now.Sub(wall0).Seconds()
		worst = max(worst, math.Abs(err))
	}
	t.Logf("Position() vs wall clock over 10 s: worst error %.1f ms", worst*1000)
	// A correctness bound, not a benchmark (the accuracy figures come from `watchparty bench
	// sync`): a position that stopped, ran at a wrong rate or jumped strays by seconds over
	// 10 s; a busy machine's late reads by tens to a few hundred ms.
	if worst > 0.5 {
		t.Errorf("Position() strayed %.1f ms from the wall clock (limit 500 ms)", worst*1000)
	}
}

func TestUserSeeksAndPausesAreTaggedAsUser(t *testing.T) {
	t.Parallel()
	p := launchTest(t, LaunchOptions{})
	loadTest(t, p, 0, true)
	ctx := context.Background()

	// "The user" is a second IPC client: mpv broadcasts seek and property
	// changes to every client, exactly as for keys in mpv's window.
	user, err := net.Dial("unix", p.Socket())
	if err != nil {
		t.Fatal(err)
	}
	defer user.Close()
	userCmd := func(cmd string) {
		t.Helper()
		if _, err := fmt.Fprintf(user, `{"command":%s}`+"\n", cmd); err != nil {
			t.Fatal(err)
		}
	}

	if err := p.Seek(ctx, 10); err != nil {
		t.Fatal(err)
	}
	if ev := waitEvent(t, p, EventSeeked, 2*time.Second); ev.Origin != ByUs {
		t.Errorf("our seek tagged %v", ev.Origin)
	}
	userCmd(`["seek", 20, "absolute"]`)
	if ev := waitEvent(t, p, EventSeeked, 2*time.Second); ev.Origin != ByUser || !near(ev.Position, 20, 0.05) {
		t.Errorf("user seek: %v at %.3f", ev.Origin, ev.Position)
	}
	userCmd(`["keypress", "LEFT"]`) // mpv's default binding: seek -5
	if ev := waitEvent(t, p, EventSeeked, 2*time.Second); ev.Origin != ByUser || !near(ev.Position, 15, 0.6) {
		t.Errorf("user key seek: %v at %.3f", ev.Origin, ev.Position)
	}
	userCmd(`["set_property", "pause", false]`)
	if ev := waitEvent(t, p, EventResumed, 2*time.Second); ev.Origin != ByUser {
		t.Errorf("user resume tagged %v", ev.Origin)
	}
	if err := p.Pause(ctx); err != nil {
		t.Fatal(err)
	}
	if ev := waitEvent(t, p, EventPaused, 2*time.Second); ev.Origin != ByUs {
		t.Errorf("our pause tagged %v", ev.Origin)
	}
	userCmd(`["set_property", "speed", 2.0]`)
	if ev := waitEvent(t, p, EventSpeedChanged, 2*time.Second); ev.Origin != ByUser || ev.Speed != 2 {
		t.Errorf("user speed: %v %v", ev.Origin, ev.Speed)
	}

	// Two of our seeks back to back: mpv merges them into one seek.
	errc := make(chan error, 2)
	go func() { errc <- p.Seek(ctx, 4) }()
	go func() { errc <- p.Seek(ctx, 6) }()
	for range 2 {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	ev := waitEvent(t, p, EventSeeked, 2*time.Second)
	if ev.Origin != ByUs {
		t.Errorf("merged seeks tagged %v at %.3f", ev.Origin, ev.Position)
	}
	// Drain a possible second Seeked (if mpv did not merge), then check
	// that nothing of ours lingers to mislabel the user's next seek.
	userCmd(`["seek", 25, "absolute"]`)
	for {
		ev := waitEvent(t, p, EventSeeked, 2*time.Second)
		if near(ev.Position, 25, 0.05) {
			if ev.Origin != ByUser {
				t.Errorf("user seek after merged seeks tagged %v", ev.Origin)
			}
			break
		}
	}
}

func TestEndOfFileWithKeepOpen(t *testing.T) {
	t.Parallel()
	p := launchTest(t, LaunchOptions{})
	loadTest(t, p, mediaDuration-1, false)
	ev := waitEvent(t, p, EventEndOfFile, 5*time.Second)
	if ev.Reason != "eof" || !near(ev.Position, mediaDuration, 0.1) {
		t.Errorf("EndOfFile: reason %q at %.3f", ev.Reason, ev.Position)
	}
	if ev := waitEvent(t, p, EventPaused, 2*time.Second); ev.Origin != ByPlayer {
		t.Errorf("keep-open pause tagged %v", ev.Origin)
	}
	st := p.State()
	if !st.Loaded || !st.EndOfFile || !st.Paused || !near(st.Position, mediaDuration, 0.1) {
		t.Errorf("at the end: %+v", st)
	}
	// The file stays loaded: the host can seek back without reloading.
	if err := p.Seek(context.Background(), 5); err != nil {
		t.Fatal(err)
	}
	if st := p.State(); st.EndOfFile || !near(st.Position, 5, 0.05) {
		t.Errorf("after seeking back: %+v", st)
	}
	// Reaching the end again is reported again.
	if err := p.Seek(context.Background(), mediaDuration-0.5); err != nil {
		t.Fatal(err)
	}
	if err := p.Play(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ev := waitEvent(t, p, EventEndOfFile, 5*time.Second); ev.Reason != "eof" {
		t.Errorf("second EndOfFile: %+v", ev)
	}
}

func TestKilledMPVGivesClosedEvent(t *testing.T) {
	t.Parallel()
	p := launchTest(t, LaunchOptions{})
	loadTest(t, p, 0, false)
	killed := time.Now()
	if err := syscall.Kill(p.Pid(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	ev := waitEvent(t, p, EventClosed, 2*time.Second)
	t.Logf("kill -9 to Closed event: %v", ev.Time.Sub(killed))
	if !errors.Is(ev.Err, ErrClosed) {
		t.Errorf("Closed event error %v, want ErrClosed", ev.Err)
	}
	if _, ok := <-p.Events(); ok {
		t.Error("event stream still open after Closed")
	}
	if err := p.Play(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Play after kill: %v, want ErrClosed", err)
	}
	if err := p.Wait(); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("Wait() = %v, want killed", err)
	}
	// The position stops advancing.
	pos := p.Position()
	time.Sleep(100 * time.Millisecond)
	if p.Position() != pos {
		t.Error("Position() still advances after mpv died")
	}
}

func TestStaleSocketFile(t *testing.T) {
	t.Parallel()
	needMPV(t)
	// mpv never removes its socket; leave one behind the same way.
	path := filepath.Join(t.TempDir(), "mpv.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	_ = ln.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("stale socket not there: %v", err)
	}

	start := time.Now()
	if _, err := Attach(context.Background(), path); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("Attach to a stale socket: %v, want connection refused", err)
	}
	t.Logf("Attach to a stale socket failed after %v", time.Since(start))

	p := launchTest(t, LaunchOptions{Socket: path})
	if p.Pid() == 0 {
		t.Fatal("attached to a stale socket instead of launching")
	}
	loadTest(t, p, 0, true)
	closeAndCheckGone(t, p)
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket file left behind after Close: %v", err)
	}
}

func TestLaunchAttachesToRunningMPV(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "mpv.sock")
	first := launchTest(t, LaunchOptions{Socket: path})
	loadTest(t, first, 7, true)

	second := launchTest(t, LaunchOptions{Socket: path})
	if second.Pid() != 0 {
		t.Fatalf("started a second mpv (pid %d) instead of attaching", second.Pid())
	}
	if st := second.State(); !st.Loaded || !st.Paused || !near(st.Position, 7, 0.05) || !near(st.Duration, mediaDuration, 0.1) {
		t.Errorf("attached state: %+v", st)
	}
	_ = second.Close()
	// Closing the attached Player leaves the first mpv running.
	if err := first.Play(context.Background()); err != nil {
		t.Errorf("first mpv after the attached Player closed: %v", err)
	}
}

func TestMissingBinary(t *testing.T) {
	_, err := Launch(context.Background(), LaunchOptions{Binary: "watchparty-no-such-mpv"})
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("got %v, want ErrNotFound", err)
	}
	t.Setenv("PATH", t.TempDir())
	_, err = Launch(context.Background(), LaunchOptions{})
	if err == nil || err.Error() != "mpv not found: install it with your package manager, e.g. apt install mpv" {
		t.Fatalf("got %v", err)
	}
}

func TestMPVExitingAtStartShowsItsOutput(t *testing.T) {
	t.Parallel()
	needMPV(t)
	_, err := Launch(context.Background(), LaunchOptions{ExtraArgs: []string{"--no-such-option=1"}})
	if err == nil || !strings.Contains(err.Error(), "exited at start") || !strings.Contains(err.Error(), "no-such-option") {
		t.Fatalf("got %v, want an exit error with mpv's message", err)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error is not one line: %q", err)
	}
}

func TestLoadFailure(t *testing.T) {
	t.Parallel()
	p := launchTest(t, LaunchOptions{})
	missing := filepath.Join(t.TempDir(), "missing.mp4")
	err := p.Load(context.Background(), missing, 0, false)
	if err == nil || !strings.Contains(err.Error(), "loading failed") {
		t.Fatalf("got %v, want loading failed", err)
	}
	if ev := waitEvent(t, p, EventEndOfFile, 2*time.Second); ev.Reason != "error" || ev.Err == nil {
		t.Errorf("EndOfFile: %q %v", ev.Reason, ev.Err)
	}
	if err := p.Seek(context.Background(), 3); !errors.Is(err, ErrCommandFailed) {
		t.Errorf("seek with nothing loaded: %v, want ErrCommandFailed", err)
	}
	var pos float64
	if err := p.GetProperty(context.Background(), "time-pos", &pos); !errors.Is(err, ErrPropertyUnavailable) {
		t.Errorf("time-pos with nothing loaded: %v, want ErrPropertyUnavailable", err)
	}
	// A good file loads afterwards.
	loadTest(t, p, 0, true)
}

func TestPrivateSocketRemovedOnClose(t *testing.T) {
	t.Parallel()
	p := launchTest(t, LaunchOptions{})
	dir := filepath.Dir(p.Socket())
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("socket directory %v (%v), want mode 0700", fi.Mode(), err)
	}
	closeAndCheckGone(t, p)
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket directory left behind: %v", err)
	}
}
