//go:build !windows

package room_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/watchparty/watchparty/bench/syncbench"
)

// clip is one test clip per test binary, made with ffmpeg on first use.
var clip struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// clipSeconds is the test clip's length.
const clipSeconds = 60

// mpvPids are the mpv processes the tests saw (read over IPC); all must be gone at the end.
var mpvPids struct {
	mu   sync.Mutex
	pids []int
}

func TestMain(m *testing.M) {
	code := m.Run()
	if clip.dir != "" {
		os.RemoveAll(clip.dir)
	}
	if code == 0 {
		if err := mpvsGone(5 * time.Second); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// mpvsGone waits until every mpv the tests saw has exited.
func mpvsGone(within time.Duration) error {
	mpvPids.mu.Lock()
	pids := append([]int(nil), mpvPids.pids...)
	mpvPids.mu.Unlock()
	deadline := time.Now().Add(within)
	for _, pid := range pids {
		for syscall.Kill(pid, 0) == nil {
			if time.Now().After(deadline) {
				return fmt.Errorf("mpv (pid %d) is still running after the tests", pid)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nil
}

// testClip returns the 60 s test clip (25 fps, a keyframe a second, sine audio), or skips
// the test when mpv or ffmpeg is missing.
func testClip(t *testing.T) string {
	t.Helper()
	if err := syncbench.NeedPrograms(); err != nil {
		t.Skipf("end-to-end test needs real mpv and ffmpeg: %v", err)
	}
	clip.once.Do(func() {
		if clip.dir, clip.err = os.MkdirTemp("", "room-test-media-"); clip.err != nil {
			return
		}
		p := filepath.Join(clip.dir, "clip.mp4")
		if clip.err = syncbench.MakeClip(p, clipSeconds); clip.err == nil {
			clip.path = p
		}
	})
	if clip.err != nil {
		t.Fatalf("make test clip: %v", clip.err)
	}
	return clip.path
}
