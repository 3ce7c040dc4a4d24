// Package server is watchparty's embedded backend: the subset of Supabase (GoTrue auth, Edge
// Function endpoints, PostgREST RPCs and table read, Realtime over WebSocket) that the client
// uses, from one process with SQLite storage. The real supabase-js works against it unchanged.
//
// server never imports the client packages (room, player, realtime, tui).
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/watchparty/watchparty/server/store"
)

// DefaultListen is where `watchparty serve` listens unless told otherwise: loopback only.
const DefaultListen = "127.0.0.1:54321"

// Config configures a Server.
type Config struct {
	// DataDir holds the database, the JWT secret and the anon key (created 0700/0600).
	DataDir string
	// Version is reported by /watchparty/v1/info.
	Version string
	// Logger receives server logs; default discards.
	Logger *slog.Logger
	// Limits; zero values take the defaults (hosted Supabase's where it has one).
	PresenceLimit  int           // presence track/untrack per window per channel (5)
	PresenceWindow time.Duration // (30 s)
	BroadcastLimit int           // broadcasts per 10 s per connection (100)
	IdleTimeout    time.Duration // close a socket with no inbound frame for this long (60 s)
	MaxFrame       int64         // largest inbound WebSocket frame (1 MiB); larger → close 1009
	RequestTimeout time.Duration // read an HTTP request body within this (10 s); the reply gets 3×
	RoomIdleExpiry time.Duration // delete rooms nobody was seen in or controlled for this long (7 days)
	WALLimit       int64         // truncate the SQLite WAL past this many bytes (32 MiB)
	// Liveness (docs/api.md, "Membership and liveness"): a member with no beat for StaleAfter is
	// stale (a stale host hands the room to a live member); a client with none for GoneAfter is
	// gone, and a person with no client left drops out.
	StaleAfter time.Duration // (15 s)
	GoneAfter  time.Duration // (45 s)
	// TLS, when set, makes Start serve HTTPS and WSS (TLSFiles, TLSACME; docs/design.md §10.1).
	TLS *tls.Config
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
}

