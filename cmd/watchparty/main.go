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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRootCmd()
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	msg := lowerFirst(err.Error())
	if isUsageError(err) && !strings.Contains(msg, "--help") && cmd != nil {
		msg += " (see " + cmd.CommandPath() + " --help)"
	}
	fmt.Fprintln(os.Stderr, "watchparty: "+msg)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if isUsageError(err) {
		return exitUsage
	}
	return exitFailure
}

// Exit codes (DESIGN §4).
const (
	exitOK         = 0
	exitFailure    = 1
	exitUsage      = 2
	exitNotFound   = 3
	exitNotAllowed = 4
)

// exitError carries an exit code with its message.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageErrorf(format string, args ...any) error {
	return &exitError{exitUsage, fmt.Errorf(format, args...)}
}

// isUsageError recognises cobra's own argument and flag errors.
func isUsageError(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand", "flag needs an argument",
		"invalid argument", "accepts ", "requires at least", "requires at most", "required flag"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

func lowerFirst(s string) string {
	if s == "" || strings.HasPrefix(s, "API") || strings.HasPrefix(s, "JSON") {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
