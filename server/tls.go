package server

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

// TLS (docs/design.md §10.1): `serve --tls-cert/--tls-key` serves a certificate from files and
// reloads it when the files change (a renewal by certbot or another tool); `serve --domain`
// obtains and renews one by ACME (autocert, TLS-ALPN-01 on the TLS port itself). Only
// HTTP/1.1 is offered: Realtime's WebSocket upgrade needs it, and the REST calls gain nothing
// from HTTP/2.

// CertCheckInterval is how often, at most, a handshake looks whether the certificate files
// changed.
const CertCheckInterval = 10 * time.Second

// CertError is a certificate or key that cannot be used: a missing or unreadable file, no PEM
// in it, or a key that is not the certificate's.
type CertError struct {
	File string // the file at fault; "" when it is the pair
	Err  error
}

func (e *CertError) Error() string {
	if e.File == "" {
		return e.Err.Error()
	}
	return fmt.Sprintf("%s: %v", e.File, e.Err)
}
func (e *CertError) Unwrap() error { return e.Err }

// loadKeyPair reads and checks a certificate and key pair.
func loadKeyPair(certFile, keyFile string) (*tls.Certificate, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, &CertError{File: certFile, Err: unwrapPathError(err)}
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, &CertError{File: keyFile, Err: unwrapPathError(err)}
	}
	if !strings.Contains(string(certPEM), "-----BEGIN CERTIFICATE-----") {
		return nil, &CertError{File: certFile, Err: errors.New("no PEM certificate in it")}
	}
	if !strings.Contains(string(keyPEM), "PRIVATE KEY-----") {
		return nil, &CertError{File: keyFile, Err: errors.New("no PEM private key in it")}
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		msg := strings.TrimPrefix(err.Error(), "tls: ")
		if strings.Contains(msg, "does not match") {
			msg = "the key is not the certificate's (" + msg + ")"
		}
		return nil, &CertError{Err: fmt.Errorf("%s and %s: %s", certFile, keyFile, msg)}
	}
	return &pair, nil
}

// unwrapPathError drops the "open FILE:" that CertError already says.
func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// certFiles is a certificate loaded from files, reloaded at a handshake when either file's
// modification time or size changed (checked at most every interval). A reload that fails
// keeps the certificate in use and logs why.
type certFiles struct {
	certFile, keyFile string
	interval          time.Duration
	log               *slog.Logger

	mu        sync.Mutex
	cert      *tls.Certificate
	stamp     string // the files' mtimes and sizes when cert was read
	checked   time.Time
	lastError string // the last reload error logged (logged once until it changes)
}

func fileStamp(files ...string) string {
	var b strings.Builder
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil {
			fmt.Fprintf(&b, "%d.%d;", fi.ModTime().UnixNano(), fi.Size())
		} else {
			b.WriteString("-;")
		}
	}
	return b.String()
}

func (c *certFiles) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	if now.Sub(c.checked) < c.interval {
		return c.cert, nil
	}
	c.checked = now
	stamp := fileStamp(c.certFile, c.keyFile)
	if stamp == c.stamp {
		return c.cert, nil
	}
	pair, err := loadKeyPair(c.certFile, c.keyFile)
	if err != nil {
		if err.Error() != c.lastError {
			c.lastError = err.Error()
			c.log.Warn("tls: certificate files changed but cannot be loaded; serving the previous certificate", "err", err)
		}
		return c.cert, nil
	}
	c.cert, c.stamp, c.lastError = pair, stamp, ""
	c.log.Info("tls: certificate reloaded", certAttrs(pair)...)
	return c.cert, nil
}

// certAttrs are log attributes describing a certificate.
func certAttrs(c *tls.Certificate) []any {
	if c.Leaf == nil {
		return nil
	}
	return []any{"names", strings.Join(certNames(c.Leaf), ","), "not_after", c.Leaf.NotAfter.UTC().Format(time.RFC3339)}
}

// certNames are the DNS names and IP addresses a certificate is for.
func certNames(leaf *x509.Certificate) []string {
	names := append([]string(nil), leaf.DNSNames...)
	for _, ip := range leaf.IPAddresses {
		names = append(names, ip.String())
	}
	return names
}

