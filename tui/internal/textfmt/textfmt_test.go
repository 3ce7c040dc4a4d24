package textfmt

import (
	"strings"

	"github.com/charmbracelet/x/ansi"
	"math"
	"slices"
	"testing"
)

func TestClock(t *testing.T) {
	cases := map[float64]string{0: "0:00", 5.9: "0:05", 61: "1:01", 754.2: "12:34", 3599: "59:59",
		3600: "1:00:00", 3723: "1:02:03", -3: "0:00", math.NaN(): "0:00", math.Inf(1): "0:00"}
	for in, want := range cases {
		if got := Clock(in); got != want {
			t.Errorf("Clock(%v) = %q, want %q", in, got, want)
		}
	}
}

func TestDrift(t *testing.T) {
	cases := map[int64]string{0: "+0ms", 40: "+40ms", -840: "-840ms", 9999: "+9999ms", 10000: "+10s",
		-54200: "-54s"}
	for in, want := range cases {
		if got := Drift(in); got != want {
			t.Errorf("Drift(%d) = %q, want %q", in, got, want)
		}
	}
}

func TestFitAndSpread(t *testing.T) {
	cases := []struct {
		got  string
		want string
	}{
		{Fit("abc", 5), "abc  "},
		{Fit("abcdef", 4), "abc…"},
		{Fit("小心小心", 5), "小心…"}, // wide characters: 2 cells each
		{Fit("🐰🐰🐰", 4), "🐰… "},
		{FitRight("ab", 4), "  ab"},
		{Spread("left", "right", 12), "left   right"},
		{Spread("a long left part", "right", 12), "a lon… right"},
		{Spread("x", "too wide right part", 6), "too w…"},
	}
	for i, c := range cases {
		if c.got != c.want {
			t.Errorf("case %d: got %q, want %q", i, c.got, c.want)
		}
		if w := Width(c.got); w != Width(c.want) {
			t.Errorf("case %d: width %d", i, w)
		}
	}
}

func TestBlock(t *testing.T) {
	got := Block([]string{"ab", "abcdef"}, 4, 3)
	if got != "ab  \nabc…\n    " {
		t.Fatalf("Block = %q", got)
	}
	if Block(nil, 3, 0) != "" {
		t.Fatal("zero height not empty")
	}
}

func TestWrap(t *testing.T) {
	got := Wrap("one two three four five six", 11, "  ")
	want := []string{"one two", "  three", "  four five", "  six"}
	if !slices.Equal(got, want) {
		t.Fatalf("Wrap = %q, want %q", got, want)
	}
	for _, l := range Wrap("a verylongwordthatmustbreak here", 8, "  ") {
		if Width(l) > 8 {
			t.Fatalf("line %q wider than 8", l)
		}
	}
	// The first line uses the whole width; styled text keeps its styles across lines.
	got = Wrap("\x1b[1mbold\x1b[0m words here", 10, "    ")
	if plain := []string{ansi.Strip(got[0]), ansi.Strip(got[1])}; !slices.Equal(plain, []string{"bold words", "    here"}) {
		t.Fatalf("Wrap styled = %q", got)
	}
	if !strings.HasPrefix(got[0], "\x1b[1m") {
		t.Fatalf("style lost: %q", got[0])
	}
	if got := Wrap("x", 0, ""); len(got) != 1 {
		t.Fatalf("zero width: %q", got)
	}
}
