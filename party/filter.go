package party

import "slices"

// DriftWindow is how many drift samples DriftFilter takes the median of.
const DriftWindow = 5

// DriftFilter smooths drift measurements so that one jittery position report
// cannot trigger a seek: it keeps the last DriftWindow raw drifts and yields
// their median.
//
// Why a median: mpv reports positions in frame steps and the interpolation
// between reports can be thrown off by a late event, so single samples can
// be off by tens of milliseconds, or by seconds for a stale report around a
// seek. A median of 5 ignores up to 2 outliers entirely, whereas a mean
// would let a 3 s outlier move the estimate by 0.6 s, past SeekThreshold.
// It follows a real step within 3 samples, and its delay on a steady slope
// is 2 samples, small against NudgeHorizon.
//
// Reset the filter whenever the drift legitimately jumps: a new room state
// (host seek, play, pause, rate), a seek of ours settling
// (playback-restart), detaching or syncing to live. Right after a reset the
// first sample is used alone, so the reaction to a host action is not
// delayed. The zero value is ready to use. Not safe for concurrent use.
type DriftFilter struct {
	buf  [DriftWindow]float64
	n    int
	next int
}

// Add records a raw drift sample (seconds) and returns the median of the
// samples held, this one included. Non-finite samples are ignored.
func (f *DriftFilter) Add(drift float64) float64 {
	if finite(drift) {
		f.buf[f.next] = drift
		f.next = (f.next + 1) % DriftWindow
		if f.n < DriftWindow {
			f.n++
		}
	}
	return f.Median()
}

// Median is the median of the samples held (the mean of the middle two for
// an even count), 0 with none.
func (f *DriftFilter) Median() float64 {
	if f.n == 0 {
		return 0
	}
	var tmp [DriftWindow]float64
	s := tmp[:f.n]
	copy(s, f.buf[:f.n])
	slices.Sort(s)
	if f.n%2 == 1 {
		return s[f.n/2]
	}
	return (s[f.n/2-1] + s[f.n/2]) / 2
}

// Len is the number of samples held.
func (f *DriftFilter) Len() int { return f.n }

// Reset drops all samples.
func (f *DriftFilter) Reset() { *f = DriftFilter{} }

// Apply records in's raw drift and returns a copy of in whose Position is
// moved so that its drift is the filtered one; pass the result to Decide.
// Inputs that Decide ignores (detached, unknown room, a seek in flight) are
// returned unchanged and not recorded, as their positions are not
// measurements of steady playback.
func (f *DriftFilter) Apply(in CorrectionInput) CorrectionInput {
	if in.Detached || !in.RoomKnown || in.SeekInFlight || !finite(in.Position) || !finite(in.Expected) {
		return in
	}
	in.Position = in.Expected + f.Add(in.Drift())
	return in
}
