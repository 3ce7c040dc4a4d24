package party

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2024, 5, 1, 12, 0, 0, 123e6, time.UTC)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestExpectedPosition(t *testing.T) {
	tests := []struct {
		name  string
		state RoomState
		at    time.Duration // serverNow − UpdatedAt
		want  float64
	}{
		{"paused stays", RoomState{CurrentTime: 42, PlaybackRate: 1}, 10 * time.Second, 42},
		{"playing rate 1", RoomState{IsPlaying: true, CurrentTime: 42, PlaybackRate: 1}, 10 * time.Second, 52},
		{"playing rate 0.5", RoomState{IsPlaying: true, CurrentTime: 42, PlaybackRate: 0.5}, 10 * time.Second, 47},
		{"playing rate 1.5", RoomState{IsPlaying: true, CurrentTime: 42, PlaybackRate: 1.5}, 10 * time.Second, 57},
		{"playing rate 2", RoomState{IsPlaying: true, CurrentTime: 42, PlaybackRate: 2}, 10 * time.Second, 62},
		{"rate 0 reads as 1", RoomState{IsPlaying: true, CurrentTime: 42}, 10 * time.Second, 52},
		{"milliseconds count", RoomState{IsPlaying: true, CurrentTime: 1, PlaybackRate: 1}, 250 * time.Millisecond, 1.25},
		{"clamped to duration", RoomState{IsPlaying: true, CurrentTime: 95, PlaybackRate: 1, MediaDuration: 100}, 10 * time.Second, 100},
		{"clamped to duration at rate 2", RoomState{IsPlaying: true, CurrentTime: 95, PlaybackRate: 2, MediaDuration: 100}, 3 * time.Second, 100},
		{"just before the end", RoomState{IsPlaying: true, CurrentTime: 95, PlaybackRate: 1, MediaDuration: 100}, 4 * time.Second, 99},
		{"unknown duration: no clamp", RoomState{IsPlaying: true, CurrentTime: 95, PlaybackRate: 1}, 10 * time.Second, 105},
		{"paused past duration clamped", RoomState{CurrentTime: 120, MediaDuration: 100}, 0, 100},
		{"stamped in the future: no rewind", RoomState{IsPlaying: true, CurrentTime: 42, PlaybackRate: 1}, -30 * time.Millisecond, 42},
		{"negative current_time clamped to 0", RoomState{CurrentTime: -3}, 0, 0},
		{"at zero playing", RoomState{IsPlaying: true, PlaybackRate: 1}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.state.UpdatedAt = t0
			got := tt.state.ExpectedPosition(t0.Add(tt.at))
			if !near(got, tt.want, 1e-9) {
				t.Fatalf("ExpectedPosition = %v, want %v", got, tt.want)
			}
		})
	}
}

// The expected position must come out the same on a client whose clock is
// off by ±5 s once ClockOffset has corrected it.
func TestExpectedPositionWithClockOffset(t *testing.T) {
	for _, skew := range []time.Duration{-5 * time.Second, 5 * time.Second, 0, 1234 * time.Millisecond} {
		for _, rate := range []float64{0.5, 1, 1.5, 2} {
			state := RoomState{IsPlaying: true, CurrentTime: 30, PlaybackRate: rate, UpdatedAt: t0}
			serverAtReply := t0.Add(4 * time.Second)
			// Local clock = server clock − skew. A 40 ms round trip,
			// symmetric.
			sent := serverAtReply.Add(-skew - 20*time.Millisecond)
			received := serverAtReply.Add(-skew + 20*time.Millisecond)
			var c ClockOffset
			if err := c.AddSample(sent, received, serverAtReply); err != nil {
				t.Fatal(err)
			}
			localNow := received.Add(6 * time.Second)
			got := state.ExpectedPosition(c.ServerNow(localNow))
			want := 30 + (4.02+6)*rate
			if !near(got, want, 1e-6) {
				t.Errorf("skew %v rate %v: expected %v, want %v", skew, rate, got, want)
			}
			// Without the offset the estimate is off by skew × rate.
			naive := state.ExpectedPosition(localNow)
			if skew != 0 && near(naive, want, 0.1) {
				t.Errorf("skew %v: the uncorrected clock should be off", skew)
			}
		}
	}
}

