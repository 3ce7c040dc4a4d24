package room

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/watchparty/watchparty/party"
	"github.com/watchparty/watchparty/player"
	"github.com/watchparty/watchparty/realtime"
)

// Server identifies a backend: its URL, anon key and where our session for it is saved.
type Server struct {
	URL     string
	AnonKey string // "" for a watchparty server: fetched from /watchparty/v1/info
	// SessionDir keeps the signed-in anonymous user per server (so the TUI and scripts act as
	// the same user); "" keeps it in memory.
	SessionDir string
	// SessionKey is the server's identity, which names its saved session (see Identify);
	// "" makes Connect identify the server first.
	SessionKey string
	Logger     *slog.Logger
}

// Remote is a signed-in connection to a backend's HTTP API, for one-shot commands (create,
// play, pause, seek, comment, status) and as the base of a Session. Safe for concurrent use.
type Remote struct {
	client *realtime.Client
	userID string
}

// Connect signs in (reusing the session saved for the server's identity) to srv.
func Connect(ctx context.Context, srv Server) (*Remote, error) {
	if strings.TrimSpace(srv.URL) == "" {
		return nil, errors.New("no server given: pass --server URL")
	}
	if srv.SessionKey == "" || srv.AnonKey == "" {
		var err error
		if srv, err = Identify(ctx, srv); err != nil {
			return nil, err
		}
	}
	url := strings.TrimRight(srv.URL, "/")
	key := srv.SessionKey
	same := func(ctx context.Context, other string) bool {
		o, err := ParseServerURL(other)
		if err != nil {
			return false
		}
		if o == key {
			return true
		}
		id, ok := strings.CutPrefix(key, "watchparty:")
		if !ok {
			return false
		}
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		info, err := realtime.FetchInfo(ctx, nil, o)
		return err == nil && info.ServerID == id
	}
	c, err := realtime.NewClient(url, srv.AnonKey, realtime.Options{SessionDir: srv.SessionDir, SessionKey: key, SameServer: same, Logger: srv.Logger})
	if err != nil {
		return nil, err
	}
	sess, err := c.Auth.EnsureSession(ctx)
	if err != nil {
		c.Close()
		return nil, signInError(url, err)
	}
	return &Remote{client: c, userID: sess.UserID}, nil
}

// UserID is the signed-in user.
func (r *Remote) UserID() string { return r.userID }

// Close releases the connection (the saved session stays).
func (r *Remote) Close() error { return r.client.Close() }

// NewRoom describes a room to create.
type NewRoom struct {
	Username      string
	MediaURL      string
	MediaTitle    string
	MediaDuration float64
	// ClientID is the creating client's id, when it goes on into the room (Host); "" lets the
	// server pick one, which is forgotten after the liveness limit unless this person joins.
	ClientID string
	// ReadyMode creates the room with the ready check on (docs/api.md, "The ready check").
	ReadyMode bool
	// WaitLimit, when set, is the room's longest wait for buffering members (whole seconds,
	// 0 to 60; 0: never wait), set with rooms/settings once the room is made.
	WaitLimit *time.Duration
}

