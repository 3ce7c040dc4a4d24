package party

import (
	"fmt"
	"math"
	"strings"
)

// Thresholds of the follower correction policy (docs/design.md §7.3), in seconds of
// media unless noted. They are constants so that every client of a room
// behaves alike.
const (
	// SeekThreshold: a playing follower more than this far from the room
	// seeks (docs/design.md §7.3). Smaller drifts are closed with speed.
	SeekThreshold = 0.5
	// NudgeThreshold: a follower at the room rate starts a speed nudge when
	// its drift exceeds this (the dead zone; OpenWatchParty uses 40 ms,
	// Jellyfin 60 ms). Our drift is measured to a millisecond or two (mpv's
	// time-pos reports interpolated with wall time, the server clock from
	// the best of several round trips), so a smaller dead zone is safe: a
	// follower that landed 14–20 ms off after a seek used to stay there, a
	// steady bias below the old 40 ms. A nudge of 0.5 % is inaudible (mpv
	// keeps the pitch).
	NudgeThreshold = 0.010
	// RestoreThreshold: a nudging follower goes back to the room rate once
	// its drift is at most this. The gap to NudgeThreshold is hysteresis: a
	// drift that wobbles around one threshold cannot flap the speed.
	RestoreThreshold = 0.003
	// PausedSeekThreshold: while the room or the player is paused there is
	// no speed to nudge, so any drift above this is closed with a seek. A
	// seek on a paused player is invisible; the dead zone only absorbs
	// mpv's frame-step positions (40 ms at 25 fps).
	PausedSeekThreshold = 0.1
	// LandingSeekThreshold: right after a correction seek (CorrectionInput.Landing)
	// a playing follower more than this far off seeks again: its seek restarted
	// late (a busy machine), and closing 0.1–0.5 s with a 5 % nudge takes 2–8 s.
	LandingSeekThreshold = 0.1
	// PauseAlignThreshold: once the room is paused, a follower more than this
	// from the room's paused position seeks there exactly, once per room
	// state (CorrectionInput.Aligned), so every screen shows the host's frame
	// (people talk about what is on screen). Followers stop where the pause
	// reaches them, a network trip past the host's frame; an exact seek on a
	// paused mpv is cheap and lands on the frame. Below a frame of any
	// common media.
	PauseAlignThreshold = 0.002
	// MaxNudge bounds a nudged speed to room rate × (1 ± MaxNudge). Syncplay
	// slows to 0.95x; mpv keeps the pitch, so ±5 % is near inaudible.
	MaxNudge = 0.05
	// NudgeHorizon: a nudge is sized to close the drift in about this many
	// seconds of wall time: speed = rate − drift/NudgeHorizon, within the
	// MaxNudge bound. Applied on every tick this decays the drift
	// exponentially with this time constant.
	NudgeHorizon = 1.5
	// SpeedStep: a running nudge is only re-sent when its speed changes by
	// at least this fraction of the room rate, so the player is not sent a
	// command on every tick.
	SpeedStep = 0.005
	// speedTolerance: a player speed this close (relative) to the room rate
	// counts as the room rate.
	speedTolerance = 0.0005
)

// Action is a set of player operations a Correction asks for. Several may be
// set at once; apply them in the order Pause, Seek, speed (Nudge or
// RestoreRate), Play, so that a follower never plays from the wrong place.
type Action uint8

// The player operations.
const (
	// ActionSeek: seek to Correction.SeekTo (absolute, seconds).
	ActionSeek Action = 1 << iota
	// ActionNudge: set the player speed to Correction.Speed, a value within
	// MaxNudge of the room rate, to close a small drift.
	ActionNudge
	// ActionRestoreRate: set the player speed to Correction.Speed, the room
	// rate.
	ActionRestoreRate
	// ActionPlay: unpause the player.
	ActionPlay
	// ActionPause: pause the player.
	ActionPause
)

var actionNames = []string{"seek", "nudge", "restore-rate", "play", "pause"}

// String lists the actions joined by "+", or "none".
func (a Action) String() string {
	if a == 0 {
		return "none"
	}
	var parts []string
	for i, name := range actionNames {
		if a&(1<<i) != 0 {
			parts = append(parts, name)
		}
	}
	return strings.Join(parts, "+")
}

