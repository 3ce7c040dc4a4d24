package realtime

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/watchparty/watchparty/realtime/phx"
)

// Track publishes payload (any value that encodes as a JSON object) as this client's
// presence, within the presence budget. Per join, at most PresenceLimit pushes go out per
// PresenceWindow; a call beyond that is coalesced: TrackResult.Deferred with SendAt, and the
// latest payload (from Track or Untrack) goes out when the window allows. A payload equal to
// what the server already has is not sent (Unchanged). After every rejoin the latest payload
// is tracked again automatically, since the server forgets presence on disconnect.
//
// When sent now, Track waits for the server's reply (at most the reply timeout).
func (c *Channel) Track(ctx context.Context, payload any) (TrackResult, error) {
	b, err := json.Marshal(payload)
	if err != nil {
		return TrackResult{}, fmt.Errorf("track: %w: %w", ErrInvalid, err)
	}
	if len(b) == 0 || b[0] != '{' {
		return TrackResult{}, fmt.Errorf("track: %w: payload must encode as a json object", ErrInvalid)
	}
	return c.track(ctx, b)
}

// Untrack removes this client's presence, within the same budget as Track.
func (c *Channel) Untrack(ctx context.Context) (TrackResult, error) {
	return c.track(ctx, nil)
}

func (c *Channel) track(ctx context.Context, payload json.RawMessage) (TrackResult, error) {
	res := make(chan trackReply, 1)
	if err := c.command(ctx, cmdTrack{payload, res}); err != nil {
		return TrackResult{}, err
	}
	var r trackReply
	select {
	case r = <-res:
	case <-ctx.Done():
		return TrackResult{}, ctx.Err()
	case <-c.loopDone:
		return TrackResult{}, c.closedError()
	}
	if r.err != nil || r.wait == nil {
		return r.res, r.err
	}
	return r.res, c.awaitReply(ctx, r.wait)
}

// awaitReply waits for a push's reply, at most the reply timeout.
func (c *Channel) awaitReply(ctx context.Context, wait chan error) error {
	t := time.NewTimer(c.sock.opts.ReplyTimeout)
	defer t.Stop()
	select {
	case err := <-wait:
		return err
	case <-t.C:
		return ErrTimeout
	case <-ctx.Done():
		return ctx.Err()
	}
}

// trackCmd applies the presence budget to a Track/Untrack call.
func (l *chanLoop) trackCmd(payload json.RawMessage) trackReply {
	if !l.want {
		return trackReply{err: ErrChannelClosed}
	}
	pendingBefore := l.trackTimer != nil || (l.state != StateJoined && !bytes.Equal(l.desired, l.sent))
	l.desired = payload
	if l.state != StateJoined {
		if pendingBefore {
			l.countCoalesced()
		}
		return trackReply{res: TrackResult{Deferred: true}}
	}
	if bytes.Equal(payload, l.sent) {
		// Nothing to send; a deferred push would only repeat what the server has.
		stopTimer(&l.trackTimer)
		return trackReply{res: TrackResult{Unchanged: true}}
	}
	now := time.Now()
	if l.trackTimer == nil && l.budget.allow(now) {
		wait := make(chan error, 1)
		if err := l.pushPresence(wait); err != nil {
			// The connection is going down; the rejoin sends the latest payload.
			return trackReply{res: TrackResult{Deferred: true}}
		}
		return trackReply{res: TrackResult{Sent: true}, wait: wait}
	}
	if l.trackTimer != nil {
		l.countCoalesced()
	}
	at := l.budget.next(now)
	if l.trackTimer == nil {
		l.trackTimer = time.NewTimer(time.Until(at))
	}
	return trackReply{res: TrackResult{Deferred: true, SendAt: at}}
}

func (l *chanLoop) countCoalesced() {
	l.c.mu.Lock()
	l.c.stats.PresenceCoalesced++
	l.c.mu.Unlock()
}

// flushTrack sends the latest deferred payload once the budget allows it.
func (l *chanLoop) flushTrack() {
	if l.state != StateJoined || bytes.Equal(l.desired, l.sent) {
		return
	}
	now := time.Now()
	if !l.budget.allow(now) {
		l.trackTimer = time.NewTimer(time.Until(l.budget.next(now)))
		return
	}
	l.pushPresence(nil) // an error means the connection is ending: the rejoin re-tracks
}

// pushPresence sends the desired presence (track, or untrack when nil) and records it in the
// budget; wait, if not nil, receives the server's reply. It fails only when the connection is
// ending.
func (l *chanLoop) pushPresence(wait chan error) error {
	c := l.c
	stopTimer(&l.trackTimer)
	p := phx.PresencePush{Type: "presence", Event: phx.PresenceTrack, Payload: l.desired}
	if l.desired == nil {
		p.Event = phx.PresenceUntrack
	}
	ref := c.sock.nextRef()
	if err := l.send(phx.Message{JoinRef: l.joinRef, Ref: ref, Topic: c.topic, Event: phx.EventPresence, Payload: mustPayload(p)}); err != nil {
		return err
	}
	l.budget.record(time.Now())
	l.sent = l.desired
	c.mu.Lock()
	c.stats.PresenceSent++
	c.mu.Unlock()
	if wait == nil {
		wait = make(chan error, 1) // nobody waits: the reply is only checked
	}
	l.pushes[ref] = pending{wait: wait, presence: true}
	return nil
}

func mustPayload(v any) json.RawMessage {
	p, err := phx.Payload(v)
	if err != nil {
		// Only called with the fixed payload types above, which always encode.
		panic("realtime: " + err.Error())
	}
	return p
}

// budget is a sliding-window limit on presence pushes. It keeps a safety margin of a tenth of
// the window so that send-time jitter (queueing, the network) cannot squeeze one push too
// many into the server's window.
type budget struct {
	limit  int
	window time.Duration
	sends  []time.Time
}

func (b *budget) span() time.Duration { return b.window + b.window/10 }

func (b *budget) prune(now time.Time) {
	i := 0
	for i < len(b.sends) && now.Sub(b.sends[i]) >= b.span() {
		i++
	}
	b.sends = b.sends[i:]
}

func (b *budget) allow(now time.Time) bool {
	b.prune(now)
	return len(b.sends) < b.limit
}

func (b *budget) record(now time.Time) { b.sends = append(b.sends, now) }

// next is when the next push is allowed.
func (b *budget) next(now time.Time) time.Time {
	b.prune(now)
	if len(b.sends) < b.limit {
		return now
	}
	return b.sends[len(b.sends)-b.limit].Add(b.span())
}

func (b *budget) reset() { b.sends = nil }