// TLSFiles is a TLS configuration serving the certificate and key in certFile and keyFile
// (PEM; the certificate file may hold the chain after the leaf). It checks them now: a
// *CertError says what is wrong. Changed files are picked up by later handshakes, at most
// interval (0: CertCheckInterval) after the change.
func TLSFiles(certFile, keyFile string, interval time.Duration, log *slog.Logger) (*tls.Config, *x509.Certificate, error) {
	pair, err := loadKeyPair(certFile, keyFile)
	if err != nil {
		return nil, nil, err
	}
	if interval <= 0 {
		interval = CertCheckInterval
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if now := time.Now(); now.After(pair.Leaf.NotAfter) {
		log.Warn("tls: the certificate has expired; clients will refuse it", certAttrs(pair)...)
	}
	c := &certFiles{certFile: certFile, keyFile: keyFile, interval: interval, log: log,
		cert: pair, stamp: fileStamp(certFile, keyFile), checked: time.Now()}
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		NextProtos:     []string{"http/1.1"},
		GetCertificate: c.getCertificate,
	}, pair.Leaf, nil
}

// ACMEOptions configure TLSACME.
type ACMEOptions struct {
	// Domain is the one name the certificate is for; handshakes for other names fail.
	Domain string
	// CacheDir keeps the account key and certificates (created 0700).
	CacheDir string
	// Email is given to the CA for expiry notices ("" gives none).
	Email string
	// DirectoryURL is the CA's ACME directory; "" is Let's Encrypt's production one.
	DirectoryURL string
	// HTTPClient talks to the CA; nil is the default client.
	HTTPClient *http.Client
}

// ACME is a certificate obtained and renewed by ACME (TLS-ALPN-01): its Config serves it.
type ACME struct {
	Config *tls.Config
	m      *autocert.Manager
	domain string
}

// TLSACME prepares a TLS configuration whose certificate for o.Domain is obtained from the CA
// on the first handshake (or Obtain) and renewed 30 days before it expires; certificates and
// the account key are cached in o.CacheDir, so a restart reuses them. The CA validates the
// domain by connecting to its port 443 with TLS-ALPN-01, which this configuration answers:
// port 443 of the domain must reach this listener.
func TLSACME(o ACMEOptions) (*ACME, error) {
	if err := CheckDomain(o.Domain); err != nil {
		return nil, err
	}
	m := &autocert.Manager{
		Prompt:     autocert.AcceptTOS,
		Cache:      autocert.DirCache(o.CacheDir),
		HostPolicy: autocert.HostWhitelist(o.Domain),
		Email:      o.Email,
	}
	if o.DirectoryURL != "" || o.HTTPClient != nil {
		m.Client = &acme.Client{DirectoryURL: o.DirectoryURL, HTTPClient: o.HTTPClient}
		if o.DirectoryURL == "" {
			m.Client.DirectoryURL = autocert.DefaultACMEDirectory
		}
	}
	return &ACME{m: m, domain: o.Domain, Config: &tls.Config{
		MinVersion:     tls.VersionTLS12,
		NextProtos:     []string{"http/1.1", acme.ALPNProto},
		GetCertificate: m.GetCertificate,
	}}, nil
}

// Obtain gets the certificate now (from the cache, or from the CA) instead of on the first
// handshake, so a wrong DNS record or a closed port shows at start; it returns the
// certificate's leaf. It takes at most 5 minutes (autocert's own bound).
func (a *ACME) Obtain() (*x509.Certificate, error) {
	hello := &tls.ClientHelloInfo{ServerName: a.domain, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}}
	c, err := a.m.GetCertificate(hello)
	if err != nil {
		return nil, err
	}
	if c.Leaf != nil {
		return c.Leaf, nil
	}
	return x509.ParseCertificate(c.Certificate[0])
}

// CheckDomain accepts a DNS name with at least one dot: no scheme, port, IP address or
// wildcard (a CA will not issue a TLS-ALPN-01 certificate for those).
func CheckDomain(d string) error {
	switch {
	case d == "":
		return errors.New("no domain given")
	case strings.Contains(d, "://") || strings.ContainsAny(d, ":/"):
		return fmt.Errorf("%q: want a bare domain name such as party.example.com (no scheme, port or path)", d)
	case net.ParseIP(d) != nil:
		return fmt.Errorf("%q: a certificate authority issues certificates for domain names, not IP addresses", d)
	case strings.Contains(d, "*"):
		return fmt.Errorf("%q: wildcards need a DNS challenge, which is not supported", d)
	case !strings.Contains(strings.Trim(d, "."), "."):
		return fmt.Errorf("%q: want a public domain name such as party.example.com", d)
	}
	for _, r := range d {
		if !(r == '-' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return fmt.Errorf("%q: a domain name has only letters, digits, '-' and '.' (write an international name in its xn-- form)", d)
		}
	}
	return nil
}
