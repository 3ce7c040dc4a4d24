package server_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/watchparty/watchparty/realtime/phx"
	"github.com/watchparty/watchparty/server"
	"github.com/watchparty/watchparty/server/servertest"
)

// scrape reads srv's metrics as Prometheus would.
func scrape(t *testing.T, srv *server.Server) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	srv.MetricsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d", rec.Code)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// value is the metric's value for the label (name=value, or "" for an unlabelled metric).
func value(t *testing.T, fams map[string]*dto.MetricFamily, name, label string) float64 {
	t.Helper()
	f := fams[name]
	if f == nil {
		t.Fatalf("no metric %s", name)
	}
	for _, m := range f.Metric {
		match := label == ""
		for _, l := range m.Label {
			if l.GetName()+"="+l.GetValue() == label {
				match = true
			}
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return 0
}

// TestMetricsAfterTraffic: after a host and a member joined a room's channel, a control, a
// broadcast and a presence went round and a limit refused a comment, /metrics shows the connections, channels,
// events, frames, fan-out latencies, commits, the WAL and the refusal.
func TestMetricsAfterTraffic(t *testing.T) {
	s := servertest.Start(t, server.Config{})
	api := s.API().For(t)
	host, member := api.SignUp(), api.SignUp()
	roomID := api.CreateRoom(host.AccessToken, "host")
	api.JoinRoom(member.AccessToken, roomID, "member")

	before := scrape(t, s.Srv)
	hc := servertest.DialT(t, s.WSURL("2.0.0"), servertest.DialOptions{})
	mc := servertest.DialT(t, s.WSURL("2.0.0"), servertest.DialOptions{})
	joinRoom(t, hc, roomID, host)
	jr := joinRoom(t, mc, roomID, member)

	r := api.Invoke(host.AccessToken, "sync/control", map[string]any{"room_id": roomID, "action": "pause", "current_time": 12})
	if r.Status != http.StatusOK {
		t.Fatalf("control: %d %s", r.Status, r.Body)
	}
	topic := servertest.RoomTopic(roomID)
	await(t, mc, "the control's row change", servertest.IsEvent(topic, phx.EventPostgresChanges))
	if _, err := mc.Push(servertest.Ctx(t, wait), jr, topic, phx.EventBroadcast, map[string]any{"type": "broadcast", "event": "hello", "payload": map[string]any{}}); err != nil {
		t.Fatal(err)
	}
	await(t, hc, "the broadcast", servertest.IsEvent(topic, phx.EventBroadcast))
	if _, err := mc.Push(servertest.Ctx(t, wait), jr, topic, phx.EventPresence, map[string]any{"type": "presence", "event": "track", "payload": map[string]any{"name": "member"}}); err != nil {
		t.Fatal(err)
	}
	await(t, hc, "the presence diff", servertest.IsEvent(topic, phx.EventPresenceDiff))
	for i := 0; i < 6; i++ { // 5 per 10 s: the 6th is refused
		api.Invoke(member.AccessToken, "comments/create", map[string]any{"room_id": roomID, "message": "hi"})
	}

	after := scrape(t, s.Srv)
	for _, c := range []struct {
		name, label string
		atLeast     float64
	}{
		{"watchparty_realtime_connections", "", 2},
		{"watchparty_realtime_channels", "", 2},
		{"watchparty_realtime_topics", "", 1},
		{"watchparty_realtime_events_total", "kind=postgres_changes", 1},
		{"watchparty_realtime_frames_total", "kind=postgres_changes", 2},
		{"watchparty_realtime_events_total", "kind=broadcast", 1},
		{"watchparty_realtime_events_total", "kind=presence", 1},
		{"watchparty_fanout_latency_seconds", "", 2},
		{"watchparty_rejections_total", "limit=comment", 1},
		{"process_resident_memory_bytes", "", 1},
	} {
		if got := value(t, after, c.name, c.label); got < c.atLeast {
			t.Errorf("%s{%s} = %v, want at least %v", c.name, c.label, got, c.atLeast)
		}
	}
	if b, a := value(t, before, "watchparty_store_commits_total", ""), value(t, after, "watchparty_store_commits_total", ""); a <= b {
		t.Errorf("commits %v → %v: the control and comments were not counted", b, a)
	}
	if after["watchparty_store_wal_bytes"] == nil {
		t.Error("no watchparty_store_wal_bytes")
	}
	if got := value(t, after, "watchparty_rejections_total", "limit=comment"); got != 1 {
		t.Errorf("comment rejections = %v, want 1", got)
	}
}
