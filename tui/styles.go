package tui

import (
	"image/color"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/textinput"
	"charm.land/lipgloss/v2"

	"github.com/watchparty/watchparty/tui/comments"
	"github.com/watchparty/watchparty/tui/header"
	"github.com/watchparty/watchparty/tui/members"
	"github.com/watchparty/watchparty/tui/nowplaying"
	"github.com/watchparty/watchparty/tui/toast"
)

// Styles holds every style of the screen, built once from one palette, and hands each child
// component its part. Meaning never rests on colour alone: states also differ by glyph or word,
// so the screen reads the same with NO_COLOR.
type Styles struct {
	Header     header.Styles
	NowPlaying nowplaying.Styles
	Members    members.Styles
	Comments   comments.Styles
	Toast      toast.Styles
	Help       help.Styles
	Rule       lipgloss.Style // separators between parts
	Overlay    lipgloss.Style // the help overlay's title
}

// palette is the colour set. Colours are ANSI-256 indexes, which Bubble Tea renders as is on
// 256-colour and true-colour terminals and downsamples on 16-colour ones.
type palette struct {
	accent, good, warn, bad, muted, faint, text, self color.Color
}

func defaultPalette() palette {
	return palette{
		accent: lipgloss.Color("75"),  // blue
		good:   lipgloss.Color("78"),  // green
		warn:   lipgloss.Color("214"), // amber
		bad:    lipgloss.Color("203"), // red
		muted:  lipgloss.Color("245"), // grey
		faint:  lipgloss.Color("240"),
		text:   lipgloss.Color("252"),
		self:   lipgloss.Color("183"), // lilac
	}
}

// NewStyles builds the styles. With noColor, no colour is set at all (bold, faint and reverse
// remain), as NO_COLOR asks.
func NewStyles(noColor bool) Styles {
	p := defaultPalette()
	fg := func(c color.Color) lipgloss.Style {
		s := lipgloss.NewStyle()
		if !noColor {
			s = s.Foreground(c)
		}
		return s
	}
	plain := lipgloss.NewStyle()
	bold := plain.Bold(true)
	faint := fg(p.faint).Faint(noColor)

	hs := help.DefaultDarkStyles()
	if noColor {
		hs = help.Styles{ShortKey: bold, FullKey: bold, ShortDesc: plain, FullDesc: plain,
			ShortSeparator: plain.Faint(true), FullSeparator: plain, Ellipsis: plain.Faint(true)}
	}

	in := textinput.DefaultDarkStyles()
	in.Cursor.Blink = false // a static cursor keeps screens (and golden files) steady
	if noColor {
		in.Focused = textinput.StyleState{Text: plain, Placeholder: plain.Faint(true), Prompt: bold}
		in.Blurred = textinput.StyleState{Text: plain, Placeholder: plain.Faint(true), Prompt: plain}
		in.Cursor.Color = nil
	}

	return Styles{
		Header: header.Styles{
			App:       fg(p.accent).Bold(true),
			Room:      fg(p.text).Bold(true),
			Title:     fg(p.text).Italic(true),
			Label:     fg(p.muted),
			Value:     fg(p.text).Bold(true),
			Role:      fg(p.muted),
			Connected: fg(p.good),
			Waiting:   fg(p.warn).Bold(true),
			Closed:    fg(p.bad).Bold(true),
			Join:      fg(p.accent),
		},
		NowPlaying: nowplaying.Styles{
			Playing:   fg(p.good).Bold(true),
			Paused:    fg(p.warn).Bold(true),
			Time:      fg(p.text),
			BarFull:   fg(p.accent),
			BarEmpty:  fg(p.faint),
			Rate:      fg(p.muted),
			InSync:    fg(p.good).Bold(true),
			Syncing:   fg(p.warn).Bold(true),
			OutOfSync: fg(p.bad).Bold(true),
			Detached:  fg(p.self).Bold(true),
			Unknown:   fg(p.muted),
			Hint:      fg(p.muted),
		},
		Members: members.Styles{
			Title:     fg(p.accent).Bold(true),
			Host:      fg(p.warn).Bold(true),
			Self:      fg(p.self).Bold(true),
			Name:      fg(p.text),
			Online:    fg(p.good),
			Stale:     fg(p.warn),
			Offline:   fg(p.faint),
			Info:      fg(p.muted),
			InSync:    fg(p.good),
			OutOfSync: fg(p.bad),
			Empty:     faint,
		},
		Comments: comments.Styles{
			Title:     fg(p.accent).Bold(true),
			Time:      fg(p.faint),
			VideoTime: fg(p.muted),
			Name:      fg(p.accent).Bold(true),
			Self:      fg(p.self).Bold(true),
			Message:   fg(p.text),
			System:    fg(p.muted).Italic(true),
			Marker:    fg(p.warn).Bold(true).Reverse(noColor),
			Empty:     faint,
			Hint:      faint,
			Input:     in,
		},
		Toast: toast.Styles{
			Info:  fg(p.text),
			Warn:  fg(p.warn).Bold(true),
			Error: fg(p.bad).Bold(true),
			Faded: fg(p.faint).Faint(true),
		},
		Help:    hs,
		Rule:    fg(p.faint),
		Overlay: fg(p.accent).Bold(true),
	}
}
