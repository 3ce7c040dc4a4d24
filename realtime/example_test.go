package realtime_test

import (
	"context"
	"fmt"
	"log"

	"github.com/watchparty/watchparty/realtime"
)

// A watch-party client: sign in (reusing the saved session), join a room, subscribe to its
// channel the way the browser client does (docs/design.md §1), and publish presence.
func Example() {
	ctx := context.Background()
	info, err := realtime.FetchInfo(ctx, nil, "http://127.0.0.1:54321")
	if err != nil {
		log.Fatal(err)
	}
	c, err := realtime.NewClient("http://127.0.0.1:54321", info.AnonKey, realtime.Options{SessionDir: "/path/to/state/sessions"})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	session, err := c.Auth.EnsureSession(ctx)
	if err != nil {
		log.Fatal(err)
	}
	roomID, secret := "abc123def4", "the secret of the room's invite link"
	if err := c.Functions.Invoke(ctx, "rooms/join", map[string]any{"room_id": roomID, "username": "alice", "invite_secret": secret}, nil); err != nil {
		log.Fatal(err) // errors.Is(err, realtime.ErrNotFound) for an unknown room
	}

	sock, err := c.NewSocket(realtime.SocketOptions{})
	if err != nil {
		log.Fatal(err)
	}
	ch := sock.Channel("room:"+roomID, realtime.ChannelOptions{PresenceKey: session.UserID})
	filter := "room_id=eq." + roomID
	ch.OnPostgresChanges(realtime.ChangeFilter{Event: "UPDATE", Schema: "public", Table: "rooms", Filter: filter}, func(ch realtime.Change) {
		var room struct {
			IsPlaying   bool    `json:"is_playing"`
			CurrentTime float64 `json:"current_time"`
		}
		if ch.DecodeNew(&room) == nil {
			fmt.Println("room state:", room.IsPlaying, room.CurrentTime)
		}
	})
	ch.OnPostgresChanges(realtime.ChangeFilter{Event: "*", Schema: "public", Table: "room_members", Filter: filter}, func(realtime.Change) {})
	ch.OnPostgresChanges(realtime.ChangeFilter{Event: "INSERT", Schema: "public", Table: "comments", Filter: filter}, func(realtime.Change) {})
	ch.OnPresence(func(ev realtime.PresenceEvent) {
		if ev.Kind == "sync" {
			fmt.Println("members online:", len(ch.PresenceState()))
		}
	})
	ch.OnStatus(func(ev realtime.StatusEvent) {
		if ev.Status == realtime.Subscribed {
			// (Re)joined: re-read the room state with get_room_sync_state.
		}
	})
	ch.OnClose(func(ev realtime.CloseEvent) {
		if ev.ByServer {
			// Closed by the server (rate limit, expired token): make a new channel.
		}
	})
	if err := ch.Subscribe(ctx); err != nil {
		log.Fatal(err)
	}
	res, err := ch.Track(ctx, map[string]any{"user_id": session.UserID, "username": "alice", "is_playing": true})
	if err != nil {
		log.Fatal(err)
	}
	if res.Deferred {
		fmt.Println("presence update coalesced; sent at", res.SendAt)
	}
}
