// Package phx is the Phoenix / Supabase Realtime wire layer shared by the
// embedded server and the Go client: message framing for protocol versions
// 1.0.0 and 2.0.0 (including the binary broadcast kinds 3 and 4), the join,
// reply and postgres_changes payload types, postgres_changes filters, and
// presence (the server-side registry and a port of the client-side
// presence.js sync algorithm).
//
// The package does no I/O and starts no goroutines.
package phx

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Topics, events and protocol versions.
const (
	// TopicPhoenix is the socket-level topic of heartbeats.
	TopicPhoenix = "phoenix"

	// EventJoin joins a channel.
	EventJoin = "phx_join"
	// EventLeave leaves a channel.
	EventLeave = "phx_leave"
	// EventReply answers a push, echoing its join_ref and ref.
	EventReply = "phx_reply"
	// EventClose tells the client a channel is closed.
	EventClose = "phx_close"
	// EventError tells the client a channel crashed; the client rejoins.
	EventError = "phx_error"
	// EventHeartbeat is the client's keep-alive on TopicPhoenix.
	EventHeartbeat = "heartbeat"
	// EventAccessToken carries a refreshed JWT; it has no reply.
	EventAccessToken = "access_token"
	// EventPresence is the client's track/untrack push.
	EventPresence = "presence"
	// EventPresenceState is the full presence state sent after each join.
	EventPresenceState = "presence_state"
	// EventPresenceDiff is the presence joins/leaves fan-out.
	EventPresenceDiff = "presence_diff"
	// EventPostgresChanges is the database change fan-out.
	EventPostgresChanges = "postgres_changes"
	// EventSystem carries server notices such as "Subscribed to PostgreSQL".
	EventSystem = "system"
	// EventBroadcast is a user broadcast, in either direction.
	EventBroadcast = "broadcast"

	// Vsn1 is the JSON-object protocol.
	Vsn1 = "1.0.0"
	// Vsn2 is the JSON-array protocol with binary broadcasts (supabase-js default).
	Vsn2 = "2.0.0"
)

// Binary frame kinds of the V2 serializer. Only kinds 3 (client push) and 4
// (server push) are used by supabase-js; kinds 0-2 must never be sent to it.
const (
	binaryKindPush          = 0
	binaryKindReply         = 1
	binaryKindBroadcast     = 2
	binaryKindUserPush      = 3
	binaryKindUserBroadcast = 4
)

// maxBinaryField is the largest length a binary header byte can hold.
const maxBinaryField = 255

// Message is one Phoenix message. JoinRef and Ref "" mean JSON null.
type Message struct {
	JoinRef, Ref, Topic, Event string
	// Payload is always a JSON object on the wire. Encode writes {} for an
	// empty Payload.
	Payload json.RawMessage
	// BinaryPayload holds a raw (encoding 0) binary broadcast payload; then
	// Payload is {"type":"broadcast","event":<user event>} (plus "meta" if
	// any) without a "payload" key.
	BinaryPayload []byte
}

// DecodeError reports a frame that could not be decoded. The socket may go
// on after one: the frame is simply dropped.
type DecodeError struct {
	// Reason is a lower-case description of what is wrong.
	Reason string
}

// Error implements error.
func (e *DecodeError) Error() string { return "bad frame: " + e.Reason }

func decodeErr(format string, args ...any) error {
	return &DecodeError{Reason: fmt.Sprintf(format, args...)}
}

