package syncbench

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/watchparty/watchparty/room"
)

// Party starts room sessions against one server: each member is a different user (its own
// session dir) with its own mpv on its own IPC socket, so a test or the benchmark can talk to
// every mpv directly. Safe for concurrent use.
type Party struct {
	Server *Server
	// Media is the file every member plays (each with "its own copy").
	Media string
	// MPVArgs are extra mpv arguments; default --vo=null --ao=null.
	MPVArgs []string
	// Logger receives the sessions' diagnostics; nil discards.
	Logger *slog.Logger
	// Trace, if set, records every member's session log (all levels) under its name.
	Trace *Trace
	// ClientURL, if set, is the URL members reach the server through (a DelayProxy's) instead
	// of Server.URL.
	ClientURL string
	// Options, if set, adjusts each member's session options (by name) before it starts.
	Options func(name string, o *room.Options)

	dir     string // session dirs
	sockDir string // short path: unix socket paths are limited to about 100 bytes

	invitesMu sync.Mutex
	invites   map[string]string // room id → invite secret, of the rooms Host created

	mu      sync.Mutex
	n       int
	members []*Member
}

// NewParty prepares a party on srv playing media, keeping per-member files under dir.
func NewParty(srv *Server, media, dir string) (*Party, error) {
	sockDir, err := os.MkdirTemp("", "wpb")
	if err != nil {
		return nil, err
	}
	return &Party{Server: srv, Media: media, dir: dir, sockDir: sockDir}, nil
}

// Close closes every member's session that is still open (without leaving the room) and
// removes the socket dir.
func (p *Party) Close() {
	p.mu.Lock()
	ms := append([]*Member(nil), p.members...)
	p.mu.Unlock()
	for _, m := range ms {
		m.Close()
	}
	os.RemoveAll(p.sockDir)
}

func (p *Party) newMember(name string) (*Member, room.Server, room.Options) {
	p.mu.Lock()
	p.n++
	n := p.n
	p.mu.Unlock()
	args := p.MPVArgs
	if args == nil {
		args = []string{"--vo=null", "--ao=null"}
	}
	url := p.Server.URL
	if p.ClientURL != "" {
		url = p.ClientURL
	}
	logger := p.Logger
	if p.Trace != nil {
		var next slog.Handler
		if p.Logger != nil {
			next = p.Logger.Handler()
		}
		logger = slog.New(p.Trace.Handler(name, next))
	}
	srv := room.Server{URL: url, AnonKey: p.Server.AnonKey,
		SessionDir: filepath.Join(p.dir, fmt.Sprintf("user%d", n)), Logger: logger}
	m := &Member{Name: name, Socket: filepath.Join(p.sockDir, fmt.Sprintf("%d.sock", n)), Server: srv}
	opts := room.Options{Username: name, Media: p.Media, Logger: logger,
		MPV: room.MPV{Socket: m.Socket, Args: args}}
	if p.Options != nil {
		p.Options(name, &opts)
	}
	return m, srv, opts
}

func (p *Party) add(m *Member, s *room.Session) *Member {
	m.Session = s
	m.events = newRecorder(s)
	p.mu.Lock()
	p.members = append(p.members, m)
	p.mu.Unlock()
	return m
}

// Host starts a party as name: mpv with the media, a new room, joined as its host.
func (p *Party) Host(ctx context.Context, name string) (*Member, error) {
	m, srv, opts := p.newMember(name)
	s, err := room.Host(ctx, srv, opts, "bench clip")
	if err != nil {
		return nil, fmt.Errorf("host: %w", err)
	}
	p.rememberInvite(s)
	return p.add(m, s), nil
}

// rememberInvite keeps the invite secret of the room a session hosts, for the party's joins.
func (p *Party) rememberInvite(s *room.Session) {
	if secret := s.InviteSecret(); secret != "" {
		p.invitesMu.Lock()
		if p.invites == nil {
			p.invites = map[string]string{}
		}
		p.invites[s.Snapshot().RoomID] = secret
		p.invitesMu.Unlock()
	}
}

// InviteSecret is the invite secret of roomID when a member of the party created it.
func (p *Party) InviteSecret(roomID string) string {
	p.invitesMu.Lock()
	defer p.invitesMu.Unlock()
	return p.invites[roomID]
}

// Join joins roomID as name (a new user) and follows it.
func (p *Party) Join(ctx context.Context, roomID, name string) (*Member, error) {
	m, srv, opts := p.newMember(name)
	opts.RoomID, opts.InviteSecret = roomID, p.InviteSecret(roomID)
	s, err := room.Join(ctx, srv, opts)
	if err != nil {
		return nil, fmt.Errorf("join as %s: %w", name, err)
	}
	return p.add(m, s), nil
}

