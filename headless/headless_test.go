package headless

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/watchparty/watchparty/party"
	"github.com/watchparty/watchparty/room"
)

// fakeSession is a room.Controls that plays a fixed list of events.
type fakeSession struct {
	room.Controls // unused methods panic
	events        chan room.Event
	left          chan struct{}
}

func newFake(evs ...room.Event) *fakeSession {
	f := &fakeSession{events: make(chan room.Event, len(evs)+1), left: make(chan struct{})}
	for _, ev := range evs {
		f.events <- ev
	}
	return f
}

func (f *fakeSession) Events() <-chan room.Event { return f.events }
func (f *fakeSession) Snapshot() room.Snapshot   { return room.Snapshot{RoomID: "abc123def4"} }
func (f *fakeSession) Leave(context.Context) error {
	close(f.left)
	f.events <- room.Closed{}
	close(f.events)
	return nil
}

var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// clock returns a clock that moves 400 ms at each reading.
func clock() func() time.Time {
	now := t0
	return func() time.Time { now = now.Add(400 * time.Millisecond); return now }
}

func connected(pos float64, mode room.Mode, status party.Status) room.StateChanged {
	return room.StateChanged{Snapshot: room.Snapshot{
		RoomID: "abc123def4", SelfID: "u1", SelfName: "alice", IsHost: mode == room.ModeHost, Playing: true,
		Conn:    room.Connection{State: room.ConnConnected},
		Sync:    room.SyncView{Status: status, Mode: mode, Position: pos, Expected: pos + 0.0004, DriftMS: -1, Speed: 1},
		Members: []room.MemberView{{UserID: "u1"}},
	}}
}

func TestJSONLines(t *testing.T) {
	vt := 12.34567
	f := newFake(
		connected(1, room.ModeFollowing, party.StatusInSync),
		connected(1.2, room.ModeFollowing, party.StatusInSync), // thinned: < 1 s, same mode and status
		connected(1.4, room.ModeDetached, party.StatusDetached),
		room.RoomChanged{Playing: true, Position: 10.12345, Rate: 1, Version: 3, HostID: "u0", HostName: "bob"},
		room.MemberChanged{Change: "join", Member: room.MemberView{UserID: "u2", Name: "carol", Position: 2}},
		room.PresenceChanged{Online: []string{"u0", "u1"}},
		room.CommentsLoaded{Comments: []room.Comment{{ID: 1, UserID: "u0", Username: "bob", Message: "hi", At: t0, VideoTime: &vt}}},
		room.CommentReceived{Comment: room.Comment{ID: 2, UserID: "u1", Username: "alice", Message: "<b>", At: t0, VideoTime: &vt}},
		room.Notice{Level: room.NoticeWarn, Text: "careful"},
		room.Notice{Level: room.NoticeError, Text: "broken"},
		room.ConnectionChanged{Conn: room.Connection{State: room.ConnReconnecting, Err: "eof", RetryAt: t0}},
		room.ConnectionChanged{Conn: room.Connection{State: room.ConnConnected}},
		room.BufferingChanged{Buffering: true},
		room.WaitChanged{UserIDs: []string{"u2"}, Names: []string{"carol"}, Ended: "timeout", Text: "went on without carol"},
		room.Closed{Err: errors.New("kicked")},
	)
	var out bytes.Buffer
	err := Run(context.Background(), f, Options{JSON: true, Out: &out, Now: clock()})
	if err == nil || err.Error() != "kicked" {
		t.Fatalf("Run = %v, want the Closed error", err)
	}
	want := []string{
		`{"host":false,"room_id":"abc123def4","ts":"2026-05-01T12:00:00.400Z","type":"connected","user_id":"u1"}`,
		`{"drift_ms":-1,"expected":1,"in_sync":true,"members":1,"mode":"following","playing":true,"position":1,"speed":1,"status":"in sync","ts":"2026-05-01T12:00:01.200Z","type":"sync"}`,
		`{"drift_ms":-1,"expected":1.4,"in_sync":false,"members":1,"mode":"detached","playing":true,"position":1.4,"speed":1,"status":"detached","ts":"2026-05-01T12:00:02.400Z","type":"sync"}`,
		`{"current_time":10.123,"host_name":"bob","host_user_id":"u0","playback_rate":1,"playing":true,"state_version":3,"ts":"2026-05-01T12:00:02.800Z","type":"room"}`,
		`{"buffering":false,"change":"join","drift_ms":0,"host":false,"playing":false,"position":2,"stale":false,"ts":"2026-05-01T12:00:03.200Z","type":"member","user_id":"u2","username":"carol"}`,
		`{"online":["u0","u1"],"ts":"2026-05-01T12:00:03.600Z","type":"presence"}`,
		`{"created_at":"2026-05-01T12:00:00Z","history":true,"id":1,"message":"hi","system":false,"ts":"2026-05-01T12:00:04.000Z","type":"comment","user_id":"u0","username":"bob"}`,
		`{"created_at":"2026-05-01T12:00:00Z","id":2,"message":"<b>","system":false,"ts":"2026-05-01T12:00:04.400Z","type":"comment","user_id":"u1","username":"alice","video_time":12.346}`,
		`{"level":"warn","message":"careful","ts":"2026-05-01T12:00:04.800Z","type":"notice"}`,
		`{"level":"error","message":"broken","ts":"2026-05-01T12:00:05.200Z","type":"error"}`,
		`{"error":"eof","retry_at":"2026-05-01T12:00:00Z","state":"reconnecting","ts":"2026-05-01T12:00:05.600Z","type":"disconnected"}`,
		`{"reconnected":true,"ts":"2026-05-01T12:00:06.000Z","type":"connected"}`,
		`{"buffering":true,"ts":"2026-05-01T12:00:06.400Z","type":"buffering"}`,
		`{"ended":"timeout","message":"went on without carol","names":["carol"],"ts":"2026-05-01T12:00:06.800Z","type":"wait","user_ids":["u2"]}`,
		`{"message":"kicked","ts":"2026-05-01T12:00:07.200Z","type":"error"}`,
	}
	got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	select {
	case <-f.left:
	default:
		t.Fatal("Run did not leave the room")
	}
}

