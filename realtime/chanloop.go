package realtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/watchparty/watchparty/realtime/phx"
)

// chanLoop is the state owned by a channel's state goroutine.
type chanLoop struct {
	c        *Channel
	conn     *connection // the open connection, nil while down
	want     bool        // Subscribe called and not Unsubscribe
	state    ChannelState
	joinRef  string
	attempts int // failed joins since the last success
	lastErr  error
	lastSys  string // message of the last system error, the reason of a following phx_close
	// joinToken is the token the current join carried.
	joinToken string

	joinTimer, rejoinTimer, leaveTimer, trackTimer *time.Timer

	subWaiters   []chan error
	leaveWaiters []chan error
	leaveRef     string
	pushes       map[string]pending // replies awaited, by ref

	presence *phx.ClientPresence

	// presence budget
	budget  budget
	desired json.RawMessage // latest payload asked for; nil = untracked
	sent    json.RawMessage // what the server has from this join; nil = nothing
}

// pending is a push waiting for its reply.
type pending struct {
	wait chan error // buffered: receives the reply's error (nil for ok)
	// presence marks a track/untrack: a refusal means the server does not have l.sent.
	presence bool
}

func timerC(t *time.Timer) <-chan time.Time {
	if t == nil {
		return nil
	}
	return t.C
}

func stopTimer(t **time.Timer) {
	if *t != nil {
		(*t).Stop()
		*t = nil
	}
}

// loop is the channel's state goroutine: it owns the join state machine and the presence
// state, and turns frames into listener calls.
func (c *Channel) loop() {
	l := &chanLoop{c: c, pushes: map[string]pending{}, presence: phx.NewClientPresence(),
		budget: budget{limit: c.opts.PresenceLimit, window: c.opts.PresenceWindow}}
	defer func() {
		stopTimer(&l.joinTimer)
		stopTimer(&l.rejoinTimer)
		stopTimer(&l.leaveTimer)
		stopTimer(&l.trackTimer)
	}()
	for {
		select {
		case <-c.sock.ctx.Done():
			l.finish(CloseEvent{Err: ErrClosed}, ErrClosed, false)
			return
		case <-c.inbox.wake:
			for _, ev := range c.inbox.take() {
				if l.handle(ev) {
					return
				}
			}
		case <-timerC(l.joinTimer):
			l.joinTimer = nil
			l.onJoinTimeout()
		case <-timerC(l.rejoinTimer):
			l.rejoinTimer = nil
			if l.want && l.state == StateErrored && l.conn != nil {
				l.join()
			}
		case <-timerC(l.leaveTimer):
			l.leaveTimer = nil
			if l.finish(CloseEvent{}, nil, true) {
				return
			}
		case <-timerC(l.trackTimer):
			l.trackTimer = nil
			l.flushTrack()
		}
	}
}

func (l *chanLoop) setState(st ChannelState) {
	l.state = st
	l.c.setState(st)
}

func (l *chanLoop) send(m phx.Message) error {
	if l.conn == nil {
		return ErrDisconnected
	}
	return l.conn.send(l.c.sock.ser, m)
}

