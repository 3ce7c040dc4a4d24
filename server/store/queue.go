package store

import (
	"context"
	"database/sql"
	"errors"
)

// The shared queue (docs/api.md, "The queue"): entries of a room in order, added, removed,
// moved and played by the host. Removal is soft (removed_at), so every change is an INSERT or
// an UPDATE that row security filters.

// MaxQueueEntries is how many entries (not removed) a room's queue holds at most.
const MaxQueueEntries = 100

// Queue errors.
var (
	ErrQueueFull    = errors.New("the queue is full (at most 100 entries)")
	ErrNoSuchEntry  = errors.New("entry_id must be an entry of the room's queue")
	ErrQueueAtEnd   = errors.New("the queue has no entry after the one playing")
	ErrEntryRemoved = errors.New("that entry was removed from the queue")
)

// QueueEntry is a row of room_queue.
type QueueEntry struct {
	ID        int64    `json:"id"`
	RoomID    string   `json:"room_id"`
	Position  int64    `json:"position"`
	Title     string   `json:"title"`
	Duration  *float64 `json:"duration"`
	MediaFP   *string  `json:"media_fp"`
	MediaURL  *string  `json:"media_url"`
	AddedBy   string   `json:"added_by"`
	CreatedAt string   `json:"created_at"`
	RemovedAt *string  `json:"removed_at"`
}

// QueueColumns are the room_queue columns with their Postgres types.
var QueueColumns = []Column{
	{"id", "int8"}, {"room_id", "text"}, {"position", "int4"}, {"title", "text"}, {"duration", "float8"},
	{"media_fp", "text"}, {"media_url", "text"}, {"added_by", "uuid"}, {"created_at", "timestamptz"},
	{"removed_at", "timestamptz"},
}

// Record returns the row as a change-payload map.
func (q QueueEntry) Record() map[string]any {
	return map[string]any{
		"id": q.ID, "room_id": q.RoomID, "position": q.Position, "title": q.Title, "duration": ptr(q.Duration),
		"media_fp": ptr(q.MediaFP), "media_url": ptr(q.MediaURL), "added_by": q.AddedBy,
		"created_at": q.CreatedAt, "removed_at": ptr(q.RemovedAt),
	}
}

const queueSelect = `SELECT id, room_id, position, title, duration, media_fp, media_url, added_by, created_at, removed_at FROM room_queue`

func scanEntry(row scanner) (QueueEntry, error) {
	var q QueueEntry
	var fp, url, removed sql.NullString
	var dur sql.NullFloat64
	err := row.Scan(&q.ID, &q.RoomID, &q.Position, &q.Title, &dur, &fp, &url, &q.AddedBy, &q.CreatedAt, &removed)
	if err == sql.ErrNoRows {
		return q, ErrNoSuchEntry
	}
	q.Duration, q.MediaFP, q.MediaURL, q.RemovedAt = nullFloat(dur), nullString(fp), nullString(url), nullString(removed)
	return q, err
}

