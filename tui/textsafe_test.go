package tui

import (
	"testing"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
)

func TestSanitize(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"plain", "hello", "hello"},
		{"empty", "", ""},
		{"osc title and clear screen", "\x1b]0;X\x07\x1b[2J", ""},
		{"osc around text", "a\x1b]0;X\x07b\x1b[2Jc", "abc"},
		{"osc with ST", "a\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\b", "alinkb"},
		{"sgr", "\x1b[31mred\x1b[0m", "red"},
		{"dcs", "a\x1bPq#0;2;0;0;0\x1b\\b", "ab"},
		{"lone esc", "x\x1b", "x"},
		{"c0 controls", "a\x00b\x07c\x08d\x7fe", "abcde"},
		{"c1 as runes", "a\u009b31mb\u0085c", "a31mbc"},
		{"c1 as raw byte", "a\x9b31mb", "a\ufffd31mb"},
		{"invalid utf8", "a\xffb", "a\ufffdb"},
		{"newlines and tabs", "one\ntwo\r\nthree\tfour\u2028five", "one two  three four five"},
		{"bidi overrides", "abc\u202edcba\u202c \u2066x\u2069 \u200fy\u200e", "abcdcba x y"},
		{"bom", "\ufeffhi", "hi"},
		{"wide and emoji kept", "小心 🐿️ 👨‍👩‍👧 👍🏽", "小心 🐿️ 👨‍👩‍👧 👍🏽"},
		{"combining kept", "e\u0301", "e\u0301"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Sanitize(c.in)
			if got != c.want {
				t.Fatalf("Sanitize(%q) = %q, want %q", c.in, got, c.want)
			}
			if again := Sanitize(got); again != got {
				t.Fatalf("not idempotent: %q -> %q", got, again)
			}
		})
	}
}

// FuzzSanitize checks the output's invariants on any input: valid UTF-8, no escape or control
// characters, no bidi controls, and stable under a second pass.
func FuzzSanitize(f *testing.F) {
	for _, s := range []string{"\x1b]0;X\x07\x1b[2J", "a\u202eb", "\x9b2J", "小心🐿️", "\x1bP\x1b\\"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := Sanitize(in)
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 from %q", in)
		}
		for _, r := range out {
			if forbidden(r) {
				t.Fatalf("Sanitize(%q) kept %U", in, r)
			}
		}
		if ansi.Strip(out) != out {
			t.Fatalf("Sanitize(%q) = %q still has escape sequences", in, out)
		}
		if Sanitize(out) != out {
			t.Fatalf("not idempotent on %q", in)
		}
	})
}

// forbidden lists what must never reach the screen: C0, DEL, C1, bidi embeddings, overrides,
// isolates and marks, and the byte-order mark.
func forbidden(r rune) bool {
	return r < 0x20 || r == 0x7f || r >= 0x80 && r <= 0x9f || r >= 0x202a && r <= 0x202e ||
		r >= 0x2066 && r <= 0x2069 || r == 0x200e || r == 0x200f || r == 0x061c || r == 0xfeff
}
