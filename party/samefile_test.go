package party

import (
	"bytes"
	"testing"
)

func TestFingerprint(t *testing.T) {
	data := make([]byte, 1<<20)
	for i := range data {
		data[i] = byte(i * 7)
	}
	fp := func(b []byte, room string) string {
		t.Helper()
		s, err := Fingerprint(bytes.NewReader(b), int64(len(b)), room)
		if err != nil {
			t.Fatal(err)
		}
		if !ValidFingerprint(s) {
			t.Fatalf("fingerprint %q is not 32 lower-case hex digits", s)
		}
		return s
	}
	base := fp(data, "abcdefghij")
	if again := fp(append([]byte(nil), data...), "abcdefghij"); again != base {
		t.Error("the same bytes gave another fingerprint")
	}
	if fp(data, "klmnopqrst") == base {
		t.Error("another room gave the same fingerprint (it must be keyed with the room id)")
	}
	for _, at := range []int{0, len(data) / 2, len(data) - 1} {
		changed := append([]byte(nil), data...)
		changed[at]++
		if fp(changed, "abcdefghij") == base {
			t.Errorf("a change at byte %d (in a chunk read) left the fingerprint as it was", at)
		}
	}
	outside := append([]byte(nil), data...)
	outside[3*FingerprintChunk/2]++ // between the first and the middle chunk
	if fp(outside, "abcdefghij") != base {
		t.Error("a byte outside the three chunks changed the fingerprint: it reads more than it says")
	}
	if fp(data[:len(data)-1], "abcdefghij") == base {
		t.Error("a file one byte shorter has the same fingerprint (the size is in it)")
	}
	small := data[:1000]
	s1 := fp(small, "abcdefghij")
	small2 := append([]byte(nil), small...)
	small2[500]++
	if fp(small2, "abcdefghij") == s1 {
		t.Error("a small file is not read whole")
	}
	if _, err := Fingerprint(bytes.NewReader(data[:10]), 100, "abcdefghij"); err == nil {
		t.Error("a file shorter than its size gave a fingerprint")
	}
}

func TestMediaDiff(t *testing.T) {
	const a, b = "0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"
	for _, c := range []struct {
		hostFP  string
		hostDur float64
		fp      string
		dur     float64
		differs bool
		what    string
	}{
		{a, 100, a, 100, false, ""},
		{a, 100, "", 100, false, ""}, // not reported: nothing to say
		{"", 100, a, 100, false, ""}, // the host plays a URL
		{a, 100, b, 100.4, true, "same length, different file"},
		{a, 7200, b, 7200 - 192, true, "3:12 shorter"},
		{a, 100, b, 105, true, "0:05 longer"},
		{a, 0, b, 100, true, "different file"},
		{a, 3600, b, 7300, true, "1:01:40 longer"},
	} {
		differs, what := MediaDiff(c.hostFP, c.hostDur, c.fp, c.dur)
		if differs != c.differs || what != c.what {
			t.Errorf("MediaDiff(%.8s %v, %.8s %v) = %v %q, want %v %q", c.hostFP, c.hostDur, c.fp, c.dur, differs, what, c.differs, c.what)
		}
	}
	if got := MediaNotice("Bob", false, "3:12 shorter"); got != "Bob's copy is 3:12 shorter than the host's (a warning: you still play together)" {
		t.Errorf("notice = %q", got)
	}
}

// A member row's media report is advisory: a value of the wrong shape reads as none, and the
// row is still taken.
func TestParseMemberRowMedia(t *testing.T) {
	for _, c := range []struct {
		fp, dur any
		wantFP  string
		wantDur float64
	}{
		{"0123456789abcdef0123456789abcdef", 61.5, "0123456789abcdef0123456789abcdef", 61.5},
		{nil, nil, "", 0},
		{"../../etc/passwd", -1, "", 0},
		{"0123456789ABCDEF0123456789ABCDEF", 1e9, "", 0},
		{12, "60", "", 0},
	} {
		m, err := ParseMemberRow(map[string]any{"user_id": "u", "media_fp": c.fp, "media_duration": c.dur})
		if err != nil {
			t.Fatalf("row with media %v %v refused: %v", c.fp, c.dur, err)
		}
		if m.MediaFP != c.wantFP || m.MediaDuration != c.wantDur {
			t.Errorf("media %v %v read as %q %v, want %q %v", c.fp, c.dur, m.MediaFP, m.MediaDuration, c.wantFP, c.wantDur)
		}
	}
}
