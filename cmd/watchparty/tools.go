package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// ensureMPV finds mpv. When it is missing on a Debian-like machine and we are root, it installs
// it with apt-get (saying so), so `watchparty host` works on a fresh machine in one command.
// source names where binary came from ("--mpv", "config \"mpv\""), "" for the default.
func ensureMPV(ctx context.Context, binary, source string, log io.Writer) (string, error) {
	if binary == "" {
		binary = "mpv"
	}
	path, err := exec.LookPath(binary)
	if err == nil {
		return path, nil
	}
	if source != "" {
		return "", badMPV(binary, source)
	}
	hint := "mpv not found on PATH: install it with your package manager (e.g. apt install mpv), or pass --mpv PATH if it is installed elsewhere"
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		return "", errors.New(hint)
	}
	apt, err := exec.LookPath("apt-get")
	if err != nil {
		return "", errors.New(hint)
	}
	fmt.Fprintln(log, "mpv is not installed: installing it with apt-get (this takes a minute)…")
	for _, args := range [][]string{{"update", "-qq"}, {"install", "-y", "-qq", "--no-install-recommends", "mpv"}} {
		cmd := exec.CommandContext(ctx, apt, args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("apt-get %s failed: %v\n%s", args[0], err, tail(out, 400))
		}
	}
	path, err = exec.LookPath("mpv")
	if err != nil {
		return "", errors.New(hint)
	}
	fmt.Fprintln(log, "mpv installed.")
	return path, nil
}

// badMPV says why the mpv binary the user named (with --mpv or in config.toml) cannot be run.
func badMPV(binary, source string) error {
	var why string
	if st, serr := os.Stat(binary); serr == nil {
		if st.IsDir() {
			why = "is a directory"
		} else {
			why = "is not executable"
		}
	} else if strings.ContainsRune(binary, os.PathSeparator) || strings.Contains(binary, "/") {
		why = "no such file"
	} else {
		why = "not found on PATH"
	}
	return usageErrorf("%s %s: %s: give the path of the mpv program (or leave %s out to use mpv from PATH)", source, binary, why, source)
}

// checkMedia checks a --media value that is a local file: it must exist and not be a
// directory. URLs (anything with "://") are mpv's to open.
func checkMedia(media string) error {
	if media == "" || strings.Contains(media, "://") {
		return nil
	}
	st, err := os.Stat(media)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return usageErrorf("--media %s: no such file: give the path of your copy of the video", media)
	case err != nil:
		return fmt.Errorf("--media %s: cannot open it: %v", media, errors.Unwrap(err))
	case st.IsDir():
		return usageErrorf("--media %s is a directory: give the video file in it", media)
	}
	return nil
}

// checkSocket refuses an --mpv-socket path that exists and is not a socket: mpv would replace
// the file with its socket.
func checkSocket(path string) error {
	if path == "" || runtime.GOOS == "windows" {
		return nil // a named pipe on Windows
	}
	st, err := os.Lstat(path)
	if err != nil || st.Mode()&os.ModeSocket != 0 {
		return nil // missing: mpv is launched on it; a socket: attach
	}
	what := "a file"
	if st.IsDir() {
		what = "a directory"
	}
	return usageErrorf("--mpv-socket %s is %s, not a socket: give the socket of a running mpv (--input-ipc-server), or a path that does not exist yet", path, what)
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// demoClip returns a short test clip that can seek both ways (av://lavfi: sources can't seek
// backwards), rendering it once into the cache dir with mpv's own encoder.
func demoClip(ctx context.Context, mpvPath, cacheDir string, log io.Writer) (string, error) {
	path := filepath.Join(cacheDir, "demo-90s.mkv")
	if st, err := os.Stat(path); err == nil && st.Size() > 0 {
		return path, nil
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", err
	}
	fmt.Fprintln(log, "rendering a 90 s demo clip (once, about 20 s)…")
	tmp := path + ".tmp.mkv"
	cmd := exec.CommandContext(ctx, mpvPath, "--no-config", "--untimed", "--really-quiet",
		"av://lavfi:testsrc2=size=480x270:rate=25:duration=90",
		"--audio-file=av://lavfi:sine=frequency=440:duration=90",
		"--o="+tmp, "--ovc=libx264", "--ovcopts=g=25,preset=veryfast", "--oac=aac")
	if out, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("render the demo clip: %v\n%s", err, tail(out, 400))
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", err
	}
	return path, nil
}
