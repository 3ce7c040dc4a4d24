package tui

import (
	"github.com/watchparty/watchparty/room"
	"github.com/watchparty/watchparty/textsafe"
)

// Sanitize makes remote text safe to print in a terminal cell by cell: textsafe.Line, applied
// again here as the TUI's last line of defence (the server and the room layer clean too) to
// every name, comment, title and notice before it is rendered. Package textsafe states the rule.
func Sanitize(s string) string { return textsafe.Line(s) }

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
