//go:build !windows

package player

import (
	"os"
	"syscall"
)

// killedByQuitSignal reports whether mpv died of SIGINT, SIGTERM or SIGHUP: signals that ask a
// program to end (mpv quits on them when it handles them itself), not a crash.
func killedByQuitSignal(ps *os.ProcessState) bool {
	ws, ok := ps.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() {
		return false
	}
	switch ws.Signal() {
	case syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP:
		return true
	}
	return false
}
