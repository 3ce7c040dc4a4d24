-- The ready check (docs/api.md and docs/design.md, "The ready check").
--
-- ready_mode: the host's play waits until every live member is ready. start_pending: the host
-- asked to play in ready mode while someone was not ready; the room starts by itself once all
-- are. ready: a person's answer (per person, so all their clients); false again after a leave.
ALTER TABLE rooms ADD COLUMN ready_mode INTEGER NOT NULL DEFAULT 0;
ALTER TABLE rooms ADD COLUMN start_pending INTEGER NOT NULL DEFAULT 0;
ALTER TABLE room_members ADD COLUMN ready INTEGER NOT NULL DEFAULT 0;
CREATE INDEX rooms_start_pending ON rooms (room_id) WHERE start_pending = 1;
