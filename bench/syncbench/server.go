package syncbench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
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

	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan error
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
	srv, err := server.New(server.Config{DataDir: s.dataDir, Logger: s.logger})
	if err != nil {
		return err
	}
	var ln net.Listener
	// The old listener's port is free again at once (Go listens with SO_REUSEADDR), but
	// allow a moment in case the kernel is slow to release it.
	for try := 0; ; try++ {
		ln, err = net.Listen("tcp", s.addr)
		if err == nil || try == 50 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		srv.Close()
		return fmt.Errorf("listen on %s: %w", s.addr, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	s.mu.Lock()
	s.addr, s.AnonKey, s.cancel, s.done = ln.Addr().String(), srv.AnonKey(), cancel, done
	s.mu.Unlock()
	return nil
}

// Stop shuts the server down gracefully (clients are told) and waits for it. Stopping a
// stopped server does nothing.
func (s *Server) Stop() error {
	s.mu.Lock()
	cancel, done := s.cancel, s.done
	s.cancel, s.done = nil, nil
	s.mu.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	select {
	case err := <-done:
		return err
	case <-time.After(15 * time.Second):
		return errors.New("server did not stop within 15 s")
	}
}

// Restart stops the server and serves the same data dir on the same port again.
func (s *Server) Restart() error {
	if err := s.Stop(); err != nil {
		return err
	}
	return s.start()
}
