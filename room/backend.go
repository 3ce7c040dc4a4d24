package room

import (
	"context"
	"time"

	"github.com/watchparty/watchparty/party"
)

// backend is what a session needs from the server: the room endpoints of docs/api.md and the
// realtime channel. rtBackend (remote.go) implements it on the realtime client; the tests use
// memBackend (membackend_test.go), an in-memory one. Every row is decoded at this edge: the session sees party.RoomState,
// party.Member and Comment, never a raw row.
type backend interface {
	// Join calls rooms/join and returns the room and its members.
	Join(ctx context.Context, roomID, username string) (party.RoomState, []party.Member, error)
	// Leave calls rooms/leave.
	Leave(ctx context.Context, roomID string) error
	// Control calls sync/control and returns the updated room; at is the server-clock
	// instant pos was read at (zero: not sent).
	Control(ctx context.Context, roomID string, action HostAction, pos float64, rate *float64, at time.Time) (party.RoomState, error)
	// Wait calls sync/control with the action wait: the room pauses at pos waiting for ids.
	Wait(ctx context.Context, roomID string, ids []string, pos float64, at time.Time) (party.RoomState, error)
	// Play calls sync/control play, with force when asked; a held play is *NotReadyError.
	Play(ctx context.Context, roomID string, pos float64, at time.Time, force bool) (party.RoomState, error)
	// SetReady calls rooms/ready.
	SetReady(ctx context.Context, roomID string, ready bool) error
	// Settings calls rooms/settings.
	Settings(ctx context.Context, roomID string, set RoomSettings) (party.RoomState, error)
	// Handover calls rooms/handover.
	Handover(ctx context.Context, roomID, toUserID string) error
	// Comment calls comments/create.
	Comment(ctx context.Context, roomID, message string, videoTime *float64) error
	// TrackPresence calls the track_user_presence RPC (liveness, every 3 s, and at once when
	// our buffering mark changes), with our media report when media is not nil (samefile.go).
	TrackPresence(ctx context.Context, roomID string, pos float64, playing, buffering bool, media *mediaReport) error
	// Queue reads the room's queue; QueueNext calls rooms/queue/next (queue.go).
	Queue(ctx context.Context, roomID string) ([]party.QueueEntry, error)
	QueueNext(ctx context.Context, roomID string, entryID, fromEntryID int64) (party.RoomState, error)
	// SyncState calls get_room_sync_state; Sent and Received bracket the request for the clock.
	SyncState(ctx context.Context, roomID string) (roomSync, error)
	// History reads the last n comments, newest first (unsanitised).
	History(ctx context.Context, roomID string, n int) ([]Comment, error)
	// Subscribe joins the realtime channel of roomID (rooms UPDATE, room_members *, comments
	// INSERT, presence keyed by our user id); feed receives the feed* items below, in order,
	// until Unsubscribe.
	Subscribe(ctx context.Context, roomID string, feed func(any)) error
	// Track sends our presence (the caller keeps within the presence budget).
	Track(ctx context.Context, p presence) error
	// Unsubscribe untracks and leaves the channel.
	Unsubscribe(ctx context.Context) error
	// UserID is the signed-in user.
	UserID() string
	// Close releases the connection.
	Close() error
}

// HostAction is a host control of sync/control (docs/api.md).
type HostAction string

// The host actions.
const (
	ActionPlay  HostAction = "play"
	ActionPause HostAction = "pause"
	ActionSeek  HostAction = "seek"
	ActionSync  HostAction = "sync" // restate where the host is (a republish)
	ActionRate  HostAction = "rate"
)

// roomSync is a get_room_sync_state reply, decoded, with the local send/receive instants.
type roomSync struct {
	Room       *party.RoomState // nil: the reply had no readable room
	Members    []party.Member
	ServerTime time.Time
	Sent       time.Time
	Received   time.Time
}

// presence is what we track on the room channel.
type presence struct {
	UserID   string `json:"user_id"`
	Username string `json:"username"`
	Mode     Mode   `json:"mode"`
	InSync   bool   `json:"in_sync"`
}

// Feed items a backend delivers to the session (realtime events, in order). A row that cannot
// be read arrives with Err set.
type (
	feedRoomUpdate struct {
		Room party.RoomState
		Err  error
	}
	feedMember struct {
		Type   string       // INSERT | UPDATE | DELETE
		Member party.Member // the new row; for DELETE the old one (maybe only its keys)
		Err    error
	}
	feedComment    struct{ Comment Comment }
	feedPresence   struct{ Online []string }
	feedSubscribed struct{}                  // (re)joined: resync, re-track
	feedClosed     struct{ Reason string }   // the server closed the channel (e.g. rate limit)
	feedConn       struct{ Conn Connection } // connection state
)
