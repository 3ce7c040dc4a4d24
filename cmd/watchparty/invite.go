package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/watchparty/watchparty/room"
)

// Invite links and moderation commands (docs/design.md §14).

// inviteLink is the link for roomID with secret on the server env reaches, as a friend uses
// it: a server that publishes its anon key (a watchparty server, identified as such) needs
// none in the link; a Supabase project's key goes in it.
func inviteLink(env clientEnv, serverURL, roomID, secret string) room.InviteLink {
	l := room.InviteLink{Server: serverURL, RoomID: roomID, Secret: secret}
	if !strings.HasPrefix(env.server.SessionKey, "watchparty:") {
		l.AnonKey = env.server.AnonKey
	}
	return l
}

// The links this user made (create, host, invite --rotate) are kept in the state dir, one file
// per room, readable by the user only: the server keeps only the secret's hash, so this is the
// one place `watchparty invite` can show the link again.
func inviteFile(stateDir, roomID string) string {
	return filepath.Join(stateDir, "invites", roomID)
}

func saveInvite(stateDir string, l room.InviteLink) error {
	if !roomIDShape.MatchString(l.RoomID) {
		return fmt.Errorf("bad room id %q", l.RoomID)
	}
	if err := os.MkdirAll(filepath.Join(stateDir, "invites"), 0o700); err != nil {
		return err
	}
	return os.WriteFile(inviteFile(stateDir, l.RoomID), []byte(l.String()+"\n"), 0o600)
}

// savedInvite is the link saved for roomID, if any.
func savedInvite(stateDir, roomID string) (room.InviteLink, bool) {
	if !roomIDShape.MatchString(roomID) {
		return room.InviteLink{}, false
	}
	b, err := os.ReadFile(inviteFile(stateDir, roomID))
	if err != nil {
		return room.InviteLink{}, false
	}
	l, err := room.ParseInviteLink(string(b))
	return l, err == nil && l.RoomID == roomID
}

// joinCommand is what a friend runs: the link, quoted for a POSIX shell (it holds # and &).
func joinCommand(l room.InviteLink) string { return "watchparty join '" + l.String() + "'" }

// applyLink makes a join's argument, when it is an invite link, the room, the server and the
// anon key of the command. A plain room id is left as it is.
func applyLink(g *globalFlags, o *joinOptions, arg string) error {
	if !room.LooksLikeLink(arg) {
		o.RoomID = arg
		return nil
	}
	l, err := room.ParseInviteLink(arg)
	if err != nil {
		return usageErrorf("%v (quote it: the shell cuts a link at # or &)", err)
	}
	// --server, when given, is another address of the link's server (a LAN name, a tunnel).
	if g.server == "" {
		g.server = l.Server
	}
	o.RoomID, o.InviteSecret = l.RoomID, l.Secret
	if l.AnonKey != "" {
		g.anonKey = l.AnonKey
	}
	return nil
}

func newInviteCmd(g *globalFlags) *cobra.Command {
	var roomID string
	var rotate bool
	cmd := &cobra.Command{
		Use:   "invite --room ROOM [--rotate]",
		Short: "Print the room's invite link; --rotate makes a new one (host only)",
		Long: `Print the invite link of a room you host: friends run watchparty join 'LINK' with it
and need nothing else. The server keeps only a hash of the link's secret, so the link
shown is the one this machine saved when it created the room (host, create) or last
rotated it.

--rotate makes a new secret: links with the old one stop letting anyone new in (people
already in the room, and those who left, come back without one). Host only.`,
		Example: `  watchparty invite --room abc123def4
  watchparty invite --room abc123def4 --rotate`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !rotate {
				id, err := roomFlag(roomID)
				if err != nil {
					return err
				}
				env, err := g.resolve(quietLogger())
				if err != nil {
					return err
				}
				l, ok := savedInvite(env.paths.State, id)
				if !ok {
					return &exitError{exitNotFound, fmt.Errorf("no invite link of room %s is saved here (the server keeps only its hash): make a new one with --rotate (the old one then stops working)", id)}
				}
				fmt.Fprintln(cmd.OutOrStdout(), l.String())
				return nil
			}
			r, st, err := g.roomStatus(cmd.Context(), roomID)
			if err != nil {
				return err
			}
			defer r.Close()
			env, err := g.resolve(quietLogger())
			if err != nil {
				return err
			}
			if env.server, err = room.Identify(cmd.Context(), env.server); err != nil {
				return classify(err)
			}
			secret, err := r.RotateInvite(cmd.Context(), st.RoomID)
			if err != nil {
				return classify(err)
			}
			l := inviteLink(env, env.server.URL, st.RoomID, secret)
			if err := saveInvite(env.paths.State, l); err != nil {
				fmt.Fprintf(cmd.ErrOrStderr(), "watchparty: warning: the link is not saved here: %v\n", err)
			}
			fmt.Fprintln(cmd.OutOrStdout(), l.String())
			return nil
		},
	}
	cmd.Flags().StringVar(&roomID, "room", "", "room id (required)")
	cmd.Flags().BoolVar(&rotate, "rotate", false, "make a new secret: old links stop letting anyone new in")
	return cmd
}

