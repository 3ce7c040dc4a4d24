package room

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/watchparty/watchparty/realtime"
)

// Invite links and moderation, the client side (docs/design.md §14, docs/api.md "Invites and
// moderation").

// InviteLink is everything a friend needs to join: the server, the room, the room's invite
// secret and, for a server that does not publish its anon key (a Supabase project), the key.
//
// Its text form is the server's own URL with the path /join/ROOM and the rest in the fragment,
// which browsers and proxies never send to the server:
//
//	https://party.example.org:54321/join/k3x9q2m7ab#s=SECRET
//	https://PROJECT.supabase.co/join/k3x9q2m7ab#s=SECRET&k=ANON_KEY
//
// On a watchparty server the https form opens a page that says what watchparty is and which
// command to run; `watchparty join LINK` accepts the same text.
type InviteLink struct {
	Server  string // as ParseServerURL returns it
	RoomID  string
	Secret  string
	AnonKey string // "" when the server publishes it (GET /watchparty/v1/info)
}

// String is the link's text form.
func (l InviteLink) String() string {
	frag := url.Values{}
	frag.Set("s", l.Secret)
	if l.AnonKey != "" {
		frag.Set("k", l.AnonKey)
	}
	// s before k: Encode sorts by key.
	return l.Server + "/join/" + l.RoomID + "#" + frag.Encode()
}

var (
	roomIDPattern = regexp.MustCompile(`^[a-z0-9]{10}$`)
	secretPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	keyPattern    = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)
)

// ErrBadInviteLink is a link that cannot be read.
var ErrBadInviteLink = errors.New("not an invite link")

// LooksLikeLink reports whether arg is meant as a link rather than a room id.
func LooksLikeLink(arg string) bool { return strings.Contains(arg, "/") }

// ParseInviteLink reads a link's text form.
func ParseInviteLink(raw string) (InviteLink, error) {
	raw = strings.TrimSpace(raw)
	bad := func(why string) (InviteLink, error) {
		return InviteLink{}, fmt.Errorf("%w: %s; want SERVER/join/ROOM#s=SECRET, as watchparty host or create print it", ErrBadInviteLink, why)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return bad("it is not a URL")
	}
	rest, ok := strings.CutPrefix(u.EscapedPath(), "/join/")
	if !ok || !roomIDPattern.MatchString(rest) {
		return bad("its path is not /join/ROOM")
	}
	if u.RawQuery != "" {
		return bad("it has a query")
	}
	frag, err := url.ParseQuery(u.EscapedFragment())
	if err != nil {
		return bad("its part after # is unreadable")
	}
	l := InviteLink{RoomID: rest, Secret: frag.Get("s"), AnonKey: frag.Get("k")}
	if !secretPattern.MatchString(l.Secret) {
		return bad("it has no invite secret (s=… after #): was it cut short?")
	}
	if l.AnonKey != "" && (len(l.AnonKey) > 2048 || !keyPattern.MatchString(l.AnonKey)) {
		return bad("its anon key (k=…) is malformed")
	}
	server := *u
	server.Path, server.RawPath, server.Fragment, server.RawFragment = "", "", "", ""
	if l.Server, err = ParseServerURL(server.String()); err != nil {
		return InviteLink{}, err
	}
	return l, nil
}

// RemovedError ends a session whose person the host removed from the room (kicked or banned):
// its message is the server's, "you were removed from the room by alice". It is ErrNotAllowed.
type RemovedError struct{ Msg string }

func (e *RemovedError) Error() string { return e.Msg }
func (e *RemovedError) Unwrap() error { return ErrNotAllowed }

// removal reads a refused rejoin: the host removed or banned us.
func removal(err error) *RemovedError {
	var api *realtime.APIError
	if !errors.As(err, &api) || (api.Code != "REMOVED" && api.Code != "BANNED") {
		return nil
	}
	msg := strings.TrimSuffix(api.Message, ".")
	if msg == "" {
		msg = "you were removed from the room"
	}
	return &RemovedError{Msg: msg}
}

