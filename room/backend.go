package room

import (
	"context"
	"time"
)

// backend is what a session needs from the server: the room endpoints of docs/api.md and the
// realtime channel. The realtime-client implementation is in realtime_backend.go; keeping the
// session on this small interface keeps its logic readable and its dependencies one-way.
type backend interface {
	// Join calls rooms/join and returns the room and member rows.
	Join(ctx context.Context, roomID, username string) (room map[string]any, members []map[string]any, err error)
	// Leave calls rooms/leave.
	Leave(ctx context.Context, roomID string) error
	// Control calls sync/control and returns the updated room row.
	Control(ctx context.Context, roomID, action string, pos float64, rate *float64) (map[string]any, error)
	// Comment calls comments/create.
	Comment(ctx context.Context, roomID, message string, videoTime *float64) error
	// TrackPresence calls the track_user_presence RPC (liveness, every 3 s).
	TrackPresence(ctx context.Context, roomID string, pos float64, playing bool) error
	// SyncState calls get_room_sync_state; sent and received bracket the request for the clock.
	SyncState(ctx context.Context, roomID string) (st State, err error)
	// History reads the last n comments, newest first.
	History(ctx context.Context, roomID string, n int) ([]map[string]any, error)
	// Subscribe joins the realtime channel of roomID with the JS guide's bindings and presence
	// keyed by our user id; feed receives everything, in order, until Unsubscribe.
	Subscribe(ctx context.Context, roomID string, feed func(any)) error
	// Track sends our presence payload (the caller keeps within the presence budget).
	Track(ctx context.Context, payload map[string]any) error
	// Unsubscribe untracks and leaves the channel.
	Unsubscribe(ctx context.Context) error
	// UserID is the signed-in user.
	UserID() string
	// Close releases the connection.
	Close() error
}

// State is a get_room_sync_state reply with the local send/receive instants.
type State struct {
	RoomID     string
	Room       map[string]any
	Members    []map[string]any
	ServerTime time.Time
	Sent       time.Time
	Received   time.Time
}

// Feed items a backend delivers to the session (realtime events, in order).
type (
	feedRoomUpdate struct{ Row map[string]any }
	feedMember     struct {
		Type     string // INSERT | UPDATE | DELETE
		New, Old map[string]any
	}
	feedComment    struct{ Row map[string]any }
	feedPresence   struct{ Online []string }
	feedSubscribed struct{}                  // (re)joined: resync, re-track
	feedClosed     struct{ Reason string }   // the server closed the channel (e.g. rate limit)
	feedConn       struct{ Conn Connection } // connection state
)
