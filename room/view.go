package room

import (
	"time"

	"github.com/watchparty/watchparty/party"
)

// This file is the room session's read side: the values the TUI and the headless JSON stream
// render. They are plain data (copies), safe to keep and compare.

// ConnState is the realtime connection's state as the user sees it.
type ConnState string

// Connection states.
const (
	ConnConnecting   ConnState = "connecting"
	ConnConnected    ConnState = "connected"
	ConnReconnecting ConnState = "reconnecting"
	ConnClosed       ConnState = "closed"
)

// Connection is the connection state with the time of the next reconnect attempt.
type Connection struct {
	State   ConnState
	RetryAt time.Time // when State is ConnReconnecting: the next attempt (the TUI counts down)
	Err     string    // the last connection error, if any
}

// Mode is how this client relates to the room's playback.
type Mode string

// Modes, as in the headless `sync` event.
const (
	ModeHost      Mode = "host"      // we publish the room state
	ModeFollowing Mode = "following" // we follow the room
	ModeDetached  Mode = "detached"  // the user acted locally; no correction until sync to live
)

// SyncView is the sync indicator: status and drift (positive: ahead of the room).
type SyncView struct {
	Status   party.Status // in sync / syncing / out of sync / detached / unknown
	DriftMS  int64
	Mode     Mode
	Position float64 // our player's position, s
	Expected float64 // the room's expected position now, s
	Speed    float64 // our player's current speed (room rate × nudge)
	// Paused is our player's own pause state: a detached follower's may differ from the
	// room's (Snapshot.Playing).
	Paused bool
}

// InSync reports whether we are in sync: |drift| ≤ 2 s (docs/design.md §7.7).
func (s SyncView) InSync() bool {
	return party.Indicator{Status: s.Status, DriftMS: s.DriftMS}.InSync()
}

// MemberView is one member as the member list shows it.
type MemberView struct {
	UserID   string
	Name     string // sanitised
	IsHost   bool
	IsCohost bool // may control playback too (the host's choice)
	IsSelf   bool
	Online   bool // present on the realtime channel
	Stale    bool // no liveness report for party.StaleAfter (15 s)
	Playing  bool
	Position float64 // last reported position, s
	DriftMS  int64   // vs the room's expected position at the report time
	InSync   bool
	// Buffering: their mpv waits for data (their last beat's mark; ours now).
	Buffering bool
	// Waited: the room waits for them.
	Waited bool
	// MediaDiffers marks a member whose file is not the host's ("Same file?", docs/design.md
	// §7.10); MediaNote says how: "same length, different file", "3:12 shorter", …
	MediaDiffers bool
	MediaNote    string
	Ready        bool // the member's answer to the ready check
}

// Snapshot is the whole room as of one moment.
type Snapshot struct {
	RoomID     string
	MediaTitle string // sanitised
	MediaURL   string
	Duration   float64 // s; 0 when unknown
	HostID     string
	HostName   string
	SelfID     string
	SelfName   string
	IsHost     bool
	IsCohost   bool // we may control playback too: the host made us a co-host
	Conn       Connection
	Playing    bool    // the room's state
	Rate       float64 // the room's playback rate
	Sync       SyncView
	Members    []MemberView // host first, then by join time
	// Waiting names whom the room waits for while they buffer (sanitised; empty: no wait),
	// WaitLimit is the room's longest wait (0: it never waits), Buffering our own mark.
	Waiting   []string
	WaitLimit time.Duration
	Buffering bool
	// ReadyMode: the host's play waits until everyone is ready; StartPending: it is waiting.
	ReadyMode    bool
	StartPending bool
}

// Comment is one comment or system message.
type Comment struct {
	ID        int64
	UserID    string
	Username  string // sanitised
	Message   string // sanitised
	VideoTime *float64
	At        time.Time // server time of posting
	System    bool
}

// NoticeLevel says how a notice is styled.
type NoticeLevel string

// Notice levels.
const (
	NoticeInfo  NoticeLevel = "info"
	NoticeWarn  NoticeLevel = "warn"
	NoticeError NoticeLevel = "error"
)

// Event is something the session reports, in order, on Session.Events.
type Event interface{ isEvent() }

// StateChanged carries a new snapshot. Sent on every change that matters to the screen and at
// least once a second while connected (the position moves).
type StateChanged struct{ Snapshot Snapshot }

// CommentsLoaded is the history read on (re)join, oldest first. It replaces what was shown.
type CommentsLoaded struct{ Comments []Comment }

// CommentReceived is a new comment (ours included).
type CommentReceived struct{ Comment Comment }

// Notice is a transient message for a toast: joined, left, host changed, errors.
type Notice struct {
	Level NoticeLevel
	Text  string
}

// RoomChanged is a new room playback state (a host action, a hand-over, a resync).
type RoomChanged struct {
	Playing  bool
	Position float64 // current_time at UpdatedAt, s
	Rate     float64
	Version  int64
	HostID   string
	HostName string
}

// MemberChanged is a member joining, leaving or reporting (room_members INSERT/DELETE/UPDATE).
// The session also sends a Notice for joins and leaves; MemberChanged is for scripts (the
// headless JSON stream) and lists.
type MemberChanged struct {
	Change string // join | leave | update
	Member MemberView
}

// PresenceChanged is the set of members present on the realtime channel.
type PresenceChanged struct {
	Online []string // user ids
}

// BufferingChanged is our own buffering mark changing (docs/design.md §7.12): our mpv waits for
// data, or has enough again. A beat tells the room at once.
type BufferingChanged struct{ Buffering bool }

// WaitChanged is the room starting or ending a wait for buffering members. Names and UserIDs
// are whom it waits (waited) for; Ended is "" when the wait starts, else why it ended:
// "ready" (they are), "timeout" (the room's wait limit passed) or "host" (the host did not
// wait any more, or acted). Text is what the notice and mpv's OSD say.
type WaitChanged struct {
	UserIDs []string
	Names   []string
	Ended   string
	Text    string
}

// ConnectionChanged is the realtime connection changing state.
type ConnectionChanged struct{ Conn Connection }

// Closed is the last event: the session ended (Err nil after a clean leave). Reason says why
// (EndMPVClosed: the user closed mpv and the session left the room by itself).
type Closed struct {
	Err    error
	Reason EndReason
}

func (StateChanged) isEvent()      {}
func (CommentsLoaded) isEvent()    {}
func (CommentReceived) isEvent()   {}
func (Notice) isEvent()            {}
func (Closed) isEvent()            {}
func (RoomChanged) isEvent()       {}
func (MemberChanged) isEvent()     {}
func (PresenceChanged) isEvent()   {}
func (ConnectionChanged) isEvent() {}
func (BufferingChanged) isEvent()  {}
func (WaitChanged) isEvent()       {}
