// Package store keeps the embedded server's data in SQLite (WAL) and reports every committed
// write to rooms, room_members and comments as a Change, in commit order, so the realtime hub can
// fan them out as postgres_changes.
//
// All writes go through one mutex: SQLite has a single writer anyway, and holding the lock across
// commit and the change hook keeps the change feed in commit order.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // pure Go SQLite driver: CGO_ENABLED=0 release builds work everywhere
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Errors returned by room operations. The server maps them to the API's error codes.
var (
	ErrRoomNotFound = errors.New("room not found")
	ErrNotMember    = errors.New("not a member of this room")
	ErrNotHost      = errors.New("only the host can control playback")
	ErrNoSuchHeir   = errors.New("to_user_id must be another current member of the room")
	ErrNotFound     = errors.New("not found")
)

// TimeFormat is how timestamps are stored and sent: PostgREST's timestamptz text with milliseconds.
const TimeFormat = "2006-01-02T15:04:05.000+00:00"

// FormatTime renders t in TimeFormat (UTC).
func FormatTime(t time.Time) string { return t.UTC().Format(TimeFormat) }

// Store is the server's database. Safe for concurrent use.
type Store struct {
	db       *sql.DB
	path     string
	walLimit int64
	now      func() time.Time

	writeMu sync.Mutex     // one writer; held across commit and the change hook
	hook    func([]Change) // called after each commit, in commit order, under writeMu

	membersMu sync.RWMutex
	members   map[string]map[string]bool // room_id → user_id set, for realtime RLS checks

	stmts sync.Map // query → *sql.Stmt of the hot write paths (see prepared)

	presMu    sync.Mutex       // guards presQueue and presBusy
	presQueue []*presenceWrite // slow beats waiting for a commit (see Beat)
	presBusy  bool             // a caller is committing the queue (commitBeats)

	allowNotice func(roomID, userID string) bool // see Options.AllowNotice

	live       live          // liveness beats held in memory (beats.go)
	rowRefresh time.Duration // see Options.RowRefresh
	staleAfter time.Duration // see Options.StaleAfter
	// spreadRefresh: see Options.SpreadRefresh
	spreadRefresh bool

	endedMu sync.RWMutex
	ended   map[string]time.Time // session id → when it ended (see SessionEnded)

	stopCheckpoint chan struct{} // ends checkpointLoop
	checkpointDone chan struct{}
	closeOnce      sync.Once

	commits atomic.Int64 // write transactions committed (Commits)
}

// Options configure Open.
type Options struct {
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
	// AllowNotice, if set, is asked before a join or leave notice (a system comment) about userID
	// is written in roomID; false skips the notice, not the join or leave. It runs under the
	// write lock and must not block.
	AllowNotice func(roomID, userID string) bool
	// WALLimit is the WAL size past which it is truncated; default WALTruncateBytes.
	WALLimit int64
	// RowRefresh is how old the last_seen of a member's published row may get before a beat
	// publishes it again even though nothing else changed (beats.go); default DefaultRowRefresh.
	RowRefresh time.Duration
	// StaleAfter is the liveness stale time: a member seen within it is live, and the ready
	// check waits for live members only (ready.go); default DefaultStaleAfter.
	StaleAfter time.Duration
	// SpreadRefresh makes the first refresh after a member's slow beat (a join's announcing beat
	// among them) come at a random point between RowRefresh/4 and RowRefresh, so members who
	// joined together are refreshed at different times (beats.go).
	SpreadRefresh bool
}

// DefaultRowRefresh: with a beat every 3 s, a live member's row on a screen is never more than
// about 13 s old, short of the 15 s at which screens mark a member stale.
const DefaultRowRefresh = 10 * time.Second

// Open opens (creating if needed) the database at path and applies pending migrations.
func Open(path string, opts Options) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	// The database holds sessions: create it private before SQLite opens it (-wal/-shm inherit the mode).
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600); err == nil {
		f.Close()
	}
	// synchronous=NORMAL in WAL mode survives a killed process (the WAL is in the OS page cache);
	// FULL would add an fsync per presence update, which the 3 s liveness cadence can't afford.
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_pragma=wal_autocheckpoint(0)&_pragma=journal_size_limit(" + strconv.Itoa(JournalSizeLimit) + ")"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	// Readers run concurrently in WAL mode; writes are serialised by writeMu.
	db.SetMaxOpenConns(8)
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	walLimit := opts.WALLimit
	if walLimit <= 0 {
		walLimit = WALTruncateBytes
	}
	rowRefresh := opts.RowRefresh
	if rowRefresh <= 0 {
		rowRefresh = DefaultRowRefresh
	}
	staleAfter := opts.StaleAfter
	if staleAfter <= 0 {
		staleAfter = DefaultStaleAfter
	}
	s := &Store{db: db, path: path, walLimit: walLimit, now: now, members: map[string]map[string]bool{}, allowNotice: opts.AllowNotice,
		rowRefresh: rowRefresh, staleAfter: staleAfter, spreadRefresh: opts.SpreadRefresh, live: live{rooms: map[string]*liveRoom{}, members: map[string]map[string]*liveMember{}}}
	if err := s.migrate(context.Background()); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.loadMembers(context.Background()); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.loadEnded(context.Background()); err != nil {
		db.Close()
		return nil, err
	}
	s.stopCheckpoint, s.checkpointDone = make(chan struct{}), make(chan struct{})
	go s.checkpointLoop()
	return s, nil
}

