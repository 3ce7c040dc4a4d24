package textsafe

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
)

func TestLine(t *testing.T) {
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
		{"newlines and tabs", "one\ntwo\r\nthree\tfour\u2028five", "one two three four five"},
		{"bidi overrides", "abc\u202edcba\u202c \u2066x\u2069 \u200fy\u200e", "abcdcba x y"},
		{"bom", "\ufeffhi", "hi"},
		{"wide and emoji kept", "小心 🐿️ 👨‍👩‍👧 👍🏽", "小心 🐿️ 👨‍👩‍👧 👍🏽"},
		{"combining kept", "e\u0301", "e\u0301"},
		{"private use", "a\ue000b\U000f0000c", "abc"},
		{"paragraph separator", "a\u2029b", "a b"},
		{"trimmed", " \t\n a b \u2028", "a b"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Line(c.in)
			if got != c.want {
				t.Fatalf("Line(%q) = %q, want %q", c.in, got, c.want)
			}
			if again := Line(got); again != got {
				t.Fatalf("not idempotent: %q -> %q", got, again)
			}
		})
	}
}

func TestMultiline(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"newlines kept", "one\ntwo\n\nthree", "one\ntwo\n\nthree"},
		{"tabs become spaces", "a\tb", "a b"},
		{"crlf is one newline", "one\r\ntwo", "one\ntwo"},
		{"lone cr", "one\rtwo\n\r", "one two"},
		{"separators become spaces", "a\u2028b\u2029c", "a b c"},
		{"bom and bidi dropped", "\ufeffa\u202eb", "ab"},
		{"escape inside a line", "a\n\x1b[2Jb", "a\nb"},
		{"trimmed, inner newlines kept", "\n\n hi\nthere \n", "hi\nthere"},
		{"empty after cleaning", "  \n\t ", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Multiline(c.in)
			if got != c.want {
				t.Fatalf("Multiline(%q) = %q, want %q", c.in, got, c.want)
			}
			if again := Multiline(got); again != got {
				t.Fatalf("not idempotent: %q -> %q", got, again)
			}
			if one := Line(c.in); strings.Contains(one, "\n") {
				t.Fatalf("Line(%q) = %q kept a newline", c.in, one)
			}
		})
	}
}

// FuzzLine checks the output of Line (and of Multiline, newlines aside)'s invariants on any input: valid UTF-8, no escape or control
// characters, no bidi controls, and stable under a second pass.
func FuzzLine(f *testing.F) {
	for _, s := range []string{"\x1b]0;X\x07\x1b[2J", "a\u202eb", "\x9b2J", "小心🐿️", "\x1bP\x1b\\"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := Line(in)
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 from %q", in)
		}
		for _, r := range out {
			if forbidden(r) {
				t.Fatalf("Line(%q) kept %U", in, r)
			}
		}
		if ansi.Strip(out) != out {
			t.Fatalf("Line(%q) = %q still has escape sequences", in, out)
		}
		if Line(out) != out {
			t.Fatalf("not idempotent on %q", in)
		}
		if m := Multiline(in); Multiline(m) != m || strings.ContainsFunc(m, func(r rune) bool { return r != '\n' && forbidden(r) }) {
			t.Fatalf("Multiline(%q) = %q: not idempotent or kept a forbidden character", in, m)
		}
	})
}

// forbidden lists what must never reach the screen: C0, DEL, C1, bidi embeddings, overrides,
// isolates and marks, and the byte-order mark.
func forbidden(r rune) bool {
	return r < 0x20 || r == 0x7f || r >= 0x80 && r <= 0x9f || r >= 0x202a && r <= 0x202e ||
		r >= 0x2066 && r <= 0x2069 || r == 0x200e || r == 0x200f || r == 0x061c || r == 0xfeff
}

func TestShown(t *testing.T) {
	for in, want := range map[string]string{
		"Hana":               "Hana",
		"Sys\u200btem":       "System",
		"\u3164\u2800\u0301": "",
		"\u200b\u200d\u2060": "",
		"a b":                "ab",
		"🎬 Kai":              "🎬Kai",
	} {
		if got := Shown(in); got != want {
			t.Errorf("Shown(%q) = %q, want %q", in, got, want)
		}
	}
}
