//go:build windows

package player

import "os"

// killedByQuitSignal: Windows has no signals; a process ended by TerminateProcess (Close's
// kill, a task manager) has the exit code its killer chose.
func killedByQuitSignal(*os.ProcessState) bool { return false }
