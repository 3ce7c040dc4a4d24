package player

import (
	"slices"
	"sync"
	"time"
)

// EventKind says what happened in mpv.
type EventKind int

// The kinds of Event, in no particular order.
const (
	// EventPaused: playback paused. Origin says who paused it.
	EventPaused EventKind = iota + 1
	// EventResumed: playback resumed. Origin says who resumed it.
	EventResumed
	// EventSeeked: a seek finished (mpv's playback-restart), Position is where
	// playback restarted. Origin says who seeked.
	EventSeeked
	// EventBufferingStart: playback stalled waiting for the network cache.
	EventBufferingStart
	// EventBufferingEnd: the cache refilled and playback continues.
	EventBufferingEnd
	// EventSpeedChanged: the playback speed changed to Speed. Origin says who
	// changed it.
	EventSpeedChanged
	// EventEndOfFile: playback reached the end (Reason "eof"; with keep-open
	// the file stays loaded and paused), or the file failed to load or play
	// (Reason "error", Err says why).
	EventEndOfFile
	// EventFileLoaded: a file is loaded and playback is ready at Position,
	// Duration is its length (0 when unknown, e.g. a live stream).
	EventFileLoaded
	// EventClosed: the connection to mpv ended (mpv exited or was killed).
	// Err says why. It is the last event; the channel is closed after it.
	EventClosed
)

var eventKindNames = map[EventKind]string{
	EventPaused:         "paused",
	EventResumed:        "resumed",
	EventSeeked:         "seeked",
	EventBufferingStart: "buffering-start",
	EventBufferingEnd:   "buffering-end",
	EventSpeedChanged:   "speed-changed",
	EventEndOfFile:      "end-of-file",
	EventFileLoaded:     "file-loaded",
	EventClosed:         "closed",
}

// String returns a short lower-case name such as "seeked".
func (k EventKind) String() string {
	if s, ok := eventKindNames[k]; ok {
		return s
	}
	return "unknown"
}

// coalesceKey groups the kinds that describe one piece of state: when the
// consumer lags, only the latest event of a group is kept. Other kinds are
// never dropped (up to maxQueued).
func (k EventKind) coalesceKey() int {
	switch k {
	case EventPaused, EventResumed:
		return 1
	case EventSpeedChanged:
		return 2
	case EventBufferingStart, EventBufferingEnd:
		return 3
	}
	return 0
}

// Origin says who caused a change.
type Origin int

const (
	// ByUser: not a command sent through this Player. Usually the user in
	// mpv's window (keys, mouse, OSC), or another program on mpv's socket.
	ByUser Origin = iota + 1
	// ByUs: a command sent through this Player (Play, Pause, Seek, SetSpeed,
	// Load).
	ByUs
	// ByPlayer: mpv itself, e.g. pausing at the end of the file because of
	// keep-open, or applying per-file options while a file loads.
	ByPlayer
)

// String returns "user", "us" or "player".
func (o Origin) String() string {
	switch o {
	case ByUser:
		return "user"
	case ByUs:
		return "us"
	case ByPlayer:
		return "player"
	}
	return ""
}

// Event is something that happened in mpv. Fields that do not apply to a
// kind are zero.
type Event struct {
	Kind EventKind
	// Origin says who caused a Paused, Resumed, Seeked or SpeedChanged event.
	Origin Origin
	// Position is the media position in seconds when the event happened.
	Position float64
	// Speed is the playback speed after the event.
	Speed float64
	// Duration is the file's length in seconds (FileLoaded; 0 if unknown).
	Duration float64
	// Reason is "eof" or "error" for EndOfFile.
	Reason string
	// Err says why for Closed, and for EndOfFile with Reason "error".
	Err error
	// Time is when the event was read from mpv's socket.
	Time time.Time
	// UserActs is how many events with Origin ByUser the player had emitted
	// up to and including this one (compare State.UserActs).
	UserActs uint64
}

// maxQueued bounds the events held for a consumer that does not read.
// Coalescing keeps state events to one per group, so only seeks, loads and
// ends pile up; beyond this the oldest are dropped.
const maxQueued = 1024

// eventQueue hands events to one consumer without ever blocking the
// producer (mpv's socket reader). Events keep their order; when the consumer
// lags, an event replaces an undelivered one of the same coalesce group
// (the replacement goes to the back, where it belongs in time).
type eventQueue struct {
	out  chan Event
	wake chan struct{} // buffered 1
	stop chan struct{} // closed by shutdown
	done chan struct{} // closed when run returns

	mu       sync.Mutex
	items    []Event
	final    bool // the Closed event is queued: accept nothing more
	dropped  int
	stopOnce sync.Once
}

func newEventQueue() *eventQueue {
	q := &eventQueue{
		out:  make(chan Event),
		wake: make(chan struct{}, 1),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	go q.run()
	return q
}

// push queues ev. It never blocks.
func (q *eventQueue) push(ev Event) {
	q.mu.Lock()
	if q.final {
		q.mu.Unlock()
		return
	}
	if key := ev.Kind.coalesceKey(); key != 0 {
		// At most one undelivered event per group is ever queued.
		if i := slices.IndexFunc(q.items, func(e Event) bool { return e.Kind.coalesceKey() == key }); i >= 0 {
			q.items = slices.Delete(q.items, i, i+1)
		}
	}
	if len(q.items) >= maxQueued {
		q.items = slices.Delete(q.items, 0, 1)
		q.dropped++
	}
	q.items = append(q.items, ev)
	q.final = ev.Kind == EventClosed
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *eventQueue) run() {
	defer close(q.done)
	defer close(q.out)
	for {
		q.mu.Lock()
		if len(q.items) == 0 {
			q.mu.Unlock()
			select {
			case <-q.wake:
				continue
			case <-q.stop:
				return
			}
		}
		ev := q.items[0]
		q.items = slices.Delete(q.items, 0, 1)
		q.mu.Unlock()
		select {
		case q.out <- ev:
			if ev.Kind == EventClosed {
				return
			}
		case <-q.stop:
			return
		}
	}
}

// shutdown stops delivery (undelivered events are dropped), closes out and
// waits for the delivery goroutine.
func (q *eventQueue) shutdown() {
	q.stopOnce.Do(func() { close(q.stop) })
	<-q.done
}
