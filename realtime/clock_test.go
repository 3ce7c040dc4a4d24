package realtime

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/watchparty/watchparty/server"
)

func TestServerClockKeepsLowestRTTOfLastEight(t *testing.T) {
	var c ServerClock
	if _, ok := c.Best(); ok || c.Offset() != 0 {
		t.Fatal("an empty clock has a sample")
	}
	t0 := time.Unix(1_000_000, 0)
	// The server is 5 s ahead. A 100 ms round trip with a symmetric delay: offset exactly 5 s.
	s := c.Observe(t0, t0.Add(100*time.Millisecond), t0.Add(5*time.Second+50*time.Millisecond))
	if s.Offset != 5*time.Second || s.RTT != 100*time.Millisecond {
		t.Fatalf("sample = %+v", s)
	}
	// A slow sample with an asymmetric delay (the reply sat 400 ms in a queue) is off by
	// 200 ms, but loses to the fast one.
	c.Observe(t0, t0.Add(500*time.Millisecond), t0.Add(5*time.Second+50*time.Millisecond))
	if got := c.Offset(); got != 5*time.Second {
		t.Fatalf("offset = %v, want the low-RTT sample's 5 s", got)
	}
	// Eight more slow samples push the fast one out: the best of the last eight wins.
	for i := 0; i < 8; i++ {
		c.Observe(t0, t0.Add(time.Duration(300+i)*time.Millisecond), t0.Add(5*time.Second))
	}
	best, _ := c.Best()
	if best.RTT != 300*time.Millisecond {
		t.Fatalf("best RTT %v, want 300 ms (the fastest of the last eight)", best.RTT)
	}
}

func TestServerClockAgainstServer(t *testing.T) {
	ts := startServer(t, server.Config{})
	host := newUser(t, ts.URL(), ts.anonKey, SocketOptions{})
	roomID := host.createRoom(t, "host")
	var c ServerClock
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, host.c.ServerTimeProbe(roomID), 3, time.Hour) }()
	waitFor(t, 5*time.Second, "three samples", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return len(c.samples) == 3
	})
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v", err)
	}
	// Same machine, same clock: the estimate is within the round trip of zero (server_time
	// has millisecond resolution).
	best, _ := c.Best()
	if off := best.Offset.Abs(); off > best.RTT/2+2*time.Millisecond {
		t.Fatalf("offset %v with RTT %v on one machine", best.Offset, best.RTT)
	}
	// A room the caller is not in gives a typed error, and Run reports it.
	other := newUser(t, ts.URL(), ts.anonKey, SocketOptions{})
	if err := c.Run(context.Background(), other.c.ServerTimeProbe(roomID), 1, time.Hour); !errors.Is(err, ErrNotAllowed) {
		t.Fatalf("Run for a non-member = %v, want ErrNotAllowed", err)
	}
}