// Created is a room rooms/create made.
type Created struct {
	RoomID string
	Row    map[string]any
	// InviteSecret is the room's first invite secret ("" from an older server): the server
	// keeps only its hash, so this is the one time it is seen (RotateInvite makes a new one).
	InviteSecret string
}

// RotateInvite gives the room a new invite secret and returns it (host only): links with the
// old one stop admitting newcomers.
func (r *Remote) RotateInvite(ctx context.Context, roomID string) (string, error) {
	var out struct {
		Secret string `json:"invite_secret"`
	}
	if err := r.client.Functions.Invoke(ctx, "rooms/invite/rotate", map[string]any{"room_id": roomID}, &out); err != nil {
		return "", friendly(roomID, err)
	}
	if out.Secret == "" {
		return "", errors.New("the server sent no invite secret")
	}
	return out.Secret, nil
}

// SetCohost grants (or with revoke takes back) the co-host role of a member (host only): a
// co-host may control playback.
func (r *Remote) SetCohost(ctx context.Context, roomID, userID string, revoke bool) error {
	body := map[string]any{"room_id": roomID, "member_user_id": userID, "revoke": revoke}
	return friendly(roomID, r.client.Functions.Invoke(ctx, "rooms/cohost", body, nil))
}

// Kick removes a member from the room at once (host only); with ban they can never come back.
func (r *Remote) Kick(ctx context.Context, roomID, userID string, ban bool) error {
	fn := "rooms/kick"
	if ban {
		fn = "rooms/ban"
	}
	return friendly(roomID, r.client.Functions.Invoke(ctx, fn, map[string]any{"room_id": roomID, "member_user_id": userID}, nil))
}

// cohostControl carries out a playback key of a co-host: it goes to the room as a control (like
// a script's), from the room's position now, and our mpv follows the room's new state like any
// follower's. It runs on the loop; the reply comes from a task.
func (s *Session) cohostControl(e *engine, r request) {
	room := e.room
	now := e.clock.ServerNow(s.now())
	pos := room.ExpectedPosition(now)
	action, rate := "seek", (*float64)(nil)
	switch r.op {
	case opTogglePlay:
		action = "play"
		if room.IsPlaying {
			action = "pause"
		}
	case opSeekTo:
		pos = r.arg
	case opSeekBy:
		pos += r.arg
	case opSeekFraction:
		if room.MediaDuration <= 0 {
			r.reply <- errors.New("the video's length is not known yet")
			return
		}
		pos = r.arg * room.MediaDuration
	case opRate:
		action, rate = "rate", &r.arg
	}
	pos = max(pos, 0)
	if room.MediaDuration > 0 {
		pos = min(pos, room.MediaDuration)
	}
	s.goTask(func() {
		ctx, cancel := s.taskContext(r.ctx, serverTimeout)
		defer cancel()
		_, err := s.be.Control(ctx, s.opts.RoomID, HostAction(action), pos, rate, time.Time{})
		r.reply <- err
	})
}

// Moderation is what the host does to a member (Controls.Moderate).
type Moderation int

const (
	ModCohost   Moderation = iota + 1 // let them control playback
	ModUncohost                       // take that back
	ModKick                           // remove them now (they come back only with the current link)
	ModBan                            // remove them for good
)

// Moderate implements Controls.
func (s *Session) Moderate(ctx context.Context, userID string, action Moderation) error {
	return s.do(ctx, request{op: opModerate, arg: float64(action), text: userID})
}

// moderator is the part of the backend that moderates (rtBackend, through its Remote).
type moderator interface {
	SetCohost(ctx context.Context, roomID, userID string, revoke bool) error
	Kick(ctx context.Context, roomID, userID string, ban bool) error
}

func (s *Session) moderate(ctx context.Context, userID string, action Moderation) error {
	m, ok := s.be.(moderator)
	if !ok {
		return errors.New("this connection cannot moderate")
	}
	switch action {
	case ModCohost, ModUncohost:
		return m.SetCohost(ctx, s.opts.RoomID, userID, action == ModUncohost)
	case ModKick, ModBan:
		return m.Kick(ctx, s.opts.RoomID, userID, action == ModBan)
	}
	return fmt.Errorf("unknown moderation %d", action)
}
