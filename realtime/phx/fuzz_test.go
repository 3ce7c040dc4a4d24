package phx

import (
	"encoding/hex"
	"testing"
)

// checkRoundTrip re-encodes a decoded message and decodes it again: the
// message must survive unchanged.
func checkRoundTrip(t *testing.T, s Serializer, m Message) {
	t.Helper()
	out, bin, err := s.Encode(m)
	if err != nil {
		t.Fatalf("decoded %+v but cannot encode it: %v", m, err)
	}
	back, err := s.Decode(out, bin)
	if err != nil {
		t.Fatalf("cannot decode own frame %q (binary=%v): %v", out, bin, err)
	}
	if !messagesEqual(back, m) {
		t.Fatalf("round trip changed the message:\n was %+v\n now %+v", m, back)
	}
}

func FuzzDecodeV2Text(f *testing.F) {
	for _, frame := range capturedV2[:4] {
		f.Add([]byte(frame))
	}
	f.Add([]byte(capturedV2[len(capturedV2)-1]))
	f.Add([]byte(`[null,null,"t","broadcast",{"type":"broadcast","event":"e","payload":[1],"meta":{}}]`))
	f.Add([]byte(`[null,"1","t","e",{},1]`))
	s, _ := SerializerFor(Vsn2)
	f.Fuzz(func(t *testing.T, data []byte) {
		if fast, ok := decodeV2Fast(data); ok {
			slow, err := decodeV2Slow(data)
			if err != nil || !messagesEqual(fast, slow) || string(fast.Payload) != string(slow.Payload) {
				t.Fatalf("fast path %+v, slow path %+v, %v", fast, slow, err)
			}
		}
		m, err := s.Decode(data, false)
		if err != nil {
			if _, ok := err.(*DecodeError); !ok {
				t.Fatalf("error %T %v is not a *DecodeError", err, err)
			}
			return
		}
		checkRoundTrip(t, s, m)
	})
}

func FuzzDecodeV2Binary(f *testing.F) {
	for _, h := range []string{capturedKind3, capturedKind4} {
		b, _ := hex.DecodeString(h)
		f.Add(b)
	}
	f.Add([]byte{4, 1, 1, 7, 0, 't', 'e', '{', '"', 'a', '"', ':', '1', '}', 0xff, 0})
	f.Add([]byte{3, 0, 0, 0, 0, 0, 0})
	s, _ := SerializerFor(Vsn2)
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := s.Decode(data, true)
		if err != nil {
			if _, ok := err.(*DecodeError); !ok {
				t.Fatalf("error %T %v is not a *DecodeError", err, err)
			}
			return
		}
		checkRoundTrip(t, s, m)
	})
}

func FuzzDecodeV1(f *testing.F) {
	for _, frame := range capturedV1 {
		f.Add([]byte(frame))
	}
	f.Add([]byte(`{"topic":"phoenix","event":"heartbeat","payload":{},"ref":null}`))
	s, _ := SerializerFor(Vsn1)
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := s.Decode(data, false)
		if err != nil {
			if _, ok := err.(*DecodeError); !ok {
				t.Fatalf("error %T %v is not a *DecodeError", err, err)
			}
			return
		}
		checkRoundTrip(t, s, m)
	})
}

func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{"room_id=eq.r1", `name=in.("a,b",c)`, "id=not.gt.1e3,id=lt.5", "t=ilike.*x_%", "x=is.null", "a=match.^b+$"} {
		f.Add(s)
	}
	row := map[string]any{"room_id": "r1", "id": float64(7), "name": "a,b", "t": "xyz", "x": nil, "a": true}
	f.Fuzz(func(t *testing.T, s string) {
		flt, err := ParseFilter(s)
		if err != nil {
			if _, ok := err.(*FilterError); !ok {
				t.Fatalf("error %T %v is not a *FilterError", err, err)
			}
			return
		}
		flt.Match(row)
		flt.Match(nil)
	})
}
