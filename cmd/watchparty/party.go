package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/watchparty/watchparty/room"
	"github.com/watchparty/watchparty/server"
	"github.com/watchparty/watchparty/tui"
)

// mpvFlags are the mpv options of join and host (DESIGN §4).
type mpvFlags struct {
	binary string
	socket string
	args   []string
}

func (m *mpvFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&m.binary, "mpv", "", "mpv binary to run (default \"mpv\" from PATH, or config \"mpv\")")
	cmd.Flags().StringVar(&m.socket, "mpv-socket", "", "mpv IPC socket: attach when an mpv already listens there, else launch one bound to it")
	cmd.Flags().StringArrayVar(&m.args, "mpv-arg", nil, "extra argument for mpv (repeatable), e.g. --mpv-arg=--fs")
}

// options resolves the mpv binary (installing mpv on a fresh Debian machine when we may).
func (m *mpvFlags) options(ctx context.Context, env clientEnv, log io.Writer, logFile io.Writer) (room.MPV, error) {
	bin := firstNonEmpty(m.binary, env.settings.MPV)
	if bin == "" {
		bin = "mpv"
	}
	path, err := ensureMPV(ctx, bin, log)
	if err != nil {
		return room.MPV{}, err
	}
	return room.MPV{Binary: path, Socket: m.socket, Args: m.args, Output: logFile}, nil
}

// sessionFlags are join's and host's shared flags.
type sessionFlags struct {
	name     string
	media    string
	headless bool
	asJSON   bool
	mpv      mpvFlags
}

func (f *sessionFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.name, "name", "", "your display name (default: config \"name\", else your login name)")
	cmd.Flags().BoolVar(&f.headless, "headless", false, "no screen: follow the room and print events")
	cmd.Flags().BoolVar(&f.asJSON, "json", false, "with --headless: one JSON object per line on stdout")
	f.mpv.register(cmd)
}

// prepare is the start of join and host: check flags, resolve the server and files, open the
// log, find (or install) mpv.
func (f *sessionFlags) prepare(cmd *cobra.Command, g *globalFlags) (clientEnv, room.MPV, *slog.Logger, func(), error) {
	if f.asJSON && !f.headless {
		return clientEnv{}, room.MPV{}, nil, nil, usageErrorf("--json needs --headless")
	}
	env, err := g.resolve(nil)
	if err != nil {
		return env, room.MPV{}, nil, nil, err
	}
	if _, err := room.CheckUsername(displayName(f.name, env.settings)); err != nil {
		return env, room.MPV{}, nil, nil, usageErrorf("%v", err)
	}
	logFile, logger := openLog(env)
	closeLog := func() {
		if logFile != nil {
			logFile.Close()
		}
	}
	env.server.Logger = logger
	var out io.Writer
	if logFile != nil {
		out = logFile
	}
	mpv, err := f.mpv.options(cmd.Context(), env, cmd.ErrOrStderr(), out)
	if err != nil {
		closeLog()
		return env, mpv, nil, nil, err
	}
	return env, mpv, logger, closeLog, nil
}

// openLog opens the session log (mpv output and diagnostics) under the state dir, so the
// screen stays clean and problems can still be read afterwards. It is capped (see
// rotatingLog).
func openLog(env clientEnv) (*rotatingLog, *slog.Logger) {
	dir := filepath.Join(env.paths.State, "logs")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, quietLogger()
	}
	f, err := openRotatingLog(filepath.Join(dir, "watchparty.log"), logMaxBytes, logBackups)
	if err != nil {
		return nil, quietLogger()
	}
	return f, slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// confirmRoomMedia is how join decides about the room's media URL (room.Options.ConfirmMedia):
// --accept-room-media opens it; otherwise the screen asks, and --headless refuses with an
// error that names the flag.
func confirmRoomMedia(cmd *cobra.Command, f sessionFlags, accept bool) func(context.Context, string) (bool, error) {
	return func(ctx context.Context, u string) (bool, error) {
		shown := room.ShowURL(u)
		switch {
		case accept:
			if f.headless && !f.asJSON {
				fmt.Fprintf(cmd.ErrOrStderr(), "opening the room's media: %s\n", shown)
			}
			return true, nil
		case f.headless:
			return false, usageErrorf("the room's media is %s: pass --accept-room-media to open it in mpv, or --media with your own copy", shown)
		}
		return tui.ConfirmMedia(ctx, u, os.Getenv("NO_COLOR") != "")
	}
}

