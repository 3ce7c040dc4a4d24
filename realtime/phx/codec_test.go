package phx

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func mustSerializer(t testing.TB, vsn string) Serializer {
	t.Helper()
	s, err := SerializerFor(vsn)
	if err != nil {
		t.Fatalf("SerializerFor(%q): %v", vsn, err)
	}
	return s
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSerializerFor(t *testing.T) {
	for _, tc := range []struct {
		vsn, want string
	}{
		{"", Vsn1}, {"1.0.0", Vsn1}, {"1.2.3", Vsn1}, {"2.0.0", Vsn2}, {"2.1.0", Vsn2},
		{"3.0.0", ""}, {"2", ""}, {"2.0", ""}, {"v2.0.0", ""}, {"2.0.x", ""}, {"2..0", ""}, {"1.0.0 ", ""},
	} {
		s, err := SerializerFor(tc.vsn)
		if tc.want == "" {
			if err == nil {
				t.Errorf("SerializerFor(%q) = %s, want error", tc.vsn, s.Version())
			}
			continue
		}
		if err != nil || s.Version() != tc.want {
			t.Errorf("SerializerFor(%q) = %v, %v; want %s", tc.vsn, s, err, tc.want)
		}
	}
}

// Every captured text frame decodes and encodes back to the same bytes.
func TestV2CapturedRoundTrip(t *testing.T) {
	s := mustSerializer(t, Vsn2)
	for _, frame := range capturedV2 {
		m, err := s.Decode([]byte(frame), false)
		if err != nil {
			t.Fatalf("decode %s: %v", frame, err)
		}
		out, bin, err := s.Encode(m)
		if err != nil {
			t.Fatalf("encode %s: %v", frame, err)
		}
		if m.Event == EventBroadcast {
			// A server broadcast goes out binary (kind 4), as the captured hex.
			if !bin || hex.EncodeToString(out) != capturedKind4 {
				t.Errorf("broadcast encoded as binary=%v %x, want kind 4 %s", bin, out, capturedKind4)
			}
			continue
		}
		if bin || string(out) != frame {
			t.Errorf("round trip changed the frame:\n got %s (binary=%v)\nwant %s", out, bin, frame)
		}
	}
}

func TestV2DecodeFields(t *testing.T) {
	s := mustSerializer(t, Vsn2)
	m, err := s.Decode([]byte(capturedV2[2]), false)
	if err != nil {
		t.Fatal(err)
	}
	if m.JoinRef != "6" || m.Ref != "" || m.Topic != "realtime:room:r1" || m.Event != EventPresenceState {
		t.Errorf("decoded %+v", m)
	}
	var st State
	if err := json.Unmarshal(m.Payload, &st); err != nil {
		t.Fatal(err)
	}
	if got := st["other-user"].Metas[0]["phx_ref"]; got != "F_other_1" {
		t.Errorf("phx_ref = %v", got)
	}
}

// The server ignores array elements after the fifth.
func TestV2DecodeExtraElements(t *testing.T) {
	s := mustSerializer(t, Vsn2)
	m, err := s.Decode([]byte(`[null,"9","phoenix","heartbeat",{},"extra",[1]]`), false)
	if err != nil {
		t.Fatal(err)
	}
	if m.Ref != "9" || m.Event != EventHeartbeat || string(m.Payload) != "{}" {
		t.Errorf("decoded %+v", m)
	}
}

func TestV2DecodeKind3(t *testing.T) {
	s := mustSerializer(t, Vsn2)
	frame := mustHex(t, capturedKind3)
	m, err := s.Decode(frame, true)
	if err != nil {
		t.Fatal(err)
	}
	want := Message{JoinRef: "6", Ref: "7", Topic: "realtime:room:r1", Event: EventBroadcast,
		Payload: json.RawMessage(`{"type":"broadcast","event":"ping","payload":{"x":1}}`)}
	if !messagesEqual(m, want) {
		t.Errorf("decoded %+v\nwant %+v", m, want)
	}
	// A client broadcast push encodes back to the same kind-3 bytes.
	out, bin, err := s.Encode(m)
	if err != nil || !bin || !bytes.Equal(out, frame) {
		t.Errorf("encode = %x binary=%v err=%v; want %s", out, bin, err, capturedKind3)
	}
}

func TestV2DecodeKind4(t *testing.T) {
	s := mustSerializer(t, Vsn2)
	frame := mustHex(t, capturedKind4)
	m, err := s.Decode(frame, true)
	if err != nil {
		t.Fatal(err)
	}
	want := Message{Topic: "realtime:room:r1", Event: EventBroadcast,
		Payload: json.RawMessage(`{"type":"broadcast","event":"ping","payload":{"x":1}}`)}
	if !messagesEqual(m, want) {
		t.Errorf("decoded %+v\nwant %+v", m, want)
	}
	out, bin, err := s.Encode(m)
	if err != nil || !bin || !bytes.Equal(out, frame) {
		t.Errorf("encode = %x binary=%v err=%v", out, bin, err)
	}
}

func TestV2BinaryPayloadBroadcast(t *testing.T) {
	s := mustSerializer(t, Vsn2)
	raw := []byte{0, 1, 2, 0xff}
	for _, tc := range []struct {
		name string
		m    Message
		kind byte
	}{
		{"server push kind 4", Message{Topic: "realtime:t", Event: EventBroadcast, Payload: json.RawMessage(`{"type":"broadcast","event":"blob","meta":{"id":"a"}}`), BinaryPayload: raw}, 4},
		{"client push kind 3", Message{JoinRef: "1", Ref: "2", Topic: "realtime:t", Event: EventBroadcast, Payload: json.RawMessage(`{"type":"broadcast","event":"blob"}`), BinaryPayload: raw}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, bin, err := s.Encode(tc.m)
			if err != nil || !bin || out[0] != tc.kind {
				t.Fatalf("encode = %x binary=%v err=%v", out, bin, err)
			}
			got, err := s.Decode(out, true)
			if err != nil {
				t.Fatal(err)
			}
			if !messagesEqual(got, tc.m) {
				t.Errorf("round trip %+v\nwant %+v", got, tc.m)
			}
		})
	}
}

