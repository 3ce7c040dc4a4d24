package server_test

import (
	"encoding/binary"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/watchparty/watchparty/realtime/phx"
	"github.com/watchparty/watchparty/server"
	"github.com/watchparty/watchparty/server/servertest"
)

// stillServing checks that a connected client, a new socket and HTTP all still work.
func stillServing(t *testing.T, s *servertest.Server, other *servertest.Client) {
	t.Helper()
	barrier(t, other)
	fresh := servertest.DialT(t, s.WSURL(phx.Vsn2), servertest.DialOptions{})
	barrier(t, fresh)
	if r := s.API().For(t).Do(http.MethodGet, "/watchparty/v1/info", "", nil); r.Status != 200 {
		t.Fatalf("info after bad input: %d", r.Status)
	}
}

func TestMalformedFrames(t *testing.T) {
	s := servertest.Start(t, server.Config{})
	other := servertest.DialT(t, s.WSURL(phx.Vsn2), servertest.DialOptions{})
	cases := []struct {
		name, frame, reason string
		vsn                 string
	}{
		{"bad json", `[null,"1","phoenix","heartbeat",{]`, "invalid json", phx.Vsn2},
		{"not an array", `{"topic":"phoenix"}`, "expected a json array", phx.Vsn2},
		{"wrong arity", `[null,"1","phoenix","heartbeat"]`, "expected 5 elements, got 4", phx.Vsn2},
		{"payload not an object", `[null,"1","realtime:x","phx_join",[1,2]]`, "payload is not a json object", phx.Vsn2},
		{"payload a string", `[null,"1","realtime:x","phx_join","hi"]`, "payload is not a json object", phx.Vsn2},
		{"numeric ref", `[null,1,"phoenix","heartbeat",{}]`, "ref", phx.Vsn2},
		{"vsn 1 array", `[null,"1","phoenix","heartbeat",{}]`, "", phx.Vsn1},
		{"vsn 1 bad payload", `{"topic":"phoenix","event":"heartbeat","payload":7,"ref":"1"}`, "payload", phx.Vsn1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := servertest.DialT(t, s.WSURL(tc.vsn), servertest.DialOptions{Vsn: tc.vsn})
			if err := c.WriteRaw(servertest.Ctx(t, wait), websocket.MessageText, []byte(tc.frame)); err != nil {
				t.Fatal(err)
			}
			code, reason, err := c.CloseStatus(servertest.Ctx(t, wait))
			if err != nil || code != websocket.StatusInvalidFramePayloadData || !strings.HasPrefix(reason, "malformed message: ") || !strings.Contains(reason, tc.reason) {
				t.Fatalf("close = %v %q (%v), want 1007 with a reason about %q", code, reason, err, tc.reason)
			}
			if f := c.Pending(); len(f) != 0 {
				t.Fatalf("frames before the close: %v", f)
			}
			stillServing(t, s, other)
		})
	}
	t.Run("binary frame of an unknown kind", func(t *testing.T) {
		c := servertest.DialT(t, s.WSURL(phx.Vsn2), servertest.DialOptions{})
		c.WriteRaw(servertest.Ctx(t, wait), websocket.MessageBinary, []byte{9, 1, 2})
		code, reason, _ := c.CloseStatus(servertest.Ctx(t, wait))
		if code != websocket.StatusInvalidFramePayloadData || !strings.HasPrefix(reason, "malformed message") {
			t.Fatalf("close = %v %q", code, reason)
		}
		stillServing(t, s, other)
	})
}

func TestOversizedFrame(t *testing.T) {
	s := servertest.Start(t, server.Config{})
	other := servertest.DialT(t, s.WSURL(phx.Vsn2), servertest.DialOptions{})
	c := servertest.DialT(t, s.WSURL(phx.Vsn2), servertest.DialOptions{})
	// Exactly 1 MiB is allowed.
	ok := `[null,"1","realtime:x","broadcast",{"type":"broadcast","event":"e","payload":{"p":"` // + filler + `"}}]`
	filler := strings.Repeat("x", 1<<20-len(ok)-len(`"}}]`))
	if err := c.WriteRaw(servertest.Ctx(t, wait), websocket.MessageText, []byte(ok+filler+`"}}]`)); err != nil {
		t.Fatal(err)
	}
	if f := next(t, c); !strings.Contains(string(f.Msg.Payload), "unmatched topic") {
		t.Fatalf("1 MiB frame: %s", f)
	}
	// One byte more closes the socket with 1009.
	if err := c.WriteRaw(servertest.Ctx(t, wait), websocket.MessageText, []byte(ok+filler+`x"}}]`)); err != nil {
		t.Fatal(err)
	}
	code, _, err := c.CloseStatus(servertest.Ctx(t, wait))
	if err != nil || code != websocket.StatusMessageTooBig {
		t.Fatalf("close = %v (%v), want 1009", code, err)
	}
	stillServing(t, s, other)
}

