package phx

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"
)

// ReplyPayload is the payload of a phx_reply.
type ReplyPayload struct {
	// Status is "ok" or "error".
	Status string `json:"status"`
	// Response is a JSON object: {} on a plain ok, {"reason":…} on errors.
	Response json.RawMessage `json:"response"`
}

// Reply statuses.
const (
	StatusOK    = "ok"
	StatusError = "error"
)

// ReplyOK returns {"status":"ok","response":<response or {}>}. The response
// (a json.RawMessage, or a value to marshal) must be a JSON object, as
// Phoenix requires; nil, or anything that does not encode as an object,
// gives {} (callers pass plain data, so that would be a programming error).
func ReplyOK(response any) json.RawMessage {
	resp := []byte("{}")
	switch r := response.(type) {
	case nil:
	case json.RawMessage:
		if isObject(r) && json.Valid(r) {
			resp = r
		}
	default:
		if b, err := json.Marshal(r); err == nil && isObject(b) {
			resp = b
		}
	}
	b := make([]byte, 0, 32+len(resp))
	b = append(b, `{"status":"ok","response":`...)
	b = append(b, resp...)
	return append(b, '}')
}

// ReplyError returns {"status":"error","response":{"reason":reason}}.
func ReplyError(reason string) json.RawMessage {
	b := make([]byte, 0, 48+len(reason))
	b = append(b, `{"status":"error","response":{"reason":`...)
	b = appendString(b, reason)
	return append(b, "}}"...)
}

// JoinPayload is the phx_join payload, exactly supabase-js's shape.
type JoinPayload struct {
	Config JoinConfig `json:"config"`
	// AccessToken is the user JWT, or the API key when there is no session;
	// absent on a first join without a token.
	AccessToken string `json:"access_token,omitempty"`
	// UserToken is the legacy name of AccessToken.
	UserToken string `json:"user_token,omitempty"`
	// Version is "realtime-js/<version>"; the server ignores it.
	Version string `json:"version,omitempty"`
}

// Token returns AccessToken, else the legacy UserToken.
func (p JoinPayload) Token() string {
	if p.AccessToken != "" {
		return p.AccessToken
	}
	return p.UserToken
}

// JoinConfig is the "config" object of a join.
type JoinConfig struct {
	Broadcast       BroadcastConfig `json:"broadcast"`
	Presence        PresenceConfig  `json:"presence"`
	PostgresChanges []ChangeBinding `json:"postgres_changes"`
	// Private asks for an RLS-authorised channel.
	Private bool `json:"private"`
}

// MarshalJSON implements json.Marshaler; nil PostgresChanges encode as []
// as supabase-js sends them.
func (c JoinConfig) MarshalJSON() ([]byte, error) {
	type plain JoinConfig
	if c.PostgresChanges == nil {
		c.PostgresChanges = []ChangeBinding{}
	}
	return json.Marshal(plain(c))
}

// BroadcastConfig is config.broadcast.
type BroadcastConfig struct {
	// Ack asks the server to reply to each broadcast push.
	Ack bool `json:"ack"`
	// Self asks the server to echo the client's own broadcasts back.
	Self bool `json:"self"`
}

// PresenceConfig is config.presence.
type PresenceConfig struct {
	// Key is the presence key; "" means the server picks a random UUID.
	Key string `json:"key"`
	// Enabled asks the server to send presence_state after the join.
	Enabled bool `json:"enabled"`
}

// ChangeBinding is one postgres_changes filter object. Missing fields stay
// "" and are omitted on encode; a field the client sent as "" is echoed as
// "" (supabase-js compares the echo by value, and "" is not undefined).
type ChangeBinding struct {
	// Event is "*", INSERT, UPDATE or DELETE (any case; other values mean "*").
	Event string `json:"event"`
	// Schema is the schema name, or "*".
	Schema string `json:"schema"`
	// Table is the table name, "*", or "" for every table of Schema.
	Table string `json:"table,omitempty"`
	// Filter is a filter such as "room_id=eq.r1" (see ParseFilter).
	Filter string `json:"filter,omitempty"`
	// Select lists the columns to send; nil means all.
	Select []string `json:"select,omitempty"`
	// ID is set in the server's join reply; 0 means none.
	ID int64 `json:"id,omitempty"`

	// present records which string keys were present when decoded, so the
	// echo keeps an explicit "".
	present uint8
}

