package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/watchparty/watchparty/server"
)

func TestSessionSavedAndReused(t *testing.T) {
	ts := startServer(t, server.Config{})
	dir := filepath.Join(t.TempDir(), "sessions")
	ctx := context.Background()
	newClient := func() *Client {
		c, err := NewClient(ts.URL(), ts.anonKey, Options{SessionDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}

	c1 := newClient()
	s1, err := c1.Auth.EnsureSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s1.UserID == "" || s1.AccessToken == "" || s1.RefreshToken == "" || time.Until(s1.Expiry()) < 50*time.Minute {
		t.Fatalf("session = %+v", s1)
	}
	for path, want := range map[string]os.FileMode{dir: 0o700, c1.Auth.SessionFile(): 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Fatalf("%s mode %v, want %v", path, fi.Mode().Perm(), want)
		}
	}
	c1.Close()

	// A new process with the same directory is the same user, without signing up again.
	c2 := newClient()
	s2, err := c2.Auth.EnsureSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s2 != s1 {
		t.Fatalf("reloaded session %+v, want the saved %+v", s2, s1)
	}

	// Refresh rotates the refresh token, keeps the user and saves the result.
	s3, err := c2.Auth.Refresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s3.UserID != s1.UserID || s3.RefreshToken == s1.RefreshToken {
		t.Fatalf("refreshed session %+v from %+v", s3, s1)
	}
	var saved savedSession
	b, _ := os.ReadFile(c2.Auth.SessionFile())
	if err := json.Unmarshal(b, &saved); err != nil || saved.Session != s3 || saved.URL != ts.URL() {
		t.Fatalf("saved file %s, want session %+v (%v)", b, s3, err)
	}

	// Two processes sharing the session refresh at the same moment: both succeed and stay the
	// same user (the server's reuse window; a strictly one-time token would log one out).
	c3, c4 := newClient(), newClient()
	for _, c := range []*Client{c3, c4} {
		if _, err := c.Auth.EnsureSession(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, c := range []*Client{c3, c4} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = c.Auth.Refresh(ctx)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("concurrent refresh %d: %v", i, err)
		}
	}
	if c3.Auth.UserID() != s1.UserID || c4.Auth.UserID() != s1.UserID {
		t.Fatal("a concurrent refresh changed the user")
	}

	// A saved session whose refresh token the server does not know (expired access token):
	// EnsureSession signs in as a new user instead of failing forever.
	bad := savedSession{URL: ts.URL(), Session: Session{UserID: s1.UserID, AccessToken: "x.y.z", RefreshToken: "bogus", ExpiresAt: time.Now().Add(-time.Hour).Unix()}}
	b, _ = json.Marshal(bad)
	if err := os.WriteFile(c2.Auth.SessionFile(), b, 0o600); err != nil {
		t.Fatal(err)
	}
	c5 := newClient()
	s5, err := c5.Auth.EnsureSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s5.UserID == s1.UserID || s5.UserID == "" {
		t.Fatalf("after a dead refresh token: user %q, want a new one", s5.UserID)
	}

	// A different server gets its own file.
	if sessionFileName("http://127.0.0.1:1") == sessionFileName("http://127.0.0.1:2") {
		t.Fatal("two servers share a session file name")
	}

	// Sign out forgets the session and removes the file; requests then go as anon.
	if err := c5.Auth.SignOut(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(c5.Auth.SessionFile()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("session file after sign out: %v", err)
	}
	if err := c5.Functions.Invoke(ctx, "rooms/create", map[string]any{"username": "x"}, nil); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("create after sign out: %v, want ErrUnauthorized", err)
	}
}

func TestRefreshKeepsChannelAuthorized(t *testing.T) {
	ts := startServer(t, server.Config{})
	// A margin just under the token's hour makes the refresher renew about every 1.5 s.
	c, err := NewClient(ts.URL(), ts.anonKey, Options{SessionDir: t.TempDir(), RefreshMargin: time.Hour - 1500*time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s0, err := c.Auth.EnsureSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sock, err := c.NewSocket(fastSocket())
	if err != nil {
		t.Fatal(err)
	}
	u := &user{c: c, sock: sock, id: s0.UserID}
	roomID := u.createRoom(t, "host")
	rc := u.roomChannel(t, roomID, ChannelOptions{BroadcastAck: true})
	rc.subscribe(t)

	// The refresher renews the token and the socket follows it.
	waitFor(t, 10*time.Second, "a refreshed token", func() bool {
		s, _ := c.Auth.Session()
		return s.AccessToken != s0.AccessToken
	})
	s1, _ := c.Auth.Session()
	waitFor(t, 2*time.Second, "the socket to hold the new token", func() bool { return sock.accessToken() == s1.AccessToken })
	if s1.UserID != s0.UserID {
		t.Fatal("refresh changed the user")
	}

	// The channel's identity follows access_token pushes: with the anon key it is nobody and
	// receives no room rows (RLS); with the user's token again it does. A broadcast with ack
	// after each push proves the server has read the push first (as nobody, the broadcast
	// itself is refused: room channels take broadcasts from members only).
	sock.SetAuth(ts.anonKey)
	if err := rc.ch.Send(ctx, "fence", map[string]any{}); err != nil && !strings.Contains(err.Error(), "Unauthorized") {
		t.Fatal(err)
	}
	u.comment(t, roomID, "while anonymous")
	sock.SetAuth(c.Auth.currentToken())
	if err := rc.ch.Send(ctx, "fence", map[string]any{}); err != nil {
		t.Fatal(err)
	}
	u.comment(t, roomID, "signed in again")
	rc.waitChange(t, "comments", "INSERT", func(r map[string]any) bool { return r["message"] == "signed in again" })
	if n := rc.changes.count(func(c Change) bool {
		return c.Table == "comments" && string(c.New) != "" && strings.Contains(string(c.New), "while anonymous")
	}); n != 0 {
		t.Fatalf("a change reached the channel while it held the anon key")
	}
	if st := rc.ch.State(); st != StateJoined {
		t.Fatalf("channel state %v after token pushes, want joined", st)
	}
}

// TestSignInAfterSubscribe is supabase-js's subscribe-before-sign-in race. Room channels are
// for the room's members, so the join with the anon key is refused; the channel keeps
// retrying, the sign-in's new token reaches the socket, and once the user has joined the room
// the channel joins and receives the room's rows.
func TestSignInAfterSubscribe(t *testing.T) {
	ts := startServer(t, server.Config{})
	host := newUser(t, ts.URL(), ts.anonKey, SocketOptions{})
	roomID := host.createRoom(t, "host")

	c, err := NewClient(ts.URL(), ts.anonKey, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sock, err := c.NewSocket(fastSocket())
	if err != nil {
		t.Fatal(err)
	}
	if sock.accessToken() != ts.anonKey {
		t.Fatal("a socket without a session does not use the anon key")
	}
	late := &user{c: c, sock: sock}
	rc := late.roomChannel(t, roomID, ChannelOptions{PresenceKey: "nobody-yet"})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	subscribed := make(chan error, 1)
	go func() { subscribed <- rc.ch.Subscribe(ctx) }()
	ev := rc.statuses.wait(t, 5*time.Second, "the anonymous join refused", func(e StatusEvent) bool { return e.Status == ChannelError })
	if !errors.Is(ev.Err, ErrNotAllowed) {
		t.Fatalf("anonymous join of a room channel: %v, want ErrNotAllowed", ev.Err)
	}

	s, err := c.Auth.SignInAnonymously(ctx, map[string]any{"username": "late"})
	if err != nil {
		t.Fatal(err)
	}
	if sock.accessToken() != s.AccessToken {
		t.Fatal("the sign-in did not reach the socket")
	}
	late.id = s.UserID
	late.joinRoom(t, roomID, "late")
	if err := <-subscribed; err != nil {
		t.Fatalf("Subscribe after joining the room: %v", err)
	}
	host.comment(t, roomID, "hello late")
	rc.waitChange(t, "comments", "INSERT", func(r map[string]any) bool { return r["message"] == "hello late" })
}

// A session saved under a server key (its identity) is the same user whatever URL reaches
// the server; a session an older version saved under a URL is adopted, not lost.
func TestSessionKeyedByServer(t *testing.T) {
	ts := startServer(t, server.Config{})
	dir := filepath.Join(t.TempDir(), "sessions")
	ctx := context.Background()
	port := ts.URL()[strings.LastIndex(ts.URL(), ":")+1:]
	other := "http://localhost:" + port
	newClient := func(url string, opts Options) *Client {
		opts.SessionDir = dir
		c, err := NewClient(url, ts.anonKey, opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}

	// An older version's session, keyed by the URL text.
	legacy := newClient(ts.URL(), Options{})
	s0, err := legacy.Auth.EnsureSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	legacyFile := legacy.Auth.SessionFile()

	// Keyed by the server: the session saved under this URL is moved to the key.
	c1 := newClient(ts.URL(), Options{SessionKey: "watchparty:one"})
	s1, err := c1.Auth.EnsureSession(ctx)
	if err != nil || s1.UserID != s0.UserID {
		t.Fatalf("keyed session %+v (%v), want the saved user %s", s1, err, s0.UserID)
	}
	if _, err := os.Stat(legacyFile); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the adopted file is still there: %v", err)
	}
	var saved savedSession
	b, _ := os.ReadFile(c1.Auth.SessionFile())
	if err := json.Unmarshal(b, &saved); err != nil || saved.Server != "watchparty:one" || saved.UserID != s0.UserID {
		t.Fatalf("saved %s", b)
	}

	// Another URL of the same server: the same user.
	c2 := newClient(other, Options{SessionKey: "watchparty:one"})
	if s2, err := c2.Auth.EnsureSession(ctx); err != nil || s2.UserID != s0.UserID {
		t.Fatalf("by %s: %+v (%v), want user %s", other, s2, err, s0.UserID)
	}

	// A legacy session saved under another URL is adopted when SameServer says that URL is
	// this server; not when it says otherwise.
	legacy2 := newClient(other, Options{})
	s3, err := legacy2.Auth.EnsureSession(ctx)
	if err != nil || s3.UserID == s0.UserID {
		t.Fatalf("second legacy session %+v (%v)", s3, err)
	}
	no := newClient(ts.URL(), Options{SessionKey: "watchparty:two", SameServer: func(context.Context, string) bool { return false }})
	if s, err := no.Auth.EnsureSession(ctx); err != nil || s.UserID == s3.UserID {
		t.Fatalf("adopted a session SameServer refused: %+v (%v)", s, err)
	}
	yes := newClient(ts.URL(), Options{SessionKey: "watchparty:three", SameServer: func(_ context.Context, u string) bool { return u == other }})
	if s, err := yes.Auth.EnsureSession(ctx); err != nil || s.UserID != s3.UserID {
		t.Fatalf("did not adopt the session saved under %s: %+v (%v)", other, s, err)
	}

	// Keyed by the URL (a Supabase project), a session saved under another spelling of it is
	// adopted when SameServer says so.
	upper := "http://LOCALHOST:" + port
	legacy3 := newClient(upper, Options{})
	s6, err := legacy3.Auth.EnsureSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lower := newClient(other, Options{SameServer: func(_ context.Context, u string) bool { return strings.EqualFold(u, other) }})
	if s, err := lower.Auth.EnsureSession(ctx); err != nil || s.UserID != s6.UserID {
		t.Fatalf("by %s: %+v (%v), want the user saved under %s", other, s, err, upper)
	}

	// A file of one key is not read for another.
	b, _ = os.ReadFile(c1.Auth.SessionFile())
	c4 := newClient(ts.URL(), Options{SessionKey: "watchparty:four"})
	if err := os.WriteFile(c4.Auth.SessionFile(), b, 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := c4.Auth.EnsureSession(ctx); err != nil || s.UserID == s0.UserID {
		t.Fatalf("a session copied from another key was used: %+v (%v)", s, err)
	}
}

// The first commands of a person started together (the screen and a script) sign up once:
// they are one user, not two strangers.
func TestFirstSignInOncePerPerson(t *testing.T) {
	ts := startServer(t, server.Config{})
	dir := filepath.Join(t.TempDir(), "sessions")
	const n = 6
	ids := make(chan string, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := NewClient(ts.URL(), ts.anonKey, Options{SessionDir: dir})
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			s, err := c.Auth.EnsureSession(context.Background())
			if err != nil {
				t.Error(err)
				return
			}
			ids <- s.UserID
		}()
	}
	wg.Wait()
	close(ids)
	seen := map[string]bool{}
	for id := range ids {
		seen[id] = true
	}
	if len(seen) != 1 {
		t.Fatalf("%d clients started together became %d users", n, len(seen))
	}
}
