package room

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestParseServerURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:54321":      "http://127.0.0.1:54321",
		"127.0.0.1:54321":             "http://127.0.0.1:54321",
		"HTTP://LocalHost:54321/":     "http://localhost:54321",
		"https://abc.supabase.co":     "https://abc.supabase.co",
		"https://ABC.supabase.co:443": "https://abc.supabase.co",
		"http://[::1]:54321":          "http://[::1]:54321",
		" http://h:80 ":               "http://h",
	} {
		if got, err := ParseServerURL(in); err != nil || got != want {
			t.Errorf("ParseServerURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "ftp://x", "http://", ":54321", "http://h:99999", "http://h:x", "http://h/rest/v1",
		"http://h?x=1", "http://h#f", "http://u:p@h", "http://[::1"} {
		if got, err := ParseServerURL(in); !errors.Is(err, ErrBadServerURL) {
			t.Errorf("ParseServerURL(%q) = %q, %v; want ErrBadServerURL", in, got, err)
		}
	}
}

// Identify's errors name the problem and what to do, never Go's `Get "…"`.
func TestIdentifyErrors(t *testing.T) {
	notWP := httptest.NewServer(http.NotFoundHandler())
	defer notWP.Close()
	html := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotImplemented)
		w.Write([]byte("<html><body>nope</body></html>"))
	}))
	defer html.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()
	for _, c := range []struct {
		srv  Server
		want string
	}{
		{Server{URL: notWP.URL}, "not a watchparty server"},
		{Server{URL: closedURL}, "nothing listens there"},
		{Server{URL: "http://nonexistent.invalid"}, "no such host"},
		{Server{URL: html.URL}, "answered 501"},
		{Server{URL: strings.Replace(notWP.URL, "http:", "https:", 1)}, "use http://"},
	} {
		_, err := Identify(context.Background(), c.srv)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), `Get "`) {
			t.Errorf("Identify(%s) = %v, want %q", c.srv.URL, err, c.want)
		}
	}
	// With an anon key, a server without /watchparty/v1/info is taken as Supabase, its URL
	// its identity; signing in there says what it answered, not its HTML.
	srv, err := Identify(context.Background(), Server{URL: html.URL + "/", AnonKey: "k"})
	if err == nil {
		t.Fatalf("identified %+v", srv)
	}
	srv, err = Identify(context.Background(), Server{URL: notWP.URL + "/", AnonKey: "k"})
	if err != nil || srv.SessionKey != notWP.URL || srv.URL != notWP.URL {
		t.Fatalf("Identify with a key = %+v, %v", srv, err)
	}
	_, err = Connect(context.Background(), Server{URL: html.URL, AnonKey: "k", SessionKey: html.URL})
	if err == nil || strings.Contains(err.Error(), "<html") || !strings.Contains(err.Error(), "answered 501") {
		t.Fatalf("sign in to an HTML server: %v", err)
	}
}
