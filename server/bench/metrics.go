package bench

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"sort"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// The server's own figures (Config.Metrics): its /metrics is scraped when the measured phase
// starts and when the load ends, and the differences are printed next to the bench's figures
// (PrintServer). The server counts what it queued; the bench, what its clients decoded.

// ServerFigures are the server's metrics over the measured phase.
type ServerFigures struct {
	Connections, Channels float64 // gauges at the end of the load
	ChangesPerSec         float64 // row changes fanned out / s
	FramesPerSec          float64 // postgres_changes frames queued on members' connections / s
	BroadcastFramesPerSec float64
	PresenceFramesPerSec  float64
	CommitsPerSec         float64 // SQLite write transactions / s
	Rejections            float64 // refusals by any limit during the phase
	WALBytes              float64 // at the end
	FanoutN               float64 // fan-out latency observations
	FanoutP50, FanoutP90  time.Duration
	FanoutP99             time.Duration // estimated from the histogram's buckets
}

// scraper reads the server's metrics.
type scraper func(ctx context.Context) (map[string]*dto.MetricFamily, error)

// urlScraper scrapes a metrics URL.
func urlScraper(url string) scraper {
	return func(ctx context.Context) (map[string]*dto.MetricFamily, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return nil, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, fmt.Errorf("scrape %s: %w", url, err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("scrape %s: %s", url, resp.Status)
		}
		return parseMetrics(resp.Body)
	}
}

// handlerScraper scrapes an in-process server's metrics handler.
func handlerScraper(h http.Handler) scraper {
	return func(context.Context) (map[string]*dto.MetricFamily, error) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		return parseMetrics(rec.Body)
	}
}

func parseMetrics(r io.Reader) (map[string]*dto.MetricFamily, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	return p.TextToMetricFamilies(r)
}

// metricSum is the sum of a family's values whose label (name=value; "" for all) matches.
func metricSum(fams map[string]*dto.MetricFamily, name, label string) float64 {
	f := fams[name]
	if f == nil {
		return 0
	}
	sum := 0.0
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
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		}
	}
	return sum
}

// histogramDelta is the cumulative bucket counts (by upper bound) of a histogram at b minus
// at a, and the count.
func histogramDelta(a, b map[string]*dto.MetricFamily, name string) (bounds, counts []float64, n float64) {
	get := func(fams map[string]*dto.MetricFamily) *dto.Histogram {
		if f := fams[name]; f != nil && len(f.Metric) > 0 {
			return f.Metric[0].Histogram
		}
		return nil
	}
	ha, hb := get(a), get(b)
	if hb == nil {
		return nil, nil, 0
	}
	before := map[float64]float64{}
	if ha != nil {
		for _, bk := range ha.Bucket {
			before[bk.GetUpperBound()] = float64(bk.GetCumulativeCount())
		}
		n = -float64(ha.GetSampleCount())
	}
	for _, bk := range hb.Bucket {
		bounds = append(bounds, bk.GetUpperBound())
		counts = append(counts, float64(bk.GetCumulativeCount())-before[bk.GetUpperBound()])
	}
	return bounds, counts, n + float64(hb.GetSampleCount())
}

// bucketQuantile estimates quantile q as Prometheus's histogram_quantile does: linear within
// the bucket it falls in (the lowest bucket from 0; past the last bound, that bound).
func bucketQuantile(q float64, bounds, counts []float64, n float64) time.Duration {
	if n <= 0 || len(bounds) == 0 {
		return 0
	}
	rank := q * n
	i := sort.Search(len(counts), func(i int) bool { return counts[i] >= rank })
	if i == len(counts) {
		return time.Duration(bounds[len(bounds)-1] * float64(time.Second))
	}
	lo, below := 0.0, 0.0
	if i > 0 {
		lo, below = bounds[i-1], counts[i-1]
	}
	in := counts[i] - below
	v := bounds[i]
	if in > 0 && !math.IsInf(v, 1) {
		v = lo + (bounds[i]-lo)*(rank-below)/in
	}
	return time.Duration(v * float64(time.Second))
}

