package bench

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// bucketQuantile interpolates within a bucket as Prometheus's histogram_quantile does.
func TestBucketQuantile(t *testing.T) {
	bounds := []float64{0.001, 0.002, 0.004}
	counts := []float64{10, 30, 40} // cumulative
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{
		{0.25, 1000 * time.Microsecond}, // rank 10: the top of the first bucket
		{0.5, 1500 * time.Microsecond},  // rank 20: half-way through the second
		{1, 4 * time.Millisecond},
	} {
		if got := bucketQuantile(c.q, bounds, counts, 40); got != c.want {
			t.Errorf("q %v: %v, want %v", c.q, got, c.want)
		}
	}
	if got := bucketQuantile(0.5, nil, nil, 0); got != 0 {
		t.Errorf("empty: %v", got)
	}
}

// TestRunScrapesMetrics: a short run against an in-process server with Metrics: the server's
// figures are there, and its connections and channels are the bench's clients.
func TestRunScrapesMetrics(t *testing.T) {
	res, err := Run(t.Context(), Config{Clients: 20, RoomSize: 5, Duration: 2 * time.Second, Warmup: 500 * time.Millisecond,
		TrackEvery: 500 * time.Millisecond, ControlEvery: time.Second, Metrics: true})
	if err != nil {
		t.Fatal(err)
	}
	s := res.Server
	if s == nil {
		t.Fatal("no server figures")
	}
	if int(s.Connections) != res.Connected || int(s.Channels) != res.Clients {
		t.Errorf("server: %v connections, %v channels; bench: %d held, %d clients", s.Connections, s.Channels, res.Connected, res.Clients)
	}
	if s.FramesPerSec <= 0 || s.FanoutN <= 0 || s.CommitsPerSec <= 0 {
		t.Errorf("no traffic counted: %+v", s)
	}
	var out bytes.Buffer
	res.PrintServer(&out)
	if !strings.Contains(out.String(), "fan-out latency p50 / p90 / p99") {
		t.Errorf("PrintServer:\n%s", out.String())
	}
	t.Logf("\n%s", out.String())
}
