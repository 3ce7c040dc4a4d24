package server_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/watchparty/watchparty/server"
	"github.com/watchparty/watchparty/server/servertest"
)

// serial is the serial number of the certificate conf serves.
func serial(t *testing.T, conf *tls.Config) string {
	t.Helper()
	c, err := conf.GetCertificate(&tls.ClientHelloInfo{ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(c.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	return leaf.SerialNumber.String()
}

// TestTLSFilesReload: replaced certificate files are served from the next handshake after
// the check interval; files that cannot be loaded keep the previous certificate.
func TestTLSFilesReload(t *testing.T) {
	dir := t.TempDir()
	first := servertest.NewTestCA(t, dir)
	conf, leaf, err := server.TLSFiles(first.CertFile, first.KeyFile, time.Nanosecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	was := serial(t, conf)
	if was != leaf.SerialNumber.String() {
		t.Fatalf("serves %s, loaded %s", was, leaf.SerialNumber)
	}
	// A renewal writes both files (a new key too).
	second := servertest.NewTestCA(t, t.TempDir())
	for src, dst := range map[string]string{second.CertFile: first.CertFile, second.KeyFile: first.KeyFile} {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	renewed := serial(t, conf)
	if renewed == was {
		t.Fatalf("still serves %s after the files changed", was)
	}
	// Half a renewal (the certificate written, the old key still there): keep serving the last
	// good pair.
	third := servertest.NewTestCA(t, t.TempDir())
	b, _ := os.ReadFile(third.CertFile)
	if err := os.WriteFile(first.CertFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if got := serial(t, conf); got != renewed {
		t.Fatalf("serves %s after a mismatched pair was written, want the previous %s", got, renewed)
	}
}

// TestTLSFilesErrors: each unusable pair is a *CertError naming the file and the fault.
func TestTLSFilesErrors(t *testing.T) {
	dir := t.TempDir()
	c := servertest.NewTestCA(t, dir)
	other := servertest.NewTestCA(t, t.TempDir())
	unreadable := filepath.Join(dir, "unreadable.pem")
	if err := os.WriteFile(unreadable, []byte("x"), 0o000); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ cert, key, want string }{
		{filepath.Join(dir, "missing.pem"), c.KeyFile, "missing.pem: no such file or directory"},
		{c.CertFile, other.KeyFile, "the key is not the certificate's"},
		{c.KeyFile, c.KeyFile, "no PEM certificate in it"},
		{c.CertFile, c.CertFile, "no PEM private key in it"},
	}
	if os.Geteuid() != 0 { // root reads any file
		cases = append(cases, struct{ cert, key, want string }{unreadable, c.KeyFile, "permission denied"})
	}
	for _, tc := range cases {
		_, _, err := server.TLSFiles(tc.cert, tc.key, 0, nil)
		var ce *server.CertError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("TLSFiles(%s, %s) = %v, want a CertError containing %q", filepath.Base(tc.cert), filepath.Base(tc.key), err, tc.want)
		}
	}
}

// TestCheckDomain: --domain takes a bare DNS name.
func TestCheckDomain(t *testing.T) {
	for _, ok := range []string{"party.example.com", "a-b.example.org"} {
		if err := server.CheckDomain(ok); err != nil {
			t.Errorf("CheckDomain(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "https://party.example.com", "party.example.com:443", "192.0.2.1", "*.example.com", "localhost", "bad_name.example.com"} {
		if err := server.CheckDomain(bad); err == nil {
			t.Errorf("CheckDomain(%q) accepted", bad)
		}
	}
}
