//go:build !windows

package room_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/watchparty/watchparty/bench/syncbench"
)

// throttle serves one file over http at a rate set on demand: unlimited (0) or bytes a
// second, so that a member's real mpv really buffers (mpv reads a network stream ahead only
// a few seconds with the arguments below).
type throttle struct {
	path string
	rate atomic.Int64 // bytes a second; 0: as fast as it goes
}

func (th *throttle) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f, err := os.Open(th.path)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	http.ServeContent(w, r, "clip.mp4", fi.ModTime(), &slowReader{f: f, th: th, ctx: r.Context()})
}

// slowReader reads the file at the throttle's rate, in 20 steps a second.
type slowReader struct {
	f   *os.File
	th  *throttle
	ctx context.Context
}

func (s *slowReader) Read(b []byte) (int, error) {
	if rate := s.th.rate.Load(); rate > 0 {
		select {
		case <-time.After(50 * time.Millisecond):
		case <-s.ctx.Done():
			return 0, s.ctx.Err()
		}
		b = b[:min(len(b), max(int(rate/20), 1))]
	}
	return s.f.Read(b)
}

func (s *slowReader) Seek(off int64, whence int) (int64, error) { return s.f.Seek(off, whence) }

// bufferingArgs make a member's mpv read its network stream only 3 s ahead, so that a throttled
// stream runs dry soon (mpv's defaults would read the whole clip at once).
var bufferingArgs = []string{"--vo=null", "--ao=null", "--cache=yes", "--cache-secs=3", "--demuxer-readahead-secs=3"}