// CorrectionInput is everything Decide looks at: one measurement of the
// local player against the room. Fill the room's side with RoomState.Input.
// The zero value decides nothing (the room is not known yet).
type CorrectionInput struct {
	// Position is the player's position in seconds now: mpv's last
	// time-pos interpolated with wall time × speed. A DriftFilter may
	// replace it with a smoothed value.
	Position float64
	// Paused is the player's pause state.
	Paused bool
	// Speed is the player's current speed (mpv's speed property); 0 means
	// unknown and reads as the room rate. Decide keeps no state: a speed
	// other than the room rate is how it knows a nudge (or a pending rate
	// change) is in effect, so pass the speed mpv reports, not the one
	// last requested.
	Speed float64
	// AtEOF: the player has reached the end of its file (mpv eof-reached).
	AtEOF bool

	// Expected is the room's expected position now
	// (RoomState.ExpectedPosition, already clamped to the duration).
	Expected float64
	// RoomPlaying is the room's play state.
	RoomPlaying bool
	// RoomRate is the room's playback rate; 0 or less reads as 1.
	RoomRate float64
	// RoomKnown: the room state was read from the room. Without it Decide
	// does nothing, so a missing state can never send a player to 0.
	RoomKnown bool

	// Detached: the user acted locally (paused or seeked in mpv's window);
	// no correction until "sync to live".
	Detached bool
	// SeekInFlight: a seek was sent and mpv has not yet reported
	// playback-restart; positions are unreliable, so no seek or nudge.
	SeekInFlight bool
	// Aligned: a seek to the room's paused position was already made for
	// this room state; no second one below PausedSeekThreshold (a player
	// that cannot land exactly must not seek forever).
	Aligned bool
	// Landing: the follower's correction seek for this room state has just
	// finished (the caller says for how long, once per room state): a drift
	// beyond LandingSeekThreshold is sought again instead of nudged.
	Landing bool
}

// Drift is the local position minus the expected one, seconds (positive:
// the player is ahead).
func (in CorrectionInput) Drift() float64 { return in.Position - in.Expected }

func (in CorrectionInput) rate() float64 { return ClampRate(in.RoomRate) }

// speed is the player speed, with unknown read as the room rate.
func (in CorrectionInput) speed() float64 {
	if !(in.Speed > 0) || math.IsInf(in.Speed, 0) {
		return in.rate()
	}
	return in.Speed
}

// offRate reports whether the player runs at other than the room rate:
// either a nudge is in effect or the room rate changed.
func (in CorrectionInput) offRate() bool {
	return math.Abs(in.speed()-in.rate()) > speedTolerance*in.rate()
}

// atEnd reports a player at the end of its file while the room is at or past
// that point: nothing to correct (the room's clamp and ours may differ by a
// frame, and the room's copy may be longer).
func (in CorrectionInput) atEnd() bool {
	return in.AtEOF && in.Drift() <= PausedSeekThreshold+driftEpsilon
}

// Correction is what Decide asks the player to do. Actions is 0 when nothing
// is to be done.
type Correction struct {
	Actions Action
	// SeekTo is the seek target in seconds with ActionSeek: always the
	// room's expected position, never anything else.
	SeekTo float64
	// Speed is the speed to set with ActionNudge or ActionRestoreRate.
	Speed float64
	// Drift is the drift the decision was based on, seconds; 0 at the end
	// of the media.
	Drift float64
	// Reason says why, for logs and the sync panel, e.g.
	// "drift +0.734 s > 0.5 s: seek to 12.300".
	Reason string
}

// Has reports whether c asks for action a.
func (c Correction) Has(a Action) bool { return c.Actions&a != 0 }

