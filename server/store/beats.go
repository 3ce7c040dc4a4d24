package store

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"
)

// Liveness beats in memory (docs/api.md, "Membership and liveness": "Which beats are published").
//
// Every member beats every 3 s. A beat that only says "still here, where the room says I should
// be" changes nothing a screen shows, so it is kept in memory: no SQLite write, no row change.
// A beat is published as a room_members row change only when a screen would show something
// different (isMaterial): the member's play state, their buffering mark, their in-sync mark (|drift| ≤ 2 s against
// the room) or, at least every Options.RowRefresh, their last_seen (screens mark a member stale
// when the last_seen they hold is 15 s old, so a live member's row must reach them well before).
//
// SQLite catches up in batches (flushes): before any write that reads a room's members or
// clients (a join, a leave, a hand-over, a beat taking the slow path), in the liveness sweep for
// every member whose stored last_seen has reached the stale time (so the sweep's queries see
// the truth exactly where they decide), before idle rooms are expired, and at Close. Readers of
// a room's member list (get_room_sync_state, join) overlay the beats not yet flushed.
//
// A beat takes the slow path (the full SQL write of trackPresence, always published) when the
// store doesn't hold the member and room in memory yet, when it announces the member, when the
// room's owner returns, or from a client not seen before.

// liveRoom is what a beat needs of a room: the position the room expects, and who owns and hosts
// it (ownerReturns).
type liveRoom struct {
	host, owner string
	handedOver  bool
	playing     bool
	pos, rate   float64
	duration    float64 // 0 = unknown
	updatedAt   time.Time
}

func liveRoomOf(r Room) *liveRoom {
	lr := &liveRoom{host: r.HostUserID, owner: r.OwnerUserID, handedOver: r.OwnerHandedOver, playing: r.IsPlaying,
		pos: r.CurrentTime, rate: r.PlaybackRate}
	if r.MediaDuration != nil {
		lr.duration = *r.MediaDuration
	}
	lr.updatedAt, _ = time.Parse(TimeFormat, r.UpdatedAt)
	return lr
}

// liveRoomOfRecord reads a rooms change record (Room.Record).
func liveRoomOfRecord(rec map[string]any) *liveRoom {
	lr := &liveRoom{}
	lr.host, _ = rec["host_user_id"].(string)
	lr.owner, _ = rec["owner_user_id"].(string)
	lr.handedOver, _ = rec["owner_handed_over"].(bool)
	lr.playing, _ = rec["is_playing"].(bool)
	lr.pos, _ = rec["current_time"].(float64)
	lr.rate, _ = rec["playback_rate"].(float64)
	lr.duration, _ = rec["media_duration"].(float64)
	at, _ := rec["updated_at"].(string)
	lr.updatedAt, _ = time.Parse(TimeFormat, at)
	return lr
}

// expected is the room's position at t (expectedAt's rule).
func (r *liveRoom) expected(t time.Time) float64 {
	pos := r.pos
	if r.playing && !r.updatedAt.IsZero() && t.After(r.updatedAt) {
		pos += t.Sub(r.updatedAt).Seconds() * r.rate
	}
	if r.duration > 0 && pos > r.duration {
		pos = r.duration
	}
	return pos
}

// InSyncThreshold is the drift, in seconds, up to which screens show a member in sync
// (docs/design.md §7.7); a beat crossing it is published.
const InSyncThreshold = 2.0

func (r *liveRoom) inSync(pos float64, at time.Time) bool {
	return math.Abs(pos-r.expected(at)) <= InSyncThreshold
}

type liveClient struct {
	seen    time.Time // latest beat
	flushed time.Time // last_seen as stored
}

// liveMember is one current member as the store holds it in memory.
type liveMember struct {
	row     Member        // the row as last published: what every screen holds
	pubSeen time.Time     // row.LastSeen
	refresh time.Duration // how old row.LastSeen may get before a beat publishes it (isMaterial)

	// The latest beat; dirty while it is not in SQLite.
	pos         float64
	playing     bool
	buffering   bool
	seen        time.Time
	flushedSeen time.Time // last_seen as stored
	dirty       bool
	gen         uint64 // beats counted, so a flush knows whether a beat came in meanwhile
	clients     map[string]*liveClient

	valid bool // false: some other write changed the row; the next beat takes the slow path
}

// live is the in-memory side of liveness. Its lock is taken after writeMu, never before.
type live struct {
	mu      sync.Mutex
	rooms   map[string]*liveRoom
	members map[string]map[string]*liveMember // room → user
}

func (l *live) member(roomID, userID string) *liveMember { return l.members[roomID][userID] }

