package party

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
)

// Bounds of a room's playback state (docs/security.md). The servers refuse values outside them;
// the client clamps whatever arrives anyway, so a hostile or old server can neither hand mpv an
// absurd position or speed nor overflow the drift maths (positions in ms fit an int64 with a
// wide margin).
const (
	// MaxPosition is the largest media position or duration, in seconds (one week). It also
	// bounds positions when the duration is unknown.
	MaxPosition = 604800
	// MinRate and MaxRate bound a room's playback rate.
	MinRate = 0.25
	MaxRate = 4
)

// ClampRate returns r within [MinRate, MaxRate]; a rate that is not a positive number reads as 1.
func ClampRate(r float64) float64 {
	if !(r > 0) || math.IsInf(r, 0) {
		return 1
	}
	return math.Max(MinRate, math.Min(MaxRate, r))
}

// ClampPosition returns pos within [0, duration], or [0, MaxPosition] when the duration is
// unknown (0); NaN reads as 0.
func ClampPosition(pos, duration float64) float64 {
	limit := float64(MaxPosition)
	if duration > 0 && duration < limit {
		limit = duration
	}
	if !(pos > 0) {
		return 0
	}
	return math.Min(pos, limit)
}

// RoomState is the playback state a room publishes (the rooms row of
// docs/api.md (Rows)): CurrentTime is the media position at UpdatedAt, a server-clock
// instant, and the position moves on from there at PlaybackRate while
// IsPlaying.
type RoomState struct {
	RoomID     string
	HostUserID string
	// IsPlaying is true while the room plays.
	IsPlaying bool
	// CurrentTime is the media position in seconds at UpdatedAt.
	CurrentTime float64
	// UpdatedAt is when CurrentTime was true, on the server's clock.
	UpdatedAt time.Time
	// PlaybackRate is the room's speed; 0 or less reads as 1, and Rate keeps it within
	// [MinRate, MaxRate].
	PlaybackRate float64
	// StateVersion grows with every host action; a newer version replaces
	// an older state, an older one is stale.
	StateVersion int64
	// MediaDuration is the media length in seconds; 0 means unknown.
	MediaDuration float64
	// MediaURL and MediaTitle are the room's media as the server sent them (unsanitised;
	// MediaURL is opened only after CheckMediaURL). Empty when the row does not carry them.
	MediaURL   string
	MediaTitle string
	// Waiting is whom the room waits for while they buffer (empty: no wait); WaitLimit the
	// longest wait (0: the room never waits, also for a server without the column).
	Waiting   WaitList
	WaitLimit time.Duration
	// ReadyMode and StartPending are the ready check's flags (docs/api.md, "The ready check"):
	// anything but a JSON true reads as false.
	ReadyMode    bool
	StartPending bool
	// QueueEntryID is the queue entry the room plays (queue.go); 0 when none.
	QueueEntryID int64
}

// Known reports whether s holds a state read from the room, as opposed to the
// zero value held before the first read. Positions derived from an unknown
// state must never be applied to a player.
func (s RoomState) Known() bool { return !s.UpdatedAt.IsZero() }

// Rate is the room's playback rate, with the default of 1 for a missing or
// invalid rate, within [MinRate, MaxRate].
func (s RoomState) Rate() float64 { return ClampRate(s.PlaybackRate) }

// ExpectedPosition is where the room's media is at serverNow (an instant on
// the server's clock, see ClockOffset.ServerNow):
//
//	current_time + (is_playing ? (serverNow − updated_at) × rate : 0)
//
// clamped to [0, MediaDuration] when the duration is known and to
// [0, MaxPosition] when it is not. A state stamped after serverNow (a
// clock-offset error of a few milliseconds) counts as stamped at serverNow
// rather than moving the position backwards.
func (s RoomState) ExpectedPosition(serverNow time.Time) float64 {
	pos := s.CurrentTime
	if s.IsPlaying {
		if elapsed := serverNow.Sub(s.UpdatedAt).Seconds(); elapsed > 0 {
			pos += elapsed * s.Rate()
		}
	}
	return ClampPosition(pos, s.MediaDuration)
}

