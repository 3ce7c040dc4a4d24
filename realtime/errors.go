package realtime

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Error kinds. Every error the server sends back (an Edge Function error, a PostgREST error,
// an auth error, a refused join, a channel shut down by the server) unwraps to one of these,
// so callers branch with errors.Is and read the details with errors.As into *APIError,
// *JoinError or CloseEvent.
var (
	// ErrNotFound: an unknown room, function or row (HTTP 404).
	ErrNotFound = errors.New("not found")
	// ErrNotAllowed: the caller may not do this, e.g. not the host or not a member (HTTP 403).
	ErrNotAllowed = errors.New("not allowed")
	// ErrInvalid: the request was malformed or a value was out of range (HTTP 400, 413, 422).
	ErrInvalid = errors.New("invalid request")
	// ErrRateLimited: a server limit was hit (HTTP 429, or a channel shut down for a rate limit).
	ErrRateLimited = errors.New("rate limited")
	// ErrUnauthorized: no session, or a bad or expired token (HTTP 401, JWT join errors).
	ErrUnauthorized = errors.New("unauthorized")
	// ErrServer: the server failed (HTTP 5xx) or answered something unreadable.
	ErrServer = errors.New("server error")
)

// Errors of the realtime connection itself.
var (
	// ErrClosed: the Socket or Client was closed.
	ErrClosed = errors.New("realtime: closed")
	// ErrTimeout: no reply to a push within the reply timeout (10 s by default).
	ErrTimeout = errors.New("realtime: timed out waiting for a reply")
	// ErrDisconnected: the connection dropped before the reply came.
	ErrDisconnected = errors.New("realtime: socket disconnected")
	// ErrNotJoined: the channel is not joined right now (it may be rejoining).
	ErrNotJoined = errors.New("realtime: channel not joined")
	// ErrNotSubscribed: Track or Send before Subscribe.
	ErrNotSubscribed = errors.New("realtime: channel not subscribed")
	// ErrAlreadySubscribed: a postgres_changes or presence listener added after Subscribe;
	// those are part of the join payload, so they must come first.
	ErrAlreadySubscribed = errors.New("realtime: listener added after subscribe")
	// ErrChannelClosed: the channel was closed, by Unsubscribe or by the server. A channel
	// closed by the server is never rejoined; create a new one with Socket.Channel.
	ErrChannelClosed = errors.New("realtime: channel closed")
	// ErrBindingsMismatch: the join reply did not echo the postgres_changes bindings.
	ErrBindingsMismatch = errors.New("realtime: mismatch between server and client bindings for postgres changes")
)

// APIError is an error reply from the HTTP API: an Edge Function's
// {"success":false,"error":{code,message}}, a PostgREST {code,message,details,hint}, a GoTrue
// {code,message}, or an RPC's {"error":"…"} object. It unwraps to its Kind.
type APIError struct {
	// Op names the call: "functions rooms/join", "rpc get_room_sync_state", "auth signup"…
	Op string
	// Status is the HTTP status (200 for an RPC {"error":…} reply).
	Status int
	// Code is the server's code: ROOM_NOT_FOUND, NOT_HOST, PT404, PGRST202,
	// refresh_token_not_found… Empty when the server sent none.
	Code string
	// Message is the server's message.
	Message string
	// Details and Hint are PostgREST's extra fields, when present.
	Details, Hint string
	// Body is the reply's body as read (at most the client's reply limit), for the fields an
	// error of one endpoint adds (NOT_READY's not_ready list). Never trusted: parse, bound, clean.
	Body []byte
	// Kind is ErrNotFound, ErrNotAllowed, ErrInvalid, ErrRateLimited, ErrUnauthorized or
	// ErrServer.
	Kind error
}

// Error implements error: "functions rooms/join: room not found (404 ROOM_NOT_FOUND)".
func (e *APIError) Error() string {
	var b strings.Builder
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	msg := e.Message
	if msg == "" {
		msg = strings.ToLower(http.StatusText(e.Status))
	}
	b.WriteString(msg)
	b.WriteString(" (")
	b.WriteString(fmt.Sprint(e.Status))
	if e.Code != "" {
		b.WriteString(" ")
		b.WriteString(e.Code)
	}
	b.WriteString(")")
	return b.String()
}

// Unwrap returns the error's Kind.
func (e *APIError) Unwrap() error { return e.Kind }

// kindForStatus maps an HTTP status to an error kind.
func kindForStatus(status int) error {
	switch {
	case status == http.StatusNotFound:
		return ErrNotFound
	case status == http.StatusForbidden:
		return ErrNotAllowed
	case status == http.StatusUnauthorized:
		return ErrUnauthorized
	case status == http.StatusTooManyRequests:
		return ErrRateLimited
	case status >= 500:
		return ErrServer
	case status >= 400:
		return ErrInvalid
	}
	return ErrServer
}

// kindForText classifies a server message that comes without a status: an RPC's
// {"error":"Room not found"} or a channel shutdown reason.
func kindForText(msg string) error {
	m := strings.ToLower(msg)
	switch {
	case strings.Contains(m, "rate limit"), strings.Contains(m, "too many"):
		return ErrRateLimited
	case strings.Contains(m, "not found"):
		return ErrNotFound
	case strings.Contains(m, "not a member"), strings.Contains(m, "permission"), strings.Contains(m, "not allowed"),
		strings.Contains(m, "not the host"):
		return ErrNotAllowed
	case strings.Contains(m, "token"), strings.Contains(m, "jwt"), strings.Contains(m, "unauthorized"):
		return ErrUnauthorized
	}
	return ErrInvalid
}

// JoinError is a join the server refused: {"status":"error","response":{"reason":…}}. The
// channel retries on its rejoin schedule. It unwraps to ErrUnauthorized for token errors,
// ErrRateLimited for rate limits, ErrNotAllowed for RLS refusals, else ErrInvalid.
type JoinError struct {
	// Reason is the server's reason, e.g. "InvalidJWTToken: Token has expired 3 seconds ago".
	Reason string
}

// Error implements error.
func (e *JoinError) Error() string { return "join refused: " + e.Reason }

// Unwrap returns the error kind of the reason's code.
func (e *JoinError) Unwrap() error {
	code, _, _ := strings.Cut(e.Reason, ":")
	switch {
	case strings.Contains(code, "JWT"), strings.Contains(code, "Jwt"):
		return ErrUnauthorized
	case strings.Contains(code, "RateLimit"):
		return ErrRateLimited
	case code == "Unauthorized", code == "PrivateOnly":
		return ErrNotAllowed
	}
	return kindForText(e.Reason)
}

// ServerCloseError is why the server closed a channel: the message of the system error it
// sent just before phx_close ("Client presence rate limit exceeded", "Token has expired …").
// It unwraps to ErrChannelClosed and to a kind (ErrRateLimited, ErrUnauthorized…).
type ServerCloseError struct {
	// Message is the server's system message; empty when it sent none.
	Message string
}

// Error implements error.
func (e *ServerCloseError) Error() string {
	if e.Message == "" {
		return "channel closed by the server"
	}
	return "channel closed by the server: " + e.Message
}

// Unwrap returns ErrChannelClosed and the message's kind.
func (e *ServerCloseError) Unwrap() []error {
	if e.Message == "" {
		return []error{ErrChannelClosed}
	}
	return []error{ErrChannelClosed, kindForText(e.Message)}
}
