//go:build !windows

package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/letsencrypt/pebble/v2/ca"
	"github.com/letsencrypt/pebble/v2/db"
	"github.com/letsencrypt/pebble/v2/va"
	"github.com/letsencrypt/pebble/v2/wfe"

	"github.com/watchparty/watchparty/bench/syncbench"
	"github.com/watchparty/watchparty/server/servertest"
)

// serveProcess is a `watchparty serve` child process (the test binary; testscript.Main puts
// it on PATH).
type serveProcess struct {
	cmd    *exec.Cmd
	stdout chan string // lines
	stderr chan string
	done   chan struct{}
	once   sync.Once
}

func startServe(t *testing.T, env []string, args ...string) *serveProcess {
	t.Helper()
	cmd := exec.Command("watchparty", append([]string{"serve"}, args...)...)
	cmd.Env = env
	outR, _ := cmd.StdoutPipe()
	errR, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serveProcess{cmd: cmd, stdout: make(chan string, 100), stderr: make(chan string, 1000), done: make(chan struct{})}
	lines := func(r io.Reader, ch chan string) {
		s := bufio.NewScanner(r)
		for s.Scan() {
			ch <- s.Text()
		}
		close(ch)
	}
	go lines(outR, p.stdout)
	go lines(errR, p.stderr)
	t.Cleanup(func() { p.stop(t) })
	return p
}

// stop ends serve with SIGTERM (SIGKILL after 20 s); once.
func (p *serveProcess) stop(t *testing.T) {
	p.once.Do(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- p.cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Errorf("serve did not stop within 20 s of SIGTERM")
			_ = p.cmd.Process.Kill()
			<-done
		}
	})
}

// waitLine returns the first line from ch matching re, failing after 60 s.
func waitLine(t *testing.T, ch <-chan string, re *regexp.Regexp, what string) []string {
	t.Helper()
	deadline := time.After(60 * time.Second)
	var seen []string
	for {
		select {
		case l, ok := <-ch:
			if !ok {
				t.Fatalf("%s: the output ended without it; it was:\n%s", what, strings.Join(seen, "\n"))
			}
			seen = append(seen, l)
			if m := re.FindStringSubmatch(l); m != nil {
				return m
			}
		case <-deadline:
			t.Fatalf("%s: not within 60 s; output:\n%s", what, strings.Join(seen, "\n"))
		}
	}
}

