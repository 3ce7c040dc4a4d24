package realtime

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Clock sampling defaults (DESIGN §6).
const (
	// DefaultClockInterval is the time between samples after the first ones.
	DefaultClockInterval = 60 * time.Second
	// DefaultClockInitial is how many samples to take on join (Run's initial).
	DefaultClockInitial = 5

	clockKeep           = 8
	clockInitialSpacing = 100 * time.Millisecond
)

// ClockSample is one server-time reading by Cristian's method.
type ClockSample struct {
	// Offset is server time minus local time: server_time + RTT/2 − the local receive time.
	Offset time.Duration
	// RTT is the request's round trip.
	RTT time.Duration
	// At is the local time the reply arrived.
	At time.Time
}

// ServerClock estimates the server's clock from server_time readings (get_room_sync_state's
// epoch-ms server_time), keeping the lowest-RTT sample of the last 8: the one least skewed by
// an asymmetric delay. The zero value is ready to use. Safe for concurrent use.
type ServerClock struct {
	mu      sync.Mutex
	samples []ClockSample
}

// Observe records a reading: the request left at sent and its reply came at received (local
// times, ideally with monotonic readings, as time.Now gives), and the server said serverTime.
func (c *ServerClock) Observe(sent, received, serverTime time.Time) ClockSample {
	rtt := received.Sub(sent)
	if rtt < 0 {
		rtt = 0
	}
	s := ClockSample{Offset: serverTime.Add(rtt / 2).Sub(received), RTT: rtt, At: received}
	c.mu.Lock()
	c.samples = append(c.samples, s)
	if len(c.samples) > clockKeep {
		c.samples = c.samples[len(c.samples)-clockKeep:]
	}
	c.mu.Unlock()
	return s
}

// Best returns the lowest-RTT sample of the last 8; ok is false before the first.
func (c *ServerClock) Best() (s ClockSample, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, x := range c.samples {
		if i == 0 || x.RTT < s.RTT {
			s = x
		}
	}
	return s, len(c.samples) > 0
}

// Offset returns server time minus local time (0 before the first sample).
func (c *ServerClock) Offset() time.Duration {
	s, _ := c.Best()
	return s.Offset
}

// Now returns the current time on the server's clock.
func (c *ServerClock) Now() time.Time { return time.Now().Add(c.Offset()) }

// ServerTime converts a local time to the server's clock.
func (c *ServerClock) ServerTime(local time.Time) time.Time { return local.Add(c.Offset()) }

// Probe reads the server's clock once, e.g. by calling get_room_sync_state and returning its
// server_time.
type Probe func(ctx context.Context) (serverTime time.Time, err error)

// Measure takes one sample with probe.
func (c *ServerClock) Measure(ctx context.Context, probe Probe) (ClockSample, error) {
	sent := time.Now()
	st, err := probe(ctx)
	if err != nil {
		return ClockSample{}, err
	}
	if st.IsZero() {
		return ClockSample{}, errors.New("clock probe: no server time")
	}
	return c.Observe(sent, time.Now(), st), nil
}

// Run takes initial samples 100 ms apart, then one every interval (60 s if ≤ 0), until ctx
// ends. Failed probes are skipped; Run returns ctx's error, or the probe error if no initial
// sample succeeded.
func (c *ServerClock) Run(ctx context.Context, probe Probe, initial int, interval time.Duration) error {
	if interval <= 0 {
		interval = DefaultClockInterval
	}
	var lastErr error
	got := 0
	for i := 0; i < initial; i++ {
		if i > 0 && !sleepCtx(ctx, clockInitialSpacing) {
			return ctx.Err()
		}
		if _, err := c.Measure(ctx, probe); err != nil {
			lastErr = err
			continue
		}
		got++
	}
	if initial > 0 && got == 0 && lastErr != nil {
		return fmt.Errorf("server clock: %w", lastErr)
	}
	for sleepCtx(ctx, interval) {
		c.Measure(ctx, probe)
	}
	return ctx.Err()
}

// ServerTimeProbe returns a Probe that calls get_room_sync_state for roomID and reads its
// server_time (epoch milliseconds).
func (c *Client) ServerTimeProbe(roomID string) Probe {
	return func(ctx context.Context) (time.Time, error) {
		var out struct {
			ServerTime *int64 `json:"server_time"`
		}
		if err := c.RPC(ctx, "get_room_sync_state", map[string]any{"p_room_id": roomID}, &out); err != nil {
			return time.Time{}, err
		}
		if out.ServerTime == nil {
			return time.Time{}, fmt.Errorf("get_room_sync_state: %w: no server_time", ErrServer)
		}
		return time.UnixMilli(*out.ServerTime), nil
	}
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