func liveEntries(ctx context.Context, tx *sql.Tx, roomID string) ([]QueueEntry, error) {
	rows, err := tx.QueryContext(ctx, queueSelect+` WHERE room_id = ? AND removed_at IS NULL ORDER BY position, id`, roomID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []QueueEntry
	for rows.Next() {
		q, err := scanEntry(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, q)
	}
	return out, rows.Err()
}

// hostRoom reads the room for a host-only change of it.
func (s *Store) hostRoom(ctx context.Context, tx *sql.Tx, roomID, userID string) (Room, error) {
	room, err := scanRoom(tx.QueryRowContext(ctx, roomSelect+` WHERE room_id = ?`, roomID))
	if err != nil {
		return room, err
	}
	if !s.IsMember(roomID, userID) {
		return room, ErrNotMember
	}
	if room.HostUserID != userID {
		return room, ErrNotHost
	}
	return room, nil
}

// NewEntry is what queue/add stores (validated by the caller).
type NewEntry struct {
	Title    string
	Duration *float64
	MediaFP  *string
	MediaURL *string
}

// QueueAdd appends an entry to the room's queue (host only).
func (s *Store) QueueAdd(ctx context.Context, roomID, userID string, ne NewEntry) (QueueEntry, error) {
	var q QueueEntry
	err := s.write(ctx, func(tx *sql.Tx, w *changeSet) error {
		if _, err := s.hostRoom(ctx, tx, roomID, userID); err != nil {
			return err
		}
		live, err := liveEntries(ctx, tx, roomID)
		if err != nil {
			return err
		}
		if len(live) >= MaxQueueEntries {
			return ErrQueueFull
		}
		var pos int64
		if len(live) > 0 {
			pos = live[len(live)-1].Position + 1
		}
		q = QueueEntry{RoomID: roomID, Position: pos, Title: ne.Title, Duration: ne.Duration, MediaFP: ne.MediaFP,
			MediaURL: ne.MediaURL, AddedBy: userID, CreatedAt: FormatTime(s.now())}
		res, err := tx.ExecContext(ctx, `INSERT INTO room_queue (room_id, position, title, duration, media_fp, media_url, added_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, q.RoomID, q.Position, q.Title, ptr(q.Duration), ptr(q.MediaFP), ptr(q.MediaURL), q.AddedBy, q.CreatedAt)
		if err != nil {
			return err
		}
		if q.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		w.add(Change{Table: "room_queue", Type: "INSERT", Columns: QueueColumns, Record: q.Record()})
		return nil
	})
	return q, err
}

// QueueRemove removes an entry (host only): removed_at is set; the others keep their order.
func (s *Store) QueueRemove(ctx context.Context, roomID, userID string, entryID int64) (QueueEntry, error) {
	var q QueueEntry
	err := s.write(ctx, func(tx *sql.Tx, w *changeSet) error {
		if _, err := s.hostRoom(ctx, tx, roomID, userID); err != nil {
			return err
		}
		var err error
		if q, err = scanEntry(tx.QueryRowContext(ctx, queueSelect+` WHERE room_id = ? AND id = ?`, roomID, entryID)); err != nil {
			return err
		}
		if q.RemovedAt != nil {
			return ErrEntryRemoved
		}
		old := q
		now := FormatTime(s.now())
		q.RemovedAt = &now
		if _, err := tx.ExecContext(ctx, `UPDATE room_queue SET removed_at = ? WHERE id = ?`, now, q.ID); err != nil {
			return err
		}
		w.add(Change{Table: "room_queue", Type: "UPDATE", Columns: QueueColumns, Record: q.Record(), OldRecord: old.Record()})
		return nil
	})
	return q, err
}

// QueueMove moves an entry to index to (0 = first; past the end = last) of the live entries
// (host only); the entries whose position changes are written. It returns the live entries in
// their new order.
func (s *Store) QueueMove(ctx context.Context, roomID, userID string, entryID, to int64) ([]QueueEntry, error) {
	var out []QueueEntry
	err := s.write(ctx, func(tx *sql.Tx, w *changeSet) error {
		if _, err := s.hostRoom(ctx, tx, roomID, userID); err != nil {
			return err
		}
		live, err := liveEntries(ctx, tx, roomID)
		if err != nil {
			return err
		}
		from := -1
		for i, q := range live {
			if q.ID == entryID {
				from = i
			}
		}
		if from < 0 {
			return ErrNoSuchEntry
		}
		moved := live[from]
		live = append(live[:from], live[from+1:]...)
		at := int(min(max(to, 0), int64(len(live))))
		live = append(live[:at], append([]QueueEntry{moved}, live[at:]...)...)
		for i := range live {
			if live[i].Position == int64(i) {
				continue
			}
			old := live[i]
			live[i].Position = int64(i)
			if _, err := tx.ExecContext(ctx, `UPDATE room_queue SET position = ? WHERE id = ?`, i, live[i].ID); err != nil {
				return err
			}
			w.add(Change{Table: "room_queue", Type: "UPDATE", Columns: QueueColumns, Record: live[i].Record(), OldRecord: old.Record()})
		}
		out = live
		return nil
	})
	return out, err
}

// QueueNext makes the room play a queue entry (host only): entryID, or (0) the live entry after
// the one playing, or the first when none is. With fromEntryID (auto-advance at the end of an
// entry) nothing changes unless that entry is still the one playing, so a repeated call never
// skips twice. The room takes the entry's media (media_url, media_title, media_duration) at 0
// with a new state_version, playing or paused as before (playing after fromEntryID's end).
func (s *Store) QueueNext(ctx context.Context, roomID, userID string, entryID, fromEntryID int64) (Room, error) {
	var room Room
	err := s.write(ctx, func(tx *sql.Tx, w *changeSet) error {
		var err error
		if room, err = s.hostRoom(ctx, tx, roomID, userID); err != nil {
			return err
		}
		if fromEntryID != 0 && (room.QueueEntryID == nil || *room.QueueEntryID != fromEntryID) {
			return nil // already moved on
		}
		var next QueueEntry
		if entryID != 0 {
			if next, err = scanEntry(tx.QueryRowContext(ctx, queueSelect+` WHERE room_id = ? AND id = ?`, roomID, entryID)); err != nil {
				return err
			}
			if next.RemovedAt != nil {
				return ErrEntryRemoved
			}
		} else {
			live, err := liveEntries(ctx, tx, roomID)
			if err != nil {
				return err
			}
			next, err = nextEntry(ctx, tx, room, live)
			if err != nil {
				return err
			}
		}
		old := room
		id := next.ID
		room.QueueEntryID, room.MediaURL, room.MediaDuration = &id, next.MediaURL, next.Duration
		title := next.Title
		room.MediaTitle = &title
		room.CurrentTime, room.WaitingFor, room.StartPending = 0, []string{}, false
		if fromEntryID != 0 {
			room.IsPlaying = true // the end of an entry: the next one plays for everyone
		}
		room.StateVersion++
		room.UpdatedAt = FormatTime(s.now())
		if _, err := tx.ExecContext(ctx, `UPDATE rooms SET media_url = ?, media_title = ?, media_duration = ?, queue_entry_id = ?
			WHERE room_id = ?`, ptr(room.MediaURL), ptr(room.MediaTitle), ptr(room.MediaDuration), id, roomID); err != nil {
			return err
		}
		return writeRoomState(ctx, tx, w, old, room)
	})
	return room, err
}

// nextEntry is the live entry after the room's current one: by position after it when it is
// still live; after where it stood when it was removed; the first when none plays.
func nextEntry(ctx context.Context, tx *sql.Tx, room Room, live []QueueEntry) (QueueEntry, error) {
	if room.QueueEntryID == nil {
		if len(live) == 0 {
			return QueueEntry{}, ErrQueueAtEnd
		}
		return live[0], nil
	}
	cur, err := scanEntry(tx.QueryRowContext(ctx, queueSelect+` WHERE id = ?`, *room.QueueEntryID))
	if err != nil {
		return QueueEntry{}, err
	}
	for _, q := range live {
		if q.Position > cur.Position || q.Position == cur.Position && q.ID > cur.ID {
			return q, nil
		}
	}
	return QueueEntry{}, ErrQueueAtEnd
}

// ListQueue returns a room's queue in order, removed entries included (a reader that is no
// member of the room gets nothing: row security).
func (s *Store) ListQueue(ctx context.Context, roomID, readerID string) ([]QueueEntry, error) {
	if readerID == "" || !s.IsMember(roomID, readerID) {
		return []QueueEntry{}, nil
	}
	rows, err := s.db.QueryContext(ctx, queueSelect+` WHERE room_id = ? ORDER BY position, id`, roomID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []QueueEntry{}
	for rows.Next() {
		q, err := scanEntry(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, q)
	}
	return out, rows.Err()
}
