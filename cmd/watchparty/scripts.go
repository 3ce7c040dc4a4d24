package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/watchparty/watchparty/headless"
	"github.com/watchparty/watchparty/room"
)

// jsonMarshal encodes without HTML escaping (comments may contain < and &).
func jsonMarshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// roomStatus signs in and reads the room's state: the start of every --room command.
func (g *globalFlags) roomStatus(ctx context.Context, roomID string) (*room.Remote, room.State, error) {
	id, err := roomFlag(roomID)
	if err != nil {
		return nil, room.State{}, err
	}
	r, env, err := g.connect(ctx)
	if err != nil {
		return nil, room.State{}, classify(err)
	}
	st, err := r.Status(ctx, id)
	if err != nil {
		r.Close()
		return nil, room.State{}, notMember(err, id, env)
	}
	return r, st, nil
}

// notMember says what to do when the server says we are not a member of the room (the one
// reason get_room_sync_state and comments/create refuse with "not allowed"); other errors get
// their exit codes.
func notMember(err error, roomID string, env clientEnv) error {
	if !errors.Is(err, room.ErrNotAllowed) {
		return classify(err)
	}
	return &exitError{exitNotAllowed, fmt.Errorf(
		"not a member of room %s: join it first (watchparty join %s --server %s); commands act as the user that join, host or create saved for this server",
		roomID, roomID, env.server.URL)}
}