// Create creates a room; the caller is its host. It returns the room's id, row and first
// invite secret. MediaURL, when set,
// must pass party.CheckMediaURL: it is what every member's mpv will be asked to open.
func (r *Remote) Create(ctx context.Context, nr NewRoom) (Created, error) {
	name, err := CheckUsername(nr.Username)
	if err != nil {
		return Created{}, err
	}
	body := map[string]any{"username": name}
	if nr.ClientID != "" {
		body["client_id"] = nr.ClientID
	}
	if nr.MediaURL != "" {
		if err := party.CheckMediaURL(nr.MediaURL); err != nil {
			return Created{}, fmt.Errorf("the room's media must be a URL every member can open: %w", err)
		}
		body["media_url"] = nr.MediaURL
	}
	if nr.MediaTitle != "" {
		body["media_title"] = nr.MediaTitle
	}
	if nr.MediaDuration > 0 {
		body["media_duration"] = nr.MediaDuration
	}
	if nr.ReadyMode {
		body["ready_mode"] = true
	}
	var out struct {
		Room   map[string]any `json:"room"`
		Secret string         `json:"invite_secret"`
	}
	if err := r.client.Functions.Invoke(ctx, "rooms/create", body, &out); err != nil {
		return Created{}, friendly("", err)
	}
	id, _ := out.Room["room_id"].(string)
	if nr.WaitLimit != nil {
		room, err := r.settings(ctx, id, RoomSettings{WaitLimit: nr.WaitLimit})
		if err != nil {
			return Created{RoomID: id, Row: out.Room, InviteSecret: out.Secret}, fmt.Errorf("room %s made, but its wait limit not set: %w", id, err)
		}
		out.Room = room
	}
	return Created{RoomID: id, Row: out.Room, InviteSecret: out.Secret}, nil
}

// Control sends a host control (play, pause, seek, sync, rate) and returns the room's new
// state (the zero RoomState when the reply carries no readable room).
func (r *Remote) Control(ctx context.Context, roomID, action string, pos float64, rate *float64) (party.RoomState, error) {
	return r.ControlAt(ctx, roomID, action, pos, rate, time.Time{})
}

// ControlAt is Control with the server-clock instant at which pos was read (zero: none): the
// server moves a playing room's position on from it to its write, so the request's varying
// trip to the server does not shift the room (docs/api.md, sync/control).
func (r *Remote) ControlAt(ctx context.Context, roomID, action string, pos float64, rate *float64, at time.Time) (party.RoomState, error) {
	return r.control(ctx, roomID, action, pos, rate, at, nil)
}

// control calls sync/control; waitFor is the wait action's waiting_for.
func (r *Remote) control(ctx context.Context, roomID, action string, pos float64, rate *float64, at time.Time, waitFor []string) (party.RoomState, error) {
	body := map[string]any{"room_id": roomID, "action": action, "current_time": pos}
	if waitFor != nil {
		body["waiting_for"] = waitFor
	}
	if rate != nil {
		body["playback_rate"] = *rate
	}
	return r.invokeControl(ctx, roomID, body, at)
}

// invokeControl sends a sync/control body, with position_at when at is set, and reads the
// room; a play held by the ready check (a play in mpv's window too) is *NotReadyError.
func (r *Remote) invokeControl(ctx context.Context, roomID string, body map[string]any, at time.Time) (party.RoomState, error) {
	if !at.IsZero() {
		body["position_at"] = float64(at.UnixMicro()) / 1000
	}
	var out struct {
		Room map[string]any `json:"room"`
	}
	if err := r.client.Functions.Invoke(ctx, "sync/control", body, &out); err != nil {
		if nr := notReadyOf(err); nr != err {
			return party.RoomState{}, nr
		}
		return party.RoomState{}, friendly(roomID, err)
	}
	st, _ := party.ParseRoomRow(out.Room)
	return st, nil
}

// Handover gives the host role to toUserID (the caller must be the host).
func (r *Remote) Handover(ctx context.Context, roomID, toUserID string) error {
	if err := r.client.Functions.Invoke(ctx, "rooms/handover", map[string]any{"room_id": roomID, "to_user_id": toUserID}, nil); err != nil {
		return friendly(roomID, err)
	}
	return nil
}

// Comment posts a comment.
func (r *Remote) Comment(ctx context.Context, roomID, message string, videoTime *float64) error {
	body := map[string]any{"room_id": roomID, "message": message}
	if videoTime != nil {
		body["video_timestamp"] = *videoTime
	}
	return friendly(roomID, r.client.Functions.Invoke(ctx, "comments/create", body, nil))
}

