package syncbench

import (
	"log/slog"
	"sync"
	"time"

	"github.com/watchparty/watchparty/server"
)

// Server is the embedded backend served on a loopback port in this process. Restart stops it
// and serves the same data dir on the same port again, as a restarted `watchparty serve`
// would. Safe for concurrent use.
type Server struct {
	// URL is http://127.0.0.1:PORT; it stays the same across restarts.
	URL string
	// AnonKey is the server's anon key (kept in the data dir, so it survives restarts).
	AnonKey string

	dataDir string
	addr    string
	logger  *slog.Logger

	mu      sync.Mutex
	running *server.Running
}

// StartServer serves a new server with its data in dataDir on a free loopback port.
func StartServer(dataDir string, logger *slog.Logger) (*Server, error) {
	s := &Server{dataDir: dataDir, addr: "127.0.0.1:0", logger: logger}
	if err := s.start(); err != nil {
		return nil, err
	}
	s.URL = "http://" + s.addr
	return s, nil
}

func (s *Server) start() error {
	// The old listener's port is free again at once (Go listens with SO_REUSEADDR), but allow
	// a moment in case the kernel is slow to release it.
	r, err := server.StartRetrying(server.Config{DataDir: s.dataDir, Logger: s.logger}, s.addr, 5*time.Second)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.addr, s.AnonKey, s.running = r.Addr.String(), r.AnonKey(), r
	s.mu.Unlock()
	return nil
}

// Stop shuts the server down gracefully (clients are told) and waits for it. Stopping a
// stopped server does nothing.
func (s *Server) Stop() error {
	s.mu.Lock()
	r := s.running
	s.running = nil
	s.mu.Unlock()
	if r == nil {
		return nil
	}
	return r.Stop()
}

// Restart stops the server and serves the same data dir on the same port again.
func (s *Server) Restart() error {
	if err := s.Stop(); err != nil {
		return err
	}
	return s.start()
}
