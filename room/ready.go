package room

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/watchparty/watchparty/party"
	"github.com/watchparty/watchparty/player"
	"github.com/watchparty/watchparty/realtime"
)

// The ready check, client side (docs/design.md, "The ready check"; the contract in docs/api.md):
// every member answers with SetReady; the host switches the room's ready mode; the host's play
// in ready mode is published first and played once the server says the room plays, so that no
// mpv plays while the room waits; a held play comes back as *NotReadyError.

// maxNotReadyNames bounds the names a NOT_READY reply is read for (the servers send at most 20).
const maxNotReadyNames = 20

// NotReadyError is the host's play held by the ready check: the room starts when everyone is
// ready, or at once with ForcePlay. Names are sanitised, at most maxNotReadyNames.
type NotReadyError struct {
	Count int
	Names []string
}

func (e *NotReadyError) Error() string {
	return e.Summary()
}

// Summary is "2 not ready (bob, carol)", naming at most 5.
func (e *NotReadyError) Summary() string {
	names := e.Names
	more := ""
	if len(names) > 5 {
		names, more = names[:5], ", …"
	} else if e.Count > len(names) && len(names) > 0 {
		more = ", …"
	}
	if len(names) == 0 {
		return fmt.Sprintf("%d not ready", e.Count)
	}
	return fmt.Sprintf("%d not ready (%s%s)", e.Count, strings.Join(names, ", "), more)
}

// notReadyOf reads a NOT_READY reply into a *NotReadyError; other errors come back as they are.
func notReadyOf(err error) error {
	var api *realtime.APIError
	if !errors.As(err, &api) || api.Code != "NOT_READY" {
		return err
	}
	var body struct {
		Error struct {
			NotReady []struct {
				Username any `json:"username"`
			} `json:"not_ready"`
			Count any `json:"not_ready_count"`
		} `json:"error"`
	}
	_ = json.Unmarshal(api.Body, &body) // an unreadable body still says NOT_READY
	nr := &NotReadyError{}
	for i, m := range body.Error.NotReady {
		if i == maxNotReadyNames {
			break
		}
		if name, ok := m.Username.(string); ok {
			nr.Names = append(nr.Names, Sanitize(name))
		}
	}
	nr.Count = len(nr.Names)
	if c, ok := body.Error.Count.(float64); ok && c >= float64(nr.Count) && c <= 1e6 {
		nr.Count = int(c)
	}
	if nr.Count == 0 {
		nr.Count = 1 // NOT_READY means someone is
	}
	return nr
}

// SetReady answers the ready check for us in roomID (the caller must be a member).
func (r *Remote) SetReady(ctx context.Context, roomID string, ready bool) error {
	return friendly(roomID, r.client.Functions.Invoke(ctx, "rooms/ready", map[string]any{"room_id": roomID, "ready": ready}, nil))
}

// RoomSettings are the host's room settings; nil leaves one as it is.
type RoomSettings struct {
	ReadyMode *bool
	// WaitLimit is the longest wait for buffering members: whole seconds, 0 to 60, 0: never
	// wait (docs/design.md §7.12).
	WaitLimit *time.Duration
}

// Settings changes the room's settings (host only) and returns the room's new state.
func (r *Remote) Settings(ctx context.Context, roomID string, set RoomSettings) (party.RoomState, error) {
	row, err := r.settings(ctx, roomID, set)
	if err != nil {
		return party.RoomState{}, err
	}
	st, _ := party.ParseRoomRow(row)
	return st, nil
}

// settings calls rooms/settings and returns the room's row.
func (r *Remote) settings(ctx context.Context, roomID string, set RoomSettings) (map[string]any, error) {
	body := map[string]any{"room_id": roomID}
	if set.ReadyMode != nil {
		body["ready_mode"] = *set.ReadyMode
	}
	if set.WaitLimit != nil {
		body["wait_limit"] = int64(*set.WaitLimit / time.Second)
	}
	var out struct {
		Room map[string]any `json:"room"`
	}
	if err := r.client.Functions.Invoke(ctx, "rooms/settings", body, &out); err != nil {
		return nil, friendly(roomID, err)
	}
	return out.Room, nil
}

// Play plays the room at pos (host only), read at the server-clock instant at (zero: not
// sent). force plays a room in ready mode at once; without it a held play is *NotReadyError.
func (r *Remote) Play(ctx context.Context, roomID string, pos float64, at time.Time, force bool) (party.RoomState, error) {
	body := map[string]any{"room_id": roomID, "action": "play", "current_time": pos}
	if force {
		body["force"] = true
	}
	return r.invokeControl(ctx, roomID, body, at)
}