// State is a get_room_sync_state reply, decoded, with the local send/receive instants.
type State struct {
	RoomID string
	// RoomState is the room (RoomErr says why there is none); MemberList the members (rows
	// that cannot be read are left out).
	RoomState  party.RoomState
	RoomErr    error
	MemberList []party.Member
	ServerTime time.Time
	Sent       time.Time
	Received   time.Time
	// Room and Members are the rows as the server sent them, for `status --json` only.
	Room    map[string]any
	Members []map[string]any
}

// Status reads the room state (get_room_sync_state). Sent and Received bracket the request.
func (r *Remote) Status(ctx context.Context, roomID string) (State, error) {
	var out struct {
		Room       map[string]any   `json:"room"`
		Members    []map[string]any `json:"members"`
		ServerTime float64          `json:"server_time"`
	}
	sent := time.Now()
	err := r.client.RPC(ctx, "get_room_sync_state", map[string]any{"p_room_id": roomID}, &out)
	received := time.Now()
	if err != nil {
		return State{}, friendly(roomID, err)
	}
	st := State{RoomID: roomID, Room: out.Room, Members: out.Members, MemberList: decodeMembers(out.Members),
		ServerTime: time.UnixMilli(int64(out.ServerTime)), Sent: sent, Received: received}
	st.RoomState, st.RoomErr = party.ParseRoomRow(out.Room)
	return st, nil
}

// rtBackend is the session's backend on the realtime client.
type rtBackend struct {
	*Remote
	sock *realtime.Socket

	mu sync.Mutex
	ch *realtime.Channel

	watchStop chan struct{}
	watchDone chan struct{}

	// clientID names this session among the person's clients in the room (the screen, a
	// headless logger, a second window): a leave takes out this client only, and the person
	// stays while another of theirs is there (docs/api.md, "Membership and liveness").
	clientID string
	// inviteSecret goes with the session's first join only (Options.InviteSecret).
	inviteSecret string
}

func newRTBackend(r *Remote, logger *slog.Logger) (*rtBackend, error) {
	sock, err := r.client.NewSocket(realtime.SocketOptions{Logger: logger})
	if err != nil {
		return nil, err
	}
	return &rtBackend{Remote: r, sock: sock, clientID: newClientID()}, nil
}

// newClientID returns a random client id (docs/api.md: 8–64 of A-Z a-z 0-9 _ -).
func newClientID() string {
	b := make([]byte, 15)
	rand.Read(b)
	return "wp-" + base64.RawURLEncoding.EncodeToString(b)
}

func (b *rtBackend) Join(ctx context.Context, roomID, username string) (party.RoomState, []party.Member, error) {
	var out struct {
		Room    map[string]any   `json:"room"`
		Members []map[string]any `json:"members"`
	}
	body := map[string]any{"room_id": roomID, "username": username, "client_id": b.clientID}
	b.mu.Lock()
	if b.inviteSecret != "" {
		body["invite_secret"] = b.inviteSecret
	}
	b.mu.Unlock()
	if err := b.client.Functions.Invoke(ctx, "rooms/join", body, &out); err != nil {
		return party.RoomState{}, nil, friendly(roomID, err)
	}
	// Joined: we have a member row now, and a rejoin needs no secret. Never sending it again
	// keeps a member the host removes from coming back through the session's own rejoin.
	b.mu.Lock()
	b.inviteSecret = ""
	b.mu.Unlock()
	st, err := party.ParseRoomRow(out.Room)
	if err != nil {
		return party.RoomState{}, nil, fmt.Errorf("read room: %w", err)
	}
	return st, decodeMembers(out.Members), nil
}

func (b *rtBackend) Control(ctx context.Context, roomID string, action HostAction, pos float64, rate *float64, at time.Time) (party.RoomState, error) {
	return b.Remote.ControlAt(ctx, roomID, string(action), pos, rate, at)
}

func (b *rtBackend) Leave(ctx context.Context, roomID string) error {
	return b.client.Functions.Invoke(ctx, "rooms/leave", map[string]any{"room_id": roomID, "client_id": b.clientID}, nil)
}

