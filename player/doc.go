// Package player drives mpv as the watch party's video element, over mpv's
// JSON IPC socket (a unix socket on Linux and macOS, a named pipe on
// Windows).
package player
