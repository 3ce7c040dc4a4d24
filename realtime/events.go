package realtime

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/watchparty/watchparty/realtime/phx"
)

// ChangeFilter selects postgres_changes: Event ("*", "INSERT", "UPDATE", "DELETE"), Schema
// ("public"), Table and Filter ("room_id=eq.abc123def4"), exactly as supabase-js sends them.
type ChangeFilter = phx.ChangeBinding

// PresenceEvent is one presence callback, as supabase-js's: Kind "join" (Current = the key's
// metas before, Changed = the joined metas), "leave" (Current = the metas left, Changed = the
// metas that left) or "sync" (no key; read Channel.PresenceState).
type PresenceEvent = phx.PresenceEvent

// PresenceEvent kinds.
const (
	PresenceJoin  = phx.PresenceJoin
	PresenceLeave = phx.PresenceLeave
	PresenceSync  = phx.PresenceSync
)

// Meta is one tracked presence: the tracked payload plus "presence_ref".
type Meta = phx.Meta

// Change is one postgres_changes event.
type Change struct {
	Schema, Table string
	// Type is "INSERT", "UPDATE" or "DELETE" (supabase-js's eventType).
	Type string
	// CommitTimestamp is the commit time as sent, "2006-01-02T15:04:05.000Z".
	CommitTimestamp string
	// New is the new row (INSERT, UPDATE) and Old the old one (UPDATE, DELETE), as raw JSON
	// so numbers keep full precision; nil when absent. Decode with DecodeNew/DecodeOld.
	New, Old json.RawMessage
	Columns  []phx.Column
	Errors   []string
}

// DecodeNew decodes the new row into v.
func (c Change) DecodeNew(v any) error { return decodeRow(c.New, "new", v) }

// DecodeOld decodes the old row into v.
func (c Change) DecodeOld(v any) error { return decodeRow(c.Old, "old", v) }

func decodeRow(raw json.RawMessage, which string, v any) error {
	if len(raw) == 0 {
		return fmt.Errorf("change has no %s row", which)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("decode %s row: %w", which, err)
	}
	return nil
}

// Broadcast is a user broadcast received on a channel.
type Broadcast struct {
	Event string
	// Payload is the JSON payload; nil for a binary one (then Binary is set).
	Payload json.RawMessage
	Binary  []byte
}

// SystemEvent is a "system" message: "Subscribed to PostgreSQL", a postgres_changes error,
// "Server requested disconnect", or the error that precedes a channel shutdown.
type SystemEvent struct {
	// Extension is "postgres_changes" or "system".
	Extension string
	// Status is "ok" or "error".
	Status  string
	Message string
}

// CloseEvent tells that a channel is closed for good. After a close by the server, the app
// makes a new channel with Socket.Channel (listeners are per channel: register them again).
type CloseEvent struct {
	// ByServer is true when the server closed the channel (phx_close without Unsubscribe):
	// a rate limit, an expired token… The channel is not rejoined; the app creates a new one.
	ByServer bool
	// Err is nil after Unsubscribe; otherwise why: a *ServerCloseError (errors.Is
	// ErrRateLimited, ErrUnauthorized…), ErrBindingsMismatch, or ErrClosed.
	Err error
}

// ChannelStatus is the subscribe status supabase-js reports to its subscribe callback.
type ChannelStatus int

// Channel statuses, reported to OnStatus handlers.
const (
	// Subscribed: the join (or a rejoin after a reconnect) succeeded.
	Subscribed ChannelStatus = iota
	// ChannelError: the join was refused, the socket dropped, or the server sent phx_error;
	// the channel rejoins by itself.
	ChannelError
	// TimedOut: the join got no reply in time; the channel rejoins by itself.
	TimedOut
	// Closed: the channel is closed for good (see CloseEvent).
	Closed
)

