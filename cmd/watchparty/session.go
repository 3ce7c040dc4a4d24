package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/watchparty/watchparty/headless"
	"github.com/watchparty/watchparty/room"
	"github.com/watchparty/watchparty/tui"
)

// ioStreams are a command's output streams.
type ioStreams struct {
	Out    io.Writer // results, JSON lines
	ErrOut io.Writer // human notes and progress
}

// commandOptions are a command's options: its streams, and a check of what needs no files
// and no network.
type commandOptions interface {
	streams() *ioStreams
	validate() error
}

// runE is the RunE of a command with options o (already filled from the flags): it sets the
// streams, validates, then calls runF.
func runE[O commandOptions](o O, runF func(context.Context, O) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		*o.streams() = ioStreams{Out: cmd.OutOrStdout(), ErrOut: cmd.ErrOrStderr()}
		if err := o.validate(); err != nil {
			return err
		}
		return runF(cmd.Context(), o)
	}
}

// mpvFlags are the mpv options of join and host (docs/design.md §4).
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
	if err := checkSocket(m.socket); err != nil {
		return room.MPV{}, err
	}
	bin, source := m.binary, "--mpv"
	if strings.TrimSpace(bin) == "" {
		bin, source = env.settings.MPV, "config \"mpv\""
	}
	if bin = strings.TrimSpace(bin); bin == "" {
		source = ""
	}
	path, err := ensureMPV(ctx, bin, source, log)
	if err != nil {
		return room.MPV{}, err
	}
	return room.MPV{Binary: path, Socket: m.socket, Args: m.args, Output: logFile}, nil
}

// sessionOptions are the options join and host share: who we are, what we play and how we
// show it.
type sessionOptions struct {
	global *globalFlags
	io     ioStreams

	Name     string
	Media    string
	Headless bool
	JSON     bool
	NoOSD    bool
	MediaDir []string
	MPV      mpvFlags
}

func (o *sessionOptions) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.Name, "name", "", "your display name, kept for this server until you pass another (default: the one kept, else config \"name\", else your login name and 4 hex digits)")
	cmd.Flags().BoolVar(&o.Headless, "headless", false, "no screen: follow the room and print events")
	cmd.Flags().BoolVar(&o.NoOSD, "no-osd", false, "don't show comments and room events on mpv's video (the screen's o key turns them on)")
	cmd.Flags().BoolVar(&o.JSON, "json", false, "with --headless: one JSON object per line on stdout")
	cmd.Flags().StringArrayVar(&o.MediaDir, "media-dir", nil, "a directory with your copies of the queue's files, matched by fingerprint, then by name (repeatable)")
	o.MPV.register(cmd)
}

func (o *sessionOptions) streams() *ioStreams { return &o.io }

// validate checks what needs no files and no network.
func (o *sessionOptions) validate() error {
	if o.JSON && !o.Headless {
		return usageErrorf("--json needs --headless")
	}
	return nil
}

// sessionEnv is what prepare resolved: the server and files, the log and mpv.
type sessionEnv struct {
	clientEnv
	mpv    room.MPV
	logger *slog.Logger
	close  func() // closes the log
}

// prepare is the start of join and host: resolve the server and files, check the name, open
// the log, find (or install) mpv.
func (o *sessionOptions) prepare(ctx context.Context) (sessionEnv, error) {
	env, err := o.global.resolve(nil)
	if err != nil {
		return sessionEnv{}, err
	}
	if o.Name != "" {
		if _, err := room.CheckUsername(o.Name); err != nil {
			return sessionEnv{}, usageErrorf("%v", err)
		}
	}
	if o.Media != "demo" {
		if err := checkMedia(o.Media); err != nil {
			return sessionEnv{}, err
		}
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
	mpv, err := o.MPV.options(ctx, env, o.io.ErrOut, out)
	if err != nil {
		closeLog()
		return sessionEnv{}, err
	}
	return sessionEnv{clientEnv: env, mpv: mpv, logger: logger, close: closeLog}, nil
}

// signIn identifies the server, signs in with the session saved for it and settles the
// display name (nameFor); the session itself connects again, reusing that saved session.
func (o *sessionOptions) signIn(ctx context.Context, env *sessionEnv) (string, error) {
	r, name, err := signIn(ctx, &env.clientEnv, o.Name)
	if err != nil {
		return "", err
	}
	r.Close()
	return name, nil
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
// accept (--accept-room-media) opens it; otherwise the screen asks, and --headless refuses with
// an error that names the flag.
func (o *sessionOptions) confirmRoomMedia(accept bool) func(context.Context, string) (bool, error) {
	return func(ctx context.Context, u string) (bool, error) {
		shown := room.ShowURL(u)
		switch {
		case accept:
			if o.Headless && !o.JSON {
				fmt.Fprintf(o.io.ErrOut, "opening the room's media: %s\n", shown)
			}
			return true, nil
		case o.Headless:
			return false, usageErrorf("the room's media is %s: pass --accept-room-media to open it in mpv, or --media with your own copy", shown)
		}
		return tui.ConfirmMedia(ctx, u, noColor())
	}
}

// runSession shows the screen, or in headless mode prints the session's events (package
// headless) until the session ends or we are interrupted (then it leaves the room cleanly).
func (o *sessionOptions) runSession(ctx context.Context, sess room.Controls, joinCommand string) error {
	if !o.Headless {
		return classify(tui.Run(ctx, sess, tui.Options{NoColor: noColor(), JoinCommand: joinCommand, Log: o.io.ErrOut}))
	}
	return classify(headless.Run(ctx, sess, headless.Options{
		JSON: o.JSON, Out: o.io.Out, Log: o.io.ErrOut, JoinCommand: joinCommand,
	}))
}

// noColor reports whether NO_COLOR asks for no colours.
func noColor() bool { return os.Getenv("NO_COLOR") != "" }
