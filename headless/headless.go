// Package headless runs a room session without a screen (`join --headless`, `host
// --headless`): it prints the session's events, one JSON object a line (the typed events of
// events.go) or one human line each, until the session ends or the context is cancelled, then
// leaves the room. It depends on room.Controls only, as the screen (package tui) does.
package headless

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/watchparty/watchparty/room"
)

// Options says how to print.
type Options struct {
	// JSON prints one JSON object a line on Out; otherwise one human line each.
	JSON bool
	// Out receives the events.
	Out io.Writer
	// Log receives the human notes around them (the room joined, how friends join); nil: none.
	// Nothing is written there in JSON mode.
	Log io.Writer
	// JoinCommand, when set, is shown on Log as the command friends run.
	JoinCommand string
	// Now is the clock of the "ts" fields; nil means time.Now.
	Now func() time.Time
}

// leaveTimeout bounds the leave after the events end.
const leaveTimeout = 5 * time.Second

// Run prints the session's events until it closes or ctx ends, then leaves the room and waits
// for the session's last event. It returns the error the session ended with; an interrupted
// run (ctx cancelled) that left cleanly returns nil.
func Run(ctx context.Context, c room.Controls, o Options) error {
	if o.Now == nil {
		o.Now = time.Now
	}
	if !o.JSON && o.Log != nil {
		fmt.Fprintf(o.Log, "joined room %s (Ctrl-C leaves)\n", c.Snapshot().RoomID)
		if o.JoinCommand != "" {
			fmt.Fprintf(o.Log, "friends join with: %s\n", o.JoinCommand)
		}
	}
	p := &printer{o: o}
	err := p.events(ctx, c.Events())
	leaveCtx, cancel := context.WithTimeout(context.Background(), leaveTimeout)
	defer cancel()
	if lerr := c.Leave(leaveCtx); lerr != nil && err == nil && ctx.Err() == nil {
		err = lerr
	}
	for range c.Events() {
		// drain until Closed so the session's goroutines end
	}
	if errors.Is(err, context.Canceled) {
		return nil // Ctrl-C: a clean leave
	}
	return err
}

// printer turns events into lines, remembering what it needs to thin out sync lines and to
// tell a reconnection from the first connection.
type printer struct {
	o          Options
	lastSync   time.Time
	lastMode   room.Mode
	lastStatus string
	connected  bool
	dropped    bool
}

// events prints events until the channel closes (nil), a Closed event (its error) or ctx
// ends (ctx's error).
func (p *printer) events(ctx context.Context, events <-chan room.Event) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case ev, ok := <-events:
			if !ok {
				return nil
			}
			if closed, ok := ev.(room.Closed); ok {
				if closed.Err != nil {
					p.emit(&Notice{Type: "error", Message: closed.Err.Error()}, closed.Err.Error())
				} else if closed.Reason == room.EndMPVClosed {
					// The user closed mpv: the session has left the room; we end successfully.
					p.emit(&Notice{Type: "notice", Level: string(room.NoticeInfo), Message: room.MPVClosedNote}, room.MPVClosedNote)
				}
				return closed.Err
			}
			p.event(ev)
		}
	}
}

// event prints one event (or nothing, for a thinned-out sync).
func (p *printer) event(ev room.Event) {
	switch ev := ev.(type) {
	case room.StateChanged:
		p.state(ev.Snapshot)
	case room.RoomChanged:
		state := "paused"
		if ev.Playing {
			state = "playing"
		}
		p.emit(&Room{Type: "room", Playing: ev.Playing, CurrentTime: round3(ev.Position), PlaybackRate: ev.Rate,
			StateVersion: ev.Version, HostUserID: ev.HostID, HostName: ev.HostName},
			fmt.Sprintf("%s at %s ×%g (v%d, host %s)", state, Clock(ev.Position), ev.Rate, ev.Version, ev.HostName))
	case room.MemberChanged:
		m := ev.Member
		p.emit(&Member{Type: "member", Change: ev.Change, UserID: m.UserID, Username: m.Name, Host: m.IsHost, Cohost: m.IsCohost,
			Playing: m.Playing, Position: round3(m.Position), DriftMS: m.DriftMS, Stale: m.Stale, Buffering: m.Buffering,
			MediaDiffers: m.MediaDiffers, MediaNote: m.MediaNote},
			fmt.Sprintf("%s %s", m.Name, ev.Change))
	case room.PresenceChanged:
		p.emit(&Presence{Type: "presence", Online: ev.Online}, fmt.Sprintf("%d online", len(ev.Online)))
	case room.CommentReceived:
		c := ev.Comment
		out := comment(c)
		if c.VideoTime != nil {
			t := round3(*c.VideoTime)
			out.VideoTime = &t
		}
		p.emit(out, fmt.Sprintf("%s: %s", c.Username, c.Message))
	case room.CommentsLoaded:
		for _, c := range ev.Comments {
			out := comment(c)
			out.History = true
			p.emit(out, fmt.Sprintf("%s: %s", c.Username, c.Message))
		}
	case room.Notice:
		typ := "notice"
		if ev.Level == room.NoticeError {
			typ = "error"
		}
		p.emit(&Notice{Type: typ, Level: string(ev.Level), Message: ev.Text}, ev.Text)
	case room.ConnectionChanged:
		p.connection(ev.Conn)
	case room.BufferingChanged:
		human := "buffering"
		if !ev.Buffering {
			human = "buffering over"
		}
		p.emit(&Buffering{Type: "buffering", Buffering: ev.Buffering}, human)
	case room.WaitChanged:
		p.emit(&Wait{Type: "wait", Ended: ev.Ended, Message: ev.Text, Names: ev.Names, UserIDs: ev.UserIDs}, ev.Text)
	default:
		p.readyEvent(ev)
	}
}

