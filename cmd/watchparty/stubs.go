package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
)

// errNotBuilt marks commands whose issue has not landed yet.
func errNotBuilt(name string) error {
	return errors.New(name + " is not built yet: for now run \"watchparty serve\" and use a Supabase client against it")
}

// mpvFlags are the mpv options of join and host (DESIGN §4).
type mpvFlags struct {
	binary string
	socket string
	args   []string
}

func (m *mpvFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&m.binary, "mpv", "mpv", "mpv binary to run")
	cmd.Flags().StringVar(&m.socket, "mpv-socket", "", "mpv IPC socket: attach when an mpv already listens there, else launch one bound to it")
	cmd.Flags().StringArrayVar(&m.args, "mpv-arg", nil, "extra argument for mpv (repeatable), e.g. --mpv-arg=--vo=null")
}

func newHostCmd(g *globalFlags) *cobra.Command {
	var media, name, listen string
	var mpv mpvFlags
	cmd := &cobra.Command{
		Use:   "host",
		Short: "Start a party: server, room and mpv in one command",
		Long: `Start a party in one command: run the embedded server in this process, create a
room, open the video in mpv and show the party screen. It prints the exact command your
friends run to join. Without --media it plays a short demo clip.`,
		Example: `  watchparty host --media movie.mkv
  watchparty host --media movie.mkv --listen 0.0.0.0:54321 --name Alice`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { return errNotBuilt("host") },
	}
	cmd.Flags().StringVar(&media, "media", "", "video file or URL (default: a demo clip)")
	cmd.Flags().StringVar(&name, "name", "", "your display name")
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:54321", "server address; 0.0.0.0:PORT lets friends on your network join")
	mpv.register(cmd)
	return cmd
}

func newCreateCmd(g *globalFlags) *cobra.Command {
	var media, title string
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "create",
		Short:   "Create a room on --server; you become its host",
		Example: "  watchparty create --server http://127.0.0.1:54321 --media movie.mkv --title \"Movie night\"",
		Args:    cobra.NoArgs,
		RunE:    func(*cobra.Command, []string) error { return errNotBuilt("create") },
	}
	cmd.Flags().StringVar(&media, "media", "", "video file or URL of the room")
	cmd.Flags().StringVar(&title, "title", "", "title shown to members")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the room as JSON")
	return cmd
}

func newJoinCmd(g *globalFlags) *cobra.Command {
	var name, media string
	var headless, asJSON bool
	var mpv mpvFlags
	cmd := &cobra.Command{
		Use:   "join ROOM",
		Short: "Join a room and follow it in mpv",
		Long: `Join a room: mpv opens your copy of the video (--media) or the room's URL, and
follows the host. --headless runs without the screen; with --json it prints one JSON
event per line on stdout (connected, room, member, presence, comment, sync, notice,
error, disconnected).`,
		Example: `  watchparty join abc123def4 --server http://192.168.1.20:54321 --media movie.mkv
  watchparty join abc123def4 --headless --json --mpv-arg=--vo=null --mpv-arg=--ao=null`,
		Args: cobra.ExactArgs(1),
		RunE: func(*cobra.Command, []string) error { return errNotBuilt("join") },
	}
	cmd.Flags().StringVar(&name, "name", "", "your display name")
	cmd.Flags().StringVar(&media, "media", "", "your own copy of the room's video (file or URL)")
	cmd.Flags().BoolVar(&headless, "headless", false, "no screen: follow the room and log events")
	cmd.Flags().BoolVar(&asJSON, "json", false, "with --headless: JSON lines on stdout")
	mpv.register(cmd)
	return cmd
}

func newControlCmd(g *globalFlags, action string) *cobra.Command {
	var room string
	cmd := &cobra.Command{
		Use:     action + " --room ROOM",
		Short:   fmt.Sprintf("%s the room's video (host only)", map[string]string{"play": "Play", "pause": "Pause"}[action]),
		Example: fmt.Sprintf("  watchparty %s --room abc123def4", action),
		Args:    cobra.NoArgs,
		RunE:    func(*cobra.Command, []string) error { return errNotBuilt(action) },
	}
	cmd.Flags().StringVar(&room, "room", "", "room id")
	cmd.MarkFlagRequired("room")
	return cmd
}

func newSeekCmd(g *globalFlags) *cobra.Command {
	var room string
	cmd := &cobra.Command{
		Use:   "seek POS --room ROOM",
		Short: "Seek the room's video (host only)",
		Long:  "Seek the room's video. POS is seconds, mm:ss or hh:mm:ss, or relative: +10, -10.",
		Example: `  watchparty seek 1:30 --room abc123def4
  watchparty seek -- -10 --room abc123def4`,
		Args: cobra.ExactArgs(1),
		RunE: func(*cobra.Command, []string) error { return errNotBuilt("seek") },
	}
	cmd.Flags().StringVar(&room, "room", "", "room id")
	cmd.MarkFlagRequired("room")
	return cmd
}

func newCommentCmd(g *globalFlags) *cobra.Command {
	var room string
	cmd := &cobra.Command{
		Use:     "comment --room ROOM MESSAGE",
		Short:   "Post a comment to a room",
		Example: `  watchparty comment --room abc123def4 "this scene!"`,
		Args:    cobra.MinimumNArgs(1),
		RunE:    func(*cobra.Command, []string) error { return errNotBuilt("comment") },
	}
	cmd.Flags().StringVar(&room, "room", "", "room id")
	cmd.MarkFlagRequired("room")
	return cmd
}

func newStatusCmd(g *globalFlags) *cobra.Command {
	var room string
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "status --room ROOM",
		Short:   "Show a room's state and members",
		Example: "  watchparty status --room abc123def4 --json",
		Args:    cobra.NoArgs,
		RunE:    func(*cobra.Command, []string) error { return errNotBuilt("status") },
	}
	cmd.Flags().StringVar(&room, "room", "", "room id")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.MarkFlagRequired("room")
	return cmd
}

func newBenchCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench server|sync",
		Short: "Measure the server or the sync engine on loopback and print figures",
		Example: `  watchparty bench server --clients 1000
  watchparty bench sync`,
		Args:      cobra.ExactArgs(1),
		ValidArgs: []string{"server", "sync"},
		RunE:      func(_ *cobra.Command, args []string) error { return errNotBuilt("bench " + args[0]) },
	}
	return cmd
}