// A member whose mpv buffers after a seek makes the room wait: everyone paused at one position,
// waiting_for that member, until they are ready (then the room plays on) — within the room's
// wait limit; the host's "don't wait" ends a wait at once; a member waited for is not waited
// for again within a minute; and nobody waits for a member who buffers in steady play. Real
// mpvs, a real server, and media served slower than its bitrate.
func TestWaitForABufferingMember(t *testing.T) {
	p := newParty(t)
	testClip(t) // skips without mpv and ffmpeg
	// A clip of its own, long enough for every stage even on a busy machine (the shared one
	// ends after a minute).
	const clipLength = 300
	clip := filepath.Join(t.TempDir(), "long.mp4")
	if err := syncbench.MakeClip(clip, clipLength); err != nil {
		t.Fatal(err)
	}
	p.pt.Media = clip
	fi, err := os.Stat(clip)
	if err != nil {
		t.Fatal(err)
	}
	bitrate := fi.Size() / clipLength // bytes a second
	slow := bitrate / 5
	bobTh, carolTh := &throttle{path: clip}, &throttle{path: clip}
	mux := http.NewServeMux()
	mux.Handle("/bob.mp4", bobTh)
	mux.Handle("/carol.mp4", carolTh)
	media := httptest.NewUnstartedServer(mux)
	// A small send buffer: what the kernel holds for mpv is not the whole clip, read while fast.
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUF, 8<<10) })
		return errors.Join(err, serr)
	}}
	ln, err := lc.Listen(p.ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	media.Listener.Close()
	media.Listener = ln
	media.Start()
	t.Cleanup(func() {
		p.pt.Close() // the mpvs reading from it first (cleanups run last registered first)
		bobTh.rate.Store(0)
		carolTh.rate.Store(0)
		media.CloseClientConnections()
		media.Close()
	})

	if path := os.Getenv("WAIT_TEST_LOG"); path != "" { // the sessions' diagnostics, to debug this test
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		p.pt.Logger = slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	hostLog := filepath.Join(t.TempDir(), "alice-mpv.log")
	p.pt.MPVArgs = []string{"--vo=null", "--ao=null", "--log-file=" + hostLog, "--msg-level=cplayer=trace"}
	alice := p.host("alice")
	roomID := alice.Session.Snapshot().RoomID
	// bob's name is remote text on everyone's OSD: it must stay literal there.
	const bobName = `bob${path}{\an8}`
	p.pt.MPVArgs = bufferingArgs
	p.pt.Media = media.URL + "/bob.mp4"
	bob := p.join(roomID, bobName)
	p.pt.Media = media.URL + "/carol.mp4"
	carol := p.join(roomID, "carol")
	p.pt.MPVArgs = nil
	t.Logf("clip %d bytes a second; throttled to %d", bitrate, slow)

	waiting := func() []string { return alice.Session.Snapshot().Waiting }
	buffering := func(name string) bool {
		for _, m := range alice.Session.Snapshot().Members {
			if m.Name == name {
				return m.Buffering
			}
		}
		return false
	}
	// together reads everyone's mpv: each must pass ok, and the positions taken (pos; skip
	// false) must lie within tol of each other.
	together := func(tol float64, ok func(*member, syncbench.Sample) bool, pos func(syncbench.Sample) (float64, bool)) (bool, string) {
		var at []float64
		var why []string
		for _, m := range []*member{alice, bob, carol} {
			s, err := m.probe.Read(p.ctx)
			if err != nil {
				return false, err.Error()
			}
			why = append(why, fmt.Sprintf("%s at %.3f paused %v seeking %v", m.Name, s.Interp, s.Paused, s.Seeking))
			if !ok(m, s) {
				return false, strings.Join(why, "; ")
			}
			if v, take := pos(s); take {
				at = append(at, v)
			}
		}
		return slices.Max(at)-slices.Min(at) <= tol, strings.Join(why, "; ")
	}
	// everyone playing within half a second (this test is not about how close: the sync tests
	// and the benchmark are)
	playTogether := func() (bool, string) {
		return together(0.5, func(_ *member, s syncbench.Sample) bool { return !s.Paused && !s.Seeking },
			func(s syncbench.Sample) (float64, bool) { return s.Interp + time.Since(s.At).Seconds()*s.Speed, true })
	}
	// everyone paused at one frame; the member waited for may still be seeking there (a slow
	// stream), paused
	heldTogether := func(waited *member) (bool, string) {
		return together(rawSyncTolerance, func(m *member, s syncbench.Sample) bool { return s.Paused && (!s.Seeking || m == waited) },
			func(s syncbench.Sample) (float64, bool) { return s.Raw, !s.Seeking })
	}

	// Steady play: bob buffers with nothing the room did just before, and catches up alone.
	if err := alice.Session.TogglePlay(p.ctx); err != nil {
		t.Fatal(err)
	}
	p.waitFor(60*time.Second, "everyone plays together", playTogether)
	time.Sleep(5 * time.Second) // past the wait window of the play
	bobTh.rate.Store(slow)
	p.waitFor(30*time.Second, "bob buffers in steady play", func() (bool, string) {
		return buffering(bobName), "bob's row does not say buffering"
	})
	p.holds(2*time.Second, "nobody waits for a member buffering in steady play", func() (bool, string) {
		return len(waiting()) == 0 && alice.Session.Snapshot().Playing, fmt.Sprintf("waiting for %q", waiting())
	})
	bobTh.rate.Store(0)
	p.waitFor(60*time.Second, "bob catches up alone", playTogether)

	// A seek while carol's stream is slow: the room waits for her, and plays on once she is ready.
	carolTh.rate.Store(slow)
	seekAt := time.Now()
	if err := alice.Session.SeekTo(p.ctx, 40); err != nil {
		t.Fatal(err)
	}
	waitStart := p.waitFor(20*time.Second, "the room waits for carol", func() (bool, string) {
		return slices.Equal(waiting(), []string{"carol"}), fmt.Sprintf("waiting for %q", waiting())
	})
	p.waitFor(10*time.Second, "everyone holds at one position", func() (bool, string) { return heldTogether(carol) })
	p.notice(bob, "waiting for carol (buffering)", 5*time.Second)
	held := time.Now()
	time.Sleep(time.Second)
	carolTh.rate.Store(0)
	resumed := p.waitFor(20*time.Second, "the room plays on", func() (bool, string) {
		s := alice.Session.Snapshot()
		return len(s.Waiting) == 0 && s.Playing, fmt.Sprintf("waiting for %q, playing %v", s.Waiting, s.Playing)
	})
	waited, heldFor := time.Since(seekAt), time.Since(held)
	p.notice(alice, "carol is ready: playing", 5*time.Second)
	p.waitFor(60*time.Second, "everyone plays together after the wait", playTogether)
	t.Logf("seek to wait %v; held together, the stream slow 1 s more, then playing %v later (%v after the stream was fast); seek to play %v",
		waitStart.Round(time.Millisecond), heldFor.Round(time.Millisecond), resumed.Round(time.Millisecond), waited.Round(time.Millisecond))
	if limit := alice.Session.Snapshot().WaitLimit; waited > limit+2*time.Second {
		t.Errorf("the wait ended %v after the seek, past the room's limit of %v", waited, limit)
	}

	// The host doesn't wait: bob buffers after a seek, and the host ends the wait at once.
	bobTh.rate.Store(slow)
	if err := alice.Session.SeekTo(p.ctx, 20); err != nil {
		t.Fatal(err)
	}
	p.waitFor(20*time.Second, "the room waits for bob", func() (bool, string) {
		return slices.Equal(waiting(), []string{bobName}), fmt.Sprintf("waiting for %q", waiting())
	})
	p.waitFor(10*time.Second, "alice's mpv shows the wait, with bob's name literal", func() (bool, string) {
		b, _ := os.ReadFile(hostLog)
		return strings.Contains(string(b), `text="waiting for bob${path}{\\an8} (buffering)"`), "not in mpv's log yet: " + grepShow(b)
	})
	ended := time.Now()
	if err := alice.Session.EndWait(p.ctx); err != nil {
		t.Fatal(err)
	}
	p.waitFor(5*time.Second, "the room plays on without bob", func() (bool, string) {
		s := alice.Session.Snapshot()
		return len(s.Waiting) == 0 && s.Playing, fmt.Sprintf("waiting for %q, playing %v", s.Waiting, s.Playing)
	})
	t.Logf("don't wait to playing: %v", time.Since(ended).Round(time.Millisecond))
	p.notice(alice, "not waiting for bob", 5*time.Second)
	p.notice(carol, "went on without bob", 5*time.Second)
	bobTh.rate.Store(0)
	p.waitFor(60*time.Second, "bob catches up", playTogether)

	// A second buffer within a minute: no wait.
	bobTh.rate.Store(slow)
	if err := alice.Session.SeekTo(p.ctx, 5); err != nil {
		t.Fatal(err)
	}
	p.waitFor(20*time.Second, "bob buffers after the seek", func() (bool, string) {
		return buffering(bobName), "bob's row does not say buffering"
	})
	p.holds(2*time.Second, "nobody waits for bob again within a minute", func() (bool, string) {
		return len(waiting()) == 0, fmt.Sprintf("waiting for %q", waiting())
	})
	bobTh.rate.Store(0)
	if d := math.Abs(p.position(alice) - p.position(carol)); d > 1 {
		t.Errorf("carol is %.3f s from alice", d)
	}
}
