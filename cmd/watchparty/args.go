package main

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
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

// negativeArgs, as a key of a command's Annotations, lets its positional arguments be negative
// numbers written as is ("seek -10 --room R"): pflag would read "-10" as the shorthand flags
// -1 and -0. No command has a digit shorthand, so before parsing, negativeNumbers moves such
// a lone negative number behind "--", where it is a positional argument.
const negativeArgs = "watchparty/negative-args"

// negativeNumber is a negative number or clock position: "-10", "-1.5", "-1:30".
var negativeNumber = regexp.MustCompile(`^-[0-9][0-9:.]*$`)

// negativeNumbers rewrites args for a command annotated with negativeArgs (see there); other
// command lines are returned unchanged.
func negativeNumbers(root *cobra.Command, args []string) []string {
	cmd, _, err := root.Find(args)
	if err != nil || cmd.Annotations[negativeArgs] == "" {
		return args
	}
	var kept, moved []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			kept = append(kept, args[i:]...)
			break
		}
		if negativeNumber.MatchString(a) && !takesValue(cmd, kept) {
			moved = append(moved, a)
			continue
		}
		kept = append(kept, a)
	}
	if len(moved) == 0 {
		return args
	}
	out := kept
	if !slices.Contains(out, "--") {
		out = append(out, "--")
	}
	return append(out, moved...)
}

// takesValue reports whether the last of args is a flag of cmd waiting for its value
// ("--room" in "--room -10", where -10 is the room).
func takesValue(cmd *cobra.Command, args []string) bool {
	if len(args) == 0 {
		return false
	}
	last := args[len(args)-1]
	var f *pflag.Flag
	switch {
	case strings.HasPrefix(last, "--") && !strings.Contains(last, "="):
		if f = cmd.Flags().Lookup(last[2:]); f == nil {
			f = cmd.InheritedFlags().Lookup(last[2:])
		}
	case strings.HasPrefix(last, "-") && len(last) == 2:
		if f = cmd.Flags().ShorthandLookup(last[1:]); f == nil {
			f = cmd.InheritedFlags().ShorthandLookup(last[1:])
		}
	}
	return f != nil && f.NoOptDefVal == ""
}
