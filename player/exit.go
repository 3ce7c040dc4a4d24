package player

import (
	"context"
	"os"
)

// ExitReason says how an mpv that Launch started ended.
type ExitReason int

const (
	// ExitUnknown: mpv has not exited yet, or the Player is attached to an mpv it did not
	// start, whose exit status is not ours to see.
	ExitUnknown ExitReason = iota
	// ExitQuit: the user ended mpv — q in its window or closing the window (exit status 0),
	// Ctrl+C in the window (status 4, mpv's "quit due to a signal"), or SIGINT, SIGTERM or
	// SIGHUP (Ctrl-C in our terminal, closing the terminal, kill PID). mpv quits with status
	// 4 on those signals when it handles them; with --no-input-terminal it does not, and dies
	// of them, which means the same.
	ExitQuit
	// ExitCrashed: mpv died — killed by any other signal (SIGKILL, a segfault, an abort) or
	// exited with another non-zero status.
	ExitCrashed
	// ExitStopped: Close stopped it.
	ExitStopped
)

// mpvQuitBySignal is mpv's exit status when it quits because of SIGINT, SIGTERM or SIGHUP, or
// by its default Ctrl+C binding (mpv(1), EXIT CODES).
const mpvQuitBySignal = 4

func (r ExitReason) String() string {
	switch r {
	case ExitQuit:
		return "quit"
	case ExitCrashed:
		return "crashed"
	case ExitStopped:
		return "stopped"
	}
	return "unknown"
}

// exitReason classifies a finished mpv from its process state (nil when Wait could not tell)
// and whether Close was stopping it.
func exitReason(ps *os.ProcessState, stopping bool) ExitReason {
	switch {
	case stopping:
		return ExitStopped
	case ps == nil:
		return ExitCrashed
	case ps.Success(), ps.ExitCode() == mpvQuitBySignal, killedByQuitSignal(ps):
		return ExitQuit
	}
	return ExitCrashed
}

// WaitExit waits until the mpv that Launch started has exited and been reaped, or ctx ends,
// and says how it ended: ExitQuit when the user quit it, ExitCrashed when it died, ExitStopped
// after Close. Its events end (EventClosed) a moment before the process does. For an attached
// Player it waits for the connection to end and returns ExitUnknown. The error is ctx's.
func (p *Player) WaitExit(ctx context.Context) (ExitReason, error) {
	if p.proc == nil {
		select {
		case <-p.c.Done():
			return ExitUnknown, nil
		case <-ctx.Done():
			return ExitUnknown, ctx.Err()
		}
	}
	select {
	case <-p.proc.exited:
		return p.proc.reason, nil
	case <-ctx.Done():
		return ExitUnknown, ctx.Err()
	}
}
