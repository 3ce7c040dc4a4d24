// Command watchparty is a terminal watch-party for mpv: friends run `watchparty join ROOM`, and
// everyone's mpv follows the host. `watchparty serve` is the embedded backend.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// Set by the release build (-X main.version=… -X main.commit=…).
var (
	version = "dev"
	commit  = "none"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	sigs := []os.Signal{os.Interrupt, syscall.SIGTERM}
	// SIGHUP too (the terminal closed): leave the room and stop mpv, as on Ctrl-C; on macOS,
	// which has no parent-death signal, this is what stops our mpv (docs/player.md). Not
	// under nohup: catching an ignored SIGHUP would undo it.
	if !signal.Ignored(syscall.SIGHUP) {
		sigs = append(sigs, syscall.SIGHUP)
	}
	ctx, stop := signal.NotifyContext(context.Background(), sigs...)
	defer stop()
	root := newRootCmd()
	root.SetArgs(negativeNumbers(root, args))
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(os.Stderr, "watchparty: "+lowerFirst(err.Error()))
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if isUsageError(err) {
		return exitUsage
	}
	return exitFailure
}

// Exit codes (docs/design.md §4).
const (
	exitOK         = 0
	exitFailure    = 1
	exitUsage      = 2
	exitNotFound   = 3
	exitNotAllowed = 4
	exitNotReady   = 5 // play held by the ready check (docs/design.md §4)
)

func lowerFirst(s string) string {
	if s == "" || strings.HasPrefix(s, "API") || strings.HasPrefix(s, "JSON") {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