// handle processes one inbox item; it returns true when the channel has ended.
func (l *chanLoop) handle(ev any) bool {
	switch ev := ev.(type) {
	case cmdSubscribe:
		if l.state == StateJoined {
			ev.res <- nil
			return false
		}
		l.subWaiters = append(l.subWaiters, ev.res)
		if !l.want {
			l.want = true
			l.setState(StateJoining)
			if l.conn != nil {
				l.join()
			}
		}
	case cmdUnsubscribe:
		return l.unsubscribe(ev.res)
	case cmdTrack:
		ev.res <- l.trackCmd(ev.payload)
	case cmdSend:
		ev.res <- l.sendBroadcast(ev.payload)
	case cmdLastError:
		ev.res <- l.lastErr
	case evToken:
		if l.state == StateJoined && l.c.sock.accessToken() != l.joinToken {
			l.pushToken()
		}
	case evConnUp:
		if ev.c == l.conn {
			return false
		}
		l.conn = ev.c
		if l.want && (l.state == StateErrored || l.state == StateJoining) {
			stopTimer(&l.rejoinTimer)
			l.attempts = 0
			l.join()
		}
	case evConnDown:
		if ev.c != l.conn {
			return false
		}
		l.conn = nil
		l.failPushes(ErrDisconnected)
		stopTimer(&l.joinTimer)
		switch l.state {
		case StateLeaving:
			// The socket is down: the leave counts as done, as in supabase-js.
			return l.finish(CloseEvent{}, nil, true)
		case StateJoined, StateJoining:
			l.lastErr = ev.err
			l.setState(StateErrored)
			l.c.emitStatus(ChannelError, ev.err)
		}
	case evMessage:
		if ev.c != l.conn {
			return false // from a connection that has ended
		}
		return l.onMessage(ev.m)
	}
	return false
}

// pushToken sends the socket's current token as access_token (no reply comes).
func (l *chanLoop) pushToken() {
	tok := l.c.sock.accessToken()
	l.joinToken = tok
	l.send(phx.Message{JoinRef: l.joinRef, Ref: l.c.sock.nextRef(), Topic: l.c.topic, Event: phx.EventAccessToken,
		Payload: mustPayload(phx.AccessTokenPayload{AccessToken: tok})})
}

// join sends phx_join with a new join_ref.
func (l *chanLoop) join() {
	c := l.c
	stopTimer(&l.joinTimer)
	ref := c.sock.nextRef()
	l.joinRef = ref
	c.mu.Lock()
	bindings := make([]phx.ChangeBinding, len(c.changes))
	for i, cl := range c.changes {
		bindings[i] = cl.filter
	}
	presenceOn := c.opts.PresenceEnabled || len(c.presenceLs) > 0
	c.mu.Unlock()
	payload := phx.JoinPayload{
		Config: phx.JoinConfig{
			Broadcast:       phx.BroadcastConfig{Ack: c.opts.BroadcastAck, Self: c.opts.BroadcastSelf},
			Presence:        phx.PresenceConfig{Key: c.opts.PresenceKey, Enabled: presenceOn},
			PostgresChanges: bindings,
			Private:         c.opts.Private,
		},
		AccessToken: c.sock.accessToken(),
		Version:     clientVersion,
	}
	l.joinToken = payload.AccessToken
	l.setState(StateJoining)
	// A new join is a new channel on the server: it has none of our presence and a fresh
	// presence budget.
	l.sent = nil
	l.budget.reset()
	if err := l.send(phx.Message{JoinRef: ref, Ref: ref, Topic: c.topic, Event: phx.EventJoin, Payload: mustPayload(payload)}); err != nil {
		l.lastErr = err
		return // the connection is ending; evConnDown follows
	}
	l.joinTimer = time.NewTimer(c.sock.opts.ReplyTimeout)
}

func (l *chanLoop) scheduleRejoin() {
	stopTimer(&l.rejoinTimer)
	d := l.c.sock.backoff(l.c.sock.opts.RejoinDelays, l.attempts)
	l.attempts++
	l.rejoinTimer = time.NewTimer(d)
}

func (l *chanLoop) onJoinTimeout() {
	if l.state != StateJoining {
		return
	}
	// Best effort, as supabase-js: tell the server to drop a join it may still process.
	l.send(phx.Message{JoinRef: l.joinRef, Ref: l.c.sock.nextRef(), Topic: l.c.topic, Event: phx.EventLeave})
	l.lastErr = ErrTimeout
	l.setState(StateErrored)
	l.c.emitStatus(TimedOut, ErrTimeout)
	l.scheduleRejoin()
}