func newCreateCmd(g *globalFlags) *cobra.Command {
	var media, title, name string
	var duration float64
	var asJSON, readyMode bool
	var wait waitLimitFlag
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create a room on --server; you become its host",
		Long: `Create a room on the server: its id goes to stdout (for scripts), the command friends
join with, with the room's invite link, to stderr (--json: the room, its id and the
link, on stdout). Friends join with watchparty join 'LINK' and need nothing else. You (the saved session for that server) become its host
and owner, so "watchparty play/pause/seek --room ID" and a later "watchparty join ID"
act as the host. watchparty invite --room ID shows the link again.

A room's members are the people with a window (join, host) beating in it: join within
45 s, or you drop out until you join (then you are its host again, as its owner). While
nobody of yours beats and friends are there, the host role passes to one of them after
15 s.`,
		Example: `  watchparty create --server http://127.0.0.1:54321 --media https://example.com/film.mp4 --title "Movie night"
  watchparty create --json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Names and media are checked before anything is sent (even the sign-in).
			env, err := g.resolve(quietLogger())
			if err != nil {
				return err
			}
			if name != "" {
				if _, err := room.CheckUsername(name); err != nil {
					return usageErrorf("%v", err)
				}
			}
			nr, err := roomNew("", media, title, duration)
			if err != nil {
				return err
			}
			if err := wait.validate(); err != nil {
				return err
			}
			nr.WaitLimit = wait.value()
			r, username, err := signIn(cmd.Context(), &env, name)
			if err != nil {
				return classify(err)
			}
			defer r.Close()
			nr.Username, nr.ReadyMode = username, readyMode
			c, err := r.Create(cmd.Context(), nr)
			if err != nil {
				return classify(err)
			}
			rememberName(name, env)
			out := map[string]any{"room_id": c.RoomID, "room": c.Row, "server": env.server.URL}
			var link string
			if c.InviteSecret != "" { // an older server sends none: the id is all there is
				l := inviteLink(env, env.server.URL, c.RoomID, c.InviteSecret)
				if err := saveInvite(env.paths.State, l); err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "watchparty: warning: the invite link is not saved here: %v\n", err)
				}
				link = l.String()
				out["invite_link"] = link
			}
			if asJSON {
				return printJSONLine(cmd.OutOrStdout(), out)
			}
			// The id on stdout, for scripts; the link for people, on stderr.
			fmt.Fprintln(cmd.OutOrStdout(), c.RoomID)
			if link != "" {
				fmt.Fprintf(cmd.ErrOrStderr(), "friends join with: watchparty join '%s'\n", link)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&media, "media", "", "the room's video: an http(s) URL members' mpv may open, or a local file (only its name is sent, as the title)")
	cmd.Flags().StringVar(&title, "title", "", "title shown to members")
	cmd.Flags().Float64Var(&duration, "duration", 0, "video length in seconds, to warn members whose copy differs")
	cmd.Flags().StringVar(&name, "name", "", "your display name, kept for this server until you pass another")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the room as JSON")
	cmd.Flags().BoolVar(&readyMode, "ready-mode", false, "start the room with the ready check on: the host's play waits until everyone is ready")
	wait.register(cmd)
	return cmd
}

// waitLimitFlag is --wait-limit: how long the room waits at most for a member whose video
// buffers after a play, a seek or their join (docs/design.md §7.12). It is a flag value, so
// that a flag not given leaves the server's default.
type waitLimitFlag struct {
	d   time.Duration
	set bool
}

func (w *waitLimitFlag) register(cmd *cobra.Command) {
	cmd.Flags().Var(w, "wait-limit",
		"how long the room waits at most for someone whose video buffers after a play, a seek or their join: whole seconds up to 60s, 0 never waits (default 8s)")
}

func (w *waitLimitFlag) String() string {
	if !w.set {
		return ""
	}
	return w.d.String()
}

func (w *waitLimitFlag) Set(v string) error {
	d, err := time.ParseDuration(v)
	if err != nil {
		return err
	}
	w.d, w.set = d, true
	return nil
}

func (w *waitLimitFlag) Type() string { return "duration" }

func (w *waitLimitFlag) validate() error {
	if w.set && (w.d < 0 || w.d > time.Minute || w.d%time.Second != 0) {
		return usageErrorf("--wait-limit %s: whole seconds from 0s to 60s (0 never waits)", w.d)
	}
	return nil
}

// value is the limit to set on a new room, nil when the flag was not given (the server's
// default, 8 s).
func (w *waitLimitFlag) value() *time.Duration {
	if !w.set {
		return nil
	}
	return &w.d
}

func newControlCmd(g *globalFlags, action string) *cobra.Command {
	var roomID string
	var force bool
	verb := map[string]string{"play": "Play", "pause": "Pause"}[action]
	long := verb + ` the room's video for everyone, from a script. Only the room's host may do this
(exit code 4 otherwise); the host is the user of the saved session for --server.`
	if action == "play" {
		long += `

In a room with the ready check on, play waits until every live member is ready: it
exits with code 5 naming who is not ready, and the room starts by itself when they
are. --force plays at once.`
	}
	cmd := &cobra.Command{
		Use:     action + " --room ROOM",
		Short:   verb + " the room's video (host only)",
		Long:    long,
		Example: fmt.Sprintf("  watchparty %s --room abc123def4", action),
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, st, err := g.roomStatus(cmd.Context(), roomID)
			if err != nil {
				return err
			}
			defer r.Close()
			pos := expectedNow(st)
			if action == "play" {
				if _, err := r.Play(cmd.Context(), st.RoomID, pos, time.Time{}, force); err != nil {
					return notReady(err)
				}
			} else if _, err := r.Control(cmd.Context(), st.RoomID, action, pos, nil); err != nil {
				return classify(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s at %s\n", map[string]string{"play": "playing", "pause": "paused"}[action], headless.Clock(pos))
			return nil
		},
	}
	cmd.Flags().StringVar(&roomID, "room", "", "room id (required)")
	if action == "play" {
		cmd.Flags().BoolVar(&force, "force", false, "play at once in a room with the ready check on, ready or not")
	}
	return cmd
}

func newSeekCmd(g *globalFlags) *cobra.Command {
	var roomID string
	cmd := &cobra.Command{
		Use:   "seek POS --room ROOM",
		Short: "Seek the room's video (host only)",
		Long:  "Seek the room's video for everyone. POS is seconds, mm:ss or hh:mm:ss, or relative: +10, -10.",
		Example: `  watchparty seek 1:30 --room abc123def4
  watchparty seek +30 --room abc123def4
  watchparty seek -10 --room abc123def4`,
		Args:        exactArgs(1, "POS"),
		Annotations: map[string]string{negativeArgs: "POS"},
		RunE: func(cmd *cobra.Command, args []string) error {
			pos, relative, err := parsePosition(args[0])
			if err != nil {
				return usageErrorf("%v", err)
			}
			r, st, err := g.roomStatus(cmd.Context(), roomID)
			if err != nil {
				return err
			}
			defer r.Close()
			if relative {
				pos += expectedNow(st)
			}
			pos = math.Max(0, pos)
			if d := st.RoomState.MediaDuration; st.RoomErr == nil && d > 0 {
				pos = math.Min(pos, d)
			}
			if _, err := r.Control(cmd.Context(), st.RoomID, "seek", pos, nil); err != nil {
				return classify(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "seeked to %s\n", headless.Clock(pos))
			return nil
		},
	}
	cmd.Flags().StringVar(&roomID, "room", "", "room id (required)")
	return cmd
}

func newCommentCmd(g *globalFlags) *cobra.Command {
	var roomID string
	cmd := &cobra.Command{
		Use:   "comment --room ROOM MESSAGE",
		Short: "Post a comment to a room",
		Long: `Post a comment to a room you have joined (with the same saved session). Words
are joined with spaces; at most 2000 characters.`,
		Example: `  watchparty comment --room abc123def4 "this scene!"`,
		Args:    minArgs(1, "MESSAGE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := roomFlag(roomID)
			if err != nil {
				return err
			}
			msg := strings.TrimSpace(strings.Join(args, " "))
			if msg == "" {
				return usageErrorf("the comment is empty")
			}
			r, env, err := g.connect(cmd.Context())
			if err != nil {
				return classify(err)
			}
			defer r.Close()
			// The poster's current video time: where the room is now, for a script.
			var at *float64
			if st, err := r.Status(cmd.Context(), id); err == nil && st.RoomErr == nil {
				pos := expectedNow(st)
				at = &pos
			}
			if err := r.Comment(cmd.Context(), id, msg, at); err != nil {
				return notMember(err, id, env)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&roomID, "room", "", "room id (required)")
	return cmd
}

func newStatusCmd(g *globalFlags) *cobra.Command {
	var roomID string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status --room ROOM",
		Short: "Show a room's state and members",
		Long: `Show a room's playback state and members (from get_room_sync_state). You must be a
member of the room: joined (or created or hosted) as the user saved for this server,
whichever address of it you use now.`,
		Example: `  watchparty status --room abc123def4
  watchparty status --room abc123def4 --json | jq .room.current_time`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, st, err := g.roomStatus(cmd.Context(), roomID)
			if err != nil {
				return err
			}
			defer r.Close()
			pos := expectedNow(st)
			if asJSON {
				return printJSONLine(cmd.OutOrStdout(), map[string]any{
					"room": st.Room, "members": st.Members, "server_time": st.ServerTime.UnixMilli(), "position": pos})
			}
			printStatus(cmd.OutOrStdout(), st, pos)
			return nil
		},
	}
	cmd.Flags().StringVar(&roomID, "room", "", "room id (required)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