func (b *rtBackend) Play(ctx context.Context, roomID string, pos float64, at time.Time, force bool) (party.RoomState, error) {
	return b.Remote.Play(ctx, roomID, pos, at, force)
}

func (b *rtBackend) SetReady(ctx context.Context, roomID string, ready bool) error {
	return b.Remote.SetReady(ctx, roomID, ready)
}

func (b *rtBackend) Settings(ctx context.Context, roomID string, set RoomSettings) (party.RoomState, error) {
	return b.Remote.Settings(ctx, roomID, set)
}

// ReadyChanged is a member's answer to the ready check changing (ours included).
type ReadyChanged struct {
	UserID string
	Name   string // sanitised
	Ready  bool
	Self   bool
}

// ReadyModeChanged is the room's ready mode switched on or off by the host.
type ReadyModeChanged struct{ On bool }

// StartPending is the host's play held by the ready check: the room starts when everyone is
// ready. NotReady names the live members not ready as this client lists them.
type StartPending struct{ NotReady []string }

// ReadyStarted is a held start going ahead: everyone was ready, or the host forced it.
type ReadyStarted struct{}

func (ReadyChanged) isEvent()     {}
func (ReadyModeChanged) isEvent() {}
func (StartPending) isEvent()     {}
func (ReadyStarted) isEvent()     {}

// ReadyCounts is the ready check as this snapshot shows it: of the live listed members other
// than the host, how many are ready, and the names of those who are not (the server's rule of
// who counts, docs/api.md, applied to what we list).
func (s Snapshot) ReadyCounts() (ready, total int, notReady []string) {
	for _, m := range s.Members {
		if m.IsHost || m.Stale {
			continue
		}
		total++
		if m.Ready {
			ready++
		} else {
			notReady = append(notReady, m.Name)
		}
	}
	return ready, total, notReady
}

// SetReady implements Controls.
func (s *Session) SetReady(ctx context.Context, ready bool) error {
	return s.do(ctx, request{op: opSetReady, on: ready})
}

// SetReadyMode implements Controls.
func (s *Session) SetReadyMode(ctx context.Context, on bool) error {
	return s.do(ctx, request{op: opReadyMode, on: on})
}

// onReadyRequest carries out SetReady and SetReadyMode in the loop; the rows that change come
// back on the channel like everyone else's.
func (s *Session) onReadyRequest(e *engine, r request) {
	if r.op == opReadyMode && !e.isHost() {
		r.reply <- ErrNotHost
		return
	}
	s.goTask(func() {
		ctx, cancel := s.taskContext(r.ctx, serverTimeout)
		defer cancel()
		if r.op == opSetReady {
			r.reply <- s.be.SetReady(ctx, s.opts.RoomID, r.on)
			return
		}
		_, err := s.be.Settings(ctx, s.opts.RoomID, RoomSettings{ReadyMode: &r.on})
		r.reply <- err
	})
}

// ForcePlay implements Controls.
func (s *Session) ForcePlay(ctx context.Context) error {
	return s.do(ctx, request{op: opForcePlay})
}

// readyPlay is a host operation's play published before our mpv plays: a forced play, or a
// play in ready mode (the room may wait for everyone, and then no mpv may play). first is false
// for every other operation, which runHostOp carries out.
func (s *Session) readyPlay(ctx context.Context, p *player.Player, o hostOp, clk party.ClockOffset) (first bool, room party.RoomState, err error) {
	r := o.req
	if r == nil || r.op != opForcePlay && (r.op != opTogglePlay || !o.readyMode) || !p.PauseTarget() {
		return false, party.RoomState{}, nil
	}
	pos := p.Position()
	room, err = s.be.Play(ctx, s.opts.RoomID, pos, clk.ServerNow(time.Now()), r.op == opForcePlay)
	return true, room, err
}

// readyRoomChanged reports the ready check's changes between the room we held and the new one.
func (s *Session) readyRoomChanged(e *engine, old, cur party.RoomState) {
	if !old.Known() {
		return
	}
	if old.ReadyMode != cur.ReadyMode {
		s.events.push(ReadyModeChanged{On: cur.ReadyMode})
	}
	switch {
	case !old.StartPending && cur.StartPending:
		_, _, names := s.buildSnapshot(e).ReadyCounts()
		s.events.push(StartPending{NotReady: names})
	case old.StartPending && !cur.StartPending && cur.IsPlaying:
		s.events.push(ReadyStarted{})
	}
}

// readyMemberChanged reports a member's answer changing.
func (s *Session) readyMemberChanged(e *engine, old, cur party.Member) {
	if old.Ready != cur.Ready {
		s.events.push(ReadyChanged{UserID: cur.UserID, Name: Sanitize(cur.Username), Ready: cur.Ready, Self: cur.UserID == e.selfID})
	}
}