func TestParseRoomRow(t *testing.T) {
	full := `{"room_id":"abc123def4","host_user_id":"u1","media_url":"x.mkv","media_duration":1440.5,
		"is_playing":true,"current_time":12.5,"playback_rate":1.5,"state_version":7,
		"updated_at":"2024-05-01T12:00:00.123+00:00","created_at":"2024-05-01T11:00:00+00:00"}`
	var m map[string]any
	if err := json.Unmarshal([]byte(full), &m); err != nil {
		t.Fatal(err)
	}
	s, err := ParseRoomRow(m)
	if err != nil {
		t.Fatal(err)
	}
	want := RoomState{RoomID: "abc123def4", HostUserID: "u1", IsPlaying: true, CurrentTime: 12.5,
		UpdatedAt: t0, PlaybackRate: 1.5, StateVersion: 7, MediaDuration: 1440.5, MediaURL: "x.mkv"}
	if !s.UpdatedAt.Equal(t0) {
		t.Fatalf("updated_at %v, want %v", s.UpdatedAt, t0)
	}
	s.UpdatedAt = t0
	if s != want {
		t.Fatalf("got %+v, want %+v", s, want)
	}

	// json.Number decoding, as a decoder with UseNumber gives.
	dec := json.NewDecoder(strings.NewReader(full))
	dec.UseNumber()
	var mn map[string]any
	if err := dec.Decode(&mn); err != nil {
		t.Fatal(err)
	}
	sn, err := ParseRoomRow(mn)
	if err != nil {
		t.Fatal(err)
	}
	sn.UpdatedAt = t0
	if sn != want {
		t.Fatalf("json.Number: got %+v, want %+v", sn, want)
	}
}

func TestParseRoomRowDefaultsAndErrors(t *testing.T) {
	base := func() map[string]any {
		return map[string]any{"is_playing": false, "current_time": 3.0, "updated_at": "2024-05-01T12:00:00.123Z"}
	}
	s, err := ParseRoomRow(base())
	if err != nil {
		t.Fatal(err)
	}
	if s.PlaybackRate != 1 || s.MediaDuration != 0 || s.StateVersion != 0 || !s.UpdatedAt.Equal(t0) || !s.Known() {
		t.Fatalf("defaults: %+v", s)
	}
	withNulls := base()
	withNulls["playback_rate"], withNulls["media_duration"], withNulls["host_user_id"] = nil, nil, nil
	if s, err := ParseRoomRow(withNulls); err != nil || s.PlaybackRate != 1 || s.MediaDuration != 0 {
		t.Fatalf("nulls: %+v, %v", s, err)
	}
	ints := base()
	ints["current_time"], ints["state_version"], ints["media_duration"] = int64(3), int64(9), 100
	if s, err := ParseRoomRow(ints); err != nil || s.CurrentTime != 3 || s.StateVersion != 9 || s.MediaDuration != 100 {
		t.Fatalf("ints: %+v, %v", s, err)
	}

	tests := []struct {
		name   string
		change func(map[string]any)
		errHas string
	}{
		{"missing current_time", func(m map[string]any) { delete(m, "current_time") }, "room row: missing current_time"},
		{"null current_time", func(m map[string]any) { m["current_time"] = nil }, "missing current_time"},
		{"string current_time", func(m map[string]any) { m["current_time"] = "3" }, "current_time: want a number, got string"},
		{"negative current_time", func(m map[string]any) { m["current_time"] = -1.0 }, "current_time -1 is negative"},
		{"NaN current_time", func(m map[string]any) { m["current_time"] = math.NaN() }, "not finite"},
		{"missing is_playing", func(m map[string]any) { delete(m, "is_playing") }, "missing is_playing"},
		{"string is_playing", func(m map[string]any) { m["is_playing"] = "true" }, "is_playing: want a boolean"},
		{"missing updated_at", func(m map[string]any) { delete(m, "updated_at") }, "missing updated_at"},
		{"bad updated_at", func(m map[string]any) { m["updated_at"] = "yesterday" }, `bad timestamp "yesterday"`},
		{"numeric updated_at", func(m map[string]any) { m["updated_at"] = 1714564800123.0 }, "want a timestamp string"},
		{"zero rate", func(m map[string]any) { m["playback_rate"] = 0.0 }, "playback_rate 0 is not positive"},
		{"bad json.Number", func(m map[string]any) { m["playback_rate"] = json.Number("fast") }, `bad number "fast"`},
		{"fractional version", func(m map[string]any) { m["state_version"] = 1.5 }, "state_version 1.5 is not an integer"},
		{"numeric room id", func(m map[string]any) { m["room_id"] = 5.0 }, "room_id: want a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := base()
			tt.change(m)
			_, err := ParseRoomRow(m)
			if err == nil || !strings.Contains(err.Error(), tt.errHas) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.errHas)
			}
			if first := err.Error()[:1]; first != strings.ToLower(first) {
				t.Fatalf("error not lower-case: %v", err)
			}
		})
	}
}

