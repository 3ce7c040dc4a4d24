package phx

import (
	"encoding/hex"
	"testing"
)

func benchEncode(b *testing.B, vsn string, frame string) {
	s, _ := SerializerFor(vsn)
	m, err := mustSerializer(b, Vsn2).Decode([]byte(frame), false)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := s.Encode(m); err != nil {
			b.Fatal(err)
		}
	}
}

func benchDecode(b *testing.B, s Serializer, data []byte, binary bool) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Decode(data, binary); err != nil {
			b.Fatal(err)
		}
	}
}

// capturedV2[7] is the rooms UPDATE postgres_changes frame (~500 bytes),
// capturedV2[6] a presence_diff, capturedV2[11] a heartbeat.

func BenchmarkEncodeV2Changes(b *testing.B)   { benchEncode(b, Vsn2, capturedV2[7]) }
func BenchmarkEncodeV2Heartbeat(b *testing.B) { benchEncode(b, Vsn2, capturedV2[11]) }
func BenchmarkEncodeV2Broadcast(b *testing.B) { benchEncode(b, Vsn2, capturedV2[len(capturedV2)-1]) }
func BenchmarkEncodeV1Changes(b *testing.B)   { benchEncode(b, Vsn1, capturedV2[7]) }

func BenchmarkDecodeV2Changes(b *testing.B) {
	benchDecode(b, mustSerializer(b, Vsn2), []byte(capturedV2[7]), false)
}

func BenchmarkDecodeV2Heartbeat(b *testing.B) {
	benchDecode(b, mustSerializer(b, Vsn2), []byte(capturedV2[11]), false)
}

func BenchmarkDecodeV2Kind3(b *testing.B) {
	data, _ := hex.DecodeString(capturedKind3)
	benchDecode(b, mustSerializer(b, Vsn2), data, true)
}

func BenchmarkDecodeV1Join(b *testing.B) {
	benchDecode(b, mustSerializer(b, Vsn1), []byte(capturedV1[0]), false)
}

func BenchmarkFilterMatchEq(b *testing.B) {
	f, _ := ParseFilter("room_id=eq.abc123def4")
	row := map[string]any{"room_id": "abc123def4", "position_ms": float64(4200)}
	b.ReportAllocs()
	for b.Loop() {
		if !f.Match(row) {
			b.Fatal("no match")
		}
	}
}

func BenchmarkRegistryTrack(b *testing.B) {
	r := NewRegistry()
	p1 := map[string]any{"user_id": "u-1", "name": "Alice", "state": "playing"}
	p2 := map[string]any{"user_id": "u-1", "name": "Alice", "state": "paused"}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p := p1
		if i%2 == 1 {
			p = p2
		}
		i++
		r.Track("t", "u-1", p)
	}
}