// isMaterial reports whether a beat (pos, playing at now) changes what screens show of a member
// whose published row is m.row: play state, buffering, in-sync mark, or a last_seen m.refresh old.
func isMaterial(m *liveMember, r *liveRoom, pos float64, playing, buffering bool, now time.Time) bool {
	return m.row.IsPlaying != playing || m.row.Buffering != buffering || now.Sub(m.pubSeen) >= m.refresh ||
		r.inSync(m.row.CurrentTime, m.pubSeen) != r.inSync(pos, now)
}

// fastBeat records a beat in memory when the store holds everything it needs (see the top of
// this file). handled is false when the beat must take the slow path; published says whether a
// row change went out.
func (s *Store) fastBeat(roomID, userID, clientID string, pos float64, playing, buffering bool) (handled, published bool) {
	s.live.mu.Lock()
	defer s.live.mu.Unlock()
	r, m := s.live.rooms[roomID], s.live.member(roomID, userID)
	if r == nil || m == nil || !m.valid || !m.row.Announced || m.row.LeftAt != nil {
		return false, false
	}
	if userID == r.owner && r.host != userID && !r.handedOver {
		return false, false // the owner is back: ownerReturns
	}
	if clientID != "" && m.clients[clientID] == nil || clientID == "" && len(m.clients) == 0 {
		return false, false // a client to record
	}
	now := s.now()
	m.pos, m.playing, m.buffering, m.seen, m.dirty = pos, playing, buffering, now, true
	m.gen++
	for id, c := range m.clients {
		if clientID == "" || id == clientID {
			c.seen = now
		}
	}
	if !isMaterial(m, r, pos, playing, buffering, now) {
		return true, false
	}
	old := m.row
	m.row.CurrentTime, m.row.IsPlaying, m.row.Buffering, m.row.LastSeen = pos, playing, buffering, FormatTime(now)
	m.pubSeen, m.refresh = now, s.rowRefresh
	if s.hook != nil {
		// Under live.mu: a write that changes this row invalidates it under the same lock
		// before publishing, so this change is never published after a newer one.
		s.hook([]Change{{Table: "room_members", Type: "UPDATE", Columns: MemberColumns, Record: m.row.Record(),
			OldRecord: old.Record(), CommitTime: now}})
	}
	return true, true
}

// learned is what a slow beat leaves for the memory side once committed.
type learned struct {
	at      int // len(changeSet.changes) when learned: applied after the changes before it
	member  Member
	room    Room
	clients map[string]time.Time
	now     time.Time
}

