package server

import (
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Prometheus metrics (docs/design.md §10.1, docs/deploy-server.md). They are served only on
// `serve --metrics-listen` (MetricsHandler), never on the API's listener: they reveal when and
// how much the server is used. Everything on the hot path is an atomic add or a histogram
// observation; the gauges are computed when scraped.

// Event kinds fanned out to members.
const (
	kindChange    = iota // postgres_changes: a committed row change
	kindBroadcast        // a client's broadcast
	kindPresence         // a presence diff
	numKinds
)

var kindNames = [numKinds]string{"postgres_changes", "broadcast", "presence"}

// fanoutBuckets bound the fan-out latency histogram: 50 µs to 1 s, doubling (a change is
// normally queued on every member's connection within a millisecond; the upper buckets show
// a dispatcher held up by a slow write or a busy machine).
var fanoutBuckets = prometheus.ExponentialBucketsRange(50e-6, 1.6384, 16)

type metrics struct {
	reg      *prometheus.Registry
	events   [numKinds]prometheus.Counter
	frames   [numKinds]prometheus.Counter
	fanout   prometheus.Histogram
	rejected *prometheus.CounterVec
}

func newMetrics(s *Server) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	events := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "watchparty_realtime_events_total",
		Help: "Events fanned out to channels: committed row changes (postgres_changes), broadcasts and presence diffs."}, []string{"kind"})
	frames := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "watchparty_realtime_frames_total",
		Help: "Frames queued on members' connections, by event kind (an event reaches every subscribed member)."}, []string{"kind"})
	for k := range numKinds {
		m.events[k] = events.WithLabelValues(kindNames[k])
		m.frames[k] = frames.WithLabelValues(kindNames[k])
	}
	m.fanout = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "watchparty_fanout_latency_seconds",
		Help:    "From a write's commit to its row change queued on each member's connection.",
		Buckets: fanoutBuckets})
	m.rejected = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "watchparty_rejections_total",
		Help: "Requests, frames and connections refused by a limit of docs/security.md, by limit."}, []string{"limit"})
	h := s.hub
	m.reg.MustRegister(events, frames, m.fanout, m.rejected,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "watchparty_realtime_connections",
			Help: "Open Realtime WebSocket connections."}, func() float64 {
			h.mu.RLock()
			defer h.mu.RUnlock()
			return float64(len(h.conns))
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "watchparty_realtime_channels",
			Help: "Channels joined, over all connections."}, func() float64 {
			h.mu.RLock()
			defer h.mu.RUnlock()
			n := 0
			for _, t := range h.topics {
				n += len(t.subs)
			}
			return float64(n)
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "watchparty_realtime_topics",
			Help: "Topics with at least one channel or presence (about one per active room)."}, func() float64 {
			h.mu.RLock()
			defer h.mu.RUnlock()
			return float64(len(h.topics))
		}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "watchparty_store_commits_total",
			Help: "Write transactions committed to SQLite (concurrent liveness writes share one)."}, func() float64 {
			return float64(s.store.Commits())
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "watchparty_store_wal_bytes",
			Help: "Size of SQLite's write-ahead log."}, func() float64 {
			return float64(s.store.WALSize())
		}),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// fannedOut counts one event of kind queued on frames members' connections.
func (m *metrics) fannedOut(kind, frames int) {
	m.events[kind].Inc()
	m.frames[kind].Add(float64(frames))
}

// queuedAfter observes one member's fan-out latency of a row change.
func (m *metrics) queuedAfter(d time.Duration) { m.fanout.Observe(max(d, 0).Seconds()) }

// reject counts one refusal by limit.
func (m *metrics) reject(limit string) { m.rejected.WithLabelValues(limit).Inc() }

// rejectKey counts a refusal by a rateLimits key: its prefix ("create:…" → "create"). Presence
// is counted where the channel is closed (conn.presence), for both of its limits.
func (m *metrics) rejectKey(key string) {
	limit, _, _ := strings.Cut(key, ":")
	if limit != "presence" {
		m.reject(limit)
	}
}

// MetricsHandler serves the metrics in Prometheus's text format. `serve --metrics-listen`
// serves it on its own address.
func (s *Server) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{ErrorLog: nil, MaxRequestsInFlight: 2, Timeout: 10 * time.Second})
}