// JoinAs joins roomID as the same user as m (its saved session), with a new mpv: a second
// window of one person, or a person coming back after a crash.
func (p *Party) JoinAs(ctx context.Context, roomID string, m *Member) (*Member, error) {
	n, _, opts := p.newMember(m.Name)
	n.Server = m.Server
	opts.RoomID = roomID
	s, err := room.Join(ctx, n.Server, opts)
	if err != nil {
		return nil, fmt.Errorf("join again as %s: %w", m.Name, err)
	}
	return p.add(n, s), nil
}

// HostAgain resumes roomID as m's user (watchparty host --room after a crash), with a new mpv.
func (p *Party) HostAgain(ctx context.Context, roomID string, m *Member) (*Member, error) {
	n, _, opts := p.newMember(m.Name)
	n.Server = m.Server
	opts.RoomID = roomID
	s, err := room.Host(ctx, n.Server, opts, "bench clip")
	if err != nil {
		return nil, fmt.Errorf("host again as %s: %w", m.Name, err)
	}
	return p.add(n, s), nil
}

// Member is one session of a party with the notices it has received. WaitNotice and
// Notices are safe for concurrent use; Leave or Close ends it (once).
type Member struct {
	Name    string
	Session *room.Session
	// Socket is the member's mpv IPC socket; Attach a Probe to it.
	Socket string
	// Server is how the member reached the server, with its session dir: room.Connect with
	// it acts as the same user (as a script in another terminal would).
	Server room.Server
	events *recorder
}

// WaitNotice waits until the member has received a notice containing text (since the start
// of the session) or ctx ends.
func (m *Member) WaitNotice(ctx context.Context, text string) error {
	return m.events.wait(ctx, func(r *recorder) bool {
		for _, n := range r.notices {
			if strings.Contains(n, text) {
				return true
			}
		}
		return false
	}, func() string { return fmt.Sprintf("%s: no notice %q (got %q)", m.Name, text, m.Notices()) })
}

// WaitSystemComment waits until the member has received a system comment (a server notice:
// "X joined the room", "Y is now the host (X went quiet)") containing text, or ctx ends.
func (m *Member) WaitSystemComment(ctx context.Context, text string) error {
	return m.events.wait(ctx, func(r *recorder) bool {
		for _, c := range r.system {
			if strings.Contains(c, text) {
				return true
			}
		}
		return false
	}, func() string {
		return fmt.Sprintf("%s: no system comment %q (got %q)", m.Name, text, m.SystemComments())
	})
}

// SystemComments are the system comments received so far, in order.
func (m *Member) SystemComments() []string {
	m.events.mu.Lock()
	defer m.events.mu.Unlock()
	return append([]string(nil), m.events.system...)
}

// Notices are the notice texts received so far, in order.
func (m *Member) Notices() []string {
	m.events.mu.Lock()
	defer m.events.mu.Unlock()
	return append([]string(nil), m.events.notices...)
}

// RoomChange is a room playback state a member's session reported (RoomChanged), with when
// the event reached the party's reader.
type RoomChange struct {
	At time.Time
	room.RoomChanged
}

// RoomChanges returns the room changes received at or after since, in order.
func (m *Member) RoomChanges(since time.Time) []RoomChange {
	m.events.mu.Lock()
	defer m.events.mu.Unlock()
	var out []RoomChange
	for _, r := range m.events.rooms {
		if !r.At.Before(since) {
			out = append(out, r)
		}
	}
	return out
}

// Leave leaves the room and waits for the session's last event.
func (m *Member) Leave(ctx context.Context) error {
	err := m.Session.Leave(ctx)
	<-m.events.done
	return err
}

// Close ends the session without leaving the room and waits for its last event.
func (m *Member) Close() {
	m.Session.Close()
	<-m.events.done
}

// recorder consumes a session's events (a session's event stream has one consumer) and keeps
// the notices.
type recorder struct {
	mu      sync.Mutex
	notices []string
	system  []string // system comments
	rooms   []RoomChange
	changed chan struct{} // closed and replaced on every new notice or system comment
	done    chan struct{}
}

func newRecorder(s *room.Session) *recorder {
	r := &recorder{changed: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(r.done)
		for ev := range s.Events() {
			at := time.Now()
			r.mu.Lock()
			switch ev := ev.(type) {
			case room.RoomChanged:
				r.rooms = append(r.rooms, RoomChange{at, ev})
				r.mu.Unlock()
				continue
			case room.Notice:
				r.notices = append(r.notices, ev.Text)
			case room.CommentReceived:
				if !ev.Comment.System {
					r.mu.Unlock()
					continue
				}
				r.system = append(r.system, ev.Comment.Message)
			default:
				r.mu.Unlock()
				continue
			}
			close(r.changed)
			r.changed = make(chan struct{})
			r.mu.Unlock()
		}
	}()
	return r
}

func (r *recorder) wait(ctx context.Context, cond func(*recorder) bool, msg func() string) error {
	for {
		r.mu.Lock()
		ok, ch := cond(r), r.changed
		r.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-r.done:
			return fmt.Errorf("%s (session closed)", msg())
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", msg(), ctx.Err())
		}
	}
}
