// Package room is one room session: it wires the player (mpv), the realtime client and the
// party sync rules together — the JavaScript guide's RealtimeRoomManager, done right.
package room

import (
	"context"
	"errors"
)

// ErrNotHost is returned by host-only actions (play, pause, seek) on a follower. Followers can
// still pause or seek in mpv's own window; that detaches them until SyncToLive.
var ErrNotHost = errors.New("only the host can control playback")

// Controls are the actions a user interface can take on a session. *Session implements it; the
// TUI depends on this interface only. All methods are safe for concurrent use and return when
// the server has acknowledged the action (or ctx ends).
type Controls interface {
	// Events is the ordered stream of what happens; it is closed after the Closed event.
	Events() <-chan Event
	// Snapshot is the current state (the same value the last StateChanged carried).
	Snapshot() Snapshot

	TogglePlay(ctx context.Context) error              // host: play/pause the room
	SeekTo(ctx context.Context, pos float64) error     // host: absolute position, s
	SeekBy(ctx context.Context, delta float64) error   // host: relative seek, s
	SeekFraction(ctx context.Context, f float64) error // host: 0–1 of the duration
	SyncToLive(ctx context.Context) error              // follower: re-read the room state and follow again
	Comment(ctx context.Context, text string) error    // post at our current video time
	Leave(ctx context.Context) error                   // leave the room, stop the mpv we started
}
