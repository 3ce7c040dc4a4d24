// Package syncbench runs real watch parties on one machine, for the room package's
// end-to-end tests and for `watchparty bench sync`: the embedded server on a loopback port
// (restartable on the same port and data), room sessions each with its own user and its own
// mpv (--vo=null --ao=null) on its own IPC socket, ffmpeg-made media, and probes — second
// IPC connections to each mpv that read what it really plays, independently of the session.
//
// RunSync is the sync benchmark: a host and N followers; it measures follower drift during
// steady play, convergence after host seeks and the latency of host pauses.
//
// It needs mpv and ffmpeg on PATH (NeedPrograms says when they are missing).
package syncbench