// Serializer encodes and decodes the frames of one protocol version.
// Implementations are stateless and safe for concurrent use.
type Serializer interface {
	// Version returns Vsn1 or Vsn2.
	Version() string
	// Encode returns the frame bytes and whether they must be sent as a
	// binary frame.
	//
	// vsn 2: a text array [join_ref, ref, topic, event, payload]. A
	// server→client broadcast (Event "broadcast", JoinRef and Ref "",
	// payload {"type":"broadcast","event":E,"payload":P[,"meta":M]}) is
	// encoded as binary kind 4 (encoding 1 for a JSON payload, 0 for
	// BinaryPayload). A client broadcast push (JoinRef or Ref set) is
	// encoded as binary kind 3 the same way, as supabase-js does. When the
	// binary form cannot carry the message (a field over 255 bytes, extra
	// payload keys) a JSON payload falls back to text and a BinaryPayload
	// is an error.
	//
	// vsn 1: a JSON object {"topic","event","payload","ref","join_ref"};
	// never binary, so BinaryPayload is an error.
	Encode(m Message) (data []byte, binary bool, err error)
	// Decode parses a text frame, or (vsn 2) a binary kind-3 client push
	// into a Message with Event "broadcast" and payload
	// {"type":"broadcast","event":E,"payload":P[,"meta":M]} (BinaryPayload
	// for encoding 0), or a binary kind-4 server push the same way. Errors
	// are *DecodeError. The Message never aliases data, so the caller may
	// reuse its buffer.
	Decode(data []byte, binary bool) (Message, error)
}

// SerializerFor picks the serializer for the vsn query value: "" and any
// 1.x.y give vsn 1, any 2.x.y gives vsn 2, anything else is an error (the
// server refuses the connection).
func SerializerFor(vsn string) (Serializer, error) {
	switch {
	case vsn == "":
		return v1Serializer{}, nil
	case isVersion(vsn, '1'):
		return v1Serializer{}, nil
	case isVersion(vsn, '2'):
		return v2Serializer{}, nil
	}
	return nil, fmt.Errorf("unsupported protocol version %q", vsn)
}

// isVersion reports whether v is "<major>.x.y" with decimal x and y.
func isVersion(v string, major byte) bool {
	parts := strings.Split(v, ".")
	if len(parts) != 3 || parts[0] != string(major) {
		return false
	}
	for _, p := range parts[1:] {
		if p == "" || len(p) > 9 {
			return false
		}
		for i := 0; i < len(p); i++ {
			if p[i] < '0' || p[i] > '9' {
				return false
			}
		}
	}
	return true
}

// ---- vsn 2 ----

type v2Serializer struct{}

func (v2Serializer) Version() string { return Vsn2 }

func (v2Serializer) Encode(m Message) ([]byte, bool, error) {
	if m.Event == EventBroadcast {
		if m.BinaryPayload != nil {
			return encodeBinaryBroadcast(m)
		}
		if data, ok := tryBroadcastJSON(m); ok {
			return data, true, nil
		}
	} else if m.BinaryPayload != nil {
		return nil, false, fmt.Errorf("encode %s: binary payload is only allowed on broadcast", m.Event)
	}
	payload, err := checkPayload(m.Payload)
	if err != nil {
		return nil, false, fmt.Errorf("encode %s: %w", m.Event, err)
	}
	b := make([]byte, 0, 16+len(m.JoinRef)+len(m.Ref)+len(m.Topic)+len(m.Event)+len(payload))
	b = append(b, '[')
	b = appendRef(b, m.JoinRef)
	b = append(b, ',')
	b = appendRef(b, m.Ref)
	b = append(b, ',')
	b = appendString(b, m.Topic)
	b = append(b, ',')
	b = appendString(b, m.Event)
	b = append(b, ',')
	b = append(b, payload...)
	b = append(b, ']')
	return b, false, nil
}

func (v2Serializer) Decode(data []byte, binary bool) (Message, error) {
	if binary {
		return decodeBinary(data)
	}
	if m, ok := decodeV2Fast(data); ok {
		return m, nil
	}
	return decodeV2Slow(data)
}

