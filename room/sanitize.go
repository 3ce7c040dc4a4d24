package room

import (
	"strings"
	"unicode"

	"github.com/charmbracelet/x/ansi"
)

// Sanitize makes remote text safe for a terminal on one line (DESIGN §7): invalid UTF-8 becomes
// U+FFFD, escape sequences are removed whole, C0/C1 controls, DEL, bidi overrides and isolates,
// the byte-order mark and private-use characters are dropped, and tabs, newlines and line
// separators become spaces; surrounding space is trimmed. Wide characters and emoji are kept.
// Idempotent; safe for concurrent use. (The server cleans stored text the same way; it may not
// import client packages, so server/text.go has its own copy.)
func Sanitize(s string) string { return sanitize(s, false) }

// SanitizeMultiline is Sanitize keeping newlines (comments).
func SanitizeMultiline(s string) string { return sanitize(s, true) }

func sanitize(s string, multiline bool) string {
	s = ansi.Strip(strings.ToValidUTF8(s, "\uFFFD"))
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		switch {
		case r == '\n' && multiline:
			return r
		case r == '\n' || r == '\t' || r == '\r' || r == '\u2028' || r == '\u2029':
			return ' '
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0): // C0, DEL, C1
			return -1
		case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
			return -1 // bidi embeddings, overrides, isolates and marks: they reorder what others see
		case r == 0xfeff: // byte-order mark / zero-width no-break space
			return -1
		case unicode.Is(unicode.Co, r):
			return -1
		}
		return r
	}, s))
}
