package servertest

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/watchparty/watchparty/server/rawclient"
)

// The raw clients live in package rawclient (the benchmark links them without package testing);
// these names keep the tests short.
type (
	// Response is an HTTP reply.
	Response = rawclient.Response
	// Session is a signed-in user.
	Session = rawclient.Session
	// Frame is one received Phoenix message.
	Frame = rawclient.Frame
	// DialOptions configures Dial.
	DialOptions = rawclient.DialOptions
	// Client is a raw Realtime socket.
	Client = rawclient.Client
	// Process is `watchparty serve` running as a child process.
	Process = rawclient.Process
)

var (
	// Dial opens a Realtime socket.
	Dial = rawclient.Dial
	// Dig walks nested JSON objects.
	Dig = rawclient.Dig
	// IsReply matches the reply to ref.
	IsReply = rawclient.IsReply
	// IsEvent matches an event on a topic.
	IsEvent = rawclient.IsEvent
	// RoomTopic is a room's channel topic.
	RoomTopic = rawclient.RoomTopic
	// SeedConfig is the join config the client sends for a room.
	SeedConfig = rawclient.SeedConfig
	// RealtimeURL builds the Realtime WebSocket URL supabase-js connects to.
	RealtimeURL = rawclient.RealtimeURL
	// Spawn starts `watchparty serve` as a child process.
	Spawn = rawclient.Spawn
)

// API is a rawclient.API with test helpers (For).
type API struct{ *rawclient.API }

// NewAPI returns an API client; hc nil means a client with its own transport.
func NewAPI(baseURL, anonKey string, hc *http.Client) *API {
	return &API{rawclient.NewAPI(baseURL, anonKey, hc)}
}

// DialT dials for a test and closes the client when the test ends.
func DialT(t testing.TB, url string, opts DialOptions) *Client {
	t.Helper()
	c, err := Dial(Ctx(t, 10*time.Second), url, opts)
	must(t, err, "dial %s", url)
	t.Cleanup(c.Close)
	return c
}

// T wraps an API with test helpers that fail the test instead of returning errors.
type T struct {
	*API
	t testing.TB
}

// For returns a's test helpers bound to t.
func (a *API) For(t testing.TB) T { return T{a, t} }

// SignUp signs in a new anonymous user.
func (x T) SignUp() Session {
	x.t.Helper()
	s, err := x.API.SignUp(context.Background())
	must(x.t, err, "sign up")
	return s
}

// Do sends a request and fails the test on a transport error.
func (x T) Do(method, path, token string, body any) Response {
	x.t.Helper()
	r, err := x.API.Do(context.Background(), method, path, token, body)
	must(x.t, err, "%s %s", method, path)
	return r
}

// Invoke calls a function.
func (x T) Invoke(token, fn string, body any) Response {
	x.t.Helper()
	r, err := x.API.Invoke(context.Background(), token, fn, body)
	must(x.t, err, "POST %s", fn)
	return r
}

// RPC calls an RPC.
func (x T) RPC(token, fn string, args any) Response {
	x.t.Helper()
	return x.Do(http.MethodPost, "/rest/v1/rpc/"+fn, token, args)
}

// CreateRoom creates a room and returns its id.
func (x T) CreateRoom(token, username string) string {
	x.t.Helper()
	id, err := x.API.CreateRoom(context.Background(), token, username)
	must(x.t, err, "create room")
	return id
}

// JoinRoom joins a room and makes the first liveness beat, as a client does once it is up
// (which announces the member).
func (x T) JoinRoom(token, roomID, username string) {
	x.t.Helper()
	must(x.t, x.API.JoinRoom(context.Background(), token, roomID, username), "join room")
	x.Beat(token, roomID)
}

// Beat makes one liveness beat in a room.
func (x T) Beat(token, roomID string) {
	x.t.Helper()
	must(x.t, x.API.Beat(context.Background(), token, roomID), "beat")
}
