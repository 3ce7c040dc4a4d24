package player

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// mediaDuration is the length of the test clip in seconds.
const mediaDuration = 30.0

// media is one clip per test binary, made on first use by testMedia and
// removed by TestMain.
var media struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// needMPV skips the test when the real programs are missing.
func needMPV(t testing.TB) {
	t.Helper()
	for _, bin := range []string{"mpv", "ffmpeg"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("integration test needs %s on PATH (apt-get install -y mpv ffmpeg): %v", bin, err)
		}
	}
}

// testMedia returns a 30 s clip (H.264 160x120 at 25 fps with a keyframe
// every second, AAC sine audio), made with ffmpeg. A real file, because
// av://lavfi: sources cannot seek backwards.
func testMedia(t testing.TB) string {
	t.Helper()
	needMPV(t)
	media.once.Do(func() {
		media.dir, media.err = os.MkdirTemp("", "player-test-media-")
		if media.err != nil {
			return
		}
		path := filepath.Join(media.dir, "clip.mp4")
		out, err := exec.Command("ffmpeg", "-v", "error", "-y",
			"-f", "lavfi", "-i", "testsrc=duration=30:size=160x120:rate=25",
			"-f", "lavfi", "-i", "sine=frequency=440:duration=30",
			"-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-pix_fmt", "yuv420p",
			"-c:a", "aac", "-shortest", path).CombinedOutput()
		if err != nil {
			t.Logf("ffmpeg: %v: %s", err, out)
			media.err = err
			return
		}
		media.path = path
	})
	if media.err != nil {
		t.Fatalf("make test media: %v", media.err)
	}
	return media.path
}

func cleanupMedia() {
	if media.dir != "" {
		_ = os.RemoveAll(media.dir)
	}
}
