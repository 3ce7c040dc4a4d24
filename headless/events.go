package headless

// The JSON events of `--headless --json`, one object a line on stdout. Every event has "type"
// and "ts" (UTC, millisecond RFC 3339). The fields of each struct are declared in the
// alphabetical order of their JSON names, so a line's keys come out sorted, as they always
// have (scripts match them with regular expressions); TestKeysSorted keeps it so.

// Connected: the first connection to the room (RoomID, UserID, Host set) or a reconnection
// after a drop (Reconnected set, nothing else).
type Connected struct {
	Host        *bool  `json:"host,omitempty"`
	Reconnected bool   `json:"reconnected,omitempty"`
	RoomID      string `json:"room_id,omitempty"`
	TS          string `json:"ts"`
	Type        string `json:"type"` // "connected"
	UserID      string `json:"user_id,omitempty"`
}

// Sync is our player against the room: at most once a second, and at once when the mode or
// status changes.
type Sync struct {
	DriftMS  int64   `json:"drift_ms"`
	Expected float64 `json:"expected"`
	InSync   bool    `json:"in_sync"`
	Members  int     `json:"members"`
	Mode     string  `json:"mode"` // host | following | detached | …
	Playing  bool    `json:"playing"`
	Position float64 `json:"position"`
	Speed    float64 `json:"speed"`
	Status   string  `json:"status"`
	TS       string  `json:"ts"`
	Type     string  `json:"type"` // "sync"
}

// Room is a new room playback state (a host action, a hand-over, a resync).
type Room struct {
	CurrentTime  float64 `json:"current_time"`
	HostName     string  `json:"host_name"`
	HostUserID   string  `json:"host_user_id"`
	PlaybackRate float64 `json:"playback_rate"`
	Playing      bool    `json:"playing"`
	StateVersion int64   `json:"state_version"`
	TS           string  `json:"ts"`
	Type         string  `json:"type"` // "room"
}

// Member is a member joining, leaving or reporting.
type Member struct {
	Buffering bool   `json:"buffering"`        // their mpv waits for data (their last beat)
	Change    string `json:"change"`           // join | leave | update
	Cohost    bool   `json:"cohost,omitempty"` // the host lets them control playback too
	DriftMS   int64  `json:"drift_ms"`
	Host      bool   `json:"host"`
	// MediaDiffers: the member's file is not the host's; MediaNote says how ("Same file?").
	MediaDiffers bool    `json:"media_differs,omitempty"`
	MediaNote    string  `json:"media_note,omitempty"`
	Playing      bool    `json:"playing"`
	Position     float64 `json:"position"`
	Stale        bool    `json:"stale"`
	TS           string  `json:"ts"`
	Type         string  `json:"type"` // "member"
	UserID       string  `json:"user_id"`
	Username     string  `json:"username"`
}

// Buffering is our own mpv starting (true) or ending (false) to wait for data; a beat tells
// the room at once.
type Buffering struct {
	Buffering bool   `json:"buffering"`
	TS        string `json:"ts"`
	Type      string `json:"type"` // "buffering"
}

// Wait is the room starting (Ended empty) or ending a wait for buffering members: Ended is
// "ready", "timeout" (the room's wait limit passed) or "host" (the host did not wait any more).
type Wait struct {
	Ended   string   `json:"ended,omitempty"`
	Message string   `json:"message"`
	Names   []string `json:"names"`
	TS      string   `json:"ts"`
	Type    string   `json:"type"` // "wait"
	UserIDs []string `json:"user_ids"`
}

// Presence is the set of user ids present on the realtime channel.
type Presence struct {
	Online []string `json:"online"`
	TS     string   `json:"ts"`
	Type   string   `json:"type"` // "presence"
}

// Comment is a comment: a new one, or (History) one of the history read on (re)join.
type Comment struct {
	CreatedAt string   `json:"created_at"`
	History   bool     `json:"history,omitempty"`
	ID        int64    `json:"id"`
	Message   string   `json:"message"`
	System    bool     `json:"system"`
	TS        string   `json:"ts"`
	Type      string   `json:"type"` // "comment"
	UserID    string   `json:"user_id"`
	Username  string   `json:"username"`
	VideoTime *float64 `json:"video_time,omitempty"`
}

// Notice is a notice of the session (Type "notice", or "error" for an error-level one), or the
// error that ended the session (Type "error", no Level).
type Notice struct {
	Level   string `json:"level,omitempty"`
	Message string `json:"message"`
	TS      string `json:"ts"`
	Type    string `json:"type"` // "notice" | "error"
}

// Disconnected is the realtime connection dropping (State "reconnecting", with RetryAt) or
// closing.
type Disconnected struct {
	Error   string `json:"error"`
	RetryAt string `json:"retry_at,omitempty"`
	State   string `json:"state"`
	TS      string `json:"ts"`
	Type    string `json:"type"` // "disconnected"
}

// Hosting is `watchparty host`'s first line: the room it created and the command friends run.
type Hosting struct {
	JoinCommand string `json:"join_command"`
	RoomID      string `json:"room_id"`
	Server      string `json:"server"`
	TS          string `json:"ts"`
	Type        string `json:"type"` // "hosting"
}