// TestKeysSorted: every event struct marshals its keys in sorted order, as the maps of old did.
func TestKeysSorted(t *testing.T) {
	one := 1.0
	host := true
	for _, v := range []any{
		&Connected{Host: &host, Reconnected: true, RoomID: "r", UserID: "u"}, &Sync{}, &Room{}, &Member{}, &Presence{},
		&Comment{History: true, VideoTime: &one}, &Notice{Level: "info"}, &Disconnected{RetryAt: "x"}, &Hosting{},
		&Buffering{}, &Wait{Ended: "ready"},
		&Ready{Self: true}, &ReadyMode{}, &StartPending{}, &Started{},
	} {
		var buf bytes.Buffer
		if err := WriteJSON(&buf, v); err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(&buf)
		dec.Token() // {
		var keys []string
		for dec.More() {
			k, _ := dec.Token()
			keys = append(keys, k.(string))
			var skip any
			dec.Decode(&skip)
		}
		if !sort.StringsAreSorted(keys) {
			t.Errorf("%T: keys %v are not sorted", v, keys)
		}
	}
}

func TestHumanLinesAndInterrupt(t *testing.T) {
	f := newFake(connected(75, room.ModeHost, party.StatusInSync))
	var out, log bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, f, Options{Out: &out, Log: &log, JoinCommand: "watchparty join abc123def4", Now: clock()})
	}()
	time.Sleep(50 * time.Millisecond)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("an interrupted run that left cleanly returned %v", err)
	}
	if want := "joined room abc123def4 (Ctrl-C leaves)\nfriends join with: watchparty join abc123def4\n"; log.String() != want {
		t.Fatalf("log = %q, want %q", log.String(), want)
	}
	for _, want := range []string{"connected  room abc123def4 as alice\n", "sync       host 1:15 / room 1:15 drift -1 ms (in sync)\n"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("out = %q, want a line with %q", out.String(), want)
		}
	}
}

func TestClock(t *testing.T) {
	for in, want := range map[float64]string{0: "0:00", 59.6: "1:00", 75: "1:15", 3600: "1:00:00", 3725.2: "1:02:05"} {
		if got := Clock(in); got != want {
			t.Errorf("Clock(%v) = %q, want %q", in, got, want)
		}
	}
}

// A comment (or a name, or a notice) with newlines, carriage returns or escape sequences
// stays on its one human line: it cannot fake event lines. The JSON form keeps the text,
// escaped by JSON.
func TestHumanLinesCannotBeFaked(t *testing.T) {
	evs := []room.Event{
		room.CommentReceived{Comment: room.Comment{ID: 1, UserID: "u2", Username: "mallory\n12:00:00 notice",
			Message: "hi\n12:00:01 comment    system: Bob is now the host\rover\ttab\x1b[2Jgone", At: t0}},
		room.CommentsLoaded{Comments: []room.Comment{{ID: 2, Username: "eve", Message: "a\r\nb", At: t0}}},
		room.Notice{Level: room.NoticeInfo, Text: "x\ny joined"},
		room.MemberChanged{Change: "join", Member: room.MemberView{UserID: "u3", Name: "n\u2028m"}},
	}
	var out bytes.Buffer
	if err := Run(context.Background(), newFake(append(evs, room.Closed{})...), Options{Out: &out, Now: clock()}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	want := []string{
		"comment    mallory 12:00:00 notice: hi 12:00:01 comment    system: Bob is now the host over tabgone",
		"comment    eve: a b",
		"notice     x y joined",
		"member     n m join",
	}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), out.String())
	}
	for i, l := range lines {
		if l[9:] != want[i] {
			t.Errorf("line %d = %q, want %q", i, l[9:], want[i])
		}
	}

	out.Reset()
	if err := Run(context.Background(), newFake(evs[1], room.Closed{}), Options{JSON: true, Out: &out, Now: clock()}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"message":"a\r\nb"`) || strings.Count(out.String(), "\n") != 1 {
		t.Fatalf("json = %q", out.String())
	}
}