// decodeV2Fast decodes the common frame — plain strings without escapes,
// exactly five elements — without encoding/json's per-call setup (it is
// several times faster on small frames). It reports false for anything else,
// and then decodeV2Slow decides; on success both give the same Message.
func decodeV2Fast(data []byte) (Message, bool) {
	var m Message
	i := skipWS(data, 0)
	if i >= len(data) || data[i] != '[' {
		return m, false
	}
	fields := [4]*string{&m.JoinRef, &m.Ref, &m.Topic, &m.Event}
	for n, dst := range fields {
		i = skipWS(data, i+1)
		switch {
		case n < 2 && strings.HasPrefix(string(data[i:min(i+4, len(data))]), "null"):
			i += 4
		case i < len(data) && data[i] == '"':
			j := i + 1
			for j < len(data) && data[j] != '"' && data[j] != '\\' && data[j] >= 0x20 {
				j++
			}
			if j >= len(data) || data[j] != '"' || !utf8.Valid(data[i+1:j]) {
				return m, false
			}
			*dst = string(data[i+1 : j])
			i = j + 1
		default:
			return m, false
		}
		i = skipWS(data, i)
		if i >= len(data) || data[i] != ',' {
			return m, false
		}
	}
	end := len(data)
	for end > i && isWS(data[end-1]) {
		end--
	}
	if end <= i || data[end-1] != ']' {
		return m, false
	}
	payload := data[skipWS(data, i+1) : end-1]
	for len(payload) > 0 && isWS(payload[len(payload)-1]) {
		payload = payload[:len(payload)-1]
	}
	if len(payload) < 2 || payload[0] != '{' || payload[len(payload)-1] != '}' || !json.Valid(payload) {
		return m, false
	}
	m.Payload = bytes.Clone(payload) // Decode never retains data
	return m, true
}

func isWS(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipWS(data []byte, i int) int {
	for i < len(data) && isWS(data[i]) {
		i++
	}
	return i
}

// decodeV2Slow decodes any text frame with encoding/json and explains errors.
func decodeV2Slow(data []byte) (Message, error) {
	var parts []json.RawMessage
	if err := json.Unmarshal(data, &parts); err != nil {
		if !bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte("[")) && json.Valid(data) {
			return Message{}, decodeErr("expected a json array")
		}
		return Message{}, decodeErr("invalid json: %v", err)
	}
	// The server ignores elements after the fifth; so do we.
	if len(parts) < 5 {
		return Message{}, decodeErr("expected 5 elements, got %d", len(parts))
	}
	var m Message
	var err error
	if m.JoinRef, err = decodeRef(parts[0], "join_ref"); err != nil {
		return Message{}, err
	}
	if m.Ref, err = decodeRef(parts[1], "ref"); err != nil {
		return Message{}, err
	}
	if m.Topic, err = decodeName(parts[2], "topic"); err != nil {
		return Message{}, err
	}
	if m.Event, err = decodeName(parts[3], "event"); err != nil {
		return Message{}, err
	}
	if !isObject(parts[4]) {
		return Message{}, decodeErr("payload is not a json object")
	}
	m.Payload = parts[4]
	return m, nil
}

// encodeBinaryBroadcast encodes a broadcast with BinaryPayload (encoding 0):
// kind 4 for a server push (no refs), kind 3 for a client push.
func encodeBinaryBroadcast(m Message) ([]byte, bool, error) {
	bp, err := parseBroadcastPayload(m.Payload)
	if err != nil {
		return nil, false, fmt.Errorf("encode broadcast: %w", err)
	}
	if bp.hasPayload {
		return nil, false, fmt.Errorf("encode broadcast: payload has both a json and a binary payload")
	}
	var data []byte
	if m.JoinRef == "" && m.Ref == "" {
		data, err = appendKind4(nil, m.Topic, bp.event, bp.meta, 0, m.BinaryPayload)
	} else {
		data, err = appendKind3(m, bp, 0, m.BinaryPayload)
	}
	if err != nil {
		return nil, false, fmt.Errorf("encode broadcast: %w", err)
	}
	return data, true, nil
}

// tryBroadcastJSON encodes a JSON broadcast as binary encoding 1, when the
// payload has exactly the broadcast shape and the fields fit: kind 4 for a
// server push (no refs), kind 3 for a client push.
func tryBroadcastJSON(m Message) ([]byte, bool) {
	bp, err := parseBroadcastPayload(m.Payload)
	if err != nil || !bp.hasPayload || bp.emptyMeta {
		return nil, false
	}
	if m.JoinRef == "" && m.Ref == "" {
		data, err := appendKind4(nil, m.Topic, bp.event, bp.meta, 1, bp.payload)
		return data, err == nil
	}
	data, err := appendKind3(m, bp, 1, bp.payload)
	return data, err == nil
}

