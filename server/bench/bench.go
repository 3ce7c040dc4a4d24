// Package bench measures the embedded server under a watch-party load on loopback: N simulated
// clients in rooms of 10, each signed in anonymously, subscribed to its room's channel the way the
// browser client does (docs/design.md §1: three postgres_changes bindings and presence), calling
// track_user_presence every 3 s, with the host sending a playback control now and then.
//
// What is measured:
//   - delivery latency: from the moment a client sends the RPC (or control) that writes a row
//     to the moment each room member's socket has read and decoded the resulting
//     postgres_changes frame (so it includes HTTP, the SQLite commit, the fan-out and the
//     WebSocket write and read); and, for comparison, from the row's commit_timestamp;
//   - events delivered per second: postgres_changes frames read by all clients;
//   - lost events: for every acknowledged write, room members that never got its change;
//   - connections held at the end;
//   - the server's resident memory per connection, when the server runs as a child process.
//
// The clients run in this process on the same 2 cores as the server, so the figures include
// the cost of simulating 5,000 clients.
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/watchparty/watchparty/realtime/phx"
	"github.com/watchparty/watchparty/server"
	"github.com/watchparty/watchparty/server/rawclient"
)

// Config is a benchmark run.
type Config struct {
	Clients      int           // simulated clients (default 1000)
	RoomSize     int           // clients per room, the first is host (default 10)
	Duration     time.Duration // measured load phase (default 30 s)
	Warmup       time.Duration // load before the measurement starts (default 5 s)
	TrackEvery   time.Duration // track_user_presence period per client (default 3 s, the browser client's)
	ControlEvery time.Duration // mean period of a host's controls (default 10 s)

	// Where the server comes from: ServerURL connects to a running server; else ServerBinary
	// is started as `serve` in a child process (its RSS is then the server's alone); else the
	// server runs in this process.
	ServerURL    string
	ServerBinary string
	// ServerEnv is added to the child server's environment (e.g. GOGC=50).
	ServerEnv []string

	// HeapProfile, when set, is where a heap profile of this process is written at the end of
	// the load phase, while every client is still connected (with the server in process, it
	// shows the server's memory per connection next to the clients').
	HeapProfile string

	// Metrics scrapes the server's /metrics when the measured phase starts and when the load
	// ends (Result.Server, PrintServer; metrics.go): the child server is started with
	// --metrics-listen, the in-process one is read directly, and with ServerURL MetricsURL is
	// scraped.
	Metrics    bool
	MetricsURL string

	// Log receives progress lines; nil discards them.
	Log io.Writer
}