// Input returns a CorrectionInput with the room's side filled in for
// serverNow: Expected, RoomPlaying, RoomRate and RoomKnown. The caller adds
// the player's side and the follower's flags before calling Decide.
func (s RoomState) Input(serverNow time.Time) CorrectionInput {
	return CorrectionInput{
		Expected:    s.ExpectedPosition(serverNow),
		RoomPlaying: s.IsPlaying,
		RoomRate:    s.Rate(),
		RoomKnown:   s.Known(),
	}
}

// Newer reports whether s should replace old: a higher StateVersion wins; on
// equal versions the later UpdatedAt wins. Realtime updates and
// get_room_sync_state replies can arrive out of order around a reconnect.
func (s RoomState) Newer(old RoomState) bool {
	if s.StateVersion != old.StateVersion {
		return s.StateVersion > old.StateVersion
	}
	return s.UpdatedAt.After(old.UpdatedAt)
}

// ParseRoomRow reads a rooms row as it arrives in a postgres_changes record,
// an Edge Function reply or get_room_sync_state: keys are the docs/api.md (Rows) column
// names, numbers may be float64, json.Number or Go integers, updated_at is a
// timestamp string (see ParseTimestamp). is_playing, current_time and
// updated_at are required; a missing or null playback_rate reads as 1 and a
// missing or null media_duration as unknown (0). A row that cannot be read
// is an error, never a zero position. Values a sane server never sends are
// clamped, not trusted: media_duration to at most MaxPosition, current_time
// to at most the duration (MaxPosition when unknown), playback_rate to
// [MinRate, MaxRate].
func ParseRoomRow(m map[string]any) (RoomState, error) {
	r := row{what: "room row", m: m}
	var s RoomState
	var err error
	if s.RoomID, err = r.optString("room_id"); err != nil {
		return RoomState{}, err
	}
	if s.HostUserID, err = r.optString("host_user_id"); err != nil {
		return RoomState{}, err
	}
	if s.MediaURL, err = r.optString("media_url"); err != nil {
		return RoomState{}, err
	}
	if v, ok, err := r.optNumber("queue_entry_id"); err == nil && ok && v > 0 && v == math.Trunc(v) {
		s.QueueEntryID = int64(v)
	}
	if s.MediaTitle, err = r.optString("media_title"); err != nil {
		return RoomState{}, err
	}
	if s.IsPlaying, err = r.reqBool("is_playing"); err != nil {
		return RoomState{}, err
	}
	if s.CurrentTime, err = r.reqNumber("current_time"); err != nil {
		return RoomState{}, err
	}
	if s.CurrentTime < 0 {
		return RoomState{}, r.errorf("current_time %v is negative", s.CurrentTime)
	}
	var ok bool
	if s.UpdatedAt, ok, err = r.optTime("updated_at"); err != nil {
		return RoomState{}, err
	} else if !ok {
		return RoomState{}, r.errorf("missing updated_at")
	}
	s.PlaybackRate = 1
	if v, ok, err := r.optNumber("playback_rate"); err != nil {
		return RoomState{}, err
	} else if ok {
		if !(v > 0) {
			return RoomState{}, r.errorf("playback_rate %v is not positive", v)
		}
		s.PlaybackRate = ClampRate(v)
	}
	if v, ok, err := r.optNumber("media_duration"); err != nil {
		return RoomState{}, err
	} else if ok && v > 0 {
		s.MediaDuration = math.Min(v, MaxPosition)
	}
	s.CurrentTime = ClampPosition(s.CurrentTime, s.MediaDuration)
	s.ReadyMode, _ = m["ready_mode"].(bool)
	s.StartPending, _ = m["start_pending"].(bool)
	if v, ok, err := r.optNumber("state_version"); err != nil {
		return RoomState{}, err
	} else if ok {
		if v != math.Trunc(v) || math.Abs(v) > 1<<53 {
			return RoomState{}, r.errorf("state_version %v is not an integer", v)
		}
		s.StateVersion = int64(v)
	}
	if err := parseWait(r, &s); err != nil {
		return RoomState{}, err
	}
	return s, nil
}

