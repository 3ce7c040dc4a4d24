// Package tui is the watch-party screen: a Bubble Tea v2 program that renders a room session's
// events and turns keys into the session's actions.
//
// The package holds no sync logic. It depends on room.Controls only: the session (room.Session)
// decides what the player and the room do; the TUI shows room.Event values and calls Controls
// methods from commands, so Update never blocks. The root Model routes messages to the child
// components in tui/header, tui/nowplaying, tui/members, tui/comments and tui/toast; keys and
// styles are defined once, in keys.go and styles.go.
//
// All remote text (names, comments, titles, notices) passes through Sanitize before it reaches a
// component.
package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/watchparty/watchparty/room"
)

// Options configure the screen. The zero value is usable.
type Options struct {
	// NoColor draws without colours (bold and faint remain). Set it when NO_COLOR is set or the
	// user asks; Bubble Tea also drops colours by itself when NO_COLOR is set.
	NoColor bool
	// JoinCommand is the command others run to join, shown to the host ("friends join with: …").
	JoinCommand string
	// Location is the time zone of the wall times shown next to comments. Nil: local time.
	Location *time.Location
	// ActionTimeout bounds each action sent to the session (play, seek, comment, …).
	// Zero: 10 s.
	ActionTimeout time.Duration
	// LeaveTimeout bounds leaving the room when the user quits. Zero: 5 s.
	LeaveTimeout time.Duration
	// Log, if set, receives a line after the screen has closed when the session ended by
	// itself without an error (room.MPVClosedNote: the user closed mpv, the room was left).
	Log io.Writer
}

// forcedLeaveTimeout bounds the leave when the user quits a second time while leaving.
const forcedLeaveTimeout = time.Second

func (o Options) withDefaults() Options {
	if o.ActionTimeout <= 0 {
		o.ActionTimeout = 10 * time.Second
	}
	if o.LeaveTimeout <= 0 {
		o.LeaveTimeout = 5 * time.Second
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	return o
}

// New returns the screen's root model for a session. Actions run with context.Background()
// bounded by Options.ActionTimeout; Run passes its own context instead.
func New(ctrl room.Controls, opts Options) tea.Model {
	return newModel(context.Background(), ctrl, opts)
}

// Run shows the screen on the terminal (alternate screen) until the user quits or the session
// closes. Quitting leaves the room (ctrl.Leave), which stops the mpv the session started; if the
// program ends any other way (ctx cancelled, SIGTERM) before the room was left, Run leaves it
// itself. Run returns nil after a clean quit, the session's error if it closed with one, and the
// leave error if leaving failed. progOpts are passed to tea.NewProgram after Run's own (tests use
// them for input and output).
func Run(ctx context.Context, ctrl room.Controls, opts Options, progOpts ...tea.ProgramOption) error {
	outer := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // ends the event wait and any action still running
	m := newModel(ctx, ctrl, opts)
	po := []tea.ProgramOption{
		tea.WithContext(ctx),
		// A SIGINT or SIGTERM becomes a clean quit (leave the room first), not an abrupt stop.
		tea.WithFilter(interceptQuit),
	}
	if opts.NoColor {
		po = append(po, tea.WithColorProfile(colorprofile.Ascii))
	}
	final, err := tea.NewProgram(m, append(po, progOpts...)...).Run()
	fm, ok := final.(Model)
	if !ok {
		fm = m
	}
	if !fm.left && !fm.closed {
		timeout := m.opts.LeaveTimeout
		if fm.leaving {
			// The user quit again while leaving: Leave, called a second time, stops waiting
			// for the server; give it only the time to stop mpv.
			timeout = forcedLeaveTimeout
		}
		lctx, cancel := context.WithTimeout(context.WithoutCancel(outer), timeout)
		defer cancel()
		if lerr := ctrl.Leave(lctx); lerr != nil {
			return fmt.Errorf("leave room: %w", lerr)
		}
	}
	if err != nil && !errors.Is(err, tea.ErrProgramKilled) && !errors.Is(err, tea.ErrInterrupted) {
		return fmt.Errorf("run screen: %w", err)
	}
	if fm.closed && fm.end == room.EndMPVClosed && fm.err == nil && opts.Log != nil {
		fmt.Fprintln(opts.Log, room.MPVClosedNote)
	}
	return fm.err
}

// interceptQuit turns the quit and interrupt messages that Bubble Tea makes from signals into a
// request to leave the room, until the model has finished leaving.
func interceptQuit(m tea.Model, msg tea.Msg) tea.Msg {
	switch msg.(type) {
	case tea.QuitMsg, tea.InterruptMsg:
		if mm, ok := m.(Model); ok && !mm.done {
			return quitRequestMsg{}
		}
	}
	return msg
}