func (c *Config) defaults() {
	if c.Clients <= 0 {
		c.Clients = 1000
	}
	if c.RoomSize <= 0 {
		c.RoomSize = 10
	}
	if c.Duration <= 0 {
		c.Duration = 30 * time.Second
	}
	if c.Warmup < 0 {
		c.Warmup = 0
	}
	if c.TrackEvery <= 0 {
		c.TrackEvery = 3 * time.Second
	}
	if c.ControlEvery <= 0 {
		c.ControlEvery = 10 * time.Second
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
}

// Result holds the figures of a run.
type Result struct {
	Clients, Rooms, RoomSize int
	Mode                     string // "child process", "in process" or the server URL
	Setup, Warmup, Duration  time.Duration

	Connected int // sockets still open at the end, with their channel joined

	Writes, WriteErrors     int64 // track_user_presence RPCs acknowledged / failed
	Controls, ControlErrors int64 // host controls acknowledged / failed
	Published               int64 // acknowledged beats the server published as a row change
	Expected, Delivered     int64 // change deliveries owed by acknowledged writes / received
	Lost, Duplicates        int64
	Events                  int64   // postgres_changes frames received during the load phase
	EventsPerSec            float64 // Events / Duration

	Latency       Percentiles   // write sent → change decoded by a member
	Windows       []Percentiles // Latency by when the write was sent, per windowSize of the load
	CommitLatency Percentiles   // commit_timestamp → change decoded (ms resolution)

	ServerRSSIdle     int64 // server RSS before any client connected (child process only)
	ServerRSSSignedUp int64 // … after the HTTP set-up (users, rooms), before any socket
	ServerRSSJoined   int64 // … with every client's socket connected and joined, before the load
	ServerRSSLoaded   int64 // … at the end of the load phase
	ClientRSS         int64 // this process's RSS at the end of the load

	// LoadAvg is the machine's 1-minute load average when the load began and ended (Linux): the
	// clients share the machine with the server and with anything else running.
	LoadAvg [2]string

	ServerCPU time.Duration // CPU time the server used during the load phase (child process only)
	ClientCPU time.Duration // … this process (with an in-process server: both)
	Cores     int           // CPUs of the machine (runtime.NumCPU)

	// MaxRowAge is the oldest a live member's row held by another member got before the next
	// one arrived, over the measured phase; StaleRows counts the times it reached StaleAfter
	// (a screen would have shown a live member as stale).
	MaxRowAge time.Duration
	StaleRows int64

	// Server is the server's own figures over the measured phase (Config.Metrics).
	Server *ServerFigures
}

// RSSPerConn is the server's added resident memory per client under load (users, rooms, HTTP
// and WebSocket connections, and the garbage the load makes): (loaded − idle) / connections.
// 0 when unknown.
func (r Result) RSSPerConn() float64 {
	if r.ServerRSSLoaded == 0 || r.Connected == 0 {
		return 0
	}
	return float64(r.ServerRSSLoaded-r.ServerRSSIdle) / float64(r.Connected)
}

// RSSPerSocket is the server's added resident memory per joined WebSocket before the load:
// (joined − signed up) / clients. 0 when unknown.
func (r Result) RSSPerSocket() float64 {
	if r.ServerRSSJoined == 0 || r.ServerRSSSignedUp == 0 {
		return 0
	}
	return float64(r.ServerRSSJoined-r.ServerRSSSignedUp) / float64(r.Clients)
}

// windowSize is the width of Result.Windows.
const windowSize = 5 * time.Second

// Percentiles summarise a latency sample.
type Percentiles struct {
	N                  int
	P50, P90, P99, Max time.Duration
}

func percentiles(d []time.Duration) Percentiles {
	if len(d) == 0 {
		return Percentiles{}
	}
	slices.Sort(d)
	at := func(q float64) time.Duration { return d[min(len(d)-1, int(q*float64(len(d))))] }
	return Percentiles{N: len(d), P50: at(0.50), P90: at(0.90), P99: at(0.99), Max: d[len(d)-1]}
}

// Print writes the result as a table.
func (r Result) Print(w io.Writer) {
	mb := func(b int64) string {
		if b == 0 {
			return "n/a"
		}
		return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }
	rows := [][2]string{
		{"server", r.Mode},
		{"clients / rooms", fmt.Sprintf("%d in %d rooms of %d", r.Clients, r.Rooms, r.RoomSize)},
		{"machine load average at start / end of the load", r.LoadAvg[0] + " / " + r.LoadAvg[1]},
		{"setup (sign-up, rooms, sockets)", r.Setup.Round(time.Millisecond).String()},
		{"load phase (measured)", fmt.Sprintf("%v, after a %v warm-up", r.Duration.Round(time.Millisecond), r.Warmup)},
		{"connections held at the end", fmt.Sprintf("%d / %d", r.Connected, r.Clients)},
		{"track_user_presence acked (failed), whole run", fmt.Sprintf("%d (%d)", r.Writes, r.WriteErrors)},
		{"  of which published as a row change", fmt.Sprintf("%d (%.1f %%)", r.Published, pct(r.Published, r.Writes))},
		{"host controls acked (failed), whole run", fmt.Sprintf("%d (%d)", r.Controls, r.ControlErrors)},
		{"events delivered / s (measured)", fmt.Sprintf("%.0f", r.EventsPerSec)},
		{"deliveries expected / received, whole run", fmt.Sprintf("%d / %d", r.Expected, r.Delivered)},
		{"lost events (duplicates)", fmt.Sprintf("%d (%d)", r.Lost, r.Duplicates)},
		{"oldest row of a live member held (times ≥ 15 s)", fmt.Sprintf("%s (%d)", ms(r.MaxRowAge), r.StaleRows)},
		{"latency write→member p50 / p90 / p99 / max (measured)", fmt.Sprintf("%s / %s / %s / %s", ms(r.Latency.P50), ms(r.Latency.P90), ms(r.Latency.P99), ms(r.Latency.Max))},
		{"latency commit→member p50 / p99 (measured)", fmt.Sprintf("%s / %s", ms(r.CommitLatency.P50), ms(r.CommitLatency.P99))},
		{"server RSS idle / signed up / joined / loaded", fmt.Sprintf("%s / %s / %s / %s", mb(r.ServerRSSIdle), mb(r.ServerRSSSignedUp), mb(r.ServerRSSJoined), mb(r.ServerRSSLoaded))},
		{"server RSS per client, loaded", perConn(r)},
		{"server RSS per socket, joined", perSocket(r)},
		{"client process RSS", mb(r.ClientRSS)},
		{"CPU while measured: server / clients", fmt.Sprintf("%s / %s (cores: %.2f / %.2f)", r.ServerCPU.Round(10*time.Millisecond), r.ClientCPU.Round(10*time.Millisecond),
			r.ServerCPU.Seconds()/r.Duration.Seconds(), r.ClientCPU.Seconds()/r.Duration.Seconds())},
		{"share of the machine's CPU: server / load generator", fmt.Sprintf("%.0f %% / %.0f %% of %d cores", 100*r.ServerCPU.Seconds()/r.Duration.Seconds()/float64(max(1, r.Cores)),
			100*r.ClientCPU.Seconds()/r.Duration.Seconds()/float64(max(1, r.Cores)), r.Cores)},
	}
	for i, p := range r.Windows {
		rows = append(rows, [2]string{fmt.Sprintf("  writes sent %2d–%2d s (warm-up included): p50 / p99", i*int(windowSize.Seconds()), (i+1)*int(windowSize.Seconds())),
			fmt.Sprintf("%s / %s (%d)", ms(p.P50), ms(p.P99), p.N)})
	}
	width := 0
	for _, row := range rows {
		width = max(width, len(row[0]))
	}
	for _, row := range rows {
		fmt.Fprintf(w, "%-*s  %s\n", width, row[0], row[1])
	}
}

func pct(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}

func perSocket(r Result) string {
	if r.RSSPerSocket() == 0 {
		return "n/a (server not a child process)"
	}
	return fmt.Sprintf("%.1f KB (joined − signed up) / clients", r.RSSPerSocket()/1000)
}

func perConn(r Result) string {
	if r.RSSPerConn() == 0 {
		return "n/a (server not a child process)"
	}
	return fmt.Sprintf("%.1f KB (loaded − idle) / connections", r.RSSPerConn()/1000)
}

// Run runs the benchmark. It stops the server it started before returning.
func Run(ctx context.Context, cfg Config) (Result, error) {
	cfg.defaults()
	res := Result{Clients: cfg.Clients, RoomSize: cfg.RoomSize, Rooms: (cfg.Clients + cfg.RoomSize - 1) / cfg.RoomSize, Cores: runtime.NumCPU()}
	logf := func(format string, args ...any) {
		fmt.Fprintf(cfg.Log, "%s bench: %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, args...))
	}

	baseURL, anonKey, pid := cfg.ServerURL, "", 0
	var scrapes *metricsScrapes
	if cfg.Metrics {
		scrapes = &metricsScrapes{}
		if cfg.MetricsURL != "" {
			scrapes.scrape = urlScraper(cfg.MetricsURL)
		}
	}
	switch {
	case cfg.ServerURL != "":
		res.Mode = cfg.ServerURL
		key, err := fetchAnonKey(ctx, cfg.ServerURL)
		if err != nil {
			return res, err
		}
		anonKey = key
	case cfg.ServerBinary != "":
		dir, err := os.MkdirTemp("", "watchparty-bench-")
		if err != nil {
			return res, err
		}
		defer os.RemoveAll(dir)
		var args []string
		if cfg.Metrics {
			args = []string{"--metrics-listen", "127.0.0.1:0"}
		}
		p, err := rawclient.SpawnArgs(ctx, cfg.ServerBinary, dir, args, cfg.ServerEnv...)
		if err != nil {
			return res, err
		}
		if cfg.Metrics {
			scrapes.scrape = urlScraper(p.MetricsURL)
		}
		defer p.Stop(10 * time.Second)
		res.Mode = "child process (pid " + fmt.Sprint(p.PID()) + ")"
		if len(cfg.ServerEnv) > 0 {
			res.Mode += fmt.Sprint(" with ", cfg.ServerEnv)
		}
		baseURL, anonKey, pid = p.URL, p.AnonKey, p.PID()
		res.ServerRSSIdle, _ = rawclient.RSS(pid)
	default:
		dir, err := os.MkdirTemp("", "watchparty-bench-")
		if err != nil {
			return res, err
		}
		defer os.RemoveAll(dir)
		srv, err := server.Start(server.Config{DataDir: dir}, "127.0.0.1:0")
		if err != nil {
			return res, err
		}
		defer srv.Stop()
		res.Mode = "in process"
		baseURL, anonKey = srv.URL, srv.AnonKey()
		if cfg.Metrics {
			scrapes.scrape = handlerScraper(srv.MetricsHandler())
		}
	}
	logf("server %s at %s", res.Mode, baseURL)

	r := newRun(cfg, baseURL, anonKey)
	defer r.close()
	if pid != 0 {
		r.beforeSockets = func() { res.ServerRSSSignedUp, _ = rawclient.RSS(pid) }
	}
	start := time.Now()
	if err := r.setup(ctx, logf); err != nil {
		return res, err
	}
	res.Setup = time.Since(start)
	if pid != 0 {
		res.ServerRSSJoined, _ = rawclient.RSS(pid)
	}
	logf("setup done in %v; load for %v", res.Setup.Round(time.Millisecond), cfg.Duration)

	var cpu0, self0 time.Duration
	r.measuring = func() { // at the end of the warm-up
		cpu0, _ = rawclient.CPUTime(pid)
		self0, _ = rawclient.CPUTime(os.Getpid())
		scrapes.start(ctx)
	}
	res.LoadAvg[0] = loadAvg()
	r.load(ctx, cfg.Warmup, cfg.Duration)
	res.LoadAvg[1] = loadAvg()
	if err := scrapes.end(ctx, &res); err != nil {
		return res, fmt.Errorf("server metrics: %w", err)
	}
	res.Warmup, res.Duration = cfg.Warmup, cfg.Duration
	self1, _ := rawclient.CPUTime(os.Getpid())
	res.ClientCPU = self1 - self0
	if pid != 0 {
		res.ServerRSSLoaded, _ = rawclient.RSS(pid)
		cpu1, _ := rawclient.CPUTime(pid)
		res.ServerCPU = cpu1 - cpu0
	}
	res.ClientRSS, _ = rawclient.RSS(os.Getpid())
	if cfg.HeapProfile != "" {
		if err := writeHeapProfile(cfg.HeapProfile); err != nil {
			return res, err
		}
	}
	logf("load done; waiting for the last deliveries")
	r.drain(ctx, 10*time.Second)
	r.collect(&res)
	return res, nil
}

// loadAvg is the 1-minute load average from /proc/loadavg, or "n/a".
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "n/a"
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC() // up-to-date figures
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func fetchAnonKey(ctx context.Context, baseURL string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, baseURL+"/watchparty/v1/info", nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("server info: %w", err)
	}
	defer resp.Body.Close()
	var info struct {
		AnonKey string `json:"anon_key"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil || info.AnonKey == "" {
		return "", errors.New("server info: no anon key (is it a watchparty server?)")
	}
	return info.AnonKey, nil
}

// run is the state of one benchmark run.
type run struct {
	cfg     Config
	baseURL string
	anonKey string
	apis    []*rawclient.API // one per source address
	t0      time.Time

	clients []*client
	rooms   []*room

	beforeSockets func() // called when the HTTP set-up is done, before the sockets connect
	measuring     func() // called when the warm-up ends and the measurement begins
	warmup        time.Duration

	hbCtx  context.Context // heartbeats run until close
	hbStop context.CancelFunc
	hbWG   sync.WaitGroup

	counting                                 atomic.Bool  // the load phase is on: count events
	events                                   atomic.Int64 // postgres_changes frames during the load phase
	writes, writeErrs, controls, controlErrs atomic.Int64
}

// client is one simulated member.
type client struct {
	idx     int
	api     *rawclient.API
	sess    rawclient.Session
	room    *room
	host    bool
	rt      *rawclient.Client
	joinRef string
	joined  chan struct{} // closed when the channel join is acknowledged
	tracked chan struct{} // closed when the presence track is acknowledged
	ended   atomic.Bool   // the socket closed
	// clientID is sent with each beat, like the watchparty client's (one per process).
	clientID string
	// held is, per room member, the commit time of the latest row of theirs this client got
	// (under room.mu): a screen marks a member stale from that row's last_seen.
	held map[string]time.Time
}

// room holds a room's members and the writes whose changes they should all receive.
type room struct {
	id      string
	secret  string // invite secret: rooms/join needs it from newcomers
	members []*client

	mu         sync.Mutex
	writes     map[writeKey]*write
	samples    []sample
	deliveries int64
	maxAge     time.Duration // the oldest a member's held row got before the next arrived (measured phase)
	staleSeen  int64         // times a held row of a live member got StaleAfter old (measured phase)
}

// StaleAfter is when a screen marks a member whose row's last_seen is that old as stale.
const StaleAfter = 15 * time.Second

// sample is one delivery's latencies.
type sample struct {
	sent      time.Duration // when the write was sent, since the load began
	latency   time.Duration // write sent → change decoded
	commit    time.Duration // commit_timestamp → change decoded
	hasCommit bool
}

// writeKey identifies a write by its table, writer and the unique current_time it carried.
type writeKey struct {
	table string
	user  string
	stamp float64
}

type write struct {
	sent   time.Time
	acked  bool
	got    int
	always bool // owed to every member (a control); a beat is owed once the server published it
}

func newRun(cfg Config, baseURL, anonKey string) *run {
	r := &run{cfg: cfg, baseURL: baseURL, anonKey: anonKey}
	r.hbCtx, r.hbStop = context.WithCancel(context.Background())
	// Sign-ups are rate limited per client address (30 a minute), so on loopback the simulated
	// clients spread over many source addresses of 127.0.0.0/8, as many machines would.
	local := loopbackSources(baseURL, (cfg.Clients+19)/20)
	for _, ip := range local {
		d := &net.Dialer{Timeout: 10 * time.Second}
		if ip != nil {
			d.LocalAddr = &net.TCPAddr{IP: ip}
		}
		tr := &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 64, IdleConnTimeout: 90 * time.Second}
		r.apis = append(r.apis, rawclient.NewAPI(baseURL, anonKey, &http.Client{Transport: tr, Timeout: 30 * time.Second}))
	}
	return r
}

// loopbackSources returns n source addresses 127.0.1.x… when the server is on loopback, else
// one nil (the default route).
func loopbackSources(baseURL string, n int) []net.IP {
	u, err := url.Parse(baseURL)
	if err != nil {
		return []net.IP{nil}
	}
	ip := net.ParseIP(u.Hostname())
	if u.Hostname() == "localhost" {
		ip = net.IPv4(127, 0, 0, 1)
	}
	if ip == nil || ip.To4() == nil || !ip.IsLoopback() {
		return []net.IP{nil}
	}
	out := make([]net.IP, 0, n)
	for i := range n {
		out = append(out, net.IPv4(127, 0, byte(1+i/250), byte(1+i%250)))
	}
	return out
}

func (r *run) close() {
	r.hbStop()
	r.hbWG.Wait()
	var wg sync.WaitGroup
	for _, c := range r.clients {
		if c.rt != nil {
			wg.Add(1)
			go func() { defer wg.Done(); c.rt.Close() }()
		}
	}
	wg.Wait()
	for _, a := range r.apis {
		a.HTTP.CloseIdleConnections()
	}
}

// parallel runs fn(i) for i in [0, n) on workers goroutines and returns the first error.
func parallel(ctx context.Context, n, workers int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := fn(ctx, i); err != nil {
					cancel(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	return context.Cause(ctx)
}

func (r *run) setup(ctx context.Context, logf func(string, ...any)) error {
	n := r.cfg.Clients
	r.clients = make([]*client, n)
	err := parallel(ctx, n, 32, func(ctx context.Context, i int) error {
		api := r.apis[i%len(r.apis)]
		s, err := api.SignUp(ctx)
		if err != nil {
			return fmt.Errorf("sign up client %d: %w", i, err)
		}
		r.clients[i] = &client{idx: i, api: api, sess: s, joined: make(chan struct{}), tracked: make(chan struct{}),
			clientID: fmt.Sprintf("bench-client-%08d", i), held: map[string]time.Time{}}
		return nil
	})
	if err != nil {
		return err
	}
	logf("%d users signed up", n)
	for i := 0; i < n; i += r.cfg.RoomSize {
		rm := &room{writes: map[writeKey]*write{}}
		for j := i; j < min(n, i+r.cfg.RoomSize); j++ {
			r.clients[j].room = rm
			rm.members = append(rm.members, r.clients[j])
		}
		rm.members[0].host = true
		r.rooms = append(r.rooms, rm)
	}
	err = parallel(ctx, len(r.rooms), 16, func(ctx context.Context, i int) error {
		rm := r.rooms[i]
		h := rm.members[0]
		id, err := h.api.CreateRoom(ctx, h.sess.AccessToken, fmt.Sprint("host", h.idx))
		rm.id, rm.secret = id, h.api.InviteSecret(id) // members join through other connection pools
		return err
	})
	if err != nil {
		return err
	}
	err = parallel(ctx, n, 32, func(ctx context.Context, i int) error {
		c := r.clients[i]
		if c.host {
			return nil
		}
		resp, err := c.api.Invoke(ctx, c.sess.AccessToken, "rooms/join", map[string]any{
			"room_id": c.room.id, "username": fmt.Sprint("user", c.idx), "invite_secret": c.room.secret})
		if err == nil && resp.Status != http.StatusOK {
			err = fmt.Errorf("join room: status %d: %s", resp.Status, resp.Body)
		}
		return err
	})
	if err != nil {
		return err
	}
	logf("%d rooms created and joined", len(r.rooms))
	if r.beforeSockets != nil {
		r.beforeSockets()
	}
	err = parallel(ctx, n, 64, func(ctx context.Context, i int) error { return r.connect(ctx, r.clients[i]) })
	if err != nil {
		return err
	}
	logf("%d sockets joined and tracked, clients announced (first beat)", n)
	return nil
}

// announce makes a client's first (announcing) beat, "<name> joined the room", as the
// watchparty client does once its channel is joined: part of joining, done in the setup so the
// load phase measures a party in progress rather than 10,000 people arriving in the same 3 s,
// and right after the client's own socket so no member waits through the whole setup (a client
// that has never beaten is gone after 45 s).
func (r *run) announce(ctx context.Context, c *client) error {
	resp, err := c.api.RPC(ctx, c.sess.AccessToken, "track_user_presence", r.beatBody(c, 0))
	if err == nil && resp.Status != http.StatusNoContent {
		err = fmt.Errorf("status %d", resp.Status)
	}
	if err != nil {
		return fmt.Errorf("client %d: first beat: %w", c.idx, err)
	}
	return nil
}

// beatBody is a track_user_presence body with the given position, written by hand: at 10,000
// clients this runs 3,300 times a second.
func (r *run) beatBody(c *client, pos float64) []byte {
	body := strconv.AppendFloat([]byte(`{"p_room_id":"`+c.room.id+`","p_client_id":"`+c.clientID+`","p_is_playing":true,"p_current_time":`), pos, 'g', -1, 64)
	return append(body, '}')
}

// connect opens a client's socket, joins its room channel like the browser client and tracks
// presence once (hosted Supabase allows 5 tracks per 30 s; liveness is the RPC).
func (r *run) connect(ctx context.Context, c *client) error {
	ser, _ := phx.SerializerFor(phx.Vsn2)
	rt, err := rawclient.Dial(ctx, rawclient.RealtimeURL(r.baseURL, r.anonKey, phx.Vsn2), rawclient.DialOptions{
		HTTPClient: c.api.HTTP,
		NoDecode:   true,
		OnFrame:    func(f rawclient.Frame) { r.onFrame(c, ser, f) },
	})
	if err != nil {
		return fmt.Errorf("client %d: %w", c.idx, err)
	}
	c.rt = rt
	r.hbWG.Add(1)
	go func() { defer r.hbWG.Done(); heartbeat(r.hbCtx, rt) }()
	topic := rawclient.RoomTopic(c.room.id)
	jr, _, err := rt.Join(ctx, topic, rawclient.SeedConfig(c.room.id, c.sess.UserID), c.sess.AccessToken)
	if err != nil {
		return fmt.Errorf("client %d join: %w", c.idx, err)
	}
	c.joinRef = jr
	select {
	case <-c.joined:
	case <-ctx.Done():
		return fmt.Errorf("client %d: no join reply: %w", c.idx, ctx.Err())
	case <-time.After(30 * time.Second):
		return fmt.Errorf("client %d: no join reply in 30 s", c.idx)
	}
	track := map[string]any{"type": "presence", "event": "track", "payload": map[string]any{
		"user_id": c.sess.UserID, "username": fmt.Sprint("user", c.idx), "online_at": time.Now().UTC().Format(time.RFC3339Nano),
	}}
	if _, err := rt.Push(ctx, jr, topic, phx.EventPresence, track); err != nil {
		return fmt.Errorf("client %d track: %w", c.idx, err)
	}
	select {
	case <-c.tracked:
		return r.announce(ctx, c)
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(30 * time.Second):
		return fmt.Errorf("client %d: no track reply in 30 s", c.idx)
	}
}

// heartbeat sends a heartbeat every 25 s (from a random start) like supabase-js: the server
// closes a socket after 60 s without a frame.
func heartbeat(ctx context.Context, rt *rawclient.Client) {
	first := time.NewTimer(rand.N(25 * time.Second))
	defer first.Stop()
	select {
	case <-first.C:
	case <-ctx.Done():
		return
	}
	t := time.NewTicker(25 * time.Second)
	defer t.Stop()
	for {
		if _, err := rt.Push(ctx, "", phx.TopicPhoenix, phx.EventHeartbeat, json.RawMessage(`{}`)); err != nil {
			return
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		case <-rt.Done():
			return
		}
	}
}

// changeFields picks what the benchmark needs out of a postgres_changes payload by scanning
// the bytes the server wrote (data: schema, table, commit_timestamp, …, record, old_record; a
// record's keys sorted): the clients read about 17,000 of these a second at 5,000 clients, and
// a full JSON decode of each was a tenth of this process's CPU. ok is false when a field is
// missing.
func changeFields(payload []byte) (table, commitTS, user string, stamp float64, ok bool) {
	str := func(b []byte, key string) (string, []byte, bool) {
		i := bytes.Index(b, []byte(`"`+key+`":"`))
		if i < 0 {
			return "", nil, false
		}
		b = b[i+len(key)+4:]
		j := bytes.IndexByte(b, '"')
		if j < 0 {
			return "", nil, false
		}
		return string(b[:j]), b[j:], true
	}
	table, rest, ok := str(payload, "table")
	if !ok {
		return
	}
	if commitTS, _, ok = str(rest, "commit_timestamp"); !ok {
		return
	}
	i := bytes.Index(rest, []byte(`"record":{`))
	if i < 0 {
		return "", "", "", 0, false
	}
	rec := rest[i:]
	if j := bytes.Index(rec, []byte(`"old_record":`)); j > 0 {
		rec = rec[:j]
	}
	key := "user_id"
	if table == "rooms" {
		key = "host_user_id"
	}
	if user, _, ok = str(rec, key); !ok {
		return
	}
	k := bytes.Index(rec, []byte(`"current_time":`))
	if k < 0 {
		return "", "", "", 0, false
	}
	num := rec[k+len(`"current_time":`):]
	end := bytes.IndexAny(num, ",}")
	if end < 0 {
		return "", "", "", 0, false
	}
	v, err := strconv.ParseFloat(string(num[:end]), 64)
	return table, commitTS, user, v, err == nil
}

// changesPrefix and changesEvent frame a postgres_changes fan-out as the server encodes it in
// vsn 2: [null,null,"<topic>","postgres_changes",<payload>].
var (
	changesPrefix = []byte(`[null,null,"`)
	changesEvent  = []byte(`","postgres_changes",`)
)

func (r *run) onFrame(c *client, ser phx.Serializer, f rawclient.Frame) {
	if !f.Binary && bytes.HasPrefix(f.Raw, changesPrefix) {
		if i := bytes.Index(f.Raw, changesEvent); i > 0 {
			r.onChange(c, f.Raw[i+len(changesEvent):len(f.Raw)-1], f.At)
			return
		}
	}
	msg, err := ser.Decode(f.Raw, f.Binary)
	if err != nil {
		return
	}
	switch msg.Event {
	case phx.EventReply:
		var p phx.ReplyPayload
		if json.Unmarshal(msg.Payload, &p) != nil || p.Status != phx.StatusOK {
			return
		}
		if msg.Ref == msg.JoinRef {
			closeOnce(c.joined)
		} else {
			closeOnce(c.tracked)
		}
	case phx.EventClose:
		c.ended.Store(true)
	case phx.EventPostgresChanges:
		r.onChange(c, msg.Payload, f.At)
	}
}

func (r *run) onChange(c *client, payload []byte, at time.Time) {
	if r.counting.Load() {
		r.events.Add(1)
	}
	table, ts, user, stamp, ok := changeFields(payload)
	if !ok || table != "room_members" && table != "rooms" {
		return
	}
	k := writeKey{table: table, user: user, stamp: stamp}
	commit, cerr := time.Parse(phx.CommitTimestampLayout, ts)
	rm := c.room
	rm.mu.Lock()
	if w := rm.writes[k]; w != nil {
		w.got++
		rm.deliveries++
		rm.samples = append(rm.samples, sample{sent: w.sent.Sub(r.t0), latency: at.Sub(w.sent), commit: at.Sub(commit), hasCommit: cerr == nil})
	}
	if table == "room_members" && cerr == nil {
		if prev, ok := c.held[user]; ok && r.counting.Load() {
			rm.noteAge(at.Sub(prev))
		}
		if commit.After(c.held[user]) {
			c.held[user] = commit
		}
	}
	rm.mu.Unlock()
}

// noteAge records how old a held row got before a newer one arrived. Caller holds rm.mu.
func (rm *room) noteAge(age time.Duration) {
	rm.maxAge = max(rm.maxAge, age)
	if age >= StaleAfter {
		rm.staleSeen++
	}
}

func closeOnce(ch chan struct{}) {
	select {
	case <-ch:
	default:
		close(ch)
	}
}

// stamp is a value unique per writer and write: microseconds since the run began, in seconds.
func (r *run) stamp() float64 { return float64(time.Since(r.t0).Microseconds()) / 1e6 }

func (c *client) register(table string, stamp float64) *write {
	w := &write{sent: time.Now(), always: table == "rooms"}
	c.room.mu.Lock()
	c.room.writes[writeKey{table, c.sess.UserID, stamp}] = w
	c.room.mu.Unlock()
	return w
}

func (c *client) ack(w *write) {
	c.room.mu.Lock()
	w.acked = true
	c.room.mu.Unlock()
}

// load runs the clients' periodic writes for warmup + d; events are counted during d only.
func (r *run) load(ctx context.Context, warmup, d time.Duration) {
	r.t0, r.warmup = time.Now(), warmup
	start := time.AfterFunc(warmup, func() {
		if r.measuring != nil {
			r.measuring()
		}
		r.counting.Store(true)
	})
	defer start.Stop()
	lctx, cancel := context.WithTimeout(ctx, warmup+d)
	defer cancel()
	var wg sync.WaitGroup
	for _, c := range r.clients {
		wg.Add(1)
		go func() { defer wg.Done(); r.member(lctx, c) }()
		if c.host {
			wg.Add(1)
			go func() { defer wg.Done(); r.hostControls(lctx, c) }()
		}
	}
	<-lctx.Done()
	r.counting.Store(false)
	r.heldAtEnd(time.Now())
	wg.Wait()
}

// heldAtEnd records how old every held row is at the end of the measured phase.
func (r *run) heldAtEnd(now time.Time) {
	for _, rm := range r.rooms {
		rm.mu.Lock()
		for _, c := range rm.members {
			for _, at := range c.held {
				rm.noteAge(now.Sub(at))
			}
		}
		rm.mu.Unlock()
	}
}

// sleep waits d or until ctx ends; it reports whether the full time passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// member calls track_user_presence every TrackEvery, starting at a random point of the first
// period so the clients don't write in lock-step.
func (r *run) member(ctx context.Context, c *client) {
	first := time.NewTimer(rand.N(r.cfg.TrackEvery))
	defer first.Stop()
	var tick <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-first.C:
			t := time.NewTicker(r.cfg.TrackEvery)
			defer t.Stop()
			tick = t.C
		case <-tick:
		}
		stamp := r.stamp()
		w := c.register("room_members", stamp)
		// The request outlives the load phase's end so an in-flight write is still acknowledged.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		resp, err := c.api.RPC(rctx, c.sess.AccessToken, "track_user_presence", r.beatBody(c, stamp))
		cancel()
		if err == nil && resp.Status == http.StatusNoContent {
			c.ack(w)
			r.writes.Add(1)
		} else {
			r.writeErrs.Add(1)
		}
	}
}

