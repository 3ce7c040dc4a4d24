package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
)

// TestScreenshotsRun plays the README's party for real (make screenshots without writing
// docs/img) and checks what it captured. The rendering is checked only where freeze is
// installed (bin/freeze, as make screenshots installs it, or on PATH); elsewhere that part is
// skipped and says so. WATCHPARTY_BIN names a built watchparty to use instead of building one.
func TestScreenshotsRun(t *testing.T) {
	if testing.Short() {
		t.Skip("plays a whole party: skipped with -short")
	}
	for _, tool := range []string{"go", "tmux", "mpv", "ffmpeg"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the screenshots need %s: %v", tool, err)
		}
	}
	freeze := findFreeze()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out := t.TempDir()
	start := time.Now()
	shots, err := run(ctx, options{out: out, freeze: freeze, bin: os.Getenv("WATCHPARTY_BIN"), logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the party and its captures took %s", time.Since(start).Round(time.Millisecond))

	want := map[string][]string{
		"host":     {"you alice (host)", "Friday film night", "⏸ paused", "0:48 / 2:00", "bob: popcorn is ready", "alice: the opening is slow"},
		"follower": {"you bob (follower)", "⏸ paused", "0:48 / 2:00", "bob: popcorn is ready", "alice: the opening is slow"},
		"help":     {"Keys (host)", "★ host", "✓ in sync"},
	}
	if len(shots) != len(want) {
		t.Fatalf("got %d captures, want %d", len(shots), len(want))
	}
	for _, s := range shots {
		plain := ansi.Strip(s.ansi)
		if lines := strings.Count(strings.TrimSuffix(plain, "\n"), "\n") + 1; lines != rows {
			t.Errorf("%s: %d lines, want %d:\n%s", s.name, lines, rows, plain)
		}
		for _, w := range want[s.name] {
			if !strings.Contains(plain, w) {
				t.Errorf("%s does not show %q:\n%s", s.name, w, plain)
			}
		}
		if !strings.Contains(s.ansi, "\x1b[38;5;") {
			t.Errorf("%s was captured without its colours: %q", s.name, s.ansi)
		}
	}

	t.Run("render", func(t *testing.T) {
		if freeze == "" {
			t.Skip("freeze is not installed (make screenshots installs it in bin/): the screens were captured, the SVG rendering was not checked")
		}
		for _, s := range shots {
			b, err := os.ReadFile(filepath.Join(out, s.name+".svg"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), "<svg") || !strings.Contains(string(b), "<text") {
				t.Errorf("%s.svg is not the picture of the screen: %.200s", s.name, b)
			}
			t.Logf("%s.svg: %d bytes", s.name, len(b))
		}
	})
}

// findFreeze is the freeze that make screenshots installed in the module's bin/, else one on
// PATH, else "".
func findFreeze() string {
	if p, err := filepath.Abs(filepath.Join("..", "..", "bin", "freeze")); err == nil {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("freeze"); err == nil {
		return p
	}
	return ""
}

func TestForFreeze(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{
			name: "39 and 49 end a colour; attributes are dropped",
			in:   "\x1b[38;5;75mblue\x1b[39m plain \x1b[1m\x1b[38;5;78mbold\x1b[0m\x1b[39m\x1b[49m x \x1b[48;5;240mbg",
			want: "\x1b[m\x1b[38;5;75mblue\x1b[m plain \x1b[m\x1b[m\x1b[38;5;78mbold\x1b[m\x1b[m\x1b[m x \x1b[m\x1b[48;5;240mbg",
		},
		{
			name: "basic colours become 256-colour ones",
			in:   "\x1b[31;42mr\x1b[94;103mb",
			want: "\x1b[m\x1b[38;5;1m\x1b[48;5;2mr\x1b[m\x1b[38;5;12m\x1b[48;5;11mb",
		},
		{
			name: "colours carry over a line end",
			in:   "\x1b[38;2;1;2;3ma\nb\x1b[m\nc",
			want: "\x1b[m\x1b[38;2;1;2;3ma\n\x1b[m\x1b[38;2;1;2;3mb\x1b[m\nc",
		},
		{
			name: "other sequences and text pass",
			in:   "★ ✓ 小心\x1b[2K",
			want: "★ ✓ 小心\x1b[2K",
		},
	} {
		if got := forFreeze(c.in); got != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got, c.want)
		}
	}
}

func TestPlaceCells(t *testing.T) {
	in := `<svg><g><text x="20.00px" y="10px" xml:space="preserve"><tspan xml:space="preserve"/>` +
		`<tspan fill="#ffaf00">★● a&apos;b</tspan><tspan dx="2.80px">小</tspan><tspan>x</tspan></text>` +
		`<text x="20.00px" y="30px" xml:space="preserve"/></g></svg>`
	got, err := placeCells(in)
	if err != nil {
		t.Fatal(err)
	}
	want := `<svg><g><text x="20.00px" y="10px" xml:space="preserve">` +
		`<tspan fill="#ffaf00" x="20.00">★</tspan><tspan fill="#ffaf00" x="28.40">●</tspan>` +
		`<tspan fill="#ffaf00" x="36.80"> a&#39;b</tspan><tspan x="70.40">小</tspan><tspan x="87.20">x</tspan></text>` +
		`<text x="20.00px" y="30px" xml:space="preserve"/></g></svg>`
	if got != want {
		t.Errorf("placeCells:\n got %s\nwant %s", got, want)
	}
	if _, err := placeCells(`<svg><text x="1px"><tspan>a</tspan></text>`); err == nil {
		t.Error("placeCells returned SVG that is not well-formed")
	}
	if _, err := placeCells(`<svg></svg>`); err == nil {
		t.Error("placeCells accepted SVG without text")
	}
}
