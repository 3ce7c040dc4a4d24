package room

import (
	"errors"
	"fmt"
	"strings"

	"github.com/watchparty/watchparty/textsafe"
)

// MaxUsernameLen is the longest display name, in characters after cleaning (docs/security.md).
const MaxUsernameLen = 32

// ErrInvalidUsername is the kind of the errors CheckUsername returns.
var ErrInvalidUsername = errors.New("invalid username")

// Errors about the room's media URL, for errors.Is.
var (
	// ErrRoomMediaRefused: the room's media URL is not one a client opens (party.CheckMediaURL):
	// an mpv protocol, a path or a malformed URL. Nothing was started.
	ErrRoomMediaRefused = errors.New("room media refused")
	// ErrRoomMediaNotAccepted: the room's media URL was not accepted (Options.ConfirmMedia).
	ErrRoomMediaNotAccepted = errors.New("room media not accepted")
)

// CheckUsername cleans a display name as every member will see it (Sanitize) and checks it
// before anything is sent: at least one visible character, at most MaxUsernameLen characters,
// and not "system" in any case (system messages show under that name). It returns the cleaned
// name.
func CheckUsername(name string) (string, error) {
	clean := Sanitize(name)
	shown := textsafe.Shown(clean)
	switch {
	case shown == "":
		return "", &userError{msg: "your name is empty once control characters are removed: pick one with --name", err: ErrInvalidUsername}
	case len([]rune(clean)) > MaxUsernameLen:
		return "", &userError{msg: fmt.Sprintf("your name is longer than %d characters: pick a shorter one with --name", MaxUsernameLen), err: ErrInvalidUsername}
	case strings.EqualFold(shown, "system"):
		return "", &userError{msg: `the name "system" is reserved for the room's own messages: pick another with --name`, err: ErrInvalidUsername}
	}
	return clean, nil
}
