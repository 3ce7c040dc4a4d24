package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// NewRoom holds the fields of a room being created.
type NewRoom struct {
	MediaURL      *string
	MediaTitle    *string
	MediaDuration *float64
	AnimeID       *string
	EpisodeNumber *int64
	ReadyMode     bool
	// InviteSecret is the room's first invite secret (NewInviteSecret); only its hash is stored.
	InviteSecret string
}

// DefaultWaitLimit is a new room's wait_limit in seconds; MaxWaitLimit the largest allowed and
// MaxWaitingFor the most members one wait may name (docs/security.md).
const (
	DefaultWaitLimit = 8
	MaxWaitLimit     = 60
	MaxWaitingFor    = 16
)

const roomIDAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// NewRoomID returns a random 10-character [a-z0-9] room id (about 51 bits: unguessable in practice).
func NewRoomID() string {
	b := make([]byte, 10)
	rand.Read(b)
	for i := range b {
		// 256 % 36 = 4: a negligible bias, and ids need only be unguessable, not uniform.
		b[i] = roomIDAlphabet[int(b[i])%len(roomIDAlphabet)]
	}
	return string(b)
}

// CreateRoom creates a room hosted and owned by userID and adds the host, from client clientID,
// as its first member (announced: the creator's room has no "joined" notice).
func (s *Store) CreateRoom(ctx context.Context, userID, username, clientID string, nr NewRoom) (Room, Member, error) {
	now := FormatTime(s.now())
	room := Room{
		RoomID: NewRoomID(), HostUserID: userID, MediaURL: nr.MediaURL, MediaTitle: nr.MediaTitle,
		MediaDuration: nr.MediaDuration, AnimeID: nr.AnimeID, EpisodeNumber: nr.EpisodeNumber,
		PlaybackRate: 1, UpdatedAt: now, CreatedAt: now, OwnerUserID: userID,
		WaitingFor: []string{}, WaitLimit: DefaultWaitLimit, ReadyMode: nr.ReadyMode,
	}
	member := Member{RoomID: room.RoomID, UserID: userID, Username: username, Role: "host", LastSeen: now, JoinedAt: now, Announced: true}
	err := s.write(ctx, func(tx *sql.Tx, w *changeSet) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO rooms (room_id, host_user_id, media_url, media_title, media_duration,
			anime_id, episode_number, is_playing, "current_time", playback_rate, state_version, updated_at, created_at,
			owner_user_id, owner_handed_over, ready_mode)
			VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0, 1, 0, ?, ?, ?, 0, ?)`,
			room.RoomID, userID, nr.MediaURL, nr.MediaTitle, nr.MediaDuration, nr.AnimeID, nr.EpisodeNumber, now, now, userID, nr.ReadyMode)
		if err != nil {
			return fmt.Errorf("insert room: %w", err)
		}
		w.add(Change{Table: "rooms", Type: "INSERT", Columns: RoomColumns, Record: room.Record()})
		if err := insertMember(ctx, tx, member); err != nil {
			return err
		}
		w.add(Change{Table: "room_members", Type: "INSERT", Columns: MemberColumns, Record: member.Record()})
		w.memberships = append(w.memberships, membership{room.RoomID, userID, true})
		if nr.InviteSecret != "" {
			if err := storeInvite(ctx, tx, room.RoomID, nr.InviteSecret, now); err != nil {
				return err
			}
		}
		return s.touchClient(ctx, tx, room.RoomID, userID, clientID, now, false)
	})
	return room, member, err
}

func insertMember(ctx context.Context, tx *sql.Tx, m Member) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO room_members (room_id, user_id, username, role, "current_time", is_playing, last_seen, joined_at, announced)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, m.RoomID, m.UserID, m.Username, m.Role, m.CurrentTime, m.IsPlaying, m.LastSeen, m.JoinedAt, m.Announced)
	if err != nil {
		return fmt.Errorf("insert member: %w", err)
	}
	return nil
}

func insertSystemComment(ctx context.Context, tx *sql.Tx, w *changeSet, room Room, message, now string) error {
	c := Comment{RoomID: room.RoomID, AnimeID: room.AnimeID, EpisodeNumber: room.EpisodeNumber,
		Username: "system", Message: message, IsSystemMessage: true, CreatedAt: now}
	return insertComment(ctx, tx, w, &c)
}

func insertComment(ctx context.Context, tx *sql.Tx, w *changeSet, c *Comment) error {
	res, err := tx.ExecContext(ctx, `INSERT INTO comments (room_id, anime_id, episode_number, user_id, username, message,
		video_timestamp, is_system_message, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.RoomID, c.AnimeID, c.EpisodeNumber, c.UserID, c.Username, c.Message, c.VideoTimestamp, c.IsSystemMessage, c.CreatedAt)
	if err != nil {
		return fmt.Errorf("insert comment: %w", err)
	}
	if c.ID, err = res.LastInsertId(); err != nil {
		return err
	}
	w.add(Change{Table: "comments", Type: "INSERT", Columns: CommentColumns, Record: c.Record()})
	return nil
}

