package player_test

import (
	"context"
	"log"

	"github.com/watchparty/watchparty/player"
)

// A follower's loop: load the room's video and react to what the user does
// in mpv's window. Seeks and pauses made through p come back tagged ByUs,
// so drift corrections never look like the user's.
func ExampleLaunch() {
	ctx := context.Background()
	p, err := player.Launch(ctx, player.LaunchOptions{ExtraArgs: []string{"--vo=null", "--ao=null"}})
	if err != nil {
		log.Fatal(err) // e.g. "mpv not found: install it with your package manager, e.g. apt install mpv"
	}
	defer p.Close()

	if err := p.Load(ctx, "film.mkv", 754.2, true); err != nil {
		log.Fatal(err)
	}
	for ev := range p.Events() {
		switch {
		case ev.Kind == player.EventSeeked && ev.Origin == player.ByUser:
			log.Printf("user seeked to %.1f s: detach from the room", ev.Position)
		case ev.Kind == player.EventPaused && ev.Origin == player.ByUser:
			log.Printf("user paused at %.1f s", ev.Position)
		case ev.Kind == player.EventClosed:
			log.Printf("mpv went away (%v) at %.1f s: relaunch and restore", ev.Err, p.Position())
		}
	}
}
