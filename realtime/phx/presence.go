package phx

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"sort"
	"sync"
	"sync/atomic"
)

// Meta keys the presence layer adds to tracked payloads.
const (
	MetaRef     = "phx_ref"
	MetaRefPrev = "phx_ref_prev"
	// MetaPresenceRef is the key supabase-js's presenceState() uses instead of phx_ref.
	MetaPresenceRef = "presence_ref"
)

// Meta is one tracked presence: the app's payload plus phx_ref (and
// phx_ref_prev after an update).
type Meta map[string]any

// Presence is the list of metas under one presence key.
type Presence struct {
	Metas []Meta `json:"metas"`
}

// MarshalJSON implements json.Marshaler; nil Metas encode as [].
func (p Presence) MarshalJSON() ([]byte, error) {
	metas := p.Metas
	if metas == nil {
		metas = []Meta{}
	}
	return json.Marshal(struct {
		Metas []Meta `json:"metas"`
	}{metas})
}

// State maps presence keys to their metas. It encodes to {} when empty,
// never null.
type State map[string]Presence

// MarshalJSON implements json.Marshaler.
func (s State) MarshalJSON() ([]byte, error) {
	if s == nil {
		return []byte("{}"), nil
	}
	return json.Marshal(map[string]Presence(s))
}

// Diff is the payload of presence_diff.
type Diff struct {
	Joins  State `json:"joins"`
	Leaves State `json:"leaves"`
}

// IsEmpty reports whether the diff has no joins and no leaves.
func (d Diff) IsEmpty() bool { return len(d.Joins) == 0 && len(d.Leaves) == 0 }

// Registry holds the presence metas of one topic: one meta per tracker (a
// channel membership on one socket) under a presence key, as Phoenix
// Tracker keeps one meta per channel process. Safe for concurrent use.
type Registry struct {
	mu      sync.Mutex
	entries map[string]*trackEntry // by tracker
	seq     uint64                 // insertion order of entries
}

type trackEntry struct {
	key     string
	payload map[string]any // without phx_ref*
	canon   []byte         // canonical JSON of payload, for identity checks
	meta    Meta
	seq     uint64
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{entries: make(map[string]*trackEntry)}
}

// Track stores payload for tracker under key with a fresh phx_ref. If the
// tracker already had a meta, the new meta also gets phx_ref_prev and the
// diff is joins{key:[new]} plus leaves{key:[old]}, like Phoenix's
// Presence.update. If the previous payload is identical (deep-equal,
// ignoring phx_ref keys) under the same key, nothing changes: changed is
// false and the diff is empty. Any phx_ref keys in payload are ignored; the
// payload map is copied, but the values inside it are shared and must not
// be modified afterwards.
func (r *Registry) Track(tracker, key string, payload map[string]any) (d Diff, changed bool) {
	clean := make(map[string]any, len(payload)+2)
	for k, v := range payload {
		if k != MetaRef && k != MetaRefPrev {
			clean[k] = v
		}
	}
	canon, err := json.Marshal(clean)
	if err != nil {
		canon = nil // never equal to anything: always a change
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.entries[tracker]
	if old != nil && old.key == key && canon != nil && bytes.Equal(old.canon, canon) {
		return Diff{}, false
	}
	meta := make(Meta, len(clean)+2)
	for k, v := range clean {
		meta[k] = v
	}
	meta[MetaRef] = NewPresenceRef()
	e := &trackEntry{key: key, payload: clean, canon: canon, meta: meta}
	d = Diff{Joins: State{}, Leaves: State{}}
	if old != nil {
		if old.key == key {
			meta[MetaRefPrev] = old.meta[MetaRef]
			e.seq = old.seq // an update keeps its place in the list
		}
		d.Leaves[old.key] = Presence{Metas: []Meta{copyMeta(old.meta)}}
	}
	if e.seq == 0 {
		r.seq++
		e.seq = r.seq
	}
	r.entries[tracker] = e
	d.Joins[key] = Presence{Metas: []Meta{copyMeta(meta)}}
	return d, true
}

// Untrack removes the tracker's meta and returns the leaves diff; changed
// is false when the tracker had none.
func (r *Registry) Untrack(tracker string) (d Diff, changed bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.entries[tracker]
	if old == nil {
		return Diff{}, false
	}
	delete(r.entries, tracker)
	return Diff{
		Joins:  State{},
		Leaves: State{old.key: {Metas: []Meta{copyMeta(old.meta)}}},
	}, true
}

// State returns a copy of the whole state; metas under a key are in the
// order their trackers first tracked. Values inside metas are shared and
// read-only.
func (r *Registry) State() State {
	r.mu.Lock()
	defer r.mu.Unlock()
	list := make([]*trackEntry, 0, len(r.entries))
	for _, e := range r.entries {
		list = append(list, e)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].seq < list[j].seq })
	s := make(State, len(list))
	for _, e := range list {
		p := s[e.key]
		p.Metas = append(p.Metas, copyMeta(e.meta))
		s[e.key] = p
	}
	return s
}

// Len returns the number of tracked metas.
func (r *Registry) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.entries)
}

// Occupancy returns how many keys are tracked and how many metas key has: what a server
// bounds before admitting a new meta.
func (r *Registry) Occupancy(key string) (keys, metasOfKey int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := make(map[string]struct{}, len(r.entries))
	for _, e := range r.entries {
		seen[e.key] = struct{}{}
		if e.key == key {
			metasOfKey++
		}
	}
	return len(seen), metasOfKey
}

// Tracked reports the key tracker is tracked under, if any.
func (r *Registry) Tracked(tracker string) (key string, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e := r.entries[tracker]; e != nil {
		return e.key, true
	}
	return "", false
}

func copyMeta(m Meta) Meta {
	c := make(Meta, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// refCounter makes refs unique even if the random source repeats.
var refCounter atomic.Uint64

// NewPresenceRef returns a unique opaque ref: URL-safe base64 of 8 random
// bytes and a process-wide counter, like the real server's opaque
// base64 refs. Safe for concurrent use.
func NewPresenceRef() string {
	var b [16]byte
	_, _ = rand.Read(b[:8]) // crypto/rand.Read never fails on supported platforms
	binary.BigEndian.PutUint64(b[8:], refCounter.Add(1))
	return base64.RawURLEncoding.EncodeToString(b[:])
}
