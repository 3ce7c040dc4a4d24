package tui

import (
	"context"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/watchparty/watchparty/room"
)

// eventMsg carries one room event into Update.
type eventMsg struct{ ev room.Event }

// actionMsg is the result of an action sent to the session.
type actionMsg struct {
	name string // what the user asked, for the error toast
	text string // for a comment: what was sent, given back to the input on failure
	err  error
}

// leftMsg says that leaving the room finished.
type leftMsg struct{ err error }

// tickMsg drives the reconnect countdown and the toasts. tag tells the current tick chain from a
// stale one.
type tickMsg struct {
	tag int
	at  time.Time
}

// quitRequestMsg asks to leave the room and quit (made from SIGINT/SIGTERM by interceptQuit).
type quitRequestMsg struct{}

// tickEvery is the period of the screen's clock.
const tickEvery = time.Second

// waitForEvent turns the next room event into a message. Update re-arms it after each event;
// a closed channel reads as a clean Closed. It gives up (no message) when ctx ends, so no
// goroutine outlives the program.
func waitForEvent(ctx context.Context, ch <-chan room.Event) tea.Cmd {
	return func() tea.Msg {
		select {
		case ev, ok := <-ch:
			if !ok {
				return eventMsg{ev: room.Closed{}}
			}
			return eventMsg{ev: ev}
		case <-ctx.Done():
			return nil
		}
	}
}

// tick is the screen's clock: one tickMsg after tickEvery, or nothing once ctx ends.
func tick(ctx context.Context, tag int) tea.Cmd {
	return func() tea.Msg {
		t := time.NewTimer(tickEvery)
		defer t.Stop()
		select {
		case at := <-t.C:
			return tickMsg{tag: tag, at: at}
		case <-ctx.Done():
			return nil
		}
	}
}

// action runs fn against the session in a command, bounded by timeout, and reports the result.
func action(ctx context.Context, timeout time.Duration, name, text string, fn func(context.Context) error) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		return actionMsg{name: name, text: text, err: fn(ctx)}
	}
}

// leave leaves the room in a command.
func leave(ctx context.Context, ctrl room.Controls, timeout time.Duration) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
		defer cancel()
		return leftMsg{err: ctrl.Leave(ctx)}
	}
}