func comment(c room.Comment) *Comment {
	return &Comment{Type: "comment", ID: c.ID, UserID: c.UserID, Username: c.Username, Message: c.Message,
		System: c.System, CreatedAt: c.At.UTC().Format(time.RFC3339Nano)}
}

// state prints the first connection, then a sync line at most once a second unless the mode or
// status changes.
func (p *printer) state(s room.Snapshot) {
	if !p.connected && s.Conn.State == room.ConnConnected {
		p.connected = true
		host := s.IsHost
		p.emit(&Connected{Type: "connected", RoomID: s.RoomID, UserID: s.SelfID, Host: &host},
			fmt.Sprintf("room %s as %s", s.RoomID, s.SelfName))
	}
	sv := s.Sync
	status := sv.Status.String()
	now := p.o.Now()
	if now.Sub(p.lastSync) < time.Second && sv.Mode == p.lastMode && status == p.lastStatus {
		return
	}
	p.lastSync, p.lastMode, p.lastStatus = now, sv.Mode, status
	p.emit(&Sync{Type: "sync", Position: round3(sv.Position), Expected: round3(sv.Expected), DriftMS: sv.DriftMS,
		InSync: sv.InSync(), Speed: round3(sv.Speed), Mode: string(sv.Mode), Status: status,
		Playing: s.Playing, Members: len(s.Members)},
		fmt.Sprintf("%s %s / room %s drift %+d ms (%s)", sv.Mode, Clock(sv.Position), Clock(sv.Expected), sv.DriftMS, status))
}

// connection prints drops and the reconnection after one.
func (p *printer) connection(c room.Connection) {
	switch c.State {
	case room.ConnConnected:
		if p.dropped {
			p.dropped = false
			p.emit(&Connected{Type: "connected", Reconnected: true}, "reconnected")
		}
	case room.ConnReconnecting, room.ConnClosed:
		p.dropped = true
		d := &Disconnected{Type: "disconnected", State: string(c.State), Error: c.Err}
		if !c.RetryAt.IsZero() {
			d.RetryAt = c.RetryAt.UTC().Format(time.RFC3339Nano)
		}
		p.emit(d, fmt.Sprintf("%s %s", c.State, c.Err))
	}
}

// stamped is an event struct whose ts and type can be set.
type stamped interface{ stamp(ts string) (typ string) }

func (e *Connected) stamp(ts string) string    { e.TS = ts; return e.Type }
func (e *Sync) stamp(ts string) string         { e.TS = ts; return e.Type }
func (e *Room) stamp(ts string) string         { e.TS = ts; return e.Type }
func (e *Member) stamp(ts string) string       { e.TS = ts; return e.Type }
func (e *Presence) stamp(ts string) string     { e.TS = ts; return e.Type }
func (e *Buffering) stamp(ts string) string    { e.TS = ts; return e.Type }
func (e *Wait) stamp(ts string) string         { e.TS = ts; return e.Type }
func (e *Comment) stamp(ts string) string      { e.TS = ts; return e.Type }
func (e *Notice) stamp(ts string) string       { e.TS = ts; return e.Type }
func (e *Disconnected) stamp(ts string) string { e.TS = ts; return e.Type }
func (e *Hosting) stamp(ts string) string      { e.TS = ts; return e.Type }

// emit writes ev as a JSON line, or human as a human line. The human line is cleaned as the
// screen cleans what it shows (room.Sanitize: newlines, carriage returns and tabs become
// spaces, other controls and escape sequences go), so a comment or a name cannot break the
// one-event-a-line form and fake event lines of its own; JSON escapes them instead.
func (p *printer) emit(ev stamped, human string) {
	now := p.o.Now()
	typ := ev.stamp(Timestamp(now))
	if p.o.JSON {
		WriteJSON(p.o.Out, ev)
		return
	}
	fmt.Fprintf(p.o.Out, "%s %-10s %s\n", now.Format("15:04:05"), typ, room.Sanitize(human))
}

// PrintHosting writes host's first JSON line.
func PrintHosting(w io.Writer, now time.Time, roomID, server, joinCommand string) error {
	return WriteJSON(w, &Hosting{Type: "hosting", TS: Timestamp(now), RoomID: roomID, Server: server, JoinCommand: joinCommand})
}

// Timestamp is the "ts" of an event: UTC, milliseconds.
func Timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }

// WriteJSON writes v as one JSON line, without HTML escaping.
func WriteJSON(w io.Writer, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// Clock formats a position in seconds as m:ss or h:mm:ss.
func Clock(sec float64) string {
	t := int(sec + 0.5)
	if t >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", t/3600, t/60%60, t%60)
	}
	return fmt.Sprintf("%d:%02d", t/60, t%60)
}

// round3 rounds to milliseconds, half away from zero.
func round3(v float64) float64 {
	if v < 0 {
		return float64(int64(v*1000-0.5)) / 1000
	}
	return float64(int64(v*1000+0.5)) / 1000
}