// hostControls sends a "play" control at a random interval averaging ControlEvery, the first
// in the load's first second: the room then plays along the benchmark's clock, which is what
// members send as their position, so members are in sync with their room as at a party in
// progress (not 10,000 of them drifting out of sync with paused rooms together).
func (r *run) hostControls(ctx context.Context, c *client) {
	for first := true; ; first = false {
		wait := r.cfg.ControlEvery/2 + rand.N(r.cfg.ControlEvery)
		if first {
			wait = rand.N(time.Second)
		}
		if !sleep(ctx, wait) {
			return
		}
		stamp := r.stamp()
		w := c.register("rooms", stamp)
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		resp, err := c.api.Invoke(rctx, c.sess.AccessToken, "sync/control", map[string]any{
			"room_id": c.room.id, "action": "play", "current_time": stamp,
		})
		cancel()
		if err == nil && resp.Status == http.StatusOK {
			c.ack(w)
			r.controls.Add(1)
		} else {
			r.controlErrs.Add(1)
		}
	}
}

// owed reports whether every member should get the write's change: an acknowledged control,
// or an acknowledged beat the server published (a beat that changes nothing a screen shows is
// not published: docs/api.md). A published change missing at any member is lost; a live
// member's rows not arriving at all shows as a held row growing old (Result.MaxRowAge).
func (w *write) owed() bool { return w.acked && (w.always || w.got > 0) }

