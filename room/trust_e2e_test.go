//go:build !windows

package room_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/watchparty/watchparty/bench/syncbench"
	wparty "github.com/watchparty/watchparty/party"
	"github.com/watchparty/watchparty/player"
	"github.com/watchparty/watchparty/room"
)

// These tests play a hostile server: a real embedded server on loopback whose database the
// test edits behind its back (as a compromised or old server would serve anything), and real
// mpv. Each asserts what the guest's machine does.

// hostile is an embedded server plus direct access to its database.
type hostile struct {
	t   *testing.T
	srv *syncbench.Server
	db  *sql.DB
	dir string
	ctx context.Context
	n   int
	// secret is the invite secret of the room createRoom made last.
	secret string
}

func newHostile(t *testing.T) *hostile {
	t.Helper()
	if err := syncbench.NeedPrograms(); err != nil {
		t.Skipf("end-to-end test needs real mpv and ffmpeg: %v", err)
	}
	dir := t.TempDir()
	srv, err := syncbench.StartServer(filepath.Join(dir, "server"), nil)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "server", "watchparty.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(func() {
		db.Close()
		if err := srv.Stop(); err != nil {
			t.Errorf("stop server: %v", err)
		}
		cancel()
	})
	return &hostile{t: t, srv: srv, db: db, dir: dir, ctx: ctx}
}

// user is a new user of the server (its own saved session).
func (h *hostile) user() room.Server {
	h.n++
	return room.Server{URL: h.srv.URL, AnonKey: h.srv.AnonKey, SessionDir: filepath.Join(h.dir, fmt.Sprintf("user%d", h.n))}
}

// createRoom creates a room as a script would (no session, no mpv) and returns its id and the
// creator's connection.
func (h *hostile) createRoom(nr room.NewRoom) (string, *room.Remote) {
	h.t.Helper()
	r, err := room.Connect(h.ctx, h.user())
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { r.Close() })
	nr.Username = "host"
	c, err := r.Create(h.ctx, nr)
	if err != nil {
		h.t.Fatal(err)
	}
	h.secret = c.InviteSecret
	return c.RoomID, r
}

// write changes the stored room behind the server's back.
func (h *hostile) write(query string, args ...any) {
	h.t.Helper()
	res, err := h.db.ExecContext(h.ctx, query, args...)
	if err != nil {
		h.t.Fatalf("%s: %v", query, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		h.t.Fatalf("%s: no row changed", query)
	}
}

// userMPV is an mpv the guest already runs (--mpv-socket), so the test can watch it.
func userMPV(t *testing.T, ctx context.Context) (*player.Player, string) {
	t.Helper()
	sockDir, err := os.MkdirTemp("", "wpt")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sockDir) })
	sock := filepath.Join(sockDir, "mpv.sock")
	p, err := player.Launch(ctx, player.LaunchOptions{Socket: sock, NoWindow: true, ExtraArgs: []string{"--vo=null", "--ao=null"}})
	if err != nil {
		t.Fatal(err)
	}
	pid := p.Pid()
	mpvPids.mu.Lock()
	mpvPids.pids = append(mpvPids.pids, pid)
	mpvPids.mu.Unlock()
	t.Cleanup(func() { p.Close() })
	return p, sock
}

