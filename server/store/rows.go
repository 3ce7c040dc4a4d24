package store

import (
	"database/sql"
	"encoding/json"
	"time"
)

// Column is a column of a change payload: its name and Postgres type name, as Supabase sends it.
type Column struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// Change is one committed row change.
type Change struct {
	Table      string // rooms | room_members | comments
	Type       string // INSERT | UPDATE | DELETE
	Columns    []Column
	Record     map[string]any // new row (INSERT, UPDATE)
	OldRecord  map[string]any // old row, full (UPDATE, DELETE): our tables are "replica identity full"
	CommitTime time.Time
}

// Room is a row of rooms.
type Room struct {
	RoomID        string   `json:"room_id"`
	HostUserID    string   `json:"host_user_id"`
	MediaURL      *string  `json:"media_url"`
	MediaTitle    *string  `json:"media_title"`
	MediaDuration *float64 `json:"media_duration"`
	AnimeID       *string  `json:"anime_id"`
	EpisodeNumber *int64   `json:"episode_number"`
	IsPlaying     bool     `json:"is_playing"`
	CurrentTime   float64  `json:"current_time"`
	PlaybackRate  float64  `json:"playback_rate"`
	StateVersion  int64    `json:"state_version"`
	UpdatedAt     string   `json:"updated_at"`
	CreatedAt     string   `json:"created_at"`
	// OwnerUserID is the creator: back in the room, they take the host role back unless they
	// handed it away on purpose (OwnerHandedOver).
	OwnerUserID     string `json:"owner_user_id"`
	OwnerHandedOver bool   `json:"owner_handed_over"`
	// WaitingFor lists the members the room waits for while they buffer (never nil: [] is no
	// wait); WaitLimit is the longest wait in seconds, 0 = never wait (docs/design.md §7.12).
	WaitingFor []string `json:"waiting_for"`
	WaitLimit  int64    `json:"wait_limit"`
	// ReadyMode: the host's play waits until every live member is ready (ready.go);
	// StartPending: the host asked to play in ready mode while someone was not ready.
	ReadyMode    bool `json:"ready_mode"`
	StartPending bool `json:"start_pending"`
	// QueueEntryID is the queue entry playing (queue.go); nil when the room plays no entry.
	QueueEntryID *int64 `json:"queue_entry_id"`
}

// RoomColumns are the rooms columns with their Postgres types.
var RoomColumns = []Column{
	{"room_id", "text"}, {"host_user_id", "text"}, {"media_url", "text"}, {"media_title", "text"},
	{"media_duration", "float8"}, {"anime_id", "text"}, {"episode_number", "int4"}, {"is_playing", "bool"},
	{"current_time", "float8"}, {"playback_rate", "float8"}, {"state_version", "int8"},
	{"updated_at", "timestamptz"}, {"created_at", "timestamptz"}, {"owner_user_id", "uuid"},
	{"owner_handed_over", "bool"}, {"waiting_for", "jsonb"}, {"wait_limit", "int4"},
	{"ready_mode", "bool"}, {"start_pending", "bool"}, {"queue_entry_id", "int8"},
}

// Record returns the row as a change-payload map.
func (r Room) Record() map[string]any {
	return map[string]any{
		"room_id": r.RoomID, "host_user_id": r.HostUserID, "media_url": ptr(r.MediaURL),
		"media_title": ptr(r.MediaTitle), "media_duration": ptr(r.MediaDuration), "anime_id": ptr(r.AnimeID),
		"episode_number": ptr(r.EpisodeNumber), "is_playing": r.IsPlaying, "current_time": r.CurrentTime,
		"playback_rate": r.PlaybackRate, "state_version": r.StateVersion, "updated_at": r.UpdatedAt,
		"created_at": r.CreatedAt, "owner_user_id": r.OwnerUserID, "owner_handed_over": r.OwnerHandedOver,
		"waiting_for": waitingList(r.WaitingFor), "wait_limit": r.WaitLimit,
		"ready_mode": r.ReadyMode, "start_pending": r.StartPending, "queue_entry_id": ptr(r.QueueEntryID),
	}
}

