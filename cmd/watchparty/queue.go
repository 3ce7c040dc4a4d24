package main

import (
	"fmt"
	"path/filepath"
	"strconv"

	"github.com/spf13/cobra"
	"github.com/watchparty/watchparty/headless"
	"github.com/watchparty/watchparty/party"
	"github.com/watchparty/watchparty/room"
)

// newQueueCmd is `watchparty queue add|list|rm|move|next --room R`: the room's shared queue
// from scripts (docs/design.md §7.13).
func newQueueCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "queue",
		Short: "The room's queue: add, list, rm, move, next",
		Long: `The room's shared queue. Everyone sees it; the host adds, removes, moves and skips.
At the end of an entry the room plays the next one for everyone.

An entry is a local file or an http(s) URL. For a local file only its title (default: the
file's name) and a private fingerprint (keyed with the room id) are sent: each member plays
their own copy, found in the directories they give with --media-dir (by fingerprint, then by
name). A URL is opened by each member's mpv after they accept it.`,
		Example: `  watchparty queue add film.mkv --room abc123def4
  watchparty queue add https://example.com/trailer.mp4 --title Trailer --room abc123def4
  watchparty queue list --room abc123def4
  watchparty queue move 12 0 --room abc123def4
  watchparty queue rm 12 --room abc123def4
  watchparty queue next --room abc123def4`,
		Args: noArgs,
	}
	cmd.AddCommand(newQueueAddCmd(g), newQueueListCmd(g), newQueueRmCmd(g), newQueueMoveCmd(g), newQueueNextCmd(g))
	return cmd
}

