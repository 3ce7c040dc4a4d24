//go:build !windows

package player

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
)

// dial connects to mpv's unix socket once.
func dial(ctx context.Context, path string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "unix", path)
}

// privateSocket returns a socket path in a new directory only this user can
// enter (mpv's IPC can run any command, so no one else may connect), and a
// function that removes the directory.
func privateSocket() (string, func(), error) {
	dir, err := os.MkdirTemp("", "watchparty-mpv-")
	if err != nil {
		return "", nil, fmt.Errorf("create mpv socket directory: %w", err)
	}
	return filepath.Join(dir, "mpv.sock"), func() { _ = os.RemoveAll(dir) }, nil
}

// removeStaleSocket removes the socket file mpv leaves behind when it exits
// (it never unlinks it), but only if it is a socket nobody listens on.
func removeStaleSocket(path string) {
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode()&os.ModeSocket == 0 {
		return
	}
	if nc, err := net.Dial("unix", path); err == nil {
		_ = nc.Close()
		return
	}
	_ = os.Remove(path)
}