func TestHandshakeRefusals(t *testing.T) {
	s := servertest.Start(t, server.Config{})
	api := s.API().For(t)
	for name, tc := range map[string]struct {
		query  string
		status int
		err    string
	}{
		"no apikey":   {"?vsn=2.0.0", 401, "API key is missing"},
		"bad apikey":  {"?vsn=2.0.0&apikey=nope", 401, "not a valid JWT"},
		"unknown vsn": {"?vsn=3.0.0&apikey=" + s.AnonKey, 400, "vsn"},
	} {
		r := api.Do(http.MethodGet, "/realtime/v1/websocket"+tc.query, "", nil)
		msg, _ := r.Object()["error"].(string)
		if r.Status != tc.status || !strings.Contains(msg, tc.err) {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		}
	}
}

// A client that stops reading is disconnected once its outbox is full; the others keep
// getting every message meanwhile.
func TestSlowClient(t *testing.T) {
	s := servertest.Start(t, server.Config{BroadcastLimit: 2000})
	const topic = "realtime:slow-lane" // a public topic: the anon key may join it
	ctx := servertest.Ctx(t, 90*time.Second)
	fast := servertest.DialT(t, s.WSURL(phx.Vsn2), servertest.DialOptions{})
	jr, reply, err := fast.Join(ctx, topic, phx.JoinConfig{Broadcast: phx.BroadcastConfig{Self: true}, Presence: phx.PresenceConfig{Key: "fast", Enabled: true}}, "")
	if err != nil || reply.Status != "ok" {
		t.Fatal(err, reply)
	}
	slow, err := servertest.Dial(ctx, s.WSURL(phx.Vsn2), servertest.DialOptions{NoRead: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(slow.Close)
	join, _ := json.Marshal(phx.JoinPayload{Config: phx.JoinConfig{Presence: phx.PresenceConfig{Key: "slow"}, PostgresChanges: []phx.ChangeBinding{}}})
	slow.Send(ctx, phx.Message{JoinRef: "1", Ref: "1", Topic: topic, Event: phx.EventJoin, Payload: join})
	slow.Send(ctx, phx.Message{JoinRef: "1", Ref: "2", Topic: topic, Event: phx.EventPresence, Payload: json.RawMessage(`{"type":"presence","event":"track","payload":{"who":"slow"}}`)})
	await(t, fast, "the slow client's track", func(f servertest.Frame) bool {
		return f.Msg.Event == phx.EventPresenceDiff && strings.Contains(string(f.Msg.Payload), `"joins":{"slow"`)
	})
	// 1,000 raw binary broadcasts of 32 KiB (32 MiB) are more than the slow client's outbox
	// (8 MiB) and the kernel's socket buffers together. Raw binary (kind 3, encoding 0) keeps
	// JSON parsing out of the way.
	const n, size = 1000, 32 << 10
	sendDone := make(chan error, 1)
	go func() {
		for i := range n {
			ref := fast.NextRef()
			frame := []byte{3, byte(len(jr)), byte(len(ref)), byte(len(topic)), 1, 0, 0}
			frame = append(frame, jr+ref+topic+"e"...)
			frame = binary.BigEndian.AppendUint32(frame, uint32(i))
			frame = append(frame, make([]byte, size)...)
			if err := fast.WriteRaw(ctx, websocket.MessageBinary, frame); err != nil {
				sendDone <- err
				return
			}
		}
		sendDone <- nil
	}()
	got, slowLeft := 0, false
	for got < n || !slowLeft {
		f, err := fast.Next(ctx)
		if err != nil {
			t.Fatalf("fast client after %d of %d broadcasts (slow client gone: %v): %v", got, n, slowLeft, err)
		}
		switch f.Msg.Event {
		case phx.EventBroadcast:
			if len(f.Msg.BinaryPayload) != 4+size || binary.BigEndian.Uint32(f.Msg.BinaryPayload) != uint32(got) {
				t.Fatalf("broadcast %d: %d bytes, number %d", got, len(f.Msg.BinaryPayload), binary.BigEndian.Uint32(f.Msg.BinaryPayload))
			}
			got++
		case phx.EventPresenceDiff:
			// The server dropped the slow client: its presence leaves.
			if strings.Contains(string(f.Msg.Payload), `"leaves":{"slow"`) {
				slowLeft = true
			}
		}
	}
	if err := <-sendDone; err != nil {
		t.Fatal(err)
	}
}
