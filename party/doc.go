// Package party is the pure domain of a watch party: the room's playback
// state, the clock offset to the server, drift and the follower's correction
// policy, the sync indicator, member staleness and the host's republish rule.
//
// Nothing here does I/O or reads the clock: every function takes the times
// and values it decides on as arguments, so the rules are deterministic and
// table-tested. The room session (package room) measures, calls into party,
// and applies what party decides; the embedded server may use RoomState for
// the expected-position formula.
//
// Positions and durations of media are float64 seconds; instants are
// time.Time. Drift is always local position minus the room's expected
// position: positive means the local player is ahead.
//
// Concurrency: plain values (RoomState, CorrectionInput, Correction,
// Indicator, Member) may be copied and shared freely. The stateful helpers
// (ClockOffset, DriftFilter, Members) are not safe for
// concurrent use; their owner serialises calls, as the room session does
// from its single event loop.
package party
