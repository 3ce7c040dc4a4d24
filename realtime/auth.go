package realtime

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Session is a signed-in (anonymous) user: what GoTrue returns and what is saved per server.
type Session struct {
	UserID       string `json:"user_id"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	// ExpiresAt is the access token's expiry, Unix seconds.
	ExpiresAt int64 `json:"expires_at"`
}

// Expiry returns when the access token expires.
func (s Session) Expiry() time.Time { return time.Unix(s.ExpiresAt, 0) }

// valid reports whether the access token has more than margin left.
func (s Session) valid(now time.Time, margin time.Duration) bool {
	return s.AccessToken != "" && s.Expiry().Sub(now) > margin
}

// Auth is the GoTrue subset: anonymous sign-in, refresh, sign-out, with the session saved per
// server (user id + refresh token, a 0600 file) so the user id stays the same across runs and
// between processes sharing the directory. Safe for concurrent use.
type Auth struct {
	c      *Client
	file   string // "" when not saved
	key    string // what the saved session is for: Options.SessionKey, else the URL
	same   func(ctx context.Context, url string) bool
	margin time.Duration

	refreshMu sync.Mutex // one sign-in or refresh at a time

	mu      sync.Mutex
	session *Session
	wake    chan struct{} // refresher: the session changed
	running bool
	done    chan struct{}

	ctx    context.Context // cancelled by stop
	cancel context.CancelFunc
}

func newAuth(c *Client, opts Options, margin time.Duration) *Auth {
	a := &Auth{c: c, key: opts.SessionKey, same: opts.SameServer, margin: margin, wake: make(chan struct{}, 1), done: make(chan struct{})}
	if a.key == "" {
		a.key = c.baseURL
	}
	a.ctx, a.cancel = context.WithCancel(context.Background())
	if opts.SessionDir != "" {
		a.file = filepath.Join(opts.SessionDir, sessionFileName(a.key))
	}
	return a
}

// sessionFileName is a readable, collision-free file name for a session key (a server URL,
// "127.0.0.1_54321-1a2b3c4d.json", or a server identity, "watchparty_3f…-1a2b3c4d.json").
func sessionFileName(baseURL string) string {
	u, _ := url.Parse(baseURL)
	host := baseURL
	if u != nil && u.Host != "" {
		host = u.Host + u.Path
	}
	clean := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-':
			return r
		}
		return '_'
	}, host)
	if len(clean) > 64 {
		clean = clean[:64]
	}
	sum := sha256.Sum256([]byte(baseURL))
	return clean + "-" + hex.EncodeToString(sum[:4]) + ".json"
}

// SessionFile returns the path of the saved session ("" when sessions are not saved).
func (a *Auth) SessionFile() string { return a.file }

// Session returns the current session, if any.
func (a *Auth) Session() (Session, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.session == nil {
		return Session{}, false
	}
	return *a.session, true
}

// UserID returns the signed-in user's id, or "".
func (a *Auth) UserID() string {
	s, _ := a.Session()
	return s.UserID
}

// currentToken is the token to send now without any I/O: the access token while it is valid,
// else the anon key.
func (a *Auth) currentToken() string {
	s, ok := a.Session()
	if ok && s.valid(time.Now(), 0) {
		return s.AccessToken
	}
	return a.c.anonKey
}

// AccessToken returns the bearer token for a request: the session's access token, refreshed
// first when it is within the refresh margin of expiry; the anon key when there is no session.
// A failed refresh keeps using a token that is still valid.
func (a *Auth) AccessToken(ctx context.Context) (string, error) {
	s, ok := a.Session()
	if !ok {
		return a.c.anonKey, nil
	}
	now := time.Now()
	if s.valid(now, a.margin) {
		return s.AccessToken, nil
	}
	ns, err := a.Refresh(ctx)
	if err == nil {
		return ns.AccessToken, nil
	}
	if s.valid(now, 0) {
		a.c.log.Warn("auth: refresh failed; the token is still valid", "err", err)
		return s.AccessToken, nil
	}
	return "", err
}

// EnsureSession makes sure there is a session: the one in memory, else the saved one
// (refreshed if its access token is near expiry), else a new anonymous user. A saved
// session whose refresh token the server no longer knows is replaced by a new user; a
// network or server failure is returned instead, so a passing outage never changes the user.
func (a *Auth) EnsureSession(ctx context.Context) (Session, error) {
	a.refreshMu.Lock()
	s, ok := a.Session()
	if !ok {
		saved, err := a.load()
		if errors.Is(err, os.ErrNotExist) {
			saved, err = a.adoptLegacy(ctx)
		}
		if err == nil {
			a.set(&saved, false)
			s, ok = saved, true
		} else if !errors.Is(err, os.ErrNotExist) {
			a.c.log.Warn("auth: ignoring the saved session", "file", a.file, "err", err)
		}
	}
	a.refreshMu.Unlock()
	if ok {
		if s.valid(time.Now(), a.margin) {
			a.startRefresher()
			return s, nil
		}
		ns, err := a.Refresh(ctx)
		if err == nil {
			return ns, nil
		}
		var ae *APIError
		if !errors.As(err, &ae) || ae.Status >= 500 {
			return Session{}, err
		}
		a.c.log.Warn("auth: the saved session is no longer valid; signing in as a new user", "err", err)
		return a.SignInAnonymously(ctx, nil)
	}
	return a.firstSignIn(ctx)
}

// signUpLockStale is how old a sign-up lock may get before it is taken as left by a process
// that died while signing up.
const signUpLockStale = 15 * time.Second

// firstSignIn signs in as a new user when nothing is saved yet, once for all the processes of
// this person: the screen and a script started together must not become two users (the second
// would act as a stranger, "not a member"). The first to create the sign-up lock signs up and
// saves; the others wait for its saved session and take it.
func (a *Auth) firstSignIn(ctx context.Context) (Session, error) {
	if a.file == "" {
		return a.SignInAnonymously(ctx, nil)
	}
	if err := os.MkdirAll(filepath.Dir(a.file), 0o700); err != nil {
		return Session{}, err
	}
	lock := a.file + ".signup"
	for {
		f, err := os.OpenFile(lock, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err == nil {
			f.Close()
			defer os.Remove(lock)
			if saved, err := a.load(); err == nil { // saved while we waited for the lock
				a.set(&saved, false)
				return a.EnsureSession(ctx)
			}
			return a.SignInAnonymously(ctx, nil)
		}
		if !errors.Is(err, os.ErrExist) {
			return a.SignInAnonymously(ctx, nil) // no lock possible here: sign up alone
		}
		if saved, err := a.load(); err == nil {
			a.set(&saved, false)
			return a.EnsureSession(ctx)
		}
		if fi, err := os.Stat(lock); err == nil && time.Since(fi.ModTime()) > signUpLockStale {
			os.Remove(lock)
			continue
		}
		select {
		case <-ctx.Done():
			return Session{}, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// authReply is GoTrue's session reply.
type authReply struct {
	AccessToken  string `json:"access_token"`
	ExpiresIn    int64  `json:"expires_in"`
	ExpiresAt    int64  `json:"expires_at"`
	RefreshToken string `json:"refresh_token"`
	User         struct {
		ID string `json:"id"`
	} `json:"user"`
}

func (a *Auth) call(ctx context.Context, op, path, query string, body any) (Session, error) {
	r, err := a.c.do(ctx, request{op: op, method: http.MethodPost, path: path, query: query, body: body, bearer: a.c.anonKey,
		header: map[string]string{"X-Supabase-Api-Version": "2024-01-01", "Content-Type": "application/json;charset=UTF-8"}})
	if err != nil {
		return Session{}, err
	}
	if r.status != http.StatusOK {
		return Session{}, apiError(op, r)
	}
	var rep authReply
	if err := json.Unmarshal(r.body, &rep); err != nil {
		return Session{}, fmt.Errorf("%s: %w: decode reply: %v", op, ErrServer, err)
	}
	// Like auth-js: no session without an access token, a refresh token and expires_in.
	if rep.AccessToken == "" || rep.RefreshToken == "" || rep.ExpiresIn <= 0 || rep.User.ID == "" {
		return Session{}, fmt.Errorf("%s: %w: the reply holds no session", op, ErrServer)
	}
	if rep.ExpiresAt == 0 {
		rep.ExpiresAt = time.Now().Unix() + rep.ExpiresIn
	}
	return Session{UserID: rep.User.ID, AccessToken: rep.AccessToken, RefreshToken: rep.RefreshToken, ExpiresAt: rep.ExpiresAt}, nil
}

// SignInAnonymously creates a new anonymous user (POST /auth/v1/signup) with optional user
// metadata, makes it the session and saves it.
func (a *Auth) SignInAnonymously(ctx context.Context, data map[string]any) (Session, error) {
	if data == nil {
		data = map[string]any{}
	}
	a.refreshMu.Lock()
	defer a.refreshMu.Unlock()
	s, err := a.call(ctx, "auth signup", "/auth/v1/signup", "", map[string]any{"data": data, "gotrue_meta_security": map[string]any{}})
	if err != nil {
		return Session{}, err
	}
	a.set(&s, true)
	a.startRefresher()
	return s, nil
}

// Refresh exchanges the refresh token for a new session (POST
// /auth/v1/token?grant_type=refresh_token) and saves it. When the saved file already holds a
// newer session of the same user (another process refreshed), that one is adopted instead of
// refreshing twice.
func (a *Auth) Refresh(ctx context.Context) (Session, error) {
	a.refreshMu.Lock()
	defer a.refreshMu.Unlock()
	cur, ok := a.Session()
	if saved, err := a.load(); err == nil && (!ok || saved.UserID == cur.UserID) && saved.ExpiresAt > cur.ExpiresAt &&
		saved.valid(time.Now(), a.margin) {
		a.set(&saved, false)
		return saved, nil
	} else if err == nil && !ok {
		cur, ok = saved, true
	}
	if !ok || cur.RefreshToken == "" {
		return Session{}, fmt.Errorf("auth refresh: %w: no session", ErrUnauthorized)
	}
	s, err := a.call(ctx, "auth refresh", "/auth/v1/token", "grant_type=refresh_token", map[string]string{"refresh_token": cur.RefreshToken})
	if err != nil {
		return Session{}, err
	}
	a.set(&s, true)
	a.startRefresher()
	return s, nil
}

// SignOut ends the session on the server (POST /auth/v1/logout?scope=local) and forgets it,
// deleting the saved file. The local session is dropped even if the server call fails.
func (a *Auth) SignOut(ctx context.Context) error {
	a.refreshMu.Lock()
	defer a.refreshMu.Unlock()
	s, ok := a.Session()
	a.mu.Lock()
	a.session = nil
	a.mu.Unlock()
	if a.file != "" {
		if err := os.Remove(a.file); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("auth sign out: %w", err)
		}
	}
	a.c.tokenChanged("")
	if !ok {
		return nil
	}
	r, err := a.c.do(ctx, request{op: "auth sign out", method: http.MethodPost, path: "/auth/v1/logout", query: "scope=local",
		bearer: s.AccessToken, header: map[string]string{"X-Supabase-Api-Version": "2024-01-01"}})
	if err != nil {
		return err
	}
	if r.status >= 500 {
		return apiError("auth sign out", r)
	}
	return nil
}

// set installs s as the session, saves it when save is set, and tells sockets and the
// refresher about a changed token.
func (a *Auth) set(s *Session, save bool) {
	a.mu.Lock()
	changed := a.session == nil || a.session.AccessToken != s.AccessToken
	a.session = s
	a.mu.Unlock()
	if save {
		if err := a.save(*s); err != nil {
			a.c.log.Warn("auth: could not save the session", "file", a.file, "err", err)
		}
	}
	if changed {
		a.c.tokenChanged(s.AccessToken)
		select {
		case a.wake <- struct{}{}:
		default:
		}
	}
}

// savedSession is the file format. Server (the session key) guards against a file copied
// between servers; URL is the address last used. Files of older versions have no Server: they
// were keyed by their URL.
type savedSession struct {
	URL    string `json:"url"`
	Server string `json:"server,omitempty"`
	Session
}

// matches reports whether a saved file is a session for key, reached at baseURL.
func (s savedSession) matches(key, baseURL string) bool {
	if s.UserID == "" || s.RefreshToken == "" {
		return false
	}
	if s.Server != "" {
		return s.Server == key
	}
	return s.URL == baseURL && key == baseURL
}

// adoptLegacy looks, when no session is saved under the key yet, for one an older version
// saved under a server URL (keyed by the URL's text), and moves it to the key: the one saved
// under this URL, else (with Options.SameServer) the newest one saved under another URL of
// the same server. Other files stay where they are.
func (a *Auth) adoptLegacy(ctx context.Context) (Session, error) {
	if a.file == "" {
		return Session{}, os.ErrNotExist
	}
	dir := filepath.Dir(a.file)
	read := func(path string) (savedSession, bool) {
		b, err := os.ReadFile(path)
		if err != nil {
			return savedSession{}, false
		}
		var s savedSession
		if json.Unmarshal(b, &s) != nil || s.Server != "" || s.URL == "" || s.UserID == "" || s.RefreshToken == "" ||
			filepath.Base(path) != sessionFileName(s.URL) {
			return savedSession{}, false
		}
		return s, true
	}
	path := filepath.Join(dir, sessionFileName(a.c.baseURL))
	best, ok := savedSession{}, false
	if path != a.file { // keyed by the URL, a.file is that file, and it is missing
		best, ok = read(path)
	}
	if !ok && a.same != nil {
		names, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		for _, name := range names {
			s, ok2 := read(name)
			if !ok2 || (ok && s.ExpiresAt <= best.ExpiresAt) || !a.same(ctx, s.URL) {
				continue
			}
			best, path, ok = s, name, true
		}
	}
	if !ok {
		return Session{}, os.ErrNotExist
	}
	if err := a.save(best.Session); err != nil {
		return Session{}, err
	}
	os.Remove(path)
	a.c.log.Info("auth: adopted the session saved for this server's URL", "url", best.URL, "file", a.file)
	return best.Session, nil
}

func (a *Auth) load() (Session, error) {
	if a.file == "" {
		return Session{}, os.ErrNotExist
	}
	b, err := os.ReadFile(a.file)
	if err != nil {
		return Session{}, err
	}
	var s savedSession
	if err := json.Unmarshal(b, &s); err != nil {
		return Session{}, fmt.Errorf("read %s: %w", a.file, err)
	}
	if !s.matches(a.key, a.c.baseURL) {
		return Session{}, fmt.Errorf("read %s: not a session for %s", a.file, a.key)
	}
	return s.Session, nil
}

// save writes the session atomically, mode 0600, in a 0700 directory.
func (a *Auth) save(s Session) error {
	if a.file == "" {
		return nil
	}
	dir := filepath.Dir(a.file)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	saved := savedSession{URL: a.c.baseURL, Server: a.key, Session: s}
	if a.key == a.c.baseURL {
		saved.Server = "" // keyed by its URL, as older versions wrote it
	}
	b, err := json.MarshalIndent(saved, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".session-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, a.file)
}

// startRefresher starts the goroutine that refreshes the access token RefreshMargin before it
// expires (once; it ends with Client.Close).
func (a *Auth) startRefresher() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.running || a.ctx.Err() != nil {
		return
	}
	a.running = true
	go a.refresher()
}

func (a *Auth) stop() {
	a.mu.Lock()
	running := a.running
	a.cancel()
	a.mu.Unlock()
	if running {
		<-a.done
	}
}

// refresher sleeps until the token is due, refreshes, and retries failures with a growing
// delay (5 s up to 60 s) while the old token is still valid.
func (a *Auth) refresher() {
	defer close(a.done)
	retry := time.Duration(0)
	for {
		wait := time.Hour
		if s, ok := a.Session(); ok {
			wait = time.Until(s.Expiry().Add(-a.margin))
		}
		if retry > 0 {
			wait = retry
		}
		if wait < 0 {
			wait = 0
		}
		t := time.NewTimer(wait)
		select {
		case <-a.ctx.Done():
			t.Stop()
			return
		case <-a.wake:
			t.Stop()
			retry = 0
			continue
		case <-t.C:
		}
		if s, ok := a.Session(); !ok || s.valid(time.Now(), a.margin) {
			retry = 0
			continue
		}
		ctx, cancel := context.WithTimeout(a.ctx, 30*time.Second)
		_, err := a.Refresh(ctx)
		cancel()
		if err == nil {
			retry = 0
			continue
		}
		a.c.log.Warn("auth: token refresh failed", "err", err)
		switch {
		case retry == 0:
			retry = 5 * time.Second
		case retry < time.Minute:
			retry *= 2
		}
	}
}