// String returns supabase-js's name: "SUBSCRIBED", "CHANNEL_ERROR", "TIMED_OUT", "CLOSED".
func (s ChannelStatus) String() string {
	switch s {
	case Subscribed:
		return "SUBSCRIBED"
	case ChannelError:
		return "CHANNEL_ERROR"
	case TimedOut:
		return "TIMED_OUT"
	case Closed:
		return "CLOSED"
	}
	return fmt.Sprintf("ChannelStatus(%d)", int(s))
}

// StatusEvent is a change of a channel's subscribe status; Err says why for ChannelError,
// TimedOut and Closed.
type StatusEvent struct {
	Status ChannelStatus
	Err    error
}

// ChannelState is where a channel is in its life, as Phoenix names it.
type ChannelState int

// Channel states.
const (
	// StateClosed: not subscribed yet, or closed for good.
	StateClosed ChannelState = iota
	// StateJoining: phx_join sent (or waiting for the socket to send it).
	StateJoining
	// StateJoined: joined; changes, presence and broadcasts flow.
	StateJoined
	// StateErrored: the join failed or the socket dropped; a rejoin is scheduled.
	StateErrored
	// StateLeaving: Unsubscribe sent phx_leave.
	StateLeaving
)

// String returns "closed", "joining", "joined", "errored" or "leaving".
func (s ChannelState) String() string {
	return [...]string{"closed", "joining", "joined", "errored", "leaving"}[s]
}

// ChannelOptions configure a channel. Zero values take the defaults.
type ChannelOptions struct {
	// PresenceKey is this client's presence key (the user id); "" lets the server pick one.
	PresenceKey string
	// PresenceEnabled asks for presence_state even without an OnPresence listener (a listener
	// enables it, as in supabase-js).
	PresenceEnabled bool
	// BroadcastSelf echoes this client's own broadcasts back; BroadcastAck makes Send wait for
	// the server's acknowledgement.
	BroadcastSelf, BroadcastAck bool
	// Private asks for an RLS-authorised channel.
	Private bool
	// PresenceLimit and PresenceWindow are the client-side presence budget: at most
	// PresenceLimit track/untrack pushes per PresenceWindow per join (4 per 30 s; hosted
	// Supabase closes the channel on the 6th in 30 s, and one is kept spare for the untrack
	// of a leave). Calls beyond it are coalesced: see Track.
	PresenceLimit  int
	PresenceWindow time.Duration
	// QueueWarn is the handler-queue length that logs a warning (1000).
	QueueWarn int
}

func (o *ChannelOptions) defaults() {
	if o.PresenceLimit <= 0 {
		o.PresenceLimit = 4
	}
	if o.PresenceWindow <= 0 {
		o.PresenceWindow = 30 * time.Second
	}
	if o.QueueWarn <= 0 {
		o.QueueWarn = defaultQueueWarn
	}
}

// ChannelStats describe a channel's handler queue and presence budget use.
type ChannelStats struct {
	// Queued is how many handler calls wait now; PeakQueued the most ever.
	Queued, PeakQueued int
	// PresenceSent counts track/untrack pushes sent; PresenceCoalesced the Track/Untrack
	// calls that were folded into a later push by the budget.
	PresenceSent, PresenceCoalesced int
	// Joins counts successful joins (the first and every rejoin).
	Joins int
}

// TrackResult says what Track did with a presence payload.
type TrackResult struct {
	// Sent: pushed now and acknowledged by the server.
	Sent bool
	// Deferred: held back, by the presence budget (until SendAt) or because the channel is
	// not joined right now (SendAt is zero; it goes out right after the next join). A later
	// Track or Untrack replaces a deferred payload: only the latest is sent.
	Deferred bool
	SendAt   time.Time
	// Unchanged: the server already has exactly this payload; nothing was sent, no budget used.
	Unchanged bool
}

type changeListener struct {
	filter phx.ChangeBinding
	id     int64 // from the join reply
	fn     func(Change)
}

type broadcastListener struct {
	event string
	fn    func(Broadcast)
}
