package server

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
)

// MaxUsername and MaxMessage are the text limits of docs/api.md.
const (
	MaxUsername = 32
	MaxMessage  = 2000
)

// cleanText removes what must never reach a terminal from user text: escape sequences,
// C0/C1 controls (except newline and tab when multiline), and bidi overrides, then trims.
// Clients sanitise again before rendering; cleaning here protects every other client too.
func cleanText(s string, multiline bool) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	s = ansi.Strip(s)
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\n' || r == '\t':
			if multiline {
				b.WriteRune(r)
			} else {
				b.WriteByte(' ')
			}
		case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0:
			// C0/C1 controls: dropped.
		case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
			// Bidi embeddings, overrides, isolates and marks: they can reorder what others see.
		case unicode.Is(unicode.Co, r):
			// Private-use characters render differently everywhere.
		default:
			b.WriteRune(r)
		}
	}
	return strings.TrimSpace(b.String())
}

// runeLen counts characters, as Postgres char_length does.
func runeLen(s string) int { return utf8.RuneCountInString(s) }
