package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// Positional-argument validators (cobra.PositionalArgs). Their errors are usage errors (exit
// 2), typed as such: main never reads an error's text to decide its exit code.

// noArgs accepts no positional argument.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErrorf("%s takes no arguments, got %q%s", commandName(cmd), strings.Join(args, " "), seeHelp(cmd))
	}
	return nil
}

// exactArgs accepts exactly n arguments, described by what (e.g. "ROOM").
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageErrorf("%s accepts %d arg (%s), received %d%s", commandName(cmd), n, what, len(args), seeHelp(cmd))
		}
		return nil
	}
}

// minArgs accepts n or more arguments, described by what.
func minArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < n {
			return usageErrorf("%s requires at least %d arg (%s), received %d%s", commandName(cmd), n, what, len(args), seeHelp(cmd))
		}
		return nil
	}
}

// commandName is the command's path without the program's name ("join", "bench").
func commandName(cmd *cobra.Command) string {
	return strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ")
}

// seeHelp points at the command's help, at the end of an argument error.
func seeHelp(cmd *cobra.Command) string { return " (see " + cmd.CommandPath() + " --help)" }

// subcommand is the root's validator: the root takes no arguments, so an argument there is a
// command cobra did not find.
func subcommand(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErrorf("unknown command %q for %q%s", args[0], cmd.CommandPath(), seeHelp(cmd))
	}
	return nil
}

// exitError carries an exit code with its message.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageErrorf is a usage error: exit 2.
func usageErrorf(format string, args ...any) error {
	return &exitError{exitUsage, fmt.Errorf(format, args...)}
}

// isUsageError reports whether err is (or wraps) a usage error.
func isUsageError(err error) bool {
	var ee *exitError
	return errors.As(err, &ee) && ee.code == exitUsage
}