// JoinRoom makes userID a member of roomID from client clientID. Joining again (a reconnect,
// another window) keeps the role and adds nothing; only a changed username is updated. A new
// member, or one who left, is current again but not announced: "<name> joined the room" comes
// with their first liveness beat (TrackPresence), so a join that fails before its client is up
// never shows. The owner coming back takes the host role back (ownerReturns).
func (s *Store) JoinRoom(ctx context.Context, roomID, userID, username, clientID string) (Room, Member, []Member, error) {
	return s.join(ctx, roomID, userID, username, clientID, nil)
}

// JoinInvited is JoinRoom as rooms/join does it: the invite rules (admit, invite.go) are checked
// in the same transaction. secret is the join's invite_secret ("" when it has none).
func (s *Store) JoinInvited(ctx context.Context, roomID, userID, username, clientID, secret string) (Room, Member, []Member, error) {
	return s.join(ctx, roomID, userID, username, clientID, &secret)
}

func (s *Store) join(ctx context.Context, roomID, userID, username, clientID string, secret *string) (Room, Member, []Member, error) {
	var room Room
	var member Member
	var members []Member
	err := s.write(ctx, func(tx *sql.Tx, w *changeSet) error {
		var err error
		if room, err = scanRoom(tx.QueryRowContext(ctx, roomSelect+` WHERE room_id = ?`, roomID)); err != nil {
			return err
		}
		if secret != nil {
			if err := admit(ctx, tx, roomID, userID, *secret); err != nil {
				return err
			}
		}
		if err := s.flushRoom(ctx, tx, w, roomID); err != nil {
			return err
		}
		now := FormatTime(s.now())
		role := "member"
		if room.HostUserID == userID {
			role = "host" // the host of an emptied room coming back
		}
		member, err = scanMember(tx.QueryRowContext(ctx, memberSelect+` WHERE room_id = ? AND user_id = ?`, roomID, userID))
		switch {
		case errors.Is(err, ErrNotMember):
			member = Member{RoomID: roomID, UserID: userID, Username: username, Role: role, LastSeen: now, JoinedAt: now}
			if err := insertMember(ctx, tx, member); err != nil {
				return err
			}
			w.add(Change{Table: "room_members", Type: "INSERT", Columns: MemberColumns, Record: member.Record()})
			w.memberships = append(w.memberships, membership{roomID, userID, true})
		case err != nil:
			return err
		case !member.Current():
			old := member
			member.Username, member.Role, member.LastSeen, member.JoinedAt, member.LeftAt = username, role, now, now, nil
			member.CurrentTime, member.IsPlaying, member.Announced = 0, false, false
			member.MediaFP, member.MediaDuration = nil, nil // the new client reports its own
			if _, err := tx.ExecContext(ctx, `UPDATE room_members SET username = ?, role = ?, "current_time" = 0, is_playing = 0,
				last_seen = ?, joined_at = ?, left_at = NULL, announced = 0, media_fp = NULL, media_duration = NULL WHERE room_id = ? AND user_id = ?`,
				username, role, now, now, roomID, userID); err != nil {
				return err
			}
			w.add(Change{Table: "room_members", Type: "UPDATE", Columns: MemberColumns, Record: member.Record(), OldRecord: old.Record()})
			w.memberships = append(w.memberships, membership{roomID, userID, true})
		default:
			old := member
			member.Username, member.LastSeen = username, now
			if _, err := tx.ExecContext(ctx, `UPDATE room_members SET username = ?, last_seen = ? WHERE room_id = ? AND user_id = ?`,
				username, now, roomID, userID); err != nil {
				return err
			}
			w.add(Change{Table: "room_members", Type: "UPDATE", Columns: MemberColumns, Record: member.Record(), OldRecord: old.Record()})
		}
		if err := s.touchClient(ctx, tx, roomID, userID, clientID, now, false); err != nil {
			return err
		}
		return s.ownerReturns(ctx, tx, w, &room, &member, now)
	})
	if err == nil {
		members, err = listMembers(ctx, s.db, roomID)
		s.overlay(roomID, members)
	}
	return room, member, members, err
}

