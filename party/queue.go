package party

import (
	"math"
	"slices"
)

// QueueEntry is one entry of a room's queue (docs/design.md §7.13): a title and duration, and
// either the private fingerprint of a local file (FP, as Fingerprint makes it) or an http(s)
// URL, which is opened only after CheckMediaURL. Title and URL are as the server sent them.
type QueueEntry struct {
	ID       int64
	RoomID   string
	Position int64
	Title    string
	Duration float64 // 0 when unknown
	FP       string  // "" when the entry is a URL, or the fingerprint is not of a valid shape
	URL      string
	Removed  bool
}

// MaxQueueEntries is the most entries a client takes of a queue (the servers keep 100 that
// are not removed; removed ones are listed too).
const MaxQueueEntries = 1000

// ParseQueueRow reads a room_queue row (docs/api.md, "The queue"). id is required.
func ParseQueueRow(m map[string]any) (QueueEntry, error) {
	r := row{what: "queue row", m: m}
	var q QueueEntry
	id, ok, err := r.optNumber("id")
	if err != nil {
		return q, err
	}
	if !ok || id <= 0 || id != math.Trunc(id) {
		return q, r.errorf("missing id")
	}
	q.ID = int64(id)
	if q.RoomID, err = r.optString("room_id"); err != nil {
		return q, err
	}
	if v, ok, err := r.optNumber("position"); err == nil && ok {
		q.Position = int64(v)
	}
	if q.Title, err = r.optString("title"); err != nil {
		return q, err
	}
	if v, ok, err := r.optNumber("duration"); err == nil && ok && v > 0 && v <= MaxPosition {
		q.Duration = v
	}
	if fp, ok := m["media_fp"].(string); ok && ValidFingerprint(fp) {
		q.FP = fp
	}
	if q.URL, err = r.optString("media_url"); err != nil {
		return q, err
	}
	q.Removed = m["removed_at"] != nil
	return q, nil
}

// Queue is a room's queue as a client holds it, by entry id. The zero value is empty and ready
// to use. Not safe for concurrent use.
type Queue struct{ m map[int64]QueueEntry }

// Put adds or replaces an entry (an INSERT or UPDATE of room_queue, or a row of a read); a
// queue at MaxQueueEntries takes no new entry.
func (q *Queue) Put(e QueueEntry) {
	if q.m == nil {
		q.m = map[int64]QueueEntry{}
	}
	if _, ok := q.m[e.ID]; !ok && len(q.m) >= MaxQueueEntries {
		return
	}
	q.m[e.ID] = e
}

// Live returns the entries not removed, in queue order.
func (q *Queue) Live() []QueueEntry {
	out := make([]QueueEntry, 0, len(q.m))
	for _, e := range q.m {
		if !e.Removed {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b QueueEntry) int {
		if a.Position != b.Position {
			return int(a.Position - b.Position)
		}
		return int(a.ID - b.ID)
	})
	return out
}

// With puts entries and returns q.
func (q *Queue) With(entries []QueueEntry) *Queue {
	for _, e := range entries {
		q.Put(e)
	}
	return q
}
