package party

import (
	"testing"
	"time"
)

// sample builds an exchange with a client clock that is skew behind the
// server, an outbound delay up and a return delay down; the server answers
// at server time at.
func sample(at time.Time, skew, up, down time.Duration) (sent, received, server time.Time) {
	return at.Add(-skew - up), at.Add(-skew + down), at
}

func TestClockOffset(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name    string
		skew    time.Duration
		samples [][2]time.Duration // up, down per sample
		offset  time.Duration
		rtt     time.Duration
	}{
		{"server ahead 5 s", 5 * time.Second, [][2]time.Duration{{20 * ms, 20 * ms}}, 5 * time.Second, 40 * ms},
		{"server behind 5 s", -5 * time.Second, [][2]time.Duration{{20 * ms, 20 * ms}}, -5 * time.Second, 40 * ms},
		{"same clock", 0, [][2]time.Duration{{1 * ms, 1 * ms}}, 0, 2 * ms},
		// Asymmetric delay biases by half the asymmetry: (up−down)/2.
		{"asymmetric", 5 * time.Second, [][2]time.Duration{{30 * ms, 10 * ms}}, 5*time.Second + 10*ms, 40 * ms},
		{"lowest rtt wins", -5 * time.Second,
			[][2]time.Duration{{200 * ms, 20 * ms}, {5 * ms, 5 * ms}, {100 * ms, 300 * ms}}, -5 * time.Second, 10 * ms},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c ClockOffset
			if c.HasSample() || c.Offset() != 0 || c.RTT() != 0 {
				t.Fatal("zero value has a sample")
			}
			for i, d := range tt.samples {
				if err := c.AddSample(sample(t0.Add(time.Duration(i)*time.Second), tt.skew, d[0], d[1])); err != nil {
					t.Fatal(err)
				}
			}
			if !c.HasSample() || c.Offset() != tt.offset || c.RTT() != tt.rtt {
				t.Fatalf("offset %v rtt %v, want %v %v", c.Offset(), c.RTT(), tt.offset, tt.rtt)
			}
			local := t0.Add(time.Minute - tt.skew)
			if got := c.ServerNow(local); !got.Equal(t0.Add(time.Minute).Add(tt.offset - tt.skew)) {
				t.Fatalf("ServerNow = %v", got)
			}
		})
	}
}

func TestClockOffsetKeepsLastEight(t *testing.T) {
	ms := time.Millisecond
	var c ClockOffset
	// A great sample first, then 8 mediocre ones that push it out.
	if err := c.AddSample(sample(t0, 0, 1*ms, 1*ms)); err != nil {
		t.Fatal(err)
	}
	if c.RTT() != 2*ms {
		t.Fatalf("rtt %v", c.RTT())
	}
	for i := 1; i <= ClockSamples; i++ {
		// Each later sample sees the server 1 s further ahead, with rising
		// rtt except the 4th, which is the best of the eight.
		rtt := time.Duration(50+i) * ms
		if i == 4 {
			rtt = 30 * ms
		}
		if err := c.AddSample(sample(t0.Add(time.Duration(i)*time.Minute), time.Duration(i)*time.Second, rtt/2, rtt/2)); err != nil {
			t.Fatal(err)
		}
		if i < ClockSamples && c.RTT() != 2*ms {
			t.Fatalf("after %d samples the best one was dropped: rtt %v", i, c.RTT())
		}
	}
	if c.RTT() != 30*ms || c.Offset() != 4*time.Second {
		t.Fatalf("after 9 samples: rtt %v offset %v, want 30ms 4s", c.RTT(), c.Offset())
	}
}

func TestClockOffsetTieTakesNewest(t *testing.T) {
	ms := time.Millisecond
	var c ClockOffset
	_ = c.AddSample(sample(t0, time.Second, 10*ms, 10*ms))
	_ = c.AddSample(sample(t0.Add(time.Minute), 2*time.Second, 10*ms, 10*ms))
	if c.Offset() != 2*time.Second {
		t.Fatalf("offset %v, want the newer 2s", c.Offset())
	}
}

func TestClockOffsetRejects(t *testing.T) {
	var c ClockOffset
	if err := c.AddSample(t0, t0.Add(-time.Millisecond), t0); err == nil {
		t.Fatal("negative rtt accepted")
	}
	if err := c.AddSample(t0, t0.Add(time.Millisecond), time.Time{}); err == nil {
		t.Fatal("zero server time accepted")
	}
	if c.HasSample() {
		t.Fatal("a refused sample was kept")
	}
}

// Monotonic readings (time.Now) must not confuse the wall-clock offset.
func TestClockOffsetWithMonotonicReadings(t *testing.T) {
	var c ClockOffset
	sent := time.Now()
	received := sent.Add(40 * time.Millisecond)
	server := sent.Round(0).Add(5*time.Second + 20*time.Millisecond)
	if err := c.AddSample(sent, received, server); err != nil {
		t.Fatal(err)
	}
	if c.Offset() != 5*time.Second {
		t.Fatalf("offset %v", c.Offset())
	}
	now := received.Add(time.Second)
	if got, want := c.ServerNow(now), now.Round(0).Add(5*time.Second); !got.Equal(want) || got != got.Round(0) {
		t.Fatalf("ServerNow %v, want %v without monotonic reading", got, want)
	}
}
