package main

import (
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/watchparty/watchparty/server"
)

// acmeDirectoryEnv names another ACME directory than Let's Encrypt's production one: its
// staging directory while trying a deployment out, or a test CA. Deliberately not a flag
// (docs/deploy-server.md): a certificate from a staging CA is trusted by no client.
const acmeDirectoryEnv = "WATCHPARTY_ACME_DIRECTORY"

// Listen defaults with TLS: TLS is for clients on other machines, so every interface.
const (
	defaultListenTLS  = ":54321"
	defaultListenACME = ":443"
)

// registerTLS adds serve's TLS and log flags.
func (o *serveOptions) registerTLS(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.TLSCert, "tls-cert", "", "serve HTTPS/WSS with this PEM certificate (chain after the leaf); reloaded when the file changes")
	f.StringVar(&o.TLSKey, "tls-key", "", "the PEM private key of --tls-cert")
	f.StringVar(&o.Domain, "domain", "", "serve HTTPS/WSS for this domain with a certificate obtained and renewed automatically (ACME, Let's Encrypt); its port 443 must reach this server")
	f.StringVar(&o.ACMEEmail, "acme-email", "", "with --domain: contact address given to the certificate authority (optional)")
	f.StringVar(&o.LogFormat, "log-format", "text", "log lines on stderr: text or json (one JSON object a line)")
	f.StringVar(&o.MetricsListen, "metrics-listen", "", "serve Prometheus metrics at http://ADDR/metrics, e.g. 127.0.0.1:9464 (default off; keep it private: it shows the server's activity)")
}

// validateTLS checks the TLS and log flags and fills --listen's default.
func (o *serveOptions) validateTLS() error {
	if o.LogFormat != "text" && o.LogFormat != "json" {
		return usageErrorf("--log-format %q: want text or json", o.LogFormat)
	}
	if (o.TLSCert == "") != (o.TLSKey == "") {
		return usageErrorf("--tls-cert and --tls-key go together: give both, or --domain for an automatic certificate")
	}
	if o.Domain != "" && o.TLSCert != "" {
		return usageErrorf("--domain obtains its own certificate: give either --domain or --tls-cert with --tls-key")
	}
	if o.ACMEEmail != "" && o.Domain == "" {
		return usageErrorf("--acme-email is for --domain")
	}
	if o.Domain != "" {
		if err := server.CheckDomain(o.Domain); err != nil {
			return usageErrorf("--domain %v", err)
		}
	}
	if o.MetricsListen != "" {
		if _, _, err := net.SplitHostPort(o.MetricsListen); err != nil {
			return usageErrorf("--metrics-listen %q: want host:port, e.g. 127.0.0.1:9464", o.MetricsListen)
		}
	}
	if o.Listen == "" {
		switch {
		case o.Domain != "":
			o.Listen = defaultListenACME
		case o.TLSCert != "":
			o.Listen = defaultListenTLS
		default:
			o.Listen = server.DefaultListen
		}
	}
	return nil
}

// logger is serve's logger: --log-format on stderr, debug with --verbose.
func (o *serveOptions) logger() *slog.Logger {
	return newServeLogger(o.io.ErrOut, o.LogFormat, o.Verbose)
}

func newServeLogger(w io.Writer, format string, verbose bool) *slog.Logger {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	if verbose {
		opts.Level = slog.LevelDebug
	}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// serveTLS is serve's TLS set-up: nothing, certificate files, or ACME.
type serveTLS struct {
	config *tls.Config
	names  []string     // the names the certificate is for
	acme   *server.ACME // with --domain
}

// tlsConfig loads the certificate files or prepares ACME (its cache in dataDir/acme).
func (o *serveOptions) tlsConfig(dataDir string, log *slog.Logger) (serveTLS, error) {
	switch {
	case o.TLSCert != "":
		conf, leaf, err := server.TLSFiles(o.TLSCert, o.TLSKey, 0, log)
		if err != nil {
			return serveTLS{}, usageErrorf("--tls-cert/--tls-key: %v", err)
		}
		return serveTLS{config: conf, names: append(append([]string(nil), leaf.DNSNames...), ipStrings(leaf.IPAddresses)...)}, nil
	case o.Domain != "":
		cache := filepath.Join(dataDir, "acme")
		dir := os.Getenv(acmeDirectoryEnv)
		if dir != "" {
			u, err := url.Parse(dir)
			if err != nil || u.Scheme != "https" || u.Host == "" {
				return serveTLS{}, usageErrorf("%s %q: want the https URL of an ACME directory", acmeDirectoryEnv, dir)
			}
			// Another CA's certificates and account are kept apart from the production ones,
			// so a staging certificate is never served once the variable is gone.
			cache = filepath.Join(cache, strings.ReplaceAll(u.Host, ":", "_"))
			log.Warn("tls: using another ACME directory than Let's Encrypt's production one", "directory", dir, "from", acmeDirectoryEnv)
		}
		a, err := server.TLSACME(server.ACMEOptions{Domain: o.Domain, CacheDir: cache, Email: o.ACMEEmail, DirectoryURL: dir})
		if err != nil {
			return serveTLS{}, usageErrorf("--domain %v", err)
		}
		return serveTLS{config: a.Config, names: []string{o.Domain}, acme: a}, nil
	}
	return serveTLS{}, nil
}

func ipStrings(ips []net.IP) []string {
	var s []string
	for _, ip := range ips {
		s = append(s, ip.String())
	}
	return s
}

// urls are the https URLs clients use: one per name of the certificate (a wildcard name is
// left out), at the listener's port.
func (t serveTLS) urls(addr *net.TCPAddr) []string {
	var urls []string
	for _, n := range t.names {
		if strings.HasPrefix(n, "*") {
			continue
		}
		if addr.Port == 443 {
			if strings.Contains(n, ":") {
				n = "[" + n + "]"
			}
			urls = append(urls, "https://"+n)
		} else {
			urls = append(urls, "https://"+net.JoinHostPort(n, strconv.Itoa(addr.Port)))
		}
	}
	if len(urls) == 0 {
		urls = append(urls, "https://"+addr.String())
	}
	return urls
}

// obtain, with ACME, gets the certificate in the background now rather than on the first
// client's handshake, and logs the outcome: a wrong DNS record or a closed port 443 shows in
// the log at start. autocert bounds it to 5 minutes.
func (t serveTLS) obtain(log *slog.Logger) {
	if t.acme == nil {
		return
	}
	go func() {
		leaf, err := t.acme.Obtain()
		if err != nil {
			log.Error("tls: cannot obtain a certificate; check that the domain's DNS points at this machine and that its port 443 reaches this server", "domain", t.names[0], "err", err)
			return
		}
		log.Info("tls: certificate ready", "domain", t.names[0], "not_after", leaf.NotAfter.UTC().Format("2006-01-02T15:04:05Z"))
	}()
}

// listenHint explains a failed listen.
func listenHint(le *server.ListenError, o *serveOptions) string {
	if errors.Is(le.Err, syscall.EACCES) {
		return "ports below 1024 need root or the CAP_NET_BIND_SERVICE capability, which the systemd unit in docs/deploy-server.md grants; or listen on another port with --listen and forward port 443 to it"
	}
	if o.Domain != "" {
		return "is another server, or a web server, using it? pick another port with --listen and forward port 443 to it"
	}
	return "is another server running? pick another port with --listen"
}