// timestampLayouts are the forms a timestamptz takes on the way here:
// PostgREST and Realtime ("2024-05-01T12:00:00.123+00:00"), GoTrue ("…Z"),
// Postgres text output ("2024-05-01 12:00:00.123+00", the space is replaced
// before parsing) and SQLite's CURRENT_TIMESTAMP (no zone: UTC).
var timestampLayouts = []string{
	"2006-01-02T15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05.999999999Z07",
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04:05.999999999",
}

// ParseTimestamp parses a timestamptz string as the backends send it, such
// as "2024-05-01T12:00:00.123+00:00", "2024-05-01T12:00:00.123Z" or
// "2024-05-01 12:00:00.123+00". A timestamp without a zone is taken as UTC.
func ParseTimestamp(s string) (time.Time, error) {
	v := strings.TrimSpace(s)
	if len(v) > 10 && v[10] == ' ' {
		v = v[:10] + "T" + v[11:]
	}
	for _, layout := range timestampLayouts {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("bad timestamp %q", s)
}

func timeValue(v any) (time.Time, error) {
	switch t := v.(type) {
	case string:
		return ParseTimestamp(t)
	case time.Time:
		return t, nil
	default:
		return time.Time{}, fmt.Errorf("want a timestamp string, got %T", v)
	}
}

// number converts the numeric types JSON decoding and database drivers
// produce into a finite float64.
func number(v any) (float64, error) {
	var f float64
	switch n := v.(type) {
	case float64:
		f = n
	case float32:
		f = float64(n)
	case int:
		f = float64(n)
	case int32:
		f = float64(n)
	case int64:
		f = float64(n)
	case uint32:
		f = float64(n)
	case uint64:
		f = float64(n)
	case json.Number:
		var err error
		if f, err = n.Float64(); err != nil {
			return 0, fmt.Errorf("bad number %q", n.String())
		}
	default:
		return 0, fmt.Errorf("want a number, got %T", v)
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("number %v is not finite", f)
	}
	return f, nil
}

// row reads typed columns out of a decoded JSON row; what names the row in
// errors ("room row").
type row struct {
	what string
	m    map[string]any
}

func (r row) errorf(format string, args ...any) error {
	return fmt.Errorf(r.what+": "+format, args...)
}

func (r row) reqNumber(key string) (float64, error) {
	v, ok, err := r.optNumber(key)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, r.errorf("missing %s", key)
	}
	return v, nil
}

// optNumber reads an optional number: ok is false when the key is missing or
// null.
func (r row) optNumber(key string) (float64, bool, error) {
	v, present := r.m[key]
	if !present || v == nil {
		return 0, false, nil
	}
	f, err := number(v)
	if err != nil {
		return 0, false, r.errorf("%s: %w", key, err)
	}
	return f, true, nil
}

func (r row) optString(key string) (string, error) {
	v, present := r.m[key]
	if !present || v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", r.errorf("%s: want a string, got %T", key, v)
	}
	return s, nil
}

func (r row) reqBool(key string) (bool, error) {
	v, present := r.m[key]
	if !present || v == nil {
		return false, r.errorf("missing %s", key)
	}
	b, ok := v.(bool)
	if !ok {
		return false, r.errorf("%s: want a boolean, got %T", key, v)
	}
	return b, nil
}

// optTime reads an optional timestamp: ok is false when the key is missing
// or null.
func (r row) optTime(key string) (time.Time, bool, error) {
	v, present := r.m[key]
	if !present || v == nil {
		return time.Time{}, false, nil
	}
	t, err := timeValue(v)
	if err != nil {
		return time.Time{}, false, r.errorf("%s: %w", key, err)
	}
	return t, true, nil
}