func TestParseTimestamp(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
	}{
		{"2024-05-01T12:00:00.123+00:00", t0},
		{"2024-05-01T12:00:00.123Z", t0},
		{"2024-05-01T12:00:00.123000Z", t0},
		{"2024-05-01 12:00:00.123+00", t0},
		{"2024-05-01T14:00:00.123+02:00", t0},
		{"2024-05-01T14:00:00.123+0200", t0},
		{"2024-05-01 12:00:00.123", t0},
		{"2024-05-01T12:00:00Z", t0.Truncate(time.Second)},
		{" 2024-05-01T12:00:00.123+00:00 ", t0},
	}
	for _, tt := range tests {
		got, err := ParseTimestamp(tt.in)
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("ParseTimestamp(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "2024-05-01", "12:00:00", "2024-13-01T00:00:00Z", "now"} {
		if _, err := ParseTimestamp(bad); err == nil {
			t.Errorf("ParseTimestamp(%q) accepted", bad)
		}
	}
}

func TestNewer(t *testing.T) {
	a := RoomState{StateVersion: 3, UpdatedAt: t0}
	tests := []struct {
		b    RoomState
		want bool
	}{
		{RoomState{StateVersion: 4, UpdatedAt: t0.Add(-time.Hour)}, true},
		{RoomState{StateVersion: 2, UpdatedAt: t0.Add(time.Hour)}, false},
		{RoomState{StateVersion: 3, UpdatedAt: t0.Add(time.Millisecond)}, true},
		{RoomState{StateVersion: 3, UpdatedAt: t0}, false},
	}
	for i, tt := range tests {
		if got := tt.b.Newer(a); got != tt.want {
			t.Errorf("%d: Newer = %v, want %v", i, got, tt.want)
		}
	}
	if (RoomState{}).Known() {
		t.Error("zero state is known")
	}
}

func TestInput(t *testing.T) {
	s := RoomState{IsPlaying: true, CurrentTime: 10, PlaybackRate: 2, UpdatedAt: t0, MediaDuration: 12}
	in := s.Input(t0.Add(5 * time.Second))
	if in.Expected != 12 || !in.RoomPlaying || in.RoomRate != 2 || !in.RoomKnown {
		t.Fatalf("Input = %+v", in)
	}
	if (RoomState{}).Input(t0).RoomKnown {
		t.Fatal("zero state gives a known input")
	}
}

func nan() float64 { return math.NaN() }
func inf() float64 { return math.Inf(1) }

// Rows built by Go code (the embedded server) rather than decoded JSON carry
// Go numeric types and time.Time.
func TestParseRoomRowGoTypes(t *testing.T) {
	for _, n := range []any{float32(2), int(2), int32(2), int64(2), uint32(2), uint64(2), json.Number("2")} {
		s, err := ParseRoomRow(map[string]any{"is_playing": true, "current_time": n, "updated_at": t0})
		if err != nil || s.CurrentTime != 2 || !s.UpdatedAt.Equal(t0) {
			t.Errorf("%T: %+v, %v", n, s, err)
		}
	}
	if _, err := ParseRoomRow(map[string]any{"is_playing": true, "current_time": 1.0, "updated_at": t0, "host_user_id": 3}); err == nil ||
		!strings.Contains(err.Error(), "host_user_id: want a string") {
		t.Errorf("numeric host id: %v", err)
	}
}
