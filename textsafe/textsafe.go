// Package textsafe makes text from other people safe to store and to print in a terminal. The
// server cleans every name, title and message with it before storing them, and the client cleans
// again before anything reaches the screen, so a hostile or older server cannot paint on it.
// It imports no other package of the project (the server and the client both use it).
//
// The one rule, for every field:
//   - invalid UTF-8 becomes U+FFFD;
//   - escape sequences (CSI, OSC, DCS, …) are removed whole, so a title-setting or
//     screen-clearing sequence leaves no trace;
//   - a CR LF pair is one newline; tabs, lone carriage returns and the Unicode line and
//     paragraph separators (U+2028, U+2029) become one space, and so do newlines, except in
//     Multiline text (messages), which keeps them;
//   - other C0 and C1 controls, DEL, bidirectional embeddings, overrides, isolates and marks,
//     the byte-order mark (U+FEFF) and private-use characters are dropped;
//   - surrounding white space is trimmed.
//
// Printable text, wide characters, combining marks and emoji (zero-width joiners included) are
// kept, so widths measured with ansi.StringWidth stay right. Both functions are idempotent and
// safe for concurrent use.
package textsafe

import (
	"strings"
	"unicode"

	"github.com/charmbracelet/x/ansi"
)

// Line cleans text shown on one line: names, titles, ids, notices.
func Line(s string) string { return clean(s, false) }

// Multiline cleans text that may span lines (chat messages): Line, keeping newlines.
func Multiline(s string) string { return clean(s, true) }

func clean(s string, multiline bool) string {
	s = strings.ReplaceAll(ansi.Strip(strings.ToValidUTF8(s, "\uFFFD")), "\r\n", "\n")
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
		case unicode.Is(unicode.Co, r): // private use: renders differently everywhere
			return -1
		}
		return r
	}, s))
}

// Shown is what of s draws something on screen: letters, digits, punctuation and symbols,
// except the blank ones that are letters or symbols only by category (Hangul fillers, the
// braille blank). A name whose Shown is empty is invisible; one whose Shown is "system" in any
// case passes for the room's own notices.
func Shown(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case 0x115f, 0x1160, 0x3164, 0xffa0, 0x2800:
			continue
		}
		if unicode.In(r, unicode.L, unicode.N, unicode.P, unicode.S) {
			b.WriteRune(r)
		}
	}
	return b.String()
}
