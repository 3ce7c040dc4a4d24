package realtime

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/watchparty/watchparty/server"
)

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// BenchmarkJoin measures a channel join on loopback: Subscribe of a channel subscribed the browser
// client's way (docs/design.md §1: three postgres_changes bindings and presence) on an open socket,
// until the server's reply. Reports the median and p95 as well as the mean (ns/op).
func BenchmarkJoin(b *testing.B) {
	ts := startServer(b, server.Config{})
	u := newUser(b, ts.URL(), ts.anonKey, SocketOptions{})
	roomID := u.createRoom(b, "host")
	if err := u.sock.WaitConnected(context.Background()); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var times []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		ch := u.sock.Channel(fmt.Sprintf("room:%s-%d", roomID, i), ChannelOptions{PresenceKey: u.id})
		for _, f := range roomFilters(roomID) {
			ch.OnPostgresChanges(f, func(Change) {})
		}
		ch.OnPresence(func(PresenceEvent) {})
		b.StartTimer()
		start := time.Now()
		if err := ch.Subscribe(ctx); err != nil {
			b.Fatal(err)
		}
		times = append(times, time.Since(start))
		b.StopTimer()
		ch.Unsubscribe(ctx)
		b.StartTimer()
	}
	b.StopTimer()
	slices.Sort(times)
	b.ReportMetric(ms(times[len(times)/2]), "ms/join-p50")
	b.ReportMetric(ms(times[len(times)*95/100]), "ms/join-p95")
}

// BenchmarkReconnectAfterRestart restarts the server (graceful shutdown, then a new server on
// the same port and data directory) under a subscribed, tracked client with the default
// reconnect schedule (1 s first delay, +0–20 % jitter), and measures from the start of the
// shutdown to the channel's SUBSCRIBED after the rejoin. Run with -benchtime=10x for the
// median of 10.
func BenchmarkReconnectAfterRestart(b *testing.B) {
	ts := startServer(b, server.Config{})
	u := newUser(b, ts.URL(), ts.anonKey, SocketOptions{})
	roomID := u.createRoom(b, "host")
	rc := u.roomChannel(b, roomID, ChannelOptions{})
	rc.subscribe(b)
	if _, err := rc.ch.Track(context.Background(), map[string]any{"user_id": u.id}); err != nil {
		b.Fatal(err)
	}
	var total, afterStart []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		joins := subscribedCount(rc)
		t0 := time.Now()
		ts.stop()
		ts.start()
		t1 := time.Now()
		waitFor(b, 30*time.Second, "the rejoin", func() bool { return subscribedCount(rc) > joins })
		t2 := time.Now()
		total = append(total, t2.Sub(t0))
		afterStart = append(afterStart, t2.Sub(t1))
	}
	b.StopTimer()
	b.ReportMetric(ms(median(total)), "ms/reconnect-p50")
	b.ReportMetric(ms(median(afterStart)), "ms/after-restart-p50")
	b.ReportMetric(ms(slices.Max(total)), "ms/reconnect-max")
}