func (l *chanLoop) onJoinReply(reply phx.ReplyPayload) bool {
	stopTimer(&l.joinTimer)
	if l.state != StateJoining {
		return false
	}
	c := l.c
	if reply.Status != phx.StatusOK {
		var resp struct {
			Reason string `json:"reason"`
		}
		json.Unmarshal(reply.Response, &resp)
		if resp.Reason == "" {
			resp.Reason = strings.TrimSpace(string(reply.Response))
		}
		err := &JoinError{Reason: resp.Reason}
		c.sock.log.Warn("realtime: join refused", "topic", c.topic, "reason", resp.Reason)
		l.lastErr = err
		l.setState(StateErrored)
		c.emitStatus(ChannelError, err)
		l.scheduleRejoin()
		return false
	}
	var resp struct {
		PostgresChanges *[]phx.ChangeBinding `json:"postgres_changes"`
	}
	json.Unmarshal(reply.Response, &resp)
	c.mu.Lock()
	ok := true
	if len(c.changes) > 0 {
		if resp.PostgresChanges == nil || len(*resp.PostgresChanges) < len(c.changes) {
			ok = false
		} else {
			for i, cl := range c.changes {
				if !phx.SameBinding(cl.filter, (*resp.PostgresChanges)[i]) {
					ok = false
					break
				}
			}
		}
		if ok {
			for i := range c.changes {
				c.changes[i].id = (*resp.PostgresChanges)[i].ID
			}
		}
	}
	if ok {
		c.stats.Joins++
	}
	c.mu.Unlock()
	if !ok {
		l.send(phx.Message{JoinRef: l.joinRef, Ref: c.sock.nextRef(), Topic: c.topic, Event: phx.EventLeave})
		c.emitStatus(ChannelError, ErrBindingsMismatch)
		return l.finish(CloseEvent{Err: ErrBindingsMismatch}, ErrBindingsMismatch, false)
	}
	l.attempts = 0
	l.lastErr = nil
	l.setState(StateJoined)
	// The token changed while the join was on its way (a sign-in racing the subscribe).
	if l.c.sock.accessToken() != l.joinToken {
		l.pushToken()
	}
	c.emitStatus(Subscribed, nil)
	for _, w := range l.subWaiters {
		w <- nil
	}
	l.subWaiters = nil
	// Re-track after every rejoin: the server dropped our presence with the old channel.
	if l.desired != nil {
		l.pushPresence(nil) // an error means the connection is ending: the next rejoin retries
	}
	return false
}

