package party

import (
	"slices"
	"strings"
	"time"
)

// Waiting for a buffering member (docs/design.md §7.12). A member whose mpv buffers soon after a
// room action (their join, a seek, a play) makes the room wait: the host publishes a "wait"
// that pauses everyone at one position until they are ready or the room's wait limit passes.
// Buffering while the room is already in steady play never makes it wait: that member catches
// up alone.
const (
	// WaitWindow is how soon after a room action (a play, a seek) or a member's own join their
	// buffering makes the room wait.
	WaitWindow = 5 * time.Second
	// WaitAgainAfter: a member the room waited for is not waited for again within this.
	WaitAgainAfter = time.Minute
	// BufferingAfter is how long a stall (mpv's paused-for-cache, or a seek not done) must last
	// before a member reports buffering: every seek stalls briefly.
	BufferingAfter = 500 * time.Millisecond
	// ReadyAhead is how much media (seconds) a buffering member's paused mpv must hold in its
	// cache ahead of the position before they report ready again (or the cache has all of the
	// file): mpv's own cache-pause-wait, after which it resumes playing by itself.
	ReadyAhead = 1.0
	// MaxWaitingFor is the most members one wait names (the servers refuse more).
	MaxWaitingFor = 16
	// maxWaitLimit is the longest wait_limit a server may set (s); a larger value is read
	// as this.
	maxWaitLimit = 60
	// maxIDLen bounds one user id read from waiting_for (ids are UUIDs).
	maxIDLen = 64
)

// WaitList is the members a room waits for: user ids joined by newlines, so that RoomState
// stays comparable. Empty: no wait.
type WaitList string

// IDs returns the user ids of the list.
func (w WaitList) IDs() []string {
	if w == "" {
		return nil
	}
	return strings.Split(string(w), "\n")
}

// Has reports whether id is in the list.
func (w WaitList) Has(id string) bool { return slices.Contains(w.IDs(), id) }

// NewWaitList makes a list of ids: at most MaxWaitingFor, each non-empty, without a newline,
// at most 64 bytes, no duplicates (others are dropped).
func NewWaitList(ids []string) WaitList {
	var keep []string
	for _, id := range ids {
		if id == "" || len(id) > maxIDLen || strings.ContainsAny(id, "\n") || slices.Contains(keep, id) {
			continue
		}
		if keep = append(keep, id); len(keep) == MaxWaitingFor {
			break
		}
	}
	return WaitList(strings.Join(keep, "\n"))
}

// parseWait reads waiting_for (a JSON array of strings; anything else is no wait) and
// wait_limit (seconds; missing: 0, a server that does not wait).
func parseWait(r row, s *RoomState) error {
	if v, ok := r.m["waiting_for"].([]any); ok {
		ids := make([]string, 0, len(v))
		for _, x := range v {
			if id, ok := x.(string); ok {
				ids = append(ids, id)
			}
		}
		s.Waiting = NewWaitList(ids)
	}
	v, ok, err := r.optNumber("wait_limit")
	if err != nil || !ok {
		return err
	}
	s.WaitLimit = time.Duration(min(max(v, 0), maxWaitLimit) * float64(time.Second))
	return nil
}

// Waits is the host's bookkeeping of the wait rule: when the room last acted, when each
// member joined, whom it waited for when, and the wait running now. Times are the host's
// clock. The zero value is ready to use. Not safe for concurrent use.
type Waits struct {
	actedAt  time.Time
	joinedAt map[string]time.Time
	waitedAt map[string]time.Time

	// The wait running (Since is zero when none): for whom, since when.
	For   []string
	Since time.Time
}

// Acted records a room action (a play or a seek) at now.
func (w *Waits) Acted(now time.Time) { w.actedAt = now }

// Joined records that a member joined (was announced) at now.
func (w *Waits) Joined(id string, now time.Time) {
	if w.joinedAt == nil {
		w.joinedAt = map[string]time.Time{}
	}
	w.joinedAt[id] = now
}

// Running reports whether a wait runs.
func (w *Waits) Running() bool { return !w.Since.IsZero() }

// ToWaitFor returns the members of buffering the room should (also) wait for at now: those
// who buffer within WaitWindow of the room's last action or of their own join, not waited for
// within WaitAgainAfter, not in the running wait. limit 0 never waits.
func (w *Waits) ToWaitFor(buffering []string, now time.Time, limit time.Duration) []string {
	if limit <= 0 {
		return nil
	}
	var out []string
	for _, id := range buffering {
		recent := within(w.actedAt, now, WaitWindow) || within(w.joinedAt[id], now, WaitWindow)
		if !recent || within(w.waitedAt[id], now, WaitAgainAfter) || slices.Contains(w.For, id) {
			continue
		}
		out = append(out, id)
	}
	return out
}

// Start records that the room now waits for ids (added to a running wait, which keeps its
// start).
func (w *Waits) Start(ids []string, now time.Time) {
	if w.waitedAt == nil {
		w.waitedAt = map[string]time.Time{}
	}
	for _, id := range ids {
		w.waitedAt[id] = now
		if !slices.Contains(w.For, id) {
			w.For = append(w.For, id)
		}
	}
	if len(w.For) > MaxWaitingFor {
		w.For = w.For[:MaxWaitingFor]
	}
	if w.Since.IsZero() {
		w.Since = now
	}
}

// WaitEnd says why a wait ends.
type WaitEnd int

// Why a wait ends.
const (
	WaitGoesOn  WaitEnd = iota // not yet
	WaitReady                  // everyone waited for is ready
	WaitTimeout                // the limit passed
)

// Check says whether the running wait ends at now: when none of its members still buffers
// (buffering reports a member who is still in the room and buffering), or limit after it
// started.
func (w *Waits) Check(buffering func(id string) bool, now time.Time, limit time.Duration) WaitEnd {
	if !w.Running() {
		return WaitGoesOn
	}
	if !slices.ContainsFunc(w.For, buffering) {
		return WaitReady
	}
	if now.Sub(w.Since) >= limit {
		return WaitTimeout
	}
	return WaitGoesOn
}

// Stop forgets the running wait (its members stay marked as waited for).
func (w *Waits) Stop() { w.For, w.Since = nil, time.Time{} }

func within(t, now time.Time, d time.Duration) bool { return !t.IsZero() && now.Sub(t) < d }