// drain waits until every acknowledged write reached every member, or for at most max.
func (r *run) drain(ctx context.Context, max time.Duration) {
	deadline := time.Now().Add(max)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		missing := false
		for _, rm := range r.rooms {
			rm.mu.Lock()
			for _, w := range rm.writes {
				if w.owed() && w.got < len(rm.members) {
					missing = true
					break
				}
			}
			rm.mu.Unlock()
			if missing {
				break
			}
		}
		if !missing {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (r *run) collect(res *Result) {
	var lat, commit []time.Duration
	var windows [][]time.Duration
	for _, rm := range r.rooms {
		rm.mu.Lock()
		for _, w := range rm.writes {
			if !w.always && w.acked && w.got > 0 {
				res.Published++
			}
			if !w.owed() {
				continue
			}
			res.Expected += int64(len(rm.members))
			res.Delivered += int64(min(w.got, len(rm.members)))
			res.Duplicates += int64(max(0, w.got-len(rm.members)))
		}
		res.MaxRowAge = max(res.MaxRowAge, rm.maxAge)
		res.StaleRows += rm.staleSeen
		for _, smp := range rm.samples {
			w := int(smp.sent / windowSize)
			for len(windows) <= w {
				windows = append(windows, nil)
			}
			windows[w] = append(windows[w], smp.latency)
			if smp.sent < r.warmup {
				continue
			}
			lat = append(lat, smp.latency)
			if smp.hasCommit {
				commit = append(commit, smp.commit)
			}
		}
		rm.mu.Unlock()
	}
	res.Lost = res.Expected - res.Delivered
	for _, c := range r.clients {
		if c.rt == nil || c.ended.Load() {
			continue
		}
		select {
		case <-c.rt.Done():
		default:
			res.Connected++
		}
	}
	res.Writes, res.WriteErrors = r.writes.Load(), r.writeErrs.Load()
	res.Controls, res.ControlErrors = r.controls.Load(), r.controlErrs.Load()
	res.Events = r.events.Load()
	res.EventsPerSec = float64(res.Events) / res.Duration.Seconds()
	res.Latency = percentiles(lat)
	for _, w := range windows {
		res.Windows = append(res.Windows, percentiles(w))
	}
	res.CommitLatency = percentiles(commit)
}
