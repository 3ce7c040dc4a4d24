package player

import (
	"github.com/watchparty/watchparty/player/fakempv"

	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"sync"
	"testing"
	"time"
)

// Unit tests of Player's logic against the fake mpv. The event lines are
// the shapes mpv 0.35.1 sends (see research notes on mpv IPC).

// fakeClock is a wall clock that moves only when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// idleMPV is what mpv 0.35.1 reports on start-up with nothing loaded.
var idleMPV = map[string]string{"pause": "false", "speed": "1.000000"}

// playingMPV is mpv playing a 60 s file at 10 s.
var playingMPV = map[string]string{
	"time-pos": "10.000000", "pause": "false", "speed": "1.000000",
	"duration": "60.000000", "paused-for-cache": "false", "eof-reached": "false",
}

// newFakePlayerMPV is a fake mpv that answers the Player's start-up with
// the initial property values given (absent: unavailable, sent without
// data) and passes every other request to more (nil: reply success). Only
// the first read of time-pos is answered from initial; later ones (the
// Player's own sampling) get a null the Player learns nothing from, so the
// tests move the position with time-pos events alone.
func newFakePlayerMPV(t *testing.T, initial map[string]string, more func(fc *fakempv.Conn, r fakempv.Request)) *fakempv.Server {
	var timePosRead sync.Once
	return fakempv.New(t, func(fc *fakempv.Conn, r fakempv.Request) {
		first := false
		if r.Name() == "get_property" && r.Arg(0) == "time-pos" {
			timePosRead.Do(func() { first = true })
		}
		switch {
		case first:
			if v, ok := initial["time-pos"]; ok {
				fc.Send(fmt.Sprintf(`{"data":%s,"request_id":%d,"error":"success"}`, v, r.ID))
			} else {
				fc.Fail(r.ID, "property unavailable")
			}
		case r.Name() == "get_property" && r.Arg(0) == "time-pos" && more == nil:
			fc.OK(r.ID, nil)
		case r.Name() == "observe_property":
			fc.OK(r.ID, nil)
			id, name := r.Arg(0), r.Arg(1)
			if v, ok := initial[name]; ok {
				fc.Send(fmt.Sprintf(`{"event":"property-change","id":%s,"name":%q,"data":%s}`, id, name, v))
			} else {
				fc.Send(fmt.Sprintf(`{"event":"property-change","id":%s,"name":%q}`, id, name))
			}
		case r.Name() == "get_property" && r.Arg(0) == "mpv-version":
			fc.OK(r.ID, "mpv 0.35.1")
		case more != nil:
			more(fc, r)
		default:
			fc.OK(r.ID, nil)
		}
	})
}