func newJoinCmd(g *globalFlags) *cobra.Command {
	var f sessionFlags
	var acceptMedia bool
	cmd := &cobra.Command{
		Use:   "join ROOM",
		Short: "Join a room and follow it in mpv",
		Long: `Join a room: mpv opens your copy of the video (--media) or the room's URL and
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
		Example: `  watchparty join abc123def4 --server http://192.168.1.20:54321 --media movie.mkv
  watchparty join abc123def4 --headless --json --accept-room-media --mpv-arg=--vo=null --mpv-arg=--ao=null`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			env, mpv, logger, closeLog, err := f.prepare(cmd, g)
			if err != nil {
				return err
			}
			defer closeLog()
			ctx := cmd.Context()
			media := f.media
			if media == "demo" {
				// The host's demo clip: rendered the same way here, so it is the same video.
				if media, err = demoClip(ctx, mpv.Binary, env.paths.Cache, cmd.ErrOrStderr()); err != nil {
					return err
				}
			}
			sess, err := room.Join(ctx, env.server, room.Options{
				RoomID: strings.TrimSpace(args[0]), Username: displayName(f.name, env.settings),
				Media: media, MPV: mpv, Logger: logger,
				ConfirmMedia: confirmRoomMedia(cmd, f, acceptMedia),
			})
			if err != nil {
				return classify(err)
			}
			return runSession(ctx, cmd, sess, f, tui.Options{})
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&f.media, "media", "", "your own copy of the room's video (file or URL; default: the room's URL; \"demo\": the host's demo clip)")
	cmd.Flags().BoolVar(&acceptMedia, "accept-room-media", false, "open the room's http(s) URL without asking (needed with --headless when you pass no --media)")
	return cmd
}

// runSession shows the screen, or in headless mode prints events until the session ends or
// we are interrupted (then it leaves the room cleanly).
func runSession(ctx context.Context, cmd *cobra.Command, sess *room.Session, f sessionFlags, opts tui.Options) error {
	if !f.headless {
		opts.NoColor = os.Getenv("NO_COLOR") != ""
		return classify(tui.Run(ctx, sess, opts))
	}
	out := cmd.OutOrStdout()
	if !f.asJSON {
		fmt.Fprintf(cmd.ErrOrStderr(), "joined room %s (Ctrl-C leaves)\n", sess.Snapshot().RoomID)
		if opts.JoinCommand != "" {
			fmt.Fprintf(cmd.ErrOrStderr(), "friends join with: %s\n", opts.JoinCommand)
		}
	}
	err := printEvents(ctx, sess, out, f.asJSON)
	leaveCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if lerr := sess.Leave(leaveCtx); lerr != nil && err == nil && ctx.Err() == nil {
		err = lerr
	}
	for range sess.Events() {
		// drain until Closed so the session's goroutines end
	}
	if errors.Is(err, context.Canceled) {
		return nil // Ctrl-C: a clean leave
	}
	return classify(err)
}

func newHostCmd(g *globalFlags) *cobra.Command {
	var f sessionFlags
	var listen, title string
	cmd := &cobra.Command{
		Use:   "host",
		Short: "Start a party: server, room and mpv in one command",
		Long: `Start a party in one command: run the embedded server in this process, create a
room, open the video in mpv and show the party screen. It prints the exact command
your friends run to join (with your LAN address when --listen is not loopback).
Without --media it plays a 90 s demo clip (rendered once with mpv into the cache).

If mpv is missing and you are root on Debian/Ubuntu, it is installed with apt-get.
Server data lives in the user data dir ($WATCHPARTY_HOME/data when set).`,
		Example: `  watchparty host --media movie.mkv
  watchparty host --media movie.mkv --listen 0.0.0.0:54321 --name Alice
  watchparty host --headless --json --mpv-arg=--vo=null --mpv-arg=--ao=null`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			env, mpv, logger, closeLog, err := f.prepare(cmd, g)
			if err != nil {
				return err
			}
			defer closeLog()
			ctx := cmd.Context()
			media := f.media
			if media == "" {
				if media, err = demoClip(ctx, mpv.Binary, env.paths.Cache, cmd.ErrOrStderr()); err != nil {
					return err
				}
				if title == "" {
					title = "watchparty demo"
				}
			} else if !strings.Contains(media, "://") {
				if _, err := os.Stat(media); err != nil {
					return fmt.Errorf("cannot open %s: %w", media, errors.Unwrap(err))
				}
			}
			if title == "" {
				title = filepath.Base(media)
			}

			// The server, in this process.
			srv, err := server.Start(server.Config{DataDir: filepath.Join(env.paths.Data, "server"), Version: version, Logger: logger}, listen)
			if le := (*server.ListenError)(nil); errors.As(err, &le) {
				return fmt.Errorf("%w (pick another port with --listen)", err)
			} else if err != nil {
				return err
			}
			defer srv.Stop()
			urls := serverURLs(srv.Addr)
			env.server.URL, env.server.AnonKey, env.server.Logger = urls[0], srv.AnonKey(), logger

			sess, err := room.Host(ctx, env.server, room.Options{
				Username: displayName(f.name, env.settings), Media: media, MPV: mpv, Logger: logger,
			}, title)
			if err != nil {
				return classify(err)
			}
			friendURL := urls[len(urls)-1] // a LAN address when there is one
			mediaArg := "<your copy of " + filepath.Base(media) + ">"
			if f.media == "" {
				mediaArg = "demo" // the joiner renders the same demo clip
			}
			join := fmt.Sprintf("watchparty join %s --server %s --media %s", sess.Snapshot().RoomID, friendURL, mediaArg)
			if !f.headless {
				fmt.Fprintf(cmd.ErrOrStderr(), "friends join with: %s\n", join)
			}
			if f.asJSON {
				printJSONLine(cmd.OutOrStdout(), map[string]any{"type": "hosting", "ts": nowTS(), "room_id": sess.Snapshot().RoomID,
					"server": friendURL, "join_command": join})
			}
			return runSession(ctx, cmd, sess, f, tui.Options{JoinCommand: join})
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&f.media, "media", "", "video file or URL (default: a demo clip)")
	cmd.Flags().StringVar(&title, "title", "", "room title (default: the file name)")
	cmd.Flags().StringVar(&listen, "listen", server.DefaultListen, "server address; 0.0.0.0:PORT lets friends on your network join")
	return cmd
}
