package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"
)

// Running is a Server serving HTTP on a TCP listener in this process: what `watchparty serve`
// and `watchparty host` run, and what the tests and benchmarks start. Start makes one; Stop ends
// it.
type Running struct {
	*Server
	// Addr is the address it listens on, its port resolved (for a ":0" request).
	Addr *net.TCPAddr
	// URL is http://Addr, or https://Addr with TLS (for a wildcard address, the URL clients on
	// this machine can use is http://127.0.0.1:PORT; see Addr).
	URL string

	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

// ListenError is Start's error when it cannot listen on the address (a port in use, a bad
// host).
type ListenError struct {
	Addr string
	Err  error
}

func (e *ListenError) Error() string { return fmt.Sprintf("cannot listen on %s: %v", e.Addr, e.Err) }
func (e *ListenError) Unwrap() error { return e.Err }

// Start listens on addr (host:port; port 0 picks a free one), opens the server with cfg and
// serves until Stop, with TLS when cfg.TLS is set. A failed listen is a *ListenError and opens
// nothing.
func Start(cfg Config, addr string) (*Running, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) {
			err = op.Err
		}
		return nil, &ListenError{Addr: addr, Err: err}
	}
	srv, err := New(cfg)
	if err != nil {
		ln.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	tcp := ln.Addr().(*net.TCPAddr)
	scheme := "http://"
	if cfg.TLS != nil {
		ln, scheme = tls.NewListener(ln, cfg.TLS), "https://"
	}
	r := &Running{Server: srv, Addr: tcp, URL: scheme + tcp.String(), cancel: cancel, done: make(chan struct{})}
	go func() {
		r.err = srv.Serve(ctx, ln)
		close(r.done)
	}()
	return r, nil
}

// StartRetrying is Start, trying again for up to wait while the address is still in use: a
// restart on the port a stopped server just left.
func StartRetrying(cfg Config, addr string, wait time.Duration) (*Running, error) {
	deadline := time.Now().Add(wait)
	for {
		r, err := Start(cfg, addr)
		var le *ListenError
		if !errors.As(err, &le) || time.Now().After(deadline) {
			return r, err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop shuts the server down gracefully (clients are told, queues flushed, the database
// closed) and waits up to 15 s for it; it returns what serving returned. Calling it again
// returns the same.
func (r *Running) Stop() error {
	r.cancel()
	select {
	case <-r.done:
		return r.err
	case <-time.After(15 * time.Second):
		return errors.New("server did not stop within 15 s")
	}
}

// Wait serves until ctx ends, then stops gracefully; it returns early, with the error, if
// serving fails on its own.
func (r *Running) Wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
	case <-r.done:
	}
	return r.Stop()
}