func appendKind4(b []byte, topic, event string, meta []byte, encoding byte, payload []byte) ([]byte, error) {
	if err := checkFieldLens("topic", topic, "event", event, "meta", string(meta)); err != nil {
		return nil, err
	}
	if b == nil {
		b = make([]byte, 0, 5+len(topic)+len(event)+len(meta)+len(payload))
	}
	b = append(b, binaryKindUserBroadcast, byte(len(topic)), byte(len(event)), byte(len(meta)), encoding)
	b = append(b, topic...)
	b = append(b, event...)
	b = append(b, meta...)
	b = append(b, payload...)
	return b, nil
}

func appendKind3(m Message, bp broadcastFields, encoding byte, payload []byte) ([]byte, error) {
	if err := checkFieldLens("join_ref", m.JoinRef, "ref", m.Ref, "topic", m.Topic, "event", bp.event, "meta", string(bp.meta)); err != nil {
		return nil, err
	}
	b := make([]byte, 0, 7+len(m.JoinRef)+len(m.Ref)+len(m.Topic)+len(bp.event)+len(bp.meta)+len(payload))
	b = append(b, binaryKindUserPush, byte(len(m.JoinRef)), byte(len(m.Ref)), byte(len(m.Topic)), byte(len(bp.event)), byte(len(bp.meta)), encoding)
	b = append(b, m.JoinRef...)
	b = append(b, m.Ref...)
	b = append(b, m.Topic...)
	b = append(b, bp.event...)
	b = append(b, bp.meta...)
	b = append(b, payload...)
	return b, nil
}

// checkFieldLens takes name/value pairs and fails on a value over 255 bytes.
func checkFieldLens(pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if len(pairs[i+1]) > maxBinaryField {
			return fmt.Errorf("%s is %d bytes, over the binary limit of %d", pairs[i], len(pairs[i+1]), maxBinaryField)
		}
	}
	return nil
}

// broadcastFields is a broadcast payload split into its parts.
type broadcastFields struct {
	event      string
	payload    json.RawMessage // compacted JSON
	hasPayload bool
	meta       []byte // compacted JSON object, or nil
	// emptyMeta is set when "meta" was present but null or {}: the binary
	// form would drop it.
	emptyMeta bool
}

// parseBroadcastPayload splits {"type":"broadcast","event":E[,"payload":P][,"meta":M]}.
// Any other key, or a missing type/event, is an error: the binary form
// could not carry it.
func parseBroadcastPayload(payload json.RawMessage) (broadcastFields, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(payload, &fields); err != nil {
		return broadcastFields{}, fmt.Errorf("broadcast payload is not a json object")
	}
	var bf broadcastFields
	var typ string
	for k, v := range fields {
		switch k {
		case "type":
			if json.Unmarshal(v, &typ) != nil || typ != "broadcast" {
				return bf, fmt.Errorf(`broadcast payload type is not "broadcast"`)
			}
		case "event":
			if json.Unmarshal(v, &bf.event) != nil {
				return bf, fmt.Errorf("broadcast payload event is not a string")
			}
		case "payload":
			var buf bytes.Buffer
			if err := json.Compact(&buf, v); err != nil {
				return bf, fmt.Errorf("broadcast payload is not valid json")
			}
			bf.payload, bf.hasPayload = buf.Bytes(), true
		case "meta":
			if string(v) == "null" {
				bf.emptyMeta = true
				continue
			}
			if !isObject(v) {
				return bf, fmt.Errorf("broadcast meta is not a json object")
			}
			var buf bytes.Buffer
			if err := json.Compact(&buf, v); err != nil {
				return bf, fmt.Errorf("broadcast meta is not valid json")
			}
			if buf.Len() > 2 {
				bf.meta = buf.Bytes()
			} else {
				bf.emptyMeta = true
			}
		default:
			return bf, fmt.Errorf("broadcast payload has extra key %q", k)
		}
	}
	if typ == "" {
		return bf, fmt.Errorf("broadcast payload has no type")
	}
	if _, ok := fields["event"]; !ok {
		return bf, fmt.Errorf("broadcast payload has no event")
	}
	return bf, nil
}