func newQueueAddCmd(g *globalFlags) *cobra.Command {
	var roomID, title, mpv string
	var duration float64
	cmd := &cobra.Command{
		Use:   "add FILE|URL --room ROOM",
		Short: "Add a local file or an http(s) URL at the end of the queue (host only)",
		Example: `  watchparty queue add film.mkv --room abc123def4
  watchparty queue add https://example.com/clip.mp4 --title "A clip" --room abc123def4`,
		Args: exactArgs(1, "FILE|URL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			media := args[0]
			ne := room.NewEntry{Title: title, Duration: duration}
			isURL := party.CheckMediaURL(media) == nil
			if !isURL {
				if _, err := filepath.Abs(media); err != nil {
					return usageErrorf("%v", err)
				}
			}
			r, st, err := g.roomStatus(cmd.Context(), roomID)
			if err != nil {
				return err
			}
			defer r.Close()
			if isURL {
				ne.URL = media
				if ne.Title == "" {
					ne.Title = media
				}
			} else {
				if ne.FP, err = room.FingerprintFile(media, st.RoomID); err != nil {
					return usageErrorf("%s is not a readable file (an http(s) URL or a local file): %v", media, err)
				}
				if ne.Title == "" {
					ne.Title = filepath.Base(media)
				}
				if ne.Duration == 0 {
					if d, err := room.ProbeDuration(cmd.Context(), mpv, media); err == nil {
						ne.Duration = d
					}
				}
			}
			if r := []rune(ne.Title); len(r) > 200 {
				ne.Title = string(r[:200])
			}
			q, err := r.QueueAdd(cmd.Context(), st.RoomID, ne)
			if err != nil {
				return classify(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "added %d: %s\n", q.ID, room.Sanitize(q.Title))
			return nil
		},
	}
	cmd.Flags().StringVar(&roomID, "room", "", "room id (required)")
	cmd.Flags().StringVar(&title, "title", "", "title shown to members (default: the file's name, or the URL)")
	cmd.Flags().Float64Var(&duration, "duration", 0, "length in seconds (default: read with mpv for a local file)")
	cmd.Flags().StringVar(&mpv, "mpv", "", "the mpv that reads a local file's length (default: mpv on PATH)")
	return cmd
}

func newQueueListCmd(g *globalFlags) *cobra.Command {
	var roomID string
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "list --room ROOM",
		Short:   "List the room's queue; ▶ marks the entry playing",
		Example: `  watchparty queue list --room abc123def4`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, st, err := g.roomStatus(cmd.Context(), roomID)
			if err != nil {
				return err
			}
			defer r.Close()
			entries, err := r.Queue(cmd.Context(), st.RoomID)
			if err != nil {
				return classify(err)
			}
			out := cmd.OutOrStdout()
			for _, q := range (&party.Queue{}).With(entries).Live() {
				if asJSON {
					if err := printJSONLine(out, map[string]any{"id": q.ID, "position": q.Position, "title": room.Sanitize(q.Title),
						"duration": q.Duration, "url": q.URL != "", "playing": q.ID == st.RoomState.QueueEntryID}); err != nil {
						return err
					}
					continue
				}
				mark, length, kind := " ", "", "file"
				if q.ID == st.RoomState.QueueEntryID {
					mark = "▶"
				}
				if q.Duration > 0 {
					length = " " + headless.Clock(q.Duration)
				}
				if q.URL != "" {
					kind = "url"
				}
				fmt.Fprintf(out, "%s %d. [%d] %s%s (%s)\n", mark, q.Position+1, q.ID, room.Sanitize(q.Title), length, kind)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&roomID, "room", "", "room id (required)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "one JSON object per entry")
	return cmd
}

// entryArg reads an entry id argument.
func entryArg(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, usageErrorf("%q is not an entry id (see watchparty queue list)", s)
	}
	return id, nil
}

func newQueueRmCmd(g *globalFlags) *cobra.Command {
	var roomID string
	cmd := &cobra.Command{
		Use:     "rm ID --room ROOM",
		Short:   "Remove an entry from the queue (host only); it never plays",
		Example: `  watchparty queue rm 12 --room abc123def4`,
		Args:    exactArgs(1, "ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := entryArg(args[0])
			if err != nil {
				return err
			}
			r, st, err := g.roomStatus(cmd.Context(), roomID)
			if err != nil {
				return err
			}
			defer r.Close()
			if err := r.QueueRemove(cmd.Context(), st.RoomID, id); err != nil {
				return classify(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "removed %d\n", id)
			return nil
		},
	}
	cmd.Flags().StringVar(&roomID, "room", "", "room id (required)")
	return cmd
}

func newQueueMoveCmd(g *globalFlags) *cobra.Command {
	var roomID string
	cmd := &cobra.Command{
		Use:     "move ID POS --room ROOM",
		Short:   "Move an entry to place POS of the queue (1 = first; host only)",
		Example: `  watchparty queue move 12 1 --room abc123def4`,
		Args:    exactArgs(2, "ID POS"),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := entryArg(args[0])
			if err != nil {
				return err
			}
			pos, err := strconv.ParseInt(args[1], 10, 64)
			if err != nil || pos < 1 {
				return usageErrorf("%q is not a place in the queue (1 = first)", args[1])
			}
			r, st, err := g.roomStatus(cmd.Context(), roomID)
			if err != nil {
				return err
			}
			defer r.Close()
			if err := r.QueueMove(cmd.Context(), st.RoomID, id, pos-1); err != nil {
				return classify(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "moved %d to %d\n", id, pos)
			return nil
		},
	}
	cmd.Flags().StringVar(&roomID, "room", "", "room id (required)")
	return cmd
}

func newQueueNextCmd(g *globalFlags) *cobra.Command {
	var roomID string
	var entry string
	cmd := &cobra.Command{
		Use:   "next --room ROOM",
		Short: "Skip to the next entry (or --entry ID) for everyone (host only)",
		Example: `  watchparty queue next --room abc123def4
  watchparty queue next --entry 12 --room abc123def4`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var id int64
			if entry != "" {
				var err error
				if id, err = entryArg(entry); err != nil {
					return err
				}
			}
			r, st, err := g.roomStatus(cmd.Context(), roomID)
			if err != nil {
				return err
			}
			defer r.Close()
			rs, err := r.QueueNext(cmd.Context(), st.RoomID, id, 0)
			if err != nil {
				return classify(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "now playing %d: %s\n", rs.QueueEntryID, room.Sanitize(rs.MediaTitle))
			return nil
		},
	}
	cmd.Flags().StringVar(&roomID, "room", "", "room id (required)")
	cmd.Flags().StringVar(&entry, "entry", "", "the entry to play (default: the one after the entry playing)")
	return cmd
}
