package main

import (
	"context"
	"io"
	"reflect"
	"testing"

	"github.com/spf13/cobra"
)

// execute runs cmd with args, its output discarded.
func execute(cmd *cobra.Command, args ...string) error {
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	return cmd.ExecuteContext(context.Background())
}

func TestJoinOptions(t *testing.T) {
	var got *joinOptions
	cmd := newJoinCmd(&globalFlags{}, func(_ context.Context, o *joinOptions) error { got = o; return nil })
	err := execute(cmd, " abc123def4 ", "--name", "bob", "--media", "demo", "--headless", "--json",
		"--accept-room-media", "--mpv", "/opt/mpv", "--mpv-socket", "/tmp/s", "--mpv-arg=--fs", "--mpv-arg=--vo=null")
	if err != nil {
		t.Fatal(err)
	}
	want := joinOptions{
		sessionOptions: sessionOptions{Name: "bob", Media: "demo", Headless: true, JSON: true,
			MPV: mpvFlags{binary: "/opt/mpv", socket: "/tmp/s", args: []string{"--fs", "--vo=null"}}},
		RoomID: "abc123def4", AcceptRoomMedia: true,
	}
	got.global, got.io = nil, ioStreams{}
	if !reflect.DeepEqual(*got, want) {
		t.Fatalf("options = %+v, want %+v", *got, want)
	}
}

func TestHostAndServeOptions(t *testing.T) {
	var host *hostOptions
	err := execute(newHostCmd(&globalFlags{}, func(_ context.Context, o *hostOptions) error { host = o; return nil }),
		"--media", "m.mkv", "--title", "Film", "--listen", "0.0.0.0:5000")
	if err != nil {
		t.Fatal(err)
	}
	if host.Media != "m.mkv" || host.Title != "Film" || host.Listen != "0.0.0.0:5000" || host.Headless {
		t.Fatalf("host options = %+v", host)
	}
	var serve *serveOptions
	err = execute(newServeCmd(func(_ context.Context, o *serveOptions) error { serve = o; return nil }), "--data", "d", "-v")
	if err != nil {
		t.Fatal(err)
	}
	if serve.DataDir != "d" || !serve.Verbose || serve.Listen != "127.0.0.1:54321" {
		t.Fatalf("serve options = %+v", serve)
	}
}

// never is a run function that fails the test if it runs.
func never[T any](t *testing.T) func(context.Context, T) error {
	return func(context.Context, T) error { t.Error("the command ran"); return nil }
}

// TestUsageErrors: bad command lines are usage errors (exit 2) by type, and never reach the
// run function.
func TestUsageErrors(t *testing.T) {
	g := &globalFlags{}
	cases := []struct {
		name string
		cmd  func(t *testing.T) *cobra.Command
		args []string
	}{
		{"join without a room", func(t *testing.T) *cobra.Command { return newJoinCmd(g, never[*joinOptions](t)) }, nil},
		{"join with two rooms", func(t *testing.T) *cobra.Command { return newJoinCmd(g, never[*joinOptions](t)) }, []string{"a", "b"}},
		{"json without headless", func(t *testing.T) *cobra.Command { return newJoinCmd(g, never[*joinOptions](t)) }, []string{"a", "--json"}},
		{"host with an argument", func(t *testing.T) *cobra.Command { return newHostCmd(g, never[*hostOptions](t)) }, []string{"movie.mkv"}},
		{"serve on a bad address", func(t *testing.T) *cobra.Command { return newServeCmd(never[*serveOptions](t)) }, []string{"--listen", "54321"}},
		{"unknown command", func(*testing.T) *cobra.Command { return newRootCmd() }, []string{"frobnicate"}},
		{"unknown flag", func(*testing.T) *cobra.Command { return newRootCmd() }, []string{"serve", "--bogus"}},
		{"flag without its value", func(*testing.T) *cobra.Command { return newRootCmd() }, []string{"status", "--room"}},
		{"comment without a message", func(*testing.T) *cobra.Command { return newRootCmd() }, []string{"comment", "--room", "abc123def4"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := execute(c.cmd(t), c.args...)
			if !isUsageError(err) {
				t.Fatalf("error %v (%T), want a usage error", err, err)
			}
		})
	}
}