// decodeBinary decodes a vsn 2 binary frame of kind 3 or 4.
func decodeBinary(data []byte) (Message, error) {
	if len(data) == 0 {
		return Message{}, decodeErr("empty binary frame")
	}
	switch kind := data[0]; kind {
	case binaryKindUserPush:
		const hdr = 7
		if len(data) < hdr {
			return Message{}, decodeErr("binary kind 3 header is %d bytes, want %d", len(data), hdr)
		}
		lens := []int{int(data[1]), int(data[2]), int(data[3]), int(data[4]), int(data[5])}
		fields, rest, err := splitFields(data[hdr:], lens, 3)
		if err != nil {
			return Message{}, err
		}
		m := Message{JoinRef: string(fields[0]), Ref: string(fields[1]), Topic: string(fields[2]), Event: EventBroadcast}
		return finishBroadcast(m, string(fields[3]), fields[4], data[6], rest)
	case binaryKindUserBroadcast:
		const hdr = 5
		if len(data) < hdr {
			return Message{}, decodeErr("binary kind 4 header is %d bytes, want %d", len(data), hdr)
		}
		lens := []int{int(data[1]), int(data[2]), int(data[3])}
		fields, rest, err := splitFields(data[hdr:], lens, 4)
		if err != nil {
			return Message{}, err
		}
		m := Message{Topic: string(fields[0]), Event: EventBroadcast}
		return finishBroadcast(m, string(fields[1]), fields[2], data[4], rest)
	case binaryKindPush, binaryKindReply, binaryKindBroadcast:
		return Message{}, decodeErr("unsupported binary kind %d", kind)
	default:
		return Message{}, decodeErr("unknown binary kind %d", kind)
	}
}

// splitFields cuts len(lens) fields off body and returns them and the rest.
func splitFields(body []byte, lens []int, kind int) ([][]byte, []byte, error) {
	total := 0
	for _, n := range lens {
		total += n
	}
	if total > len(body) {
		return nil, nil, decodeErr("binary kind %d is truncated: header announces %d bytes of fields, %d present", kind, total, len(body))
	}
	fields := make([][]byte, len(lens))
	for i, n := range lens {
		fields[i], body = body[:n:n], body[n:]
	}
	return fields, body, nil
}

// finishBroadcast builds the broadcast payload of a decoded binary frame.
func finishBroadcast(m Message, event string, meta []byte, encoding byte, payload []byte) (Message, error) {
	if !utf8.ValidString(m.Topic) || !utf8.ValidString(event) {
		return Message{}, decodeErr("binary broadcast topic or event is not utf-8")
	}
	if len(meta) > 0 {
		if !isObject(meta) || !json.Valid(meta) {
			return Message{}, decodeErr("binary broadcast metadata is not a json object")
		}
		if isEmptyObject(meta) {
			meta = nil
		}
	}
	b := make([]byte, 0, 48+len(event)+len(meta)+len(payload))
	b = append(b, `{"type":"broadcast","event":`...)
	b = appendString(b, event)
	switch encoding {
	case 1:
		if !json.Valid(payload) {
			return Message{}, decodeErr("binary broadcast json payload is not valid json")
		}
		b = append(b, `,"payload":`...)
		b = append(b, bytes.TrimSpace(payload)...)
	case 0:
		m.BinaryPayload = bytes.Clone(payload)
		if m.BinaryPayload == nil {
			m.BinaryPayload = []byte{}
		}
	default:
		return Message{}, decodeErr("unknown binary payload encoding %d", encoding)
	}
	if len(meta) > 0 {
		b = append(b, `,"meta":`...)
		b = append(b, meta...)
	}
	b = append(b, '}')
	m.Payload = b
	return m, nil
}

// ---- vsn 1 ----

type v1Serializer struct{}

func (v1Serializer) Version() string { return Vsn1 }