// learn records, in the slow beat's transaction, what the next beats need in memory.
func (s *Store) learn(ctx context.Context, tx *sql.Tx, w *changeSet, room Room, m Member, now time.Time) error {
	rows, err := tx.QueryContext(ctx, `SELECT client_id, last_seen FROM room_clients WHERE room_id = ? AND user_id = ?`, m.RoomID, m.UserID)
	if err != nil {
		return err
	}
	defer rows.Close()
	clients := map[string]time.Time{}
	for rows.Next() {
		var id, seen string
		if err := rows.Scan(&id, &seen); err != nil {
			return err
		}
		clients[id], _ = time.Parse(TimeFormat, seen)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	w.learned = append(w.learned, learned{at: len(w.changes), member: m, room: room, clients: clients, now: now})
	return nil
}

// flushMark is one member's beats written by a flush.
type flushMark struct {
	m       *liveMember
	gen     uint64
	seen    time.Time
	clients map[string]time.Time
}

// flushWhere writes to SQLite, in tx, the beats of the dirty members pick selects (called under
// live.mu), at most limit of them (0: all). The memory side learns they are stored when tx
// commits. It returns how many members it wrote.
func (s *Store) flushWhere(ctx context.Context, tx *sql.Tx, w *changeSet, rooms []string, pick func(*liveMember) bool, limit int) (int, error) {
	type item struct {
		roomID, userID string
		pos            float64
		playing        bool
		buffering      bool
		mark           flushMark
	}
	var items []item
	s.live.mu.Lock()
	collect := func(roomID string, byUser map[string]*liveMember) {
		for userID, m := range byUser {
			if limit > 0 && len(items) >= limit {
				return
			}
			if !m.dirty || !pick(m) {
				continue
			}
			it := item{roomID: roomID, userID: userID, pos: m.pos, playing: m.playing, buffering: m.buffering,
				mark: flushMark{m: m, gen: m.gen, seen: m.seen, clients: map[string]time.Time{}}}
			for id, c := range m.clients {
				if c.seen.After(c.flushed) {
					it.mark.clients[id] = c.seen
				}
			}
			items = append(items, it)
		}
	}
	if rooms == nil {
		for roomID, byUser := range s.live.members {
			if limit > 0 && len(items) >= limit {
				break
			}
			collect(roomID, byUser)
		}
	} else {
		for _, roomID := range rooms {
			collect(roomID, s.live.members[roomID])
		}
	}
	s.live.mu.Unlock()
	if len(items) == 0 {
		return 0, nil
	}
	upd, err := s.prepared(ctx, tx, `UPDATE room_members SET "current_time" = ?, is_playing = ?, buffering = ?, last_seen = ? WHERE room_id = ? AND user_id = ? AND left_at IS NULL`)
	if err != nil {
		return 0, err
	}
	updClient, err := s.prepared(ctx, tx, `UPDATE room_clients SET last_seen = ? WHERE room_id = ? AND user_id = ? AND client_id = ?`)
	if err != nil {
		return 0, err
	}
	for _, it := range items {
		if _, err := upd.ExecContext(ctx, it.pos, it.playing, it.buffering, FormatTime(it.mark.seen), it.roomID, it.userID); err != nil {
			return 0, fmt.Errorf("flush beats: %w", err)
		}
		for id, seen := range it.mark.clients {
			if _, err := updClient.ExecContext(ctx, FormatTime(seen), it.roomID, it.userID, id); err != nil {
				return 0, fmt.Errorf("flush beats: %w", err)
			}
		}
		w.flushed = append(w.flushed, it.mark)
	}
	return len(items), nil
}

func anyMember(*liveMember) bool { return true }

// flushRoom writes the room's beats not yet stored (see flushWhere).
func (s *Store) flushRoom(ctx context.Context, tx *sql.Tx, w *changeSet, roomID string) error {
	_, err := s.flushWhere(ctx, tx, w, []string{roomID}, anyMember, 0)
	return err
}

// storedBefore selects members with a beat not yet stored whose stored last_seen, or that of a
// client of theirs, is older than before.
func storedBefore(before time.Time) func(*liveMember) bool {
	return func(m *liveMember) bool {
		if m.flushedSeen.Before(before) {
			return true
		}
		for _, c := range m.clients {
			if c.seen.After(c.flushed) && c.flushed.Before(before) {
				return true
			}
		}
		return false
	}
}

// flushStale writes the beats of members or clients whose stored last_seen is older than before:
// the sweep then decides on stored values that are the truth.
func (s *Store) flushStale(ctx context.Context, tx *sql.Tx, w *changeSet, before time.Time) error {
	_, err := s.flushWhere(ctx, tx, w, nil, storedBefore(before), 0)
	return err
}

// flushChunk is how many members' beats one flush transaction writes at most: the write lock
// is held for a few milliseconds at a time, never for a whole wave of members.
const flushChunk = 250

// storedBeforeMember is storedBefore on the member's stored last_seen alone: a flush of a member
// stores every client of theirs that beat since, so the clients' own marks are left to the
// sweep's flush (flushStale), and the server's frequent flushes look at one time per member.
func storedBeforeMember(before time.Time) func(*liveMember) bool {
	return func(m *liveMember) bool { return m.flushedSeen.Before(before) }
}

// FlushOld writes the beats of at most limit members (0: all) whose stored last_seen is older
// than before, flushChunk members per transaction. The server runs it ten
// times a second, a few members at a time, for the members two thirds of the way to stale, so
// the sweep finds little left to flush and the writes are spread over time rather than coming
// in waves.
func (s *Store) FlushOld(ctx context.Context, before time.Time, limit int) error {
	return s.flushChunks(ctx, storedBeforeMember(before), limit)
}

// Flush writes every liveness beat held in memory to the database.
func (s *Store) Flush(ctx context.Context) error { return s.flushChunks(ctx, anyMember, 0) }

func (s *Store) flushChunks(ctx context.Context, pick func(*liveMember) bool, limit int) error {
	for done := 0; limit <= 0 || done < limit; {
		if !s.anyToFlush(pick) {
			return nil // no transaction for nothing: the server asks ten times a second
		}
		chunk := flushChunk
		if limit > 0 {
			chunk = min(chunk, limit-done)
		}
		var n int
		err := s.write(ctx, func(tx *sql.Tx, w *changeSet) error {
			var err error
			n, err = s.flushWhere(ctx, tx, w, nil, pick, chunk)
			return err
		})
		if err != nil || n == 0 {
			return err
		}
		done += n
	}
	return nil
}

// committedLocked brings the memory side up to date with a committed write: flushed beats are
// stored, rows other writes changed are no longer trusted, rooms are as published, members who
// left are forgotten, and slow beats teach what the next ones need. Caller holds live.mu.
func (s *Store) committedLocked(w *changeSet) {
	for _, f := range w.flushed {
		f.m.flushedSeen = f.seen
		for id, seen := range f.clients {
			if c := f.m.clients[id]; c != nil {
				c.flushed = seen
			}
		}
		if f.m.gen == f.gen {
			f.m.dirty = false
		}
	}
	next := 0
	apply := func(upTo int) {
		for ; next < len(w.learned) && w.learned[next].at <= upTo; next++ {
			s.applyLearned(w.learned[next])
		}
	}
	for i, c := range w.changes {
		apply(i)
		switch c.Table {
		case "rooms":
			roomID, _ := c.Record["room_id"].(string)
			if _, ok := s.live.rooms[roomID]; ok || s.live.members[roomID] != nil {
				s.live.rooms[roomID] = liveRoomOfRecord(c.Record)
			}
		case "room_members":
			roomID, _ := c.Record["room_id"].(string)
			userID, _ := c.Record["user_id"].(string)
			if m := s.live.member(roomID, userID); m != nil {
				m.valid = false
			}
		}
	}
	apply(len(w.changes))
	for _, ms := range w.memberships {
		if !ms.in {
			s.forgetLocked(ms.room, ms.user)
		}
	}
}

func (s *Store) applyLearned(l learned) {
	byUser := s.live.members[l.member.RoomID]
	if byUser == nil {
		byUser = map[string]*liveMember{}
		s.live.members[l.member.RoomID] = byUser
	}
	m := byUser[l.member.UserID]
	if m == nil {
		m = &liveMember{}
		byUser[l.member.UserID] = m
	}
	seen, _ := time.Parse(TimeFormat, l.member.LastSeen)
	m.row, m.pubSeen, m.valid = l.member, seen, true
	m.refresh = s.rowRefresh
	if s.spreadRefresh {
		// The first refresh after a slow beat comes at a random point of the period: members
		// who joined together (a server restart, a benchmark) don't refresh together ever after.
		m.refresh = s.rowRefresh/4 + rand.N(s.rowRefresh*3/4)
	}
	if !m.dirty || !m.seen.After(seen) {
		m.pos, m.playing, m.buffering, m.seen, m.dirty = l.member.CurrentTime, l.member.IsPlaying, l.member.Buffering, seen, false
	}
	m.flushedSeen = seen
	clients := map[string]*liveClient{}
	for id, at := range l.clients {
		c := &liveClient{seen: at, flushed: at}
		if old := m.clients[id]; old != nil && old.seen.After(at) {
			c.seen = old.seen // a fast beat of this client after the slow one's snapshot
		}
		clients[id] = c
	}
	m.clients = clients
	s.live.rooms[l.member.RoomID] = liveRoomOf(l.room)
}

// anyToFlush reports whether some member has a beat not yet stored that pick selects.
func (s *Store) anyToFlush(pick func(*liveMember) bool) bool {
	s.live.mu.Lock()
	defer s.live.mu.Unlock()
	for _, byUser := range s.live.members {
		for _, m := range byUser {
			if m.dirty && pick(m) {
				return true
			}
		}
	}
	return false
}

// HeldMembers is how many members the store holds in memory (beats.go): the server paces its
// flushes by it.
func (s *Store) HeldMembers() int {
	s.live.mu.Lock()
	defer s.live.mu.Unlock()
	n := 0
	for _, byUser := range s.live.members {
		n += len(byUser)
	}
	return n
}

func (s *Store) forgetLocked(roomID, userID string) {
	byUser := s.live.members[roomID]
	delete(byUser, userID)
	if len(byUser) == 0 {
		delete(s.live.members, roomID)
		delete(s.live.rooms, roomID)
	}
}

// forgetRooms drops deleted rooms from memory.
func (s *Store) forgetRooms(ids []string) {
	s.live.mu.Lock()
	defer s.live.mu.Unlock()
	for _, id := range ids {
		delete(s.live.members, id)
		delete(s.live.rooms, id)
	}
}

// forgetGoneClients drops from memory the clients the sweep deleted (last beat before gone).
func (s *Store) forgetGoneClients(gone time.Time) {
	s.live.mu.Lock()
	defer s.live.mu.Unlock()
	for _, byUser := range s.live.members {
		for _, m := range byUser {
			for id, c := range m.clients {
				if c.seen.Before(gone) {
					delete(m.clients, id)
				}
			}
		}
	}
}

// overlay puts the beats not yet flushed into members read from the database.
func (s *Store) overlay(roomID string, members []Member) {
	s.live.mu.Lock()
	defer s.live.mu.Unlock()
	byUser := s.live.members[roomID]
	if byUser == nil {
		return
	}
	for i := range members {
		m := byUser[members[i].UserID]
		if m == nil || !m.dirty || !members[i].Current() {
			continue
		}
		// At or after the stored row: a beat in the same millisecond as the stored one (a join's
		// first beat, then another at once) is newer all the same.
		if at := FormatTime(m.seen); at >= members[i].LastSeen {
			members[i].CurrentTime, members[i].IsPlaying, members[i].Buffering, members[i].LastSeen = m.pos, m.playing, m.buffering, at
		}
	}
}
