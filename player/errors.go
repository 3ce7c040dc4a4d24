package player

import (
	"errors"
	"fmt"
)

// Errors that mpv reports in the "error" field of a reply. A failed command
// returns a *CommandError that matches one of these with errors.Is when mpv's
// message is one of the known strings.
var (
	// ErrPropertyUnavailable: the property exists but has no value now, for
	// example time-pos while no file is loaded.
	ErrPropertyUnavailable = errors.New("property unavailable")
	// ErrPropertyNotFound: mpv has no property of that name.
	ErrPropertyNotFound = errors.New("property not found")
	// ErrPropertyFormat: the value has the wrong type or is out of range, for
	// example speed 0.
	ErrPropertyFormat = errors.New("unsupported format for accessing property")
	// ErrInvalidParameter: an unknown command, a missing or malformed argument.
	ErrInvalidParameter = errors.New("invalid parameter")
	// ErrCommandFailed: the command was valid but could not run, for example a
	// seek while no file is loaded.
	ErrCommandFailed = errors.New("error running command")
)

// ErrClosed is returned by every call made after the connection to mpv ended
// (mpv exited, the socket closed, or Close was called), and by calls that
// were waiting for a reply when it ended.
var ErrClosed = errors.New("mpv connection closed")

// ErrSeekIgnored is returned by Seek when mpv accepted the seek but never started it: mpv
// does that on media it cannot seek in (a stream without range requests, beyond what its
// cache holds), printing "Cannot seek in this stream".
var ErrSeekIgnored = errors.New("mpv did not seek: the media is not seekable here")

// ErrUnsafePlaylists is returned by LoadUntrusted when mpv runs with
// load-unsafe-playlists=yes (the user's mpv.conf, --mpv-arg or an mpv we attached to): a
// playlist behind the URL could then make mpv open local files and mpv protocols.
var ErrUnsafePlaylists = errors.New("mpv runs with load-unsafe-playlists=yes, so a playlist behind this URL could open local files")

// ErrNotFound is returned by Launch when the mpv binary cannot be found.
var ErrNotFound = errors.New("mpv not found: install it with your package manager, e.g. apt install mpv")

// knownErrors maps mpv's verbatim error strings (mpv 0.35) to sentinels.
var knownErrors = map[string]error{
	ErrPropertyUnavailable.Error(): ErrPropertyUnavailable,
	ErrPropertyNotFound.Error():    ErrPropertyNotFound,
	ErrPropertyFormat.Error():      ErrPropertyFormat,
	ErrInvalidParameter.Error():    ErrInvalidParameter,
	ErrCommandFailed.Error():       ErrCommandFailed,
}

// CommandError is a reply from mpv whose "error" field was not "success".
type CommandError struct {
	// Command names what was sent, e.g. "seek" or "get_property time-pos".
	Command string
	// Message is mpv's error string, verbatim.
	Message string
}

// Error implements error.
func (e *CommandError) Error() string {
	return fmt.Sprintf("mpv %s: %s", e.Command, e.Message)
}

// Is reports whether target is the sentinel for mpv's message, so that
// errors.Is(err, ErrPropertyUnavailable) works on wrapped command errors.
func (e *CommandError) Is(target error) bool {
	known, ok := knownErrors[e.Message]
	return ok && known == target
}