// WAL bounds. A PASSIVE checkpoint copies the WAL into the database but never shrinks the file,
// and under a steady stream of writes it may never catch up with the writer: one user looping
// join/leave grew the WAL to 747 MB in 30 s. Past WALTruncateBytes the committing write (or the
// background loop) truncates the WAL; journal_size_limit caps what SQLite leaves behind after a
// reset.
const (
	WALTruncateBytes = 32 << 20
	JournalSizeLimit = 64 << 20
)

// checkpointLoop copies the WAL into the database file in the background. SQLite's automatic
// checkpoint runs inside the committing write and holds the writer for the checkpoint's fsync:
// with presence writes every 3 s per member that showed up as periodic latency spikes. A
// PASSIVE checkpoint on another connection never blocks the writer.
func (s *Store) checkpointLoop() {
	defer close(s.checkpointDone)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-s.stopCheckpoint:
			return
		case <-t.C:
			_, _ = s.db.Exec("PRAGMA wal_checkpoint(PASSIVE)")
			if s.WALSize() > s.walLimit {
				s.truncateWAL()
			}
		}
	}
}

// truncateWAL checkpoints everything and truncates the WAL to zero bytes. It holds the write lock,
// so it runs only past WALTruncateBytes.
func (s *Store) truncateWAL() {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	_, _ = s.db.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
}

// WALSize is the size of the database's write-ahead log in bytes (0 when there is none).
func (s *Store) WALSize() int64 {
	fi, err := os.Stat(s.path + "-wal")
	if err != nil {
		return 0
	}
	return fi.Size()
}

// Close stores the beats held in memory, checkpoints the WAL and closes the database.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { close(s.stopCheckpoint) })
	<-s.checkpointDone
	_ = s.Flush(context.Background())
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	_, _ = s.db.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
	s.stmts.Range(func(_, st any) bool {
		st.(*sql.Stmt).Close()
		return true
	})
	return s.db.Close()
}

// prepared returns query as a statement of tx, prepared once per database connection and then
// reused: parsing the SQL was about a third of a track_user_presence write (measured with
// BenchmarkTrackPresence), the write every member makes every 3 s.
func (s *Store) prepared(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	st, ok := s.stmts.Load(query)
	if !ok {
		p, err := s.db.PrepareContext(ctx, query)
		if err != nil {
			return nil, err
		}
		if st, ok = s.stmts.LoadOrStore(query, p); ok {
			p.Close()
		}
	}
	return tx.StmtContext(ctx, st.(*sql.Stmt)), nil
}

// SetChangeHook sets the function that receives the changes of each commit, in commit order.
// It runs under the write lock and must not block.
func (s *Store) SetChangeHook(fn func([]Change)) {
	s.writeMu.Lock()
	s.live.mu.Lock()
	s.hook = fn
	s.live.mu.Unlock()
	s.writeMu.Unlock()
}

func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("migrations table: %w", err)
	}
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		base := filepath.Base(name)
		v, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migration %s: name must start with a number", base)
		}
		var n int
		if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, v).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			continue
		}
		body, err := migrationFiles.ReadFile(name)
		if err != nil {
			return err
		}
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %s: %w", base, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, v, FormatTime(s.now())); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %s: %w", base, err)
		}
	}
	return nil
}

func (s *Store) loadMembers(ctx context.Context) error {
	rows, err := s.db.QueryContext(ctx, `SELECT room_id, user_id FROM room_members WHERE left_at IS NULL`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var room, user string
		if err := rows.Scan(&room, &user); err != nil {
			return err
		}
		s.setMember(room, user, true)
	}
	return rows.Err()
}

func (s *Store) setMember(room, user string, in bool) {
	s.membersMu.Lock()
	defer s.membersMu.Unlock()
	set := s.members[room]
	if in {
		if set == nil {
			set = map[string]bool{}
			s.members[room] = set
		}
		set[user] = true
		return
	}
	delete(set, user)
	if len(set) == 0 {
		delete(s.members, room)
	}
}

// IsMember reports from memory whether user has joined room (used for realtime row security).
func (s *Store) IsMember(room, user string) bool {
	s.membersMu.RLock()
	defer s.membersMu.RUnlock()
	return s.members[room][user]
}

// write runs fn in a transaction under the write lock; after commit the collected changes go to
// the hook, stamped with the commit time.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx, w *changeSet) error) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	return s.writeLocked(ctx, fn)
}

// writeLocked is write for a caller that holds writeMu.
func (s *Store) writeLocked(ctx context.Context, fn func(tx *sql.Tx, w *changeSet) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	w := &changeSet{}
	if err := fn(tx, w); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	s.commits.Add(1)
	if s.WALSize() > s.walLimit {
		// A burst of writes outran the background checkpoint: truncate now, under the lock
		// already held (a stat per write is about a microsecond; the truncation is rare).
		_, _ = s.db.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
	}
	for _, m := range w.memberships {
		s.setMember(m.room, m.user, m.in)
	}
	// Under live.mu: memory learns of the commit before its changes go out, so a beat never
	// publishes a row older than one of these after them (fastBeat).
	s.live.mu.Lock()
	defer s.live.mu.Unlock()
	s.committedLocked(w)
	if s.hook != nil && len(w.changes) > 0 {
		at := s.now()
		for i := range w.changes {
			w.changes[i].CommitTime = at
		}
		s.hook(w.changes)
	}
	return nil
}

type membership struct {
	room, user string
	in         bool
}

type changeSet struct {
	changes     []Change
	memberships []membership
	flushed     []flushMark // beats stored by this write (beats.go)
	learned     []learned   // slow beats' lessons for memory (beats.go)
}

func (w *changeSet) add(c Change) { w.changes = append(w.changes, c) }
