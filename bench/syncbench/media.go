package syncbench

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
)

// NeedPrograms reports why real parties cannot run here: mpv or ffmpeg missing from PATH.
// It returns nil when both are present.
func NeedPrograms() error {
	for _, bin := range []string{"mpv", "ffmpeg"} {
		if _, err := exec.LookPath(bin); err != nil {
			return fmt.Errorf("%s is not on PATH (apt-get install -y mpv ffmpeg)", bin)
		}
	}
	return nil
}

// MakeClip renders a test clip to path with ffmpeg: testsrc2 video (160x120, 25 fps, H.264
// with a keyframe every 25 frames) and a 440 Hz sine (AAC), seconds long. A real file, because
// mpv cannot seek backwards in av://lavfi: sources.
func MakeClip(path string, seconds int) error {
	return makeClip(path, seconds, 25)
}

// BenchFPS is the frame rate of the sync benchmark's clip: positions read from mpv move in
// 1/BenchFPS steps (10 ms), finer than the 40 ms of a 25 fps clip.
const BenchFPS = 100

// MakeClipRate is MakeClip at fps frames per second, still with a keyframe every 25 frames
// (at 100 fps a seek decodes at most 0.25 s of video), at a low quality (x264 -crf 40) that
// keeps a 100 fps file about 2 MB a minute: what the picture looks like does not matter.
func MakeClipRate(path string, seconds, fps int) error {
	return makeClip(path, seconds, fps, "-crf", "40")
}

func makeClip(path string, seconds, fps int, x264 ...string) error {
	if seconds <= 0 || fps <= 0 {
		return errors.New("clip length and frame rate must be positive")
	}
	d := strconv.Itoa(seconds)
	args := []string{"-v", "error", "-y",
		"-f", "lavfi", "-i", "testsrc2=duration=" + d + ":size=160x120:rate=" + strconv.Itoa(fps),
		"-f", "lavfi", "-i", "sine=frequency=440:duration=" + d,
		"-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-pix_fmt", "yuv420p"}
	args = append(args, x264...)
	args = append(args, "-c:a", "aac", "-shortest", path)
	out, err := exec.Command("ffmpeg", args...).CombinedOutput()
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("ffmpeg: %v: %s", err, tail(out, 400))
	}
	return nil
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
