package headless

import (
	"fmt"
	"strings"

	"github.com/watchparty/watchparty/room"
)

// The ready check's events (docs/api.md, "The ready check"), keys sorted as everywhere here.

// Ready is a member's answer to the ready check changing (ours: self).
type Ready struct {
	Ready    bool   `json:"ready"`
	Self     bool   `json:"self,omitempty"`
	TS       string `json:"ts"`
	Type     string `json:"type"` // "ready"
	UserID   string `json:"user_id"`
	Username string `json:"username"`
}

// ReadyMode is the host switching the room's ready check on or off.
type ReadyMode struct {
	On   bool   `json:"on"`
	TS   string `json:"ts"`
	Type string `json:"type"` // "ready_mode"
}

// StartPending is the host's play held until everyone is ready: NotReady names the live
// members not ready yet.
type StartPending struct {
	NotReady []string `json:"not_ready"`
	TS       string   `json:"ts"`
	Type     string   `json:"type"` // "start_pending"
}

// Started is a held start going ahead (everyone ready, or the host forced it).
type Started struct {
	TS   string `json:"ts"`
	Type string `json:"type"` // "started"
}

func (e *Ready) stamp(ts string) string        { e.TS = ts; return e.Type }
func (e *ReadyMode) stamp(ts string) string    { e.TS = ts; return e.Type }
func (e *StartPending) stamp(ts string) string { e.TS = ts; return e.Type }
func (e *Started) stamp(ts string) string      { e.TS = ts; return e.Type }

// readyEvent prints a ready-check event; it reports whether ev was one.
func (p *printer) readyEvent(ev room.Event) bool {
	switch ev := ev.(type) {
	case room.ReadyChanged:
		state := "not ready"
		if ev.Ready {
			state = "ready"
		}
		p.emit(&Ready{Type: "ready", Ready: ev.Ready, Self: ev.Self, UserID: ev.UserID, Username: ev.Name}, ev.Name+" is "+state)
	case room.ReadyModeChanged:
		state := "off"
		if ev.On {
			state = "on"
		}
		p.emit(&ReadyMode{Type: "ready_mode", On: ev.On}, "ready check "+state)
	case room.StartPending:
		names := ev.NotReady
		if names == nil {
			names = []string{}
		}
		p.emit(&StartPending{Type: "start_pending", NotReady: names},
			fmt.Sprintf("starting when everyone is ready: %d not ready (%s)", len(names), strings.Join(names, ", ")))
	case room.ReadyStarted:
		p.emit(&Started{Type: "started"}, "everyone is ready: playing")
	default:
		return false
	}
	return true
}
