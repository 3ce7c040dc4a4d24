package phx

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func decodeV2(t *testing.T, frame string) Message {
	t.Helper()
	m, err := mustSerializer(t, Vsn2).Decode([]byte(frame), false)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestJoinPayloadCaptured(t *testing.T) {
	var jp JoinPayload
	if err := json.Unmarshal(decodeV2(t, capturedV2[0]).Payload, &jp); err != nil {
		t.Fatal(err)
	}
	c := jp.Config
	if !c.Broadcast.Self || c.Broadcast.Ack || c.Presence.Key != "u-123" || !c.Presence.Enabled || c.Private {
		t.Errorf("config %+v", c)
	}
	if len(c.PostgresChanges) != 3 || c.PostgresChanges[1].Event != "*" || c.PostgresChanges[2].Table != "comments" ||
		c.PostgresChanges[0].Filter != "room_id=eq.r1" || jp.Token() != "" {
		t.Errorf("bindings %+v token %q", c.PostgresChanges, jp.Token())
	}

	var rejoin JoinPayload
	if err := json.Unmarshal(decodeV2(t, capturedV2[19]).Payload, &rejoin); err != nil {
		t.Fatal(err)
	}
	if rejoin.Token() != "sb_publishable_fakekey123" || rejoin.Version != "realtime-js/2.119.0" {
		t.Errorf("rejoin %+v", rejoin)
	}
	legacy := JoinPayload{}
	if err := json.Unmarshal([]byte(`{"config":{},"user_token":"old"}`), &legacy); err != nil || legacy.Token() != "old" {
		t.Errorf("legacy token %+v %v", legacy, err)
	}
}

// The server's join reply, built from the client's bindings, is exactly the
// captured reply once the ids are set.
func TestJoinReplyEcho(t *testing.T) {
	var jp JoinPayload
	if err := json.Unmarshal(decodeV2(t, capturedV2[0]).Payload, &jp); err != nil {
		t.Fatal(err)
	}
	bindings := jp.Config.PostgresChanges
	for i := range bindings {
		bindings[i].ID = 30636876 + int64(i)
	}
	payload := ReplyOK(map[string]any{"postgres_changes": bindings})
	out, _, err := mustSerializer(t, Vsn2).Encode(Message{JoinRef: "6", Ref: "6", Topic: "realtime:room:r1", Event: EventReply, Payload: payload})
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != capturedV2[1] {
		t.Errorf("got  %s\nwant %s", out, capturedV2[1])
	}
	// The client's check passes on the decoded echo.
	var rp struct {
		Response struct {
			PostgresChanges []ChangeBinding `json:"postgres_changes"`
		} `json:"response"`
	}
	if err := json.Unmarshal(payload, &rp); err != nil {
		t.Fatal(err)
	}
	for i, b := range rp.Response.PostgresChanges {
		if !SameBinding(b, jp.Config.PostgresChanges[i]) || b.ID != 30636876+int64(i) {
			t.Errorf("echo %d = %+v", i, b)
		}
	}
}

func TestChangeBindingEchoKeepsPresentEmptyFields(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"event":"*","schema":"public"}`, `{"event":"*","schema":"public"}`},
		{`{"event":"*","schema":"public","table":"t","filter":""}`, `{"event":"*","schema":"public","table":"t","filter":""}`},
		{`{"event":"*","table":"t"}`, `{"event":"*","table":"t"}`},
		{`{"event":"INSERT","schema":"public","table":"t","select":["a","b"]}`, `{"event":"INSERT","schema":"public","table":"t","select":["a","b"]}`},
	} {
		var b ChangeBinding
		if err := json.Unmarshal([]byte(tc.in), &b); err != nil {
			t.Fatal(err)
		}
		out, err := json.Marshal(b)
		if err != nil || string(out) != tc.want {
			t.Errorf("%s → %s, %v; want %s", tc.in, out, err, tc.want)
		}
	}
	out, _ := json.Marshal(ChangeBinding{Event: "*", Schema: "public", ID: 5})
	if string(out) != `{"event":"*","schema":"public","id":5}` {
		t.Errorf("built binding %s", out)
	}
	if err := json.Unmarshal([]byte(`{"event":5}`), new(ChangeBinding)); err == nil {
		t.Error("numeric event accepted")
	}
}

func TestBindingID(t *testing.T) {
	a := ChangeBinding{Event: "UPDATE", Schema: "public", Table: "rooms", Filter: "room_id=eq.r1"}
	b := a
	b.Filter = "room_id=eq.r2"
	ida, idb := BindingID(a), BindingID(b)
	if ida != BindingID(a) {
		t.Error("not stable")
	}
	if ida == idb {
		t.Error("different filters share an id")
	}
	for _, id := range []int64{ida, idb} {
		if id <= 0 || id >= 1<<27 {
			t.Errorf("id %d out of range", id)
		}
	}
	a.ID = 99 // the id itself is not hashed
	if BindingID(a) != ida {
		t.Error("id depends on ID")
	}
}

func TestMatchEventAndTable(t *testing.T) {
	for _, tc := range []struct {
		event, typ string
		want       bool
	}{
		{"*", "INSERT", true}, {"INSERT", "INSERT", true}, {"insert", "INSERT", true}, {"UPDATE", "INSERT", false},
		{"delete", "DELETE", true}, {"Delete", "UPDATE", false}, {"other", "DELETE", true}, {"", "UPDATE", true},
	} {
		if got := (ChangeBinding{Event: tc.event}).MatchEvent(tc.typ); got != tc.want {
			t.Errorf("event %q vs %q = %v", tc.event, tc.typ, got)
		}
	}
	for _, tc := range []struct {
		schema, table string
		want          bool
	}{
		{"public", "rooms", true}, {"public", "", true}, {"*", "rooms", true}, {"public", "*", true},
		{"", "rooms", true}, {"other", "rooms", false}, {"public", "comments", false}, {"", "", false},
	} {
		if got := (ChangeBinding{Schema: tc.schema, Table: tc.table}).MatchTable("public", "rooms"); got != tc.want {
			t.Errorf("binding %q.%q vs public.rooms = %v", tc.schema, tc.table, got)
		}
	}
}

func TestReplyHelpers(t *testing.T) {
	for _, tc := range []struct {
		got  json.RawMessage
		want string
	}{
		{ReplyOK(nil), `{"status":"ok","response":{}}`},
		{ReplyOK(map[string]any{}), `{"status":"ok","response":{}}`},
		{ReplyOK(json.RawMessage(`{"a":1}`)), `{"status":"ok","response":{"a":1}}`},
		{ReplyOK(json.RawMessage(``)), `{"status":"ok","response":{}}`},
		{ReplyOK(func() {}), `{"status":"ok","response":{}}`},
		{ReplyOK(json.RawMessage(`null`)), `{"status":"ok","response":{}}`},
		{ReplyOK([]int{1}), `{"status":"ok","response":{}}`},
		{ReplyError("unmatched topic"), `{"status":"error","response":{"reason":"unmatched topic"}}`},
		{ReplyError(`say "hi"`), `{"status":"error","response":{"reason":"say \"hi\""}}`},
	} {
		if string(tc.got) != tc.want {
			t.Errorf("got %s want %s", tc.got, tc.want)
		}
	}
	var rp ReplyPayload
	if err := json.Unmarshal(decodeV2(t, capturedV2[22]).Payload, &rp); err != nil || rp.Status != StatusError ||
		!strings.Contains(string(rp.Response), "ClientJoinRateLimitReached") {
		t.Errorf("reply %+v %v", rp, err)
	}
}

// The captured postgres_changes frames are exactly what ChangesPayload produces.
func TestChangesPayloadCaptured(t *testing.T) {
	ts := time.Date(2024, 5, 1, 12, 0, 0, 123e6, time.UTC)
	update := ChangesPayload{IDs: []int64{30636876}, Data: ChangeData{
		Schema: "public", Table: "rooms", CommitTimestamp: FormatCommitTimestamp(ts.In(time.FixedZone("x", 3600))), Type: ChangeUpdate,
		Columns:   []Column{{"room_id", "uuid"}, {"position_ms", "int8"}, {"is_playing", "bool"}, {"updated_at", "timestamptz"}},
		Record:    map[string]any{"room_id": "r1", "position_ms": 4200, "is_playing": true, "updated_at": "2024-05-01T12:00:00.123+00:00"},
		OldRecord: map[string]any{"room_id": "r1"},
	}}
	insert := ChangesPayload{IDs: []int64{30636878}, Data: ChangeData{
		Schema: "public", Table: "comments", CommitTimestamp: "2024-05-01T12:00:01.000Z", Type: ChangeInsert,
		Columns: []Column{{"id", "int8"}, {"room_id", "uuid"}, {"body", "text"}},
		Record:  map[string]any{"id": 7, "room_id": "r1", "body": "hello"},
	}}
	for i, p := range []ChangesPayload{update, insert} {
		payload, err := Payload(p)
		if err != nil {
			t.Fatal(err)
		}
		want := decodeV2(t, capturedV2[7+i]).Payload
		if !jsonEqual(payload, want) {
			t.Errorf("payload %s\nwant    %s", payload, want)
		}
		if !strings.Contains(string(payload), `"errors":null`) {
			t.Errorf("errors not null: %s", payload)
		}
	}
	if _, err := Payload([]int{1}); err == nil {
		t.Error("Payload accepted an array")
	}
}

func TestJoinPayloadEncode(t *testing.T) {
	out, err := json.Marshal(JoinPayload{Config: JoinConfig{Presence: PresenceConfig{Key: "u-1"}}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"config":{"broadcast":{"ack":false,"self":false},"presence":{"key":"u-1","enabled":false},"postgres_changes":[],"private":false}}`
	if string(out) != want {
		t.Errorf("got  %s\nwant %s", out, want)
	}
}