// moderate runs one moderation request on the member NAME of --room.
func moderate(ctx context.Context, g *globalFlags, roomID, name string, do func(r *room.Remote, roomID, userID string) error) (string, error) {
	r, st, err := g.roomStatus(ctx, roomID)
	if err != nil {
		return "", err
	}
	defer r.Close()
	m, err := memberNamed(st.MemberList, name, r.UserID())
	if err != nil {
		return "", err
	}
	if err := do(r, st.RoomID, m.UserID); err != nil {
		if errors.Is(err, room.ErrNotAllowed) {
			return "", &exitError{exitNotAllowed, fmt.Errorf("%w (only the room's host may do this)", err)}
		}
		return "", classify(err)
	}
	return room.Sanitize(m.Username), nil
}

func newCohostCmd(g *globalFlags) *cobra.Command {
	var roomID string
	var revoke bool
	cmd := &cobra.Command{
		Use:   "cohost NAME --room ROOM [--revoke]",
		Short: "Let a member control playback too (host only)",
		Long: `Make the member NAME (or with that user id) a co-host: they may play, pause, seek and
change the speed like the host. They cannot rotate the invite link, hand the host role
over, or remove anyone. --revoke takes the role back.`,
		Example: `  watchparty cohost Bob --room abc123def4
  watchparty cohost Bob --room abc123def4 --revoke`,
		Args: exactArgs(1, "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			who, err := moderate(cmd.Context(), g, roomID, args[0], func(r *room.Remote, id, user string) error {
				return r.SetCohost(cmd.Context(), id, user, revoke)
			})
			if err != nil {
				return err
			}
			if revoke {
				fmt.Fprintf(cmd.OutOrStdout(), "%s is no longer a co-host\n", who)
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "%s is a co-host\n", who)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&roomID, "room", "", "room id (required)")
	cmd.Flags().BoolVar(&revoke, "revoke", false, "take the co-host role back")
	return cmd
}

func newKickCmd(g *globalFlags, ban bool) *cobra.Command {
	var roomID string
	use, short, long, done := "kick", "Remove a member from the room at once (host only)",
		`Remove the member NAME (or with that user id) from the room: all their windows leave at
once, and their screen says who removed them. They can come back only with the current
invite link (rotate it with watchparty invite --rotate to keep them out), or never,
with watchparty ban. Nobody can remove the room's owner.`, "removed"
	if ban {
		use, short, long, done = "ban", "Remove a member and never let them back in (host only)",
			`Remove the member NAME (or with that user id) from the room, as kick does, and never
let them back in, whatever link they have. Nobody can ban the room's owner.`, "banned"
	}
	cmd := &cobra.Command{
		Use:     use + " NAME --room ROOM",
		Short:   short,
		Long:    long,
		Example: "  watchparty " + use + " Mallory --room abc123def4",
		Args:    exactArgs(1, "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			who, err := moderate(cmd.Context(), g, roomID, args[0], func(r *room.Remote, id, user string) error {
				return r.Kick(cmd.Context(), id, user, ban)
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s %s\n", done, who)
			return nil
		},
	}
	cmd.Flags().StringVar(&roomID, "room", "", "room id (required)")
	return cmd
}
