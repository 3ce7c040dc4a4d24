package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"github.com/watchparty/watchparty/config"
	"github.com/watchparty/watchparty/server"
)

// serveOptions is everything `watchparty serve` needs, filled from its flags.
type serveOptions struct {
	io      ioStreams
	Listen  string
	DataDir string
	Verbose bool
	// Liveness: a member silent this long is stale (a stale host hands the room on); a client
	// silent GoneAfter is gone, and a person with no client left drops out.
	StaleAfter time.Duration
	GoneAfter  time.Duration
	// TLS and logs (serve_tls.go).
	TLSCert, TLSKey string
	Domain          string
	ACMEEmail       string
	LogFormat       string
	MetricsListen   string
}

func (o *serveOptions) streams() *ioStreams { return &o.io }

// validate checks the flags.
func (o *serveOptions) validate() error {
	if err := o.validateTLS(); err != nil {
		return err
	}
	if _, _, err := net.SplitHostPort(o.Listen); err != nil {
		return usageErrorf("--listen %q: want host:port, e.g. 127.0.0.1:54321 or 0.0.0.0:54321", o.Listen)
	}
	if o.StaleAfter < time.Second || o.GoneAfter <= o.StaleAfter {
		return usageErrorf("--stale-after %v, --gone-after %v: want at least 1s, and --gone-after longer than --stale-after", o.StaleAfter, o.GoneAfter)
	}
	return nil
}

// newServeCmd builds `watchparty serve`; runF (nil: runServe) runs it.
func newServeCmd(runF func(context.Context, *serveOptions) error) *cobra.Command {
	o := &serveOptions{}
	if runF == nil {
		runF = runServe
	}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the embedded backend (Supabase-compatible, SQLite storage)",
		Long: `Run the embedded backend: anonymous auth, the room functions, RPCs and Realtime over
WebSocket, the same protocol as a Supabase project, with data in SQLite.

It listens on loopback unless --listen says otherwise; use --listen 0.0.0.0:54321 to
let friends on your network join. It prints its URL and anon key; clients fetch the
key from the server, so "--server URL" is all a friend needs. Ctrl-C (or SIGTERM)
stops it cleanly: clients are told, queued messages are sent and the database is
closed. Data lives in --data (default: the user data dir, or $WATCHPARTY_HOME/data).

Every client beats every 3 s. A member silent for --stale-after is stale: a stale
host hands the room to the longest-present live member ("Y is now the host (X went
quiet)"), and takes it back on returning if they own the room. A client silent for
--gone-after is gone; a person with no client left drops out of the room.

TLS, for parties across the internet (docs/deploy-server.md): --tls-cert FILE with
--tls-key FILE serves https and wss with your certificate, reloaded when the files
change (a renewal); it listens on :54321 unless --listen says otherwise. --domain NAME
obtains a certificate for NAME from Let's Encrypt and renews it (ACME TLS-ALPN-01,
cached in the data dir): NAME's DNS must point here and its port 443 reach this
server, so it listens on :443 (which needs root or CAP_NET_BIND_SERVICE; or use
--listen with another port that 443 is forwarded to). Clients then use
--server https://NAME. A missing, unreadable or mismatched certificate or key is a
usage error (exit 2).

GET /healthz answers {"status":"ok"} for load balancers and uptime checks.
--metrics-listen ADDR serves Prometheus metrics at http://ADDR/metrics, on that
address only (off by default: they show the server's activity, so keep it private).
--log-format json writes one JSON object a line on stderr.`,
		Example: `  watchparty serve
  watchparty serve --listen 0.0.0.0:54321 --data ./party-data
  watchparty serve --domain party.example.com
  watchparty serve --tls-cert fullchain.pem --tls-key privkey.pem --log-format json
  watchparty serve --domain party.example.com --metrics-listen 127.0.0.1:9464`,
		Args: noArgs,
		RunE: runE(o, runF),
	}
	cmd.Flags().StringVar(&o.Listen, "listen", "", "address to listen on (host:port; default "+server.DefaultListen+", with --tls-cert :54321, with --domain :443); 0.0.0.0:PORT to accept other machines")
	cmd.Flags().StringVar(&o.DataDir, "data", "", "data directory (database, keys)")
	cmd.Flags().BoolVarP(&o.Verbose, "verbose", "v", false, "log every request and connection")
	cmd.Flags().DurationVar(&o.StaleAfter, "stale-after", 15*time.Second, "a member with no beat for this long is stale (a stale host is replaced)")
	cmd.Flags().DurationVar(&o.GoneAfter, "gone-after", 45*time.Second, "a client with no beat for this long is gone (a person with none left drops out)")
	o.registerTLS(cmd)
	return cmd
}

// runServe serves until ctx ends (Ctrl-C, SIGTERM), then stops gracefully.
func runServe(ctx context.Context, o *serveOptions) error {
	dataDir := o.DataDir
	if dataDir == "" {
		p, err := config.ResolvePaths()
		if err != nil {
			return err
		}
		dataDir = filepath.Join(p.Data, "server")
	}
	logger := o.logger()
	tlsConf, err := o.tlsConfig(dataDir, logger)
	if err != nil {
		return err
	}
	addr, stopPprof, err := startPprof()
	if err != nil {
		return err
	}
	defer stopPprof()
	if addr != "" {
		logger.Info("profiling endpoints on", "url", "http://"+addr+"/debug/pprof/")
	}
	srv, err := server.Start(server.Config{DataDir: dataDir, Version: version, Logger: logger,
		StaleAfter: o.StaleAfter, GoneAfter: o.GoneAfter, TLS: tlsConf.config}, o.Listen)
	if le := (*server.ListenError)(nil); errors.As(err, &le) {
		return fmt.Errorf("%w (%s)", err, listenHint(le, o))
	} else if err != nil {
		return err
	}
	urls := serverURLs(srv.Addr)
	if tlsConf.config != nil {
		urls = tlsConf.urls(srv.Addr)
	}
	for _, u := range urls {
		fmt.Fprintf(o.io.Out, "watchparty server listening on %s\n", u)
	}
	tlsConf.obtain(logger)
	metrics, maddr, err := startMetrics(o.MetricsListen, srv.Server, logger)
	if err != nil {
		_ = srv.Stop()
		return err
	}
	defer metrics.close()
	if maddr != nil {
		fmt.Fprintf(o.io.Out, "metrics on http://%s/metrics\n", maddr)
	}
	fmt.Fprintf(o.io.Out, "anon key: %s\n", srv.AnonKey())
	fmt.Fprintf(o.io.Out, "data: %s\n", dataDir)
	err = srv.Wait(ctx)
	fmt.Fprintln(o.io.ErrOut, "watchparty server stopped")
	return err
}

// serverURLs lists the URLs a listener is reachable at: its own address, or for a wildcard
// address loopback plus every LAN address, so the host can tell friends which to use.
func serverURLs(addr *net.TCPAddr) []string {
	if !addr.IP.IsUnspecified() {
		return []string{"http://" + addr.String()}
	}
	port := addr.Port
	urls := []string{fmt.Sprintf("http://127.0.0.1:%d", port)}
	ifaces, _ := net.InterfaceAddrs()
	for _, a := range ifaces {
		ipn, ok := a.(*net.IPNet)
		if !ok || ipn.IP.IsLoopback() || ipn.IP.IsLinkLocalUnicast() {
			continue
		}
		if ip4 := ipn.IP.To4(); ip4 != nil {
			urls = append(urls, fmt.Sprintf("http://%s:%d", ip4, port))
		}
	}
	return urls
}
