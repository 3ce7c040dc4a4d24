// Package servertest runs the embedded server on loopback for a test and talks to it through
// package rawclient, with helpers that fail the test instead of returning errors. Only tests
// import it (it links package testing); the server benchmark uses rawclient directly.
package servertest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/watchparty/watchparty/server"
)

// Server is an embedded server serving on a loopback port until the test ends.
type Server struct {
	// URL is the base URL, http://127.0.0.1:PORT.
	URL string
	// AnonKey is the server's anon key.
	AnonKey string
	// DataDir is the server's data directory.
	DataDir string
	// Srv is the running server.
	Srv *server.Server

	api     *API
	running *server.Running
}

// Start runs a server with cfg (DataDir defaults to a fresh t.TempDir()) on 127.0.0.1:0. It is
// stopped gracefully when the test ends; Stop stops it earlier.
func Start(t testing.TB, cfg server.Config) *Server {
	t.Helper()
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	r, err := server.Start(cfg, "127.0.0.1:0")
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	s := &Server{URL: r.URL, AnonKey: r.AnonKey(), DataDir: cfg.DataDir, Srv: r.Server, running: r}
	s.api = NewAPI(s.URL, s.AnonKey, nil)
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("server stop: %v", err)
		}
	})
	return s
}

// Stop shuts the server down gracefully and returns what Serve returned. Calling it again
// returns the same.
func (s *Server) Stop() error {
	defer s.api.HTTP.CloseIdleConnections()
	return s.running.Stop()
}

// API returns the HTTP API client of the server (one keep-alive pool, closed by Stop).
func (s *Server) API() *API { return s.api }

// WSURL returns the Realtime URL for vsn ("2.0.0" or "1.0.0") with the anon key.
func (s *Server) WSURL(vsn string) string { return RealtimeURL(s.URL, s.AnonKey, vsn) }

// Eventually polls cond every 10 ms until it is true or timeout passes, then fails the test
// with what.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Ctx returns a context that ends after d or when the test ends.
func Ctx(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// must fails the test on err.
func must(t testing.TB, err error, format string, args ...any) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", fmt.Sprintf(format, args...), err)
	}
}