// Decide is the follower correction policy (docs/design.md §7.3). It is pure: call it
// on every measurement (each player event or tick) and apply the result.
//
//   - Nothing while detached, or before the room state is known.
//   - Play/pause follow the room.
//   - Room playing, player playing: |drift| > SeekThreshold → seek to the
//     expected position; NudgeThreshold < |drift| ≤ SeekThreshold → speed
//     rate − drift/NudgeHorizon, bounded to ±MaxNudge of the rate; a nudge
//     continues until |drift| ≤ RestoreThreshold, then the room rate is
//     restored; a running nudge is re-sized only when its speed would move
//     by SpeedStep × rate or more.
//   - Room or player paused: no nudges; |drift| > PausedSeekThreshold →
//     seek; a speed other than the room rate is restored.
//   - A seek in flight: play/pause still follow, nothing else.
//   - A player at the end of its file with the room at or past that point is
//     in sync.
//
// The only seek target is the room's expected position, so a seek to 0
// happens only when the room says 0.
func Decide(in CorrectionInput) Correction {
	if in.Detached {
		return Correction{Drift: in.Drift(), Reason: "detached: no correction until sync to live"}
	}
	if !in.RoomKnown {
		return Correction{Reason: "room state not known yet"}
	}
	if !finite(in.Position) || !finite(in.Expected) {
		return Correction{Reason: fmt.Sprintf("no valid position (player %v, room %v)", in.Position, in.Expected)}
	}
	var c Correction
	var why []string
	drift := in.Drift()
	atEnd := in.atEnd()
	if atEnd {
		drift = 0
	}
	c.Drift = drift
	rate := in.rate()

	// Play state first: it is never wrong to follow it, even mid-seek.
	switch {
	case in.RoomPlaying && in.Paused && !atEnd:
		c.Actions |= ActionPlay
		why = append(why, "room plays: play")
	case !in.RoomPlaying && !in.Paused:
		c.Actions |= ActionPause
		why = append(why, "room paused: pause")
	}

	switch {
	case atEnd:
		why = append(why, "at end of media")
	case in.SeekInFlight:
		why = append(why, "seek in flight")
	case !in.RoomPlaying || in.Paused:
		// No speed control without playback: seek beyond a small dead zone
		// (also when about to play, so playback starts in the right place).
		// A paused room is matched exactly, to the host's frame, once.
		switch {
		case beyond(drift, PausedSeekThreshold):
			why = append(why, c.seek(in.Expected, PausedSeekThreshold, " while paused"))
		case !in.RoomPlaying && !in.Aligned && beyond(drift, PauseAlignThreshold):
			why = append(why, c.seek(in.Expected, PauseAlignThreshold, ": to the room's paused frame"))
		}
		if in.offRate() {
			why = append(why, c.restoreRate(rate, "no nudge while paused"))
		}
	case beyond(drift, SeekThreshold), in.Landing && beyond(drift, LandingSeekThreshold):
		threshold, when := SeekThreshold, ""
		if !beyond(drift, SeekThreshold) {
			threshold, when = LandingSeekThreshold, " after a seek that landed late"
		}
		why = append(why, c.seek(in.Expected, threshold, when))
		if in.offRate() {
			why = append(why, c.restoreRate(rate, "after the seek"))
		}
	case beyond(drift, NudgeThreshold) || (in.offRate() && beyond(drift, RestoreThreshold)):
		target := nudgeSpeed(drift, rate)
		if !in.offRate() || math.Abs(target-in.speed()) >= SpeedStep*rate {
			c.Actions |= ActionNudge
			c.Speed = target
			why = append(why, fmt.Sprintf("drift %s: speed %.4f", fmtDrift(drift), target))
		} else {
			why = append(why, fmt.Sprintf("drift %s: nudge holds", fmtDrift(drift)))
		}
	case in.offRate():
		why = append(why, c.restoreRate(rate, fmt.Sprintf("drift %s ≤ %g s", fmtDrift(drift), RestoreThreshold)))
	}
	if len(why) == 0 {
		why = append(why, fmt.Sprintf("in sync, drift %s", fmtDrift(drift)))
	}
	c.Reason = strings.Join(why, "; ")
	return c
}

// seek asks for a seek to the room's expected position, the only seek
// target there is; threshold and when say which rule fired.
func (c *Correction) seek(expected, threshold float64, when string) string {
	c.Actions |= ActionSeek
	c.SeekTo = expected
	return fmt.Sprintf("drift %s > %g s%s: seek to %.3f", fmtDrift(c.Drift), threshold, when, expected)
}

// restoreRate asks for the room rate; why says what made it due.
func (c *Correction) restoreRate(rate float64, why string) string {
	c.Actions |= ActionRestoreRate
	c.Speed = rate
	return fmt.Sprintf("%s: speed %g", why, rate)
}

// nudgeSpeed closes drift over NudgeHorizon, rounded to 4 decimals so logs
// and mpv show clean values, and bounded to ±MaxNudge of rate.
func nudgeSpeed(drift, rate float64) float64 {
	s := math.Round((rate-drift/NudgeHorizon)*1e4) / 1e4
	return min(max(s, rate*(1-MaxNudge)), rate*(1+MaxNudge))
}

// driftEpsilon absorbs float rounding in position differences (100.04 − 100
// is 0.04000000000000625), so thresholds hold exactly as written.
const driftEpsilon = 1e-9

// beyond reports |drift| > threshold, up to driftEpsilon.
func beyond(drift, threshold float64) bool { return math.Abs(drift) > threshold+driftEpsilon }

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

func fmtDrift(d float64) string { return fmt.Sprintf("%+.3f s", d) }
