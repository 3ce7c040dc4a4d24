//go:build linux

package player

import (
	"os/exec"
	"runtime"
	"syscall"
)

// spawn starts cmd so that it dies with us, and calls exited with Wait's result once it has
// exited and been reaped.
//
// Linux: the child gets a parent-death signal (SIGKILL). The kernel sends it when the thread
// that forked the child ends, not the process, and Go retires idle threads, so the child is
// forked from a goroutine locked to its thread, and that goroutine keeps the thread (waiting
// for the child) until the child has exited. The signal then fires only when watchparty itself
// dies, however it dies (kill -9 included). Go's fork checks, right after setting the signal,
// whether the parent is already gone, so a death during the fork is covered too.
func spawn(cmd *exec.Cmd, exited func(error)) error {
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread() // only after Wait: the child is reaped by then
		if cmd.SysProcAttr == nil {
			cmd.SysProcAttr = &syscall.SysProcAttr{}
		}
		cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		exited(cmd.Wait())
	}()
	return <-started
}
