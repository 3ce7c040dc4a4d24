package main

import (
	"io"

	"github.com/spf13/cobra"
)

// globalFlags are accepted by every command (docs/design.md §4).
type globalFlags struct {
	server  string
	anonKey string

	errOut io.Writer // warnings (the command's stderr)
	warned bool      // config.toml's unknown keys were warned about
}

func newRootCmd() *cobra.Command {
	g := &globalFlags{}
	root := &cobra.Command{
		Use:   "watchparty",
		Short: "Watch videos in sync with friends, in mpv, from the terminal",
		Long: `watchparty is a terminal watch-party for mpv.

The host runs "watchparty host --media FILE": that starts a server, creates a room and
plays the file in mpv, and prints an invite link. Friends run "watchparty join 'LINK'"
with their own copy of the video, and their mpv follows the host's play, pause, seek and speed within
a fraction of a second. The terminal shows who is there, whether each person is in
sync, and a comment pane.

The same client works against the embedded server ("watchparty serve") and against a
Supabase project running the functions in supabase/.`,
		Example: `  watchparty host --media movie.mkv        # start a party (server + room + mpv)
  watchparty join 'http://192.168.1.20:54321/join/abc123def4#s=SECRET'  # a friend
  watchparty serve --listen 0.0.0.0:54321  # run only the backend`,
		SilenceUsage:  true,
		SilenceErrors: true,
		// Runnable, so that an unknown command reaches subcommand (a typed usage error)
		// instead of cobra's own message; without arguments it shows the help.
		Args: subcommand,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
		PersistentPreRun: func(cmd *cobra.Command, _ []string) {
			g.errOut = cmd.ErrOrStderr()
		},
	}
	root.PersistentFlags().StringVar(&g.server, "server", "", "backend URL (env WATCHPARTY_SERVER, config \"server\"; default http://127.0.0.1:54321)")
	root.PersistentFlags().StringVar(&g.anonKey, "anon-key", "", "backend anon key (env WATCHPARTY_ANON_KEY; a watchparty server publishes its own)")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageErrorf("%v%s", err, seeHelp(c))
	})
	root.AddCommand(
		newServeCmd(nil),
		newHostCmd(g, nil),
		newCreateCmd(g),
		newJoinCmd(g, nil),
		newControlCmd(g, "play"),
		newControlCmd(g, "pause"),
		newSeekCmd(g),
		newCommentCmd(g),
		newQueueCmd(g),
		newHandoverCmd(g),
		newReadyCmd(g),
		newSettingsCmd(g),
		newInviteCmd(g),
		newCohostCmd(g),
		newKickCmd(g, false),
		newKickCmd(g, true),
		newStatusCmd(g),
		newVersionCmd(),
		newBenchCmd(),
	)
	return root
}