// serverFigures is what the server counted between the scrapes a and b, d apart.
func serverFigures(a, b map[string]*dto.MetricFamily, d time.Duration) *ServerFigures {
	rate := func(name, label string) float64 {
		return (metricSum(b, name, label) - metricSum(a, name, label)) / d.Seconds()
	}
	f := &ServerFigures{
		Connections:           metricSum(b, "watchparty_realtime_connections", ""),
		Channels:              metricSum(b, "watchparty_realtime_channels", ""),
		ChangesPerSec:         rate("watchparty_realtime_events_total", "kind=postgres_changes"),
		FramesPerSec:          rate("watchparty_realtime_frames_total", "kind=postgres_changes"),
		BroadcastFramesPerSec: rate("watchparty_realtime_frames_total", "kind=broadcast"),
		PresenceFramesPerSec:  rate("watchparty_realtime_frames_total", "kind=presence"),
		CommitsPerSec:         rate("watchparty_store_commits_total", ""),
		Rejections:            metricSum(b, "watchparty_rejections_total", "") - metricSum(a, "watchparty_rejections_total", ""),
		WALBytes:              metricSum(b, "watchparty_store_wal_bytes", ""),
	}
	bounds, counts, n := histogramDelta(a, b, "watchparty_fanout_latency_seconds")
	f.FanoutN = n
	f.FanoutP50 = bucketQuantile(0.50, bounds, counts, n)
	f.FanoutP90 = bucketQuantile(0.90, bounds, counts, n)
	f.FanoutP99 = bucketQuantile(0.99, bounds, counts, n)
	return f
}

// PrintServer writes the server's figures next to the bench's own (nothing without
// Config.Metrics).
func (r Result) PrintServer(w io.Writer) {
	s := r.Server
	if s == nil {
		return
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }
	rows := [][3]string{
		{"", "server /metrics", "bench"},
		{"connections at the end", fmt.Sprintf("%.0f", s.Connections), fmt.Sprintf("%d held", r.Connected)},
		{"channels joined at the end", fmt.Sprintf("%.0f", s.Channels), fmt.Sprintf("%d clients, one each", r.Clients)},
		{"postgres_changes frames / s (measured)", fmt.Sprintf("%.0f queued", s.FramesPerSec), fmt.Sprintf("%.0f delivered", r.EventsPerSec)},
		{"row changes fanned out / s", fmt.Sprintf("%.0f", s.ChangesPerSec), "—"},
		{"presence / broadcast frames / s", fmt.Sprintf("%.0f / %.0f", s.PresenceFramesPerSec, s.BroadcastFramesPerSec), "—"},
		{"SQLite commits / s", fmt.Sprintf("%.0f", s.CommitsPerSec), "—"},
		{"fan-out latency p50 / p90 / p99", fmt.Sprintf("%s / %s / %s (commit → queued, %.0f, from buckets)", ms(s.FanoutP50), ms(s.FanoutP90), ms(s.FanoutP99), s.FanoutN),
			fmt.Sprintf("%s / – / %s (commit → decoded, ms resolution); write → decoded %s / %s / %s", ms(r.CommitLatency.P50), ms(r.CommitLatency.P99), ms(r.Latency.P50), ms(r.Latency.P90), ms(r.Latency.P99))},
		{"refused by a limit", fmt.Sprintf("%.0f", s.Rejections), "—"},
		{"WAL at the end", fmt.Sprintf("%.1f MiB", s.WALBytes/(1<<20)), "—"},
	}
	w0, w1 := 0, 0
	for _, row := range rows {
		w0, w1 = max(w0, len(row[0])), max(w1, len(row[1]))
	}
	for _, row := range rows {
		fmt.Fprintf(w, "%-*s  %-*s  %s\n", w0, row[0], w1, row[1], row[2])
	}
}

// metricsScrapes takes the two scrapes of Config.Metrics: start at the start of the measured
// phase, end when the load ends.
type metricsScrapes struct {
	scrape scraper
	first  map[string]*dto.MetricFamily
	at     time.Time
	err    error
}

func (m *metricsScrapes) start(ctx context.Context) {
	if m == nil || m.scrape == nil {
		return
	}
	m.first, m.err = m.scrape(ctx)
	m.at = time.Now()
}

// end scrapes again and fills res.Server.
func (m *metricsScrapes) end(ctx context.Context, res *Result) error {
	if m == nil || m.scrape == nil {
		return nil
	}
	if m.err != nil {
		return m.err
	}
	d := time.Since(m.at)
	last, err := m.scrape(ctx)
	if err != nil {
		return err
	}
	res.Server = serverFigures(m.first, last, d)
	return nil
}