// Member is a row of room_members.
type Member struct {
	RoomID      string  `json:"room_id"`
	UserID      string  `json:"user_id"`
	Username    string  `json:"username"`
	Role        string  `json:"role"`
	CurrentTime float64 `json:"current_time"`
	IsPlaying   bool    `json:"is_playing"`
	LastSeen    string  `json:"last_seen"`
	JoinedAt    string  `json:"joined_at"`
	// LeftAt is set when the member has left (a soft leave; see migrations/002_trust.sql).
	LeftAt *string `json:"left_at"`
	// Announced is set by the member's first liveness beat, which posts "<name> joined the room".
	Announced bool `json:"announced"`
	// Buffering is the latest beat's p_buffering: the member's mpv waits for data.
	Buffering bool `json:"buffering"`
	// Ready is the person's answer to the ready check (ready.go); false after a leave.
	Ready bool `json:"ready"`
	// MediaFP and MediaDuration are what the member reported of the media they play ("Same
	// file?", docs/api.md): a fingerprint keyed with the room id, and its length in seconds.
	MediaFP       *string  `json:"media_fp"`
	MediaDuration *float64 `json:"media_duration"`
	// Cohost is set while the host lets this member control playback too (invite.go).
	Cohost bool `json:"cohost"`
}

// Current reports whether the member is in the room (has not left).
func (m Member) Current() bool { return m.LeftAt == nil }

// MemberColumns are the room_members columns with their Postgres types.
var MemberColumns = []Column{
	{"room_id", "text"}, {"user_id", "uuid"}, {"username", "text"}, {"role", "text"},
	{"current_time", "float8"}, {"is_playing", "bool"}, {"last_seen", "timestamptz"}, {"joined_at", "timestamptz"},
	{"left_at", "timestamptz"}, {"announced", "bool"}, {"buffering", "bool"}, {"ready", "bool"},
	{"media_fp", "text"}, {"media_duration", "float8"}, {"cohost", "bool"},
}

// Record returns the row as a change-payload map.
func (m Member) Record() map[string]any {
	return map[string]any{
		"room_id": m.RoomID, "user_id": m.UserID, "username": m.Username, "role": m.Role,
		"current_time": m.CurrentTime, "is_playing": m.IsPlaying, "last_seen": m.LastSeen, "joined_at": m.JoinedAt,
		"left_at": ptr(m.LeftAt), "announced": m.Announced, "buffering": m.Buffering, "ready": m.Ready,
		"media_fp": ptr(m.MediaFP), "media_duration": ptr(m.MediaDuration), "cohost": m.Cohost,
	}
}

// Comment is a row of comments.
type Comment struct {
	ID              int64    `json:"id"`
	RoomID          string   `json:"room_id"`
	AnimeID         *string  `json:"anime_id"`
	EpisodeNumber   *int64   `json:"episode_number"`
	UserID          *string  `json:"user_id"`
	Username        string   `json:"username"`
	Message         string   `json:"message"`
	VideoTimestamp  *float64 `json:"video_timestamp"`
	IsSystemMessage bool     `json:"is_system_message"`
	CreatedAt       string   `json:"created_at"`
}

// CommentColumns are the comments columns with their Postgres types.
var CommentColumns = []Column{
	{"id", "int8"}, {"room_id", "text"}, {"anime_id", "text"}, {"episode_number", "int4"},
	{"user_id", "uuid"}, {"username", "text"}, {"message", "text"}, {"video_timestamp", "float8"},
	{"is_system_message", "bool"}, {"created_at", "timestamptz"},
}

// Record returns the row as a change-payload map.
func (c Comment) Record() map[string]any {
	return map[string]any{
		"id": c.ID, "room_id": c.RoomID, "anime_id": ptr(c.AnimeID), "episode_number": ptr(c.EpisodeNumber),
		"user_id": ptr(c.UserID), "username": c.Username, "message": c.Message,
		"video_timestamp": ptr(c.VideoTimestamp), "is_system_message": c.IsSystemMessage, "created_at": c.CreatedAt,
	}
}

