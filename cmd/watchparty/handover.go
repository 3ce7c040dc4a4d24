package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/watchparty/watchparty/party"
	"github.com/watchparty/watchparty/room"
)

func newHandoverCmd(g *globalFlags) *cobra.Command {
	var roomID string
	cmd := &cobra.Command{
		Use:   "handover NAME --room ROOM",
		Short: "Give the host role to another member (host only)",
		Long: `Give the host role to the member called NAME (or with that user id), on purpose.
The room's owner (who created it) normally takes the host role back on returning after
a crash; after handing it over they don't, until it is handed back.`,
		Example: `  watchparty handover Bob --room abc123def4`,
		Args:    exactArgs(1, "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, st, err := g.roomStatus(cmd.Context(), roomID)
			if err != nil {
				return err
			}
			defer r.Close()
			to, err := memberNamed(st.MemberList, args[0], r.UserID())
			if err != nil {
				return err
			}
			if err := r.Handover(cmd.Context(), st.RoomID, to.UserID); err != nil {
				return classify(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s is now the host\n", room.Sanitize(to.Username))
			return nil
		},
	}
	cmd.Flags().StringVar(&roomID, "room", "", "room id (required)")
	return cmd
}

// memberNamed finds the one other member called name (case-insensitively, as shown on screens)
// or with that user id.
func memberNamed(members []party.Member, name, self string) (party.Member, error) {
	want := strings.TrimSpace(name)
	var found []party.Member
	for _, m := range members {
		if m.UserID == self || !m.Announced {
			continue
		}
		if m.UserID == want {
			return m, nil
		}
		if strings.EqualFold(room.Sanitize(m.Username), want) {
			found = append(found, m)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		var names []string
		for _, m := range members {
			if m.UserID != self && m.Announced {
				names = append(names, room.Sanitize(m.Username))
			}
		}
		if len(names) == 0 {
			return party.Member{}, usageErrorf("nobody else is in the room to hand it to")
		}
		return party.Member{}, usageErrorf("no member called %q: the others are %s", want, strings.Join(names, ", "))
	}
	var ids []string
	for _, m := range found {
		ids = append(ids, m.UserID)
	}
	return party.Member{}, usageErrorf("%d members are called %q: pass one's user id instead (%s; see status --json)", len(found), want, strings.Join(ids, ", "))
}
