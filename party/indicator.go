package party

import (
	"fmt"
	"math"
)

// InSyncThreshold: a follower within this many seconds of the room shows as
// in sync (docs/design.md §7.7).
const InSyncThreshold = 2.0

// Status is the state the sync indicator shows.
type Status uint8

// The indicator states.
const (
	// StatusUnknown: no room state or no player position yet.
	StatusUnknown Status = iota
	// StatusInSync: |drift| ≤ InSyncThreshold and no correction running.
	StatusInSync
	// StatusOutOfSync: |drift| > InSyncThreshold and no correction running.
	StatusOutOfSync
	// StatusSyncing: a correction runs: a seek is in flight or being sent,
	// or the speed is nudged.
	StatusSyncing
	// StatusDetached: the user acted locally; no correction until sync to
	// live.
	StatusDetached
)

var statusNames = [...]string{"unknown", "in sync", "out of sync", "syncing", "detached"}

// String is the status as the TUI shows it, such as "in sync".
func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("status(%d)", s)
}

// Indicator is what the sync indicator shows: a status and the drift in
// milliseconds (positive: ahead of the room).
type Indicator struct {
	Status  Status
	DriftMS int64
}

// InSync reports the in-sync rule (docs/design.md §7.7), |drift| ≤ InSyncThreshold, for a follower
// that is not detached; a running correction within the threshold counts as
// in sync. It is the "in_sync" of the JSON sync event.
func (i Indicator) InSync() bool {
	switch i.Status {
	case StatusInSync:
		return true
	case StatusSyncing:
		return math.Abs(float64(i.DriftMS)) <= InSyncThreshold*1000
	}
	return false
}

// String renders the indicator, always with the drift, such as
// "in sync +12 ms", "syncing -340 ms" or "detached +4210 ms".
func (i Indicator) String() string {
	if i.Status == StatusUnknown {
		return i.Status.String()
	}
	return fmt.Sprintf("%s %+d ms", i.Status, i.DriftMS)
}

// Indicate derives the indicator from a measurement and the correction
// Decide made for it.
func Indicate(in CorrectionInput, c Correction) Indicator {
	if !in.RoomKnown || !finite(in.Position) || !finite(in.Expected) {
		if in.Detached {
			return Indicator{Status: StatusDetached}
		}
		return Indicator{Status: StatusUnknown}
	}
	ind := Indicator{DriftMS: int64(math.Round(c.Drift * 1000))}
	if in.Detached {
		// The correction's drift is the raw one; keep showing how far off
		// the detached player is.
		ind.DriftMS = int64(math.Round(in.Drift() * 1000))
	}
	nudging := c.Has(ActionNudge) ||
		(in.offRate() && !c.Has(ActionRestoreRate) && in.RoomPlaying && !in.Paused && !in.atEnd())
	switch {
	case in.Detached:
		ind.Status = StatusDetached
	case in.SeekInFlight || c.Has(ActionSeek) || nudging:
		ind.Status = StatusSyncing
	case math.Abs(c.Drift) <= InSyncThreshold:
		ind.Status = StatusInSync
	default:
		ind.Status = StatusOutOfSync
	}
	return ind
}
