-- A shared queue (docs/api.md, "The queue"): a room's ordered entries, each a title with a
-- duration and either the private fingerprint of a local file (media_fp, as the "Same file?"
-- report: keyed with the room id) or an http(s) URL. A table of its own, not a JSON column of
-- rooms: every control fans the rooms row out to every member, and the queue would ride along.
-- Entries are never deleted while the room lives (removed_at set: an UPDATE, which row security
-- filters on Supabase, where DELETE events are not). rooms.queue_entry_id is the entry playing.
CREATE TABLE room_queue (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    room_id        TEXT NOT NULL REFERENCES rooms(room_id) ON DELETE CASCADE,
    position       INTEGER NOT NULL,
    title          TEXT NOT NULL,
    duration       REAL,
    media_fp       TEXT,
    media_url      TEXT,
    added_by       TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    removed_at     TEXT
);
CREATE INDEX room_queue_room ON room_queue (room_id, position);
ALTER TABLE rooms ADD COLUMN queue_entry_id INTEGER;
