package server

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"unicode"

	"github.com/watchparty/watchparty/server/store"
	"github.com/watchparty/watchparty/textsafe"
)

// Field limits of docs/security.md. Every one of them is enforced the same way by the SQL
// functions of supabase/.
const (
	MaxMediaURL     = 2048   // bytes
	MaxMediaTitle   = 200    // characters, after cleaning
	MaxAnimeID      = 64     // characters, after cleaning
	MaxPosition     = 604800 // seconds (one week): positions, durations, comment timestamps
	MaxUserMetadata = 1024   // bytes of JSON in a sign-up's data
)

// mediaFPPattern is a member's media fingerprint ("Same file?", docs/api.md): 128 bits in lower-case
// hex. The server learns nothing from it: it is keyed with the room id.
var mediaFPPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

const mediaFPRule = "p_media_fp must be 32 lower-case hex digits, or empty to clear it"

// mediaReport reads a beat's optional p_media_fp and p_media_duration (absent or null: unchanged).
func (f fields) mediaReport() (*store.MediaReport, *apiError) {
	fp, e := f.str("p_media_fp", false)
	if e != nil {
		return nil, invalid(mediaFPRule)
	}
	if fp != nil && *fp != "" && !mediaFPPattern.MatchString(*fp) {
		return nil, invalid(mediaFPRule)
	}
	dur, e := f.boundedNum("p_media_duration", false)
	if e != nil {
		return nil, e
	}
	if fp == nil && dur == nil {
		return nil, nil
	}
	return &store.MediaReport{FP: fp, Duration: dur}, nil
}

// roomIDPattern is the shape of every room id (store.NewRoomID). Ids are checked against it
// before anything uses them: a lookup, a rate-limit key or a topic.
var roomIDPattern = regexp.MustCompile(`^[a-z0-9]{10}$`)

// clientIDPattern is a client id: one person's windows and scripts in a room are told apart by it.
var clientIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{8,64}$`)

const clientIDRule = "client_id must be 8 to 64 characters of A-Z, a-z, 0-9, _ and -"

func validClientID(id string) bool { return clientIDPattern.MatchString(id) }

func validRoomID(id string) bool { return roomIDPattern.MatchString(id) }

var errRoomNotFound = &apiError{http.StatusNotFound, "ROOM_NOT_FOUND", "room not found"}

// roomID reads a required room id; a malformed one is answered like an unknown room.
func (f fields) roomID(name string) (string, *apiError) {
	id, e := f.str(name, true)
	if e != nil {
		return "", e
	}
	if !validRoomID(*id) {
		return "", errRoomNotFound
	}
	return *id, nil
}

// mediaURLRule is the message of a refused media_url, the same on both backends.
const mediaURLRule = "media_url must be an http:// or https:// URL (at most 2048 bytes, no spaces or control characters)"

// checkMediaURL enforces the room media rule: only http(s) URLs with a host, so a room can never
// point a guest's mpv at a local file, a device, a filter graph (av://lavfi) or an EDL.
func checkMediaURL(raw string) *apiError {
	if len(raw) == 0 || len(raw) > MaxMediaURL {
		return invalid(mediaURLRule)
	}
	for _, r := range raw {
		if r <= ' ' || r == 0x7f || unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return invalid(mediaURLRule)
		}
	}
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" || u.Opaque != "" {
		return invalid(mediaURLRule)
	}
	// The scheme in lower case, as written: mpv may not take "HTTPS://x" for a URL at all, but
	// for a relative path.
	if !strings.HasPrefix(raw, "http://") && !strings.HasPrefix(raw, "https://") {
		return invalid(mediaURLRule)
	}
	return nil
}

// cleanField reads an optional text field, cleans it and checks its length in characters.
func (f fields) cleanField(name string, max int) (*string, *apiError) {
	raw, e := f.str(name, false)
	if e != nil || raw == nil {
		return nil, e
	}
	t := textsafe.Line(*raw)
	if runeLen(t) > max {
		return nil, invalid("%s must be at most %d characters", name, max)
	}
	return &t, nil
}

// boundedNum reads a number that must lie in [0, MaxPosition].
func (f fields) boundedNum(name string, required bool) (*float64, *apiError) {
	v, e := f.num(name, required)
	if e != nil || v == nil {
		return v, e
	}
	if *v < 0 || *v > MaxPosition {
		return nil, invalid("%s must be between 0 and %d", name, MaxPosition)
	}
	return v, nil
}

// checkUsername applies the name rules beyond length: a name must show something, and nobody
// may appear as the system's notices do (not even with invisible characters in between).
func checkUsername(name string) *apiError {
	shown := textsafe.Shown(name)
	if shown == "" {
		return &apiError{http.StatusBadRequest, "INVALID_USERNAME", "username must have a visible character"}
	}
	if strings.EqualFold(shown, "system") {
		return &apiError{http.StatusBadRequest, "INVALID_USERNAME", `username "system" is reserved`}
	}
	return nil
}

// animeID reads the optional anime_id (a string or a number), cleaned and bounded.
func (f fields) animeID() (*string, *apiError) {
	id, e := f.strOrNumber("anime_id")
	if e != nil || id == nil {
		return id, e
	}
	t := textsafe.Line(*id)
	if runeLen(t) > MaxAnimeID {
		return nil, invalid("anime_id must be at most %d characters", MaxAnimeID)
	}
	return &t, nil
}
