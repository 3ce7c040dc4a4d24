package room

import (
	"strings"
	"unicode"

	"github.com/charmbracelet/x/ansi"
)

// Sanitize makes remote text safe for a terminal on one line (DESIGN §7): escape sequences,
// C0/C1 controls and bidi overrides are removed, newlines and tabs become spaces.
func Sanitize(s string) string { return sanitize(s, false) }

// SanitizeMultiline is Sanitize keeping newlines (comments).
func SanitizeMultiline(s string) string { return sanitize(s, true) }

func sanitize(s string, multiline bool) string {
	s = strings.ToValidUTF8(ansi.Strip(s), "\uFFFD")
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		switch {
		case r == '\n' && multiline:
			return r
		case r == '\n' || r == '\t' || r == '\r':
			return ' '
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			return -1
		case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
			return -1
		case unicode.Is(unicode.Co, r):
			return -1
		}
		return r
	}, s))
}
