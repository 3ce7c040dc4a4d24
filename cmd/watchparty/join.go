package main

import (
	"context"
	"strings"

	"github.com/spf13/cobra"
	"github.com/watchparty/watchparty/room"
)

// joinOptions is everything `watchparty join` needs, filled from its flags and argument.
type joinOptions struct {
	sessionOptions
	RoomID          string
	InviteSecret    string // from an invite link
	AcceptRoomMedia bool
}

// newJoinCmd builds `watchparty join`; runF (nil: runJoin) runs it, so tests can check the
// options a command line gives.
func newJoinCmd(g *globalFlags, runF func(context.Context, *joinOptions) error) *cobra.Command {
	o := &joinOptions{sessionOptions: sessionOptions{global: g}}
	if runF == nil {
		runF = runJoin
	}
	cmd := &cobra.Command{
		Use:   "join LINK|ROOM",
		Short: "Join a room and follow it in mpv",
		Long: `Join a room with the invite link the host gave you (quote it: it holds # and &),
which carries the server, the room and its secret: nothing else is needed. A room id
alone (with --server) works for a room you are or were in already.

mpv opens your copy of the video (--media) or the room's URL and
follows the host's play, pause, seek and speed. The screen shows members, sync state
and comments; press ? for keys.

The room's URL comes from the server, so it is opened only if it is an http:// or
https:// address (anything else, such as av://, edl://, file:// or a path, is refused:
pass your own copy with --media), and only after you accept it: the screen shows it
and asks; --headless needs --accept-room-media. The answer is not remembered: you are
asked on every join.

Pausing or seeking in mpv's own window detaches you from the room until you press s
(sync to live). --headless runs without the screen; with --json it prints one JSON
object per line on stdout: connected, room, member, presence, comment, sync (every
second), notice, error, disconnected. Human logs go to stderr.

Exit codes: 0 ok, 1 failure, 2 usage, 3 room not found, 4 not allowed.`,
		Example: `  watchparty join 'https://party.example.org:54321/join/abc123def4#s=SECRET' --media movie.mkv
  watchparty join abc123def4 --server http://192.168.1.20:54321 --media movie.mkv
  watchparty join abc123def4 --headless --json --accept-room-media --mpv-arg=--vo=null --mpv-arg=--ao=null`,
		Args: exactArgs(1, "LINK|ROOM"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := applyLink(g, o, strings.TrimSpace(args[0])); err != nil {
				return err
			}
			return runE(o, runF)(cmd, args)
		},
	}
	o.register(cmd)
	cmd.Flags().StringVar(&o.Media, "media", "", "your own copy of the room's video (file or URL; default: the room's URL; \"demo\": the host's demo clip)")
	cmd.Flags().BoolVar(&o.AcceptRoomMedia, "accept-room-media", false, "open the room's http(s) URL without asking (needed with --headless when you pass no --media)")
	return cmd
}

// runJoin joins the room and runs the session until it ends.
func runJoin(ctx context.Context, o *joinOptions) error {
	env, err := o.prepare(ctx)
	if err != nil {
		return err
	}
	defer env.close()
	media := o.Media
	if media == "demo" {
		// The host's demo clip: rendered the same way here, so it is the same video.
		if media, err = demoClip(ctx, env.mpv.Binary, env.paths.Cache, o.io.ErrOut); err != nil {
			return err
		}
	}
	name, err := o.signIn(ctx, &env)
	if err != nil {
		return classify(err)
	}
	sess, err := room.Join(ctx, env.server, room.Options{
		NoOSD: o.NoOSD, MediaDirs: o.MediaDir,
		RoomID: o.RoomID, Username: name, InviteSecret: o.InviteSecret,
		Media: media, MPV: env.mpv, Logger: env.logger,
		ConfirmMedia: o.confirmRoomMedia(o.AcceptRoomMedia),
	})
	if err != nil {
		return classify(err)
	}
	rememberName(o.Name, env.clientEnv)
	return o.runSession(ctx, sess, "")
}
