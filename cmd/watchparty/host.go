package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"github.com/watchparty/watchparty/headless"
	"github.com/watchparty/watchparty/room"
	"github.com/watchparty/watchparty/server"
)

// hostOptions is everything `watchparty host` needs, filled from its flags.
type hostOptions struct {
	sessionOptions
	Title  string
	Listen string
	Room   string // resume this room (after a crash) instead of creating one
	New    bool   // start a new room even though the last party did not end cleanly
	// ReadyMode creates the room with the ready check on.
	ReadyMode bool
	Wait      waitLimitFlag
}

func (o *hostOptions) validate() error {
	if o.Room != "" && !roomIDShape.MatchString(o.Room) {
		return usageErrorf("--room %q: a room id is 10 characters of a-z and 0-9", o.Room)
	}
	if o.Room != "" && o.New {
		return usageErrorf("--room resumes a room and --new makes one: pass one of them")
	}
	if err := o.Wait.validate(); err != nil {
		return err
	}
	return o.sessionOptions.validate()
}

// newHostCmd builds `watchparty host`; runF (nil: runHost) runs it.
func newHostCmd(g *globalFlags, runF func(context.Context, *hostOptions) error) *cobra.Command {
	o := &hostOptions{sessionOptions: sessionOptions{global: g}}
	if runF == nil {
		runF = runHost
	}
	cmd := &cobra.Command{
		Use:   "host",
		Short: "Start a party: server, room and mpv in one command",
		Long: `Start a party in one command: run the embedded server in this process, create a
room, open the video in mpv and show the party screen. It prints the exact command
your friends run to join (with your LAN address when --listen is not loopback).
Without --media it plays a 90 s demo clip (rendered once with mpv into the cache).

If mpv is missing and you are root on Debian/Ubuntu, it is installed with apt-get.
Server data lives in the user data dir ($WATCHPARTY_HOME/data when set).

If watchparty host ends without leaving (a crash, kill -9, a power cut), the next
"watchparty host" says so and how to resume: --room ID resumes that room, with you as
its host, and your friends' screens (which keep trying to reconnect) find it again.
--new starts a new room instead.`,
		Example: `  watchparty host --media movie.mkv
  watchparty host --media movie.mkv --listen 0.0.0.0:54321 --name Alice
  watchparty host --headless --json --mpv-arg=--vo=null --mpv-arg=--ao=null
  watchparty host --room abc123def4 --media movie.mkv`,
		Args: noArgs,
		RunE: runE(o, runF),
	}
	o.register(cmd)
	cmd.Flags().StringVar(&o.Media, "media", "", "video file or URL (default: a demo clip)")
	cmd.Flags().StringVar(&o.Title, "title", "", "room title (default: the file name)")
	cmd.Flags().StringVar(&o.Listen, "listen", server.DefaultListen, "server address; 0.0.0.0:PORT lets friends on your network join")
	cmd.Flags().StringVar(&o.Room, "room", "", "resume this room of yours (after a crash) instead of creating one")
	cmd.Flags().BoolVar(&o.New, "new", false, "start a new room even though the last party did not end cleanly")
	cmd.Flags().BoolVar(&o.ReadyMode, "ready-mode", false, "start the room with the ready check on: your play waits until everyone is ready (R on the screen toggles it)")
	o.Wait.register(cmd)
	return cmd
}

// runHost starts the server in this process, creates the room and runs the session until it
// ends; the server stops with it.
func runHost(ctx context.Context, o *hostOptions) error {
	env, err := o.prepare(ctx)
	if err != nil {
		return err
	}
	defer env.close()
	if last := readHosting(env.paths.State); last != nil && o.Room == "" && !o.New {
		return resumeHint(last)
	}
	media, title := o.Media, o.Title
	if media == "" {
		if media, err = demoClip(ctx, env.mpv.Binary, env.paths.Cache, o.io.ErrOut); err != nil {
			return err
		}
		if title == "" {
			title = "watchparty demo"
		}
	}
	if title == "" {
		title = fileTitle(media)
	}

	// The server, in this process.
	srv, err := server.Start(server.Config{DataDir: filepath.Join(env.paths.Data, "server"), Version: version, Logger: env.logger}, o.Listen)
	if le := (*server.ListenError)(nil); errors.As(err, &le) {
		return fmt.Errorf("%w (pick another port with --listen)", err)
	} else if err != nil {
		return err
	}
	defer srv.Stop()
	urls := serverURLs(srv.Addr)
	env.server.URL, env.server.AnonKey, env.server.SessionKey = urls[0], srv.AnonKey(), "watchparty:"+srv.ID()
	name, err := o.signIn(ctx, &env)
	if err != nil {
		return classify(err)
	}

	sess, err := room.Host(ctx, env.server, room.Options{
		NoOSD: o.NoOSD, ReadyMode: o.ReadyMode, WaitLimit: o.Wait.value(), MediaDirs: o.MediaDir,
		RoomID: o.Room, Username: name, Media: media, MPV: env.mpv, Logger: env.logger,
	}, title)
	if err != nil {
		if o.Room != "" && errors.Is(err, room.ErrRoomNotFound) {
			return classify(fmt.Errorf("%w: it is not in this server's data (rooms expire after 7 idle days); run watchparty host without --room for a new one", err))
		}
		return classify(err)
	}
	rememberName(o.Name, env.clientEnv)
	friendURL := urls[len(urls)-1] // a LAN address when there is one
	mediaArg := "<your copy of " + fileTitle(media) + ">"
	if o.Media == "" {
		mediaArg = "demo" // the joiner renders the same demo clip
	}
	roomID := sess.Snapshot().RoomID
	if err := writeHosting(env.paths.State, hostingRecord{RoomID: roomID, Title: title, Media: o.Media, Started: time.Now()}); err != nil {
		env.logger.Warn("record the running party", "err", err)
	}
	// Whatever way the session ends from here (q, Ctrl-C, SIGTERM, an error), it ended: only
	// a crash leaves the record for the next start.
	defer clearHosting(env.paths.State)
	var join string
	if secret := sess.InviteSecret(); secret != "" {
		l := inviteLink(env.clientEnv, friendURL, roomID, secret)
		if err := saveInvite(env.paths.State, l); err != nil {
			env.logger.Warn("save the invite link", "err", err)
		}
		join = joinCommand(l) + " --media " + mediaArg
	} else if l, ok := savedInvite(env.paths.State, roomID); ok {
		// Resuming a room (--room): the link this machine saved when it made it.
		l.Server = friendURL
		join = joinCommand(l) + " --media " + mediaArg
	} else {
		join = fmt.Sprintf("watchparty join %s --server %s --media %s (members only: watchparty invite --room %s --rotate makes a new link)",
			roomID, friendURL, mediaArg, roomID)
	}
	if !o.Headless {
		fmt.Fprintf(o.io.ErrOut, "friends join with: %s\n", join)
	}
	if o.JSON {
		headless.PrintHosting(o.io.Out, time.Now(), roomID, friendURL, join)
	}
	return o.runSession(ctx, sess, join)
}