func (l *chanLoop) onMessage(m phx.Message) bool {
	c := l.c
	if m.Event == phx.EventReply {
		var reply phx.ReplyPayload
		if err := json.Unmarshal(m.Payload, &reply); err != nil {
			return false
		}
		switch {
		case m.Ref != "" && m.Ref == l.joinRef:
			return l.onJoinReply(reply)
		case m.Ref != "" && m.Ref == l.leaveRef:
			return l.finish(CloseEvent{}, nil, true)
		}
		if p, ok := l.pushes[m.Ref]; ok {
			delete(l.pushes, m.Ref)
			err := replyError(reply)
			if err != nil && p.presence {
				c.sock.log.Warn("realtime: presence refused", "topic", c.topic, "err", err)
				l.sent = nil
			}
			p.wait <- err
		}
		return false
	}
	// Drop messages of an earlier join ("dropping outdated message" in supabase-js).
	if m.JoinRef != "" && m.JoinRef != l.joinRef {
		return false
	}
	switch m.Event {
	case phx.EventClose:
		if m.Ref != "" && m.Ref != l.joinRef {
			return false
		}
		if l.state == StateLeaving {
			return l.finish(CloseEvent{}, nil, true)
		}
		err := &ServerCloseError{Message: l.lastSys}
		c.sock.log.Warn("realtime: channel closed by the server", "topic", c.topic, "reason", l.lastSys)
		return l.finish(CloseEvent{ByServer: true, Err: err}, err, false)
	case phx.EventError:
		if m.Ref != "" && m.Ref != l.joinRef {
			return false
		}
		if l.state == StateJoined || l.state == StateJoining {
			stopTimer(&l.joinTimer)
			l.lastErr = errors.New("channel crashed on the server (phx_error)")
			l.setState(StateErrored)
			c.emitStatus(ChannelError, l.lastErr)
			l.scheduleRejoin()
		}
	case phx.EventSystem:
		var p phx.SystemPayload
		if json.Unmarshal(m.Payload, &p) != nil {
			return false
		}
		if p.Status == phx.StatusError {
			l.lastSys = p.Message
			c.sock.log.Warn("realtime: system error", "topic", c.topic, "extension", p.Extension, "message", p.Message)
		}
		ev := SystemEvent{Extension: p.Extension, Status: p.Status, Message: p.Message}
		c.mu.Lock()
		ls := slices.Clone(c.systems)
		c.mu.Unlock()
		c.emit(func() {
			for _, fn := range ls {
				fn(ev)
			}
		})
	case phx.EventPresenceState:
		var st phx.State
		if json.Unmarshal(m.Payload, &st) != nil {
			return false
		}
		l.presenceEvents(l.presence.OnState(l.joinRef, st))
	case phx.EventPresenceDiff:
		var d phx.Diff
		if json.Unmarshal(m.Payload, &d) != nil {
			return false
		}
		l.presenceEvents(l.presence.OnDiff(l.joinRef, d))
	case phx.EventPostgresChanges:
		l.onChanges(m.Payload)
	case phx.EventBroadcast:
		var p phx.BroadcastPayload
		if json.Unmarshal(m.Payload, &p) != nil {
			return false
		}
		b := Broadcast{Event: p.Event, Payload: p.Payload, Binary: m.BinaryPayload}
		c.mu.Lock()
		var ls []func(Broadcast)
		for _, bl := range c.broadcasts {
			if bl.event == "*" || bl.event == p.Event {
				ls = append(ls, bl.fn)
			}
		}
		c.mu.Unlock()
		if len(ls) > 0 {
			c.emit(func() {
				for _, fn := range ls {
					fn(b)
				}
			})
		}
	}
	return false
}

func (l *chanLoop) presenceEvents(events []PresenceEvent) {
	if len(events) == 0 {
		return
	}
	c := l.c
	view := l.presence.List()
	c.mu.Lock()
	c.presence = view
	ls := slices.Clone(c.presenceLs)
	c.mu.Unlock()
	if len(ls) == 0 {
		return
	}
	c.emit(func() {
		for _, ev := range events {
			for _, fn := range ls {
				fn(ev)
			}
		}
	})
}

// changesWire is a postgres_changes payload with the rows kept raw.
type changesWire struct {
	IDs  []int64 `json:"ids"`
	Data struct {
		Schema          string          `json:"schema"`
		Table           string          `json:"table"`
		CommitTimestamp string          `json:"commit_timestamp"`
		Type            string          `json:"type"`
		Errors          []string        `json:"errors"`
		Columns         []phx.Column    `json:"columns"`
		Record          json.RawMessage `json:"record"`
		OldRecord       json.RawMessage `json:"old_record"`
	} `json:"data"`
}

func (l *chanLoop) onChanges(payload json.RawMessage) {
	var w changesWire
	if err := json.Unmarshal(payload, &w); err != nil {
		l.c.sock.log.Warn("realtime: bad postgres_changes payload", "err", err)
		return
	}
	ch := Change{Schema: w.Data.Schema, Table: w.Data.Table, Type: w.Data.Type, CommitTimestamp: w.Data.CommitTimestamp,
		Columns: w.Data.Columns, Errors: w.Data.Errors}
	if t := strings.ToUpper(w.Data.Type); t == phx.ChangeInsert || t == phx.ChangeUpdate {
		ch.New = nonNull(w.Data.Record)
	}
	if t := strings.ToUpper(w.Data.Type); t == phx.ChangeUpdate || t == phx.ChangeDelete {
		ch.Old = nonNull(w.Data.OldRecord)
	}
	c := l.c
	c.mu.Lock()
	var ls []func(Change)
	for _, cl := range c.changes {
		if cl.id == 0 || !cl.filter.MatchEvent(w.Data.Type) {
			continue
		}
		for _, id := range w.IDs {
			if id == cl.id {
				ls = append(ls, cl.fn)
				break
			}
		}
	}
	c.mu.Unlock()
	if len(ls) > 0 {
		c.emit(func() {
			for _, fn := range ls {
				fn(ch)
			}
		})
	}
}

