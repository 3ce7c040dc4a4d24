package phx

import (
	"encoding/json"
	"sort"
)

// Presence event kinds of PresenceEvent.
const (
	PresenceJoin  = "join"
	PresenceLeave = "leave"
	PresenceSync  = "sync"
)

// PresenceEvent is one callback of supabase-js's presence listeners.
//
// For "join", Current holds the key's metas before the join (empty for a
// new key) and Changed the joined metas (newPresences). For "leave",
// Current holds the metas left after the leave and Changed the metas that
// left (leftPresences). "sync" has no key and no metas. Metas are in
// supabase-js's form: phx_ref renamed presence_ref, phx_ref_prev dropped.
type PresenceEvent struct {
	Kind    string // "join", "leave" or "sync"
	Key     string
	Current []Meta
	Changed []Meta
}

// ClientPresence is the client-side presence state of one channel: a port
// of @supabase/phoenix presence.js (syncState, syncDiff and the pending-diff
// buffer keyed on join_ref) with realtime-js's presenceState() view.
//
// Where JavaScript walks object keys in payload order, this port walks them
// in sorted order (Go maps have none); events for one key keep JavaScript's
// order. Not safe for concurrent use: the channel's goroutine owns it.
type ClientPresence struct {
	state   map[string][]Meta // metas with phx_ref, as received
	joinRef string            // join_ref of the last presence_state
	pending []Diff
}

// NewClientPresence returns an empty presence state.
func NewClientPresence() *ClientPresence {
	return &ClientPresence{state: make(map[string][]Meta)}
}

// OnState handles presence_state received while the channel's join_ref is
// joinRef: it syncs to s, applies the diffs buffered until now, and returns
// the events in order (joins, leaves, the buffered diffs' events, then one
// sync).
func (p *ClientPresence) OnState(joinRef string, s State) []PresenceEvent {
	p.joinRef = joinRef
	var events []PresenceEvent
	events = p.syncState(s, events)
	for _, d := range p.pending {
		events = p.syncDiff(d, events)
	}
	p.pending = nil
	return append(events, PresenceEvent{Kind: PresenceSync})
}

// OnDiff handles presence_diff while the channel's join_ref is
// currentJoinRef. Until a presence_state has been seen for that join_ref
// the diff is buffered and no events are returned; otherwise it is applied
// and its events plus one sync are returned.
func (p *ClientPresence) OnDiff(currentJoinRef string, d Diff) []PresenceEvent {
	if p.joinRef == "" || p.joinRef != currentJoinRef {
		p.pending = append(p.pending, cloneDiff(d))
		return nil
	}
	events := p.syncDiff(d, nil)
	return append(events, PresenceEvent{Kind: PresenceSync})
}

// Pending returns how many diffs are buffered, waiting for presence_state.
func (p *ClientPresence) Pending() int { return len(p.pending) }

// List returns supabase-js's presenceState(): key → metas without phx_ref
// and phx_ref_prev but with presence_ref.
func (p *ClientPresence) List() map[string][]Meta {
	out := make(map[string][]Meta, len(p.state))
	for k, metas := range p.state {
		out[k] = publicMetas(metas)
	}
	return out
}

// syncState is presence.js Presence.syncState.
func (p *ClientPresence) syncState(newState State, events []PresenceEvent) []PresenceEvent {
	joins, leaves := State{}, State{}
	for _, key := range sortedKeys(p.state) {
		if _, ok := newState[key]; !ok {
			leaves[key] = Presence{Metas: p.state[key]}
		}
	}
	for _, key := range sortedStateKeys(newState) {
		newPresence := newState[key]
		cur, ok := p.state[key]
		if !ok {
			joins[key] = newPresence
			continue
		}
		newRefs := refSet(newPresence.Metas)
		curRefs := refSet(cur)
		var joined, left []Meta
		for _, m := range newPresence.Metas {
			if !curRefs[refOf(m)] {
				joined = append(joined, m)
			}
		}
		for _, m := range cur {
			if !newRefs[refOf(m)] {
				left = append(left, m)
			}
		}
		if len(joined) > 0 {
			joins[key] = Presence{Metas: joined}
		}
		if len(left) > 0 {
			leaves[key] = Presence{Metas: left}
		}
	}
	return p.syncDiff(Diff{Joins: joins, Leaves: leaves}, events)
}

// syncDiff is presence.js Presence.syncDiff: joins first, then leaves.
func (p *ClientPresence) syncDiff(d Diff, events []PresenceEvent) []PresenceEvent {
	d = cloneDiff(d)
	for _, key := range sortedStateKeys(d.Joins) {
		newMetas := d.Joins[key].Metas
		cur, existed := p.state[key]
		merged := cloneMetas(newMetas)
		if existed {
			joinedRefs := refSet(merged)
			var kept []Meta
			for _, m := range cur {
				if !joinedRefs[refOf(m)] {
					kept = append(kept, m)
				}
			}
			merged = append(kept, merged...)
		}
		p.state[key] = merged
		events = append(events, PresenceEvent{
			Kind:    PresenceJoin,
			Key:     key,
			Current: publicMetas(cur),
			Changed: publicMetas(newMetas),
		})
	}
	for _, key := range sortedStateKeys(d.Leaves) {
		cur, ok := p.state[key]
		if !ok {
			continue
		}
		leftMetas := d.Leaves[key].Metas
		remove := refSet(leftMetas)
		var remaining []Meta
		for _, m := range cur {
			if !remove[refOf(m)] {
				remaining = append(remaining, m)
			}
		}
		events = append(events, PresenceEvent{
			Kind:    PresenceLeave,
			Key:     key,
			Current: publicMetas(remaining),
			Changed: publicMetas(leftMetas),
		})
		if len(remaining) == 0 {
			delete(p.state, key)
		} else {
			p.state[key] = remaining
		}
	}
	return events
}

// refOf returns a meta's phx_ref as a comparable string. JavaScript compares
// refs with indexOf (===); refs are strings in practice, and anything else
// is compared by its JSON text so odd input cannot panic.
func refOf(m Meta) string {
	v, ok := m[MetaRef]
	if !ok {
		return "\x00undefined"
	}
	if s, ok := v.(string); ok {
		return "s" + s
	}
	b, _ := json.Marshal(v)
	return "j" + string(b)
}

func refSet(metas []Meta) map[string]bool {
	set := make(map[string]bool, len(metas))
	for _, m := range metas {
		set[refOf(m)] = true
	}
	return set
}

// publicMetas converts metas to supabase-js's form (never nil).
func publicMetas(metas []Meta) []Meta {
	out := make([]Meta, 0, len(metas))
	for _, m := range metas {
		c := make(Meta, len(m))
		for k, v := range m {
			switch k {
			case MetaRef:
				c[MetaPresenceRef] = v
			case MetaRefPrev:
			default:
				c[k] = v
			}
		}
		out = append(out, c)
	}
	return out
}

func cloneMetas(metas []Meta) []Meta {
	out := make([]Meta, len(metas))
	for i, m := range metas {
		out[i] = copyMeta(m)
	}
	return out
}

func cloneState(s State) State {
	if s == nil {
		return nil
	}
	c := make(State, len(s))
	for k, p := range s {
		c[k] = Presence{Metas: cloneMetas(p.Metas)}
	}
	return c
}

func cloneDiff(d Diff) Diff {
	return Diff{Joins: cloneState(d.Joins), Leaves: cloneState(d.Leaves)}
}

func sortedKeys(m map[string][]Meta) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func sortedStateKeys(s State) []string {
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
