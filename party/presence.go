package party

import "time"

// Presence budget: at most PresenceTracks presence tracks in any
// PresenceWindow. Supabase Realtime closes a channel after the 6th
// track/untrack in 30 s (5 allowed); 4 leaves one spare for the untrack on
// leave.
const (
	PresenceTracks = 4
	PresenceWindow = 30 * time.Second
)

// PresenceBudget coalesces presence tracks to fit the budget: a change is
// sent at once while the sliding window has room; otherwise the latest
// payload waits (replacing any older waiting one) until a slot frees up.
// A payload equal to the last one sent is never sent again. Payloads are
// compared as strings: pass the encoded JSON.
//
// Use: call Offer on every change; when it returns sendNow, track the
// payload. When it returns a time instead, arm a timer for it and call Due
// when it fires. The zero value is ready to use. Not safe for concurrent use.
type PresenceBudget struct {
	sent    []time.Time // send times within the window, oldest first
	last    string      // last payload sent
	hasLast bool
	pending string
	waiting bool
}

// prune forgets sends that have left the window at now: a send at s counts
// while now − s < PresenceWindow.
func (b *PresenceBudget) prune(now time.Time) {
	i := 0
	for i < len(b.sent) && now.Sub(b.sent[i]) >= PresenceWindow {
		i++
	}
	b.sent = b.sent[i:]
}

// nextSlot is when the next send fits, given a full window.
func (b *PresenceBudget) nextSlot() time.Time {
	return b.sent[len(b.sent)-PresenceTracks].Add(PresenceWindow)
}

// Offer proposes payload at now. sendNow means track it now (the send is
// counted). Otherwise, if when is non-zero, the payload waits and should be
// sent at when through Due; a zero when means there is nothing to send (the
// payload equals the last one sent, and any waiting payload is dropped as
// superseded).
func (b *PresenceBudget) Offer(now time.Time, payload string) (sendNow bool, when time.Time) {
	if b.hasLast && payload == b.last {
		b.pending, b.waiting = "", false
		return false, time.Time{}
	}
	b.prune(now)
	if len(b.sent) < PresenceTracks {
		b.record(now, payload)
		return true, now
	}
	b.pending, b.waiting = payload, true
	return false, b.nextSlot()
}

// Due returns the waiting payload if it may be sent at now, counting the
// send; ok is false when nothing waits or the window is still full (then
// call again at Pending's time).
func (b *PresenceBudget) Due(now time.Time) (payload string, ok bool) {
	if !b.waiting {
		return "", false
	}
	b.prune(now)
	if len(b.sent) >= PresenceTracks {
		return "", false
	}
	payload = b.pending
	b.record(now, payload)
	return payload, true
}

// Pending reports the waiting payload and when it may be sent.
func (b *PresenceBudget) Pending(now time.Time) (payload string, when time.Time, ok bool) {
	if !b.waiting {
		return "", time.Time{}, false
	}
	b.prune(now)
	if len(b.sent) < PresenceTracks {
		return b.pending, now, true
	}
	return b.pending, b.nextSlot(), true
}

// Rejoined forgets the last payload sent, because a rejoined channel has no
// presence: the next Offer is sent even if equal. The send history stays,
// since the server may still count it.
func (b *PresenceBudget) Rejoined() { b.hasLast = false }

func (b *PresenceBudget) record(now time.Time, payload string) {
	b.sent = append(b.sent, now)
	b.last, b.hasLast = payload, true
	b.pending, b.waiting = "", false
}
