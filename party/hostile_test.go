package party

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

// These tests play a hostile (or old) server: every value here is one the servers refuse since
// docs/security.md, sent anyway. The client must clamp, never pass it on.

func TestCheckMediaURL(t *testing.T) {
	long := "https://example.com/" + strings.Repeat("a", MaxMediaURLLen)
	bad := []string{
		"",
		"av://lavfi:sine=frequency=440,metadata=mode=print:file=/home/u/.bashrc",
		"lavfi://sine", "edl://%10%/etc/passwd,0,1", "file:///etc/passwd", "/home/u/movie.mkv",
		"movie.mkv", "fd://3", "memory://abc", "ytdl://abc", "smb://host/x", "ftp://host/x",
		"HTTP://example.com/x", "http:/example.com/x", "http:///x", "https://",
		"http://example.com/a b", "http://example.com/a\tb", "http://example.com/a\nb",
		"http://example.com/\x1b[31m", "http://example.com/\u202eevil", "http://example.com/\x7f",
		"http://example.com/\u0085", "http://example.com/\xff", long,
		" https://example.com/x", "https://example.com/x ",
	}
	for _, s := range bad {
		err := CheckMediaURL(s)
		if err == nil {
			t.Errorf("CheckMediaURL(%q) = nil, want an error", s)
			continue
		}
		if !errors.Is(err, ErrMediaURL) {
			t.Errorf("CheckMediaURL(%q) = %v, not ErrMediaURL", s, err)
		}
	}
	good := []string{
		"http://example.com/film.mp4", "https://example.com:8443/a/b.mkv?x=1&y=%20#t=3",
		"https://[2001:db8::1]/v.webm", "http://192.168.1.20:8000/film.mp4",
		"https://example.com/" + strings.Repeat("a", MaxMediaURLLen-len("https://example.com/")),
		"https://exämple.com/fïlm.mp4",
	}
	for _, s := range good {
		if err := CheckMediaURL(s); err != nil {
			t.Errorf("CheckMediaURL(%q) = %v, want nil", s, err)
		}
	}
}

func TestMediaURLHost(t *testing.T) {
	for _, tt := range []struct {
		url, host string
		local     bool
	}{
		{"https://example.com/x", "example.com", false},
		{"http://127.0.0.1:8080/x", "127.0.0.1", true},
		{"http://localhost/x", "localhost", true},
		{"http://192.168.1.1/admin", "192.168.1.1", true},
		{"http://10.0.0.2/x", "10.0.0.2", true},
		{"http://169.254.169.254/latest", "169.254.169.254", true},
		{"http://[::1]/x", "::1", true},
		{"http://8.8.8.8/x", "8.8.8.8", false},
	} {
		host, local := MediaURLHost(tt.url)
		if host != tt.host || local != tt.local {
			t.Errorf("MediaURLHost(%q) = %q, %v; want %q, %v", tt.url, host, local, tt.host, tt.local)
		}
	}
}

func TestAbsurdRoomStateIsClamped(t *testing.T) {
	row := map[string]any{
		"room_id": "abc123def4", "is_playing": true, "current_time": 1e308, "playback_rate": 100.0,
		"updated_at": "2024-05-01T12:00:00.123+00:00", "state_version": 3.0,
	}
	st, err := ParseRoomRow(row)
	if err != nil {
		t.Fatal(err)
	}
	if st.CurrentTime != MaxPosition || st.Rate() != MaxRate {
		t.Fatalf("current_time %v rate %v, want %v and %v", st.CurrentTime, st.Rate(), float64(MaxPosition), float64(MaxRate))
	}
	// A year later the room would be far past any video: still within bounds, and the drift
	// in milliseconds stays an ordinary int64.
	pos := st.ExpectedPosition(t0.Add(365 * 24 * time.Hour))
	if pos != MaxPosition {
		t.Fatalf("expected position %v, want %v", pos, float64(MaxPosition))
	}
	in := CorrectionInput{Position: 0, Expected: pos, RoomPlaying: true, RoomRate: st.Rate(), RoomKnown: true, Speed: 1}
	ind := Indicate(in, Decide(in))
	if ind.DriftMS != -MaxPosition*1000 {
		t.Fatalf("drift %d ms, want %d", ind.DriftMS, -MaxPosition*1000)
	}

	// A known duration bounds the position; a tiny or huge rate is brought into range; a
	// duration beyond a week is cut to a week.
	row["media_duration"], row["current_time"], row["playback_rate"] = 90.0, 1e9, 1e-9
	if st, err = ParseRoomRow(row); err != nil {
		t.Fatal(err)
	}
	if st.CurrentTime != 90 || st.Rate() != MinRate {
		t.Fatalf("with a duration: current_time %v rate %v", st.CurrentTime, st.Rate())
	}
	row["media_duration"] = 1e300
	if st, err = ParseRoomRow(row); err != nil || st.MediaDuration != MaxPosition {
		t.Fatalf("duration %v (%v), want %v", st.MediaDuration, err, float64(MaxPosition))
	}
	// A state built without ParseRoomRow is clamped too.
	if r := (RoomState{PlaybackRate: 1e6}).Rate(); r != MaxRate {
		t.Fatalf("Rate() = %v", r)
	}
	if p := (RoomState{CurrentTime: math.MaxFloat64, UpdatedAt: t0}).ExpectedPosition(t0); p != MaxPosition {
		t.Fatalf("ExpectedPosition = %v", p)
	}

	m, err := ParseMemberRow(map[string]any{"user_id": "u1", "current_time": 1e308})
	if err != nil || m.CurrentTime != MaxPosition {
		t.Fatalf("member current_time %v (%v), want %v", m.CurrentTime, err, float64(MaxPosition))
	}
}

func TestMemberLeftAt(t *testing.T) {
	m, err := ParseMemberRow(map[string]any{"room_id": "r1", "user_id": "u1", "left_at": "2024-05-01T12:00:00+00:00"})
	if err != nil || !m.Left() || m.RoomID != "r1" {
		t.Fatalf("left row: %+v, %v", m, err)
	}
	m, err = ParseMemberRow(map[string]any{"user_id": "u1", "left_at": nil})
	if err != nil || m.Left() {
		t.Fatalf("current row: %+v, %v", m, err)
	}
	if _, err := ParseMemberRow(map[string]any{"user_id": "u1", "left_at": 5.0}); err == nil {
		t.Fatal("a numeric left_at was accepted")
	}
}
