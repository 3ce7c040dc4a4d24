// Package syncbench runs real watch parties on one machine, for the room package's
// end-to-end tests and for `watchparty bench sync`: the embedded server on a loopback port
// (restartable on the same port and data), room sessions each with its own user and its own
// mpv (--vo=null --ao=null) on its own IPC socket, ffmpeg-made media, and probes — second
// IPC connections to each mpv that read what it really plays, independently of the session.
//
// RunSync is the sync benchmark: a host and N followers playing a 100 fps clip; it measures
// follower drift during steady play (and each follower's signed mean), convergence after host
// seeks with a timeline of each (from the probes, the sessions' events and their debug log,
// recorded per member by a Trace), the latency of host pauses and where the followers stop,
// and what one more follower run as its own process costs (CPU, RSS). It can run busy CPU
// workers alongside (StartLoad), put a DelayProxy between every client and the server, and
// repeat and pool runs.
//
// It needs mpv and ffmpeg on PATH (NeedPrograms says when they are missing).
package syncbench
