package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/watchparty/watchparty/headless"
	"github.com/watchparty/watchparty/party"
	"github.com/watchparty/watchparty/room"
)

// expectedNow is the room's position at the server time of the reply.
func expectedNow(row map[string]any, serverTime time.Time) float64 {
	st, err := party.ParseRoomRow(row)
	if err != nil {
		return 0
	}
	return st.ExpectedPosition(serverTime)
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
		nr.MediaTitle = filepath.Base(media)
	}
	return nr, nil
}

func printStatus(w io.Writer, roomRow map[string]any, members []map[string]any, pos float64) {
	str := func(m map[string]any, k string) string {
		v, _ := m[k].(string)
		return room.Sanitize(v)
	}
	state := "paused"
	if p, _ := roomRow["is_playing"].(bool); p {
		state = "playing"
	}
	fmt.Fprintf(w, "room %s: %s at %s", str(roomRow, "room_id"), state, headless.Clock(pos))
	if d, ok := roomRow["media_duration"].(float64); ok && d > 0 {
		fmt.Fprintf(w, " / %s", headless.Clock(d))
	}
	if r, ok := roomRow["playback_rate"].(float64); ok && r != 1 {
		fmt.Fprintf(w, " (×%g)", r)
	}
	fmt.Fprintln(w)
	if t := str(roomRow, "media_title"); t != "" {
		fmt.Fprintf(w, "title: %s\n", t)
	}
	now := time.Now()
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "MEMBER\tROLE\tSTATE\tPOSITION\tLAST SEEN")
	for _, m := range members {
		mem, err := party.ParseMemberRow(m)
		if err != nil {
			continue
		}
		st := "paused"
		if mem.IsPlaying {
			st = "playing"
		}
		seen := "never"
		if !mem.LastSeen.IsZero() {
			seen = now.Sub(mem.LastSeen).Round(time.Second).String() + " ago"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", room.Sanitize(mem.Username), mem.Role, st, headless.Clock(mem.CurrentTime), seen)
	}
	tw.Flush()
}
