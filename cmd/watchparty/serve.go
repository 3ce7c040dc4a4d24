package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/watchparty/watchparty/config"
	"github.com/watchparty/watchparty/server"
)

func newServeCmd() *cobra.Command {
	var listen, dataDir string
	var verbose bool
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the embedded backend (Supabase-compatible, SQLite storage)",
		Long: `Run the embedded backend: anonymous auth, the room functions, RPCs and Realtime over
WebSocket, the same protocol as a Supabase project, with data in SQLite.

It listens on loopback unless --listen says otherwise; use --listen 0.0.0.0:54321 to
let friends on your network join. It prints its URL and anon key; clients fetch the
key from the server, so "--server URL" is all a friend needs. Ctrl-C (or SIGTERM)
stops it cleanly: clients are told, queued messages are sent and the database is
closed. Data lives in --data (default: the user data dir, or $WATCHPARTY_HOME/data).`,
		Example: `  watchparty serve
  watchparty serve --listen 0.0.0.0:54321 --data ./party-data`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, _, err := net.SplitHostPort(listen); err != nil {
				return usageErrorf("--listen %q: want host:port, e.g. 127.0.0.1:54321 or 0.0.0.0:54321", listen)
			}
			if dataDir == "" {
				p, err := config.ResolvePaths()
				if err != nil {
					return err
				}
				dataDir = filepath.Join(p.Data, "server")
			}
			level := slog.LevelInfo
			if verbose {
				level = slog.LevelDebug
			}
			logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
			srv, err := server.Start(server.Config{DataDir: dataDir, Version: version, Logger: logger}, listen)
			if le := (*server.ListenError)(nil); errors.As(err, &le) {
				return fmt.Errorf("%w (is another server running? pick another port with --listen)", err)
			} else if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			for _, u := range serverURLs(srv.Addr) {
				fmt.Fprintf(out, "watchparty server listening on %s\n", u)
			}
			fmt.Fprintf(out, "anon key: %s\n", srv.AnonKey())
			fmt.Fprintf(out, "data: %s\n", dataDir)
			err = srv.Wait(cmd.Context())
			fmt.Fprintln(os.Stderr, "watchparty server stopped")
			return err
		},
	}
	cmd.Flags().StringVar(&listen, "listen", server.DefaultListen, "address to listen on (host:port); 0.0.0.0:PORT to accept other machines")
	cmd.Flags().StringVar(&dataDir, "data", "", "data directory (database, keys)")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "log every request and connection")
	return cmd
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
