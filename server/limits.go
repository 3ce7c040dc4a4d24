package server

import (
	"sync"
	"time"
)

// rateLimits is a set of sliding-window counters keyed by string (user+room+action, ip…).
// Safe for concurrent use.
type rateLimits struct {
	now func() time.Time
	mu  sync.Mutex
	hit map[string][]time.Time
	ops int
	// onReject, when set, is told the key of every refused event (the metrics).
	onReject func(key string)
}

func newRateLimits(now func() time.Time) *rateLimits {
	return &rateLimits{now: now, hit: map[string][]time.Time{}}
}

// allow records an event for key and reports whether it is within max per window.
func (l *rateLimits) allow(key string, max int, window time.Duration) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.ops++
	if l.ops%4096 == 0 {
		l.sweep(now, time.Minute) // every window in use is at most a minute
	}
	times := l.hit[key]
	kept := times[:0]
	for _, t := range times {
		if now.Sub(t) < window {
			kept = append(kept, t)
		}
	}
	if len(kept) >= max {
		l.hit[key] = kept
		if l.onReject != nil {
			l.onReject(key)
		}
		return false
	}
	l.hit[key] = append(kept, now)
	return true
}

// sweep drops keys with no recent events so the map doesn't grow without bound.
func (l *rateLimits) sweep(now time.Time, window time.Duration) {
	for k, times := range l.hit {
		if len(times) == 0 || now.Sub(times[len(times)-1]) > window {
			delete(l.hit, k)
		}
	}
}
