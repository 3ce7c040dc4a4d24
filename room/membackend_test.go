package room

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/watchparty/watchparty/party"
	"github.com/watchparty/watchparty/realtime"
)

// memBackend is an in-memory server for one room: it keeps the room state and members,
// answers the session's calls at once (or, hung, never before ctx ends), and delivers
// realtime changes to the subscribed session. A Control's broadcast (its echo) is delivered
// before the call returns: the worst case for telling our own publish from someone else's.
type memBackend struct {
	userID string
	roomID string

	mu       sync.Mutex
	room     party.RoomState
	members  []party.Member
	feed     func(any)
	hung     bool
	gate     chan struct{} // non-nil: the next Control waits for it (a publish held in flight)
	entered  chan HostAction
	controls []HostAction
	left     bool
	tracks   []presence
	closed   bool
	// droppedBeats: that many liveness beats are refused as from no member (we dropped out).
	droppedBeats int
	joins        int
}

func newMemBackend(userID, roomID, hostID string) *memBackend {
	return &memBackend{
		userID: userID, roomID: roomID, entered: make(chan HostAction, 64),
		room: party.RoomState{RoomID: roomID, HostUserID: hostID, CurrentTime: 10, UpdatedAt: time.Now(),
			PlaybackRate: 1, StateVersion: 1, MediaDuration: 600, MediaTitle: "film"},
		members: []party.Member{
			{RoomID: roomID, UserID: hostID, Username: "hostname", Role: party.RoleHost, Announced: true},
			{RoomID: roomID, UserID: "u-other", Username: "bob", Role: party.RoleMember, Announced: true},
		},
	}
}

// setHung makes every later call wait for its ctx.
func (b *memBackend) setHung(v bool) {
	b.mu.Lock()
	b.hung = v
	b.mu.Unlock()
}

// hold makes the next Control wait until the returned func is called (later ones do not).
func (b *memBackend) hold() (release func()) {
	g := make(chan struct{})
	b.mu.Lock()
	b.gate = g
	b.mu.Unlock()
	var once sync.Once
	return func() { once.Do(func() { close(g) }) }
}

// wait blocks a hung call until ctx ends; it returns ctx's error then, nil when not hung.
func (b *memBackend) wait(ctx context.Context) error {
	b.mu.Lock()
	hung := b.hung
	b.mu.Unlock()
	if hung {
		<-ctx.Done()
		return ctx.Err()
	}
	return ctx.Err()
}

// update changes the room as another client (a script, the server's hand-over) would, and
// broadcasts it.
func (b *memBackend) update(fn func(*party.RoomState)) party.RoomState {
	b.mu.Lock()
	fn(&b.room)
	b.room.StateVersion++
	b.room.UpdatedAt = time.Now()
	st, feed := b.room, b.feed
	b.mu.Unlock()
	if feed != nil {
		feed(feedRoomUpdate{Room: st})
	}
	return st
}

func (b *memBackend) Join(ctx context.Context, roomID, username string) (party.RoomState, []party.Member, error) {
	if err := b.wait(ctx); err != nil {
		return party.RoomState{}, nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.joins++
	b.members = append(b.members, party.Member{RoomID: roomID, UserID: b.userID, Username: username, Role: party.RoleMember})
	return b.room, append([]party.Member(nil), b.members...), nil
}

func (b *memBackend) Leave(ctx context.Context, roomID string) error {
	if err := b.wait(ctx); err != nil {
		return err
	}
	b.mu.Lock()
	b.left = true
	b.mu.Unlock()
	return nil
}

func (b *memBackend) Control(ctx context.Context, roomID string, action HostAction, pos float64, rate *float64, _ time.Time) (party.RoomState, error) {
	b.mu.Lock()
	gate := b.gate // taken before entered says so: the held call is the one reported
	b.gate = nil
	b.mu.Unlock()
	b.entered <- action
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return party.RoomState{}, ctx.Err()
		}
	}
	if err := b.wait(ctx); err != nil {
		return party.RoomState{}, err
	}
	b.mu.Lock()
	b.controls = append(b.controls, action)
	b.mu.Unlock()
	st := b.update(func(r *party.RoomState) {
		r.CurrentTime = pos
		if action == ActionPlay || action == ActionPause || action == ActionSeek {
			r.Waiting = ""
		}
		switch action {
		case ActionPlay:
			r.IsPlaying = true
		case ActionPause:
			r.IsPlaying = false
		case ActionRate:
			r.PlaybackRate = *rate
		}
	})
	return st, nil
}