func (b *rtBackend) TrackPresence(ctx context.Context, roomID string, pos float64, playing, buffering bool, media *mediaReport) error {
	return b.client.RPC(ctx, "track_user_presence", mediaParams(map[string]any{
		"p_room_id": roomID, "p_current_time": pos, "p_is_playing": playing, "p_client_id": b.clientID,
		"p_buffering": buffering}, media), nil)
}

func (b *rtBackend) Wait(ctx context.Context, roomID string, ids []string, pos float64, at time.Time) (party.RoomState, error) {
	return b.Remote.control(ctx, roomID, string(ActionWait), pos, nil, at, ids)
}

func (b *rtBackend) SyncState(ctx context.Context, roomID string) (roomSync, error) {
	st, err := b.Status(ctx, roomID)
	if err != nil {
		return roomSync{}, err
	}
	rs := roomSync{Members: st.MemberList, ServerTime: st.ServerTime, Sent: st.Sent, Received: st.Received}
	if st.RoomErr == nil {
		rs.Room = &st.RoomState
	}
	return rs, nil
}

func (b *rtBackend) History(ctx context.Context, roomID string, n int) ([]Comment, error) {
	var rows []map[string]any
	if err := b.client.Comments(ctx, roomID, n, &rows); err != nil {
		return nil, err
	}
	out := make([]Comment, 0, len(rows))
	for _, r := range rows {
		out = append(out, decodeComment(r))
	}
	return out, nil
}

// Subscribe joins the room channel with the same bindings as the browser client
// (docs/design.md §1; the channel's contract is in docs/api.md): UPDATE on rooms, * on
// room_members, INSERT on comments (all filtered by room_id), presence keyed by user id.
func (b *rtBackend) Subscribe(ctx context.Context, roomID string, feed func(any)) error {
	ch := b.sock.Channel("room:"+roomID, roomChannelOptions(b.userID))
	filter := "room_id=eq." + roomID
	decode := func(raw json.RawMessage) map[string]any {
		if len(raw) == 0 {
			return nil
		}
		var m map[string]any
		json.Unmarshal(raw, &m)
		return m
	}
	binds := []struct {
		f  realtime.ChangeFilter
		fn func(realtime.Change)
	}{
		{realtime.ChangeFilter{Event: "UPDATE", Schema: "public", Table: "rooms", Filter: filter},
			func(c realtime.Change) {
				st, err := party.ParseRoomRow(decode(c.New))
				feed(feedRoomUpdate{Room: st, Err: err})
			}},
		{realtime.ChangeFilter{Event: "*", Schema: "public", Table: "room_members", Filter: filter},
			func(c realtime.Change) { feed(decodeMemberChange(c.Type, decode(c.New), decode(c.Old))) }},
		{realtime.ChangeFilter{Event: "INSERT", Schema: "public", Table: "comments", Filter: filter},
			func(c realtime.Change) { feed(feedComment{Comment: decodeComment(decode(c.New))}) }},
	}
	for _, bd := range binds {
		if err := ch.OnPostgresChanges(bd.f, bd.fn); err != nil {
			return err
		}
	}
	if err := ch.OnPresence(func(ev realtime.PresenceEvent) {
		if ev.Kind != "sync" {
			return
		}
		var online []string
		for key := range ch.PresenceState() {
			online = append(online, key)
		}
		feed(feedPresence{Online: online})
	}); err != nil {
		return err
	}
	ch.OnStatus(func(ev realtime.StatusEvent) {
		if ev.Status == realtime.Subscribed {
			feed(feedSubscribed{})
		}
	})
	ch.OnClose(func(ev realtime.CloseEvent) {
		if ev.ByServer {
			reason := "closed"
			if ev.Err != nil {
				reason = ev.Err.Error()
			}
			feed(feedClosed{Reason: reason})
		}
	})
	if err := ch.Subscribe(ctx); err != nil {
		return err
	}
	b.mu.Lock()
	b.ch = ch
	first := b.watchStop == nil
	stop, done := b.watchStop, b.watchDone
	if first {
		stop, done = make(chan struct{}), make(chan struct{})
		b.watchStop, b.watchDone = stop, done
	}
	b.mu.Unlock()
	if first {
		go b.watchConn(feed, stop, done)
	}
	return nil
}