func nonNull(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	return raw
}

func (l *chanLoop) unsubscribe(res chan error) bool {
	l.want = false
	l.leaveWaiters = append(l.leaveWaiters, res)
	if l.state == StateLeaving {
		return false
	}
	if l.conn == nil || (l.state != StateJoined && l.state != StateJoining) {
		return l.finish(CloseEvent{}, nil, true)
	}
	l.setState(StateLeaving)
	stopTimer(&l.joinTimer)
	stopTimer(&l.rejoinTimer)
	stopTimer(&l.trackTimer)
	l.leaveRef = l.c.sock.nextRef()
	if l.send(phx.Message{JoinRef: l.joinRef, Ref: l.leaveRef, Topic: l.c.topic, Event: phx.EventLeave}) != nil {
		return l.finish(CloseEvent{}, nil, true)
	}
	l.leaveTimer = time.NewTimer(l.c.sock.opts.ReplyTimeout)
	return false
}

// finish closes the channel for good: it answers every waiter, tells the listeners (a
// Closed status and the close event) and removes the channel from the socket. It returns
// true (the loop ends).
func (l *chanLoop) finish(ev CloseEvent, waitErr error, emit bool) bool {
	c := l.c
	if ev.Err != nil && !errors.Is(ev.Err, ErrClosed) {
		emit = true
	}
	l.setState(StateClosed)
	l.failPushes(ErrChannelClosed)
	subErr := waitErr
	if subErr == nil {
		subErr = ErrChannelClosed
	}
	for _, w := range l.subWaiters {
		w <- subErr
	}
	l.subWaiters = nil
	for _, w := range l.leaveWaiters {
		w <- nil
	}
	l.leaveWaiters = nil
	c.mu.Lock()
	c.dead = true
	ls := slices.Clone(c.closes)
	c.mu.Unlock()
	if emit {
		c.emitStatus(Closed, ev.Err)
		c.emit(func() {
			for _, fn := range ls {
				fn(ev)
			}
		})
	}
	c.sock.removeChannel(c)
	close(c.loopDone)
	return true
}

func (l *chanLoop) failPushes(err error) {
	for ref, p := range l.pushes {
		p.wait <- err
		delete(l.pushes, ref)
	}
}

func replyError(r phx.ReplyPayload) error {
	if r.Status == phx.StatusOK {
		return nil
	}
	var resp struct {
		Reason string `json:"reason"`
	}
	json.Unmarshal(r.Response, &resp)
	if resp.Reason == "" {
		resp.Reason = strings.TrimSpace(string(r.Response))
	}
	return fmt.Errorf("%w: server refused: %s", ErrInvalid, resp.Reason)
}

func (l *chanLoop) sendBroadcast(payload json.RawMessage) trackReply {
	if l.state != StateJoined {
		if !l.want {
			return trackReply{err: ErrChannelClosed}
		}
		return trackReply{err: ErrNotJoined}
	}
	ref := l.c.sock.nextRef()
	if err := l.send(phx.Message{JoinRef: l.joinRef, Ref: ref, Topic: l.c.topic, Event: phx.EventBroadcast, Payload: payload}); err != nil {
		return trackReply{err: err}
	}
	if !l.c.opts.BroadcastAck {
		return trackReply{}
	}
	wait := make(chan error, 1)
	l.pushes[ref] = pending{wait: wait}
	return trackReply{wait: wait}
}
