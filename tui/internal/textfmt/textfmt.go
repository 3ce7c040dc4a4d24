// Package textfmt holds the small formatting helpers the TUI's components share: clock times,
// drift figures and fitting styled text into a fixed number of terminal columns. Widths are
// measured in cells with the ANSI-aware functions of github.com/charmbracelet/x/ansi, so wide
// characters and emoji keep columns aligned.
package textfmt

import (
	"fmt"
	"math"
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// Ellipsis marks text cut to fit.
const Ellipsis = "…"

// Clock formats a media position in seconds as m:ss, or h:mm:ss from one hour on. Negative and
// non-finite values show as 0:00.
func Clock(sec float64) string {
	if math.IsNaN(sec) || math.IsInf(sec, 0) || sec < 0 {
		sec = 0
	}
	t := int64(sec)
	h, m, s := t/3600, t/60%60, t%60
	if h > 0 {
		return fmt.Sprintf("%d:%02d:%02d", h, m, s)
	}
	return fmt.Sprintf("%d:%02d", m, s)
}

// Drift formats a drift in milliseconds with its sign: "+40ms", "-1200ms"; from ten seconds on
// in whole seconds ("+12s") so the figure stays short.
func Drift(ms int64) string {
	if ms <= -10000 || ms >= 10000 {
		return fmt.Sprintf("%+ds", ms/1000)
	}
	return fmt.Sprintf("%+dms", ms)
}

// Width is the number of terminal cells s takes, ignoring escape sequences.
func Width(s string) int { return ansi.StringWidth(s) }

// Truncate cuts s to at most w cells, ending it with an ellipsis when it was cut.
func Truncate(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if ansi.StringWidth(s) <= w {
		return s
	}
	return ansi.Truncate(s, w, Ellipsis)
}

// Fit returns s cut or padded with spaces to exactly w cells.
func Fit(s string, w int) string {
	s = Truncate(s, w)
	if pad := w - ansi.StringWidth(s); pad > 0 {
		s += strings.Repeat(" ", pad)
	}
	return s
}

// FitRight is Fit with the padding on the left (right-aligned text).
func FitRight(s string, w int) string {
	s = Truncate(s, w)
	if pad := w - ansi.StringWidth(s); pad > 0 {
		s = strings.Repeat(" ", pad) + s
	}
	return s
}

// Spread puts left at the start and right at the end of a w-cell line. When both do not fit,
// right is kept whole (it is the status part) and left is cut; a right wider than the line is
// cut itself.
func Spread(left, right string, w int) string {
	rw := ansi.StringWidth(right)
	if rw >= w {
		return Fit(right, w)
	}
	room := w - rw
	if ansi.StringWidth(left) >= room {
		left = Truncate(left, room-1) + " "
	}
	return Fit(left, room) + right
}

// Block returns lines as exactly h lines of exactly w cells each, cutting or padding as needed,
// joined by newlines.
func Block(lines []string, w, h int) string {
	if h <= 0 {
		return ""
	}
	out := make([]string, h)
	for i := range out {
		if i < len(lines) {
			out[i] = Fit(lines[i], w)
		} else {
			out[i] = strings.Repeat(" ", max(w, 0))
		}
	}
	return strings.Join(out, "\n")
}

// Wrap breaks s into lines of at most w cells, at spaces where it can and inside words where it
// must. Lines after the first start with indent (a hanging indent): the first line may use all w
// cells, the others w minus the indent's width. It never returns no lines. Escape sequences in s
// are kept, so styled text can be wrapped.
func Wrap(s string, w int, indent string) []string {
	if w <= 0 {
		return []string{""}
	}
	iw := ansi.StringWidth(indent)
	if iw >= w {
		indent, iw = "", 0
	}
	first := strings.SplitN(ansi.Wrap(s, w, " "), "\n", 2)[0]
	rest := ansi.TruncateLeft(s, ansi.StringWidth(first), "")
	for strings.HasPrefix(ansi.Strip(rest), " ") { // the space the line broke at
		rest = ansi.TruncateLeft(rest, 1, "")
	}
	lines := []string{first}
	if ansi.StringWidth(rest) == 0 {
		return lines
	}
	for _, l := range strings.Split(ansi.Wrap(rest, w-iw, " "), "\n") {
		lines = append(lines, indent+l)
	}
	return lines
}
