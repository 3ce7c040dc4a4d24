-- Soft leaves: a member who leaves keeps their row with left_at set, so a leave is published as an
-- UPDATE that only the room's current members receive (a DELETE would go to every subscriber:
-- Supabase Realtime applies no row security to DELETEs, and both backends keep one contract).
ALTER TABLE room_members ADD COLUMN left_at TEXT;
CREATE INDEX room_members_current ON room_members (room_id, joined_at) WHERE left_at IS NULL;
CREATE INDEX room_members_last_seen ON room_members (last_seen);
CREATE INDEX rooms_updated_at ON rooms (updated_at);

-- Refresh tokens form a family per session; parent is the token this one was rotated from, so a
-- parent reused inside the reuse window returns the same child.
ALTER TABLE refresh_tokens ADD COLUMN parent TEXT;
CREATE INDEX refresh_tokens_parent ON refresh_tokens (parent);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);
