package main

import (
	"context"
	"encoding/xml"
	"fmt"
	"html"
	"image/color"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// The pictures' text: font size in px, and the width of a cell (the advance of JetBrains Mono,
// Menlo and DejaVu Sans Mono: 0.6 em). No font is embedded (freeze's would add 370 KB to each
// picture): the viewer's monospace font draws the text, and placeCells puts each run of it in
// its cells.
const (
	fontSize  = 14.0
	cellWidth = 0.6 * fontSize
	fonts     = "JetBrains Mono, Menlo, DejaVu Sans Mono, Consolas, Liberation Mono, monospace"
)

// render writes s as an SVG picture of a terminal window at out, with freeze.
func render(ctx context.Context, freeze, work string, s shot, out string) error {
	in := filepath.Join(work, s.name+".ansi")
	if err := os.WriteFile(in, []byte(forFreeze(s.ansi)), 0o644); err != nil {
		return err
	}
	raw := filepath.Join(work, s.name+".freeze.svg")
	cmd := exec.CommandContext(ctx, freeze, in, "--language", "ansi", "--output", raw,
		"--window", "--border.radius", "8", "--border.width", "1", "--border.color", "#515151",
		"--padding", "16,20", "--margin", "0", "--background", "#171717",
		"--font.family", fonts, "--font.size", strconv.FormatFloat(fontSize, 'f', -1, 64), "--line-height", "1.2")
	// freeze reads no configuration of the user's with these flags, but keep its own
	// config directory out of the way all the same.
	cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+filepath.Join(work, "freeze-config"))
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("freeze %s: %w\n%s", s.name, err, b)
	}
	svg, err := os.ReadFile(raw)
	if err != nil {
		return err
	}
	placed, err := placeCells(string(svg))
	if err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	return os.WriteFile(out, []byte(placed), 0o644)
}

var (
	textRe  = regexp.MustCompile(`(?s)(<text x="([0-9.]+)px"[^>/]*>)(.*?)(</text>)`)
	tspanRe = regexp.MustCompile(`<tspan([^>]*?)(?:/>|>([^<]*)</tspan>)`)
	dxRe    = regexp.MustCompile(` dx="[^"]*"`)
)

// placeCells gives each run of text in freeze's SVG the x of its first cell. freeze writes a
// line as text that flows, so a glyph the font lacks, drawn by a fallback font of another
// width, shifts the rest of the line (the members' columns and the separator would zigzag);
// placed this way, every glyph outside ASCII and every coloured run starts in its own cell,
// whatever fonts the viewer has. Cell widths are the screen's own (x/ansi, as the party
// screen measures them). Empty runs (freeze's style resets) are dropped, and so is the nudge
// freeze gives wide characters.
func placeCells(svg string) (string, error) {
	lines := 0
	out := textRe.ReplaceAllStringFunc(svg, func(line string) string {
		lines++
		m := textRe.FindStringSubmatch(line)
		left, _ := strconv.ParseFloat(m[2], 64)
		var b strings.Builder
		b.WriteString(m[1])
		col := 0
		for _, t := range tspanRe.FindAllStringSubmatch(m[3], -1) {
			attrs := dxRe.ReplaceAllString(t[1], "")
			for text := html.UnescapeString(t[2]); text != ""; {
				run := asciiPrefix(text)
				if run == "" {
					run, _ = ansi.FirstGraphemeCluster(text, ansi.GraphemeWidth)
				}
				text = text[len(run):]
				fmt.Fprintf(&b, `<tspan%s x="%.2f">`, attrs, left+float64(col)*cellWidth)
				_ = xml.EscapeText(&b, []byte(run))
				b.WriteString("</tspan>")
				col += ansi.StringWidth(run)
			}
		}
		b.WriteString(m[4])
		return b.String()
	})
	if lines == 0 {
		return "", fmt.Errorf("freeze wrote no line of text that could be placed")
	}
	d := xml.NewDecoder(strings.NewReader(out))
	for {
		if _, err := d.Token(); err == io.EOF {
			return out, nil
		} else if err != nil {
			return "", fmt.Errorf("the placed SVG is not well-formed: %w", err)
		}
	}
}

// asciiPrefix is the leading run of printable ASCII of s.
func asciiPrefix(s string) string {
	i := 0
	for i < len(s) && s[i] >= ' ' && s[i] < 0x7f {
		i++
	}
	return s[:i]
}

// forFreeze rewrites a tmux capture for freeze's ANSI reader, which knows a reset and the
// 256-colour and RGB forms of a colour but not the changes tmux writes: 39 and 49 (back to the
// default colour) are ignored by freeze, so a colour would run on, and 40–47 are not read as
// backgrounds. Each SGR sequence becomes a reset followed by the colours then in force, in the
// 256-colour or RGB form. freeze draws no other attribute (bold, faint, reverse), so they are
// left out.
func forFreeze(capture string) string {
	var (
		b      strings.Builder
		p      = ansi.NewParser()
		state  byte
		fg, bg color.Color // nil: the default
	)
	for s := capture; len(s) > 0; {
		seq, _, n, newState := ansi.DecodeSequence(s, state, p)
		state, s = newState, s[n:]
		if seq == "\n" && (fg != nil || bg != nil) {
			// freeze starts each line afresh; tmux carries the colours on.
			b.WriteString(seq)
			writeSGR(&b, fg, bg)
			continue
		}
		if !ansi.HasCsiPrefix(seq) || ansi.Cmd(p.Command()) != 'm' {
			b.WriteString(seq)
			continue
		}
		params := p.Params()
		if len(params) == 0 {
			fg, bg = nil, nil
		}
		for i := 0; i < len(params); i++ {
			switch v := params[i].Param(0); {
			case v == 0:
				fg, bg = nil, nil
			case v == 39:
				fg = nil
			case v == 49:
				bg = nil
			case v >= 30 && v <= 37:
				fg = ansi.IndexedColor(v - 30)
			case v >= 90 && v <= 97:
				fg = ansi.IndexedColor(v - 90 + 8)
			case v >= 40 && v <= 47:
				bg = ansi.IndexedColor(v - 40)
			case v >= 100 && v <= 107:
				bg = ansi.IndexedColor(v - 100 + 8)
			case v == 38 || v == 48:
				var c color.Color
				read := ansi.ReadStyleColor(params[i:], &c)
				if read == 0 {
					i = len(params) // malformed: the rest of the sequence is not read
					break
				}
				if v == 38 {
					fg = c
				} else {
					bg = c
				}
				i += read - 1
			}
		}
		writeSGR(&b, fg, bg)
	}
	return b.String()
}

// writeSGR writes a reset and then the colours that are not the default.
func writeSGR(b *strings.Builder, fg, bg color.Color) {
	b.WriteString(ansi.ResetStyle)
	if fg != nil {
		b.WriteString(ansi.Style{}.ForegroundColor(fg).String())
	}
	if bg != nil {
		b.WriteString(ansi.Style{}.BackgroundColor(bg).String())
	}
}
