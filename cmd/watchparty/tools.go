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
)

// ensureMPV finds mpv. When it is missing on a Debian-like machine and we are root, it installs
// it with apt-get (saying so), so `watchparty host` works on a fresh machine in one command.
func ensureMPV(ctx context.Context, binary string, log io.Writer) (string, error) {
	if binary == "" {
		binary = "mpv"
	}
	if path, err := exec.LookPath(binary); err == nil {
		return path, nil
	}
	hint := "mpv not found: install it with your package manager, e.g. apt install mpv (or pass --mpv PATH)"
	if binary != "mpv" || runtime.GOOS != "linux" || os.Geteuid() != 0 {
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
	path, err := exec.LookPath("mpv")
	if err != nil {
		return "", errors.New(hint)
	}
	fmt.Fprintln(log, "mpv installed.")
	return path, nil
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
