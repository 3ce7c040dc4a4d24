package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/watchparty/watchparty/headless"
	"github.com/watchparty/watchparty/party"
	"github.com/watchparty/watchparty/room"
)

// expectedNow is the room's position at the server time of the reply (0 when the room could
// not be read).
func expectedNow(st room.State) float64 {
	if st.RoomErr != nil {
		return 0
	}
	return st.RoomState.ExpectedPosition(st.ServerTime)
}

// roomNew describes a room from flags. An http(s) URL becomes the room's media URL (every
// member's mpv may open it); a local file stays local: the room gets its name as the default
// title, never the path. Any other URL (av://, edl://, file://, …) is a usage error: it would
// be an instruction to members' mpv, and servers refuse it.
func roomNew(username, media, title string, duration float64) (room.NewRoom, error) {
	nr := room.NewRoom{Username: username, MediaTitle: title, MediaDuration: duration}
	if media == "" {
		return nr, nil
	}
	if err := party.CheckMediaURL(media); err == nil {
		nr.MediaURL = media
	} else if strings.Contains(media, "://") {
		return nr, usageErrorf("--media %s: %v (a local file: pass it to join or host as --media)", room.ShowURL(media), err)
	}
	if nr.MediaTitle == "" {
		nr.MediaTitle = fileTitle(media)
	}
	return nr, nil
}

// fileTitle is a local file's name without its directories (either separator: a path
// written on Windows names its folders with backslashes), the title a room gets for it.
func fileTitle(path string) string {
	path = strings.TrimRight(path, `/\`)
	if i := strings.LastIndexAny(path, `/\`); i >= 0 {
		path = path[i+1:]
	}
	return path
}

// printStatus prints a room's state and members, decoded (room.State's RoomState and
// MemberList), for a person.
func printStatus(w io.Writer, st room.State, pos float64) {
	rs := st.RoomState
	id := rs.RoomID
	if id == "" {
		id = st.RoomID
	}
	if st.RoomErr != nil {
		fmt.Fprintf(w, "room %s: state unreadable (%s)\n", room.Sanitize(id), room.Sanitize(st.RoomErr.Error()))
	} else {
		state := "paused"
		if rs.IsPlaying {
			state = "playing"
		}
		fmt.Fprintf(w, "room %s: %s at %s", room.Sanitize(id), state, headless.Clock(pos))
		if d := rs.MediaDuration; d > 0 {
			fmt.Fprintf(w, " / %s", headless.Clock(d))
		}
		if r := rs.Rate(); r != 1 {
			fmt.Fprintf(w, " (×%g)", r)
		}
		fmt.Fprintln(w)
		if t := room.Sanitize(rs.MediaTitle); t != "" {
			fmt.Fprintf(w, "title: %s\n", t)
		}
		if rs.ReadyMode {
			fmt.Fprint(w, "ready check on")
			if rs.StartPending {
				fmt.Fprint(w, ": starting when everyone is ready")
			}
			fmt.Fprintln(w)
		}
		if ids := rs.Waiting.IDs(); len(ids) > 0 {
			names := make([]string, len(ids))
			for i, id := range ids {
				names[i] = "someone"
				for _, mem := range st.MemberList {
					if mem.UserID == id {
						names[i] = room.Sanitize(mem.Username)
					}
				}
			}
			fmt.Fprintf(w, "waiting for %s (buffering; at most %s)\n", strings.Join(names, ", "), rs.WaitLimit)
		}
	}
	now := time.Now()
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "MEMBER\tROLE\tSTATE\tPOSITION\tLAST SEEN")
	for _, mem := range st.MemberList {
		state := "paused"
		if mem.IsPlaying {
			state = "playing"
		}
		if mem.Buffering {
			state += ", buffering"
		}
		seen := "never"
		if !mem.LastSeen.IsZero() {
			seen = now.Sub(mem.LastSeen).Round(time.Second).String() + " ago"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", room.Sanitize(mem.Username), mem.Role, state, headless.Clock(mem.CurrentTime), seen)
	}
	tw.Flush()
}