func (b *memBackend) Handover(ctx context.Context, roomID, toUserID string) error {
	if err := b.wait(ctx); err != nil {
		return err
	}
	b.update(func(r *party.RoomState) { r.HostUserID = toUserID })
	return nil
}

func (b *memBackend) Comment(ctx context.Context, roomID, message string, videoTime *float64) error {
	return b.wait(ctx)
}

func (b *memBackend) Wait(ctx context.Context, roomID string, ids []string, pos float64, at time.Time) (party.RoomState, error) {
	st, err := b.Control(ctx, roomID, ActionWait, pos, nil, at)
	if err != nil {
		return st, err
	}
	return b.update(func(r *party.RoomState) { r.IsPlaying, r.Waiting = false, party.NewWaitList(ids) }), nil
}

func (b *memBackend) TrackPresence(ctx context.Context, roomID string, pos float64, playing, _ bool, _ *mediaReport) error {
	b.mu.Lock()
	dropped := b.droppedBeats > 0
	if dropped {
		b.droppedBeats--
	}
	b.mu.Unlock()
	if dropped {
		return &realtime.APIError{Op: "rpc track_user_presence", Status: http.StatusForbidden, Code: "NOT_MEMBER",
			Message: "not a member of this room", Kind: realtime.ErrNotAllowed}
	}
	return b.wait(ctx)
}

func (b *memBackend) SyncState(ctx context.Context, roomID string) (roomSync, error) {
	sent := time.Now()
	if err := b.wait(ctx); err != nil {
		return roomSync{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	room := b.room
	now := time.Now()
	return roomSync{Room: &room, Members: append([]party.Member(nil), b.members...), ServerTime: now, Sent: sent, Received: now}, nil
}

func (b *memBackend) History(ctx context.Context, roomID string, n int) ([]Comment, error) {
	return nil, b.wait(ctx)
}

func (b *memBackend) Subscribe(ctx context.Context, roomID string, feed func(any)) error {
	if err := b.wait(ctx); err != nil {
		return err
	}
	b.mu.Lock()
	b.feed = feed
	b.mu.Unlock()
	go feed(feedSubscribed{}) // as the channel's callback would, on its own goroutine
	return nil
}

func (b *memBackend) Track(ctx context.Context, p presence) error {
	if err := b.wait(ctx); err != nil {
		return err
	}
	b.mu.Lock()
	b.tracks = append(b.tracks, p)
	b.mu.Unlock()
	return nil
}

func (b *memBackend) Unsubscribe(ctx context.Context) error {
	if err := b.wait(ctx); err != nil {
		return err
	}
	b.mu.Lock()
	b.feed = nil
	b.mu.Unlock()
	return nil
}

func (b *memBackend) UserID() string { return b.userID }

func (b *memBackend) Close() error {
	b.mu.Lock()
	b.closed, b.feed = true, nil
	b.mu.Unlock()
	return nil
}

func (b *memBackend) Queue(ctx context.Context, roomID string) ([]party.QueueEntry, error) {
	return nil, b.wait(ctx)
}

func (b *memBackend) QueueNext(ctx context.Context, roomID string, entryID, fromEntryID int64) (party.RoomState, error) {
	return party.RoomState{}, b.wait(ctx)
}
