package party

import (
	"errors"
	"net"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxMediaURLLen is the longest room media URL, in bytes (docs/security.md).
const MaxMediaURLLen = 2048

// ErrMediaURL is the kind of every CheckMediaURL error: errors.Is(err, ErrMediaURL).
var ErrMediaURL = errors.New("not an http:// or https:// URL")

// mediaURLError says which rule a media URL broke.
type mediaURLError struct{ why string }

func (e *mediaURLError) Error() string { return e.why }
func (e *mediaURLError) Is(target error) bool {
	return target == ErrMediaURL
}

// CheckMediaURL reports whether s may be opened as a room's media on a member's machine: an
// http:// or https:// URL (the scheme in lower case) with a host, at most MaxMediaURLLen bytes,
// valid UTF-8 with no whitespace, control or format characters. Anything else — mpv protocols
// such as av://, lavfi://, edl://, file://, fd://, memory://, ytdl://, and plain paths — is an
// instruction to the member's mpv rather than a video, so it is refused.
//
// This is the one check every client path uses (joining without --media, creating and hosting a
// room); the servers apply the same rule when a room is created (docs/security.md).
func CheckMediaURL(s string) error {
	switch {
	case s == "":
		return &mediaURLError{"the room has no media URL"}
	case len(s) > MaxMediaURLLen:
		return &mediaURLError{"the media URL is longer than 2048 bytes"}
	case !utf8.ValidString(s):
		return &mediaURLError{"the media URL is not valid UTF-8"}
	}
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return &mediaURLError{"the media URL contains spaces or control characters"}
		}
	}
	if !strings.HasPrefix(s, "http://") && !strings.HasPrefix(s, "https://") {
		return &mediaURLError{"the media is not an http:// or https:// URL"}
	}
	u, err := url.Parse(s)
	if err != nil {
		return &mediaURLError{"the media URL does not parse"}
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Opaque != "" {
		return &mediaURLError{"the media is not an http:// or https:// URL"}
	}
	if u.Hostname() == "" {
		return &mediaURLError{"the media URL has no host"}
	}
	return nil
}

// MediaURLHost is the host a media URL that passed CheckMediaURL points at, and whether that
// host is this machine or a private network (a loopback, private or link-local address, or
// "localhost"): a room URL aimed there reaches the member's own network, which is worth saying
// when asking whether to open it. Names are not resolved.
func MediaURLHost(s string) (host string, local bool) {
	u, err := url.Parse(s)
	if err != nil {
		return "", false
	}
	host = u.Hostname()
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return host, true
	}
	if ip := net.ParseIP(h); ip != nil {
		return host, ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsUnspecified()
	}
	return host, false
}
