package party

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"regexp"
)

// "Same file?" (docs/design.md §7.10): each member reports a private fingerprint of the media
// they play and its duration; the member list marks who has a file other than the host's, and a
// notice says how it differs. It is a warning, never a block: different encodes of one film play
// together well enough.

// FingerprintChunk is the size of each chunk a fingerprint reads: at the start, the middle and
// the end of the file.
const FingerprintChunk = 64 << 10

// fingerprintPattern is a fingerprint as the servers store it: 128 bits in lower-case hex.
var fingerprintPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

// ValidFingerprint reports whether fp has the shape of a media fingerprint.
func ValidFingerprint(fp string) bool { return fingerprintPattern.MatchString(fp) }

// Fingerprint is the private fingerprint of a media file of size bytes read through r:
// HMAC-SHA256 keyed with the room id over the size and three FingerprintChunk chunks (start,
// middle, end; the whole file when it is smaller than three chunks), cut to 128 bits in hex.
// Keyed with the room id, it tells the server and other rooms nothing they could match against
// another room or a list of known files; it reads 192 KiB whatever the file's size.
func Fingerprint(r io.ReaderAt, size int64, roomID string) (string, error) {
	mac := hmac.New(sha256.New, []byte(roomID))
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(size))
	mac.Write(n[:])
	offsets := []int64{0}
	if size > 3*FingerprintChunk {
		offsets = append(offsets, size/2-FingerprintChunk/2, size-FingerprintChunk)
	}
	buf := make([]byte, FingerprintChunk)
	for _, off := range offsets {
		want := min(int64(FingerprintChunk), size-off)
		if len(offsets) == 1 {
			want = size
			buf = make([]byte, size)
		}
		got, err := r.ReadAt(buf[:want], off)
		if int64(got) < want {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return "", fmt.Errorf("read the media for its fingerprint: %w", err)
		}
		mac.Write(buf[:want])
	}
	return hex.EncodeToString(mac.Sum(nil)[:16]), nil
}

// SameLength is how far apart two durations may be and still be called the same length:
// different encodes of one film differ by a few frames.
const SameLength = 1.0

// MediaDiff compares a member's media with the host's. It reports whether the member's file
// differs (both fingerprints known and not equal) and, when it does, what differs, for the
// member list and the notice: "same length, different file", "3:12 shorter" or "0:05 longer"
// (durations as mpv reports them; "different file" when a duration is unknown).
func MediaDiff(hostFP string, hostDur float64, fp string, dur float64) (differs bool, what string) {
	if hostFP == "" || fp == "" || hostFP == fp {
		return false, ""
	}
	if hostDur <= 0 || dur <= 0 {
		return true, "different file"
	}
	d := dur - hostDur
	switch {
	case math.Abs(d) <= SameLength:
		return true, "same length, different file"
	case d < 0:
		return true, ClockText(-d) + " shorter"
	default:
		return true, ClockText(d) + " longer"
	}
}

// MediaNotice is the notice told when name's copy (yours when self) differs from the host's.
func MediaNotice(name string, self bool, what string) string {
	whose := name + "'s copy"
	if self {
		whose = "your copy"
	}
	switch what {
	case "same length, different file":
		return whose + " is the same length as the host's but a different file (a warning: you still play together)"
	case "different file":
		return whose + " is a different file from the host's (a warning: you still play together)"
	}
	return whose + " is " + what + " than the host's (a warning: you still play together)"
}

// ClockText writes seconds as m:ss or h:mm:ss, rounded to the second.
func ClockText(sec float64) string {
	t := int(sec + 0.5)
	if t >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", t/3600, t/60%60, t%60)
	}
	return fmt.Sprintf("%d:%02d", t/60, t%60)
}