// ptr turns a nil pointer into an untyped nil (JSON null) and a set pointer into its value.
func ptr[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

const roomSelect = `SELECT room_id, host_user_id, media_url, media_title, media_duration, anime_id, episode_number,
	is_playing, "current_time", playback_rate, state_version, updated_at, created_at, owner_user_id, owner_handed_over, waiting_for, wait_limit,
	ready_mode, start_pending, queue_entry_id FROM rooms`

type scanner interface{ Scan(dest ...any) error }

func scanRoom(row scanner) (Room, error) {
	var r Room
	var url, title, anime sql.NullString
	var dur sql.NullFloat64
	var ep, entry sql.NullInt64
	var waiting string
	err := row.Scan(&r.RoomID, &r.HostUserID, &url, &title, &dur, &anime, &ep, &r.IsPlaying,
		&r.CurrentTime, &r.PlaybackRate, &r.StateVersion, &r.UpdatedAt, &r.CreatedAt, &r.OwnerUserID, &r.OwnerHandedOver,
		&waiting, &r.WaitLimit, &r.ReadyMode, &r.StartPending, &entry)
	if err == sql.ErrNoRows {
		return r, ErrRoomNotFound
	}
	r.WaitingFor = parseWaiting(waiting)
	r.MediaURL, r.MediaTitle, r.AnimeID = nullString(url), nullString(title), nullString(anime)
	r.MediaDuration, r.EpisodeNumber, r.QueueEntryID = nullFloat(dur), nullInt(ep), nullInt(entry)
	return r, err
}

const memberSelect = `SELECT room_id, user_id, username, role, "current_time", is_playing, last_seen, joined_at, left_at, announced, buffering, ready,
	media_fp, media_duration, cohost FROM room_members`

// scanMember reads a member row, current or left; ErrNotMember when there is none.
func scanMember(row scanner) (Member, error) {
	var m Member
	var left, fp sql.NullString
	var dur sql.NullFloat64
	err := row.Scan(&m.RoomID, &m.UserID, &m.Username, &m.Role, &m.CurrentTime, &m.IsPlaying, &m.LastSeen, &m.JoinedAt, &left, &m.Announced, &m.Buffering, &m.Ready,
		&fp, &dur, &m.Cohost)
	if err == sql.ErrNoRows {
		return m, ErrNotMember
	}
	m.LeftAt, m.MediaFP, m.MediaDuration = nullString(left), nullString(fp), nullFloat(dur)
	return m, err
}

// scanCurrentMember reads a member row and treats a member who has left as no member.
func scanCurrentMember(row scanner) (Member, error) {
	m, err := scanMember(row)
	if err == nil && !m.Current() {
		return m, ErrNotMember
	}
	return m, err
}

const commentSelect = `SELECT id, room_id, anime_id, episode_number, user_id, username, message, video_timestamp,
	is_system_message, created_at FROM comments`

func scanComment(row scanner) (Comment, error) {
	var c Comment
	var anime, user sql.NullString
	var ep sql.NullInt64
	var ts sql.NullFloat64
	err := row.Scan(&c.ID, &c.RoomID, &anime, &ep, &user, &c.Username, &c.Message, &ts, &c.IsSystemMessage, &c.CreatedAt)
	if err == sql.ErrNoRows {
		return c, ErrNotFound
	}
	c.AnimeID, c.UserID, c.EpisodeNumber, c.VideoTimestamp = nullString(anime), nullString(user), nullInt(ep), nullFloat(ts)
	return c, err
}

func nullString(v sql.NullString) *string {
	if !v.Valid {
		return nil
	}
	return &v.String
}

func nullFloat(v sql.NullFloat64) *float64 {
	if !v.Valid {
		return nil
	}
	return &v.Float64
}

func nullInt(v sql.NullInt64) *int64 {
	if !v.Valid {
		return nil
	}
	return &v.Int64
}

// waitingList is a room's waiting_for as a record value: a JSON array, never null.
func waitingList(ids []string) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}

// parseWaiting reads the stored waiting_for (a JSON array of user ids); anything else is no wait.
func parseWaiting(s string) []string {
	var ids []string
	if json.Unmarshal([]byte(s), &ids) != nil || ids == nil {
		return []string{}
	}
	return ids
}

// encodeWaiting is waiting_for as stored.
func encodeWaiting(ids []string) string {
	if len(ids) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(ids)
	return string(b)
}