// roomChannelOptions are the options of a room's channel: presence keyed by our user id, our
// own broadcasts echoed, and private, so that Supabase Realtime Authorization admits only the
// room's members (the embedded server enforces membership on room topics either way).
func roomChannelOptions(userID string) realtime.ChannelOptions {
	return realtime.ChannelOptions{PresenceKey: userID, BroadcastSelf: true, Private: true}
}

// watchConn reports the socket's connection state to the session until stop is closed.
// stop and done are passed in because Close clears the fields while this runs.
func (b *rtBackend) watchConn(feed func(any), stop, done chan struct{}) {
	defer close(done)
	for {
		st, changed := b.sock.Watch()
		c := Connection{RetryAt: st.RetryAt}
		switch st.Status {
		case realtime.StatusConnecting:
			c.State = ConnConnecting
		case realtime.StatusConnected:
			c.State = ConnConnected
		case realtime.StatusReconnecting:
			c.State = ConnReconnecting
		default:
			c.State = ConnClosed
		}
		if st.Err != nil {
			c.Err = st.Err.Error()
		}
		feed(feedConn{Conn: c})
		select {
		case <-changed:
		case <-stop:
			return
		}
	}
}

func (b *rtBackend) channel() *realtime.Channel {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.ch
}

func (b *rtBackend) Track(ctx context.Context, payload presence) error {
	ch := b.channel()
	if ch == nil {
		return realtime.ErrNotSubscribed
	}
	_, err := ch.Track(ctx, payload)
	return err
}

func (b *rtBackend) Unsubscribe(ctx context.Context) error {
	ch := b.channel()
	if ch == nil {
		return nil
	}
	ch.Untrack(ctx)
	return ch.Unsubscribe(ctx)
}

func (b *rtBackend) Close() error {
	b.mu.Lock()
	stop, done := b.watchStop, b.watchDone
	b.watchStop = nil
	b.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
	b.sock.Close()
	return b.Remote.Close()
}

// Join joins a room on srv and follows it (see Options).
func Join(ctx context.Context, srv Server, opts Options) (*Session, error) {
	r, err := Connect(ctx, srv)
	if err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = srv.Logger
	}
	be, err := newRTBackend(r, opts.Logger)
	if err != nil {
		r.Close()
		return nil, err
	}
	be.inviteSecret = opts.InviteSecret
	s, err := join(ctx, be, opts, nil)
	if err != nil {
		be.Close()
		return nil, err
	}
	return s, nil
}

// Host starts a party on srv: it launches mpv with opts.Media (paused at the start, to learn
// its length), creates a room with it, and joins that room as its host. With opts.RoomID set it
// resumes that room instead (after a crash): joining gives its owner the host role back.
func Host(ctx context.Context, srv Server, opts Options, title string) (*Session, error) {
	if opts.Media == "" {
		return nil, errors.New("nothing to play: pass --media FILE or URL")
	}
	name, err := CheckUsername(opts.Username)
	if err != nil {
		return nil, err
	}
	opts.Username = name
	r, err := Connect(ctx, srv)
	if err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = srv.Logger
	}
	p, err := player.Launch(ctx, opts.MPV.launchOptions())
	if err != nil {
		r.Close()
		return nil, err
	}
	fail := func(err error) (*Session, error) {
		p.Close()
		r.Close()
		return nil, err
	}
	if err := p.Load(ctx, opts.Media, 0, true); err != nil {
		return fail(fmt.Errorf("play %s: %w", opts.Media, err))
	}
	nr := NewRoom{Username: opts.Username, MediaTitle: title, MediaDuration: p.Duration(), ReadyMode: opts.ReadyMode,
		WaitLimit: opts.WaitLimit}
	if party.CheckMediaURL(opts.Media) == nil {
		// An http(s) URL friends can play; a local path means nothing to them, and any other
		// mpv URL (av://, edl://, file://) is for this machine only.
		nr.MediaURL = opts.Media
	}
	be, err := newRTBackend(r, opts.Logger)
	if err != nil {
		return fail(err)
	}
	if opts.RoomID == "" {
		nr.ClientID = be.clientID // the session's own client: its leave is the creator's leave
		created, err := r.Create(ctx, nr)
		if err != nil {
			p.Close()
			be.Close() // and r
			return nil, fmt.Errorf("create the room: %w", err)
		}
		opts.RoomID, opts.InviteSecret = created.RoomID, created.InviteSecret
	}
	// else: resuming opts.RoomID; joining it gives the owner the host role back.
	s, err := join(ctx, be, opts, p)
	if err != nil {
		p.Close()
		be.Close()
		return nil, err
	}
	return s, nil
}