// TestHostileRoomMediaNeverReachesMPV: the room's stored media_url is an av://lavfi filter
// that writes a file (the critical hole of issue 10). A guest joining without --media must not
// open it: no mpv command, no file, a clear error pointing at --media.
func TestHostileRoomMediaNeverReachesMPV(t *testing.T) {
	h := newHostile(t)
	target := filepath.Join(t.TempDir(), "authorized_keys")
	evil := "av://lavfi:testsrc=duration=2:size=64x48,metadata=mode=print:file=" + target

	// The attack is real with this mpv: loaded directly, the URL writes the file.
	control := filepath.Join(t.TempDir(), "control.txt")
	cp, _ := userMPV(t, h.ctx)
	lctx, cancel := context.WithTimeout(h.ctx, 15*time.Second)
	err := cp.Load(lctx, strings.ReplaceAll(evil, target, control), 0, false)
	cancel()
	if err != nil {
		t.Fatalf("control load: %v", err)
	}
	h.waitFile(control)
	cp.Close()

	id, _ := h.createRoom(room.NewRoom{MediaTitle: "film", MediaDuration: 60})
	h.write(`UPDATE rooms SET media_url = ? WHERE room_id = ?`, evil, id)

	mpv, sock := userMPV(t, h.ctx)
	var asked atomic.Int64
	sess, err := room.Join(h.ctx, h.user(), room.Options{
		RoomID: id, Username: "guest", InviteSecret: h.secret,
		MPV: room.MPV{Socket: sock},
		ConfirmMedia: func(context.Context, string) (bool, error) {
			asked.Add(1)
			return true, nil // even a user who says yes to everything is safe
		},
	})
	if err == nil {
		sess.Close()
		t.Fatal("joined a room whose media is an av://lavfi filter")
	}
	if !errors.Is(err, room.ErrRoomMediaRefused) {
		t.Fatalf("join error %v, want ErrRoomMediaRefused", err)
	}
	msg := err.Error()
	for _, want := range []string{"not opening the room's media", "not an http:// or https:// URL", "--media"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not say %q", msg, want)
		}
	}
	if n := asked.Load(); n != 0 {
		t.Errorf("the guest was asked %d times about a URL that is refused outright", n)
	}
	// The guest's mpv was never given anything.
	var idle bool
	var count int
	if err := mpv.GetProperty(h.ctx, "idle-active", &idle); err != nil || !idle {
		t.Errorf("guest's mpv idle-active = %v (%v), want true", idle, err)
	}
	if err := mpv.GetProperty(h.ctx, "playlist-count", &count); err != nil || count != 0 {
		t.Errorf("guest's mpv playlist-count = %d (%v), want 0", count, err)
	}
	if _, err := os.Stat(target); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("%s exists (%v)", target, err)
	}
}

// waitFile waits until path exists.
func (h *hostile) waitFile(path string) {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("%s was not written within 10 s", path)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRoomURLNeedsConsent: a plain https URL is still opened only when the guest accepts it.
func TestRoomURLNeedsConsent(t *testing.T) {
	h := newHostile(t)
	var requests atomic.Int64
	media := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		http.NotFound(w, r)
	}))
	defer media.Close()
	id, _ := h.createRoom(room.NewRoom{MediaURL: media.URL + "/film.mp4", MediaTitle: "film"})
	var shown string
	_, err := room.Join(h.ctx, h.user(), room.Options{
		RoomID: id, Username: "guest", InviteSecret: h.secret,
		MPV: room.MPV{Args: []string{"--vo=null", "--ao=null"}},
		ConfirmMedia: func(_ context.Context, u string) (bool, error) {
			shown = u
			return false, nil
		},
	})
	if !errors.Is(err, room.ErrRoomMediaNotAccepted) {
		t.Fatalf("join = %v, want ErrRoomMediaNotAccepted", err)
	}
	if shown != media.URL+"/film.mp4" {
		t.Errorf("the prompt showed %q", shown)
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("the media server was asked %d times", n)
	}
}