func TestV2EncodeBroadcastFallsBackToText(t *testing.T) {
	s := mustSerializer(t, Vsn2)
	long := strings.Repeat("e", 256)
	for _, tc := range []struct {
		name string
		m    Message
	}{
		{"extra key", Message{Topic: "realtime:t", Event: EventBroadcast, Payload: json.RawMessage(`{"type":"broadcast","event":"e","payload":{},"x":1}`)}},
		{"no payload key", Message{Topic: "realtime:t", Event: EventBroadcast, Payload: json.RawMessage(`{"type":"broadcast","event":"e"}`)}},
		{"event over 255 bytes", Message{Topic: "realtime:t", Event: EventBroadcast, Payload: json.RawMessage(`{"type":"broadcast","event":"` + long + `","payload":{}}`)}},
		{"topic over 255 bytes", Message{Topic: long, Event: EventBroadcast, Payload: json.RawMessage(`{"type":"broadcast","event":"e","payload":{}}`)}},
		{"wrong type", Message{Topic: "realtime:t", Event: EventBroadcast, Payload: json.RawMessage(`{"type":"presence","event":"e","payload":{}}`)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, bin, err := s.Encode(tc.m)
			if err != nil || bin {
				t.Fatalf("encode = %s binary=%v err=%v; want text", out, bin, err)
			}
			got, err := s.Decode(out, false)
			if err != nil || !messagesEqual(got, tc.m) {
				t.Errorf("round trip %+v, %v", got, err)
			}
		})
	}
}

