-- Invite links and moderation (docs/api.md, "Invites and moderation"; docs/design.md §14).
--
-- room_invites holds the SHA-256 of a room's invite secret, never the secret: a copy of the
-- database hands out no joinable link. A room without a row (rooms from before this migration)
-- admits no newcomer until its host rotates the secret; its members keep rejoining.
CREATE TABLE room_invites (
    room_id     TEXT PRIMARY KEY REFERENCES rooms(room_id) ON DELETE CASCADE,
    secret_hash BLOB NOT NULL,
    rotated_at  TEXT NOT NULL
);

-- A co-host may control playback (sync/control) besides the host.
ALTER TABLE room_members ADD COLUMN cohost INTEGER NOT NULL DEFAULT 0;

-- People the host removed (kicked): they come back only with the current invite secret.
CREATE TABLE room_removals (
    room_id    TEXT NOT NULL REFERENCES rooms(room_id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL,
    removed_by TEXT NOT NULL, -- the host's name, for "you were removed from the room by X"
    PRIMARY KEY (room_id, user_id)
);

-- People the host banned: never admitted again.
CREATE TABLE room_bans (
    room_id    TEXT NOT NULL REFERENCES rooms(room_id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL,
    banned_by  TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (room_id, user_id)
);
