package realtime

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"time"
)

// maxResponseBytes bounds an HTTP response body read by the client.
const maxResponseBytes = 8 << 20

// Options configure a Client. Zero values take the defaults.
type Options struct {
	// SessionDir is where the session (user id, refresh token) is saved, one 0600 file per
	// server; "" keeps it in memory only.
	SessionDir string
	// SessionKey names the saved session: the server's identity (see Info.ServerID), so one
	// server reached by several URLs (127.0.0.1, localhost, a LAN address) has one session;
	// "" keys it by the URL. A session an older version saved under a URL is adopted (see
	// SameServer).
	SessionKey string
	// SameServer, with SessionKey, reports whether a session saved by an older version under
	// url belongs to this server, so it can be adopted when none is saved under the key yet;
	// nil adopts only the one saved under this client's URL.
	SameServer func(ctx context.Context, url string) bool
	// HTTPClient makes every HTTP request; nil means a client of the Client's own (its idle
	// connections are closed by Close).
	HTTPClient *http.Client
	// Logger receives logs; nil discards them.
	Logger *slog.Logger
	// RefreshMargin is how long before expiry the access token is refreshed (120 s, as
	// supabase-js's timer).
	RefreshMargin time.Duration
	// ClientInfo is sent as X-Client-Info.
	ClientInfo string
}

// Client is a Supabase client for one server (hosted Supabase or `watchparty serve`): auth
// with a saved session, Edge Functions, PostgREST RPC and table reads, and Realtime sockets
// that follow the session's token.
//
// Goroutines: once a session exists, one refresher keeps the access token fresh; Close ends
// it and the client's sockets. All methods are safe for concurrent use.
type Client struct {
	baseURL    string
	anonKey    string
	http       *http.Client
	ownHTTP    bool
	log        *slog.Logger
	clientInfo string

	// Auth manages the user session. Set by NewClient; do not replace.
	Auth *Auth
	// Functions calls Edge Functions. Set by NewClient; do not replace.
	Functions *Functions

	mu      sync.Mutex
	sockets map[*Socket]struct{}
	closed  bool
}

// NewClient returns a client for the server at baseURL ("http://127.0.0.1:54321" or
// "https://<ref>.supabase.co") with its anon key. It does no I/O.
func NewClient(baseURL, anonKey string, opts Options) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("bad server url %q: want http(s)://host[:port]", baseURL)
	}
	if anonKey == "" {
		return nil, fmt.Errorf("no anon key given for %s", baseURL)
	}
	c := &Client{baseURL: u.String(), anonKey: anonKey, http: opts.HTTPClient, log: opts.Logger,
		clientInfo: opts.ClientInfo, sockets: map[*Socket]struct{}{}}
	if c.http == nil {
		c.http = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
		c.ownHTTP = true
	}
	if c.log == nil {
		c.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.clientInfo == "" {
		c.clientInfo = "watchparty-go; runtime=go; runtime-version=" + runtime.Version()
	}
	margin := opts.RefreshMargin
	if margin <= 0 {
		margin = 120 * time.Second
	}
	c.Auth = newAuth(c, opts, margin)
	c.Functions = &Functions{c: c}
	return c, nil
}

// URL returns the server URL.
func (c *Client) URL() string { return c.baseURL }

// AnonKey returns the anon key.
func (c *Client) AnonKey() string { return c.anonKey }

// NewSocket starts a Realtime socket that joins with the session's access token (the anon
// key without one) and pushes every refreshed token to its joined channels. Client.Close
// closes it if the app has not.
func (c *Client) NewSocket(opts SocketOptions) (*Socket, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = c.http
	}
	if opts.Logger == nil {
		opts.Logger = c.log
	}
	opts.AccessToken = c.Auth.currentToken()
	s, err := NewSocket(c.baseURL, c.anonKey, opts)
	if err != nil {
		return nil, err
	}
	c.sockets[s] = struct{}{}
	s.onClose = c.forgetSocket
	return s, nil
}

func (c *Client) forgetSocket(s *Socket) {
	c.mu.Lock()
	delete(c.sockets, s)
	c.mu.Unlock()
}

// tokenChanged pushes a new access token to the client's sockets.
func (c *Client) tokenChanged(token string) {
	c.mu.Lock()
	socks := make([]*Socket, 0, len(c.sockets))
	for s := range c.sockets {
		socks = append(socks, s)
	}
	c.mu.Unlock()
	for _, s := range socks {
		s.SetAuth(token)
	}
}

// Close closes the client's sockets, stops the token refresher and closes idle HTTP
// connections. The saved session stays on disk. Safe to call more than once.
func (c *Client) Close() error {
	c.mu.Lock()
	c.closed = true
	socks := c.sockets
	c.sockets = map[*Socket]struct{}{}
	c.mu.Unlock()
	for s := range socks {
		s.Close()
	}
	c.Auth.stop()
	if c.ownHTTP {
		c.http.CloseIdleConnections()
	}
	return nil
}

// Info is what a watchparty server publishes at GET /watchparty/v1/info.
type Info struct {
	AnonKey string `json:"anon_key"`
	Version string `json:"version"`
	// ServerID is the server's stable identity (the same whatever URL reaches it; "" from
	// servers before it was published).
	ServerID string `json:"server_id"`
}

// FetchInfo reads a watchparty server's anon key and version, so joining needs only its URL.
// hc nil means http.DefaultClient. Hosted Supabase has no such endpoint (ErrNotFound).
func FetchInfo(ctx context.Context, hc *http.Client, baseURL string) (Info, error) {
	if hc == nil {
		hc = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(baseURL, "/")+"/watchparty/v1/info", nil)
	if err != nil {
		return Info{}, fmt.Errorf("server info: %w", err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return Info{}, fmt.Errorf("server info: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return Info{}, fmt.Errorf("server info: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return Info{}, &APIError{Op: "server info", Status: resp.StatusCode, Kind: kindForStatus(resp.StatusCode)}
	}
	var info Info
	if err := json.Unmarshal(body, &info); err != nil || info.AnonKey == "" {
		return Info{}, fmt.Errorf("server info: %w: no anon_key in the reply", ErrServer)
	}
	return info, nil
}
