package player

import (
	"github.com/watchparty/watchparty/player/fakempv"

	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// dialFake connects a conn to f; events go to the returned channel.
func dialFake(t *testing.T, f *fakempv.Server) (*conn, <-chan message) {
	t.Helper()
	nc, err := net.Dial("unix", f.Path)
	if err != nil {
		t.Fatalf("dial fake: %v", err)
	}
	events := make(chan message, 1024)
	c := newConn(nc, func(m message) { events <- m }, nil)
	t.Cleanup(func() { _ = c.Close() })
	return c, events
}

func TestConnInterleavesEventsAndReplies(t *testing.T) {
	f := fakempv.New(t, func(fc *fakempv.Conn, r fakempv.Request) {
		// An event before and after the reply, as mpv does when a
		// property changes while a request is answered.
		fc.Send(fmt.Sprintf(`{"event":"property-change","id":1,"name":"time-pos","data":%d.000000}`, r.ID))
		fc.OK(r.ID, r.Arg(0))
		fc.Send(`{"event":"seek"}`)
	})
	c, events := dialFake(t, f)
	ctx := context.Background()
	for i := range 5 {
		var got string
		if err := c.getProperty(ctx, fmt.Sprintf("prop%d", i), &got); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if want := fmt.Sprintf("prop%d", i); got != want {
			t.Fatalf("call %d: got %q, want %q", i, got, want)
		}
	}
	// Events keep their order: time-pos(id), seek, time-pos(id+1), seek…
	for i := range 10 {
		m := <-events
		if i%2 == 0 {
			want := fmt.Sprintf("%d.000000", i/2+1)
			if m.Event != "property-change" || m.Name != "time-pos" || string(m.Data) != want {
				t.Fatalf("event %d: got %+v, want time-pos %s", i, m, want)
			}
		} else if m.Event != "seek" {
			t.Fatalf("event %d: got %q, want seek", i, m.Event)
		}
	}
}

func TestConnConcurrentCallersNoMismatch(t *testing.T) {
	// The fake answers each request from its own goroutine after a random
	// delay, so replies come back out of order, with events in between.
	var replies sync.WaitGroup
	f := fakempv.New(t, func(fc *fakempv.Conn, r fakempv.Request) {
		replies.Add(1)
		go func() {
			defer replies.Done()
			time.Sleep(time.Duration(rand.IntN(200)) * time.Microsecond)
			if r.ID%7 == 0 {
				fc.Send(`{"event":"property-change","id":1,"name":"speed","data":1.000000}`)
			}
			fc.OK(r.ID, r.Arg(0))
		}()
	})
	defer replies.Wait()
	c, _ := dialFake(t, f)

	const callers, calls = 16, 300
	var mismatches, failures atomic.Int64
	var wg sync.WaitGroup
	for g := range callers {
		wg.Go(func() {
			for i := range calls {
				want := fmt.Sprintf("g%d-%d", g, i)
				var got string
				if err := c.getProperty(context.Background(), want, &got); err != nil {
					failures.Add(1)
					continue
				}
				if got != want {
					mismatches.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if mismatches.Load() != 0 || failures.Load() != 0 {
		t.Fatalf("%d mismatched replies and %d failed calls out of %d", mismatches.Load(), failures.Load(), callers*calls)
	}
}

func TestConnEOFMidCallFailsPendingWithErrClosed(t *testing.T) {
	received := make(chan struct{}, 4)
	f := fakempv.New(t, func(fc *fakempv.Conn, r fakempv.Request) {
		received <- struct{}{}
		// mpv dies before answering.
		fc.Drop()
	})
	c, _ := dialFake(t, f)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		_, err := c.call(ctx, "get_property pause", []any{"get_property", "pause"}, nil)
		errc <- err
	}()
	<-received
	err := <-errc
	if !errors.Is(err, ErrClosed) {
		t.Fatalf("pending call: got %v, want ErrClosed", err)
	}
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("Done not closed after EOF")
	}
	if !errors.Is(c.Err(), ErrClosed) {
		t.Fatalf("Err() = %v, want ErrClosed", c.Err())
	}
	// Later calls fail at once, without writing.
	if _, err := c.call(ctx, "get_property pause", []any{"get_property", "pause"}, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("call after EOF: got %v, want ErrClosed", err)
	}
}

func TestConnMapsMPVErrorStrings(t *testing.T) {
	tests := []struct {
		msg  string
		want error
	}{
		{"property unavailable", ErrPropertyUnavailable},
		{"property not found", ErrPropertyNotFound},
		{"unsupported format for accessing property", ErrPropertyFormat},
		{"invalid parameter", ErrInvalidParameter},
		{"error running command", ErrCommandFailed},
	}
	f := fakempv.New(t, func(fc *fakempv.Conn, r fakempv.Request) { fc.Fail(r.ID, r.Arg(0)) })
	c, _ := dialFake(t, f)
	for _, tt := range tests {
		var v any
		err := c.getProperty(context.Background(), tt.msg, &v)
		if !errors.Is(err, tt.want) {
			t.Errorf("mpv error %q: got %v, want errors.Is %v", tt.msg, err, tt.want)
		}
		var ce *CommandError
		if !errors.As(err, &ce) || ce.Message != tt.msg {
			t.Errorf("mpv error %q: got %#v, want CommandError with the verbatim message", tt.msg, err)
		}
	}
	// An unknown string is still an error, matching no sentinel.
	var v any
	err := c.getProperty(context.Background(), "something new", &v)
	if err == nil || errors.Is(err, ErrCommandFailed) || err.Error() != "mpv get_property something new: something new" {
		t.Fatalf("unknown mpv error: got %v", err)
	}
}

func TestConnContextEndsWaitAndLateReplyIsDropped(t *testing.T) {
	hold := make(chan int64, 1)
	f := fakempv.New(t, func(fc *fakempv.Conn, r fakempv.Request) {
		if r.Arg(0) == "slow" {
			hold <- r.ID // answered later, after the caller gave up
			return
		}
		fc.OK(r.ID, r.Arg(0))
	})
	c, _ := dialFake(t, f)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	var v string
	if err := c.getProperty(ctx, "slow", &v); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want DeadlineExceeded", err)
	}
	f.Conn(0).OK(<-hold, "late")
	if err := c.getProperty(context.Background(), "fast", &v); err != nil || v != "fast" {
		t.Fatalf("call after a dropped reply: got %q, %v", v, err)
	}
	c.mu.Lock()
	n := len(c.pending)
	c.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d calls still pending", n)
	}
}

func TestConnSkipsNonJSONLinesAndDecodesUnavailable(t *testing.T) {
	f := fakempv.New(t, func(fc *fakempv.Conn, r fakempv.Request) {
		fc.Send(`this is not json`)
		fc.Send(`{"event":"property-change","id":1,"name":"time-pos"}`)
		fc.OK(r.ID, json.RawMessage(`{"playlist_entry_id":3}`))
	})
	c, events := dialFake(t, f)
	data, err := c.call(context.Background(), "loadfile", map[string]any{"name": "loadfile", "url": "x"}, nil)
	if err != nil || string(data) != `{"playlist_entry_id":3}` {
		t.Fatalf("got %s, %v", data, err)
	}
	m := <-events
	if m.Name != "time-pos" || m.hasData() {
		t.Fatalf("got %+v, want time-pos without data", m)
	}
}

func TestConnCloseFailsCallsAndIsIdempotent(t *testing.T) {
	f := fakempv.New(t, func(fc *fakempv.Conn, r fakempv.Request) {}) // never answers
	c, _ := dialFake(t, f)
	errc := make(chan error, 1)
	go func() {
		_, err := c.call(context.Background(), "get_property pause", []any{"get_property", "pause"}, nil)
		errc <- err
	}()
	// Wait until the call is registered, then close under it.
	waitFor(t, time.Second, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return len(c.pending) == 1
	})
	_ = c.Close()
	_ = c.Close()
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Fatalf("got %v, want ErrClosed", err)
	}
}

// waitFor polls cond until it holds or d passes.
func waitFor(t testing.TB, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v", d)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