// TestServeTLS: `watchparty serve --tls-cert --tls-key` with a certificate made here; real
// clients reach it over https and wss: `watchparty create`, and `watchparty join --headless`
// with mpv (its Realtime socket is wss, derived from the https URL), trusting the test CA
// through SSL_CERT_FILE, as a user trusting a private CA would.
func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	tc := servertest.NewTestCA(t, dir)
	srv := startServe(t, os.Environ(), "--tls-cert", tc.CertFile, "--tls-key", tc.KeyFile,
		"--listen", "127.0.0.1:0", "--data", filepath.Join(dir, "data"), "--log-format", "json", "--metrics-listen", "127.0.0.1:0")
	url := waitLine(t, srv.stdout, regexp.MustCompile(`listening on (https://127\.0\.0\.1:\d+)$`), "serve's https URL")[1]
	metricsURL := waitLine(t, srv.stdout, regexp.MustCompile(`^metrics on (http://127\.0\.0\.1:\d+/metrics)$`), "serve's metrics URL")[1]

	// /healthz over https, trusting the CA.
	pool := x509.NewCertPool()
	caPEM, _ := os.ReadFile(tc.CAFile)
	pool.AppendCertsFromPEM(caPEM)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 10 * time.Second}
	defer hc.CloseIdleConnections()
	resp, err := hc.Get(url + "/healthz")
	if err != nil {
		t.Fatalf("GET /healthz over https: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.TLS == nil || resp.TLS.NegotiatedProtocol == "h2" {
		t.Fatalf("GET /healthz: status %d, tls %v", resp.StatusCode, resp.TLS != nil)
	}

	// The metrics are on their own listener, not on the API's.
	if resp, err := hc.Get(url + "/metrics"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("GET /metrics on the API listener: %v %v, want 404", err, resp)
	} else {
		resp.Body.Close()
	}
	scrapeMetrics := func() string {
		t.Helper()
		resp, err := http.Get(metricsURL)
		if err != nil {
			t.Fatalf("scrape: %v", err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if m := scrapeMetrics(); !strings.Contains(m, "watchparty_realtime_connections 0") {
		t.Fatalf("metrics before any client:\n%s", m)
	}

	home := filepath.Join(dir, "home")
	env := append(os.Environ(), "WATCHPARTY_SERVER="+url, "WATCHPARTY_HOME="+home, "NO_COLOR=1")
	// Without trusting the CA, a client refuses the server, and says why.
	cmd := exec.Command("watchparty", "create", "--name", "alice")
	cmd.Env = append(env, "SSL_CERT_FILE="+filepath.Join(dir, "nothing.pem"), "SSL_CERT_DIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || !strings.Contains(string(out), "certificate") {
		t.Fatalf("create against an untrusted certificate: %v, %q; want a failure about the certificate", err, out)
	}

	env = append(env, "SSL_CERT_FILE="+tc.CAFile)
	cmd = exec.Command("watchparty", "create", "--name", "alice")
	cmd.Env = env
	out, err = cmd.Output()
	if err != nil {
		t.Fatalf("create over https: %v", err)
	}
	roomID := strings.TrimSpace(string(out))
	if err := syncbench.NeedPrograms(); err != nil {
		t.Logf("join over wss not run: needs mpv and ffmpeg: %v", err)
		return
	}
	clip := filepath.Join(dir, "clip.mp4")
	if err := syncbench.MakeClip(clip, 10); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	join := exec.CommandContext(ctx, "watchparty", "join", roomID, "--name", "alice", "--media", clip, "--headless",
		"--mpv-socket", filepath.Join(dir, "mpv.sock"), "--mpv-arg=--vo=null", "--mpv-arg=--ao=null")
	join.Env = env
	join.Cancel = func() error { return join.Process.Signal(syscall.SIGTERM) }
	var stdout, stderr lockedBuffer
	join.Stdout, join.Stderr = &stdout, &stderr
	if err := join.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- join.Wait() }()
	for !strings.Contains(stdout.String(), "connected") {
		select {
		case err := <-exited:
			t.Fatalf("join over wss ended early: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if ctx.Err() != nil {
			t.Fatalf("join over wss did not connect within 60 s\nstdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
		}
	}
	// The server counts the wss connection.
	if m := scrapeMetrics(); !strings.Contains(m, "watchparty_realtime_connections 1") {
		t.Errorf("metrics with join connected: %s", regexp.MustCompile(`(?m)^watchparty_realtime_connections.*$`).FindString(m))
	}
	_ = join.Process.Signal(syscall.SIGTERM)
	if err := <-exited; err != nil {
		t.Errorf("join after SIGTERM: %v\n%s", err, stderr.String())
	}
}

// TestServeBadCertificate: a missing, unreadable, non-PEM or mismatched --tls-cert/--tls-key is
// a usage error (exit 2) with one line saying which file and what is wrong.
func TestServeBadCertificate(t *testing.T) {
	dir := t.TempDir()
	tc := servertest.NewTestCA(t, dir)
	other := servertest.NewTestCA(t, t.TempDir()) // a key that is not tc's certificate's
	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, cert, key, want string
	}{
		{"missing certificate", filepath.Join(dir, "nope.pem"), tc.KeyFile, "nope.pem: no such file or directory"},
		{"missing key", tc.CertFile, filepath.Join(dir, "nope-key.pem"), "nope-key.pem: no such file or directory"},
		{"not PEM", garbage, tc.KeyFile, "garbage.pem: no PEM certificate in it"},
		{"key not PEM", tc.CertFile, garbage, "garbage.pem: no PEM private key in it"},
		{"mismatched", tc.CertFile, other.KeyFile, "the key is not the certificate's"},
		{"only the certificate", tc.CertFile, "", "--tls-cert and --tls-key go together"},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := []string{"serve", "--data", filepath.Join(dir, "data"), "--listen", "127.0.0.1:0", "--tls-cert", c.cert}
			if c.key != "" {
				args = append(args, "--tls-key", c.key)
			}
			cmd := exec.Command("watchparty", args...)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			err := cmd.Run()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != exitUsage {
				t.Fatalf("exit: %v, want %d; stderr %q", err, exitUsage, stderr.String())
			}
			if s := stderr.String(); !strings.Contains(s, c.want) || strings.Count(s, "\n") != 1 || !strings.HasPrefix(s, "watchparty: ") {
				t.Fatalf("stderr %q: want one line containing %q", s, c.want)
			}
		})
	}
}

// TestServeACME: `watchparty serve --domain` obtains its certificate from Pebble, a test ACME
// server run in this process (challenges always valid, no random sleeps), through
// WATCHPARTY_ACME_DIRECTORY; a client trusting Pebble's root reaches it by the domain name,
// and the log lines are JSON (--log-format json).
func TestServeACME(t *testing.T) {
	t.Setenv("PEBBLE_VA_ALWAYS_VALID", "1")
	t.Setenv("PEBBLE_VA_NOSLEEP", "1")
	plog := log.New(io.Discard, "", 0)
	if testing.Verbose() {
		plog = log.New(os.Stderr, "pebble ", log.Lmicroseconds)
	}
	store := db.NewMemoryStore()
	authority := ca.New(plog, store, "", "ecdsa", 0, 1, map[string]ca.Profile{"default": {Description: "default"}})
	vaImpl := va.New(plog, 0, 0, false, "", store)
	front := wfe.New(plog, store, vaImpl, authority, []string{"pebble.letsencrypt.org"}, false, false, 0, 0)
	acmeSrv := httptest.NewTLSServer(front.Handler())
	defer acmeSrv.Close()

	dir := t.TempDir()
	// The server trusts Pebble's own HTTPS certificate for the directory.
	servertest.WritePEM(t, filepath.Join(dir, "pebble-https.pem"), "CERTIFICATE", acmeSrv.Certificate().Raw)
	const domain = "party.watchparty.test"
	env := append(os.Environ(), acmeDirectoryEnv+"="+acmeSrv.URL+wfe.DirectoryPath, "SSL_CERT_FILE="+filepath.Join(dir, "pebble-https.pem"))
	data := filepath.Join(dir, "data")
	start := time.Now()
	srv := startServe(t, env, "--domain", domain, "--listen", "127.0.0.1:0", "--data", data, "--log-format", "json")
	port := waitLine(t, srv.stdout, regexp.MustCompile(`listening on https://`+regexp.QuoteMeta(domain)+`:(\d+)$`), "serve's https URL")[1]

	awaitCertificate(t, srv)
	t.Logf("certificate obtained from pebble in %v", time.Since(start).Round(time.Millisecond))

	// A client trusting Pebble's root, dialing the domain (resolved here to loopback).
	root := authority.GetRootCert(0)
	pool := x509.NewCertPool()
	pool.AddCert(root.Cert)
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, "127.0.0.1:"+port)
		},
	}}
	defer hc.CloseIdleConnections()
	resp, err := hc.Get("https://" + domain + ":" + port + "/healthz")
	if err != nil {
		t.Fatalf("GET /healthz by the domain name: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /healthz: %d", resp.StatusCode)
	}
	if names := resp.TLS.PeerCertificates[0].DNSNames; len(names) != 1 || names[0] != domain {
		t.Fatalf("certificate names %v, want [%s]", names, domain)
	}
	// Another name is refused: the certificate is for the one domain.
	conn, err := tls.Dial("tcp", "127.0.0.1:"+port, &tls.Config{ServerName: "other.watchparty.test", RootCAs: pool})
	if err == nil {
		conn.Close()
		t.Fatal("a handshake for another name succeeded")
	}
	// The certificate is cached in the data directory, kept apart from production's.
	host := strings.TrimPrefix(acmeSrv.URL, "https://")
	if _, err := os.Stat(filepath.Join(data, "acme", strings.ReplaceAll(host, ":", "_"), domain)); err != nil {
		t.Fatalf("certificate not cached: %v", err)
	}

	// A restart serves the cached certificate without asking the CA, which is gone now.
	acmeSrv.Close()
	srv.stop(t)
	srv = startServe(t, env, "--domain", domain, "--listen", "127.0.0.1:0", "--data", data, "--log-format", "json")
	waitLine(t, srv.stdout, regexp.MustCompile(`listening on https://`), "serve's https URL")
	awaitCertificate(t, srv)
}

// awaitCertificate reads serve's stderr until it logs that the certificate is ready; every line
// must be a JSON object with time, level and msg (--log-format json).
func awaitCertificate(t *testing.T, srv *serveProcess) {
	t.Helper()
	deadline := time.After(60 * time.Second)
	for ready := false; !ready; {
		select {
		case l, ok := <-srv.stderr:
			if !ok {
				t.Fatal("serve's stderr ended before the certificate was ready")
			}
			var rec map[string]any
			if err := json.Unmarshal([]byte(l), &rec); err != nil {
				t.Fatalf("log line is not JSON: %q: %v", l, err)
			}
			if rec["time"] == nil || rec["level"] == nil || rec["msg"] == nil {
				t.Fatalf("log line without time, level or msg: %q", l)
			}
			switch rec["msg"] {
			case "tls: certificate ready":
				ready = true
			case "tls: cannot obtain a certificate; check that the domain's DNS points at this machine and that its port 443 reaches this server":
				t.Fatalf("serve could not obtain the certificate: %s", l)
			}
		case <-deadline:
			t.Fatal("no certificate within 60 s")
		}
	}
}