// decodeMembers reads member rows; a row that cannot be read is left out.
func decodeMembers(rows []map[string]any) []party.Member {
	out := make([]party.Member, 0, len(rows))
	for _, r := range rows {
		if m, err := party.ParseMemberRow(r); err == nil {
			out = append(out, m)
		}
	}
	return out
}

// decodeMemberChange reads a room_members change: the new row, or for a DELETE the old one,
// which may carry only its keys.
func decodeMemberChange(typ string, newRow, oldRow map[string]any) feedMember {
	row := newRow
	if typ == "DELETE" {
		row = oldRow
	}
	m, err := party.ParseMemberRow(row)
	if err != nil && typ == "DELETE" {
		m.UserID, _ = row["user_id"].(string)
		m.RoomID, _ = row["room_id"].(string)
		err = nil
	}
	return feedMember{Type: typ, Member: m, Err: err}
}

// decodeComment reads a comments row (names and text sanitised).
func decodeComment(row map[string]any) Comment {
	c := Comment{}
	if v, ok := row["id"].(float64); ok {
		c.ID = int64(v)
	} else if v, ok := row["id"].(json.Number); ok {
		c.ID, _ = v.Int64()
	}
	c.UserID, _ = row["user_id"].(string)
	name, _ := row["username"].(string)
	msg, _ := row["message"].(string)
	c.Username, c.Message = Sanitize(name), SanitizeMultiline(msg)
	switch v := row["video_timestamp"].(type) {
	case float64:
		c.VideoTime = &v
	case json.Number:
		f, _ := v.Float64()
		c.VideoTime = &f
	}
	if at, ok := row["created_at"].(string); ok {
		c.At, _ = party.ParseTimestamp(at)
	}
	c.System, _ = row["is_system_message"].(bool)
	return c
}

// Error kinds of the backend, for exit codes: errors.Is(err, room.ErrRoomNotFound).
var (
	ErrRoomNotFound = realtime.ErrNotFound
	ErrNotAllowed   = realtime.ErrNotAllowed
	ErrInvalid      = realtime.ErrInvalid
	ErrUnauthorized = realtime.ErrUnauthorized
)

// userError rewords a backend error for a person: the server's message, lower-case, without
// the protocol details (which stay in the log); errors.Is still sees the kind.
type userError struct {
	msg string
	err error
}

func (e *userError) Error() string { return e.msg }
func (e *userError) Unwrap() error { return e.err }

func friendly(roomID string, err error) error {
	var api *realtime.APIError
	if !errors.As(err, &api) {
		return err
	}
	msg := strings.ToLower(strings.TrimSuffix(api.Message, "."))
	switch {
	case errors.Is(err, realtime.ErrNotFound) && roomID != "":
		msg = "room " + roomID + " not found"
	case msg == "":
		return err
	}
	return &userError{msg: msg, err: err}
}
