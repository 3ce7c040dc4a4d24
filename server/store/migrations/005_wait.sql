-- Waiting for a buffering member (docs/design.md §7.12, docs/api.md "Waiting for a buffering member").
--
-- room_members.buffering is the member's latest beat's p_buffering (false for clients that do
-- not send it). rooms.waiting_for is a JSON array of the user ids the room waits for (empty: no
-- wait), set by the host's "wait" control and cleared by play, pause and seek; wait_limit is how
-- long, in seconds, the host's session waits at most (0: never).
ALTER TABLE room_members ADD COLUMN buffering INTEGER NOT NULL DEFAULT 0;
ALTER TABLE rooms ADD COLUMN waiting_for TEXT NOT NULL DEFAULT '[]';
ALTER TABLE rooms ADD COLUMN wait_limit INTEGER NOT NULL DEFAULT 8;
