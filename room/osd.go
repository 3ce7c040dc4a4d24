package room

import (
	"context"
	"strings"
	"time"
)

// This file puts what others say and what happens in the room (comments, joins, leaves, host
// changes: the system comments) on mpv's OSD for a few seconds: people watch full screen and
// don't see the terminal. Controls.ToggleOSD turns it off and on; Options.NoOSD starts it off.

const (
	osdDuration = 4 * time.Second
	// osdMaxRunes caps one OSD line: a 2,000-character comment would cover the picture.
	osdMaxRunes = 160
)

// ToggleOSD implements Controls: it turns comments on the video off or on and returns the new
// state.
func (s *Session) ToggleOSD() bool {
	for {
		old := s.osdOff.Load()
		if s.osdOff.CompareAndSwap(old, !old) {
			return old // was off: now on
		}
	}
}

// OSD reports whether comments are shown on the video.
func (s *Session) OSD() bool { return !s.osdOff.Load() }

// showOnVideo shows a comment that someone else posted, or a system comment, on our mpv's OSD.
// The text is already sanitised (no escapes or controls); mpv is given it as an argument of an
// array-form command, which mpv never expands (${path} stays literal), and without its ASS
// escape byte ASS tags such as {\an8} are shown as typed.
func (s *Session) showOnVideo(e *engine, c Comment) {
	if s.osdOff.Load() || (!c.System && c.UserID == e.selfID) {
		return
	}
	p := s.player
	if p == nil || e.relaunching {
		return
	}
	text := osdText(c)
	s.goTask(func() {
		ctx, cancel := context.WithTimeout(s.ctx, time.Second)
		defer cancel()
		if err := p.ShowText(ctx, text, osdDuration); err != nil {
			s.log.Debug("osd", "err", err)
		}
	})
}

// osdText is one line for the OSD: "name: message", or a system message alone, on one line and
// at most osdMaxRunes characters.
func osdText(c Comment) string {
	msg := strings.Join(strings.Fields(c.Message), " ")
	if !c.System {
		msg = c.Username + ": " + msg
	}
	if r := []rune(msg); len(r) > osdMaxRunes {
		msg = string(r[:osdMaxRunes-1]) + "…"
	}
	return msg
}
