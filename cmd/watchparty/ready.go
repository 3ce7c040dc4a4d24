package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/watchparty/watchparty/room"
)

// The ready check from scripts (docs/api.md, "The ready check"): ready, settings, play --force.

// notReady turns a play held by the ready check into exit code 5, saying who is not ready.
func notReady(err error) error {
	var nr *room.NotReadyError
	if errors.As(err, &nr) {
		return &exitError{exitNotReady, fmt.Errorf("%s: the room starts when they are ready; play --force starts it now", nr.Summary())}
	}
	return classify(err)
}

func newReadyCmd(g *globalFlags) *cobra.Command {
	var roomID string
	var not bool
	cmd := &cobra.Command{
		Use:   "ready --room ROOM [--not]",
		Short: "Say you are ready (or, with --not, not ready) to start",
		Long: `Answer the room's ready check as the user saved for --server: ready, or with --not
not ready. In a room with the ready check on, the host's play waits until every live
member is ready; your answer is yours in every window you have in the room, and a
leave clears it.`,
		Example: `  watchparty ready --room abc123def4
  watchparty ready --room abc123def4 --not`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			id, err := roomFlag(roomID)
			if err != nil {
				return err
			}
			r, env, err := g.connect(cmd.Context())
			if err != nil {
				return classify(err)
			}
			defer r.Close()
			if err := r.SetReady(cmd.Context(), id, !not); err != nil {
				return notMember(err, id, env)
			}
			if not {
				fmt.Fprintln(cmd.OutOrStdout(), "not ready")
			} else {
				fmt.Fprintln(cmd.OutOrStdout(), "ready")
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&roomID, "room", "", "room id (required)")
	cmd.Flags().BoolVar(&not, "not", false, "not ready (take back a ready)")
	return cmd
}

func newSettingsCmd(g *globalFlags) *cobra.Command {
	var roomID, readyMode string
	var wait waitLimitFlag
	cmd := &cobra.Command{
		Use:   "settings --room ROOM [--ready-mode on|off] [--wait-limit 8s]",
		Short: "Change the room's settings (host only)",
		Long: `Change the room's settings; those not given stay as they are.

--ready-mode on: the host's play waits until every live member is ready (watchparty
ready, or r on the screen); switching it on asks everyone again. off: a play plays.

--wait-limit: how long the room waits at most for someone whose video buffers after a
play, a seek or their join (whole seconds up to 60s; 0 never waits).`,
		Example: `  watchparty settings --room abc123def4 --ready-mode on
  watchparty settings --room abc123def4 --wait-limit 15s`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var set room.RoomSettings
			switch readyMode {
			case "":
			case "on", "off":
				on := readyMode == "on"
				set.ReadyMode = &on
			default:
				return usageErrorf("--ready-mode %q: on or off", readyMode)
			}
			if err := wait.validate(); err != nil {
				return err
			}
			set.WaitLimit = wait.value()
			if set == (room.RoomSettings{}) {
				return usageErrorf("nothing to change: pass --ready-mode on|off or --wait-limit")
			}
			r, cur, err := g.roomStatus(cmd.Context(), roomID) // a member, or told how to become one
			if err != nil {
				return err
			}
			defer r.Close()
			st, err := r.Settings(cmd.Context(), cur.RoomID, set)
			if err != nil {
				return classify(err) // not the host: exit code 4
			}
			state := "off"
			if st.ReadyMode {
				state = "on"
			}
			if set.ReadyMode != nil {
				fmt.Fprintf(cmd.OutOrStdout(), "ready check %s\n", state)
			}
			if set.WaitLimit != nil {
				fmt.Fprintf(cmd.OutOrStdout(), "wait limit %s\n", st.WaitLimit)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&roomID, "room", "", "room id (required)")
	cmd.Flags().StringVar(&readyMode, "ready-mode", "", "on or off: the host's play waits until everyone is ready")
	wait.register(cmd)
	return cmd
}
