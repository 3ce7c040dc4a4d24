package phx

import (
	"encoding/json"
	"testing"
)

func decodeState(t *testing.T, frame string) State {
	t.Helper()
	var s State
	if err := json.Unmarshal(decodeV2(t, frame).Payload, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func decodeDiff(t *testing.T, frame string) Diff {
	t.Helper()
	var d Diff
	if err := json.Unmarshal(decodeV2(t, frame).Payload, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// eventsJSON renders events like supabase-js's callback payloads.
func eventsJSON(t *testing.T, events []PresenceEvent) string {
	t.Helper()
	var out []map[string]any
	for _, e := range events {
		j := map[string]any{"event": e.Kind}
		if e.Kind != PresenceSync {
			if e.Current == nil || e.Changed == nil {
				t.Errorf("%s %s: nil metas, want []", e.Kind, e.Key)
			}
			j["key"] = e.Key
			j["currentPresences"] = e.Current
			if e.Kind == PresenceJoin {
				j["newPresences"] = e.Changed
			} else {
				j["leftPresences"] = e.Changed
			}
		}
		out = append(out, j)
	}
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func wantJSON(t *testing.T, got any, want string) {
	t.Helper()
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	if !jsonEqual(b, []byte(want)) {
		t.Errorf("got  %s\nwant %s", b, want)
	}
}

const (
	bob     = `{"user_id":"other-user","name":"Bob","presence_ref":"F_other_1"}`
	alice1  = `{"user_id":"u-123","name":"Alice","online_at":"2024-05-01T12:00:00.000Z","presence_ref":"F_me_1"}`
	alice2  = `{"user_id":"u-123","name":"Alice","online_at":"2024-05-01T12:00:03.000Z","presence_ref":"F_me_2"}`
	syncEvt = `{"event":"sync"}`
)

// The main run of the capture: the frames produce exactly the callbacks
// supabase-js fired, and presenceState() after each sync.
func TestClientPresenceCapturedRun(t *testing.T) {
	p := NewClientPresence()

	events := p.OnState("6", decodeState(t, capturedV2[2]))
	wantJSON(t, json.RawMessage(eventsJSON(t, events)), `[{"event":"join","key":"other-user","currentPresences":[],"newPresences":[`+bob+`]},`+syncEvt+`]`)
	wantJSON(t, p.List(), `{"other-user":[`+bob+`]}`)

	events = p.OnDiff("6", decodeDiff(t, capturedV2[6]))
	wantJSON(t, json.RawMessage(eventsJSON(t, events)), `[{"event":"join","key":"u-123","currentPresences":[],"newPresences":[`+alice1+`]},`+syncEvt+`]`)
	wantJSON(t, p.List(), `{"other-user":[`+bob+`],"u-123":[`+alice1+`]}`)

	events = p.OnDiff("6", decodeDiff(t, capturedV2[10]))
	wantJSON(t, json.RawMessage(eventsJSON(t, events)), `[`+
		`{"event":"join","key":"u-123","currentPresences":[`+alice1+`],"newPresences":[`+alice2+`]},`+
		`{"event":"leave","key":"u-123","currentPresences":[`+alice2+`],"leftPresences":[`+alice1+`]},`+syncEvt+`]`)
	wantJSON(t, p.List(), `{"other-user":[`+bob+`],"u-123":[`+alice2+`]}`)

	events = p.OnDiff("6", decodeDiff(t, capturedV2[15]))
	wantJSON(t, json.RawMessage(eventsJSON(t, events)), `[{"event":"leave","key":"u-123","currentPresences":[],"leftPresences":[`+alice2+`]},`+syncEvt+`]`)
	wantJSON(t, p.List(), `{"other-user":[`+bob+`]}`)
}

// Diffs that arrive before presence_state are buffered, then applied right
// after the state, before the one sync.
func TestClientPresenceBuffersUntilState(t *testing.T) {
	p := NewClientPresence()
	if ev := p.OnDiff("6", decodeDiff(t, capturedV2[6])); ev != nil {
		t.Fatalf("diff before state fired %v", ev)
	}
	if p.Pending() != 1 || len(p.List()) != 0 {
		t.Fatalf("pending %d list %v", p.Pending(), p.List())
	}
	events := p.OnState("6", decodeState(t, capturedV2[2]))
	wantJSON(t, json.RawMessage(eventsJSON(t, events)), `[`+
		`{"event":"join","key":"other-user","currentPresences":[],"newPresences":[`+bob+`]},`+
		`{"event":"join","key":"u-123","currentPresences":[],"newPresences":[`+alice1+`]},`+syncEvt+`]`)
	if p.Pending() != 0 {
		t.Errorf("pending %d after state", p.Pending())
	}
	wantJSON(t, p.List(), `{"other-user":[`+bob+`],"u-123":[`+alice1+`]}`)
}

// After a rejoin (new join_ref) diffs are buffered again until the new
// presence_state, which replaces the old state: keys gone from it leave.
func TestClientPresenceRejoin(t *testing.T) {
	p := NewClientPresence()
	p.OnState("6", decodeState(t, capturedV2[2]))
	p.OnDiff("6", decodeDiff(t, capturedV2[6]))

	// Rejoined with join_ref 19: a diff for the new join waits.
	if ev := p.OnDiff("19", decodeDiff(t, capturedV2[10])); ev != nil {
		t.Fatalf("diff during rejoin fired %v", ev)
	}
	// The new state has only Bob plus a new meta for Alice's key.
	newState := State{
		"other-user": {Metas: []Meta{{"phx_ref": "F_other_1", "user_id": "other-user", "name": "Bob"}}},
	}
	events := p.OnState("19", newState)
	// syncState: u-123 (F_me_1) is gone → leave. Then the buffered diff
	// joins F_me_2, re-creating the key, and its leave of F_me_1 still fires
	// (presence.js only skips leaves for absent keys), then one sync.
	wantJSON(t, json.RawMessage(eventsJSON(t, events)), `[`+
		`{"event":"leave","key":"u-123","currentPresences":[],"leftPresences":[`+alice1+`]},`+
		`{"event":"join","key":"u-123","currentPresences":[],"newPresences":[`+alice2+`]},`+
		`{"event":"leave","key":"u-123","currentPresences":[`+alice2+`],"leftPresences":[`+alice1+`]},`+syncEvt+`]`)
	wantJSON(t, p.List(), `{"other-user":[`+bob+`],"u-123":[`+alice2+`]}`)

	// Now diffs for join_ref 19 apply at once; a stale join_ref buffers.
	if ev := p.OnDiff("19", decodeDiff(t, capturedV2[15])); len(ev) != 2 {
		t.Errorf("diff after rejoin state: %v", ev)
	}
	if ev := p.OnDiff("20", Diff{}); ev != nil || p.Pending() != 1 {
		t.Errorf("diff for another join_ref: %v pending %d", ev, p.Pending())
	}
}

// syncState on a key present in both states: metas with unseen refs join,
// vanished refs leave; a join on an existing key keeps the other metas
// first, as presence.js does.
func TestClientPresenceSyncStateSameKey(t *testing.T) {
	p := NewClientPresence()
	p.OnState("1", State{"k": {Metas: []Meta{{"phx_ref": "a"}, {"phx_ref": "b"}}}})
	events := p.OnState("1", State{"k": {Metas: []Meta{{"phx_ref": "b"}, {"phx_ref": "c"}}}})
	wantJSON(t, json.RawMessage(eventsJSON(t, events)), `[`+
		`{"event":"join","key":"k","currentPresences":[{"presence_ref":"a"},{"presence_ref":"b"}],"newPresences":[{"presence_ref":"c"}]},`+
		`{"event":"leave","key":"k","currentPresences":[{"presence_ref":"b"},{"presence_ref":"c"}],"leftPresences":[{"presence_ref":"a"}]},`+syncEvt+`]`)
	wantJSON(t, p.List(), `{"k":[{"presence_ref":"b"},{"presence_ref":"c"}]}`)

	// Same state again: only a sync.
	events = p.OnState("1", State{"k": {Metas: []Meta{{"phx_ref": "b"}, {"phx_ref": "c"}}}})
	wantJSON(t, json.RawMessage(eventsJSON(t, events)), `[`+syncEvt+`]`)

	// A leave for an unknown key is skipped; odd refs do not panic.
	events = p.OnDiff("1", Diff{
		Joins:  State{"k": {Metas: []Meta{{"phx_ref": map[string]any{"x": 1}}}}},
		Leaves: State{"nobody": {Metas: []Meta{{"phx_ref": "z"}}}},
	})
	if len(events) != 2 || events[0].Kind != PresenceJoin || len(p.List()["k"]) != 3 {
		t.Errorf("events %v list %v", events, p.List())
	}
}

// The events do not alias the input or the internal state.
func TestClientPresenceNoAliasing(t *testing.T) {
	p := NewClientPresence()
	s := State{"k": {Metas: []Meta{{"phx_ref": "a", "v": 1}}}}
	events := p.OnState("1", s)
	s["k"].Metas[0]["v"] = 2
	events[0].Changed[0]["v"] = 3
	p.List()["k"][0]["v"] = 4
	if got := p.List()["k"][0]["v"]; got != 1 {
		t.Errorf("state changed through an alias: v=%v", got)
	}
}
