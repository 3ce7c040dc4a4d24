package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// recorder collects the change hook's batches.
type recorder struct {
	mu      sync.Mutex
	batches [][]Change
	lastC   Change
}

func (r *recorder) hook(c []Change) {
	r.mu.Lock()
	r.batches = append(r.batches, c)
	r.lastC = c[len(c)-1]
	r.mu.Unlock()
}

// take returns "table TYPE" for every change since the last take.
func (r *recorder) take() []string { return summary(r.changes()) }

// changes returns every change since the last take.
func (r *recorder) changes() []Change {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Change
	for _, b := range r.batches {
		out = append(out, b...)
	}
	r.batches = nil
	return out
}

func summary(changes []Change) []string {
	var out []string
	for _, c := range changes {
		out = append(out, c.Table+" "+c.Type)
	}
	return out
}

// last returns the most recent change, taken or not.
func (r *recorder) last() Change {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lastC
}

func open(t testing.TB, path string, clk *fakeClock) (*Store, *recorder) {
	t.Helper()
	s, err := Open(path, Options{Now: clk.Now})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	rec := &recorder{}
	s.SetChangeHook(rec.hook)
	return s, rec
}

func newStore(t testing.TB) (*Store, *recorder, *fakeClock) {
	clk := &fakeClock{t: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
	s, rec := open(t, filepath.Join(t.TempDir(), "db", "watchparty.db"), clk)
	return s, rec, clk
}

func same(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
}

func TestOpenIsPrivateAndMigratesOnce(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "watchparty.db")
	clk := &fakeClock{t: time.Now()}
	s, err := Open(path, Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("database mode = %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	s2, rec := open(t, path, clk)
	var n int
	files, _ := fs.Glob(migrationFiles, "migrations/*.sql")
	if err := s2.db.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil || n != len(files) {
		t.Fatalf("migrations recorded = %d (%v), want %d (one per file)", n, err, len(files))
	}
	var mode string
	s2.db.QueryRow(`PRAGMA journal_mode`).Scan(&mode)
	same(t, "journal_mode", mode, "wal")
	same(t, "changes from opening", rec.take(), []string(nil))
}

func TestRoomLifecycleChanges(t *testing.T) {
	s, rec, clk := newStore(t)
	ctx := context.Background()
	dur := 100.0
	room, host, err := s.CreateRoom(ctx, "u-host", "Host", "client-1", NewRoom{MediaDuration: &dur})
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[a-z0-9]{10}$`).MatchString(room.RoomID) || host.Role != "host" || room.PlaybackRate != 1 {
		t.Fatalf("created %+v %+v", room, host)
	}
	same(t, "create changes", rec.take(), []string{"rooms INSERT", "room_members INSERT"})
	if !s.IsMember(room.RoomID, "u-host") {
		t.Fatal("host is no member")
	}

	clk.Add(time.Second)
	_, m, members, err := s.JoinRoom(ctx, room.RoomID, "u-a", "Ann", "client-1")
	if err != nil || m.Role != "member" || len(members) != 2 {
		t.Fatalf("join: %v %+v %d", err, m, len(members))
	}
	// Not announced yet: the notice comes with the first beat.
	same(t, "join changes", rec.take(), []string{"room_members INSERT"})
	// Joining again: an UPDATE of the name only, no notice, role kept.
	_, m, _, err = s.JoinRoom(ctx, room.RoomID, "u-a", "Annie", "client-1")
	if err != nil || m.Role != "member" || m.Username != "Annie" {
		t.Fatalf("rejoin: %v %+v", err, m)
	}
	same(t, "rejoin changes", rec.take(), []string{"room_members UPDATE"})
	c := rec.last()
	same(t, "rejoin old name", c.OldRecord["username"], "Ann")
	same(t, "rejoin new name", c.Record["username"], "Annie")

	clk.Add(time.Second)
	_, _, _, err = s.JoinRoom(ctx, room.RoomID, "u-b", "Bea", "client-1")
	if err != nil {
		t.Fatal(err)
	}
	rec.take()

	// Controls: host only, clamped to the duration, state_version bumps.
	if _, err := s.ControlRoom(ctx, room.RoomID, "u-a", Control{Action: "play"}); !errors.Is(err, ErrNotHost) {
		t.Fatalf("member control: %v", err)
	}
	if _, err := s.ControlRoom(ctx, room.RoomID, "u-x", Control{Action: "play"}); !errors.Is(err, ErrNotMember) {
		t.Fatalf("stranger control: %v", err)
	}
	if _, err := s.ControlRoom(ctx, "nope", "u-host", Control{Action: "play"}); !errors.Is(err, ErrRoomNotFound) {
		t.Fatalf("unknown room control: %v", err)
	}
	same(t, "changes of refused controls", rec.take(), []string(nil))
	r, err := s.ControlRoom(ctx, room.RoomID, "u-host", Control{Action: "play", CurrentTime: 500})
	if err != nil || !r.IsPlaying || r.CurrentTime != 100 || r.StateVersion != 1 {
		t.Fatalf("play: %v %+v", err, r)
	}
	c = rec.last()
	same(t, "control change", []any{c.Table, c.Type, c.Record["is_playing"], c.OldRecord["is_playing"]}, []any{"rooms", "UPDATE", true, false})
	r, err = s.ControlRoom(ctx, room.RoomID, "u-host", Control{Action: "seek", CurrentTime: 10})
	if err != nil || r.CurrentTime != 10 || r.StateVersion != 2 {
		t.Fatalf("seek: %v %+v", err, r)
	}
	rec.take()

	// The host leaves while playing: the longest-present member (Ann) takes over, and
	// current_time moves on by the time played since updated_at.
	clk.Add(4 * time.Second)
	r, err = s.LeaveRoom(ctx, room.RoomID, "u-host", "")
	if err != nil || r.HostUserID != "u-a" || r.CurrentTime != 14 || r.StateVersion != 3 {
		t.Fatalf("host leave: %v %+v", err, r)
	}
	changes := rec.changes()
	same(t, "host leave changes", summary(changes), []string{"room_members UPDATE", "comments INSERT", "room_members UPDATE", "rooms UPDATE", "comments INSERT"})
	// A leave is soft: an UPDATE setting left_at (and dropping the host role), never a DELETE.
	same(t, "the leave row", []any{changes[0].Record["user_id"], changes[0].Record["left_at"] != nil, changes[0].Record["role"], changes[0].OldRecord["left_at"]},
		[]any{"u-host", true, "member", nil})
	if s.IsMember(room.RoomID, "u-host") {
		t.Fatal("the host is still a member after leaving")
	}
	if _, err := s.LeaveRoom(ctx, room.RoomID, "u-host", ""); !errors.Is(err, ErrNotMember) {
		t.Fatalf("second leave: %v", err)
	}
	_, members, err = s.RoomState(ctx, room.RoomID)
	if err != nil || len(members) != 2 || members[0].UserID != "u-a" || members[0].Role != "host" {
		t.Fatalf("members after leave: %v %+v", err, members)
	}
}

// The last member to leave keeps the room's host; when that host comes back, it is host again.
func TestEmptiedRoomKeepsItsHost(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	room, _, _ := s.CreateRoom(ctx, "u-host", "Host", "client-1", NewRoom{})
	if _, err := s.LeaveRoom(ctx, room.RoomID, "u-host", ""); err != nil {
		t.Fatal(err)
	}
	_, m, _, err := s.JoinRoom(ctx, room.RoomID, "u-a", "Ann", "client-1")
	if err != nil || m.Role != "member" {
		t.Fatalf("another user joining the emptied room: %v %+v", err, m)
	}
	_, m, _, err = s.JoinRoom(ctx, room.RoomID, "u-host", "Host", "client-1")
	if err != nil || m.Role != "host" {
		t.Fatalf("the host returning: %v %+v, want role host", err, m)
	}
	if _, err := s.ControlRoom(ctx, room.RoomID, "u-host", Control{Action: "play"}); err != nil {
		t.Fatalf("the returned host's control: %v", err)
	}
}

func TestCommentsAndPresence(t *testing.T) {
	s, rec, _ := newStore(t)
	ctx := context.Background()
	anime, ep := "a1", int64(3)
	room, _, err := s.CreateRoom(ctx, "u-host", "Host", "client-1", NewRoom{AnimeID: &anime, EpisodeNumber: &ep})
	if err != nil {
		t.Fatal(err)
	}
	s.JoinRoom(ctx, room.RoomID, "u-a", "Ann", "client-1")
	rec.take()
	if err := s.TrackPresence(ctx, room.RoomID, "u-a", "client-1", 0, false); err != nil {
		t.Fatal(err)
	}
	// Ann's first beat announces her.
	same(t, "first beat changes", rec.take(), []string{"room_members UPDATE", "comments INSERT"})
	ts := 12.5
	c, err := s.AddComment(ctx, room.RoomID, "u-a", NewComment{Message: "hi", VideoTimestamp: &ts})
	if err != nil || c.ID == 0 || c.Username != "Ann" || *c.AnimeID != "a1" || *c.EpisodeNumber != 3 || *c.UserID != "u-a" {
		t.Fatalf("comment: %v %+v", err, c)
	}
	same(t, "comment change", rec.take(), []string{"comments INSERT"})
	if _, err := s.AddComment(ctx, room.RoomID, "u-x", NewComment{Message: "x"}); !errors.Is(err, ErrNotMember) {
		t.Fatalf("stranger comment: %v", err)
	}
	if _, err := s.AddComment(ctx, "nope", "u-a", NewComment{Message: "x"}); !errors.Is(err, ErrRoomNotFound) {
		t.Fatalf("unknown room comment: %v", err)
	}

	if err := s.TrackPresence(ctx, room.RoomID, "u-a", "", 33.5, true); err != nil {
		t.Fatal(err)
	}
	ch := rec.last()
	same(t, "presence change", []any{ch.Table, ch.Type, ch.Record["current_time"], ch.Record["is_playing"], ch.OldRecord["current_time"]}, []any{"room_members", "UPDATE", 33.5, true, 0.0})
	if err := s.TrackPresence(ctx, room.RoomID, "u-x", "", 1, true); !errors.Is(err, ErrNotMember) {
		t.Fatalf("stranger presence: %v", err)
	}
	if err := s.TrackPresence(ctx, "nope", "u-a", "", 1, true); !errors.Is(err, ErrRoomNotFound) {
		t.Fatalf("unknown room presence: %v", err)
	}
	same(t, "changes of refused writes", rec.take(), []string{"room_members UPDATE"})

	// Reads: members only; eq filters, order, limit, offset.
	all, err := s.ListComments(ctx, CommentQuery{Eq: map[string]string{"room_id": room.RoomID}, Order: []OrderBy{{Column: "id"}}, ReaderID: "u-a"})
	if err != nil || len(all) != 2 || all[0].Message != "Ann joined the room" || !all[0].IsSystemMessage || all[1].Message != "hi" {
		t.Fatalf("list: %v %+v", err, all)
	}
	none, err := s.ListComments(ctx, CommentQuery{Eq: map[string]string{"room_id": room.RoomID}, ReaderID: "u-x"})
	if err != nil || len(none) != 0 {
		t.Fatalf("stranger list: %v %d", err, len(none))
	}
	user, err := s.ListComments(ctx, CommentQuery{Eq: map[string]string{"is_system_message": "false"}, ReaderID: "u-a"})
	if err != nil || len(user) != 1 || user[0].ID != c.ID {
		t.Fatalf("is_system_message filter: %v %+v", err, user)
	}
	page, err := s.ListComments(ctx, CommentQuery{Order: []OrderBy{{Column: "id", Desc: true}}, Limit: 1, Offset: 1, ReaderID: "u-a"})
	if err != nil || len(page) != 1 || page[0].Message != "Ann joined the room" {
		t.Fatalf("page: %v %+v", err, page)
	}
	if _, err := s.ListComments(ctx, CommentQuery{Eq: map[string]string{"1=1; --": "x"}, ReaderID: "u-a"}); err == nil {
		t.Fatal("an unknown column was accepted")
	}
}

func TestRefreshTokensAndSessions(t *testing.T) {
	s, rec, clk := newStore(t)
	ctx := context.Background()
	u, tok, err := s.CreateAnonymousUser(ctx, "u1", "s1", map[string]any{"k": "v"})
	if err != nil || len(tok) != 22 {
		t.Fatalf("create user: %v %q", err, tok)
	}
	same(t, "auth changes", rec.take(), []string(nil)) // auth tables are not in the publication
	got, err := s.GetUser(ctx, "u1")
	if err != nil || got.UserMetadata["k"] != "v" || got.CreatedAt != u.CreatedAt {
		t.Fatalf("get user: %v %+v", err, got)
	}
	if _, err := s.GetUser(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown user: %v", err)
	}

	u2, sess, next, err := s.RotateRefreshToken(ctx, tok, 10*time.Second)
	if err != nil || u2.ID != "u1" || sess != "s1" || next == tok {
		t.Fatalf("rotate: %v %s %s", err, sess, next)
	}
	clk.Add(9 * time.Second)
	if _, _, again, err := s.RotateRefreshToken(ctx, tok, 10*time.Second); err != nil || again != next {
		t.Fatalf("reuse inside the window: %v (got %s, want the same child %s)", err, again, next)
	}
	clk.Add(2 * time.Second)
	if _, _, _, err := s.RotateRefreshToken(ctx, tok, 10*time.Second); !errors.Is(err, ErrRefreshTokenAlreadyUsed) {
		t.Fatalf("reuse after the window: %v", err)
	}
	// The whole family is revoked and the session ended.
	if _, _, _, err := s.RotateRefreshToken(ctx, next, 10*time.Second); !errors.Is(err, ErrRefreshTokenNotFound) {
		t.Fatalf("the child after reuse: %v", err)
	}
	if !s.SessionEnded("s1") {
		t.Fatal("the session of a reused token is not ended")
	}
	if _, _, _, err := s.RotateRefreshToken(ctx, "nope", 10*time.Second); !errors.Is(err, ErrRefreshTokenNotFound) {
		t.Fatalf("unknown token: %v", err)
	}
	s.db.Exec(`UPDATE sessions SET ended_at = NULL WHERE id = 's1'`) // back in use for the scopes below
	_, next, _ = s.CreateAnonymousUser(ctx, "u0", "s0", nil)
	s.db.Exec(`UPDATE refresh_tokens SET session_id = 's1', user_id = 'u1' WHERE token = ?`, next)

	// Sign-out scopes.
	s.CreateAnonymousUser(ctx, "u2", "s2", nil)
	db := func(id string) bool {
		ok, err := s.SessionActive(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	s.CreateAnonymousUser(ctx, "u1b", "s1b", nil)
	s.db.Exec(`UPDATE sessions SET user_id = 'u1' WHERE id = 's1b'`) // a second session of u1
	if err := s.EndSessions(ctx, "u1", "s1", "others"); err != nil {
		t.Fatal(err)
	}
	same(t, "after others", []bool{db("s1"), db("s1b"), db("s2")}, []bool{true, false, true})
	if err := s.EndSessions(ctx, "u1", "s1", "local"); err != nil {
		t.Fatal(err)
	}
	same(t, "after local", []bool{db("s1"), db("s2"), db("missing")}, []bool{false, true, false})
	if _, _, _, err := s.RotateRefreshToken(ctx, next, 10*time.Second); !errors.Is(err, ErrRefreshTokenNotFound) {
		t.Fatalf("refresh of an ended session: %v", err)
	}
}

// Everything written before Close is there after reopening, and membership (kept in memory for
// realtime row security) is rebuilt.
func TestReopenKeepsData(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "watchparty.db")
	clk := &fakeClock{t: time.Now()}
	s, err := Open(path, Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	room, _, _ := s.CreateRoom(ctx, "u-host", "Host", "client-1", NewRoom{})
	s.JoinRoom(ctx, room.RoomID, "u-a", "Ann", "client-1")
	s.TrackPresence(ctx, room.RoomID, "u-a", "client-1", 0, false) // announces Ann
	for i := range 20 {
		if _, err := s.AddComment(ctx, room.RoomID, "u-a", NewComment{Message: fmt.Sprint("m", i)}); err != nil {
			t.Fatal(err)
		}
	}
	s.ControlRoom(ctx, room.RoomID, "u-host", Control{Action: "play", CurrentTime: 7})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, _ := open(t, path, clk)
	if !s2.IsMember(room.RoomID, "u-a") || !s2.IsMember(room.RoomID, "u-host") || s2.IsMember(room.RoomID, "u-x") {
		t.Fatal("membership not rebuilt on open")
	}
	r, members, err := s2.RoomState(ctx, room.RoomID)
	if err != nil || !r.IsPlaying || r.CurrentTime != 7 || r.StateVersion != 1 || len(members) != 2 {
		t.Fatalf("room after reopen: %v %+v", err, r)
	}
	cs, err := s2.ListComments(ctx, CommentQuery{ReaderID: "u-a"})
	if err != nil || len(cs) != 21 {
		t.Fatalf("comments after reopen: %v %d", err, len(cs))
	}
}

// The hook sees changes in commit order even under concurrent writers.
func TestChangeOrder(t *testing.T) {
	s, rec, _ := newStore(t)
	ctx := context.Background()
	room, _, _ := s.CreateRoom(ctx, "u-host", "Host", "client-1", NewRoom{})
	rec.take()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				s.AddComment(ctx, room.RoomID, "u-host", NewComment{Message: fmt.Sprint(w, "-", i)})
			}
		}()
	}
	wg.Wait()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var prev int64
	for _, b := range rec.batches {
		id := b[0].Record["id"].(int64)
		if id <= prev {
			t.Fatalf("comment %d reported after %d", id, prev)
		}
		prev = id
	}
	same(t, "batches", len(rec.batches), 80)
}

// Concurrent track_user_presence writes are committed together; each caller still gets its own
// result, and every successful write is one change.
func TestTrackPresenceGroupCommit(t *testing.T) {
	s, rec, _ := newStore(t)
	ctx := context.Background()
	room, _, _ := s.CreateRoom(ctx, "u-0", "Host", "client-1", NewRoom{})
	const users, rounds = 20, 10
	for u := 1; u < users; u++ {
		if _, _, _, err := s.JoinRoom(ctx, room.RoomID, fmt.Sprint("u-", u), fmt.Sprint("U", u), "client-1"); err != nil {
			t.Fatal(err)
		}
	}
	for u := 1; u < users; u++ { // first beats announce them
		if err := s.TrackPresence(ctx, room.RoomID, fmt.Sprint("u-", u), "", 0, false); err != nil {
			t.Fatal(err)
		}
	}
	rec.take()
	var wg sync.WaitGroup
	errs := make(chan error, users*rounds*2)
	for u := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				if err := s.TrackPresence(ctx, room.RoomID, fmt.Sprint("u-", u), "", float64(i), i%2 == 0); err != nil {
					errs <- fmt.Errorf("u-%d round %d: %w", u, i, err)
				}
				// Failing writes in the same batches fail alone.
				if err := s.TrackPresence(ctx, room.RoomID, "stranger", "", 1, true); !errors.Is(err, ErrNotMember) {
					errs <- fmt.Errorf("stranger: %v", err)
				}
				if err := s.TrackPresence(ctx, "nope", "u-1", "", 1, true); !errors.Is(err, ErrRoomNotFound) {
					errs <- fmt.Errorf("unknown room: %v", err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := len(rec.take()); got != users*rounds {
		t.Fatalf("%d changes, want %d", got, users*rounds)
	}
	_, members, err := s.RoomState(ctx, room.RoomID)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range members {
		if m.CurrentTime != rounds-1 || m.IsPlaying {
			t.Errorf("%s: current_time %v playing %v, want the last write (%d, false)", m.UserID, m.CurrentTime, m.IsPlaying, rounds-1)
		}
	}
	// A cancelled caller's write is not lost for the others, nor for itself once queued.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.TrackPresence(cctx, room.RoomID, "u-1", "", 99, true); err != nil {
		t.Fatalf("write with a cancelled context: %v", err)
	}
}

func TestNewRoomID(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := NewRoomID()
		if !regexp.MustCompile(`^[a-z0-9]{10}$`).MatchString(id) || seen[id] {
			t.Fatalf("bad or repeated id %q", id)
		}
		seen[id] = true
	}
}

// benchStore is a store with a room hosted by u-host and a no-op change hook.
func benchStore(b *testing.B) (*Store, Room) {
	s, _, _ := newStore(b)
	s.SetChangeHook(func([]Change) {})
	room, _, err := s.CreateRoom(context.Background(), "u-host", "Host", "client-1", NewRoom{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	return s, room
}

// BenchmarkTrackPresence is the hot write path: every member calls track_user_presence every
// 3 s, so 5,000 clients make about 1,700 of these a second.
func BenchmarkTrackPresence(b *testing.B) {
	s, room := benchStore(b)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if err := s.TrackPresence(ctx, room.RoomID, "u-host", "", float64(i), true); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTrackPresenceParallel is the same write from many clients at once, as a server sees
// it: group commit puts concurrent writes in one transaction.
func BenchmarkTrackPresenceParallel(b *testing.B) {
	s, room := benchStore(b)
	ctx := context.Background()
	var next atomic.Int64
	b.SetParallelism(32)
	b.RunParallel(func(pb *testing.PB) {
		user := fmt.Sprint("u-", next.Add(1))
		s.JoinRoom(ctx, room.RoomID, user, user, "client-1")
		for i := 0; pb.Next(); i++ {
			if err := s.TrackPresence(ctx, room.RoomID, user, "", float64(i), true); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkAddComment(b *testing.B) {
	s, room := benchStore(b)
	ctx := context.Background()
	for b.Loop() {
		if _, err := s.AddComment(ctx, room.RoomID, "u-host", NewComment{Message: "hello"}); err != nil {
			b.Fatal(err)
		}
	}
}

// One user looping join/leave used to grow the WAL without bound (747 MB in 30 s): past the limit
// the background checkpoint truncates it, while the writes go on.
func TestWALIsBounded(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
	const limit = 256 << 10
	s, err := Open(filepath.Join(t.TempDir(), "watchparty.db"), Options{Now: clk.Now, WALLimit: limit})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()
	room, _, err := s.CreateRoom(ctx, "u-host", "Host", "client-1", NewRoom{})
	if err != nil {
		t.Fatal(err)
	}
	grew, shrank := false, false
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) && !shrank {
		if _, _, _, err := s.JoinRoom(ctx, room.RoomID, "u-loop", "Loop", "client-1"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.LeaveRoom(ctx, room.RoomID, "u-loop", ""); err != nil {
			t.Fatal(err)
		}
		size := s.WALSize()
		if size > limit/2 {
			grew = true
		}
		if grew && size < limit/4 {
			shrank = true
		}
		if size > limit+(1<<20) {
			t.Fatalf("WAL at %d bytes under a join/leave loop, limit %d", size, limit)
		}
	}
	if !grew || !shrank {
		t.Fatalf("WAL grew past half the limit: %v; then shrank: %v (now %d bytes)", grew, shrank, s.WALSize())
	}
}

// Rooms nobody was seen in or controlled for the idle time are deleted with their rows; others stay.
func TestExpireIdleRooms(t *testing.T) {
	s, _, clk := newStore(t)
	ctx := context.Background()
	idle, _, _ := s.CreateRoom(ctx, "u-a", "A", "client-1", NewRoom{})
	busy, _, _ := s.CreateRoom(ctx, "u-b", "B", "client-1", NewRoom{})
	s.AddComment(ctx, idle.RoomID, "u-a", NewComment{Message: "hi"})
	clk.Add(8 * 24 * time.Hour)
	if err := s.TrackPresence(ctx, busy.RoomID, "u-b", "", 1, true); err != nil {
		t.Fatal(err)
	}
	n, err := s.ExpireIdleRooms(ctx, clk.Now().Add(-7*24*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("expired %d rooms (%v), want 1", n, err)
	}
	if _, _, err := s.RoomState(ctx, idle.RoomID); !errors.Is(err, ErrRoomNotFound) {
		t.Fatalf("the idle room: %v", err)
	}
	if s.IsMember(idle.RoomID, "u-a") {
		t.Fatal("a member of an expired room is still a member")
	}
	var comments int
	s.db.QueryRow(`SELECT count(*) FROM comments WHERE room_id = ?`, idle.RoomID).Scan(&comments)
	if comments != 0 {
		t.Fatalf("%d comments of the expired room remain", comments)
	}
	if _, _, err := s.RoomState(ctx, busy.RoomID); err != nil {
		t.Fatalf("the busy room: %v", err)
	}
}