// TestAbsurdRoomStateIsClamped: the stored room says current_time 1e308, rate 100, no
// duration; the host's member row says it is at 1e308. The guest's mpv gets a sane speed and
// position and the session's drift figures stay finite.
func TestAbsurdRoomStateIsClamped(t *testing.T) {
	h := newHostile(t)
	clip := testClip(t)
	id, _ := h.createRoom(room.NewRoom{MediaTitle: "film"})
	h.write(`UPDATE rooms SET "current_time" = 1e308, playback_rate = 100, is_playing = 1, state_version = state_version + 1 WHERE room_id = ?`, id)
	h.write(`UPDATE room_members SET "current_time" = 1e308 WHERE room_id = ? AND username = 'host'`, id)

	_, sock := userMPV(t, h.ctx)
	sess, err := room.Join(h.ctx, h.user(), room.Options{RoomID: id, Username: "guest", InviteSecret: h.secret, Media: clip, MPV: room.MPV{Socket: sock}})
	if err != nil {
		t.Fatalf("join: %v", err)
	}
	defer sess.Close()
	go func() {
		for range sess.Events() {
		}
	}()
	probe, err := syncbench.Attach(h.ctx, sock)
	if err != nil {
		t.Fatal(err)
	}
	defer probe.Close()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		s, err := probe.Read(h.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if s.Speed > wparty.MaxRate*(1+wparty.MaxNudge)+1e-9 || s.Interp > clipSeconds+0.1 || s.Interp < 0 {
			t.Fatalf("guest's mpv at %.3f, speed %.3f", s.Interp, s.Speed)
		}
		snap := sess.Snapshot()
		if snap.Rate != wparty.MaxRate && snap.Rate != 0 {
			t.Fatalf("room rate %v, want %v", snap.Rate, float64(wparty.MaxRate))
		}
		if e := snap.Sync.Expected; math.IsNaN(e) || e < 0 || e > wparty.MaxPosition {
			t.Fatalf("expected position %v", e)
		}
		for _, m := range snap.Members {
			if d := m.DriftMS; d < -wparty.MaxPosition*1000 || d > wparty.MaxPosition*1000 || m.Position > wparty.MaxPosition {
				t.Fatalf("member %q: position %v, drift %d ms", m.Name, m.Position, d)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestJoinGivesUpOnMediaThatNeverAnswers: the room's (accepted) URL accepts the connection and
// never answers; the join fails after the load timeout instead of hanging.
func TestJoinGivesUpOnMediaThatNeverAnswers(t *testing.T) {
	h := newHostile(t)
	release := make(chan struct{})
	media := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer media.Close()
	defer close(release)
	id, _ := h.createRoom(room.NewRoom{MediaURL: media.URL + "/film.mp4", MediaTitle: "film"})
	start := time.Now()
	_, err := room.Join(h.ctx, h.user(), room.Options{
		RoomID: id, Username: "guest", InviteSecret: h.secret, LoadTimeout: 2 * time.Second,
		MPV:          room.MPV{Args: []string{"--vo=null", "--ao=null", "--ytdl=no"}},
		ConfirmMedia: func(context.Context, string) (bool, error) { return true, nil },
	})
	if err == nil || !strings.Contains(err.Error(), "did not start within 2s") {
		t.Fatalf("join = %v, want a load timeout", err)
	}
	if took := time.Since(start); took > 15*time.Second {
		t.Fatalf("join gave up after %v", took)
	}
}

// logCounter counts log records whose message is msg.
type logCounter struct {
	msg string
	n   atomic.Int64
}

func (c *logCounter) Enabled(context.Context, slog.Level) bool { return true }
func (c *logCounter) Handle(_ context.Context, r slog.Record) error {
	if r.Message == c.msg {
		c.n.Add(1)
	}
	return nil
}
func (c *logCounter) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *logCounter) WithGroup(string) slog.Handler      { return c }

// TestNoSeekStormOnUnseekableMedia: the guest's copy is a stream mpv cannot seek in (no
// length, no ranges, served at its own pace) and the room is far ahead. The guest's seeks
// back off and it is told once.
func TestNoSeekStormOnUnseekableMedia(t *testing.T) {
	h := newHostile(t)
	clip := testClip(t)
	ts := filepath.Join(t.TempDir(), "clip.ts")
	if out, err := exec.Command("ffmpeg", "-v", "error", "-y", "-i", clip, "-c", "copy", "-f", "mpegts", ts).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, out)
	}
	data, err := os.ReadFile(ts)
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var once sync.Once
	media := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "video/mp2t")
		step := len(data) / clipSeconds / 10
		for i := 0; i < len(data); i += step {
			if _, err := w.Write(data[i:min(i+step, len(data))]); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-time.After(100 * time.Millisecond):
			case <-r.Context().Done():
				return
			case <-stop:
				return
			}
		}
	}))
	defer media.Close()
	defer once.Do(func() { close(stop) })

	id, creator := h.createRoom(room.NewRoom{MediaTitle: "film", MediaDuration: clipSeconds})
	if _, err := creator.Control(h.ctx, id, "play", 40, nil); err != nil {
		t.Fatal(err)
	}
	tries := &logCounter{msg: "correction seek did not work"}
	sess, err := room.Join(h.ctx, h.user(), room.Options{
		RoomID: id, Username: "guest", InviteSecret: h.secret, Media: media.URL + "/clip.ts", Logger: slog.New(tries),
		MPV: room.MPV{Args: []string{"--vo=null", "--ao=null", "--ytdl=no"}},
	})
	if err != nil {
		t.Fatalf("join: %v", err)
	}
	defer sess.Close()
	notices := make(chan string, 64)
	go func() {
		for ev := range sess.Events() {
			if n, ok := ev.(room.Notice); ok {
				notices <- n.Text
			}
		}
		close(notices)
	}()
	// Watch for 8 s: at most a handful of seeks (back-off 1, 2, 4 s after each 2 s wait for
	// a seek mpv never starts), and exactly one notice.
	watch := time.After(8 * time.Second)
	var said []string
loop:
	for {
		select {
		case n := <-notices:
			if strings.Contains(n, "seeking does not work") {
				said = append(said, n)
			}
		case <-watch:
			break loop
		}
	}
	if len(said) != 1 {
		t.Errorf("seek notices %q, want exactly one", said)
	}
	if n := tries.n.Load(); n < 1 || n > 4 {
		t.Errorf("%d failed correction seeks in 8 s, want 1–4", n)
	}
	once.Do(func() { close(stop) })
}
