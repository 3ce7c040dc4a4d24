package tui

import (
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/watchparty/watchparty/room"
)

// Sanitize makes remote text safe to print in a terminal cell by cell. It is the TUI's last line
// of defence (the server and the room layer sanitise too), applied to every name, comment, title
// and notice before it is rendered (DESIGN.md §7):
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
func Sanitize(s string) string {
	if s == "" {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = ansi.Strip(s)
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\t' || r == '\n' || r == '\r' || r == '\u2028' || r == '\u2029':
			b.WriteByte(' ')
		case dropRune(r):
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// dropRune reports the runes Sanitize removes: controls and invisible direction changes that
// could reorder or hide what the user sees.
func dropRune(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f: // C0, DEL, C1
		return true
	case r >= 0x202a && r <= 0x202e: // LRE, RLE, PDF, LRO, RLO
		return true
	case r >= 0x2066 && r <= 0x2069: // LRI, RLI, FSI, PDI
		return true
	case r == 0x200e, r == 0x200f, r == 0x061c: // LRM, RLM, ALM
		return true
	case r == 0xfeff: // byte-order mark / zero-width no-break space
		return true
	}
	return false
}

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
