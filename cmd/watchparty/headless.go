package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/watchparty/watchparty/room"
)

func nowTS() string { return time.Now().UTC().Format("2006-01-02T15:04:05.000Z07:00") }

// printEvents writes the session's events until it closes or ctx ends: one JSON object per
// line (DESIGN §4) or one human line each. Sync lines go out at most once a second unless
// the mode or status changes.
func printEvents(ctx context.Context, sess *room.Session, w io.Writer, asJSON bool) error {
	var lastSync time.Time
	var lastMode room.Mode
	var lastStatus string
	connected, dropped := false, false
	emit := func(typ string, fields map[string]any, human string) {
		if asJSON {
			fields["type"], fields["ts"] = typ, nowTS()
			printJSONLine(w, fields)
			return
		}
		fmt.Fprintf(w, "%s %-10s %s\n", time.Now().Format("15:04:05"), typ, human)
	}
	for {
		var ev room.Event
		var ok bool
		select {
		case <-ctx.Done():
			return ctx.Err()
		case ev, ok = <-sess.Events():
			if !ok {
				return nil
			}
		}
		switch ev := ev.(type) {
		case room.StateChanged:
			s := ev.Snapshot
			if !connected && s.Conn.State == room.ConnConnected {
				connected = true
				emit("connected", map[string]any{"room_id": s.RoomID, "user_id": s.SelfID, "host": s.IsHost},
					fmt.Sprintf("room %s as %s", s.RoomID, s.SelfName))
			}
			sv := s.Sync
			status := sv.Status.String()
			if time.Since(lastSync) < time.Second && sv.Mode == lastMode && status == lastStatus {
				continue
			}
			lastSync, lastMode, lastStatus = time.Now(), sv.Mode, status
			emit("sync", map[string]any{
				"position": round3(sv.Position), "expected": round3(sv.Expected), "drift_ms": sv.DriftMS,
				"in_sync": sv.InSync(), "speed": round3(sv.Speed), "mode": string(sv.Mode), "status": status,
				"playing": s.Playing, "members": len(s.Members),
			}, fmt.Sprintf("%s %s / room %s drift %+d ms (%s)", sv.Mode, clockText(sv.Position), clockText(sv.Expected), sv.DriftMS, status))
		case room.RoomChanged:
			emit("room", map[string]any{"playing": ev.Playing, "current_time": round3(ev.Position), "playback_rate": ev.Rate,
				"state_version": ev.Version, "host_user_id": ev.HostID, "host_name": ev.HostName},
				fmt.Sprintf("%s at %s ×%g (v%d, host %s)", map[bool]string{true: "playing", false: "paused"}[ev.Playing], clockText(ev.Position), ev.Rate, ev.Version, ev.HostName))
		case room.MemberChanged:
			m := ev.Member
			emit("member", map[string]any{"change": ev.Change, "user_id": m.UserID, "username": m.Name, "host": m.IsHost,
				"playing": m.Playing, "position": round3(m.Position), "drift_ms": m.DriftMS, "stale": m.Stale},
				fmt.Sprintf("%s %s", m.Name, ev.Change))
		case room.PresenceChanged:
			emit("presence", map[string]any{"online": ev.Online}, fmt.Sprintf("%d online", len(ev.Online)))
		case room.CommentReceived:
			c := ev.Comment
			fields := map[string]any{"id": c.ID, "user_id": c.UserID, "username": c.Username, "message": c.Message,
				"system": c.System, "created_at": c.At.UTC().Format(time.RFC3339Nano)}
			if c.VideoTime != nil {
				fields["video_time"] = round3(*c.VideoTime)
			}
			emit("comment", fields, fmt.Sprintf("%s: %s", c.Username, c.Message))
		case room.CommentsLoaded:
			for _, c := range ev.Comments {
				emit("comment", map[string]any{"id": c.ID, "user_id": c.UserID, "username": c.Username, "message": c.Message,
					"system": c.System, "created_at": c.At.UTC().Format(time.RFC3339Nano), "history": true},
					fmt.Sprintf("%s: %s", c.Username, c.Message))
			}
		case room.Notice:
			typ := "notice"
			if ev.Level == room.NoticeError {
				typ = "error"
			}
			emit(typ, map[string]any{"level": string(ev.Level), "message": ev.Text}, ev.Text)
		case room.ConnectionChanged:
			switch ev.Conn.State {
			case room.ConnConnected:
				if dropped {
					dropped = false
					emit("connected", map[string]any{"reconnected": true}, "reconnected")
				}
			case room.ConnReconnecting, room.ConnClosed:
				dropped = true
				fields := map[string]any{"state": string(ev.Conn.State), "error": ev.Conn.Err}
				if !ev.Conn.RetryAt.IsZero() {
					fields["retry_at"] = ev.Conn.RetryAt.UTC().Format(time.RFC3339Nano)
				}
				emit("disconnected", fields, fmt.Sprintf("%s %s", ev.Conn.State, ev.Conn.Err))
			}
		case room.Closed:
			if ev.Err != nil {
				emit("error", map[string]any{"message": ev.Err.Error()}, ev.Err.Error())
			}
			return ev.Err
		}
	}
}

func round3(v float64) float64 { return float64(int64(v*1000+0.5*sign(v))) / 1000 }

func sign(v float64) float64 {
	if v < 0 {
		return -1
	}
	return 1
}