func (c *Config) defaults() {
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.PresenceLimit == 0 {
		c.PresenceLimit = 5
	}
	if c.PresenceWindow == 0 {
		c.PresenceWindow = 30 * time.Second
	}
	if c.BroadcastLimit == 0 {
		c.BroadcastLimit = 100
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = 60 * time.Second
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = 10 * time.Second
	}
	if c.RoomIdleExpiry == 0 {
		c.RoomIdleExpiry = 7 * 24 * time.Hour
	}
	if c.StaleAfter == 0 {
		c.StaleAfter = 15 * time.Second
	}
	if c.GoneAfter == 0 {
		c.GoneAfter = 45 * time.Second
	}
	if c.MaxFrame == 0 {
		c.MaxFrame = 1 << 20
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Version == "" {
		c.Version = "dev"
	}
}

// Server is the embedded backend. Create with New, serve with Serve, or mount Handler yourself.
// Safe for concurrent use.
type Server struct {
	cfg    Config
	log    *slog.Logger
	store  *store.Store
	keys   *keys
	hub    *hub
	limits *rateLimits
	mux    *http.ServeMux

	metrics *metrics // metrics.go
	workers *workers // workers.go: handlers run here

	stop      chan struct{}  // ends expireRooms, sweepLiveness and flushBeats
	loops     sync.WaitGroup // expireRooms, sweepLiveness and flushBeats
	closeOnce sync.Once
}

// roomExpiryInterval is how often idle rooms are looked for.
const roomExpiryInterval = time.Hour

// expireRooms deletes idle rooms at start and then every roomExpiryInterval, so an abandoned
// server's database doesn't grow with rooms nobody will return to.
func (s *Server) expireRooms() {
	defer s.loops.Done()
	t := time.NewTicker(roomExpiryInterval)
	defer t.Stop()
	for {
		n, err := s.store.ExpireIdleRooms(context.Background(), s.cfg.Now().Add(-s.cfg.RoomIdleExpiry))
		if err != nil {
			s.log.Warn("expire idle rooms", "err", err)
		} else if n > 0 {
			s.log.Info("expired idle rooms", "rooms", n, "idle", s.cfg.RoomIdleExpiry)
		}
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
	}
}

// sweepInterval is how often liveness is applied: a silent host is replaced at most this long
// after StaleAfter.
const sweepInterval = time.Second

// flushInterval is how often beats held in memory are stored, a few members at a time
// (flushBeats).
const flushInterval = 100 * time.Millisecond

// flushBeats stores, every flushInterval, the beats held in memory (Store.FlushOld) of members
// whose stored last_seen is two thirds of the way to stale, at most as many each time as storing
// every member within a quarter of StaleAfter takes: the write lock is held for a few
// milliseconds at a time, never for a wave of members (members who joined together reach the
// mark together), and the sweep finds little left to store itself.
func (s *Server) flushBeats() {
	defer s.loops.Done()
	t := time.NewTicker(flushInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		limit := max(10, int(int64(s.store.HeldMembers())*int64(flushInterval)/int64(s.cfg.StaleAfter/4)))
		if err := s.store.FlushOld(context.Background(), s.cfg.Now().Add(-s.cfg.StaleAfter*2/3), limit); err != nil {
			s.log.Warn("store liveness beats", "err", err)
		}
	}
}

// sweepLiveness applies the liveness rule to every room every sweepInterval (Store.Sweep). The
// Supabase deployment applies the same rule lazily, on each member's beat.
func (s *Server) sweepLiveness() {
	defer s.loops.Done()
	t := time.NewTicker(sweepInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		now := s.cfg.Now()
		// Beats held in memory that reached stale (flushBeats missed them) are stored in short
		// transactions first, so the sweep's own store of them is small.
		if err := s.store.FlushOld(context.Background(), now.Add(-s.cfg.StaleAfter), 0); err != nil {
			s.log.Warn("store liveness beats", "err", err)
		}
		dropped, handed, err := s.store.Sweep(context.Background(), now.Add(-s.cfg.StaleAfter), now.Add(-s.cfg.GoneAfter))
		if err != nil {
			s.log.Warn("liveness sweep", "err", err)
			continue
		}
		if dropped > 0 || handed > 0 {
			s.log.Info("liveness", "dropped_out", dropped, "host_handed_over", handed)
		}
	}
}

// New opens the data directory (creating it) and prepares the server.
func New(cfg Config) (*Server, error) {
	cfg.defaults()
	if cfg.DataDir == "" {
		return nil, errors.New("no data directory given")
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	k, err := loadKeys(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Logger, keys: k, limits: newRateLimits(cfg.Now)}
	st, err := store.Open(filepath.Join(cfg.DataDir, "watchparty.db"), store.Options{Now: cfg.Now, AllowNotice: s.allowNotice, WALLimit: cfg.WALLimit,
		// A live member's row reaches screens before they would mark it stale: screens do at
		// 15 s whatever the server's StaleAfter, and beats come every 3 s.
		RowRefresh: min(cfg.StaleAfter*2/3, store.DefaultRowRefresh), StaleAfter: cfg.StaleAfter, SpreadRefresh: true})
	if err != nil {
		return nil, err
	}
	s.store = st
	s.hub = newHub(s)
	s.metrics = newMetrics(s)
	s.limits.onReject = s.metrics.rejectKey
	s.stop = make(chan struct{})
	s.workers = &workers{jobs: make(chan func()), stop: s.stop}
	s.loops.Add(3)
	go s.expireRooms()
	go s.sweepLiveness()
	go s.flushBeats()
	st.SetChangeHook(s.hub.publishChanges)
	s.routes()
	return s, nil
}

// AnonKey is the public key clients send as apikey.
func (s *Server) AnonKey() string { return s.keys.anonKey }

// Handler serves every route.
func (s *Server) Handler() http.Handler { return s.mux }

// Serve accepts connections on ln until ctx is cancelled, then shuts down gracefully: it stops
// accepting, tells realtime clients, flushes their queues, closes the database and returns nil.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.mux,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second, // keep-alive connections between requests
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		s.Close()
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Stop accepting first; then tell realtime clients and drain their queues (hijacked
	// WebSocket connections are not tracked by http.Server.Shutdown).
	shutErr := make(chan error, 1)
	go func() { shutErr <- srv.Shutdown(shutCtx) }()
	s.hub.shutdown(shutCtx)
	if err := <-shutErr; err != nil && !errors.Is(err, context.DeadlineExceeded) {
		s.log.Warn("http shutdown", "err", err)
	}
	<-errc
	return s.Close()
}

// Close closes the hub's connections and the database. Safe to call more than once.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		close(s.stop)
		s.loops.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		s.hub.shutdown(ctx)
		cancel()
		err = s.store.Close()
	})
	return err
}
