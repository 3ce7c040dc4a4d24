package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/watchparty/watchparty/server"
)

// metricsListener serves /metrics on --metrics-listen, apart from the API (docs/security.md:
// the figures reveal when and how much the server is used, so they are off by default and
// never on the public listener).
type metricsListener struct {
	srv  *http.Server
	done chan struct{}
}

// startMetrics listens on addr ("" → nil, metrics off) and serves srv's metrics there.
func startMetrics(addr string, srv *server.Server, log *slog.Logger) (*metricsListener, *net.TCPAddr, error) {
	if addr == "" {
		return nil, nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("--metrics-listen: cannot listen on %s: %w", addr, unwrapOpError(err))
	}
	tcp := ln.Addr().(*net.TCPAddr)
	if !tcp.IP.IsLoopback() {
		log.Warn("metrics are served on a non-loopback address: anyone who reaches it sees the server's activity; firewall it to your Prometheus", "addr", tcp.String())
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", srv.MetricsHandler())
	m := &metricsListener{done: make(chan struct{}), srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}}
	go func() {
		defer close(m.done)
		if err := m.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("metrics listener", "err", err)
		}
	}()
	return m, tcp, nil
}

// close stops the metrics listener (nil: nothing to do).
func (m *metricsListener) close() {
	if m == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = m.srv.Shutdown(ctx)
	<-m.done
}

func unwrapOpError(err error) error {
	var op *net.OpError
	if errors.As(err, &op) {
		return op.Err
	}
	return err
}
