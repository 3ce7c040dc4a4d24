package party_test

import (
	"fmt"
	"time"

	"github.com/watchparty/watchparty/party"
)

// How the room session uses the package on each measurement of the player.
func Example() {
	// On join: a few get_room_sync_state exchanges feed the clock.
	var clock party.ClockOffset
	sent := time.Date(2024, 5, 1, 12, 0, 9, 980e6, time.UTC) // local clock
	received := sent.Add(40 * time.Millisecond)
	serverTime := time.UnixMilli(1714564815000).UTC() // the reply's server_time: 5 s ahead of us
	_ = clock.AddSample(sent, received, serverTime)

	// The room row, from the reply or a postgres_changes UPDATE.
	room, err := party.ParseRoomRow(map[string]any{
		"room_id": "abc123def4", "is_playing": true, "current_time": 60.0,
		"playback_rate": 1.0, "state_version": 3.0, "media_duration": 1440.0,
		"updated_at": "2024-05-01T12:00:10.000+00:00",
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	// A tick, 2 s later on the local clock: the player is 120 ms ahead.
	var filter party.DriftFilter // Reset on every new room state or settled seek
	in := room.Input(clock.ServerNow(received.Add(2 * time.Second)))
	in.Position, in.Speed = in.Expected+0.12, 1
	c := party.Decide(filter.Apply(in))
	fmt.Printf("expected %.2f: %v, speed %.3f\n", in.Expected, c.Actions, c.Speed)
	fmt.Println(party.Indicate(in, c))
	// Output:
	// expected 67.02: nudge, speed 0.950
	// syncing +120 ms
}
