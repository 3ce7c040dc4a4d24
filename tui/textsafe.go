package tui

import (
	"github.com/watchparty/watchparty/room"
)

// Sanitize makes remote text safe to print in a terminal cell by cell: room.Sanitize, applied
// again here as the TUI's last line of defence (the server and the room layer sanitise too) to
// every name, comment, title and notice before it is rendered (DESIGN.md §7):
//
//   - invalid UTF-8 becomes U+FFFD;
//   - escape sequences (CSI, OSC, DCS, …) are removed whole, so a title-setting or
//     screen-clearing sequence leaves no trace;
//   - tabs, newlines and the Unicode line and paragraph separators become one space (each
//     rendered item is one logical line; the layout wraps it);
//   - other C0 and C1 controls, DEL, bidirectional overrides and isolates, and the byte-order
//     mark are dropped.
//
// Printable text, wide characters and emoji (zero-width joiners included) are kept, so widths
// measured with ansi.StringWidth stay right. Sanitize is idempotent and safe for concurrent use.
func Sanitize(s string) string { return room.Sanitize(s) }

// sanitizeSnapshot returns a copy of s with every remote string sanitised. The members slice is
// copied, so the caller's snapshot is never modified.
func sanitizeSnapshot(s room.Snapshot) room.Snapshot {
	s.RoomID = Sanitize(s.RoomID)
	s.MediaTitle = Sanitize(s.MediaTitle)
	s.MediaURL = Sanitize(s.MediaURL)
	s.HostName = Sanitize(s.HostName)
	s.SelfName = Sanitize(s.SelfName)
	s.Conn.Err = Sanitize(s.Conn.Err)
	members := make([]room.MemberView, len(s.Members))
	for i, m := range s.Members {
		m.Name = Sanitize(m.Name)
		members[i] = m
	}
	s.Members = members
	return s
}

// sanitizeComment returns c with its sender and text sanitised.
func sanitizeComment(c room.Comment) room.Comment {
	c.Username = Sanitize(c.Username)
	c.Message = Sanitize(c.Message)
	return c
}