// newFakePlayer connects a Player with the given clock to f.
func newFakePlayer(t *testing.T, f *fakempv.Server, clock func() time.Time) *Player {
	t.Helper()
	nc, err := net.Dial("unix", f.Path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p, err := newPlayer(ctx, nc, f.Path, clock)
	if err != nil {
		t.Fatalf("start player on fake mpv: %v", err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

// nextEvent returns the next event or fails after a second.
func nextEvent(t *testing.T, p *Player) Event {
	t.Helper()
	select {
	case ev := <-p.Events():
		return ev
	case <-time.After(time.Second):
		t.Fatal("no event within 1s")
		return Event{}
	}
}

// sync makes a round trip so that every line the fake sent before has
// been handled by the Player (mpv's stream is ordered).
func roundTrip(t *testing.T, p *Player) {
	t.Helper()
	var v string
	if err := p.GetProperty(context.Background(), "mpv-version", &v); err != nil {
		t.Fatal(err)
	}
}

func TestPositionInterpolatesFromLastTimePos(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1000, 0)}
	f := newFakePlayerMPV(t, playingMPV, nil)
	p := newFakePlayer(t, f, clock.now)
	fc := f.Conn(0)

	if got := p.Position(); got != 10 {
		t.Fatalf("start: Position() = %v, want 10", got)
	}
	clock.advance(1500 * time.Millisecond)
	if got := p.Position(); !near(got, 11.5, 1e-9) {
		t.Fatalf("after 1.5 s: %v, want 11.5", got)
	}
	// A frame that arrives late does not pull the position back…
	fc.Send(`{"event":"property-change","id":1,"name":"time-pos","data":11.480000}`)
	roundTrip(t, p)
	clock.advance(20 * time.Millisecond)
	if got := p.Position(); !near(got, 11.52, 1e-9) {
		t.Fatalf("after a late frame: %v, want 11.52", got)
	}
	// …but one far behind means playback stalled: go on from it.
	fc.Send(`{"event":"property-change","id":1,"name":"time-pos","data":11.300000}`)
	roundTrip(t, p)
	clock.advance(200 * time.Millisecond)
	if got := p.Position(); !near(got, 11.5, 1e-9) {
		t.Fatalf("after a stall: %v, want 11.5", got)
	}
	// Speed 2: the rest of the time runs twice as fast.
	fc.Send(`{"event":"property-change","id":3,"name":"speed","data":2.000000}`)
	if ev := nextEvent(t, p); ev.Kind != EventSpeedChanged || ev.Origin != ByUser || ev.Speed != 2 {
		t.Fatalf("got %+v", ev)
	}
	clock.advance(time.Second)
	if got := p.Position(); !near(got, 13.5, 1e-9) {
		t.Fatalf("at speed 2: %v, want 13.5", got)
	}
	// Paused: frozen, and resuming does not count the paused time.
	fc.Send(`{"event":"property-change","id":2,"name":"pause","data":true}`)
	if ev := nextEvent(t, p); ev.Kind != EventPaused || !near(ev.Position, 13.5, 1e-9) {
		t.Fatalf("got %+v", ev)
	}
	clock.advance(5 * time.Second)
	if got := p.Position(); !near(got, 13.5, 1e-9) {
		t.Fatalf("paused: %v, want 13.5", got)
	}
	fc.Send(`{"event":"property-change","id":2,"name":"pause","data":false}`)
	nextEvent(t, p)
	clock.advance(250 * time.Millisecond)
	if got := p.Position(); !near(got, 14, 1e-9) {
		t.Fatalf("resumed: %v, want 14", got)
	}
	// Buffering freezes it too.
	fc.Send(`{"event":"property-change","id":5,"name":"paused-for-cache","data":true}`)
	if ev := nextEvent(t, p); ev.Kind != EventBufferingStart {
		t.Fatalf("got %+v", ev)
	}
	clock.advance(3 * time.Second)
	if st := p.State(); !st.Buffering || !near(st.Position, 14, 1e-9) {
		t.Fatalf("buffering: %+v", st)
	}
	fc.Send(`{"event":"property-change","id":5,"name":"paused-for-cache","data":false}`)
	if ev := nextEvent(t, p); ev.Kind != EventBufferingEnd {
		t.Fatalf("got %+v", ev)
	}
	// Never past the end.
	clock.advance(time.Hour)
	if got := p.Position(); got != 60 {
		t.Fatalf("past the end: %v, want 60 (the duration)", got)
	}
	// Unavailable time-pos (no data key): position unknown, 0.
	fc.Send(`{"event":"property-change","id":1,"name":"time-pos"}`)
	roundTrip(t, p)
	if got := p.Position(); got != 0 {
		t.Fatalf("unavailable: %v, want 0", got)
	}
}

func TestSlowConsumerCoalescesStateButKeepsOrder(t *testing.T) {
	f := newFakePlayerMPV(t, playingMPV, nil)
	p := newFakePlayer(t, f, time.Now)
	fc := f.Conn(0)

	// Nobody reads events while mpv sends 500 speed changes with a user
	// seek every 100.
	for i := range 500 {
		if i%100 == 0 {
			fc.Send(`{"event":"seek"}`)
			fc.Send(fmt.Sprintf(`{"event":"property-change","id":1,"name":"time-pos","data":%d.000000}`, i/10))
			fc.Send(`{"event":"playback-restart"}`)
		}
		fc.Send(fmt.Sprintf(`{"event":"property-change","id":3,"name":"speed","data":%.6f}`, 1+float64(i+1)/1000))
	}
	// Replies still flow: the reader is not held up by the consumer.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	var v string
	if err := p.GetProperty(ctx, "mpv-version", &v); err != nil {
		t.Fatalf("call while the consumer lags: %v", err)
	}
	if got := p.Speed(); got != 1.5 {
		t.Fatalf("Speed() = %v, want 1.5 (state is current even if events lag)", got)
	}

	var seeks []float64
	var speeds []float64
	var last Event
	for {
		select {
		case ev := <-p.Events():
			last = ev
			switch ev.Kind {
			case EventSeeked:
				seeks = append(seeks, ev.Position)
			case EventSpeedChanged:
				speeds = append(speeds, ev.Speed)
			}
			continue
		case <-time.After(100 * time.Millisecond):
		}
		break
	}
	if len(seeks) != 5 {
		t.Fatalf("got %d Seeked events %v, want all 5", len(seeks), seeks)
	}
	for i, pos := range seeks {
		if !near(pos, float64(i*10), 0.1) { // 10, 20…: the clock runs on a little
			t.Fatalf("Seeked events out of order: %v", seeks)
		}
	}
	if len(speeds) > 2 {
		t.Fatalf("got %d SpeedChanged events, want them coalesced to at most 2", len(speeds))
	}
	if last.Kind != EventSpeedChanged || last.Speed != 1.5 {
		t.Fatalf("last event %+v, want the final speed 1.5", last)
	}
}

// seekFake answers seek requests with success only; the test sends the
// events itself, so it controls their timing.
func seekFake(t *testing.T) (*fakempv.Server, chan fakempv.Request) {
	seeks := make(chan fakempv.Request, 8)
	f := newFakePlayerMPV(t, playingMPV, func(fc *fakempv.Conn, r fakempv.Request) {
		if r.Name() == "seek" {
			fc.Send(fmt.Sprintf(`{"data":null,"request_id":%d,"error":"success"}`, r.ID))
			seeks <- r
			return
		}
		fc.OK(r.ID, nil)
	})
	return f, seeks
}

func sendSeekDone(fc *fakempv.Conn, pos float64) {
	fc.Send(`{"event":"seek"}`)
	fc.Send(fmt.Sprintf(`{"event":"property-change","id":1,"name":"time-pos","data":%.6f}`, pos))
	fc.Send(`{"event":"playback-restart"}`)
}

func TestSeekTaggingWhenAUserSeekFinishesFirst(t *testing.T) {
	f, seeks := seekFake(t)
	p := newFakePlayer(t, f, time.Now)
	fc := f.Conn(0)

	// The user's seek to 50 is in progress when ours (to 10) is queued;
	// mpv restarts at 50 first, then runs ours.
	fc.Send(`{"event":"seek"}`)
	fc.Send(`{"event":"property-change","id":1,"name":"time-pos","data":50.000000}`)
	done := make(chan error, 1)
	go func() { done <- p.Seek(context.Background(), 10) }()
	r := <-seeks
	if r.Arg(0) != "10" || r.Arg(1) != "absolute+exact" {
		t.Fatalf("sent %v, want seek 10 absolute+exact", r.Command)
	}
	roundTrip(t, p) // our reply is in before the restart below
	fc.Send(`{"event":"playback-restart"}`)
	if ev := nextEvent(t, p); ev.Kind != EventSeeked || ev.Origin != ByUser || ev.Position != 50 {
		t.Fatalf("first restart: %+v, want the user's seek to 50", ev)
	}
	select {
	case err := <-done:
		t.Fatalf("Seek returned (%v) before its own restart", err)
	default:
	}
	sendSeekDone(fc, 10)
	if ev := nextEvent(t, p); ev.Kind != EventSeeked || ev.Origin != ByUs || ev.Position != 10 {
		t.Fatalf("second restart: %+v, want our seek to 10", ev)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestSeekTaggingMergedSeeks(t *testing.T) {
	f, seeks := seekFake(t)
	p := newFakePlayer(t, f, time.Now)
	fc := f.Conn(0)

	done := make(chan error, 2)
	go func() { done <- p.Seek(context.Background(), 20) }()
	<-seeks
	go func() { done <- p.Seek(context.Background(), 30) }()
	<-seeks
	roundTrip(t, p)
	sendSeekDone(fc, 30) // one seek event for both, as mpv does
	if ev := nextEvent(t, p); ev.Kind != EventSeeked || ev.Origin != ByUs || ev.Position != 30 {
		t.Fatalf("got %+v, want our merged seek at 30", ev)
	}
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	// Nothing of ours lingers: the next seek is the user's.
	sendSeekDone(fc, 31)
	if ev := nextEvent(t, p); ev.Origin != ByUser {
		t.Fatalf("got %+v, want the user's", ev)
	}
}

func TestFailedSeekLeavesNoExpectation(t *testing.T) {
	f := newFakePlayerMPV(t, playingMPV, func(fc *fakempv.Conn, r fakempv.Request) {
		if r.Name() == "seek" {
			fc.Fail(r.ID, "error running command")
			return
		}
		fc.OK(r.ID, nil)
	})
	p := newFakePlayer(t, f, time.Now)
	if err := p.Seek(context.Background(), 10); !errors.Is(err, ErrCommandFailed) {
		t.Fatalf("got %v, want ErrCommandFailed", err)
	}
	sendSeekDone(f.Conn(0), 10) // the user seeks to the very same spot
	if ev := nextEvent(t, p); ev.Origin != ByUser {
		t.Fatalf("got %+v, want the user's", ev)
	}
}

func TestSeekClampsAndRejectsNonNumbers(t *testing.T) {
	f, seeks := seekFake(t)
	p := newFakePlayer(t, f, time.Now)
	seek := func(pos float64) error {
		// Nothing restarts playback here: give up soon after sending.
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		return p.Seek(ctx, pos)
	}
	_ = seek(-3) // mpv would count -3 from the end
	if r := <-seeks; r.Arg(0) != "0" {
		t.Errorf("seek -3 sent %v, want 0", r.Command)
	}
	_ = seek(1e9)
	if r := <-seeks; r.Arg(0) != "60" {
		t.Errorf("seek past the end sent %v, want the duration 60", r.Command)
	}
	if err := seek(math.NaN()); err == nil {
		t.Error("seek NaN accepted")
	}
}

func TestPauseTagging(t *testing.T) {
	f := newFakePlayerMPV(t, playingMPV, func(fc *fakempv.Conn, r fakempv.Request) {
		fc.OK(r.ID, nil)
		if r.Name() == "set_property" && r.Arg(0) == "pause" {
			// mpv sends the change after the reply, only if it changed.
			if r.Arg(1) == "true" {
				fc.Send(`{"event":"property-change","id":2,"name":"pause","data":true}`)
			}
		}
	})
	p := newFakePlayer(t, f, time.Now)
	fc := f.Conn(0)

	// Play while playing: mpv sends no change, so nothing may be expected
	// afterwards; the user's resume below must not count as ours.
	if err := p.Play(context.Background()); err != nil {
		t.Fatal(err)
	}
	fc.Send(`{"event":"property-change","id":2,"name":"pause","data":true}`)
	if ev := nextEvent(t, p); ev.Kind != EventPaused || ev.Origin != ByUser {
		t.Fatalf("user pause: %+v", ev)
	}
	fc.Send(`{"event":"property-change","id":2,"name":"pause","data":false}`)
	if ev := nextEvent(t, p); ev.Kind != EventResumed || ev.Origin != ByUser {
		t.Fatalf("user resume after our no-op Play: %+v", ev)
	}

	if err := p.Pause(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ev := nextEvent(t, p); ev.Kind != EventPaused || ev.Origin != ByUs {
		t.Fatalf("got %+v", ev)
	}
	// The change may come well after the reply: still ours.
	if err := p.Play(context.Background()); err != nil {
		t.Fatal(err)
	}
	fc.Send(`{"event":"property-change","id":2,"name":"pause","data":false}`)
	if ev := nextEvent(t, p); ev.Kind != EventResumed || ev.Origin != ByUs {
		t.Fatalf("got %+v", ev)
	}
	fc.Send(`{"event":"property-change","id":2,"name":"pause","data":true}`)
	if ev := nextEvent(t, p); ev.Kind != EventPaused || ev.Origin != ByUser {
		t.Fatalf("user pause: %+v", ev)
	}
	// At the end of the file with keep-open, mpv pauses by itself.
	fc.Send(`{"event":"property-change","id":2,"name":"pause","data":false}`)
	nextEvent(t, p)
	fc.Send(`{"event":"property-change","id":6,"name":"eof-reached","data":true}`)
	if ev := nextEvent(t, p); ev.Kind != EventEndOfFile || ev.Reason != "eof" {
		t.Fatalf("got %+v", ev)
	}
	fc.Send(`{"event":"property-change","id":2,"name":"pause","data":true}`)
	if ev := nextEvent(t, p); ev.Kind != EventPaused || ev.Origin != ByPlayer {
		t.Fatalf("keep-open pause: %+v", ev)
	}
}

func TestLoadSendsNamedArgumentsAndWaitsForPlayback(t *testing.T) {
	var got fakempv.Request
	f := newFakePlayerMPV(t, idleMPV, func(fc *fakempv.Conn, r fakempv.Request) {
		if r.Name() != "loadfile" {
			fc.OK(r.ID, nil)
			return
		}
		got = r
		// Recorded from mpv 0.35.1 (loadfile start=5 pause=yes).
		fc.Send(fmt.Sprintf(`{"data":{"playlist_entry_id":1},"request_id":%d,"error":"success"}`, r.ID))
		for _, line := range []string{
			`{"event":"start-file","playlist_entry_id":1}`,
			`{"event":"property-change","id":2,"name":"pause","data":true}`,
			`{"event":"file-loaded"}`,
			`{"event":"seek"}`,
			`{"event":"property-change","id":4,"name":"duration","data":30.000000}`,
			`{"event":"property-change","id":1,"name":"time-pos","data":5.000000}`,
			`{"event":"playback-restart"}`,
		} {
			fc.Send(line)
		}
	})
	p := newFakePlayer(t, f, time.Now)
	if err := p.Load(context.Background(), "/media/film.mkv", 5, true); err != nil {
		t.Fatal(err)
	}
	opts, _ := got.Named["options"].(map[string]any)
	if got.Named["url"] != "/media/film.mkv" || got.Named["flags"] != "replace" || opts["start"] != "5" || opts["pause"] != "yes" {
		t.Fatalf("loadfile sent %v", got.Named)
	}
	if ev := nextEvent(t, p); ev.Kind != EventPaused || ev.Origin != ByUs {
		t.Fatalf("got %+v, want our pause", ev)
	}
	ev := nextEvent(t, p)
	if ev.Kind != EventFileLoaded || ev.Duration != 30 || ev.Position != 5 {
		t.Fatalf("got %+v, want FileLoaded at 5 of 30", ev)
	}
	// The start option's seek is part of the load, not a Seeked event.
	roundTrip(t, p)
	select {
	case ev := <-p.Events():
		t.Fatalf("unexpected %+v", ev)
	default:
	}
	if st := p.State(); !st.Loaded || !st.Paused || st.Position != 5 {
		t.Fatalf("after load: %+v", st)
	}
}

func TestLoadReportsFailure(t *testing.T) {
	f := newFakePlayerMPV(t, idleMPV, func(fc *fakempv.Conn, r fakempv.Request) {
		fc.Send(fmt.Sprintf(`{"data":{"playlist_entry_id":2},"request_id":%d,"error":"success"}`, r.ID))
		fc.Send(`{"event":"start-file","playlist_entry_id":2}`)
		fc.Send(`{"event":"end-file","reason":"error","playlist_entry_id":2,"file_error":"loading failed"}`)
		fc.Send(`{"event":"idle"}`)
	})
	p := newFakePlayer(t, f, time.Now)
	err := p.Load(context.Background(), "/nope.mp4", 0, false)
	if err == nil || err.Error() != "load /nope.mp4: loading failed" {
		t.Fatalf("got %v", err)
	}
	if ev := nextEvent(t, p); ev.Kind != EventEndOfFile || ev.Reason != "error" {
		t.Fatalf("got %+v", ev)
	}
}

func TestConnectionLossEndsEverything(t *testing.T) {
	f, seeks := seekFake(t)
	p := newFakePlayer(t, f, time.Now)
	done := make(chan error, 1)
	go func() { done <- p.Seek(context.Background(), 10) }()
	<-seeks
	f.DropAll() // mpv died before the seek settled
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Fatalf("Seek: %v, want ErrClosed", err)
	}
	ev := nextEvent(t, p)
	if ev.Kind != EventClosed || !errors.Is(ev.Err, ErrClosed) {
		t.Fatalf("got %+v", ev)
	}
	if _, ok := <-p.Events(); ok {
		t.Fatal("events still open after Closed")
	}
	<-p.Done()
	if err := p.Pause(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Pause after close: %v", err)
	}
}

func TestEventQueueCoalescesOnlyStateGroups(t *testing.T) {
	q := newEventQueue()
	defer q.shutdown()
	// The delivery goroutine takes the first event in hand and blocks.
	q.push(Event{Kind: EventSeeked, Position: 1})
	waitFor(t, time.Second, func() bool {
		q.mu.Lock()
		defer q.mu.Unlock()
		return len(q.items) == 0
	})
	q.push(Event{Kind: EventPaused, Origin: ByUser})
	q.push(Event{Kind: EventSeeked, Position: 2})
	q.push(Event{Kind: EventResumed, Origin: ByUs})
	q.push(Event{Kind: EventSpeedChanged, Speed: 2})
	q.push(Event{Kind: EventSpeedChanged, Speed: 3})
	q.push(Event{Kind: EventClosed})
	q.push(Event{Kind: EventSeeked, Position: 3}) // after Closed: dropped

	var got []string
	for ev := range q.out {
		got = append(got, fmt.Sprintf("%v/%v/%v/%v", ev.Kind, ev.Origin, ev.Position, ev.Speed))
	}
	want := []string{"seeked//1/0", "seeked//2/0", "resumed/us/0/0", "speed-changed//0/3", "closed//0/0"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
}

// TestPauseTaggingBackToBack: a Pause then a Play sent before mpv reports the first change
// are both ours (the toggle pressed twice quickly), and PauseTarget already says where mpv is
// heading while its Paused lags. User changes are counted in UserActs.
func TestPauseTaggingBackToBack(t *testing.T) {
	f := newFakePlayerMPV(t, playingMPV, func(fc *fakempv.Conn, r fakempv.Request) {
		fc.OK(r.ID, nil) // the changes are sent by the test, late
	})
	p := newFakePlayer(t, f, time.Now)
	fc := f.Conn(0)
	ctx := context.Background()
	if err := p.Pause(ctx); err != nil {
		t.Fatal(err)
	}
	if p.Paused() || !p.PauseTarget() {
		t.Fatalf("after Pause, before its change: Paused %v, PauseTarget %v", p.Paused(), p.PauseTarget())
	}
	if err := p.Play(ctx); err != nil {
		t.Fatal(err)
	}
	if p.PauseTarget() {
		t.Fatal("after Play: PauseTarget still true")
	}
	fc.Send(`{"event":"property-change","id":2,"name":"pause","data":true}`)
	if ev := nextEvent(t, p); ev.Kind != EventPaused || ev.Origin != ByUs || ev.UserActs != 0 {
		t.Fatalf("our late pause: %+v", ev)
	}
	fc.Send(`{"event":"property-change","id":2,"name":"pause","data":false}`)
	if ev := nextEvent(t, p); ev.Kind != EventResumed || ev.Origin != ByUs {
		t.Fatalf("our late resume: %+v", ev)
	}
	fc.Send(`{"event":"property-change","id":2,"name":"pause","data":true}`)
	if ev := nextEvent(t, p); ev.Kind != EventPaused || ev.Origin != ByUser || ev.UserActs != 1 {
		t.Fatalf("user pause: %+v", ev)
	}
	if n := p.State().UserActs; n != 1 {
		t.Fatalf("State.UserActs %d, want 1", n)
	}
}

// The Player reads time-pos instead of observing it: a restart that comes before any read
// since the seek waits for the next read's reply, which says where playback restarted.
func TestRestartWaitsForATimePosRead(t *testing.T) {
	reads := make(chan fakempv.Request, 16)
	seeks := make(chan fakempv.Request, 1)
	f := newFakePlayerMPV(t, playingMPV, func(fc *fakempv.Conn, r fakempv.Request) {
		switch {
		case r.Name() == "get_property" && r.Arg(0) == "time-pos":
			reads <- r // answered by the test
		case r.Name() == "seek":
			fc.OK(r.ID, nil)
			seeks <- r
		default:
			fc.OK(r.ID, nil)
		}
	})
	p := newFakePlayer(t, f, time.Now)
	fc := f.Conn(0)
	answer := func(r fakempv.Request, pos float64) {
		fc.Send(fmt.Sprintf(`{"data":%.6f,"request_id":%d,"error":"success"}`, pos, r.ID))
	}

	done := make(chan error, 1)
	go func() { done <- p.Seek(context.Background(), 30) }()
	<-seeks
	roundTrip(t, p)
	fc.Send(`{"event":"seek"}`)
	held := <-reads // the read the seek event asks for; mpv has not answered it yet
	fc.Send(`{"event":"playback-restart"}`)
	roundTrip(t, p)
	if st := p.State(); !st.Seeking {
		t.Fatalf("restart handled before any time-pos read: %+v", st)
	}
	answer(held, 30.01) // read after the restart: where playback restarted
	if ev := nextEvent(t, p); ev.Kind != EventSeeked || ev.Origin != ByUs || !near(ev.Position, 30.01, 1e-9) {
		t.Fatalf("got %+v, want our seek, restarted at 30.01", ev)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// Playing again: the Player goes on reading time-pos by itself.
	for range 3 {
		answer(<-reads, 30.02)
	}
}