// notice writes a join/leave system comment about userID, unless the notice budget
// (Options.AllowNotice) says this member or room has had enough of them lately: a loop of joins
// and leaves must not flood everyone's comments. The membership change itself always happens.
func (s *Store) notice(ctx context.Context, tx *sql.Tx, w *changeSet, room Room, userID, message, now string) error {
	if s.allowNotice != nil && !s.allowNotice(room.RoomID, userID) {
		return nil
	}
	return insertSystemComment(ctx, tx, w, room, message, now)
}

func listMembers(ctx context.Context, q interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}, roomID string) ([]Member, error) {
	// Joined first, first; a millisecond tie (a creator and the first to join, two quick joins)
	// goes by insertion order, not by the random user ids.
	rows, err := q.QueryContext(ctx, memberSelect+` WHERE room_id = ? AND left_at IS NULL ORDER BY joined_at, rowid`, roomID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	members := []Member{}
	for rows.Next() {
		m, err := scanMember(rows)
		if err != nil {
			return nil, err
		}
		members = append(members, m)
	}
	return members, rows.Err()
}

// LeaveRoom takes client clientID of userID out of roomID ("" = all the person's clients). The
// person leaves when no client of theirs is left: the row stays, with left_at set (a soft leave,
// published as an UPDATE only current members receive), and a leaving host hands the room to the
// next heir. It returns the room as it is afterwards.
func (s *Store) LeaveRoom(ctx context.Context, roomID, userID, clientID string) (Room, error) {
	var room Room
	err := s.write(ctx, func(tx *sql.Tx, w *changeSet) error {
		var err error
		if room, err = scanRoom(tx.QueryRowContext(ctx, roomSelect+` WHERE room_id = ?`, roomID)); err != nil {
			return err
		}
		member, err := scanCurrentMember(tx.QueryRowContext(ctx, memberSelect+` WHERE room_id = ? AND user_id = ?`, roomID, userID))
		if err != nil {
			return err
		}
		if err := s.flushRoom(ctx, tx, w, roomID); err != nil {
			return err
		}
		if clientID != "" {
			if _, err := tx.ExecContext(ctx, `DELETE FROM room_clients WHERE room_id = ? AND user_id = ? AND client_id = ?`, roomID, userID, clientID); err != nil {
				return err
			}
			// Only a client that has beaten keeps the person in: the client rooms/create makes
			// for a script (`watchparty create`), or a window whose join failed, never has.
			var left int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM room_clients WHERE room_id = ? AND user_id = ?
				AND last_seen >= joined_at`, roomID, userID).Scan(&left); err != nil {
				return err
			}
			if left > 0 {
				return nil // another window of the same person is still here
			}
		}
		return s.personLeaves(ctx, tx, w, &room, member, leftOnPurpose, FormatTime(s.now()))
	})
	return room, err
}

// ExpireIdleRooms deletes, with their members and comments, the rooms that nobody has been seen
// in and nobody has controlled since before cutoff. It returns how many it deleted. Nothing is
// published: a room idle this long has nobody listening.
func (s *Store) ExpireIdleRooms(ctx context.Context, cutoff time.Time) (int, error) {
	at := FormatTime(cutoff)
	var ids []string
	err := s.write(ctx, func(tx *sql.Tx, w *changeSet) error {
		if _, err := s.flushWhere(ctx, tx, w, nil, anyMember, 0); err != nil {
			return err
		}
		var err error
		ids, err = queryIDs(ctx, tx, `SELECT room_id FROM rooms WHERE updated_at < ? AND NOT EXISTS
			(SELECT 1 FROM room_members m WHERE m.room_id = rooms.room_id AND m.last_seen >= ?)`, at, at)
		if err != nil {
			return err
		}
		for _, id := range ids {
			// Members and comments go with the room (ON DELETE CASCADE).
			if _, err := tx.ExecContext(ctx, `DELETE FROM rooms WHERE room_id = ?`, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	s.membersMu.Lock()
	for _, id := range ids {
		delete(s.members, id)
	}
	s.membersMu.Unlock()
	s.forgetRooms(ids)
	return len(ids), nil
}

// Control is a host's playback action.
type Control struct {
	Action       string // play | pause | seek | sync | rate | wait
	CurrentTime  float64
	PlaybackRate *float64
	// PositionAt, when set, is the server-clock instant at which the host read CurrentTime
	// (the client's estimate): while the room plays, the stored position is moved on to the
	// write's updated_at, so the request's trip to the server (which varies from one request
	// to the next) does not shift the room's timeline. At most MaxPositionAge is added.
	PositionAt *time.Time
	// WaitingFor is a wait's members (action wait): current members, no duplicates, at most
	// MaxWaitingFor; the caller checks the list's shape, ControlRoom their membership.
	WaitingFor []string
	// Force plays a room in ready mode at once, ready or not (docs/api.md, "The ready check").
	Force bool
}

// ErrNotWaitable is a wait naming someone who is not a current member of the room.
var ErrNotWaitable = errors.New("waiting_for must list current members of the room")

// MaxPositionAge bounds how far a control's position_at may move its position on: a client
// with a wrong clock can shift the room by no more than this.
const MaxPositionAge = 2 * time.Second

// ControlRoom applies a control of the host (or a co-host) and bumps state_version. A play in ready mode while a
// live member is not ready (and without Force) leaves the room paused with its start pending
// and returns a *NotReadyError.
func (s *Store) ControlRoom(ctx context.Context, roomID, userID string, c Control) (Room, error) {
	var room Room
	var notReady *NotReadyError
	err := s.write(ctx, func(tx *sql.Tx, w *changeSet) error {
		var err error
		if room, err = s.hostsRoom(ctx, tx, roomID, userID); errors.Is(err, ErrNotHost) {
			// A co-host controls playback too (invite.go).
			if ok, cerr := mayControl(ctx, tx, room, userID); cerr != nil || ok {
				err = cerr
			}
		}
		if err != nil {
			return err
		}
		old := room
		switch c.Action {
		case "play":
			if room.ReadyMode && !room.IsPlaying && !c.Force {
				if err := s.flushRoom(ctx, tx, w, roomID); err != nil {
					return err
				}
				waiting, err := s.notReady(ctx, tx, room)
				if err != nil {
					return err
				}
				if len(waiting) > 0 {
					// Not an error for the transaction: the pending start is stored.
					room.StartPending, room.WaitingFor = true, []string{}
					room.CurrentTime = s.clampToMedia(room, c.CurrentTime)
					room.StateVersion++
					room.UpdatedAt = FormatTime(s.now())
					notReady = &NotReadyError{Room: room, Members: waiting}
					return writeRoomState(ctx, tx, w, old, room)
				}
			}
			room.IsPlaying, room.StartPending = true, false
		case "pause":
			room.IsPlaying, room.StartPending = false, false
		case "wait":
			for _, id := range c.WaitingFor {
				if !s.IsMember(roomID, id) {
					return ErrNotWaitable
				}
			}
			room.IsPlaying = false
		case "seek":
			room.StartPending = false
		case "sync", "rate":
		default:
			return fmt.Errorf("unknown action %q", c.Action)
		}
		if c.PlaybackRate != nil {
			room.PlaybackRate = *c.PlaybackRate
		}
		now := s.now()
		if c.PositionAt != nil && room.IsPlaying {
			age := min(max(now.Sub(*c.PositionAt), 0), MaxPositionAge)
			c.CurrentTime += age.Seconds() * room.PlaybackRate
		}
		room.CurrentTime = s.clampToMedia(room, c.CurrentTime)
		room.StateVersion++
		room.UpdatedAt = FormatTime(now)
		switch c.Action {
		case "wait":
			room.WaitingFor = c.WaitingFor
		case "play", "pause", "seek":
			room.WaitingFor = []string{}
		}
		return writeRoomState(ctx, tx, w, old, room)
	})
	if err == nil && notReady != nil {
		return room, notReady
	}
	return room, err
}

// clampToMedia clamps a position to the room's media duration when it is known.
func (s *Store) clampToMedia(room Room, pos float64) float64 {
	if room.MediaDuration != nil && *room.MediaDuration > 0 && pos > *room.MediaDuration {
		return *room.MediaDuration
	}
	return pos
}

// NewComment holds the fields of a comment being posted.
type NewComment struct {
	Message        string
	VideoTimestamp *float64
	AnimeID        *string
	EpisodeNumber  *int64
}

// AddComment posts a member's comment.
func (s *Store) AddComment(ctx context.Context, roomID, userID string, nc NewComment) (Comment, error) {
	var c Comment
	err := s.write(ctx, func(tx *sql.Tx, w *changeSet) error {
		room, err := scanRoom(tx.QueryRowContext(ctx, roomSelect+` WHERE room_id = ?`, roomID))
		if err != nil {
			return err
		}
		member, err := scanCurrentMember(tx.QueryRowContext(ctx, memberSelect+` WHERE room_id = ? AND user_id = ?`, roomID, userID))
		if err != nil {
			return err
		}
		c = Comment{RoomID: roomID, AnimeID: nc.AnimeID, EpisodeNumber: nc.EpisodeNumber, UserID: &userID,
			Username: member.Username, Message: nc.Message, VideoTimestamp: nc.VideoTimestamp, CreatedAt: FormatTime(s.now())}
		if c.AnimeID == nil {
			c.AnimeID = room.AnimeID
		}
		if c.EpisodeNumber == nil {
			c.EpisodeNumber = room.EpisodeNumber
		}
		return insertComment(ctx, tx, w, &c)
	})
	return c, err
}

// presenceWrite is one queued track_user_presence write.
type presenceWrite struct {
	roomID, userID string
	clientID       string // "" = every client of the person
	currentTime    float64
	playing        bool
	buffering      bool
	media          *MediaReport // nil: no report
	err            error
	done           chan struct{} // closed once err is final
}

// TrackPresence records a member's liveness and player state (every member's 3 s call:
// docs/design.md §7.8). See Beat.
func (s *Store) TrackPresence(ctx context.Context, roomID, userID, clientID string, currentTime float64, playing bool) error {
	_, err := s.Beat(ctx, roomID, userID, clientID, currentTime, playing, false)
	return err
}

// MediaReport is what a beat says of the member's media ("Same file?", docs/api.md): a nil
// field leaves the stored value as it is; an empty FP clears the fingerprint.
type MediaReport struct {
	FP       *string
	Duration *float64
}

// changes reports whether r would change the row m.
func (r *MediaReport) changes(m Member) bool {
	if r == nil {
		return false
	}
	if r.FP != nil && (*r.FP == "") != (m.MediaFP == nil) || r.FP != nil && m.MediaFP != nil && *r.FP != *m.MediaFP {
		return true
	}
	return r.Duration != nil && (m.MediaDuration == nil || *m.MediaDuration != *r.Duration)
}

// apply writes r into m.
func (r *MediaReport) apply(m *Member) {
	if r.FP != nil {
		m.MediaFP = nil
		if *r.FP != "" {
			fp := *r.FP
			m.MediaFP = &fp
		}
	}
	if r.Duration != nil {
		d := *r.Duration
		m.MediaDuration = &d
	}
}

// mediaChanges reports whether a beat's media report may change the member's row: a beat that
// does takes the slow path (a write, always published). Without the member in memory the beat
// takes the slow path anyway.
func (s *Store) mediaChanges(roomID, userID string, media *MediaReport) bool {
	if media == nil {
		return false
	}
	s.live.mu.Lock()
	defer s.live.mu.Unlock()
	m := s.live.member(roomID, userID)
	return m == nil || media.changes(m.row)
}

// BeatMedia is Beat with a media report (nil: none), written and published when it changes the
// member's row.
func (s *Store) BeatMedia(ctx context.Context, roomID, userID, clientID string, currentTime float64, playing, buffering bool, media *MediaReport) (published bool, err error) {
	if !s.mediaChanges(roomID, userID, media) {
		return s.Beat(ctx, roomID, userID, clientID, currentTime, playing, buffering)
	}
	return s.slowBeat(ctx, &presenceWrite{roomID: roomID, userID: userID, clientID: clientID, currentTime: currentTime,
		playing: playing, buffering: buffering, media: media, done: make(chan struct{})})
}

// Beat records a member's liveness beat and reports whether it was published as a row change.
//
// Most beats change nothing a screen shows and stay in memory (beats.go). The others take the
// slow path, a write, and concurrent slow beats are committed together (group commit): each
// call queues its write, and one caller at a time commits everything queued in one transaction
// (commitBeats). A write that fails on its own (not a member, no such room) fails alone; any
// other error fails the batch.
func (s *Store) Beat(ctx context.Context, roomID, userID, clientID string, currentTime float64, playing, buffering bool) (published bool, err error) {
	if handled, published := s.fastBeat(roomID, userID, clientID, currentTime, playing, buffering); handled {
		return published, nil
	}
	return s.slowBeat(ctx, &presenceWrite{roomID: roomID, userID: userID, clientID: clientID, currentTime: currentTime, playing: playing,
		buffering: buffering, done: make(chan struct{})})
}

// slowBeat queues a beat's write and waits for it (see Beat).
func (s *Store) slowBeat(ctx context.Context, pw *presenceWrite) (published bool, err error) {
	s.presMu.Lock()
	s.presQueue = append(s.presQueue, pw)
	lead := !s.presBusy
	s.presBusy = true
	s.presMu.Unlock()
	if lead {
		// The first caller commits batches until the queue is empty; the others only wait for
		// their write (before, each took the write lock in turn to find its write done: a
		// convoy of thousands of lock hand-offs when a wave of slow beats came in at once).
		// The batch carries other callers' writes: it must not fail because this caller went away.
		s.commitBeats(context.WithoutCancel(ctx))
	}
	<-pw.done
	return pw.err == nil, pw.err
}

// commitBeats commits queued slow beats, a batch per transaction, until none is queued.
func (s *Store) commitBeats(ctx context.Context) {
	for {
		s.presMu.Lock()
		batch := s.presQueue
		s.presQueue = nil
		if len(batch) == 0 {
			s.presBusy = false
			s.presMu.Unlock()
			return
		}
		s.presMu.Unlock()
		err := s.write(ctx, func(tx *sql.Tx, w *changeSet) error {
			for _, p := range batch {
				p.err = s.trackPresence(ctx, tx, w, p)
				if p.err != nil && !errors.Is(p.err, ErrNotMember) && !errors.Is(p.err, ErrRoomNotFound) {
					return p.err
				}
			}
			return nil
		})
		for _, p := range batch {
			if err != nil {
				p.err = err
			}
			close(p.done)
		}
	}
}

// trackPresence is a beat's slow path: the member's row written and published, their client
// recorded, the announcement and the owner's return, and what the next beats need in memory.
func (s *Store) trackPresence(ctx context.Context, tx *sql.Tx, w *changeSet, p *presenceWrite) error {
	if err := s.flushRoom(ctx, tx, w, p.roomID); err != nil {
		return err
	}
	sel, err := s.prepared(ctx, tx, memberSelect+` WHERE room_id = ? AND user_id = ?`)
	if err != nil {
		return err
	}
	upd, err := s.prepared(ctx, tx, `UPDATE room_members SET "current_time" = ?, is_playing = ?, buffering = ?, last_seen = ? WHERE room_id = ? AND user_id = ?`)
	if err != nil {
		return err
	}
	member, err := scanCurrentMember(sel.QueryRowContext(ctx, p.roomID, p.userID))
	if errors.Is(err, ErrNotMember) {
		if _, rerr := scanRoom(tx.QueryRowContext(ctx, roomSelect+` WHERE room_id = ?`, p.roomID)); rerr != nil {
			return rerr
		}
	}
	if err != nil {
		return err
	}
	old := member
	at := s.now()
	now := FormatTime(at)
	// A member's first beat announces them: their client is up (a join that fails before
	// that never shows).
	announcing := !member.Announced
	member.CurrentTime, member.IsPlaying, member.Buffering, member.LastSeen, member.Announced = p.currentTime, p.playing, p.buffering, now, true
	if announcing {
		_, err = tx.ExecContext(ctx, `UPDATE room_members SET "current_time" = ?, is_playing = ?, buffering = ?, last_seen = ?, announced = 1
			WHERE room_id = ? AND user_id = ?`, p.currentTime, p.playing, p.buffering, now, p.roomID, p.userID)
	} else {
		_, err = upd.ExecContext(ctx, p.currentTime, p.playing, p.buffering, now, p.roomID, p.userID)
	}
	if err != nil {
		return err
	}
	if p.media.changes(member) {
		p.media.apply(&member)
		if _, err := tx.ExecContext(ctx, `UPDATE room_members SET media_fp = ?, media_duration = ? WHERE room_id = ? AND user_id = ?`,
			ptr(member.MediaFP), ptr(member.MediaDuration), p.roomID, p.userID); err != nil {
			return err
		}
	}
	w.add(Change{Table: "room_members", Type: "UPDATE", Columns: MemberColumns, Record: member.Record(), OldRecord: old.Record()})
	if err := s.beatClients(ctx, tx, p.roomID, p.userID, p.clientID, now); err != nil {
		return err
	}
	room, err := scanRoom(tx.QueryRowContext(ctx, roomSelect+` WHERE room_id = ?`, p.roomID))
	if err != nil {
		return err
	}
	if announcing {
		if err := s.notice(ctx, tx, w, room, p.userID, member.Username+" joined the room", now); err != nil {
			return err
		}
	}
	if member.Role != "host" {
		if err := s.ownerReturns(ctx, tx, w, &room, &member, now); err != nil {
			return err
		}
	}
	return s.learn(ctx, tx, w, room, member, at)
}

// RoomState returns a room and its members.
func (s *Store) RoomState(ctx context.Context, roomID string) (Room, []Member, error) {
	room, err := scanRoom(s.db.QueryRowContext(ctx, roomSelect+` WHERE room_id = ?`, roomID))
	if err != nil {
		return room, nil, err
	}
	members, err := listMembers(ctx, s.db, roomID)
	s.overlay(roomID, members)
	return room, members, err
}

// CommentQuery is the PostgREST subset the comments read supports.
type CommentQuery struct {
	Eq     map[string]string // column → value (text comparison)
	Order  []OrderBy
	Limit  int // 0 = no limit
	Offset int
	// ReaderID limits the rows to rooms the reader has joined (row level security); "" reads nothing.
	ReaderID string
}

// OrderBy is one ORDER BY term.
type OrderBy struct {
	Column string
	Desc   bool
}

// CommentColumnNames is the set of columns a query may filter or order by.
var CommentColumnNames = func() map[string]bool {
	m := map[string]bool{}
	for _, c := range CommentColumns {
		m[c.Name] = true
	}
	return m
}()

// ListComments runs q. Column names must be validated by the caller against CommentColumnNames.
func (s *Store) ListComments(ctx context.Context, q CommentQuery) ([]Comment, error) {
	var where []string
	var args []any
	where = append(where, `room_id IN (SELECT room_id FROM room_members WHERE user_id = ? AND left_at IS NULL)`)
	args = append(args, q.ReaderID)
	for col, v := range q.Eq {
		if !CommentColumnNames[col] {
			return nil, fmt.Errorf("unknown column %q", col)
		}
		if col == "is_system_message" {
			// Booleans are stored as integers; PostgREST accepts true/false.
			switch strings.ToLower(v) {
			case "true", "t":
				v = "1"
			case "false", "f":
				v = "0"
			}
		}
		where = append(where, fmt.Sprintf(`CAST(%q AS TEXT) = ?`, col))
		args = append(args, v)
	}
	query := commentSelect + ` WHERE ` + strings.Join(where, " AND ")
	var order []string
	for _, o := range q.Order {
		if !CommentColumnNames[o.Column] {
			return nil, fmt.Errorf("unknown column %q", o.Column)
		}
		dir := "ASC"
		if o.Desc {
			dir = "DESC"
		}
		order = append(order, fmt.Sprintf("%q %s", o.Column, dir))
	}
	if len(order) > 0 {
		// id breaks ties in the last term's direction: same-millisecond comments keep insert order.
		tie := "id ASC"
		if q.Order[len(q.Order)-1].Desc {
			tie = "id DESC"
		}
		query += ` ORDER BY ` + strings.Join(order, ", ") + `, ` + tie
	}
	if q.Limit > 0 || q.Offset > 0 {
		limit := q.Limit
		if limit <= 0 {
			limit = -1
		}
		query += fmt.Sprintf(` LIMIT %d OFFSET %d`, limit, q.Offset)
	}
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Comment{}
	for rows.Next() {
		c, err := scanComment(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// queryIDs runs a query of one text column in tx and returns its values.
func queryIDs(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]string, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
