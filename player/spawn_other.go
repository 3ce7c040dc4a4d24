//go:build !linux && !windows

package player

import "os/exec"

// spawn starts cmd and calls exited with Wait's result once it has exited and been reaped.
//
// macOS and the BSDs have no parent-death signal: an mpv we started outlives a watchparty that
// is killed outright (kill -9). It shares our process group, so what the terminal sends us
// (Ctrl-C, the hang-up of a closed terminal) reaches it too, and our own signal handling
// stops it on SIGINT and SIGTERM (docs/player.md).
func spawn(cmd *exec.Cmd, exited func(error)) error {
	if err := cmd.Start(); err != nil {
		return err
	}
	go func() { exited(cmd.Wait()) }()
	return nil
}
