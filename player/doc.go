// Package player drives mpv as the watch party's video element, over mpv's
// JSON IPC socket (a unix socket on Linux and macOS, a named pipe on
// Windows).
//
// # Starting
//
// Launch starts mpv (--idle --keep-open=yes --force-window, plus
// LaunchOptions.ExtraArgs) on a private socket, or attaches to an mpv that
// already listens on LaunchOptions.Socket; Attach only attaches. Either way
// the returned Player has registered its property observers and knows
// mpv's state. Close stops the mpv that Launch started (quit, then kill
// after a second, then reap) and never touches any other mpv.
//
// # Commands and state
//
// Play, Pause, Seek, SetSpeed, Load and ShowText send one command each and
// take a context. Seek returns once playback has restarted at the target
// (mpv's playback-restart event), and Load once the new file is ready or
// has failed. Position, Paused, Speed, Duration and State read the state
// the Player keeps from mpv's events and never wait for mpv.
//
// Position is interpolated: mpv reports time-pos once per video frame (40
// ms at 25 fps), and the Player extrapolates from recent reports with the
// wall clock and the speed. Of the recent reports it trusts the one that
// arrived with the least delay, so a report delayed by a busy machine does
// not drag the position back; a report far behind (a stall) restarts the
// estimate.
//
// # Events
//
// Events delivers what happened, in mpv's order: paused, resumed, seeked
// (when playback restarted), buffering start and end, speed changed, end of
// file, file loaded, and finally closed. The socket reader never waits for
// the consumer; a lagging consumer gets the latest state per group
// (pause/resume, speed, buffering) instead of every step.
//
// Paused, Resumed, Seeked and SpeedChanged carry an Origin: ByUs for the
// effect of this Player's own commands, ByUser for anything else (keys or
// the mouse in mpv's window, another IPC client), ByPlayer for mpv acting
// by itself (pausing at the end with keep-open). mpv does not say who
// caused a change, so the Player infers it: a seek is ours when mpv
// executed one of our queued seeks and playback restarted within 0.25 s of
// our target; a pause or speed change is ours when it is the value we
// asked for and mpv had not yet reported it. A user action in the same few
// milliseconds as ours can be mislabelled; commands sent with Command or
// SetProperty are not ours by this rule.
//
// # Concurrency
//
// A Player's methods are safe for concurrent use. Requests share one
// connection; each carries its own request id and is written in one piece,
// and replies are matched by id. One goroutine reads the socket and one
// delivers events; both end by Close (or when mpv goes away, once the
// events are consumed). When mpv dies, calls fail with ErrClosed, Done is
// closed and EventClosed is delivered; Wait returns mpv's exit status and
// WaitExit says what it means: ExitQuit when the user quit mpv (q or
// closing its window), ExitCrashed when it died. The caller may then Launch
// again and Load at the old Position.
//
// # Lifetime
//
// An mpv that Launch started dies with the process that started it, however
// that process ends (kill -9 included): on Linux by a parent-death signal,
// on Windows by a job object that kills it when our handle closes. macOS
// has neither; see docs/player.md. An attached mpv is never touched.
package player
