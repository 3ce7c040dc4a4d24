-- Rooms, members and comments: the same column names as supabase/migrations, so change payloads match.
CREATE TABLE rooms (
    room_id        TEXT PRIMARY KEY,
    host_user_id   TEXT NOT NULL,
    media_url      TEXT,
    media_title    TEXT,
    media_duration REAL,
    anime_id       TEXT,
    episode_number INTEGER,
    is_playing     INTEGER NOT NULL DEFAULT 0,
    "current_time" REAL NOT NULL DEFAULT 0,
    playback_rate  REAL NOT NULL DEFAULT 1,
    state_version  INTEGER NOT NULL DEFAULT 0,
    updated_at     TEXT NOT NULL,
    created_at     TEXT NOT NULL
);

CREATE TABLE room_members (
    room_id        TEXT NOT NULL REFERENCES rooms(room_id) ON DELETE CASCADE,
    user_id        TEXT NOT NULL,
    username       TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('host', 'member')),
    "current_time" REAL NOT NULL DEFAULT 0,
    is_playing     INTEGER NOT NULL DEFAULT 0,
    last_seen      TEXT NOT NULL,
    joined_at      TEXT NOT NULL,
    PRIMARY KEY (room_id, user_id)
);

CREATE TABLE comments (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    room_id           TEXT NOT NULL REFERENCES rooms(room_id) ON DELETE CASCADE,
    anime_id          TEXT,
    episode_number    INTEGER,
    user_id           TEXT,
    username          TEXT NOT NULL,
    message           TEXT NOT NULL,
    video_timestamp   REAL,
    is_system_message INTEGER NOT NULL DEFAULT 0,
    created_at        TEXT NOT NULL
);
CREATE INDEX comments_room_created ON comments (room_id, created_at);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    user_metadata TEXT NOT NULL DEFAULT '{}',
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    ended_at   TEXT
);

-- Refresh tokens rotate; the parent stays usable for a short reuse window (GoTrue's
-- refresh_token_reuse_interval) because a TUI and a script may share one saved session.
CREATE TABLE refresh_tokens (
    token      TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
