package party

import (
	"errors"
	"time"
)

// ClockSamples is how many recent samples ClockOffset keeps; the one with the
// lowest round trip among them gives the offset (Jellyfin's TimeSync keeps 8
// the same way).
const ClockSamples = 8

// ClockOffset estimates the server clock from the local one with Cristian's
// method: a request sent at local time sent, answered with the server's time
// serverTime, and received at local time received, puts the server clock at
// serverTime + RTT/2 at the moment received. The sample with the lowest
// round trip is the one least distorted by queueing, so of the last
// ClockSamples samples that one is used.
//
// The zero value is ready to use and has no samples (offset 0). Not safe for
// concurrent use.
type ClockOffset struct {
	samples [ClockSamples]clockSample
	n       int // samples held, ≤ ClockSamples
	next    int // ring position of the next sample
}

type clockSample struct {
	offset time.Duration // server − local
	rtt    time.Duration
}

// AddSample records one exchange: sent and received are local instants
// (ideally from time.Now, whose monotonic reading makes the round trip
// immune to wall-clock steps), serverTime is the server's clock reading in
// the reply. A reply received before it was sent is refused with an error.
func (c *ClockOffset) AddSample(sent, received, serverTime time.Time) error {
	rtt := received.Sub(sent)
	if rtt < 0 {
		return errors.New("clock sample: received before sent")
	}
	if serverTime.IsZero() {
		return errors.New("clock sample: no server time")
	}
	// The server read its clock, on average, halfway through the round
	// trip. Compare wall readings only: serverTime has no monotonic part.
	mid := sent.Round(0).Add(rtt / 2)
	c.samples[c.next] = clockSample{offset: serverTime.Sub(mid), rtt: rtt}
	c.next = (c.next + 1) % ClockSamples
	if c.n < ClockSamples {
		c.n++
	}
	return nil
}

// best is the held sample with the lowest round trip; on a tie the newer
// one, since the clocks may have drifted since the older one.
func (c *ClockOffset) best() clockSample {
	var b clockSample
	found := false
	for i := 1; i <= c.n; i++ { // newest first
		s := c.samples[(c.next-i+ClockSamples)%ClockSamples]
		if !found || s.rtt < b.rtt {
			b, found = s, true
		}
	}
	return b
}

// HasSample reports whether any sample has been recorded.
func (c *ClockOffset) HasSample() bool { return c.n > 0 }

// Offset is server time minus local time from the best sample, 0 without
// samples.
func (c *ClockOffset) Offset() time.Duration { return c.best().offset }

// RTT is the round trip of the best sample, 0 without samples. Half of it
// bounds the error of Offset.
func (c *ClockOffset) RTT() time.Duration { return c.best().rtt }

// ServerNow converts a local instant to the server's clock. The result has
// no monotonic reading: it is compared with server timestamps such as
// RoomState.UpdatedAt.
func (c *ClockOffset) ServerNow(local time.Time) time.Time {
	return local.Round(0).Add(c.Offset())
}