func (v1Serializer) Encode(m Message) ([]byte, bool, error) {
	if m.BinaryPayload != nil {
		return nil, false, fmt.Errorf("encode %s: binary payloads need protocol version 2", m.Event)
	}
	payload, err := checkPayload(m.Payload)
	if err != nil {
		return nil, false, fmt.Errorf("encode %s: %w", m.Event, err)
	}
	b := make([]byte, 0, 64+len(m.JoinRef)+len(m.Ref)+len(m.Topic)+len(m.Event)+len(payload))
	b = append(b, `{"topic":`...)
	b = appendString(b, m.Topic)
	b = append(b, `,"event":`...)
	b = appendString(b, m.Event)
	b = append(b, `,"payload":`...)
	b = append(b, payload...)
	b = append(b, `,"ref":`...)
	b = appendRef(b, m.Ref)
	b = append(b, `,"join_ref":`...)
	b = appendRef(b, m.JoinRef)
	b = append(b, '}')
	return b, false, nil
}

func (v1Serializer) Decode(data []byte, binary bool) (Message, error) {
	if binary {
		return Message{}, decodeErr("binary frames need protocol version 2")
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		if !bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte("{")) && json.Valid(data) {
			return Message{}, decodeErr("expected a json object")
		}
		return Message{}, decodeErr("invalid json: %v", err)
	}
	// Phoenix's Message.from_map! requires topic, event, payload and ref;
	// join_ref is optional.
	for _, k := range []string{"topic", "event", "payload", "ref"} {
		if _, ok := obj[k]; !ok {
			return Message{}, decodeErr("missing key %q", k)
		}
	}
	var m Message
	var err error
	if raw, ok := obj["join_ref"]; ok {
		if m.JoinRef, err = decodeRef(raw, "join_ref"); err != nil {
			return Message{}, err
		}
	}
	if m.Ref, err = decodeRef(obj["ref"], "ref"); err != nil {
		return Message{}, err
	}
	if m.Topic, err = decodeName(obj["topic"], "topic"); err != nil {
		return Message{}, err
	}
	if m.Event, err = decodeName(obj["event"], "event"); err != nil {
		return Message{}, err
	}
	if !isObject(obj["payload"]) {
		return Message{}, decodeErr("payload is not a json object")
	}
	m.Payload = obj["payload"]
	return m, nil
}

// ---- helpers ----

// checkPayload returns the payload to write: {} when empty, else p after
// checking it is one valid JSON object.
func checkPayload(p json.RawMessage) ([]byte, error) {
	if len(p) == 0 {
		return []byte("{}"), nil
	}
	if !isObject(p) || !json.Valid(p) {
		return nil, fmt.Errorf("payload is not a json object")
	}
	return p, nil
}

// isObject reports whether raw (valid JSON) starts with '{'.
func isObject(raw []byte) bool {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	return len(raw) > 0 && raw[0] == '{'
}

func isEmptyObject(raw []byte) bool {
	var m map[string]json.RawMessage
	return json.Unmarshal(raw, &m) == nil && len(m) == 0
}

// decodeRef accepts a JSON string or null.
func decodeRef(raw json.RawMessage, what string) (string, error) {
	if string(raw) == "null" {
		return "", nil
	}
	if len(raw) == 0 || raw[0] != '"' {
		return "", decodeErr("%s is not a string or null", what)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", decodeErr("%s is not a string or null", what)
	}
	return s, nil
}

// decodeName accepts a JSON string (topic, event).
func decodeName(raw json.RawMessage, what string) (string, error) {
	if len(raw) == 0 || raw[0] != '"' {
		return "", decodeErr("%s is not a string", what)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", decodeErr("%s is not a string", what)
	}
	return s, nil
}

func appendRef(b []byte, ref string) []byte {
	if ref == "" {
		return append(b, "null"...)
	}
	return appendString(b, ref)
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Unlike encoding/json it does not
// escape <, > and &, so frames match what JavaScript's JSON.stringify
// writes; invalid UTF-8 becomes U+FFFD as in encoding/json.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		// U+2028 and U+2029 are valid JSON but break JavaScript embedding; escape
		// them as encoding/json does.
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
