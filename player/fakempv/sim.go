package fakempv

import (
	"encoding/json"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"
)

// Sim is a fake mpv with a file loaded: it answers the observers, property reads and writes,
// seeks and quit as mpv 0.35 does, with a position that advances in real time while playing.
// It has no video; "loadfile" is refused. Hang makes it stop answering, as an mpv stuck on a
// network read does. Safe for concurrent use.
type Sim struct {
	*Server

	mu       sync.Mutex
	pos      float64 // at base
	base     time.Time
	paused   bool
	speed    float64
	duration float64
	hung     bool
	quit     bool
	seeks    []float64
	observed map[string]int64 // property name → observer id
}

// NewSim serves a simulated mpv that has a duration-long file loaded, at pos, paused or not.
func NewSim(t testing.TB, duration, pos float64, paused bool) *Sim {
	s := &Sim{pos: pos, base: time.Now(), paused: paused, speed: 1, duration: duration, observed: map[string]int64{}}
	s.Server = New(t, s.handle)
	return s
}

// Hang makes the fake stop answering requests (or answer again).
func (s *Sim) Hang(v bool) {
	s.mu.Lock()
	s.hung = v
	s.mu.Unlock()
}

// Quit reports whether a client asked it to quit.
func (s *Sim) Quit() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.quit
}

// Seeks are the seek targets asked so far.
func (s *Sim) Seeks() []float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]float64(nil), s.seeks...)
}

// Position is where playback is now, s.
func (s *Sim) Position() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.posAt(time.Now())
}

// Paused reports the pause property.
func (s *Sim) Paused() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.paused
}

// UserPause pauses or resumes as a key press in mpv's window would (an event the client did
// not ask for).
func (s *Sim) UserPause(v bool) {
	s.mu.Lock()
	s.rebase(time.Now())
	s.paused = v
	s.mu.Unlock()
	s.broadcast(s.prop("time-pos"), s.prop("pause"))
}

// UserSeek seeks as a key press in mpv's window would.
func (s *Sim) UserSeek(pos float64) {
	s.mu.Lock()
	s.pos, s.base = pos, time.Now()
	s.mu.Unlock()
	s.broadcast(`{"event":"seek"}`, s.prop("time-pos"), `{"event":"playback-restart"}`)
}

// Stall moves the position by delta without a seek, as playback that stalls (or skips) does:
// mpv reports only the new time-pos.
func (s *Sim) Stall(delta float64) {
	s.mu.Lock()
	s.rebase(time.Now())
	s.pos = math.Max(0, math.Min(s.duration, s.pos+delta))
	s.mu.Unlock()
	s.broadcast(s.prop("time-pos"))
}

func (s *Sim) posAt(now time.Time) float64 {
	p := s.pos
	if !s.paused {
		p += now.Sub(s.base).Seconds() * s.speed
	}
	return math.Max(0, math.Min(s.duration, p))
}

func (s *Sim) rebase(now time.Time) { s.pos, s.base = s.posAt(now), now }

// value is a property's JSON value ("" when mpv has none).
func (s *Sim) value(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var v any
	switch name {
	case "time-pos":
		v = s.posAt(time.Now())
	case "pause":
		v = s.paused
	case "speed":
		v = s.speed
	case "duration":
		v = s.duration
	case "paused-for-cache", "eof-reached":
		v = false
	case "seekable":
		v = true
	case "mpv-version":
		v = "mpv 0.35.1"
	default:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// prop is a property-change event for name with its current value.
func (s *Sim) prop(name string) string {
	s.mu.Lock()
	id := s.observed[name]
	s.mu.Unlock()
	if v := s.value(name); v != "" {
		return fmt.Sprintf(`{"event":"property-change","id":%d,"name":%q,"data":%s}`, id, name, v)
	}
	return fmt.Sprintf(`{"event":"property-change","id":%d,"name":%q}`, id, name)
}

func (s *Sim) broadcast(lines ...string) {
	for i := 0; ; i++ {
		fc := s.Conn(i)
		if fc == nil {
			return
		}
		for _, l := range lines {
			fc.Send(l)
		}
	}
}

func (s *Sim) handle(fc *Conn, r Request) {
	s.mu.Lock()
	hung := s.hung
	s.mu.Unlock()
	if hung {
		return
	}
	switch r.Name() {
	case "observe_property":
		var id int64
		fmt.Sscan(r.Arg(0), &id)
		s.mu.Lock()
		s.observed[r.Arg(1)] = id
		s.mu.Unlock()
		fc.OK(r.ID, nil)
		fc.Send(s.prop(r.Arg(1)))
	case "get_property":
		if v := s.value(r.Arg(0)); v != "" {
			fc.Send(fmt.Sprintf(`{"data":%s,"request_id":%d,"error":"success"}`, v, r.ID))
			return
		}
		fc.Fail(r.ID, "property unavailable")
	case "set_property":
		s.set(fc, r)
	case "seek":
		var target float64
		fmt.Sscan(r.Arg(0), &target)
		s.mu.Lock()
		s.seeks = append(s.seeks, target)
		s.pos, s.base = math.Max(0, math.Min(s.duration, target)), time.Now()
		s.mu.Unlock()
		fc.Send(fmt.Sprintf(`{"data":null,"request_id":%d,"error":"success"}`, r.ID))
		s.broadcast(`{"event":"seek"}`, s.prop("time-pos"), `{"event":"playback-restart"}`)
	case "quit":
		s.mu.Lock()
		s.quit = true
		s.mu.Unlock()
		fc.OK(r.ID, nil)
		s.DropAll()
	case "loadfile":
		fc.Fail(r.ID, "unsupported command")
	default:
		fc.OK(r.ID, nil)
	}
}

func (s *Sim) set(fc *Conn, r Request) {
	name := r.Arg(0)
	s.mu.Lock()
	s.rebase(time.Now())
	var arg any
	if len(r.Command) > 2 {
		arg = r.Command[2]
	}
	switch v := arg.(type) {
	case bool:
		if name == "pause" {
			s.paused = v
		}
	case float64:
		if name == "speed" {
			s.speed = v
		}
	}
	s.mu.Unlock()
	fc.OK(r.ID, nil)
	s.broadcast(s.prop("time-pos"), s.prop(name))
}
