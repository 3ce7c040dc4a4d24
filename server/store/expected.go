package store

import "time"

// expectedAt is the room's position at t: current_time plus the time played since updated_at.
// (party.RoomState has the client's version; the server needs only this when it rewrites
// current_time on a host hand-over.)
func expectedAt(r Room, t time.Time) float64 {
	pos := r.CurrentTime
	if r.IsPlaying {
		if at, err := time.Parse(TimeFormat, r.UpdatedAt); err == nil && t.After(at) {
			pos += t.Sub(at).Seconds() * r.PlaybackRate
		}
	}
	if r.MediaDuration != nil && *r.MediaDuration > 0 && pos > *r.MediaDuration {
		pos = *r.MediaDuration
	}
	return pos
}
