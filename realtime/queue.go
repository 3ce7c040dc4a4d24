package realtime

import "sync"

// queue is an unbounded FIFO handing work from goroutines that must never block (the socket
// reader) to one consumer goroutine. It records its peak length so a consumer that falls
// behind is visible (Channel.Stats) instead of silently stalling the connection.
type queue[T any] struct {
	mu    sync.Mutex
	items []T
	peak  int
	// wake holds one token while items are waiting.
	wake chan struct{}
}

func newQueue[T any]() *queue[T] {
	return &queue[T]{wake: make(chan struct{}, 1)}
}

// push appends v and returns the queue length after it.
func (q *queue[T]) push(v T) int {
	q.mu.Lock()
	q.items = append(q.items, v)
	n := len(q.items)
	if n > q.peak {
		q.peak = n
	}
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return n
}

// take removes and returns everything queued.
func (q *queue[T]) take() []T {
	q.mu.Lock()
	items := q.items
	q.items = nil
	q.mu.Unlock()
	return items
}

// stats returns the current and the peak length.
func (q *queue[T]) stats() (n, peak int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items), q.peak
}
