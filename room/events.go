package room

import "sync"

// eventQueue delivers events in order without ever blocking the session loop: events wait in
// a slice until the consumer takes them, and consecutive StateChanged events are coalesced to
// the latest (a slow screen skips frames, never comments or notices).
type eventQueue struct {
	out    chan Event
	mu     sync.Mutex
	queue  []Event
	wake   chan struct{}
	closed bool
	done   chan struct{}
}

func newEventQueue() *eventQueue {
	q := &eventQueue{out: make(chan Event), wake: make(chan struct{}, 1), done: make(chan struct{})}
	go q.run()
	return q
}

func (q *eventQueue) push(ev Event) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return
	}
	if _, ok := ev.(StateChanged); ok && len(q.queue) > 0 {
		if _, last := q.queue[len(q.queue)-1].(StateChanged); last {
			q.queue[len(q.queue)-1] = ev
			q.mu.Unlock()
			return
		}
	}
	q.queue = append(q.queue, ev)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// close queues the last event; out is closed once the consumer has taken everything.
func (q *eventQueue) close(last Event) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return
	}
	q.queue = append(q.queue, last)
	q.closed = true
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *eventQueue) run() {
	defer close(q.out)
	for {
		q.mu.Lock()
		if len(q.queue) == 0 {
			closed := q.closed
			q.mu.Unlock()
			if closed {
				return
			}
			<-q.wake
			continue
		}
		ev := q.queue[0]
		q.queue = q.queue[1:]
		q.mu.Unlock()
		select {
		case q.out <- ev:
		case <-q.done:
			return
		}
	}
}

// discard ends a queue nobody will read (a join that failed): what is queued is dropped.
func (q *eventQueue) discard() {
	q.mu.Lock()
	if !q.closed {
		q.queue, q.closed = nil, true
		close(q.done)
	}
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}