func TestEncodeErrors(t *testing.T) {
	long := strings.Repeat("t", 256)
	for _, tc := range []struct {
		name, vsn string
		m         Message
		want      string
	}{
		{"payload array", Vsn2, Message{Topic: "t", Event: "e", Payload: json.RawMessage(`[1]`)}, "payload is not a json object"},
		{"payload invalid", Vsn2, Message{Topic: "t", Event: "e", Payload: json.RawMessage(`{"a":}`)}, "payload is not a json object"},
		{"payload invalid v1", Vsn1, Message{Topic: "t", Event: "e", Payload: json.RawMessage(`nul`)}, "payload is not a json object"},
		{"binary on v1", Vsn1, Message{Topic: "t", Event: EventBroadcast, Payload: json.RawMessage(`{"type":"broadcast","event":"e"}`), BinaryPayload: []byte{1}}, "need protocol version 2"},
		{"binary not broadcast", Vsn2, Message{Topic: "t", Event: "x", BinaryPayload: []byte{1}}, "only allowed on broadcast"},
		{"binary topic too long", Vsn2, Message{Topic: long, Event: EventBroadcast, Payload: json.RawMessage(`{"type":"broadcast","event":"e"}`), BinaryPayload: []byte{1}}, "topic is 256 bytes"},
		{"binary ref too long", Vsn2, Message{JoinRef: long, Ref: "1", Topic: "t", Event: EventBroadcast, Payload: json.RawMessage(`{"type":"broadcast","event":"e"}`), BinaryPayload: []byte{1}}, "join_ref is 256 bytes"},
		{"binary and json payload", Vsn2, Message{Topic: "t", Event: EventBroadcast, Payload: json.RawMessage(`{"type":"broadcast","event":"e","payload":1}`), BinaryPayload: []byte{1}}, "both a json and a binary payload"},
		{"binary bad shape", Vsn2, Message{Topic: "t", Event: EventBroadcast, Payload: json.RawMessage(`{"event":"e"}`), BinaryPayload: []byte{1}}, "has no type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := mustSerializer(t, tc.vsn).Encode(tc.m)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestEncodeEmptyPayloadAndEscapes(t *testing.T) {
	s := mustSerializer(t, Vsn2)
	out, _, err := s.Encode(Message{Ref: "1", Topic: "a\"b\\c\n<&>\u2028\x01", Event: EventHeartbeat})
	if err != nil {
		t.Fatal(err)
	}
	want := `[null,"1","a\"b\\c\n<&>\u2028\u0001","heartbeat",{}]`
	if string(out) != want {
		t.Errorf("got  %s\nwant %s", out, want)
	}
	m, err := s.Decode(out, false)
	if err != nil || m.Topic != "a\"b\\c\n<&>\u2028\x01" {
		t.Errorf("decode back: %+v, %v", m, err)
	}
	// Invalid UTF-8 becomes U+FFFD, as encoding/json does, so the frame stays valid JSON.
	out, _, err = s.Encode(Message{Topic: "a\xffb", Event: "e"})
	if err != nil || !json.Valid(out) || !strings.Contains(string(out), `"a\ufffdb"`) {
		t.Errorf("invalid utf-8: %s, %v", out, err)
	}
}

func TestV1CapturedRoundTrip(t *testing.T) {
	s := mustSerializer(t, Vsn1)
	for _, frame := range capturedV1 {
		m, err := s.Decode([]byte(frame), false)
		if err != nil {
			t.Fatalf("decode %s: %v", frame, err)
		}
		out, bin, err := s.Encode(m)
		if err != nil || bin || string(out) != frame {
			t.Errorf("round trip:\n got %s (binary=%v, err=%v)\nwant %s", out, bin, err, frame)
		}
	}
}

// The same messages survive both versions: decode v2 text, encode v1,
// decode v1, and the message is unchanged.
func TestV1V2SameMessages(t *testing.T) {
	v1, v2 := mustSerializer(t, Vsn1), mustSerializer(t, Vsn2)
	for _, frame := range capturedV2 {
		m, err := v2.Decode([]byte(frame), false)
		if err != nil {
			t.Fatal(err)
		}
		out, bin, err := v1.Encode(m)
		if err != nil || bin {
			t.Fatalf("v1 encode %s: binary=%v err=%v", frame, bin, err)
		}
		back, err := v1.Decode(out, false)
		if err != nil || !messagesEqual(back, m) {
			t.Errorf("v1 round trip of %s: %+v, %v", frame, back, err)
		}
	}
}

func TestV1DecodeOptionalJoinRef(t *testing.T) {
	s := mustSerializer(t, Vsn1)
	m, err := s.Decode([]byte(`{"topic":"phoenix","event":"heartbeat","payload":{},"ref":"3"}`), false)
	if err != nil || m.JoinRef != "" || m.Ref != "3" {
		t.Errorf("decoded %+v, %v", m, err)
	}
}

func TestDecodeErrors(t *testing.T) {
	long := strings.Repeat("x", 300)
	for _, tc := range []struct {
		name, vsn string
		frame     []byte
		binary    bool
		want      string
	}{
		{"v2 bad json", Vsn2, []byte(`[null,"1","t","e",{]`), false, "invalid json"},
		{"v2 empty", Vsn2, []byte(``), false, "invalid json"},
		{"v2 object not array", Vsn2, []byte(`{"topic":"t"}`), false, "expected a json array"},
		{"v2 string not array", Vsn2, []byte(`"x"`), false, "expected a json array"},
		{"v2 four elements", Vsn2, []byte(`[null,"1","t","e"]`), false, "expected 5 elements, got 4"},
		{"v2 zero elements", Vsn2, []byte(`[]`), false, "expected 5 elements, got 0"},
		{"v2 payload array", Vsn2, []byte(`[null,"1","t","e",[]]`), false, "payload is not a json object"},
		{"v2 payload null", Vsn2, []byte(`[null,"1","t","e",null]`), false, "payload is not a json object"},
		{"v2 payload string", Vsn2, []byte(`[null,"1","t","e","{}"]`), false, "payload is not a json object"},
		{"v2 numeric ref", Vsn2, []byte(`[null,1,"t","e",{}]`), false, "ref is not a string or null"},
		{"v2 numeric join_ref", Vsn2, []byte(`[6,"1","t","e",{}]`), false, "join_ref is not a string or null"},
		{"v2 object ref", Vsn2, []byte(`[null,{},"t","e",{}]`), false, "ref is not a string or null"},
		{"v2 null topic", Vsn2, []byte(`[null,"1",null,"e",{}]`), false, "topic is not a string"},
		{"v2 numeric event", Vsn2, []byte(`[null,"1","t",3,{}]`), false, "event is not a string"},
		{"v2 trailing garbage", Vsn2, []byte(`[null,"1","t","e",{}] x`), false, "invalid json"},
		{"empty binary", Vsn2, []byte{}, true, "empty binary frame"},
		{"kind 0", Vsn2, []byte{0, 0, 0, 0}, true, "unsupported binary kind 0"},
		{"kind 1", Vsn2, []byte{1}, true, "unsupported binary kind 1"},
		{"kind 2", Vsn2, []byte{2}, true, "unsupported binary kind 2"},
		{"kind 9", Vsn2, []byte{9, 1, 2}, true, "unknown binary kind 9"},
		{"kind 3 short header", Vsn2, []byte{3, 1, 1, 1}, true, "kind 3 header is 4 bytes, want 7"},
		{"kind 4 short header", Vsn2, []byte{4, 1}, true, "kind 4 header is 2 bytes, want 5"},
		{"kind 3 truncated fields", Vsn2, []byte{3, 1, 1, 16, 4, 0, 1, '6', '7'}, true, "truncated"},
		{"kind 4 oversized lengths", Vsn2, append([]byte{4, 255, 255, 255, 1}, long...), true, "truncated"},
		{"kind 4 truncated", Vsn2, mustHex(t, capturedKind4)[:10], true, "truncated"},
		{"kind 4 bad json payload", Vsn2, append([]byte{4, 1, 1, 0, 1, 't', 'e'}, `{"x":`...), true, "not valid json"},
		{"kind 4 empty json payload", Vsn2, []byte{4, 1, 1, 0, 1, 't', 'e'}, true, "not valid json"},
		{"kind 3 bad json payload", Vsn2, append([]byte{3, 0, 0, 1, 1, 0, 1, 't', 'e'}, `nope`...), true, "not valid json"},
		{"kind 4 bad encoding", Vsn2, []byte{4, 1, 1, 0, 7, 't', 'e', '1'}, true, "unknown binary payload encoding 7"},
		{"kind 4 bad meta", Vsn2, append([]byte{4, 1, 1, 3, 1, 't', 'e'}, `[1]1`...), true, "metadata is not a json object"},
		{"kind 4 topic not utf-8", Vsn2, []byte{4, 1, 1, 0, 1, 0xff, 'e', '1'}, true, "not utf-8"},
		{"v1 binary", Vsn1, []byte{4}, true, "binary frames need protocol version 2"},
		{"v1 bad json", Vsn1, []byte(`{"topic":`), false, "invalid json"},
		{"v1 array", Vsn1, []byte(`[null,"1","t","e",{}]`), false, "expected a json object"},
		{"v1 missing ref", Vsn1, []byte(`{"topic":"t","event":"e","payload":{}}`), false, `missing key "ref"`},
		{"v1 missing payload", Vsn1, []byte(`{"topic":"t","event":"e","ref":null}`), false, `missing key "payload"`},
		{"v1 payload list", Vsn1, []byte(`{"topic":"t","event":"e","payload":[],"ref":null}`), false, "payload is not a json object"},
		{"v1 ref number", Vsn1, []byte(`{"topic":"t","event":"e","payload":{},"ref":5}`), false, "ref is not a string or null"},
		{"v1 join_ref bool", Vsn1, []byte(`{"topic":"t","event":"e","payload":{},"ref":"5","join_ref":true}`), false, "join_ref is not a string or null"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := mustSerializer(t, tc.vsn).Decode(tc.frame, tc.binary)
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("Decode = %+v, %v; want *DecodeError", m, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %q, want it to contain %q", err, tc.want)
			}
			if msg := err.Error(); msg != strings.ToLower(msg[:1])+msg[1:] || strings.Contains(msg, "\n") {
				t.Errorf("error %q is not a lower-case one-liner", msg)
			}
		})
	}
}

func TestKind3Meta(t *testing.T) {
	s := mustSerializer(t, Vsn2)
	meta := `{"persist":true}`
	frame := []byte{3, 1, 1, 1, 1, byte(len(meta)), 1, '1', '2', 't', 'e'}
	frame = append(frame, meta...)
	frame = append(frame, `[1,2]`...)
	m, err := s.Decode(frame, true)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"type":"broadcast","event":"e","payload":[1,2],"meta":{"persist":true}}`
	if string(m.Payload) != want {
		t.Errorf("payload %s\nwant    %s", m.Payload, want)
	}
	out, bin, err := s.Encode(m)
	if err != nil || !bin || !bytes.Equal(out, frame) {
		t.Errorf("re-encode %x, %v, %v\nwant      %x", out, bin, err, frame)
	}
}

// messagesEqual compares messages, payloads as JSON values.
func messagesEqual(a, b Message) bool {
	if a.JoinRef != b.JoinRef || a.Ref != b.Ref || a.Topic != b.Topic || a.Event != b.Event {
		return false
	}
	if !bytes.Equal(a.BinaryPayload, b.BinaryPayload) || (a.BinaryPayload == nil) != (b.BinaryPayload == nil) {
		return false
	}
	return jsonEqual(a.Payload, b.Payload)
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}

// The fast text path and encoding/json agree on every captured frame, and
// frames the fast path declines still decode.
func TestV2FastPathAgrees(t *testing.T) {
	frames := append([]string{}, capturedV2...)
	frames = append(frames,
		` [ null , "1" , "phoenix" , "heartbeat" , { } ] `,
		`[null,"1","t\u00e9","e",{}]`,
		`[null,"1","t","e",{},"extra"]`,
		`[null,"1","t","e",{"a":"]"}]`,
		"[null,\"1\",\"t\xff\",\"e\",{}]",
	)
	fastCount := 0
	for _, f := range frames {
		slow, err := decodeV2Slow([]byte(f))
		if err != nil {
			t.Fatalf("slow %s: %v", f, err)
		}
		if fast, ok := decodeV2Fast([]byte(f)); ok {
			fastCount++
			if !messagesEqual(fast, slow) || string(fast.Payload) != string(slow.Payload) {
				t.Errorf("%s: fast %+v slow %+v", f, fast, slow)
			}
		}
	}
	if fastCount != len(capturedV2)+2 {
		t.Errorf("fast path took %d frames, want %d", fastCount, len(capturedV2)+2)
	}
	// The decoded message does not alias the input buffer.
	buf := []byte(capturedV2[5])
	m, err := mustSerializer(t, Vsn2).Decode(buf, false)
	if err != nil {
		t.Fatal(err)
	}
	for i := range buf {
		buf[i] = 'x'
	}
	if string(m.Payload) != `{"status":"ok","response":{}}` {
		t.Errorf("payload aliases the input: %s", m.Payload)
	}
}
