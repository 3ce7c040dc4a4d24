package party

import "math"

// RepublishThreshold: a host whose own player is more than this many seconds
// off the room's published state republishes it (docs/design.md §7.6).
const RepublishThreshold = 0.5

// ShouldRepublish reports whether the host should republish its position
// (sync/control with action "sync"): its own player at ownPos is more than
// RepublishThreshold off publishedExpected, the room's expected position for
// the state the host last published. That happens when the host's mpv
// buffers or stalls while the published state keeps running. Not while a
// host seek is in flight: the position then is neither the old nor the new
// one. Invalid positions never trigger a republish.
func ShouldRepublish(ownPos, publishedExpected float64, seekInFlight bool) bool {
	if seekInFlight || !finite(ownPos) || !finite(publishedExpected) {
		return false
	}
	return math.Abs(ownPos-publishedExpected) > RepublishThreshold
}
