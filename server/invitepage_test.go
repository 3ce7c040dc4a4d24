package server_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/watchparty/watchparty/server"
	"github.com/watchparty/watchparty/server/servertest"
)

// The invite page as served: one static page, a strict CSP, nothing from elsewhere, and the
// same answer whether the room exists or not.
func TestInvitePageServed(t *testing.T) {
	s := servertest.Start(t, server.Config{})
	api := s.API().For(t)
	alice := api.SignUp()
	roomID := api.CreateRoom(alice.AccessToken, "alice")
	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := http.Get(s.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, page := get("/join/" + roomID)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET /join/ROOM: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'sha256-", "style-src 'sha256-", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe") || strings.Contains(csp, "http") {
		t.Errorf("CSP %q allows inline code or another origin", csp)
	}
	for _, h := range []string{"X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("no %s header", h)
		}
	}
	// Nothing is loaded from anywhere: no src, no stylesheet link, no url() or @import.
	if m := regexp.MustCompile(`(?i)\ssrc=|<link|url\(|@import|<iframe|<object|<embed`).FindString(page); m != "" {
		t.Errorf("the page loads something (%q)", m)
	}
	if !strings.Contains(page, "watchparty join") {
		t.Error("the page does not show the command")
	}
	// The same page for an unknown room: it tells nothing about which rooms exist.
	if _, other := get("/join/zzzzzzzzzz"); other != page {
		t.Error("the page of an unknown room differs")
	}
	if resp, _ := get("/join/NOT-A-ROOM"); resp.StatusCode != 404 {
		t.Errorf("a malformed room: %d, want 404", resp.StatusCode)
	}
}

// The invite page in a real browser (Debian's Chromium, headless): it renders, its inline
// script runs under the CSP and shows the command with the whole link, secret included.
func TestInvitePageInChromium(t *testing.T) {
	chromium := chromiumPath(t)
	s := servertest.Start(t, server.Config{})
	api := s.API().For(t)
	alice := api.SignUp()
	roomID := api.CreateRoom(alice.AccessToken, "alice")
	link := s.URL + "/join/" + roomID + "#s=" + api.InviteSecret(roomID)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, chromiumArgs(t, "--dump-dom", link)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	dom := string(out)
	want := "watchparty join '" + link + "'"
	if !strings.Contains(dom, want) {
		t.Fatalf("the rendered page does not show %q:\n%s\n%s", want, dom, stderr.String())
	}
	if !strings.Contains(dom, "You are invited to a watch party") {
		t.Fatalf("the page did not render:\n%s", dom)
	}
	if strings.Contains(stderr.String(), "Content Security Policy") {
		t.Errorf("the browser reported a CSP violation:\n%s", stderr.String())
	}
}

// chromiumPath is Debian's Chromium (.ci/run installs it); without it the test is skipped,
// except on CI, where it must run.
func chromiumPath(t *testing.T) string {
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed (apt-get install chromium)")
	}
	t.Skip("chromium is not installed")
	return ""
}

// chromiumArgs runs Chromium headless with nothing going out: no background networking, and
// every non-loopback request sent to a proxy on a closed loopback port.
func chromiumArgs(t *testing.T, args ...string) []string {
	return append([]string{
		"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
		"--user-data-dir=" + t.TempDir(),
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-default-apps", "--disable-domain-reliability", "--no-pings", "--dns-prefetch-disable",
		"--disable-client-side-phishing-detection", "--metrics-recording-only",
		"--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=127.0.0.1",
		"--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000",
	}, args...)
}