const (
	presentEvent uint8 = 1 << iota
	presentSchema
	presentTable
	presentFilter
)

// UnmarshalJSON implements json.Unmarshaler, remembering which keys were present.
func (b *ChangeBinding) UnmarshalJSON(data []byte) error {
	type plain struct {
		Event  *string  `json:"event"`
		Schema *string  `json:"schema"`
		Table  *string  `json:"table"`
		Filter *string  `json:"filter"`
		Select []string `json:"select"`
		ID     int64    `json:"id"`
	}
	var p plain
	if err := json.Unmarshal(data, &p); err != nil {
		return err
	}
	*b = ChangeBinding{Select: p.Select, ID: p.ID}
	set := func(dst *string, src *string, bit uint8) {
		if src != nil {
			*dst = *src
			b.present |= bit
		}
	}
	set(&b.Event, p.Event, presentEvent)
	set(&b.Schema, p.Schema, presentSchema)
	set(&b.Table, p.Table, presentTable)
	set(&b.Filter, p.Filter, presentFilter)
	return nil
}

// MarshalJSON implements json.Marshaler: keys in supabase-js's order, empty
// fields left out unless they were present when decoded.
func (b ChangeBinding) MarshalJSON() ([]byte, error) {
	out := make([]byte, 0, 64+len(b.Table)+len(b.Filter))
	out = append(out, '{')
	field := func(name, v string, bit uint8) {
		if v == "" && b.present&bit == 0 {
			return
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = appendString(out, name)
		out = append(out, ':')
		out = appendString(out, v)
	}
	field("event", b.Event, presentEvent)
	field("schema", b.Schema, presentSchema)
	field("table", b.Table, presentTable)
	field("filter", b.Filter, presentFilter)
	if len(b.Select) > 0 {
		sel, err := json.Marshal(b.Select)
		if err != nil {
			return nil, err
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = append(out, `"select":`...)
		out = append(out, sel...)
	}
	if b.ID != 0 {
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = append(out, `"id":`...)
		out = strconv.AppendInt(out, b.ID, 10)
	}
	return append(out, '}'), nil
}

// SameBinding reports whether the client's binding and a server echo agree
// on event, schema, table and filter, the way supabase-js checks the join
// reply (select and id are not compared).
func SameBinding(a, b ChangeBinding) bool {
	return a.Event == b.Event && a.Schema == b.Schema && a.Table == b.Table && a.Filter == b.Filter
}

// BindingID is a stable integer id in [1, 2^27) for a binding: an FNV-1a hash
// of event, schema, table, filter and select, in the range of the real
// server's :erlang.phash2 (so identical bindings get the same id on every
// channel). It never returns 0, which ChangeBinding treats as "no id".
func BindingID(b ChangeBinding) int64 {
	h := fnv.New32a()
	for _, s := range []string{b.Event, b.Schema, b.Table, b.Filter} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	for _, s := range b.Select {
		h.Write([]byte(s))
		h.Write([]byte{1})
	}
	id := int64(h.Sum32() & (1<<27 - 1))
	if id == 0 {
		id = 1
	}
	return id
}

// MatchEvent reports whether the binding's event ("*", INSERT, UPDATE,
// DELETE; any case, other values mean "*") matches the change type typ.
func (b ChangeBinding) MatchEvent(typ string) bool {
	switch strings.ToUpper(b.Event) {
	case ChangeInsert, ChangeUpdate, ChangeDelete:
		return strings.EqualFold(b.Event, typ)
	}
	return true
}

// MatchTable reports whether the binding covers schema.table, with the
// server's rules: "*" matches any schema or table, a schema alone means
// every table in it, a table alone means schema "public".
func (b ChangeBinding) MatchTable(schema, table string) bool {
	bs := b.Schema
	if bs == "" {
		if b.Table == "" {
			return false // the server refuses a binding with neither
		}
		bs = "public"
	}
	if bs != "*" && bs != schema {
		return false
	}
	return b.Table == "" || b.Table == "*" || b.Table == table
}

// Change types of ChangeData.Type.
const (
	ChangeInsert = "INSERT"
	ChangeUpdate = "UPDATE"
	ChangeDelete = "DELETE"
)

// Column is one entry of ChangeData.Columns; Type is the Postgres typname
// (int8, text, uuid, timestamptz, bool, jsonb…).
type Column struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// ChangeData is the "data" object of a postgres_changes frame. Field order
// follows the captured frames.
type ChangeData struct {
	Schema string `json:"schema"`
	Table  string `json:"table"`
	// CommitTimestamp is UTC "2006-01-02T15:04:05.000Z"; see FormatCommitTimestamp.
	CommitTimestamp string `json:"commit_timestamp"`
	// Type is INSERT, UPDATE or DELETE.
	Type string `json:"type"`
	// Errors encodes as null when nil.
	Errors  []string `json:"errors"`
	Columns []Column `json:"columns"`
	// Record is the new row (INSERT, UPDATE).
	Record map[string]any `json:"record,omitempty"`
	// OldRecord is the old row (UPDATE, DELETE): the primary key unless the
	// table has REPLICA IDENTITY FULL.
	OldRecord map[string]any `json:"old_record,omitempty"`
}

// CommitTimestampLayout is the layout of ChangeData.CommitTimestamp.
const CommitTimestampLayout = "2006-01-02T15:04:05.000Z"

// FormatCommitTimestamp formats t as a commit_timestamp, in UTC with milliseconds.
func FormatCommitTimestamp(t time.Time) string {
	return t.UTC().Format(CommitTimestampLayout)
}

// ChangesPayload is the payload of a postgres_changes frame: the ids of the
// channel's bindings that match, and the change.
type ChangesPayload struct {
	IDs  []int64    `json:"ids"`
	Data ChangeData `json:"data"`
}

// SystemPayload is the payload of a system message.
type SystemPayload struct {
	// Extension is "postgres_changes" or "system".
	Extension string `json:"extension"`
	// Status is "ok" or "error".
	Status  string `json:"status"`
	Message string `json:"message"`
	// Channel is the topic without the "realtime:" prefix; absent on
	// project-wide notices.
	Channel string `json:"channel,omitempty"`
}

// PresencePush is the payload of a client's presence push:
// {"type":"presence","event":"track","payload":{…}} or
// {"type":"presence","event":"untrack"}.
type PresencePush struct {
	Type  string `json:"type"`
	Event string `json:"event"`
	// Payload is the tracked object (track only).
	Payload json.RawMessage `json:"payload,omitempty"`
}

// Presence push events.
const (
	PresenceTrack   = "track"
	PresenceUntrack = "untrack"
)

// BroadcastPayload is the payload of a broadcast message:
// {"type":"broadcast","event":E,"payload":P[,"meta":M]}.
type BroadcastPayload struct {
	Type  string `json:"type"`
	Event string `json:"event"`
	// Payload is the user payload; absent when Message.BinaryPayload carries it.
	Payload json.RawMessage `json:"payload,omitempty"`
	Meta    json.RawMessage `json:"meta,omitempty"`
}

// AccessTokenPayload is the payload of an access_token push.
type AccessTokenPayload struct {
	AccessToken string `json:"access_token"`
}

// Payload marshals v into a Message payload; v must encode as a JSON object.
func Payload(v any) (json.RawMessage, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode payload: %w", err)
	}
	if !isObject(b) {
		return nil, fmt.Errorf("payload is not a json object")
	}
	return b, nil
}
